//! go-plugin's side services: controller (shutdown), stdio and broker.

use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status, Streaming};

use crate::proto::goplugin::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};
use crate::proto::goplugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use crate::proto::goplugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::proto::goplugin::{ConnInfo, Empty, StdioData};

/// `plugin.GRPCController`: Terraform calls `Shutdown` when it is done with the plugin and kills
/// the process if it has not exited two seconds later.
#[derive(Debug, Clone)]
pub struct Controller {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("shutdown requested by the plugin client");
        self.shutdown.cancel();
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio`: we log to the real stderr, which Terraform reads, so the stream carries
/// nothing; it stays open until shutdown so the client does not see it end early.
#[derive(Debug, Clone)]
pub struct Stdio {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<BoxStream<StdioData>>, Status> {
        let done = self.shutdown.clone().cancelled_owned();
        let stream = futures::stream::once(done).filter_map(|()| async { None });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// `plugin.GRPCBroker`: Terraform opens the stream on connect but never brokers connections to
/// providers. We read and drop what it sends and end the reply stream when it closes its side
/// or at shutdown.
#[derive(Debug, Clone)]
pub struct Broker {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<BoxStream<ConnInfo>>, Status> {
        let mut inbound = request.into_inner();
        let shutdown = self.shutdown.clone();
        let done = async move {
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = async {
                    while let Some(Ok(info)) = inbound.next().await {
                        tracing::trace!(service_id = info.service_id, "ignoring broker message");
                    }
                } => {}
            }
        };
        let stream = futures::stream::once(done).filter_map(|()| async { None });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// The three side services, all tied to the same shutdown token.
pub struct SideServices {
    /// Controller service.
    pub controller: GrpcControllerServer<Controller>,
    /// Stdio service.
    pub stdio: GrpcStdioServer<Stdio>,
    /// Broker service.
    pub broker: GrpcBrokerServer<Broker>,
}

impl SideServices {
    /// Builds the services; `shutdown` is cancelled by `GRPCController.Shutdown`.
    pub fn new(shutdown: &CancellationToken) -> Self {
        Self {
            controller: GrpcControllerServer::new(Controller {
                shutdown: shutdown.clone(),
            }),
            stdio: GrpcStdioServer::new(Stdio {
                shutdown: shutdown.clone(),
            }),
            broker: GrpcBrokerServer::new(Broker {
                shutdown: shutdown.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_cancels_the_token_and_ends_stdio() {
        let token = CancellationToken::new();
        let stdio = Stdio {
            shutdown: token.clone(),
        };
        let mut stream = stdio
            .stream_stdio(Request::new(()))
            .await
            .unwrap()
            .into_inner();
        // Nothing is sent while serving.
        let early = tokio::time::timeout(std::time::Duration::from_millis(50), stream.next()).await;
        assert!(early.is_err(), "stdio stream must stay open and silent");
        let controller = Controller {
            shutdown: token.clone(),
        };
        controller.shutdown(Request::new(Empty {})).await.unwrap();
        assert!(token.is_cancelled());
        assert!(
            stream.next().await.is_none(),
            "stdio stream ends at shutdown"
        );
    }
}
