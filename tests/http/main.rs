//! Black-box HTTP suite: a real server (the library's `Server::bind`, or the `paperclip`
//! binary) on an ephemeral loopback port, with a real SQLite file in a temporary home.
//! `postgres.rs` runs the same test modules against PostgreSQL.

/// The database this test binary's servers use.
pub const BACKEND: common::Backend = common::Backend::Sqlite;

#[macro_use]
mod common;

mod access;
mod agents;
mod approvals;
mod auth;
mod bind;
mod board_ui;
mod breakers;
mod cli;
mod cli_auth;
mod cli_auth_rules;
mod cli_login;
mod companies;
mod costs;
mod heartbeats;
mod issue_bursts;
mod issues;
mod keychain;
mod live_events;
mod members;
mod nginx;
mod pages;
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
