//! Generates the gRPC bindings from `proto/` with protox, so no `protoc` binary is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The provider binary is linked as a fixed-address (non-PIE) executable, as Go links
    // Terraform providers: the dynamic loader then has no relocations to apply, which was
    // most of the start-up time left (see docs/performance.md). `AMLAUTH_PIE=1` keeps PIE
    // (for comparison, or for a hardened distribution build).
    println!("cargo:rerun-if-env-changed=AMLAUTH_PIE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" && std::env::var_os("AMLAUTH_PIE").is_none() {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    let files = [
        "proto/tfplugin6.proto",
        "proto/tfplugin5.proto",
        "proto/plugin/grpc_controller.proto",
        "proto/plugin/grpc_stdio.proto",
        "proto/plugin/grpc_broker.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["proto", "proto/plugin"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .generate_default_stubs(true)
        .compile_fds(fds)?;
    Ok(())
}
