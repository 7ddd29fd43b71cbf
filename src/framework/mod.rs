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

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use model::{Field, FromValue, Model, ObjectBuilder, ObjectReader, ToValue};
pub use resource::{
    ApplyError, ClientCapabilities, Ctx, DataSource, PlanRequest, PlanResponse, Provider, Resource,
};
pub use schema::{
    Attribute, Block, BlockNesting, IdentityAttribute, IdentitySchema, PlanModifier, Schema,
};
