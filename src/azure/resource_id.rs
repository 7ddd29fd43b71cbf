//! ARM resource ids: one parser and formatter, case-insensitive comparison, and typed
//! constructors for the shapes this provider manages.
//!
//! An id has the form
//! `/subscriptions/{sub}[/resourceGroups/{rg}][/providers/{Namespace}/{type}/{name}[/{childType}/{childName}]...]`.
//! ARM treats every segment case-insensitively and often re-cases ids in responses, so
//! [`ResourceId::eq_ignore_case`] is the comparison to use; [`fmt::Display`] reproduces the
//! casing the id was parsed or built with.

use std::fmt;

use thiserror::Error;

/// Why a string is not a valid ARM resource id (or not the expected kind of one).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid resource id {id:?}: {reason}; expected {expected}, e.g. {example}")]
pub struct ResourceIdError {
    /// The id as given.
    pub id: String,
    /// What is wrong with it.
    pub reason: String,
    /// The shape that was expected.
    pub expected: &'static str,
    /// An example of a valid id of the expected shape.
    pub example: &'static str,
}

const GENERIC_SHAPE: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{Namespace}/{type}/{name}";
const GENERIC_EXAMPLE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerRegistry/registries/acr1";

/// One `{type}/{name}` pair below the provider namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedName {
    /// Resource type segment, e.g. `workspaces`.
    pub type_name: String,
    /// Resource name segment.
    pub name: String,
}

/// A parsed ARM resource id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId {
    subscription: String,
    resource_group: Option<String>,
    namespace: Option<String>,
    types: Vec<TypedName>,
}

impl ResourceId {
    /// Parses any ARM id (subscription, resource group, provider resource or child resource).
    pub fn parse(id: &str) -> Result<Self, ResourceIdError> {
        let err = |reason: String| ResourceIdError {
            id: id.to_string(),
            reason,
            expected: GENERIC_SHAPE,
            example: GENERIC_EXAMPLE,
        };
        let Some(rest) = id.strip_prefix('/') else {
            return Err(err("it must start with '/'".into()));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let segments: Vec<&str> = rest.split('/').collect();
        if let Some(pos) = segments.iter().position(|s| s.is_empty()) {
            return Err(err(format!("segment {} is empty", pos + 1)));
        }
        let mut it = segments.into_iter().peekable();
        match it.next() {
            Some(s) if s.eq_ignore_ascii_case("subscriptions") => {}
            _ => return Err(err("it must begin with /subscriptions/".into())),
        }
        let subscription = it
            .next()
            .ok_or_else(|| err("the subscription id is missing".into()))?
            .to_string();
        let mut out = ResourceId {
            subscription,
            resource_group: None,
            namespace: None,
            types: Vec::new(),
        };
        if let Some(s) = it.peek()
            && s.eq_ignore_ascii_case("resourceGroups")
        {
            it.next();
            let rg = it
                .next()
                .ok_or_else(|| err("the resource group name is missing".into()))?;
            out.resource_group = Some(rg.to_string());
        }
        match it.next() {
            None => return Ok(out),
            Some(s) if s.eq_ignore_ascii_case("providers") => {}
            Some(s) => {
                return Err(err(format!(
                    "unexpected segment {s:?}; expected 'resourceGroups' or 'providers'"
                )));
            }
        }
        let ns = it
            .next()
            .ok_or_else(|| err("the provider namespace is missing".into()))?;
        out.namespace = Some(ns.to_string());
        let rest: Vec<&str> = it.collect();
        if rest.is_empty() {
            return Err(err(format!(
                "no resource type follows provider namespace {ns:?}"
            )));
        }
        if !rest.len().is_multiple_of(2) {
            return Err(err(format!(
                "resource type {:?} has no name (types and names must come in pairs)",
                rest[rest.len() - 1]
            )));
        }
        out.types = rest
            .chunks(2)
            .map(|p| TypedName {
                type_name: p[0].to_string(),
                name: p[1].to_string(),
            })
            .collect();
        Ok(out)
    }

    /// Builds a provider resource id from its parts (no validation of names beyond non-emptiness).
    pub fn new(
        subscription: &str,
        resource_group: &str,
        namespace: &str,
        types: &[(&str, &str)],
    ) -> Self {
        ResourceId {
            subscription: subscription.to_string(),
            resource_group: Some(resource_group.to_string()),
            namespace: Some(namespace.to_string()),
            types: types
                .iter()
                .map(|(t, n)| TypedName {
                    type_name: (*t).to_string(),
                    name: (*n).to_string(),
                })
                .collect(),
        }
    }

    /// Subscription id.
    pub fn subscription(&self) -> &str {
        &self.subscription
    }

    /// Resource group name, when the id is scoped to one.
    pub fn resource_group(&self) -> Option<&str> {
        self.resource_group.as_deref()
    }

    /// Provider namespace, e.g. `Microsoft.MachineLearningServices`.
    pub fn provider_namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Type path joined with '/', e.g. `workspaces/computes`.
    pub fn type_path(&self) -> String {
        self.types
            .iter()
            .map(|t| t.type_name.as_str())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Full type including namespace, e.g. `Microsoft.MachineLearningServices/workspaces/computes`.
    pub fn full_type(&self) -> Option<String> {
        self.namespace
            .as_ref()
            .map(|ns| format!("{ns}/{}", self.type_path()))
    }

    /// The `{type}/{name}` pairs below the namespace, outermost first.
    pub fn types(&self) -> &[TypedName] {
        &self.types
    }

    /// Name of the resource (last name segment), or the resource group / subscription for
    /// scope ids.
    pub fn name(&self) -> &str {
        if let Some(t) = self.types.last() {
            &t.name
        } else if let Some(rg) = &self.resource_group {
            rg
        } else {
            &self.subscription
        }
    }

    /// The parent resource of a child resource, or `None` for a top-level resource or scope.
    pub fn parent(&self) -> Option<ResourceId> {
        if self.types.len() < 2 {
            return None;
        }
        let mut p = self.clone();
        p.types.pop();
        Some(p)
    }

    /// Case-insensitive comparison, as ARM compares ids.
    pub fn eq_ignore_case(&self, other: &ResourceId) -> bool {
        self.to_string().eq_ignore_ascii_case(&other.to_string())
    }

    /// Lower-cased canonical form, for map keys and diffing.
    pub fn normalized(&self) -> String {
        self.to_string().to_ascii_lowercase()
    }

    /// Checks that the id is `{namespace}/{types...}` (case-insensitive) and names are valid.
    fn expect_shape(
        self,
        original: &str,
        namespace: &str,
        types: &[&[&str]],
        expected: &'static str,
        example: &'static str,
    ) -> Result<Self, ResourceIdError> {
        let err = |reason: String| ResourceIdError {
            id: original.to_string(),
            reason,
            expected,
            example,
        };
        if self.resource_group.is_none() {
            return Err(err("it has no resource group".into()));
        }
        match &self.namespace {
            Some(ns) if ns.eq_ignore_ascii_case(namespace) => {}
            Some(ns) => {
                return Err(err(format!(
                    "provider namespace is {ns:?}, not {namespace:?}"
                )));
            }
            None => return Err(err("it has no provider namespace".into())),
        }
        if self.types.len() != types.len() {
            return Err(err(format!(
                "it names a resource of type {:?}",
                self.full_type().unwrap_or_default()
            )));
        }
        for (actual, allowed) in self.types.iter().zip(types) {
            if !allowed
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&actual.type_name))
            {
                return Err(err(format!(
                    "segment {:?} should be {:?}",
                    actual.type_name, allowed[0]
                )));
            }
        }
        Ok(self)
    }

    /// Parses `id` and checks it has the given namespace and type segments; errors quote
    /// `shape` and `example`.
    fn parse_as(
        id: &str,
        namespace: &str,
        types: &[&[&str]],
        (shape, example): (&'static str, &'static str),
    ) -> Result<Self, ResourceIdError> {
        Self::parse(id)
            .map_err(|e| retarget(e, shape, example))?
            .expect_shape(id, namespace, types, shape, example)
    }

    /// Parses and checks an ML workspace id.
    pub fn ml_workspace(id: &str) -> Result<Self, ResourceIdError> {
        Self::parse_as(id, ML_NS, &[&["workspaces"]], (WS_SHAPE, WS_EXAMPLE))
    }

    /// Parses and checks an ML compute id (child of a workspace).
    pub fn ml_compute(id: &str) -> Result<Self, ResourceIdError> {
        let types: &[&[&str]] = &[&["workspaces"], &["computes"]];
        Self::parse_as(id, ML_NS, types, (COMPUTE_SHAPE, COMPUTE_EXAMPLE))
    }

    /// Parses and checks an ML datastore id; both `datastores` and `dataStores` are accepted.
    pub fn ml_datastore(id: &str) -> Result<Self, ResourceIdError> {
        let types: &[&[&str]] = &[&["workspaces"], &["datastores"]];
        Self::parse_as(id, ML_NS, types, (DS_SHAPE, DS_EXAMPLE))
    }

    /// Parses and checks a container registry id.
    pub fn container_registry(id: &str) -> Result<Self, ResourceIdError> {
        let ns = "Microsoft.ContainerRegistry";
        Self::parse_as(id, ns, &[&["registries"]], (ACR_SHAPE, ACR_EXAMPLE))
    }

    /// Parses and checks a user-assigned managed identity id.
    pub fn user_assigned_identity(id: &str) -> Result<Self, ResourceIdError> {
        let (ns, types): (_, &[&[&str]]) =
            ("Microsoft.ManagedIdentity", &[&["userAssignedIdentities"]]);
        Self::parse_as(id, ns, types, (UAI_SHAPE, UAI_EXAMPLE))
    }

    /// Builds an ML workspace id.
    pub fn new_ml_workspace(subscription: &str, resource_group: &str, workspace: &str) -> Self {
        Self::new(
            subscription,
            resource_group,
            ML_NS,
            &[("workspaces", workspace)],
        )
    }

    /// Builds an ML compute id.
    pub fn new_ml_compute(sub: &str, rg: &str, workspace: &str, compute: &str) -> Self {
        Self::new(
            sub,
            rg,
            ML_NS,
            &[("workspaces", workspace), ("computes", compute)],
        )
    }

    /// Builds an ML datastore id (spelled `datastores`, as the REST spec does).
    pub fn new_ml_datastore(sub: &str, rg: &str, workspace: &str, datastore: &str) -> Self {
        Self::new(
            sub,
            rg,
            ML_NS,
            &[("workspaces", workspace), ("datastores", datastore)],
        )
    }

    /// Builds a container registry id.
    pub fn new_container_registry(sub: &str, rg: &str, registry: &str) -> Self {
        Self::new(
            sub,
            rg,
            "Microsoft.ContainerRegistry",
            &[("registries", registry)],
        )
    }

    /// Builds a user-assigned identity id.
    pub fn new_user_assigned_identity(sub: &str, rg: &str, name: &str) -> Self {
        Self::new(
            sub,
            rg,
            "Microsoft.ManagedIdentity",
            &[("userAssignedIdentities", name)],
        )
    }

    /// A child id below this one, e.g. `workspace.child("computes", "cpu")`.
    pub fn child(&self, type_name: &str, name: &str) -> Self {
        let mut c = self.clone();
        c.types.push(TypedName {
            type_name: type_name.to_string(),
            name: name.to_string(),
        });
        c
    }
}

const ML_NS: &str = "Microsoft.MachineLearningServices";
const WS_SHAPE: &str = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{workspace}";
const WS_EXAMPLE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1";
const COMPUTE_SHAPE: &str = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{workspace}/computes/{compute}";
const COMPUTE_EXAMPLE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/computes/cpu-cluster";
const DS_SHAPE: &str = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{workspace}/datastores/{datastore}";
const DS_EXAMPLE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/datastores/blobstore";
const ACR_SHAPE: &str = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/{registry}";
const ACR_EXAMPLE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerRegistry/registries/acr1";
const UAI_SHAPE: &str = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}";
const UAI_EXAMPLE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai1";

fn retarget(
    mut e: ResourceIdError,
    expected: &'static str,
    example: &'static str,
) -> ResourceIdError {
    e.expected = expected;
    e.example = example;
    e
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/subscriptions/{}", self.subscription)?;
        if let Some(rg) = &self.resource_group {
            write!(f, "/resourceGroups/{rg}")?;
        }
        if let Some(ns) = &self.namespace {
            write!(f, "/providers/{ns}")?;
            for t in &self.types {
                write!(f, "/{}/{}", t.type_name, t.name)?;
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for ResourceId {
    type Err = ResourceIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "00000000-0000-0000-0000-000000000001";

    #[test]
    fn parses_and_formats_child_resource() {
        let s = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/cpu"
        );
        let id = ResourceId::parse(&s).unwrap();
        assert_eq!(id.subscription(), SUB);
        assert_eq!(id.resource_group(), Some("rg"));
        assert_eq!(
            id.provider_namespace(),
            Some("Microsoft.MachineLearningServices")
        );
        assert_eq!(id.type_path(), "workspaces/computes");
        assert_eq!(id.name(), "cpu");
        assert_eq!(id.to_string(), s);
        let parent = id.parent().unwrap();
        assert_eq!(parent.name(), "ws");
        assert_eq!(parent.type_path(), "workspaces");
        assert!(parent.parent().is_none());
    }

    #[test]
    fn case_insensitive_comparison_but_casing_preserved() {
        let a = ResourceId::parse(&format!(
            "/subscriptions/{SUB}/resourcegroups/RG/providers/microsoft.managedidentity/userassignedidentities/UAI"
        ))
        .unwrap();
        let b = ResourceId::new_user_assigned_identity(SUB, "rg", "uai");
        assert!(a.eq_ignore_case(&b));
        assert_ne!(a, b);
        assert!(a.to_string().contains("/resourceGroups/RG/"));
        assert_eq!(a.normalized(), b.normalized());
        assert!(ResourceId::user_assigned_identity(&a.to_string()).is_ok());
    }

    #[test]
    fn scope_ids() {
        let sub = ResourceId::parse(&format!("/subscriptions/{SUB}")).unwrap();
        assert_eq!(sub.resource_group(), None);
        assert_eq!(sub.name(), SUB);
        let rg = ResourceId::parse(&format!("/subscriptions/{SUB}/resourceGroups/rg1/")).unwrap();
        assert_eq!(rg.name(), "rg1");
        assert_eq!(
            rg.to_string(),
            format!("/subscriptions/{SUB}/resourceGroups/rg1")
        );
    }

    #[test]
    fn malformed_ids_explain_themselves() {
        for (bad, needle) in [
            ("subscriptions/x", "start with '/'"),
            ("/subscription/x", "/subscriptions/"),
            ("/subscriptions/", "subscription id is missing"),
            (
                "/subscriptions/x/resourceGroups",
                "resource group name is missing",
            ),
            (
                "/subscriptions/x/resourceGroups/rg/providers",
                "namespace is missing",
            ),
            (
                "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Foo",
                "no resource type",
            ),
            (
                "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Foo/bars",
                "has no name",
            ),
            ("/subscriptions/x/resourceGroups/rg//providers", "empty"),
            ("/subscriptions/x/foo/bar", "unexpected segment"),
        ] {
            let e = ResourceId::parse(bad).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(needle), "{bad}: {msg}");
            assert!(msg.contains("e.g. /subscriptions/"), "{msg}");
        }
    }

    #[test]
    fn typed_validators() {
        let ws = ResourceId::new_ml_workspace(SUB, "rg", "ws");
        assert!(ResourceId::ml_workspace(&ws.to_string()).is_ok());
        let compute = ws.child("computes", "c1");
        assert!(ResourceId::ml_compute(&compute.to_string()).is_ok());
        let e = ResourceId::ml_workspace(&compute.to_string()).unwrap_err();
        assert!(e.to_string().contains("workspaces/{workspace}"), "{e}");
        let ds = ws.child("dataStores", "blob");
        assert!(ResourceId::ml_datastore(&ds.to_string()).is_ok());
        assert!(
            ResourceId::ml_datastore(
                &ResourceId::new_ml_datastore(SUB, "rg", "ws", "b").to_string()
            )
            .is_ok()
        );
        let e = ResourceId::ml_datastore(&compute.to_string()).unwrap_err();
        assert!(e.to_string().contains("should be \"datastores\""), "{e}");
        let acr = ResourceId::new_container_registry(SUB, "rg", "acr1");
        assert!(ResourceId::container_registry(&acr.to_string()).is_ok());
        let e = ResourceId::container_registry(&ws.to_string()).unwrap_err();
        assert!(e.to_string().contains("Microsoft.ContainerRegistry"), "{e}");
        let e = ResourceId::ml_workspace("garbage").unwrap_err();
        assert!(e.example.contains("workspaces/ws1"));
        let e =
            ResourceId::user_assigned_identity(&format!("/subscriptions/{SUB}/resourceGroups/rg"))
                .unwrap_err();
        assert!(e.to_string().contains("no provider namespace"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips(s in "(/[A-Za-z0-9._-]{0,6}){0,10}/?") {
            if let Ok(id) = ResourceId::parse(&s) {
                let again = ResourceId::parse(&id.to_string()).unwrap();
                proptest::prop_assert_eq!(&again, &id);
                proptest::prop_assert!(again.eq_ignore_case(&id));
            }
        }

        #[test]
        fn built_ids_parse_back(sub in "[a-z0-9-]{1,12}", rg in "[A-Za-z0-9_.-]{1,12}", ws in "[A-Za-z0-9_-]{1,12}", c in "[A-Za-z0-9_-]{1,12}") {
            let id = ResourceId::new_ml_compute(&sub, &rg, &ws, &c);
            let parsed = ResourceId::ml_compute(&id.to_string().to_uppercase()).unwrap();
            proptest::prop_assert!(parsed.eq_ignore_case(&id));
            proptest::prop_assert_eq!(parsed.parent().unwrap().normalized(), ResourceId::new_ml_workspace(&sub, &rg, &ws).normalized());
        }
    }
}
