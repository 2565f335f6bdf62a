//! The JSON shapes of the HTTP contract, one module per resource.

mod activity;
mod agent;
mod company;
mod issue;
mod project;
mod run;

pub use activity::*;
pub use agent::*;
pub use company::*;
pub use issue::*;
pub use project::*;
pub use run::*;

/// Timestamps are UTC, RFC 3339 on the wire.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
