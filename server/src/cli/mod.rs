//! The `paperclip` command: clap definitions and what each command does.

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
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { bind, host, port } => {
            run::run(crate::config::Overrides { bind, host, port })
        }
        Command::Onboard { yes, force } => onboard::onboard(yes, force),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paperclip: {e:#}");
            ExitCode::FAILURE
        }
    }
}
