//! Pieces every resource uses: the configured ARM client, Azure errors as diagnostics, id
//! validators, timeouts, and "keep what the user wrote when Azure only re-cased it".

use std::sync::Arc;
use std::time::Duration;

use crate::azure::{ArmClient, AzureError, CallContext, ResourceId, ResourceIdError};
use crate::framework::timeouts::{self, Operation, Timeouts};
use crate::framework::validators::EachString;
use crate::framework::{ApplyError, Ctx, Diagnostic, Diagnostics, Field};
use crate::value::path::AttributePath;

use super::configure::ProviderData;

/// API versions the resources call (the ones azurerm pins, served in every public cloud).
pub const ML_API_VERSION: &str = "2025-06-01";
pub const ACR_API_VERSION: &str = "2025-11-01";

/// Default per-operation time limits.
pub const DEFAULT_TIMEOUTS: &[(Operation, Duration)] = &[
    (Operation::Create, Duration::from_secs(30 * 60)),
    (Operation::Read, Duration::from_secs(5 * 60)),
    (Operation::Update, Duration::from_secs(30 * 60)),
    (Operation::Delete, Duration::from_secs(5 * 60)),
];

/// The configured ARM client, or `None` when the provider configuration was not yet known
/// (Terraform configures again with known values before it applies anything).
pub fn client(ctx: &Ctx) -> Result<Option<Arc<ArmClient>>, Diagnostics> {
    match &*ctx.provider_data::<ProviderData>()? {
        ProviderData::Ready(c) => Ok(Some(c.clone())),
        ProviderData::Unknown => Ok(None),
    }
}

/// Like [`client`], for operations that cannot proceed without one.
pub fn require_client(ctx: &Ctx) -> Result<Arc<ArmClient>, Diagnostics> {
    client(ctx)?.ok_or_else(|| {
        Diagnostic::error(
            "Provider configuration not known",
            "the provider block depends on values that are only known after apply; Terraform cannot reach Azure with it yet",
        )
        .into()
    })
}

/// A call context bounded by the resource's timeout for `op` and by Terraform's stop.
pub fn call_ctx(ctx: &Ctx, t: &Field<Timeouts>, op: Operation) -> CallContext {
    let default = DEFAULT_TIMEOUTS
        .iter()
        .find(|(o, _)| *o == op)
        .map(|(_, d)| *d)
        .unwrap_or(Duration::from_secs(1800));
    CallContext::with_timeout(timeouts::get(t, op, default), ctx.cancel.clone())
}

/// An Azure failure as a diagnostic: what we were doing, then ARM's code, message and ids.
pub fn azure_error(action: &str, e: &AzureError) -> Diagnostic {
    Diagnostic::error(action.to_string(), e.to_string())
}

/// A validator for attributes holding ARM ids of one kind.
pub fn id_validator(
    what: &'static str,
    parse: fn(&str) -> Result<ResourceId, ResourceIdError>,
) -> EachString<impl Fn(&str) -> Result<(), String> + Send + Sync> {
    EachString::new(format!("the ARM id of {what}"), move |s: &str| {
        parse(s).map(|_| ()).map_err(|e| e.to_string())
    })
}

/// Parses an id already validated at plan time; still reports a clear error if not.
pub fn parse_id(
    value: &str,
    attr: &str,
    parse: fn(&str) -> Result<ResourceId, ResourceIdError>,
) -> Result<ResourceId, Diagnostics> {
    parse(value).map_err(|e| {
        Diagnostic::error("Invalid resource id", e.to_string())
            .at(AttributePath::root().attr(attr))
            .into()
    })
}

/// ARM compares ids and names without regard to case and often re-cases them in responses:
/// keep the user's spelling when the remote value is the same ignoring case.
pub fn keep_casing(user: Option<&str>, remote: &str) -> String {
    match user {
        Some(u) if u.eq_ignore_ascii_case(remote) => u.to_string(),
        _ => remote.to_string(),
    }
}

/// Reads `key` from a JSON object, falling back to a case-insensitive match: responses do
/// not always use the casing the REST specs give.
pub fn jget<'v>(v: &'v serde_json::Value, key: &str) -> Option<&'v serde_json::Value> {
    let obj = v.as_object()?;
    obj.get(key)
        .or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

/// A string at `path` (each step looked up with [`jget`]).
pub fn jstr(v: &serde_json::Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for k in path {
        cur = jget(cur, k)?;
    }
    cur.as_str().map(str::to_string)
}

/// Tells the framework when Azure reports the object's last operation `Failed`: a failed
/// update can leave the new values in place, so only this says the setting must be applied
/// again (see [`crate::framework::lifecycle::FailedMark`]).
pub fn note_provisioning_state(ctx: &Ctx, body: &serde_json::Value, what: &str) {
    if let Some(state) = jstr(body, &["properties", "provisioningState"])
        && state.eq_ignore_ascii_case("Failed")
    {
        ctx.report_failed(format!(
            "Azure reports the {what}'s provisioningState as Failed: its last operation did not complete"
        ));
    }
}

/// A failed write as an [`ApplyError`] that still records what Azure now holds (one GET), so
/// the state matches Azure and the next plan shows only the remaining difference.
pub async fn failed_write<M>(
    ctx: &Ctx,
    client: &ArmClient,
    id: &ResourceId,
    api_version: &str,
    timeouts: &Field<Timeouts>,
    diags: Diagnostics,
    to_state: impl FnOnce(&serde_json::Value) -> M,
) -> ApplyError<M> {
    let after = call_ctx(ctx, timeouts, Operation::Read);
    let state = match client.get_json(id, api_version, &after).await {
        Ok(Some(body)) => Some(to_state(&body)),
        _ => None,
    };
    ApplyError { diags, state }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_user_casing_only_when_equal_ignoring_case() {
        assert_eq!(keep_casing(Some("Identity"), "identity"), "Identity");
        assert_eq!(keep_casing(Some("Identity"), "AccessKey"), "AccessKey");
        assert_eq!(keep_casing(None, "AccessKey"), "AccessKey");
    }
}
