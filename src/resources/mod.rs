//! The product: the `amlauth` provider, its resources and data sources. Each resource file
//! reads like its documentation: schema, model, mapping to ARM JSON and back, CRUD.

pub mod acr_admin;
pub mod common;
pub mod compute_identity;
pub mod configure;
pub mod datastore_access;
pub mod identity;
pub mod list;
pub mod object;
pub mod posture;
pub mod provider;
pub mod setting;
pub mod workspace_data;
pub mod workspace_identity;
pub mod workspace_image_build;

pub use provider::{AmlAuthProvider, PROVIDER_ADDRESS};
