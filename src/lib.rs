//! terraform-provider-amlauth: a Terraform provider, written in Rust, that manages the
//! authentication settings between Azure Machine Learning and the services it relies on.
//!
//! Layers, top to bottom (see `docs/architecture.md`):
//! - [`plugin`]: the go-plugin host contract (handshake, mTLS, socket, side services);
//! - [`server`]: thin tfplugin6 / tfplugin5 adapters over the framework;
//! - [`framework`]: schema, typed models, diagnostics, plan rules, resource traits;
//! - [`value`]: cty values and their msgpack / JSON codecs;
//! - [`resources`]: the provider, its resources and data sources;
//! - [`azure`]: the ARM client (credentials, retries, long-running operations).

// These docs are for maintainers and link private items on purpose; read them with
// `cargo doc --document-private-items`.
#![allow(rustdoc::private_intra_doc_links)]

// So `#[derive(Model)]`'s `::amlauth::…` paths resolve inside this crate as in its tests.
extern crate self as amlauth;

pub mod azure;
pub mod framework;
pub mod logging;
pub mod plugin;
pub mod proto;
pub mod resources;
pub mod server;
pub mod value;
