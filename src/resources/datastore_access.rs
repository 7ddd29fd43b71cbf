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
//! ARM calls (api-version [`ML_API_VERSION`](super::common::ML_API_VERSION)): create / update: `GET` + `PUT` (2 calls; the
//! `PUT` is synchronous, and the `Location` Azure puts on a `201` is the datastore's own URL, so
//! it is not polled); read: 1 `GET` (answers carry no `secrets` object, or one with only
//! `secretsType`); delete: no call.

use async_trait::async_trait;
use serde_json::{Value as Json, json};

use crate::framework::timeouts::Timeouts;
use crate::framework::validators::OneOf;
use crate::framework::{
    Attribute, Block, BlockNesting, Ctx, Diagnostic, Diagnostics, Field, Model, PlanRequest,
    PlanResponse,
};
use crate::value::Value;
use crate::value::path::AttributePath;

use super::common::{azure_error, jget, jstr, keep_casing};
use super::object::{ArmObject, DATASTORE};
use super::setting::{Setting, Write, WriteError};

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

/// One credential mode's secret: the sensitive attribute carrying it, its write-only twin,
/// and the key of ARM's `secrets` object.
pub struct Secret {
    pub mode: &'static str,
    pub attribute: &'static str,
    pub write_only: &'static str,
    pub arm_key: &'static str,
    /// The model's fields for `attribute` and `write_only`.
    fields: fn(&DatastoreAccessModel) -> (&Field<String>, &Field<String>),
    fields_mut: fn(&mut DatastoreAccessModel) -> (&mut Field<String>, &mut Field<String>),
}

impl Secret {
    fn value<'m>(&self, m: &'m DatastoreAccessModel) -> &'m Field<String> {
        (self.fields)(m).0
    }
    fn value_wo<'m>(&self, m: &'m DatastoreAccessModel) -> &'m Field<String> {
        (self.fields)(m).1
    }
    /// The secret to send: the write-only value of the configuration, else the sensitive one.
    fn to_send(
        &self,
        planned: &DatastoreAccessModel,
        config: &DatastoreAccessModel,
    ) -> Option<String> {
        self.value_wo(config)
            .known()
            .or(self.value(planned).known())
            .or(self.value(config).known())
            .cloned()
    }
}

/// A [`Secret`] row: the mode, the model fields of the secret and of its write-only twin (named
/// as their attributes), and the key in ARM's `secrets` object.
macro_rules! secret {
    ($mode:literal, $attr:ident, $wo:ident, $arm_key:literal) => {
        Secret {
            mode: $mode,
            attribute: stringify!($attr),
            write_only: stringify!($wo),
            arm_key: $arm_key,
            fields: |m| (&m.$attr, &m.$wo),
            fields_mut: |m| (&mut m.$attr, &mut m.$wo),
        }
    };
}

pub const SECRETS: &[Secret] = &[
    secret!("account_key", account_key, account_key_wo, "key"),
    secret!("sas", sas_token, sas_token_wo, "sasToken"),
    secret!(
        "service_principal",
        client_secret,
        client_secret_wo,
        "clientSecret"
    ),
    secret!("certificate", certificate, certificate_wo, "certificate"),
];

fn secret_of_mode(mode: &str) -> Option<&'static Secret> {
    SECRETS.iter().find(|s| s.mode == mode)
}

/// The `service_principal` block.
#[derive(Debug, Clone, PartialEq, Default, Model)]
pub struct ServicePrincipal {
    pub tenant_id: Field<String>,
    pub client_id: Field<String>,
    pub authority_url: Field<String>,
    pub resource_url: Field<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Model)]
pub struct DatastoreAccessModel {
    #[model(id)]
    pub id: Field<String>,
    #[model(target)]
    pub datastore_id: Field<String>,
    pub mode: Field<String>,
    /// The secrets of [`SECRETS`], each with its write-only twin.
    pub account_key: Field<String>,
    pub account_key_wo: Field<String>,
    pub sas_token: Field<String>,
    pub sas_token_wo: Field<String>,
    pub client_secret: Field<String>,
    pub client_secret_wo: Field<String>,
    pub certificate: Field<String>,
    pub certificate_wo: Field<String>,
    pub secret_wo_version: Field<i64>,
    pub thumbprint: Field<String>,
    pub service_principal: Option<ServicePrincipal>,
    pub service_data_access_identity: Field<String>,
    pub datastore_type: Field<String>,
    pub account_name: Field<String>,
    pub container_name: Field<String>,
    #[model(timeouts)]
    pub timeouts: Field<Timeouts>,
}

pub struct DatastoreAccess;

/// The `credentials` object for the planned mode.
pub fn credentials_body(planned: &DatastoreAccessModel, config: &DatastoreAccessModel) -> Json {
    let mode = planned
        .mode
        .known()
        .map(String::as_str)
        .unwrap_or("identity");
    let sp = planned.service_principal.clone().unwrap_or_default();
    let secret = |mode: &str| secret_of_mode(mode).and_then(|s| s.to_send(planned, config));
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
            json!({"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": secret("account_key")}})
        }
        "sas" => {
            json!({"credentialsType": "Sas", "secrets": {"secretsType": "Sas", "sasToken": secret("sas")}})
        }
        "service_principal" => sp_fields(
            "ServicePrincipal",
            "clientSecret",
            secret("service_principal"),
        ),
        "certificate" => {
            let mut c = sp_fields("Certificate", "certificate", secret("certificate"));
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

/// After an import of a credential-based datastore: Azure never returns the secret, so say
/// which attribute carries it.
fn secret_unknown_after_import(read: &DatastoreAccessModel) -> Option<Diagnostic> {
    let mode = read.mode.known()?;
    let Secret {
        attribute: plain,
        write_only: wo,
        ..
    } = *secret_of_mode(mode)?;
    Some(
        Diagnostic::warning(
            "Datastore secret unknown after import",
            format!(
                "The datastore uses mode \"{mode}\", whose secret Azure never returns: the secret is unknown after import. \
                 Set `{wo}` (Terraform 1.11 and later; it is sent when `secret_wo_version` changes) or `{plain}` \
                 (sent by the next apply) to the secret the datastore should use."
            ),
        )
        .at(AttributePath::root().attr(wo)),
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
impl Setting for DatastoreAccess {
    type Model = DatastoreAccessModel;
    const TYPE_NAME: &'static str = "amlauth_datastore_access";
    const OBJECT: &'static ArmObject = &DATASTORE;
    const WRITE_FAILED: &'static str = "Failed to update the datastore credentials";

    fn schema(block: Block) -> Block {
        let mut block = block
            .describe(
                "Sets how an existing Azure ML datastore authenticates to its storage: credential-based (account key, \
                 SAS token, service principal secret or certificate) or identity-based. The datastore itself is never \
                 created or deleted; destroying this resource leaves its credentials as they are.",
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
        for Secret {
            mode,
            attribute: plain,
            write_only: wo,
            ..
        } in SECRETS
        {
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
        block
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
            )
    }

    /// State from a datastore body. Secrets are never in responses: they stay as in `user`.
    fn state(body: &Json, user: &DatastoreAccessModel) -> DatastoreAccessModel {
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
        let sdai =
            jstr(&props, &["serviceDataAccessAuthIdentity"]).unwrap_or_else(|| "None".into());
        let container = ["containerName", "filesystem", "fileShareName", "storeName"]
            .iter()
            .find_map(|k| jstr(&props, &[k]));
        let account = ["accountName", "storeName"]
            .iter()
            .find_map(|k| jstr(&props, &[k]));
        let mut state = DatastoreAccessModel {
            mode: Field::Known(mode.clone()),
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
            ..user.clone()
        };
        for s in SECRETS {
            // Write-only values are never stored; a secret for another mode than both the one
            // Azure holds and the configured one no longer applies.
            if s.mode != mode && user.mode.known().map(String::as_str) != Some(s.mode) {
                *(s.fields_mut)(&mut state).0 = Field::Null;
            }
            *(s.fields_mut)(&mut state).1 = Field::Null;
        }
        state
    }

    /// Read-modify-write: the datastore API has no `PATCH`; the `PUT` is synchronous.
    async fn write(&self, w: &Write<'_, DatastoreAccessModel>) -> Result<Json, WriteError> {
        let (planned, config) = (w.planned, w.config);
        let current = w.current().await?;
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
            props.insert("credentials".into(), credentials_body(planned, config));
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
        tracing::info!(datastore = %w.id, mode = %mode, "replacing the datastore credentials with a full PUT");
        let body = w
            .client
            .put_sync(
                w.id,
                w.api_version,
                &[("skipValidation", "true")],
                &body,
                w.call,
            )
            .await?;
        if body.is_object() {
            return Ok(body);
        }
        match w.client.get_json(w.id, w.api_version, w.call).await {
            Ok(Some(b)) => Ok(b),
            Ok(None) => Err(Diagnostic::error(
                "Datastore disappeared",
                format!("\"{}\" was deleted during the update", w.raw),
            )
            .into()),
            Err(e) => Err(azure_error("Failed to read the datastore back", &e).into()),
        }
    }

    /// Import recovers the mode, service principal and identity setting; secrets cannot be
    /// read back, so a credential mode's secret shows as added on the next plan (unless the
    /// write-only twin is used): the read right after the import says so.
    fn after_read(ctx: &Ctx, _body: &Json, read: &DatastoreAccessModel) {
        if ctx.just_imported()
            && let Some(w) = secret_unknown_after_import(read)
        {
            ctx.warn(w);
        }
    }

    fn validate(&self, c: &DatastoreAccessModel, diags: &mut Diagnostics) {
        let Some(mode) = c.mode.known() else { return };
        for secret in SECRETS {
            let (m, plain, wo) = (secret.mode, secret.attribute, secret.write_only);
            let set_plain = !secret.value(c).is_null();
            let set_wo = !secret.value_wo(c).is_null();
            if m == mode {
                if set_plain && set_wo {
                    diags.attribute_error(
                        AttributePath::root().attr(wo),
                        "Conflicting secrets",
                        format!("set `{plain}` or `{wo}`, not both"),
                    );
                } else if !set_plain && !set_wo {
                    diags.attribute_error(
                        AttributePath::root().attr(plain),
                        "Missing secret",
                        format!("`mode = \"{mode}\"` needs `{plain}` (or, on Terraform 1.11+, the write-only `{wo}`)"),
                    );
                }
            } else if set_plain || set_wo {
                let attr = if set_plain { plain } else { wo };
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
        req: PlanRequest<'_, DatastoreAccessModel>,
        _planned: &mut DatastoreAccessModel,
        resp: &mut PlanResponse,
    ) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(mode: &str) -> DatastoreAccessModel {
        DatastoreAccessModel {
            datastore_id: Field::Known("/d".into()),
            mode: Field::Known(mode.into()),
            service_data_access_identity: Field::Known("None".into()),
            ..Default::default()
        }
    }

    #[test]
    fn credentials_per_mode() {
        let mut m = model("account_key");
        m.account_key = Field::Known("k".into());
        assert_eq!(
            credentials_body(&m, &m),
            json!({"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": "k"}})
        );
        let mut cfg = model("sas");
        cfg.sas_token_wo = Field::Known("sv=1&sig=x".into());
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
            Setting::validate(&DatastoreAccess, m, &mut d);
            d.iter()
                .filter_map(|x| x.attribute.as_ref().map(|p| p.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(attrs(&model("account_key")), vec!["account_key"]);
        let mut m = model("identity");
        m.account_key = Field::Known("k".into());
        assert_eq!(attrs(&m), vec!["account_key"]);
        let mut m = model("service_principal");
        m.client_secret_wo = Field::Known("s".into());
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
        let sp = DatastoreAccess::state(&body, &user)
            .service_principal
            .unwrap();
        assert_eq!(sp.authority_url, Field::Null, "unset stays unset");
        assert_eq!(
            sp.resource_url,
            Field::Known("HTTPS://storage.azure.com/".into()),
            "set keeps the user's spelling"
        );
        let imported = DatastoreAccess::state(&body, &model("identity"))
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
        user.account_key = Field::Known("k".into());
        let body = json!({"properties": {"datastoreType": "AzureBlob", "accountName": "acct", "containerName": "data",
            "credentials": {"credentialsType": "None"}, "serviceDataAccessAuthIdentity": "WorkspaceSystemAssignedIdentity"}});
        let s = DatastoreAccess::state(&body, &user);
        assert_eq!(s.mode, Field::Known("identity".into()));
        assert_eq!(
            s.account_key,
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
