//! `amlauth-emulator`: run the ARM / Entra ID emulator from the command line.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use amlauth_emulator::{
    ClientSecret, DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID, Emulator, EmulatorConfig,
};
use clap::Parser;

/// A local Azure Resource Manager and Entra ID emulator.
#[derive(Debug, Parser)]
#[command(name = "amlauth-emulator", version)]
struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Allow a non-loopback listen address (the emulator has no real security).
    #[arg(long)]
    allow_non_loopback: bool,
    /// Serve HTTPS with a generated certificate (default).
    #[arg(long, conflicts_with = "http")]
    https: bool,
    /// Serve plain HTTP instead (loopback tests only; Azure SDK credentials refuse it).
    #[arg(long)]
    http: bool,
    /// Write the CA certificate (PEM) here.
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Seed document (JSON) applied when the state is fresh.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Persist the state to this file after every change and restore it at start.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Tenant id served by the token endpoint.
    #[arg(long, default_value = DEFAULT_TENANT_ID)]
    tenant_id: String,
    /// Subscriptions that exist from the start (repeatable).
    #[arg(long = "subscription", default_values_t = [DEFAULT_SUBSCRIPTION_ID.to_string()])]
    subscriptions: Vec<String>,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    token_lifetime: u64,
    /// Duration of every long-running operation in milliseconds (overridden per type below).
    #[arg(long)]
    operation_ms: Option<u64>,
    /// Workspace operation duration in milliseconds.
    #[arg(long)]
    workspace_operation_ms: Option<u64>,
    /// Compute operation duration in milliseconds.
    #[arg(long)]
    compute_operation_ms: Option<u64>,
    /// Registry operation duration in milliseconds.
    #[arg(long)]
    registry_operation_ms: Option<u64>,
    /// Retry-After seconds on long-running answers.
    #[arg(long, default_value_t = 1)]
    retry_after: u64,
    /// Largest request body accepted (bytes); larger gets 413.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Seconds a client may take to send a request's headers before the connection is closed.
    #[arg(long, default_value_t = 30)]
    header_read_timeout_secs: u64,
    /// Secret the managed-identity endpoint expects in X-IDENTITY-HEADER.
    #[arg(long, default_value = "emulator-identity-header")]
    identity_header: String,
    /// Do not open the extra plain-HTTP managed-identity port.
    #[arg(long)]
    no_identity_port: bool,
    /// Accepted client credential CLIENT_ID=SECRET (repeatable; prefer the seed file, command lines are visible to other users).
    #[arg(long = "client")]
    clients: Vec<String>,
    /// Answer in the REST spec's shapes instead of the ones Azure was recorded sending
    /// (see docs/emulator.md, "Answer shapes").
    #[arg(long)]
    spec_shapes: bool,
    /// Answer long-running operations synchronously (200 + final body).
    #[arg(long)]
    sync_long_running: bool,
    /// Return ids exactly as stored instead of re-casing them like ARM.
    #[arg(long)]
    no_recase: bool,
    /// Leave the `secrets` block out of datastore responses.
    #[arg(long)]
    omit_datastore_secrets_block: bool,
    /// Allow workspace identity SystemAssigned,UserAssigned -> SystemAssigned.
    #[arg(long)]
    allow_workspace_identity_downgrade: bool,
    /// Answer enum values re-cased (`systemAssigned`, `accessKey`).
    #[arg(long)]
    recase_enums: bool,
    /// Answer timestamps with seven fraction digits and a `+00:00` offset.
    #[arg(long)]
    alternate_timestamps: bool,
    /// Refuse compute and datastore writes (409) while their workspace has an operation running.
    #[arg(long)]
    workspace_child_conflicts: bool,
    /// Items per page of the workspace, compute, datastore, registry, role assignment and role
    /// definition lists (0: one page).
    #[arg(long, default_value_t = amlauth_emulator::config::DEFAULT_LIST_PAGE_SIZE)]
    list_page_size: usize,
    /// After the READY line, print `export NAME=value` lines for clients.
    #[arg(long)]
    print_env: bool,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AMLAUTH_EMULATOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("amlauth-emulator: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("amlauth-emulator: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let mut config = EmulatorConfig {
        listen: cli.listen,
        allow_non_loopback: cli.allow_non_loopback,
        https: !cli.http,
        managed_identity_http: !cli.no_identity_port,
        tenant_id: cli.tenant_id.clone(),
        token_lifetime: Duration::from_secs(cli.token_lifetime),
        retry_after_secs: cli.retry_after,
        max_body_bytes: cli.max_body_bytes,
        header_read_timeout: Duration::from_secs(cli.header_read_timeout_secs.max(1)),
        identity_header: cli.identity_header.clone(),
        subscriptions: cli.subscriptions.clone(),
        state_file: cli.state.clone(),
        ..EmulatorConfig::default()
    };
    if let Some(ms) = cli.operation_ms {
        let d = Duration::from_millis(ms);
        config.durations.workspace = d;
        config.durations.compute = d;
        config.durations.registry = d;
    }
    if let Some(ms) = cli.workspace_operation_ms {
        config.durations.workspace = Duration::from_millis(ms);
    }
    if let Some(ms) = cli.compute_operation_ms {
        config.durations.compute = Duration::from_millis(ms);
    }
    if let Some(ms) = cli.registry_operation_ms {
        config.durations.registry = Duration::from_millis(ms);
    }
    if cli.spec_shapes {
        config.quirks.shapes = amlauth_emulator::Shapes::Spec;
    }
    config.quirks.sync_long_running = cli.sync_long_running;
    config.quirks.recase_ids = !cli.no_recase;
    config.quirks.omit_datastore_secrets_block = cli.omit_datastore_secrets_block;
    config.quirks.allow_workspace_identity_downgrade = cli.allow_workspace_identity_downgrade;
    config.quirks.recase_enums = cli.recase_enums;
    config.quirks.alternate_timestamps = cli.alternate_timestamps;
    config.quirks.workspace_child_conflicts = cli.workspace_child_conflicts;
    config.quirks.list_page_size = cli.list_page_size;
    for c in &cli.clients {
        let Some((id, secret)) = c.split_once('=') else {
            return Err("--client takes CLIENT_ID=SECRET".into());
        };
        config.clients.push(ClientSecret {
            client_id: id.into(),
            client_secret: secret.into(),
        });
    }
    if let Some(path) = &cli.seed {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading seed {}: {e}", path.display()))?;
        let doc = serde_json::from_str(&text)
            .map_err(|e| format!("seed {} is not valid JSON: {e}", path.display()))?;
        config.seed = Some(doc);
    }
    let emu = Emulator::start(config).await.map_err(|e| e.to_string())?;
    if let (Some(path), Some(pem)) = (&cli.ca_out, emu.ca_pem()) {
        write_file(path, pem.as_bytes())
            .map_err(|e| format!("writing CA to {}: {e}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "READY {} identity_endpoint={}",
        emu.base_url(),
        emu.identity_endpoint()
    );
    if cli.print_env {
        let _ = writeln!(
            out,
            "export ARM_RESOURCE_MANAGER_ENDPOINT={}",
            emu.base_url()
        );
        let _ = writeln!(out, "export ARM_AUTHORITY_HOST={}", emu.base_url());
        let _ = writeln!(out, "export AZURE_AUTHORITY_HOST={}", emu.base_url());
        let _ = writeln!(out, "export ARM_TENANT_ID={}", emu.tenant_id());
        let _ = writeln!(out, "export AZURE_TENANT_ID={}", emu.tenant_id());
        let _ = writeln!(
            out,
            "export ARM_SUBSCRIPTION_ID={}",
            cli.subscriptions
                .first()
                .map(String::as_str)
                .unwrap_or(DEFAULT_SUBSCRIPTION_ID)
        );
        let _ = writeln!(out, "export ARM_MSI_ENDPOINT={}", emu.identity_endpoint());
        let _ = writeln!(out, "export IDENTITY_ENDPOINT={}", emu.identity_endpoint());
        let _ = writeln!(out, "export IDENTITY_HEADER={}", emu.identity_header());
        if let (Some(path), Some(pem)) = (&cli.ca_out, emu.ca_pem()) {
            let p = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            let _ = writeln!(out, "export ARM_CA_BUNDLE={}", p.display());
            // Python and OpenSSL clients trust only the file these name, so point them at the
            // system store plus the emulator CA: the shell keeps reaching everything else.
            let bundle = bundle_path(&p);
            write_file(&bundle, system_bundle_with(pem).as_bytes())
                .map_err(|e| format!("writing CA bundle to {}: {e}", bundle.display()))?;
            let _ = writeln!(out, "export SSL_CERT_FILE={}", bundle.display());
            let _ = writeln!(out, "export REQUESTS_CA_BUNDLE={}", bundle.display());
        }
    }
    let _ = out.flush();
    drop(out);
    wait_for_signal().await;
    emu.shutdown().await;
    Ok(())
}

/// `ca.pem` → `ca-bundle.pem`, next to it.
fn bundle_path(ca: &std::path::Path) -> PathBuf {
    let stem = ca
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ca".into());
    ca.with_file_name(format!("{stem}-bundle.pem"))
}

/// The platform's trusted roots (honouring `SSL_CERT_FILE`/`SSL_CERT_DIR`) as PEM, followed by
/// `extra`. Roots that cannot be read are skipped: the emulator CA alone still works for it.
fn system_bundle_with(extra: &str) -> String {
    use base64::Engine as _;
    let loaded = rustls_native_certs::load_native_certs();
    let mut out = String::new();
    for cert in &loaded.certs {
        let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out.push_str(extra);
    if !extra.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn write_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}
