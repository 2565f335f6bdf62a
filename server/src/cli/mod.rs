//! The `paperclip` command: clap definitions and what each command does.

mod auth;
mod client;
mod credentials;
mod db;
mod hostname;
mod login;
mod onboard;
mod run;
mod secrets;

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
        http://127.0.0.1:3100 with a SQLite database under $PAPERCLIP_HOME (default ~/.paperclip)/instances/<id>/. \
        Open that address in a browser for the board UI (built with `npm ci && npm run build:ui`; \
        SERVE_UI=false turns it off); the HTTP API is under /api."
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
    /// People and access in authenticated mode: the first admin, and this CLI's sign-in
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Company secrets: the master key that seals them
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Print the price table that estimates unpriced and subscription usage
    #[command(
        long_about = "Print the price table in effect (JSON), and on stderr where it comes from. \
        Runs on a Claude or ChatGPT subscription, and adapters that report tokens but no dollars, \
        are recorded as `unpriced` with an estimate from this table, which budgets count. To \
        change the prices, save the table as prices.json in the instance folder (or point \
        PAPERCLIP_PRICES_FILE at a file), edit it, and restart the server: \
        `paperclip prices --default > ~/.paperclip/instances/default/prices.json`. Entries are \
        tried in order; the first whose provider and model match (`*` matches any text) prices \
        the usage, per million input, cached input and output tokens, in US dollars."
    )]
    Prices {
        /// Print the table built into this binary, not the one in effect
        #[arg(long)]
        default: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum SecretsCommand {
    /// Copy the secrets master key to a file (mode 0600) to keep somewhere safe
    #[command(
        long_about = "Copy the secrets master key, from wherever secrets.provider keeps it (the OS \
        keychain, the key file, or PAPERCLIP_SECRETS_MASTER_KEY), to FILE, created with mode 0600. Without this key, stored secrets cannot be opened and a server \
        holding them will not start: keep the copy away from this machine (a password manager, an \
        offline disk), never beside the database backups it unlocks."
    )]
    BackupMasterKey {
        /// Where to write the copy
        file: std::path::PathBuf,
        /// Replace FILE if it exists
        #[arg(long)]
        force: bool,
    },
    /// Re-seal every secret under a new master key (stop the server first)
    #[command(
        long_about = "Make a new secrets master key and re-seal every stored secret version under it, \
        in one database transaction; then the new key replaces the old one, which is kept (database \
        backups made before now need it): beside the key file as master.key.previous, or in the OS \
        keychain under account master-key:<instanceId>:previous. Crash-safe: interrupted at any \
        point, every secret still opens with one of the keys kept (the next one waits in \
        master.key.next or master-key:<instanceId>:next), and running the command again finishes \
        the job. Stop the server (every replica) first. With the env provider (or \
        PAPERCLIP_SECRETS_MASTER_KEY set) the key is not this command's to replace: set the new \
        one yourself."
    )]
    RotateMasterKey,
    /// Move credentials written inline into agents' env into secrets (a dry run without --apply)
    #[command(
        long_about = "Find every plain value under a credential-shaped env key (*_API_KEY, *_TOKEN, \
        *_SECRET, *_PASSWORD, AUTHORIZATION, BEARER, JWT) in every agent's adapterConfig, and \
        list what would happen: each becomes a company secret named agent_<id>_<key>, and the env \
        entry a reference to it. With --apply it happens, in one database transaction (stop the \
        server first). Values are never printed."
    )]
    MigrateInlineEnv {
        /// Do it (default: only list what would move)
        #[arg(long)]
        apply: bool,
    },
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
    /// Sign this CLI in to a server in authenticated mode and store a board API key for it
    #[command(
        long_about = "Sign this CLI in to a Paperclip server in authenticated mode and store a board API \
        key for it, valid 30 days.\n\n\
        With --email, the password is asked for without echo (or read from standard input with \
        --password-stdin), the CLI signs in, creates a key with that session and signs out again.\n\n\
        Without --email, the CLI asks the server for a sign-in challenge and prints an approval URL: \
        open it in a browser where you are signed in and approve; the CLI waits (up to 10 minutes) \
        and stores the key once approved.\n\n\
        The key is kept in $PAPERCLIP_AUTH_STORE, else $PAPERCLIP_HOME/auth.json (default \
        ~/.paperclip/auth.json), readable by you only, one key per server.\n\n\
        Examples:\n  paperclip auth login --base-url https://paperclip.example.com\n  \
        paperclip auth login --base-url http://10.0.0.5:3100 --email ada@example.com\n  \
        printf '%s' \"$PASSWORD\" | paperclip auth login --email ada@example.com --password-stdin"
    )]
    Login {
        /// The server's address, e.g. https://paperclip.example.com (default: PAPERCLIP_API_URL,
        /// else this instance's configured address, else http://localhost:3100)
        #[arg(long, env = "PAPERCLIP_API_URL")]
        base_url: Option<String>,
        /// Sign in with this email and a password instead of approving in the browser
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input (for scripts) instead of asking
        #[arg(long, requires = "email")]
        password_stdin: bool,
        /// Print the approval URL without trying to open a browser (also PAPERCLIP_NO_BROWSER=1)
        #[arg(long, conflicts_with = "email")]
        no_browser: bool,
        /// Ask for access that only an instance admin may approve
        #[arg(long, conflicts_with = "email")]
        instance_admin: bool,
    },
    /// Show who the stored credential signs you in as, asking the server
    Whoami {
        /// The server (default: PAPERCLIP_API_URL, else the only server with a stored key, else
        /// this instance's configured address)
        #[arg(long, env = "PAPERCLIP_API_URL")]
        base_url: Option<String>,
        /// Print the server's answer as JSON
        #[arg(long)]
        json: bool,
    },
    /// Revoke the stored board API key on the server and forget it (forgotten locally even when
    /// the server cannot be reached)
    Logout {
        /// The server (default: PAPERCLIP_API_URL, else the only server with a stored key, else
        /// this instance's configured address)
        #[arg(long, env = "PAPERCLIP_API_URL")]
        base_url: Option<String>,
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
        the target's server needs the same secrets master key, or pass --target-master-key-file to \
        re-seal them under the target's own key on the way.\n\n\
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
        /// Re-seal company secrets under this master key file on the way (made when missing),
        /// for a target server with its own key
        #[arg(long)]
        target_master_key_file: Option<std::path::PathBuf>,
        /// The key the source's secrets are sealed with (default: this instance's key)
        #[arg(long, requires = "target_master_key_file")]
        source_master_key_file: Option<std::path::PathBuf>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { bind, host, port } => run::run(crate::config::Overrides {
            bind,
            host,
            port,
            ..Default::default()
        }),
        Command::Onboard { yes, force } => onboard::onboard(yes, force),
        Command::AllowedHostname { host, remove } => hostname::allowed_hostname(host, remove),
        Command::Db(DbCommand::Status { url }) => db::status(url),
        Command::Db(DbCommand::Migrate { url }) => db::migrate(url),
        Command::Db(DbCommand::Copy {
            from,
            to,
            force,
            target_master_key_file,
            source_master_key_file,
        }) => db::copy(
            from,
            to,
            force,
            source_master_key_file,
            target_master_key_file,
        ),
        Command::Auth(AuthCommand::BootstrapCeo {
            base_url,
            force,
            expires_hours,
        }) => auth::bootstrap_ceo(base_url, force, expires_hours),
        Command::Auth(AuthCommand::Login {
            base_url,
            email,
            password_stdin,
            no_browser,
            instance_admin,
        }) => login::login(login::LoginArgs {
            base_url,
            email,
            password_stdin,
            no_browser,
            instance_admin,
        }),
        Command::Auth(AuthCommand::Whoami { base_url, json }) => login::whoami(base_url, json),
        Command::Auth(AuthCommand::Logout { base_url }) => login::logout(base_url),
        Command::Secrets(SecretsCommand::BackupMasterKey { file, force }) => {
            secrets::backup_master_key(&file, force)
        }
        Command::Secrets(SecretsCommand::RotateMasterKey) => secrets::rotate_master_key(),
        Command::Prices { default } => prices(default),
        Command::Secrets(SecretsCommand::MigrateInlineEnv { apply }) => {
            secrets::migrate_inline_env(apply)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paperclip: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `paperclip prices`: the table in effect (or the built-in one) on stdout, its source on
/// stderr.
fn prices(default: bool) -> anyhow::Result<()> {
    use crate::config::prices::{DEFAULT_TABLE, PriceTable};
    if default {
        print!("{DEFAULT_TABLE}");
        eprintln!("(the price table built into this binary)");
        return Ok(());
    }
    let paths = crate::config::InstancePaths::resolve(&|k| std::env::var(k).ok())?;
    let table = PriceTable::load(&paths.instance_dir, &|k| std::env::var(k).ok())?;
    println!("{}", serde_json::to_string_pretty(&table)?);
    match &table.source {
        Some(path) => eprintln!("(from {})", path.display()),
        None => eprintln!(
            "(built in; save it as {} to change it)",
            paths.instance_dir.join("prices.json").display()
        ),
    }
    Ok(())
}
