//! A local Azure Resource Manager and Entra ID emulator for ML workspaces, computes,
//! datastores, container registries, user-assigned identities, role assignments and
//! resource groups.
//!
//! ```no_run
//! # async fn demo() -> Result<(), amlauth_emulator::EmulatorError> {
//! use amlauth_emulator::{Emulator, EmulatorConfig};
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! println!("ARM at {} (trust {:?})", emu.base_url(), emu.ca_pem());
//! # Ok(()) }
//! ```

pub mod api_versions;
pub mod app;
pub mod arm;
pub mod auth;
pub mod config;
pub mod control;
pub mod error;
pub mod faults;
pub mod journal;
pub mod lro;
pub mod persist;
pub mod resources;
pub mod seed;
pub mod server;
pub mod state;
pub mod tls;
pub mod util;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use app::Settings;
pub use config::{
    CertificateClient, ClientSecret, DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID, EmulatorConfig,
    Federation, OperationDurations, Quirks, Shapes,
};
pub use error::{ArmError, EmulatorError};
pub use faults::{FaultAction, FaultRule};
pub use journal::JournalEntry;
pub use state::State;

use app::App;
use persist::StateFile;

/// Entry point: starts emulators.
pub struct Emulator;

/// A running emulator. Dropping it stops the server.
pub struct RunningEmulator {
    app: Arc<App>,
    base_url: String,
    local_addr: SocketAddr,
    ca_pem: Option<String>,
    ca_der: Option<Vec<u8>>,
    identity_endpoint: String,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Emulator {
    /// Binds, loads the state file and seed, and starts serving on the current tokio runtime.
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
        // Several crates in one process may pull different rustls providers; pick one.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        if !config.listen.ip().is_loopback() && !config.allow_non_loopback {
            return Err(EmulatorError::Config(format!(
                "refusing to listen on non-loopback address {} without allow_non_loopback",
                config.listen
            )));
        }
        let state_file = config.state_file.as_ref().map(StateFile::new);
        let loaded = match &state_file {
            Some(sf) => sf.load()?,
            None => None,
        };
        let fresh = loaded.is_none();
        let mut state = loaded.unwrap_or_else(State::new);
        for sub in &config.subscriptions {
            state
                .subscriptions
                .entry(sub.to_ascii_lowercase())
                .or_insert_with(|| sub.clone());
        }
        let app = Arc::new(App::new(&config, State::new(), state_file));

        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| EmulatorError::io(format!("binding {}", config.listen), e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| EmulatorError::io("reading the bound address", e))?;
        let host = if local_addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            local_addr.ip().to_string()
        };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        let scheme = if config.https { "https" } else { "http" };
        let base_url = format!("{scheme}://{host}:{}", local_addr.port());
        *app.base_url
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = base_url.clone();

        // Seed only a fresh state: after a restart the state file already holds it.
        if fresh && let Some(seed_doc) = &config.seed {
            seed::apply(&app, &mut state, seed_doc).map_err(|e| EmulatorError::InvalidData {
                what: "seed".into(),
                message: e.message,
            })?;
        }
        {
            let mut guard = app.state().map_err(|e| EmulatorError::Config(e.message))?;
            *guard = state;
            app.commit(&mut guard)
                .map_err(|e| EmulatorError::Config(e.message))?;
        }

        let (tls, ca_pem, ca_der) = if config.https {
            let generated = tls::generate(&[])?;
            (
                Some(tokio_rustls::TlsAcceptor::from(generated.server_config)),
                Some(generated.ca_pem),
                Some(generated.ca_der),
            )
        } else {
            (None, None, None)
        };

        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(server::serve(
            listener,
            tls,
            app.clone(),
            server::Surface::Full,
            shutdown.clone(),
        )));
        let identity_endpoint = if config.managed_identity_http {
            let mi_addr = SocketAddr::new(local_addr.ip(), 0);
            let mi = TcpListener::bind(mi_addr)
                .await
                .map_err(|e| EmulatorError::io("binding the managed-identity port", e))?;
            let port = mi
                .local_addr()
                .map_err(|e| EmulatorError::io("reading the managed-identity port", e))?
                .port();
            tasks.push(tokio::spawn(server::serve(
                mi,
                None,
                app.clone(),
                server::Surface::ManagedIdentityOnly,
                shutdown.clone(),
            )));
            format!("http://{host}:{port}/msi/token")
        } else {
            format!("{base_url}/msi/token")
        };
        // Completes operations and persists that even when nobody polls.
        let ticker_app = app.clone();
        let ticker_stop = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = ticker_stop.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {
                        drop(ticker_app.state());
                    }
                }
            }
        }));
        tracing::info!(url = %base_url, "emulator listening");
        Ok(RunningEmulator {
            app,
            base_url,
            local_addr,
            ca_pem,
            ca_der,
            identity_endpoint,
            shutdown,
            tasks,
        })
    }
}

impl RunningEmulator {
    /// `https://127.0.0.1:PORT` (or `http://` in plain mode). ARM and the token endpoint
    /// both live here; the authority host is this URL too.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// CA certificate (PEM) to trust; `None` in plain-HTTP mode.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// CA certificate (DER); `None` in plain-HTTP mode.
    pub fn ca_der(&self) -> Option<&[u8]> {
        self.ca_der.as_deref()
    }

    /// Tenant served by the token endpoint.
    pub fn tenant_id(&self) -> &str {
        &self.app.tenant_id
    }

    /// Token endpoint URL for the tenant.
    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.base_url, self.app.tenant_id)
    }

    /// Value for `IDENTITY_ENDPOINT`.
    pub fn identity_endpoint(&self) -> &str {
        &self.identity_endpoint
    }

    /// Value for `IDENTITY_HEADER`.
    pub fn identity_header(&self) -> &str {
        &self.app.identity_header
    }

    /// Applies a seed document (same format as `--seed`); all or nothing.
    pub fn seed(&self, doc: &serde_json::Value) -> Result<(), ArmError> {
        let mut state = self.app.state()?;
        let mut next = state.clone();
        seed::apply(&self.app, &mut next, doc)?;
        *state = next;
        self.app.commit(&mut state)
    }

    /// A copy of the whole state.
    pub fn state(&self) -> Result<State, ArmError> {
        Ok(self.app.state()?.clone())
    }

    /// Out-of-band change: JSON merge patch on a stored resource body (creates drift).
    pub fn patch_resource(
        &self,
        id: &str,
        patch: &serde_json::Value,
    ) -> Result<serde_json::Value, ArmError> {
        let mut state = self.app.state()?;
        let out = seed::patch_resource(&mut state, id, patch)?;
        self.app.commit(&mut state)?;
        Ok(out)
    }

    /// Adds a fault rule; returns its id.
    pub fn add_fault(&self, rule: FaultRule) -> String {
        self.app.faults().add(rule)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.app.faults().clear();
    }

    /// Journal entries, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.app.journal().entries()
    }

    /// Empties the journal.
    pub fn clear_journal(&self) {
        self.app.journal().clear();
    }

    /// Current runtime settings.
    pub fn settings(&self) -> Settings {
        self.app.settings()
    }

    /// Replaces the runtime settings (token lifetime, durations, quirks).
    pub fn set_settings(&self, settings: Settings) {
        self.app.set_settings(settings);
    }

    /// Stops serving and waits for the accept loops to end.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
