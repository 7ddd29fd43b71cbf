//! The posture rules: from [`Facts`] to findings and the role assignments the set-up needs,
//! then (once ARM listed the assignments at each scope) which of those are present.

use std::collections::BTreeMap;

use super::super::identity::NONE;
use super::facts::{Facts, Principal, WorkspaceFacts};
use super::findings::{Code, Finding};
use super::roles::{
    ACR_PULL, Assignment, BLOB_DATA_READER, CONTRIBUTOR, RequiredRole, built_in_name, grant_state,
    scope_eq,
};

/// The result of the rules: findings so far and the required role assignments (their
/// `present` is settled by [`settle_assignments`]).
#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub required: Vec<RequiredRole>,
}

impl Evaluation {
    fn finding(&mut self, code: Code, resource_id: &str, message: String) {
        self.findings.push(Finding::new(code, resource_id, message));
    }

    /// Adds a requirement, merging the reason into an existing one for the same target.
    fn require(&mut self, p: &Principal, role_guid: &str, scope: &str, reason: String) {
        let name = built_in_name(role_guid);
        let subscription = subscription_of(scope);
        let r = RequiredRole {
            principal_id: p.id.clone(),
            principal_kind: p.kind.to_string(),
            role_definition_name: name.to_string(),
            role_definition_id: format!(
                "/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"
            ),
            scope: scope.to_string(),
            reason,
            granted: false,
            present: false,
        };
        match self.required.iter_mut().find(|x| x.same_target(&r)) {
            Some(existing) => {
                if !existing.reason.contains(&r.reason) {
                    existing.reason = format!("{}; {}", existing.reason, r.reason);
                }
            }
            None => self.required.push(r),
        }
    }

    /// The distinct scopes (first spelling wins) whose assignments must be listed.
    pub fn scopes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.required {
            if !out.iter().any(|s| scope_eq(s, &r.scope)) {
                out.push(r.scope.clone());
            }
        }
        out
    }
}

/// `/subscriptions/{s}/…` → `s` (empty when the scope has no subscription).
fn subscription_of(scope: &str) -> &str {
    let mut segs = scope.split('/').filter(|s| !s.is_empty());
    match (segs.next(), segs.next()) {
        (Some(k), Some(s)) if k.eq_ignore_ascii_case("subscriptions") => s,
        _ => "",
    }
}

fn workspace_rules(ws: &WorkspaceFacts, e: &mut Evaluation) {
    if !ws.user_assigned.is_empty() {
        let primary_attached = ws.primary_user_assigned.as_ref().is_some_and(|p| {
            ws.user_assigned
                .iter()
                .any(|(id, _)| id.eq_ignore_ascii_case(p))
        });
        if !primary_attached {
            let msg = match &ws.primary_user_assigned {
                None => "The workspace has user-assigned identities but no primary user-assigned identity.".to_string(),
                Some(p) => format!("The workspace's primary user-assigned identity {p} is not attached to it."),
            };
            e.finding(Code::UserAssignedIdentityWithoutPrimary, &ws.id, msg);
        }
    }
    let mode = ws.system_datastores_auth_mode.as_deref().unwrap_or("");
    if mode.is_empty() || mode.eq_ignore_ascii_case("AccessKey") {
        e.finding(
            Code::SystemDatastoresUseAccessKey,
            &ws.id,
            format!(
                "The workspace's system datastores authenticate with the storage account key (systemDatastoresAuthMode is {}).",
                if mode.is_empty() { "unset" } else { mode }
            ),
        );
    }
    // The article's table of roles for a workspace's user-assigned identity ("managed by
    // you"); a system-assigned identity's roles are created by Azure ML.
    if let Some(p) = ws.primary_principal() {
        let linked = [
            (Some(&ws.id), "the workspace"),
            (
                ws.storage_account.as_ref(),
                "the workspace's storage account",
            ),
            (ws.key_vault.as_ref(), "the workspace's key vault"),
            (
                ws.container_registry.as_ref(),
                "the workspace's container registry",
            ),
            (
                ws.application_insights.as_ref(),
                "the workspace's Application Insights",
            ),
        ];
        for (scope, what) in linked {
            if let Some(scope) = scope {
                e.require(
                    &p,
                    CONTRIBUTOR,
                    scope,
                    format!("{} uses {what} on the workspace's behalf", p.owner),
                );
            }
        }
    }
}

/// Evaluates every rule that does not depend on role assignments, and lists the role
/// assignments the set-up needs.
pub fn evaluate(facts: &Facts) -> Evaluation {
    let mut e = Evaluation::default();
    let ws = &facts.workspace;
    workspace_rules(ws, &mut e);

    for (id, why) in &facts.unreadable {
        e.finding(
            Code::CannotReadResource,
            id,
            format!("{id} could not be read: {why}"),
        );
    }
    let computes = match &facts.computes {
        Ok(c) => c.as_slice(),
        Err(why) => {
            e.finding(
                Code::CannotReadResource,
                &format!("{}/computes", ws.id),
                format!("The workspace's computes could not be read: {why}"),
            );
            &[]
        }
    };
    let identity_computes: Vec<_> = computes.iter().filter(|c| c.runs_with_identity()).collect();
    for c in &identity_computes {
        if c.identity_type == NONE {
            e.finding(
                Code::ComputeWithoutIdentity,
                &c.id,
                format!(
                    "The {} {} has no managed identity (identity type {}).",
                    c.compute_type, c.name, c.identity_type
                ),
            );
        }
    }
    let compute_principals: Vec<&Principal> = identity_computes
        .iter()
        .flat_map(|c| c.principals.iter())
        .collect();

    match &facts.registry {
        None => {}
        Some(Err(why)) => e.finding(
            Code::CannotReadResource,
            ws.container_registry.as_deref().unwrap_or(&ws.id),
            format!("The workspace's container registry could not be read: {why}"),
        ),
        Some(Ok(reg)) if reg.admin_enabled => e.finding(
            Code::AcrAdminEnabled,
            &reg.id,
            format!(
                "The admin account of the container registry {} is enabled.",
                reg.id
            ),
        ),
        Some(Ok(reg)) => {
            for p in &compute_principals {
                e.require(
                    p,
                    ACR_PULL,
                    &reg.id,
                    format!(
                        "{} pulls images from the registry (admin account off)",
                        p.owner
                    ),
                );
            }
            if reg.public_access_disabled() && ws.image_build_compute.is_none() {
                e.finding(
                    Code::ImageBuildComputeMissing,
                    &ws.id,
                    format!(
                        "The registry {} has its admin account off and public network access disabled, and the workspace names no image build compute.",
                        reg.id
                    ),
                );
            }
        }
    }
    if let (Some(name), Ok(_)) = (&ws.image_build_compute, &facts.computes)
        && !computes.iter().any(|c| c.name.eq_ignore_ascii_case(name))
    {
        e.finding(
            Code::ImageBuildComputeNotFound,
            &ws.id,
            format!("The workspace's image build compute {name} does not exist in the workspace."),
        );
    }

    match &facts.datastores {
        Err(why) => e.finding(
            Code::CannotReadResource,
            &format!("{}/datastores", ws.id),
            format!("The workspace's datastores could not be read: {why}"),
        ),
        Ok(datastores) => {
            for d in datastores {
                if !d.uses_identity() {
                    if d.supports_identity() && !d.is_system() {
                        e.finding(
                            Code::DatastoreUsesStoredCredentials,
                            &d.id,
                            format!(
                                "The {} datastore {} authenticates with stored credentials ({}).",
                                d.datastore_type, d.name, d.credentials_type
                            ),
                        );
                    }
                    continue;
                }
                // The system datastores follow systemDatastoresAuthMode, whatever their type.
                if !d.supports_identity() && !d.is_system() {
                    e.finding(
                        Code::DatastoreIdentityUnsupported,
                        &d.id,
                        format!(
                            "The {} datastore {} has no credentials, but identity-based access is not supported for {}.",
                            d.datastore_type, d.name, d.datastore_type
                        ),
                    );
                    continue;
                }
                let service = d.service_identity.as_deref().unwrap_or("None");
                let service_principal =
                    if service.eq_ignore_ascii_case("WorkspaceSystemAssignedIdentity") {
                        Some(ws.system_principal())
                    } else if service.eq_ignore_ascii_case("WorkspaceUserAssignedIdentity") {
                        Some(ws.primary_principal())
                    } else {
                        None
                    };
                if let Some(None) = service_principal {
                    e.finding(
                        Code::DatastoreServiceIdentityMissing,
                        &d.id,
                        format!(
                            "The datastore {} uses {service} for service data access, but the workspace has no such identity.",
                            d.name
                        ),
                    );
                }
                let Some(account) = d.storage_account_id(ws).filter(|_| d.governed_by_rbac())
                else {
                    continue;
                };
                let readers = compute_principals
                    .iter()
                    .copied()
                    .chain(service_principal.iter().flatten());
                for p in readers {
                    e.require(
                        p,
                        BLOB_DATA_READER,
                        &account,
                        format!("{} reads the identity-based datastore {}", p.owner, d.name),
                    );
                }
            }
        }
    }
    order(&mut e);
    e
}

/// What listing the role assignments at one scope gave.
pub type ScopeAssignments = Result<Vec<Assignment>, String>;

/// Settles `granted` and `present` on every requirement from the assignments listed per
/// scope (keys as given by [`Evaluation::scopes`]; `managed` is the description of the
/// assignments the configuration's own loop creates), adds `missing_role_assignment` and
/// `cannot_read_role_assignments` findings, and orders everything.
pub fn settle_assignments(
    e: &mut Evaluation,
    listed: &BTreeMap<String, ScopeAssignments>,
    managed: Option<&str>,
) {
    for r in &mut e.required {
        let found = listed.iter().find(|(s, _)| scope_eq(s, &r.scope));
        match found.map(|(_, v)| v) {
            Some(Ok(assignments)) => {
                (r.granted, r.present) = grant_state(r, assignments, managed);
                if !r.granted {
                    e.findings.push(Finding::new(
                        Code::MissingRoleAssignment,
                        &r.scope,
                        format!(
                            "{} ({}) lacks the role {} at {}: {}.",
                            r.principal_id,
                            r.principal_kind,
                            r.role_definition_name,
                            r.scope,
                            r.reason
                        ),
                    ));
                }
            }
            // Reported once per scope below; never counted as granted.
            Some(Err(_)) | None => (r.granted, r.present) = (false, false),
        }
    }
    for (scope, result) in listed {
        if let Err(why) = result {
            e.findings.push(Finding::new(
                Code::CannotReadRoleAssignments,
                scope,
                format!("The role assignments at {scope} could not be listed: {why}"),
            ));
        }
    }
    order(e);
}

/// Findings in table order then by resource; requirements by scope, role and principal.
fn order(e: &mut Evaluation) {
    e.required.sort_by_key(|r| {
        (
            r.scope.to_ascii_lowercase(),
            r.role_definition_name.clone(),
            r.principal_id.to_ascii_lowercase(),
        )
    });
    e.findings.sort_by_key(|f| {
        (
            rule_index(&f.code),
            f.resource_id.to_ascii_lowercase(),
            f.message.clone(),
        )
    });
}

fn rule_index(code: &str) -> usize {
    super::findings::RULES
        .iter()
        .position(|r| r.name == code)
        .unwrap_or(usize::MAX)
}
