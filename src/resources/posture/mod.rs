//! `amlauth_workspace_posture` data source: whether a workspace's authentication set-up is
//! finished and secure, per the Azure ML article "Set up authentication between Azure
//! Machine Learning and other services".
//!
//! - `findings.rs`: the one table of finding codes (documentation is checked against it);
//! - `roles.rs`: the built-in roles required and matching against role assignments;
//! - `facts.rs`: what the rules look at, parsed from ARM JSON;
//! - `rules.rs`: the rules themselves (pure, unit-tested);
//! - `read.rs`: the ARM reads.

pub mod facts;
pub mod findings;
pub mod read;
pub mod roles;
pub mod rules;

#[cfg(test)]
mod tests;

use async_trait::async_trait;

use crate::framework::{
    Attribute, Block, DataSource, Diagnostic, Diagnostics, Field, Model, ReadDataRequest, Schema,
};
use crate::value::Type;

use super::object::WORKSPACE;
use super::workspace_data::read_workspace;
use findings::Finding;
use roles::RequiredRole;

#[derive(Debug, Clone, PartialEq, Default, Model)]
pub struct PostureModel {
    pub workspace_id: Field<String>,
    pub managed_assignment_description: Field<String>,
    pub findings: Field<Vec<Finding>>,
    pub required_role_assignments: Field<Vec<RequiredRole>>,
    pub secure: Field<bool>,
}

pub struct WorkspacePosture;

pub fn schema() -> Schema {
    let block = Block::new()
        .describe("Checks an Azure ML workspace's authentication set-up against the Azure ML guidance: findings, the role assignments it needs and whether they exist.")
        .attribute(
            Attribute::string("workspace_id")
                .required()
                .validate(WORKSPACE.validator())
                .describe("ARM id of the workspace."),
        )
        .attribute(
            Attribute::string("managed_assignment_description")
                .optional()
                .describe("The `description` your `azurerm_role_assignment` loop over `required_role_assignments` gives the assignments it creates. An assignment with exactly this description counts as granted (`granted`, `findings`, `secure`) but does not make its entry `present`, so the loop keeps it instead of planning to destroy it once it exists."),
        )
        .attribute(
            Attribute::new("findings", Type::List(Box::new(Finding::value_type())))
                .computed()
                .describe("What is not finished or not secure, one object per finding (`severity` is `high` or `medium`); the data source's page lists every `code`."),
        )
        .attribute(
            Attribute::new(
                "required_role_assignments",
                Type::List(Box::new(RequiredRole::value_type())),
            )
            .computed()
            .describe("Role assignments the set-up needs, and whether they exist (`granted`) and exist other than through your own loop (`present`)."),
        )
        .attribute(
            Attribute::bool("secure")
                .computed()
                .describe("`true` when no finding has severity `high`."),
        );
    Schema::new(0, block)
}

#[async_trait]
impl DataSource for WorkspacePosture {
    type Model = PostureModel;

    fn type_name(&self) -> &'static str {
        "amlauth_workspace_posture"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(
        &self,
        req: ReadDataRequest<'_, Self::Model>,
    ) -> Result<Self::Model, Diagnostics> {
        let config = req.config;
        let ws = read_workspace(req.ctx, &config.workspace_id, "workspace_id").await?;
        let managed = config.managed_assignment_description.known().cloned();
        let eval = read::assess(
            &ws.client,
            &ws.raw,
            &ws.id,
            &ws.body,
            managed.as_deref(),
            &ws.call,
        )
        .await;
        // A stopped read turned its unfinished reads into findings: report the stop instead.
        if req.ctx.cancel.is_cancelled() {
            return Err(Diagnostic::error(
                "Read cancelled",
                "Terraform asked the provider to stop before the posture was read",
            )
            .into());
        }
        let secure = !eval.findings.iter().any(Finding::is_high);
        Ok(PostureModel {
            workspace_id: Field::Known(ws.raw),
            managed_assignment_description: config.managed_assignment_description,
            findings: Field::Known(eval.findings),
            required_role_assignments: Field::Known(eval.required),
            secure: Field::Known(secure),
        })
    }
}
