use anyhow::Context;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat, Overrides};
use crate::server::Server;

/// A line on stdout that never stops the server: whoever started it may have read the first
/// line and closed the pipe (println! would panic on the broken pipe and take the server down).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("PAPERCLIP_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub fn run(overrides: Overrides) -> anyhow::Result<()> {
    let config = Config::load(&overrides)?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let mode = config.deployment_mode.as_str();
        let serve_ui = config.serve_ui;
        let bound = Server::bind(config).await?;
        say!(
            "Paperclip listening on {} (mode {mode}, database {})",
            bound.url(),
            bound.describe_database()
        );
        if !serve_ui {
            say!("  board UI: off (SERVE_UI / server.serveUi); the API is under /api");
        } else if crate::api::ui::built() {
            say!("  board UI: {}/ (open it in a browser)", bound.url());
        } else {
            say!(
                "  board UI: not in this build; run `npm ci && npm run build:ui` (then rebuild a release binary)"
            );
        }
        let addrs = bound.listening_on();
        if addrs.len() > 1 || addrs.first().map(|a| format!("http://{a}")) != Some(bound.url()) {
            let list: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
            say!("  sockets: {}", list.join(", "));
        }
        bound
            .serve(shutdown_signal())
            .await
            .context("server stopped with an error")?;
        tracing::info!("shut down cleanly");
        Ok(())
    })
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
