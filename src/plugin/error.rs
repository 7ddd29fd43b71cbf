//! The errors the plugin host can report.

use std::path::PathBuf;

/// Everything that can stop the plugin host from serving Terraform.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The magic cookie Terraform sets is missing or wrong: someone ran the binary by hand.
    #[error(
        "terraform-provider-amlauth is a Terraform provider plugin and is not meant to be run directly.\n\
         Terraform starts it on its own when a configuration uses the amlauth provider.\n\
         To run it yourself for debugging, start it with --debug and follow the instructions it prints."
    )]
    NotLaunchedByTerraform,

    /// The socket directory could not be used to create the socket.
    #[error("could not listen on unix socket {path}: {source}")]
    Bind {
        /// Socket path that was tried.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },

    /// No free socket name was found after several attempts.
    #[error("could not find a free socket name in {dir} after {attempts} attempts")]
    NoFreeSocketName {
        /// Directory that was searched.
        dir: PathBuf,
        /// How many names were tried.
        attempts: u32,
    },

    /// The socket path cannot be written into the handshake line.
    #[error(
        "socket path {0:?} cannot be announced to Terraform: it must be valid UTF-8 without '|' or line breaks"
    )]
    UnrepresentableSocketPath(PathBuf),

    /// `PLUGIN_UNIX_SOCKET_GROUP` named a group that does not exist.
    #[error(
        "PLUGIN_UNIX_SOCKET_GROUP={0:?} is neither a numeric group id nor the name of an existing group"
    )]
    UnknownGroup(String),

    /// Giving the socket to the requested group failed.
    #[error("could not give socket {path} to group {group}: {source}")]
    SocketPermissions {
        /// Socket path.
        path: PathBuf,
        /// Requested group, as given.
        group: String,
        /// Underlying error.
        source: std::io::Error,
    },

    /// `PLUGIN_CLIENT_CERT` held no usable PEM certificate.
    #[error("PLUGIN_CLIENT_CERT must hold at least one PEM \"CERTIFICATE\" block: {0}")]
    InvalidClientCertificate(String),

    /// Generating the server's own certificate failed.
    #[error("could not generate the server certificate: {0}")]
    CertificateGeneration(#[from] rcgen::Error),

    /// rustls refused the TLS configuration.
    #[error("could not build the TLS server configuration: {0}")]
    TlsConfig(#[from] rustls::Error),

    /// Installing a signal handler failed.
    #[error("could not install the {signal} handler: {source}")]
    Signal {
        /// Signal name.
        signal: &'static str,
        /// Underlying error.
        source: std::io::Error,
    },

    /// Writing the handshake line (or the debug banner) to stdout failed.
    #[error("could not write the handshake to stdout: {0}")]
    Stdout(std::io::Error),

    /// The gRPC server stopped with an error.
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}
