//! The provider framework: schemas, typed models, diagnostics, validation and plan rules,
//! and the traits resources implement. Nothing here knows about gRPC or Azure.

pub mod diagnostics;
pub mod erased;
pub mod lifecycle;
pub mod list;
pub mod model;
pub mod plan;
pub mod resource;
pub mod runtime;
pub mod schema;
pub mod timeouts;
pub mod validate;
pub mod validators;

/// `#[derive(Model)]` (see [`model`]); the trait and the derive share the name, as serde's do.
pub use amlauth_derive::Model;
pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use model::{Field, FromValue, Model, ModelField, ObjectBuilder, ObjectReader, ToValue};
pub use resource::{
    ApplyError, ApplyResponse, ClientCapabilities, CreateRequest, Ctx, DataSource, DeleteRequest,
    ImportRequest, PlanRequest, PlanResponse, Private, Provider, ReadDataRequest, ReadRequest,
    ReadResponse, Resource, StateResponse, UpdateRequest, ValidateRequest, ValidateResponse,
};
pub use schema::{
    Attribute, Block, BlockNesting, IdentityAttribute, IdentitySchema, PlanModifier, Schema,
};
