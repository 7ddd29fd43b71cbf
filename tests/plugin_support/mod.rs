//! Shared helpers for the plugin host tests: run the real binary, read its handshake, and talk
//! to it over the unix socket with or without TLS. Every child is killed and reaped on drop.
#![allow(dead_code)] // each test crate uses a different subset

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

pub const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-amlauth");
pub const COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// Longest we wait for the handshake line: Terraform waits a minute; a loaded CI box is slow.
pub const HANDSHAKE_WAIT: Duration = Duration::from_secs(30);
/// Terraform kills a plugin that is still running two seconds after `Shutdown`.
pub const TERRAFORM_EXIT_DEADLINE: Duration = Duration::from_secs(2);

/// A running plugin process. Dropping it kills and reaps the process.
pub struct Plugin {
    child: Child,
    /// When `spawn` was called on the command.
    pub spawned_at: Instant,
    /// Stdout lines with the instant each was read.
    stdout: Receiver<(Instant, String)>,
    stderr: Arc<Mutex<Vec<String>>>,
    /// Socket directory given to the plugin (removed on drop).
    pub dir: tempfile::TempDir,
}

/// The six fields of a go-plugin handshake line.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub raw: String,
    pub core: String,
    pub app: String,
    pub network: String,
    pub addr: PathBuf,
    pub protocol: String,
    pub cert: String,
}

impl Handshake {
    /// Parses a line, insisting on exactly six `|`-separated fields.
    pub fn parse(line: &str) -> Handshake {
        let fields: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
        assert_eq!(fields.len(), 6, "handshake must have six fields: {line:?}");
        Handshake {
            raw: line.to_owned(),
            core: fields[0].to_owned(),
            app: fields[1].to_owned(),
            network: fields[2].to_owned(),
            addr: PathBuf::from(fields[3]),
            protocol: fields[4].to_owned(),
            cert: fields[5].to_owned(),
        }
    }

    /// The announced server certificate (standard base64, no padding).
    pub fn cert_der(&self) -> CertificateDer<'static> {
        let der = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&self.cert)
            .expect("certificate must be unpadded standard base64");
        CertificateDer::from(der)
    }
}

impl Plugin {
    /// Starts the binary with a clean go-plugin environment (no inherited TF_*/PLUGIN_* values,
    /// socket in a private temp dir); `configure` adds what the test needs.
    pub fn spawn(configure: impl FnOnce(&mut Command)) -> Plugin {
        Plugin::spawn_program(BIN, configure)
    }

    /// Like [`Plugin::spawn`] for another program (the benchmark's baseline and other builds).
    pub fn spawn_program(program: &str, configure: impl FnOnce(&mut Command)) -> Plugin {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(program);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("TF_") || k.starts_with("PLUGIN_") || k == "AMLAUTH_LOG" {
                cmd.env_remove(k.as_ref());
            }
        }
        cmd.env("PLUGIN_UNIX_SOCKET_DIR", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        configure(&mut cmd);
        let spawned_at = Instant::now();
        let mut child = cmd.spawn().unwrap();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Plugin {
            child,
            spawned_at,
            stdout: rx,
            stderr,
            dir,
        }
    }

    /// Starts the binary the way Terraform does: cookie, offered versions and, for AutoMTLS,
    /// the client certificate PEM.
    pub fn terraform_like(versions: &str, client_cert_pem: Option<&str>) -> Plugin {
        Plugin::terraform_like_program(BIN, versions, client_cert_pem)
    }

    /// [`Plugin::terraform_like`] for another build of the binary.
    pub fn terraform_like_program(
        program: &str,
        versions: &str,
        client_cert_pem: Option<&str>,
    ) -> Plugin {
        Plugin::spawn_program(program, |c| {
            c.env(COOKIE_KEY, COOKIE)
                .env("PLUGIN_PROTOCOL_VERSIONS", versions)
                .env("PLUGIN_MIN_PORT", "10000")
                .env("PLUGIN_MAX_PORT", "25000");
            if let Some(pem) = client_cert_pem {
                c.env("PLUGIN_CLIENT_CERT", pem);
            }
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next stdout line, or `None` if stdout closed or nothing came within `wait`.
    pub fn next_stdout_line(&self, wait: Duration) -> Option<String> {
        self.next_stdout_line_timed(wait).map(|(_, l)| l)
    }

    fn next_stdout_line_timed(&self, wait: Duration) -> Option<(Instant, String)> {
        self.stdout.recv_timeout(wait).ok()
    }

    /// Reads and parses the handshake line.
    pub fn handshake(&self) -> Handshake {
        self.handshake_timed().0
    }

    /// Reads and parses the handshake line, with the time from exec to its arrival.
    pub fn handshake_timed(&self) -> (Handshake, Duration) {
        let (at, line) = self
            .next_stdout_line_timed(HANDSHAKE_WAIT)
            .unwrap_or_else(|| panic!("no handshake line; stderr: {:?}", self.stderr_lines()));
        (Handshake::parse(&line), at - self.spawned_at)
    }

    /// Everything on stdout after what was already read (call after the process exited).
    pub fn remaining_stdout(&self) -> Vec<String> {
        self.stdout.try_iter().map(|(_, l)| l).collect()
    }

    /// Resident set size in KiB, from `/proc/<pid>/status`.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Stderr lines read so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits up to `deadline` for the process to exit.
    pub fn wait_exit(&mut self, deadline: Duration) -> Option<ExitStatus> {
        self.wait_exit_timed(deadline).map(|(status, _)| status)
    }

    /// Like [`Plugin::wait_exit`], also returning when the exit was noticed (1 ms polling).
    pub fn wait_exit_timed(&mut self, deadline: Duration) -> Option<(ExitStatus, Instant)> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let at = Instant::now();
                // Give the reader threads a moment to drain the pipes.
                std::thread::sleep(Duration::from_millis(50));
                return Some((status, at));
            }
            if start.elapsed() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Sends a signal by name (`INT`, `TERM`) with the system `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client identity shaped like go-plugin's AutoMTLS certificate: self-signed ECDSA P-521 with
/// SHA-512, `CA:true`, CN/SAN `localhost`, client and server auth.
pub struct ClientIdentity {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub key_der: PrivatePkcs8KeyDer<'static>,
}

pub fn go_plugin_like_client_cert() -> ClientIdentity {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localhost");
    dn.push(DnType::OrganizationName, "HashiCorp");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::seconds(30);
    params.not_after = now + time::Duration::days(365 * 30);
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        cert_pem: cert.pem(),
        cert_der: cert.der().clone(),
        key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

/// rustls client config trusting exactly the announced server certificate, ALPN h2, with an
/// optional client certificate.
pub fn client_tls_config(
    server_cert: &CertificateDer<'static>,
    client: Option<&ClientIdentity>,
) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server_cert.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut cfg = match client {
        Some(id) => builder
            .with_client_auth_cert(
                vec![id.cert_der.clone()],
                PrivateKeyDer::Pkcs8(id.key_der.clone_key()),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(cfg)
}

/// Opens a raw TLS connection to the socket (for checking refusals and ALPN).
pub async fn raw_tls(
    socket: &Path,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<UnixStream>> {
    let stream = UnixStream::connect(socket).await?;
    let name = ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(config)
        .connect(name, stream)
        .await
}

/// A gRPC channel over TLS on the unix socket.
pub async fn tls_channel(
    socket: &Path,
    config: Arc<rustls::ClientConfig>,
) -> Result<Channel, tonic::transport::Error> {
    let socket = socket.to_path_buf();
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            let config = config.clone();
            async move { raw_tls(&socket, config).await.map(TokioIo::new) }
        }))
        .await
}

/// A plaintext gRPC channel on the unix socket.
pub async fn plain_channel(socket: &Path) -> Result<Channel, tonic::transport::Error> {
    let socket = socket.to_path_buf();
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { UnixStream::connect(&socket).await.map(TokioIo::new) }
        }))
        .await
}

/// Health status of `service`, or the gRPC error.
pub async fn health(channel: Channel, service: &str) -> Result<ServingStatus, tonic::Status> {
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await?;
    Ok(reply.into_inner().status())
}

/// Calls `plugin.GRPCController/Shutdown`.
pub async fn shutdown(channel: Channel) -> Result<(), tonic::Status> {
    use amlauth::proto::goplugin::grpc_controller_client::GrpcControllerClient;
    GrpcControllerClient::new(channel)
        .shutdown(amlauth::proto::goplugin::Empty {})
        .await
        .map(|_| ())
}

/// Installs aws-lc-rs as the test process's rustls provider.
pub fn install_crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
