//! Shared emulator state: settings, stored resources, faults, journal.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::Duration;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::config::{
    CertificateClient, ClientSecret, EmulatorConfig, Federation, OperationDurations, Quirks,
};
use crate::error::ArmError;
use crate::faults::FaultSet;
use crate::journal::Journal;
use crate::persist::StateFile;
use crate::state::State;

/// Settings that the control API may change while running.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Lifetime of new tokens, seconds.
    pub token_lifetime_secs: u64,
    /// Operation durations.
    pub durations: OperationDurations,
    /// `Retry-After` seconds on long-running answers.
    pub retry_after_secs: u64,
    /// Behaviour switches.
    pub quirks: Quirks,
}

/// Everything a handler can reach.
pub struct App {
    settings: RwLock<Settings>,
    state: Mutex<State>,
    state_file: Option<StateFile>,
    /// Fault rules.
    pub faults: Mutex<FaultSet>,
    /// Request journal.
    pub journal: Mutex<Journal>,
    /// Reads that must still answer 404, by lower-cased resource id.
    pub pending_not_found: Mutex<HashMap<String, u32>>,
    /// Base URL (`https://127.0.0.1:port`), known after binding.
    pub base_url: RwLock<String>,
    /// Tenant served by the token endpoint.
    pub tenant_id: String,
    /// Expected `X-IDENTITY-HEADER` value.
    pub identity_header: String,
    /// Principals from the configuration.
    pub config_clients: Vec<ClientSecret>,
    /// Federations from the configuration.
    pub config_federations: Vec<Federation>,
    /// Certificate principals from the configuration.
    pub config_certificate_clients: Vec<CertificateClient>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Time allowed for a request's headers (slow or stalled clients are cut off).
    pub header_read_timeout: Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave our data half-written in a way that
    // matters more than refusing service forever, so keep going with the inner value.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl App {
    /// Builds the shared state from a configuration and an initial state.
    pub fn new(config: &EmulatorConfig, state: State, state_file: Option<StateFile>) -> Self {
        Self {
            settings: RwLock::new(Settings {
                token_lifetime_secs: config.token_lifetime.as_secs(),
                durations: config.durations,
                retry_after_secs: config.retry_after_secs,
                quirks: config.quirks,
            }),
            state: Mutex::new(state),
            state_file,
            faults: Mutex::new(FaultSet::default()),
            journal: Mutex::new(Journal::default()),
            pending_not_found: Mutex::new(HashMap::new()),
            base_url: RwLock::new(String::new()),
            tenant_id: config.tenant_id.clone(),
            identity_header: config.identity_header.clone(),
            config_clients: config.clients.clone(),
            config_federations: config.federations.clone(),
            config_certificate_clients: config.certificate_clients.clone(),
            max_body_bytes: config.max_body_bytes,
            header_read_timeout: config.header_read_timeout,
        }
    }

    /// Current settings.
    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the settings.
    pub fn set_settings(&self, s: Settings) {
        *self
            .settings
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = s;
    }

    /// Behaviour switches.
    pub fn quirks(&self) -> Quirks {
        self.settings().quirks
    }

    /// Base URL of the emulator.
    pub fn base_url(&self) -> String {
        self.base_url
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Locks the state after completing due operations (persisting if that changed anything).
    pub fn state(&self) -> Result<MutexGuard<'_, State>, ArmError> {
        let mut guard = lock(&self.state);
        if guard.advance(crate::util::now_ms()) {
            self.commit(&mut guard)?;
        }
        Ok(guard)
    }

    /// Records a change: bumps the revision and writes the state file before the caller
    /// acknowledges anything.
    pub fn commit(&self, state: &mut State) -> Result<(), ArmError> {
        state.revision += 1;
        if let Some(sf) = &self.state_file {
            sf.save(state).map_err(|e| {
                tracing::error!(error = %e, "could not persist state");
                ArmError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    "The emulator could not persist its state.",
                )
            })?;
        }
        Ok(())
    }

    /// `Retry-After` value for long-running answers.
    pub fn retry_after(&self) -> String {
        self.settings().retry_after_secs.to_string()
    }

    /// Token lifetime.
    pub fn token_lifetime(&self) -> Duration {
        Duration::from_secs(self.settings().token_lifetime_secs)
    }

    /// Takes one pending 404 for a resource, if any.
    pub fn take_pending_not_found(&self, key: &str) -> bool {
        let mut map = lock(&self.pending_not_found);
        match map.get_mut(key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                if *n == 0 {
                    map.remove(key);
                }
                true
            }
            _ => false,
        }
    }

    /// Arms `reads` 404 answers for a resource.
    pub fn arm_pending_not_found(&self, key: &str, reads: u32) {
        if reads > 0 {
            lock(&self.pending_not_found).insert(key.to_string(), reads);
        }
    }

    /// Locks the fault rules.
    pub fn faults(&self) -> MutexGuard<'_, FaultSet> {
        lock(&self.faults)
    }

    /// Locks the journal.
    pub fn journal(&self) -> MutexGuard<'_, Journal> {
        lock(&self.journal)
    }
}
