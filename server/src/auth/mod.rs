//! Who is asking: actors, the scopes only this module can build, agent API keys, run tokens
//! (JWTs), sessions, passwords, and the hostname guard.

mod actor;
pub mod hostname;
pub mod jwt;
pub mod keys;
pub mod limits;
pub mod password;
pub mod secret;
pub mod session;

pub use actor::{
    Actor, AgentCredential, BoardScope, BoardSource, CompanyScope, LOCAL_BOARD_USER_ID,
    RequestActor,
};
