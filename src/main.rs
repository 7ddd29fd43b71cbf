//! `terraform-provider-amlauth`: started by Terraform, serves the provider over gRPC.

use std::process::ExitCode;

use amlauth::plugin::{self, Command, ProtocolVersion};
use amlauth::proto::{tfplugin5, tfplugin6};
use tonic::service::Routes;

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match Command::parse(std::env::args_os().skip(1)) {
        Ok(Command::Serve(opts)) => opts,
        Ok(Command::Help) => {
            print!("{}", plugin::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("terraform-provider-amlauth {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("terraform-provider-amlauth: {e}");
            return ExitCode::from(2);
        }
    };
    let debug_default = opts
        .debug
        .then_some(tracing::level_filters::LevelFilter::INFO);
    amlauth::logging::init_with_default(debug_default);

    match plugin::serve(opts, provider_routes).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ plugin::PluginError::NotLaunchedByTerraform) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            tracing::error!(error = %e, "plugin server failed");
            eprintln!("terraform-provider-amlauth: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The provider service for the negotiated protocol version.
// Stub until the protocol servers land: every RPC answers Unimplemented.
fn provider_routes(version: ProtocolVersion) -> Routes {
    const MAX: usize = plugin::MAX_MESSAGE_SIZE;
    match version {
        ProtocolVersion::V6 => Routes::new(
            tfplugin6::provider_server::ProviderServer::new(StubProvider)
                .max_decoding_message_size(MAX)
                .max_encoding_message_size(MAX),
        ),
        ProtocolVersion::V5 => Routes::new(
            tfplugin5::provider_server::ProviderServer::new(StubProvider)
                .max_decoding_message_size(MAX)
                .max_encoding_message_size(MAX),
        ),
    }
}

struct StubProvider;

impl tfplugin6::provider_server::Provider for StubProvider {}
impl tfplugin5::provider_server::Provider for StubProvider {}
