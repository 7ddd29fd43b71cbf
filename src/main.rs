//! `terraform-provider-amlauth`: started by Terraform, serves the provider over gRPC.

use std::process::ExitCode;

use std::sync::Arc;

use amlauth::framework::runtime::Runtime;
use amlauth::plugin::{self, Command, ProtocolVersion};
use amlauth::resources::AmlAuthProvider;
use tonic::service::Routes;

// musl's own malloc is slow on the TLS, gRPC and JSON paths; the static musl release uses mimalloc
// (docs/performance.md). glibc builds keep glibc's malloc.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// One thread: the provider is I/O-bound (ARM calls, gRPC), and every worker thread costs start-up
// time and a malloc arena of resident memory in each of the several processes Terraform starts.
#[tokio::main(flavor = "current_thread")]
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
fn provider_routes(version: ProtocolVersion) -> Routes {
    let runtime = Arc::new(Runtime::new(Arc::new(AmlAuthProvider)));
    amlauth::server::routes(version, runtime)
}
