//! The `paperclip` command: clap definitions and what each command does.

mod auth;
mod db;
mod hostname;
mod onboard;
mod run;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::BindMode;

#[derive(Parser, Debug)]
#[command(
    name = "paperclip",
    version,
    about = "Paperclip: the control plane for companies run by AI agents",
    long_about = "Paperclip: the control plane for companies run by AI agents.\n\n\
        `paperclip run` with no configuration starts the embedded default: local_trusted mode on \
        http://127.0.0.1:3100 with a SQLite database under $PAPERCLIP_HOME (default ~/.paperclip)/instances/<id>/."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the server (reads config.json and the environment; flags win)
    Run {
        /// Where to listen: loopback (default), lan, tailnet or custom (with --host)
        #[arg(long, value_enum)]
        bind: Option<BindMode>,
        /// Address to listen on (overrides HOST and server.host)
        #[arg(long)]
        host: Option<String>,
        /// Port to listen on (overrides PORT and server.port; 0 picks a free one)
        #[arg(long)]
        port: Option<u16>,
    },
    /// Write a default config.json and the instance folders, and print what was written
    Onboard {
        /// Accept the defaults without asking
        #[arg(long)]
        yes: bool,
        /// Overwrite an existing config.json
        #[arg(long)]
        force: bool,
    },
    /// Allow a hostname (or IP) in the Host header: adds it to server.allowedHostnames in
    /// config.json; a running server picks it up without a restart
    AllowedHostname {
        /// The host name clients use, e.g. paperclip.example.com (no scheme, no port)
        host: String,
        /// Remove it from the list instead
        #[arg(long)]
        remove: bool,
    },
    /// Look at, upgrade or move the instance's database (SQLite or PostgreSQL)
    #[command(subcommand)]
    Db(DbCommand),
    /// People and access in authenticated mode
    #[command(subcommand)]
    Auth(AuthCommand),
}

#[derive(Subcommand, Debug)]
pub enum AuthCommand {
    /// Print a one-time invite URL that makes the first instance admin (older ones are revoked)
    #[command(
        long_about = "Print a one-time invite URL that makes its acceptor the first instance admin of an \
        authenticated instance. The person opens it, signs up (or in), and accepts. Older open \
        bootstrap invites are revoked. A server with no admin also prints such a URL at every start."
    )]
    BootstrapCeo {
        /// The address people use, for the printed URL (default: auth.publicBaseUrl, else this
        /// server's address)
        #[arg(long)]
        base_url: Option<String>,
        /// Make a new invite even when the instance has an admin
        #[arg(long)]
        force: bool,
        /// Hours until the invite expires (1 to 720)
        #[arg(long, default_value_t = 72)]
        expires_hours: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Show which database the instance uses, its schema version and its row counts
    Status {
        /// Look at this database instead of the configured one (postgres://… or a SQLite path)
        #[arg(long)]
        url: Option<String>,
    },
    /// Apply pending schema migrations and exit (`paperclip run` also does this at start)
    Migrate {
        /// Migrate this database instead of the configured one (postgres://… or a SQLite path)
        #[arg(long)]
        url: Option<String>,
    },
    /// Copy every table from one database to another, e.g. a desktop's SQLite into a server's
    /// PostgreSQL
    #[command(
        long_about = "Copy every table of an instance from one database to another, in \
        dependency order, inside one transaction on the target. The target is created and migrated \
        if needed; a target that already holds data is refused unless --force (which replaces it). \
        Progress is shown per table, and row counts and a checksum per table are verified before \
        the target commits: an interrupted or failed copy leaves the target unchanged.\n\n\
        Stop the servers using either database first. Company secrets are copied as ciphertext: \
        the target's server needs the same secrets master key.\n\n\
        Example: paperclip db copy --to postgres://paperclip:…@db.example:5432/paperclip"
    )]
    Copy {
        /// Source: postgres://… or a SQLite file path (default: this instance's database)
        #[arg(long)]
        from: Option<String>,
        /// Target: postgres://… (the database must exist) or a SQLite file path (created)
        #[arg(long)]
        to: String,
        /// Replace whatever the target already holds
        #[arg(long)]
        force: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { bind, host, port } => {
            run::run(crate::config::Overrides { bind, host, port })
        }
        Command::Onboard { yes, force } => onboard::onboard(yes, force),
        Command::AllowedHostname { host, remove } => hostname::allowed_hostname(host, remove),
        Command::Db(DbCommand::Status { url }) => db::status(url),
        Command::Db(DbCommand::Migrate { url }) => db::migrate(url),
        Command::Db(DbCommand::Copy { from, to, force }) => db::copy(from, to, force),
        Command::Auth(AuthCommand::BootstrapCeo {
            base_url,
            force,
            expires_hours,
        }) => auth::bootstrap_ceo(base_url, force, expires_hours),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paperclip: {e:#}");
            ExitCode::FAILURE
        }
    }
}
