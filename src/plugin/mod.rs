//! The plugin host: the go-plugin contract as Terraform drives it.
//!
//! [`serve`] checks the magic cookie, negotiates the protocol major version, binds a unix socket,
//! sets up AutoMTLS, prints the handshake line and serves the caller's provider service together
//! with health (`plugin` SERVING), `plugin.GRPCController`, `plugin.GRPCStdio` and
//! `plugin.GRPCBroker` until Terraform calls `Shutdown` or the process gets SIGTERM. It knows
//! nothing about resources or Azure.

mod env;
mod error;
mod handshake;
mod incoming;
mod negotiate;
mod options;
mod services;
mod signals;
mod socket;
mod tls;

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_stream::Stream;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::{Connected, Router};
use tonic_health::ServingStatus;

pub use env::{
    CLIENT_CERT_KEY, HostEnv, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, PROTOCOL_VERSIONS_KEY,
    SOCKET_DIR_KEY, SOCKET_GROUP_KEY,
};
pub use error::PluginError;
pub use handshake::{debug_banner, handshake_line, reattach_json};
pub use negotiate::{Negotiated, negotiate};
pub use options::{
    CliError, Command, DEFAULT_PROVIDER_ADDRESS, ProtocolVersion, ServeOptions, USAGE,
};
pub use tls::{PinnedClientCert, install_crypto_provider};

/// Largest gRPC message accepted or sent, both ways (terraform-plugin-go uses the same figure;
/// tonic's default of 4 MiB is too small for big plans and states). Apply it to the provider
/// server with `max_decoding_message_size` and `max_encoding_message_size`.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

/// After shutdown starts, how long open connections may take to close before we exit anyway.
/// Terraform kills a plugin that has not exited two seconds after `Shutdown`.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Health service name go-plugin's client checks.
const HEALTH_SERVICE: &str = "plugin";

/// Serves the provider until Terraform shuts it down (or SIGTERM; Ctrl-C in debug mode).
///
/// `routes` is called once with the negotiated version and must return [`Routes`] holding the
/// `tfplugin5.Provider` or `tfplugin6.Provider` service for it, configured with
/// [`MAX_MESSAGE_SIZE`] both ways. Returns `Ok(())` after a clean shutdown; the socket is removed
/// on every return path. [`PluginError::NotLaunchedByTerraform`] carries the message for a human
/// who ran the binary by hand (print it to stderr and exit 1).
pub async fn serve(
    opts: ServeOptions,
    routes: impl FnOnce(ProtocolVersion) -> Routes,
) -> Result<(), PluginError> {
    install_crypto_provider();
    let env = HostEnv::from_process();
    if !opts.debug && !env.has_magic_cookie() {
        return Err(PluginError::NotLaunchedByTerraform);
    }

    let version = if opts.debug {
        opts.debug_protocol
    } else {
        let n = negotiate(env.protocol_versions.as_deref());
        for entry in &n.skipped {
            tracing::warn!(entry = %entry, "ignoring non-integer entry in {PROTOCOL_VERSIONS_KEY}");
        }
        if n.fell_back {
            tracing::warn!(
                offered = env.protocol_versions.as_deref().unwrap_or(""),
                served = %n.version,
                "no offered protocol version is served; announcing the lowest we serve"
            );
        }
        n.version
    };

    let shutdown = CancellationToken::new();
    signals::install(&shutdown, opts.debug)?;

    // Plaintext only when Terraform sends no client certificate (TLS disabled) or in debug mode.
    let tls = match (&env.client_cert, opts.debug) {
        (Some(pem), false) => {
            let client_certs = tls::parse_client_certs(pem)?;
            let server_cert = tls::ServerCertificate::generate()?;
            let config = tls::server_config(&server_cert, client_certs)?;
            Some((server_cert, config))
        }
        _ => None,
    };

    let (listener, guard) = socket::bind(env.socket_dir.as_deref(), env.socket_group.as_deref())?;

    let announcement = if opts.debug {
        debug_banner(
            &opts.provider_address,
            version,
            std::process::id(),
            guard.path(),
        )?
    } else {
        let cert = tls.as_ref().map(|(c, _)| c.cert_der.as_ref());
        handshake_line(version, guard.path(), cert)?
    };
    handshake::write_stdout(&announcement)?;
    // Built after the announcement: the socket already listens, so Terraform's connection
    // waits in the backlog while the schemas are assembled instead of delaying the line.
    let router = build_router(version, routes, &shutdown).await;
    tracing::info!(
        protocol = version.number(),
        socket = %guard.path().display(),
        tls = tls.is_some(),
        debug = opts.debug,
        "plugin server listening"
    );

    let result = match tls {
        Some((_, config)) => {
            let incoming = incoming::tls_incoming(listener, std::sync::Arc::new(config));
            let result = run(router, incoming.stream, &shutdown).await;
            incoming.task.abort();
            result
        }
        None => {
            let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
            run(router, incoming, &shutdown).await
        }
    };
    drop(guard);
    tracing::debug!("plugin server stopped");
    result
}

/// The caller's provider routes plus the side services every go-plugin server offers.
async fn build_router(
    version: ProtocolVersion,
    routes: impl FnOnce(ProtocolVersion) -> Routes,
    shutdown: &CancellationToken,
) -> Router {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(HEALTH_SERVICE, ServingStatus::Serving)
        .await;
    // Also lets a client see which provider service this process registered.
    reporter
        .set_service_status(version.provider_service_name(), ServingStatus::Serving)
        .await;
    let side = services::SideServices::new(shutdown);
    Server::builder()
        .add_routes(routes(version))
        .add_service(health)
        .add_service(side.controller)
        .add_service(side.stdio)
        .add_service(side.broker)
}

/// Serves `incoming` until `shutdown`, then gives open connections [`SHUTDOWN_GRACE`] to finish.
async fn run<I, IO, IE>(
    router: Router,
    incoming: I,
    shutdown: &CancellationToken,
) -> Result<(), PluginError>
where
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    IE: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let server = router.serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result.map_err(PluginError::from),
        () = async {
            shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::debug!("connections still open after the shutdown grace period; exiting anyway");
            Ok(())
        }
    }
}
