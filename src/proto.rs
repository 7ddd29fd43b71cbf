//! Generated gRPC bindings (see `build.rs`). Nothing hand-written lives here.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// Terraform plugin protocol 6 (`tfplugin6.Provider`).
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// Terraform plugin protocol 5 (`tfplugin5.Provider`).
pub mod tfplugin5 {
    tonic::include_proto!("tfplugin5");
}

/// go-plugin side services: controller, stdio and broker.
pub mod goplugin {
    tonic::include_proto!("plugin");
}
