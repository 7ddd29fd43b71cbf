//! Signal handling: Terraform forwards Ctrl-C to the whole process group but stops providers
//! through `StopProvider`, so SIGINT is ignored while serving Terraform; SIGTERM means exit.

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::error::PluginError;

/// Installs the handlers and spawns a task that cancels `shutdown` on SIGTERM, and on SIGINT
/// only when `stop_on_interrupt` (debug mode, where Ctrl-C is how the developer stops us).
pub fn install(shutdown: &CancellationToken, stop_on_interrupt: bool) -> Result<(), PluginError> {
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|source| PluginError::Signal {
        signal: "SIGINT",
        source,
    })?;
    let mut terminate = signal(SignalKind::terminate()).map_err(|source| PluginError::Signal {
        signal: "SIGTERM",
        source,
    })?;
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                Some(()) = interrupt.recv() => {
                    if stop_on_interrupt {
                        tracing::info!("interrupted, stopping");
                        shutdown.cancel();
                        return;
                    }
                    tracing::debug!("SIGINT ignored: Terraform stops providers with StopProvider");
                }
                Some(()) = terminate.recv() => {
                    tracing::info!("SIGTERM received, stopping");
                    shutdown.cancel();
                    return;
                }
            }
        }
    });
    Ok(())
}
