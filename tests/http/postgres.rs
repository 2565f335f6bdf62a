//! The HTTP suite of `main.rs`, the same test code, on PostgreSQL: every `test_server!()` gets
//! a fresh database on the server named by `PAPERCLIP_TEST_DATABASE_URL`, dropped afterwards.
//! Without that variable every test returns early and the suite says it was skipped (on CI,
//! with `CI=true`, that is a failure). `replicas.rs` adds what only PostgreSQL can do: several
//! servers on one database.

/// The database this test binary's servers use.
pub const BACKEND: common::Backend = common::Backend::Postgres;

#[macro_use]
mod common;

mod access;
mod agents;
mod approvals;
mod auth;
mod breakers;
mod cli_auth;
mod cli_auth_rules;
mod cli_login;
mod companies;
mod copy;
mod costs;
mod heartbeats;
mod issue_bursts;
mod issues;
mod live_events;
mod members;
mod nginx;
mod pages;
mod replica_events;
mod replica_runs;
mod replicas;
mod retries;
mod routes_agents;
mod routes_authenticated;
mod routes_companies;
mod routes_issues;
mod routes_schema;
mod routes_sweep;
mod routes_table;
mod run_tokens;
mod schema;
mod secrets;
mod secrets_logs;
mod secrets_refs;
mod secrets_resolve;
mod server_crash;
mod skill_agent;
mod token_budgets;
mod wake_bursts;
mod wakeups;
mod webhooks;
