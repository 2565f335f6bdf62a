//! Paperclip: the control plane for companies run by AI agents, as a library. The `paperclip`
//! binary and the desktop shell are thin wrappers around [`Server`].

pub mod adapters;
pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod heartbeat;
pub mod net;
pub mod realtime;
pub mod secrets;
pub mod server;
pub mod store;

pub use server::{Bound, Server, StartError};
