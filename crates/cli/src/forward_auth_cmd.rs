//! `certbound forward-auth`: logging, the runtime, and until Ctrl-C or
//! SIGTERM. The service itself is `certbound_cli::forward_auth`.

use std::process::ExitCode;

use certbound_cli::forward_auth::{self, Args, LogFormat, Settings};

use crate::input;

pub(crate) fn run(args: Args) -> ExitCode {
    let settings = match Settings::from_args(args) {
        Ok(s) => s,
        Err(e) => return input::bad_input(e),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CERTBOUND_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return input::bad_input(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async move {
        let running = match forward_auth::start(settings).await {
            Ok(r) => r,
            Err(e) => return input::bad_input(e),
        };
        wait_for_shutdown().await;
        tracing::info!("forward-auth stopping");
        drop(running);
        ExitCode::SUCCESS
    })
}

/// Ctrl-C, or SIGTERM on Unix.
async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
