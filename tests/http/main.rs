//! Black-box HTTP suite: a real server (the library's `Server::bind`, or the `paperclip`
//! binary) on an ephemeral loopback port, with a real SQLite file in a temporary home.

mod agents;
mod cli;
mod common;
mod companies;
mod issues;
mod routes_agents;
mod routes_companies;
mod routes_issues;
mod routes_schema;
mod routes_sweep;
mod routes_table;
mod skill_agent;
