//! `amlauth_datastore_access`: how an existing Azure ML datastore reaches its storage —
//! with stored credentials (account key, SAS token, service principal secret or certificate)
//! or identity-based (no credentials; the caller's identity, or the workspace identity chosen
//! by `service_data_access_identity`, is used).
//!
//! The datastore API has no PATCH and never returns secrets, so an update reads the datastore,
//! replaces its `credentials` and `serviceDataAccessAuthIdentity`, and PUTs the whole body
//! back (synchronously, with `skipValidation=true` as azurerm does). Secrets come from the
//! configuration: the sensitive attributes (stored in state, shown as sensitive), or on
//! Terraform ≥1.11 their write-only twins (never stored; bump `secret_wo_version` to send a
//! new value).
//!
//! ARM calls (api-version [`ML_API_VERSION`]): create / update: `GET` + `PUT` (2 calls; the
//! `PUT` is synchronous, and the `Location` Azure puts on a `201` is the datastore's own URL, so
//! it is not polled); read: 1 `GET` (answers carry no `secrets` object, or one with only
//! `secretsType`); delete: no call.

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use crate::azure::{ResourceId, ResourceIdError};
use crate::framework::timeouts::{self, Operation, Timeouts};
use crate::framework::validators::OneOf;
use crate::framework::{
    ApplyError, Attribute, Block, BlockNesting, Ctx, Diagnostic, Diagnostics, Field,
    IdentitySchema, Model, ObjectBuilder, ObjectReader, PlanRequest, PlanResponse, Resource,
    Schema,
};
use crate::value::Value;
use crate::value::path::AttributePath;

use super::common::{
    ALL_OPS, DEFAULT_TIMEOUTS, ML_API_VERSION, azure_error, call_ctx, client, failed_write,
    id_validator, jget, jstr, keep_casing, parse_id, require_client,
};
use super::workspace_identity::{id_identity_schema, identity_from_id};

pub const MODES: &[&str] = &[
    "identity",
    "account_key",
    "sas",
    "service_principal",
    "certificate",
];
pub const SERVICE_IDENTITIES: &[&str] = &[
    "None",
    "WorkspaceSystemAssignedIdentity",
    "WorkspaceUserAssignedIdentity",
];
/// Datastore types that support identity-based access.
pub const IDENTITY_TYPES: &[&str] = &["AzureBlob", "AzureDataLakeGen1", "AzureDataLakeGen2"];

/// Each credential mode's secret: (mode, sensitive attribute, write-only twin, ARM secrets key).
const SECRETS: &[(&str, &str, &str, &str)] = &[
    ("account_key", "account_key", "account_key_wo", "key"),
    ("sas", "sas_token", "sas_token_wo", "sasToken"),
    (
        "service_principal",
        "client_secret",
        "client_secret_wo",
        "clientSecret",
    ),
    (
        "certificate",
        "certificate",
        "certificate_wo",
        "certificate",
    ),
];

fn datastore_id(s: &str) -> Result<ResourceId, ResourceIdError> {
    ResourceId::ml_datastore(s)
}

/// The `service_principal` block.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServicePrincipal {
    pub tenant_id: Field<String>,
    pub client_id: Field<String>,
    pub authority_url: Field<String>,
    pub resource_url: Field<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatastoreAccessModel {
    pub id: Field<String>,
    pub datastore_id: Field<String>,
    pub mode: Field<String>,
    /// Sensitive secrets (index by [`SECRETS`] order) and their write-only twins.
    pub secrets: [Field<String>; 4],
    pub secrets_wo: [Field<String>; 4],
    pub secret_wo_version: Field<i64>,
    pub thumbprint: Field<String>,
    pub service_principal: Option<ServicePrincipal>,
    pub service_data_access_identity: Field<String>,
    pub datastore_type: Field<String>,
    pub account_name: Field<String>,
    pub container_name: Field<String>,
    pub timeouts: Field<Timeouts>,
}

impl Model for DatastoreAccessModel {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        let o = ObjectReader::new(v, AttributePath::root())?;
        let mut secrets: [Field<String>; 4] = Default::default();
        let mut secrets_wo: [Field<String>; 4] = Default::default();
        for (i, (_, plain, wo, _)) in SECRETS.iter().enumerate() {
            secrets[i] = o.field(plain)?;
            secrets_wo[i] = o.field(wo)?;
        }
        let service_principal = match o.object("service_principal")? {
            None => None,
            Some(sp) => Some(ServicePrincipal {
                tenant_id: sp.field("tenant_id")?,
                client_id: sp.field("client_id")?,
                authority_url: sp.field("authority_url")?,
                resource_url: sp.field("resource_url")?,
            }),
        };
        Ok(Self {
            id: o.field("id")?,
            datastore_id: o.field("datastore_id")?,
            mode: o.field("mode")?,
            secrets,
            secrets_wo,
            secret_wo_version: o.field("secret_wo_version")?,
            thumbprint: o.field("thumbprint")?,
            service_principal,
            service_data_access_identity: o.field("service_data_access_identity")?,
            datastore_type: o.field("datastore_type")?,
            account_name: o.field("account_name")?,
            container_name: o.field("container_name")?,
            timeouts: Timeouts::read(&o, ALL_OPS)?,
        })
    }

    fn to_value(&self) -> Value {
        let mut b = ObjectBuilder::new()
            .field("id", &self.id)
            .field("datastore_id", &self.datastore_id)
            .field("mode", &self.mode)
            .field("secret_wo_version", &self.secret_wo_version)
            .field("thumbprint", &self.thumbprint)
            .field(
                "service_data_access_identity",
                &self.service_data_access_identity,
            )
            .field("datastore_type", &self.datastore_type)
            .field("account_name", &self.account_name)
            .field("container_name", &self.container_name)
            .value("timeouts", Timeouts::to_value(&self.timeouts, ALL_OPS));
        for (i, (_, plain, wo, _)) in SECRETS.iter().enumerate() {
            b = b
                .field(plain, &self.secrets[i])
                .field(wo, &self.secrets_wo[i]);
        }
        let sp = match &self.service_principal {
            None => Value::Null,
            Some(sp) => ObjectBuilder::new()
                .field("tenant_id", &sp.tenant_id)
                .field("client_id", &sp.client_id)
                .field("authority_url", &sp.authority_url)
                .field("resource_url", &sp.resource_url)
                .build(),
        };
        b.value("service_principal", sp).build()
    }
}

pub struct DatastoreAccess;

pub fn schema() -> Schema {
    let mut block = Block::new()
        .describe(
            "Sets how an existing Azure ML datastore authenticates to its storage: credential-based (account key, \
             SAS token, service principal secret or certificate) or identity-based. The datastore itself is never \
             created or deleted; destroying this resource leaves its credentials as they are.",
        )
        .attribute(Attribute::string("id").computed().arm_id().use_state_for_unknown().describe("The datastore's ARM id."))
        .attribute(
            Attribute::string("datastore_id")
                .required()
                .arm_id()
                .requires_replace()
                .validate(id_validator("an Azure ML datastore", datastore_id))
                .describe("ARM id of the datastore (`…/workspaces/{ws}/datastores/{name}`). Changing it replaces the resource."),
        )
        .attribute(
            Attribute::string("mode")
                .required()
                .validate(OneOf::new(MODES))
                .describe(
                    "`identity` (no stored credentials; Blob and Data Lake Gen1/Gen2 only), `account_key`, `sas`, \
                     `service_principal` or `certificate`.",
                ),
        );
    for (mode, plain, wo, _) in SECRETS {
        block = block
            .attribute(
                Attribute::string(*plain)
                    .optional()
                    .sensitive()
                    .describe(format!("Secret for `mode = \"{mode}\"`. Stored in state (as sensitive); prefer `{wo}` on Terraform 1.11+.")),
            )
            .attribute(
                Attribute::string(*wo)
                    .optional()
                    // Sensitive as well: the schema then marks the attribute in the imported
                    // state as Terraform marks it in a plan from a sensitive variable, so an
                    // import plans no change (Terraform compares those marks).
                    .sensitive()
                    .write_only()
                    .describe(format!("Write-only twin of `{plain}` (Terraform 1.11+): never stored. Change `secret_wo_version` to send a new value.")),
            );
    }
    block = block
        .attribute(
            Attribute::number("secret_wo_version")
                .optional()
                .describe("Any number; changing it sends the write-only secret again."),
        )
        .attribute(Attribute::string("thumbprint").optional().describe("Certificate thumbprint, for `mode = \"certificate\"`."))
        .attribute(
            Attribute::string("service_data_access_identity")
                .optional()
                .computed()
                .default_value(Value::String("None".into()))
                .validate(OneOf::new(SERVICE_IDENTITIES))
                .describe(
                    "Which workspace identity the Azure ML service uses for data access (preview, profiling): `None` \
                     (default), `WorkspaceSystemAssignedIdentity` or `WorkspaceUserAssignedIdentity`.",
                ),
        )
        .attribute(Attribute::string("datastore_type").computed().use_state_for_unknown().describe("`AzureBlob`, `AzureDataLakeGen1`, `AzureDataLakeGen2`, `AzureFile` or `OneLake`."))
        .attribute(Attribute::string("account_name").computed().use_state_for_unknown().describe("Storage account (or Data Lake store) name."))
        .attribute(Attribute::string("container_name").computed().use_state_for_unknown().describe("Container, file system or file share name."))
        .block(
            "service_principal",
            BlockNesting::Single,
            Block::new()
                .describe("The service principal, for `mode = \"service_principal\"` and `\"certificate\"`.")
                .attribute(Attribute::string("tenant_id").required().describe("Tenant of the service principal."))
                .attribute(Attribute::string("client_id").required().describe("Client (application) id."))
                .attribute(Attribute::string("authority_url").optional().describe("Authority URL (default: the cloud's)."))
                .attribute(Attribute::string("resource_url").optional().describe("Resource the token is for (default: the storage service).")),
        );
    Schema::new(0, timeouts::add_block(block, DEFAULT_TIMEOUTS))
}

fn secret_of(m: &DatastoreAccessModel, config: &DatastoreAccessModel, i: usize) -> Option<String> {
    config.secrets_wo[i]
        .known()
        .or(m.secrets[i].known())
        .or(config.secrets[i].known())
        .cloned()
}

/// The `credentials` object for the planned mode.
pub fn credentials_body(planned: &DatastoreAccessModel, config: &DatastoreAccessModel) -> Json {
    let mode = planned
        .mode
        .known()
        .map(String::as_str)
        .unwrap_or("identity");
    let sp = planned.service_principal.clone().unwrap_or_default();
    let sp_fields = |kind: &str, secret_key: &str, secret: Option<String>| {
        let mut c = json!({
            "credentialsType": kind,
            "tenantId": sp.tenant_id.known(),
            "clientId": sp.client_id.known(),
            "secrets": { "secretsType": kind, secret_key: secret },
        });
        if let Some(a) = sp.authority_url.known() {
            c["authorityUrl"] = json!(a);
        }
        if let Some(r) = sp.resource_url.known() {
            c["resourceUrl"] = json!(r);
        }
        c
    };
    match mode {
        "account_key" => {
            json!({"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": secret_of(planned, config, 0)}})
        }
        "sas" => {
            json!({"credentialsType": "Sas", "secrets": {"secretsType": "Sas", "sasToken": secret_of(planned, config, 1)}})
        }
        "service_principal" => sp_fields(
            "ServicePrincipal",
            "clientSecret",
            secret_of(planned, config, 2),
        ),
        "certificate" => {
            let mut c = sp_fields("Certificate", "certificate", secret_of(planned, config, 3));
            c["thumbprint"] = json!(planned.thumbprint.known());
            c
        }
        _ => json!({"credentialsType": "None"}),
    }
}

/// Our mode name for an ARM `credentialsType`.
pub fn mode_of(credentials_type: &str) -> String {
    match credentials_type.to_ascii_lowercase().as_str() {
        "accountkey" => "account_key".into(),
        "sas" => "sas".into(),
        "serviceprincipal" => "service_principal".into(),
        "certificate" => "certificate".into(),
        "none" => "identity".into(),
        other => other.to_string(),
    }
}

/// An optional service principal URL in state. Left unset by the user, it stays unset even
/// when Azure answers with its default (otherwise every plan would propose removing that
/// default); set, or imported (no user block), it records Azure's value so drift shows.
fn optional_url(user: Option<&Field<String>>, remote: Option<String>) -> Field<String> {
    match (user, remote) {
        (Some(Field::Null), _) => Field::Null,
        (Some(u), Some(r)) => Field::Known(keep_casing(u.known().map(String::as_str), &r)),
        (_, r) => r.into(),
    }
}

/// State from a datastore body. Secrets are never in responses: they stay as in `user`.
pub fn state_from_arm(body: &Json, user: &DatastoreAccessModel) -> DatastoreAccessModel {
    let props = jget(body, "properties").cloned().unwrap_or(Json::Null);
    let creds = jget(&props, "credentials").cloned().unwrap_or(Json::Null);
    let mode = mode_of(&jstr(&creds, &["credentialsType"]).unwrap_or_else(|| "None".into()));
    let has_sp = mode == "service_principal" || mode == "certificate";
    let user_sp = user.service_principal.as_ref();
    let service_principal = has_sp.then(|| ServicePrincipal {
        tenant_id: jstr(&creds, &["tenantId"]).into(),
        client_id: jstr(&creds, &["clientId"]).into(),
        authority_url: optional_url(
            user_sp.map(|s| &s.authority_url),
            jstr(&creds, &["authorityUrl"]),
        ),
        resource_url: optional_url(
            user_sp.map(|s| &s.resource_url),
            jstr(&creds, &["resourceUrl"]),
        ),
    });
    let sdai = jstr(&props, &["serviceDataAccessAuthIdentity"]).unwrap_or_else(|| "None".into());
    let container = ["containerName", "filesystem", "fileShareName", "storeName"]
        .iter()
        .find_map(|k| jstr(&props, &[k]));
    let account = ["accountName", "storeName"]
        .iter()
        .find_map(|k| jstr(&props, &[k]));
    let mut secrets = user.secrets.clone();
    for (i, (m, ..)) in SECRETS.iter().enumerate() {
        if *m != mode {
            // A secret for another mode no longer applies to what Azure holds.
            secrets[i] = if user.mode.known().map(String::as_str) == Some(m) {
                user.secrets[i].clone()
            } else {
                Field::Null
            };
        }
    }
    DatastoreAccessModel {
        id: user.id.clone(),
        datastore_id: user.datastore_id.clone(),
        mode: Field::Known(mode.clone()),
        secrets,
        secrets_wo: Default::default(),
        secret_wo_version: user.secret_wo_version.clone(),
        thumbprint: if mode == "certificate" {
            jstr(&creds, &["thumbprint"]).into()
        } else {
            Field::Null
        },
        service_principal,
        service_data_access_identity: Field::Known(keep_casing(
            user.service_data_access_identity
                .known()
                .map(String::as_str),
            &sdai,
        )),
        datastore_type: jstr(&props, &["datastoreType"]).into(),
        account_name: account.into(),
        container_name: container.into(),
        timeouts: user.timeouts.clone(),
    }
}

impl DatastoreAccess {
    async fn apply(
        &self,
        ctx: &Ctx,
        planned: DatastoreAccessModel,
        config: DatastoreAccessModel,
        op: Operation,
    ) -> Result<DatastoreAccessModel, ApplyError<DatastoreAccessModel>> {
        let client = require_client(ctx)?;
        let raw = planned.datastore_id.known().cloned().unwrap_or_default();
        let id = parse_id(&raw, "datastore_id", datastore_id)?;
        let call = call_ctx(ctx, &planned.timeouts, op);
        let mut planned = planned;
        planned.id = Field::Known(raw.clone());
        let current = client
            .get_json(&id, ML_API_VERSION, &call)
            .await
            .map_err(|e| Diagnostics::from(azure_error("Failed to read the datastore", &e)))?
            .ok_or_else(|| {
                Diagnostics::from(
                    Diagnostic::error(
                        "Datastore not found",
                        format!("the Azure ML datastore \"{raw}\" does not exist; create it first"),
                    )
                    .at(AttributePath::root().attr("datastore_id")),
                )
            })?;
        let ds_type = jstr(&current, &["properties", "datastoreType"]).unwrap_or_default();
        let mode = planned.mode.known().cloned().unwrap_or_default();
        if mode == "identity"
            && !IDENTITY_TYPES
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&ds_type))
        {
            return Err(identity_unsupported(&ds_type).into());
        }
        let mut body = current.clone();
        if let Some(props) = body.get_mut("properties").and_then(Json::as_object_mut) {
            props.insert("credentials".into(), credentials_body(&planned, &config));
            props.insert(
                "serviceDataAccessAuthIdentity".into(),
                json!(
                    planned
                        .service_data_access_identity
                        .known()
                        .map(String::as_str)
                        .unwrap_or("None")
                ),
            );
        }
        tracing::info!(datastore = %id, mode = %mode, "replacing the datastore credentials with a full PUT");
        match client
            .put_sync(
                &id,
                ML_API_VERSION,
                &[("skipValidation", "true")],
                &body,
                &call,
            )
            .await
        {
            Ok(resp) if resp.is_object() => Ok(state_from_arm(&resp, &planned)),
            Ok(_) => match client.get_json(&id, ML_API_VERSION, &call).await {
                Ok(Some(b)) => Ok(state_from_arm(&b, &planned)),
                Ok(None) => Err(Diagnostic::error(
                    "Datastore disappeared",
                    format!("\"{raw}\" was deleted during the update"),
                )
                .into()),
                Err(e) => Err(azure_error("Failed to read the datastore back", &e).into()),
            },
            Err(e) => Err(failed_write(
                ctx,
                &client,
                &id,
                ML_API_VERSION,
                &planned.timeouts,
                azure_error("Failed to update the datastore credentials", &e).into(),
                |b| state_from_arm(b, &planned),
            )
            .await),
        }
    }
}

/// After an import of a credential-based datastore: Azure never returns the secret, so say
/// which attribute carries it.
fn secret_unknown_after_import(read: &DatastoreAccessModel) -> Option<Diagnostic> {
    let mode = read.mode.known()?;
    let (_, plain, wo, _) = SECRETS.iter().find(|(m, ..)| m == mode)?;
    Some(
        Diagnostic::warning(
            "Datastore secret unknown after import",
            format!(
                "The datastore uses mode \"{mode}\", whose secret Azure never returns: the secret is unknown after import. \
                 Set `{wo}` (Terraform 1.11 and later; it is sent when `secret_wo_version` changes) or `{plain}` \
                 (sent by the next apply) to the secret the datastore should use."
            ),
        )
        .at(AttributePath::root().attr(*wo)),
    )
}

fn identity_unsupported(ds_type: &str) -> Diagnostic {
    Diagnostic::error(
        "Identity-based access not supported for this datastore",
        format!(
            "the datastore is of type {ds_type}; identity-based access works only for Azure Blob and Azure Data Lake \
             Gen1/Gen2 datastores. Use a credential mode (for Azure Files: `account_key` or `sas`)."
        ),
    )
    .at(AttributePath::root().attr("mode"))
}

#[async_trait]
impl Resource for DatastoreAccess {
    type Model = DatastoreAccessModel;

    fn type_name(&self) -> &'static str {
        "amlauth_datastore_access"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(id_identity_schema("ARM id of the Azure ML datastore."))
    }

    fn identity(&self, state: &Self::Model) -> Option<Value> {
        identity_from_id(&state.id)
    }

    fn validate(&self, c: &Self::Model, diags: &mut Diagnostics) {
        let Some(mode) = c.mode.known() else { return };
        for (i, (m, plain, wo, _)) in SECRETS.iter().enumerate() {
            let set_plain = !c.secrets[i].is_null();
            let set_wo = !c.secrets_wo[i].is_null();
            if m == mode {
                if set_plain && set_wo {
                    diags.attribute_error(
                        AttributePath::root().attr(*wo),
                        "Conflicting secrets",
                        format!("set `{plain}` or `{wo}`, not both"),
                    );
                } else if !set_plain && !set_wo {
                    diags.attribute_error(
                        AttributePath::root().attr(*plain),
                        "Missing secret",
                        format!("`mode = \"{mode}\"` needs `{plain}` (or, on Terraform 1.11+, the write-only `{wo}`)"),
                    );
                }
            } else if set_plain || set_wo {
                let attr = if set_plain { *plain } else { *wo };
                diags.attribute_error(
                    AttributePath::root().attr(attr),
                    "Secret for another mode",
                    format!(
                        "`{attr}` is only used with `mode = \"{m}\"`, but the mode is \"{mode}\""
                    ),
                );
            }
        }
        let needs_sp = mode == "service_principal" || mode == "certificate";
        if needs_sp && c.service_principal.is_none() {
            diags.attribute_error(
                AttributePath::root().attr("service_principal"),
                "Missing service principal",
                format!("`mode = \"{mode}\"` needs a `service_principal` block with `tenant_id` and `client_id`"),
            );
        }
        if !needs_sp && c.service_principal.is_some() {
            diags.attribute_error(
                AttributePath::root().attr("service_principal"),
                "Service principal not used",
                format!("a `service_principal` block only applies to `service_principal` and `certificate` modes, not \"{mode}\""),
            );
        }
        if mode == "certificate" && c.thumbprint.is_null() {
            diags.attribute_error(
                AttributePath::root().attr("thumbprint"),
                "Missing thumbprint",
                "`mode = \"certificate\"` needs `thumbprint`",
            );
        }
        if mode != "certificate" && !c.thumbprint.is_null() {
            diags.attribute_error(
                AttributePath::root().attr("thumbprint"),
                "Thumbprint not used",
                "`thumbprint` only applies to `mode = \"certificate\"`",
            );
        }
    }

    async fn modify_plan(
        &self,
        req: PlanRequest<'_, Self::Model>,
        planned: &mut Self::Model,
        resp: &mut PlanResponse,
    ) {
        if let Field::Known(d) = &req.config.datastore_id {
            planned.id = Field::Known(d.clone());
        }
        let prior = req
            .prior
            .filter(|p| p.datastore_id == req.config.datastore_id);
        if let (Some(p), Some("identity")) = (prior, req.config.mode.known().map(String::as_str))
            && let Some(t) = p.datastore_type.known()
            && !IDENTITY_TYPES.iter().any(|x| x.eq_ignore_ascii_case(t))
        {
            resp.diags.push(identity_unsupported(t));
        }
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: Self::Model,
        config: Self::Model,
    ) -> Result<Self::Model, ApplyError<Self::Model>> {
        self.apply(ctx, planned, config, Operation::Create).await
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> Result<Option<Self::Model>, Diagnostics> {
        let Some(client) = client(ctx)? else {
            return Ok(Some(state));
        };
        let raw = state
            .datastore_id
            .known()
            .or(state.id.known())
            .cloned()
            .unwrap_or_default();
        let id = parse_id(&raw, "datastore_id", datastore_id)?;
        match client
            .get_json(
                &id,
                ML_API_VERSION,
                &call_ctx(ctx, &state.timeouts, Operation::Read),
            )
            .await
        {
            Ok(Some(b)) => {
                let read = state_from_arm(&b, &state);
                if ctx.just_imported()
                    && let Some(w) = secret_unknown_after_import(&read)
                {
                    ctx.warn(w);
                }
                Ok(Some(read))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(azure_error("Failed to read the datastore", &e).into()),
        }
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _prior: Self::Model,
        planned: Self::Model,
        config: Self::Model,
    ) -> Result<Self::Model, ApplyError<Self::Model>> {
        self.apply(ctx, planned, config, Operation::Update).await
    }

    async fn delete(&self, _ctx: &Ctx, _prior: Self::Model) -> Result<(), Diagnostics> {
        tracing::info!(
            "no longer managing the datastore credentials; Azure keeps them as they are"
        );
        Ok(())
    }

    /// Import recovers the mode, service principal and identity setting; secrets cannot be
    /// read back, so a credential mode's secret shows as added on the next plan (unless the
    /// write-only twin is used).
    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        datastore_id(id).map_err(|e| {
            Diagnostics::from(Diagnostic::error("Invalid import id", e.to_string()))
        })?;
        Ok(DatastoreAccessModel {
            id: Field::Known(id.into()),
            datastore_id: Field::Known(id.into()),
            mode: Field::Null,
            secrets: Default::default(),
            secrets_wo: Default::default(),
            secret_wo_version: Field::Null,
            thumbprint: Field::Null,
            service_principal: None,
            service_data_access_identity: Field::Null,
            datastore_type: Field::Null,
            account_name: Field::Null,
            container_name: Field::Null,
            timeouts: Field::Null,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(mode: &str) -> DatastoreAccessModel {
        DatastoreAccessModel {
            id: Field::Null,
            datastore_id: Field::Known("/d".into()),
            mode: Field::Known(mode.into()),
            secrets: Default::default(),
            secrets_wo: Default::default(),
            secret_wo_version: Field::Null,
            thumbprint: Field::Null,
            service_principal: None,
            service_data_access_identity: Field::Known("None".into()),
            datastore_type: Field::Null,
            account_name: Field::Null,
            container_name: Field::Null,
            timeouts: Field::Null,
        }
    }

    #[test]
    fn credentials_per_mode() {
        let mut m = model("account_key");
        m.secrets[0] = Field::Known("k".into());
        assert_eq!(
            credentials_body(&m, &m),
            json!({"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": "k"}})
        );
        let mut cfg = model("sas");
        cfg.secrets_wo[1] = Field::Known("sv=1&sig=x".into());
        assert_eq!(
            credentials_body(&model("sas"), &cfg)["secrets"]["sasToken"],
            "sv=1&sig=x",
            "write-only value comes from config"
        );
        assert_eq!(
            credentials_body(&model("identity"), &model("identity")),
            json!({"credentialsType": "None"})
        );
    }

    #[test]
    fn validation_requires_the_modes_secret() {
        let attrs = |m: &DatastoreAccessModel| {
            let mut d = Diagnostics::new();
            DatastoreAccess.validate(m, &mut d);
            d.iter()
                .filter_map(|x| x.attribute.as_ref().map(|p| p.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(attrs(&model("account_key")), vec!["account_key"]);
        let mut m = model("identity");
        m.secrets[0] = Field::Known("k".into());
        assert_eq!(attrs(&m), vec!["account_key"]);
        let mut m = model("service_principal");
        m.secrets_wo[2] = Field::Known("s".into());
        assert_eq!(attrs(&m), vec!["service_principal"]);
        assert!(attrs(&model("identity")).is_empty());
    }

    #[test]
    fn unset_service_principal_urls_ignore_azure_defaults() {
        let body = json!({"properties": {"datastoreType": "AzureBlob", "credentials": {
            "credentialsType": "ServicePrincipal", "tenantId": "t", "clientId": "c",
            "authorityUrl": "https://login.microsoftonline.com", "resourceUrl": "https://storage.azure.com/"}}});
        let mut user = model("service_principal");
        user.service_principal = Some(ServicePrincipal {
            tenant_id: Field::Known("t".into()),
            client_id: Field::Known("c".into()),
            authority_url: Field::Null,
            resource_url: Field::Known("HTTPS://storage.azure.com/".into()),
        });
        let sp = state_from_arm(&body, &user).service_principal.unwrap();
        assert_eq!(sp.authority_url, Field::Null, "unset stays unset");
        assert_eq!(
            sp.resource_url,
            Field::Known("HTTPS://storage.azure.com/".into()),
            "set keeps the user's spelling"
        );
        let imported = state_from_arm(&body, &model("identity"))
            .service_principal
            .unwrap();
        assert_eq!(
            imported.authority_url,
            Field::Known("https://login.microsoftonline.com".into()),
            "import records what Azure holds"
        );
    }

    #[test]
    fn read_maps_modes_and_never_invents_secrets() {
        let mut user = model("account_key");
        user.secrets[0] = Field::Known("k".into());
        let body = json!({"properties": {"datastoreType": "AzureBlob", "accountName": "acct", "containerName": "data",
            "credentials": {"credentialsType": "None"}, "serviceDataAccessAuthIdentity": "WorkspaceSystemAssignedIdentity"}});
        let s = state_from_arm(&body, &user);
        assert_eq!(s.mode, Field::Known("identity".into()));
        assert_eq!(
            s.secrets[0],
            Field::Known("k".into()),
            "the configured key stays so the plan shows a mode change only"
        );
        assert_eq!(s.container_name, Field::Known("data".into()));
        assert_eq!(
            s.service_data_access_identity,
            Field::Known("WorkspaceSystemAssignedIdentity".into())
        );
    }
}
