//! Turning accepted unix-socket connections into TLS streams for tonic, one handshake per task so
//! a slow or hostile peer cannot hold up the others.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;

/// Longest a peer may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(50);
/// Finished handshakes waiting for tonic to pick them up.
const QUEUE: usize = 32;

/// Stream of established TLS connections, plus the task that accepts them (abort it when done).
pub struct TlsIncoming {
    /// Feed this to `serve_with_incoming`.
    pub stream: ReceiverStream<Result<TlsStream<UnixStream>, io::Error>>,
    /// The accept loop.
    pub task: JoinHandle<()>,
}

/// Starts accepting on `listener`, completing TLS handshakes with `config`.
pub fn tls_incoming(listener: UnixListener, config: Arc<rustls::ServerConfig>) -> TlsIncoming {
    let (tx, rx) = mpsc::channel(QUEUE);
    let acceptor = TlsAcceptor::from(config);
    let task = tokio::spawn(accept_loop(listener, acceptor, tx));
    TlsIncoming {
        stream: ReceiverStream::new(rx),
        task,
    }
}

async fn accept_loop(
    listener: UnixListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<Result<TlsStream<UnixStream>, io::Error>>,
) {
    loop {
        let accepted = tokio::select! {
            // The server has stopped reading connections: nothing more to do.
            () = tx.closed() => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    // A send error means the server is shutting down; the connection just drops.
                    let _ = tx.send(Ok(tls)).await;
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "TLS handshake with client refused"),
                Err(_) => tracing::warn!("TLS handshake with client timed out"),
            }
        });
    }
}
