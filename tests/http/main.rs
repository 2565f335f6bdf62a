//! Black-box HTTP suite: a real server (the library's `Server::bind`, or the `paperclip`
//! binary) on an ephemeral loopback port, with a real SQLite file in a temporary home.

mod agents;
mod cli;
mod common;
mod companies;
mod issues;
mod skill_agent;
