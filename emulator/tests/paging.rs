//! Lists page like ARM: `nextLink` with a signed `$skiptoken`, followed as given.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// A workspace with `n` computes and `n` datastores, a second workspace in another group and
/// three registries.
fn big_seed(n: usize) -> Value {
    let computes: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("cpu-{i:02}")}))
        .collect();
    let datastores: Vec<Value> = (0..n)
        .map(
            |i| json!({"name": format!("ds_{i:02}"), "accountName": "stbig", "containerName": "c"}),
        )
        .collect();
    json!({"subscriptions": [{"id": SUB, "resourceGroups": [
        {"name": RG, "location": "eastus",
         "registries": [{"name": "acrone"}, {"name": "acrtwo"}, {"name": "acrthree"}],
         "workspaces": [{"name": "big", "computes": computes, "datastores": datastores}]},
        {"name": "rg-other", "workspaces": [{"name": "other"}]}
    ]}]})
}

async fn harness(n: usize, page_size: usize) -> Harness {
    seeded(big_seed(n), page_size).await
}

/// An emulator holding `seed`, answering `page_size` items per page.
async fn seeded(seed: Value, page_size: usize) -> Harness {
    let h = Harness::start().await;
    let a = h.control(Method::POST, "/seed", Some(seed)).await;
    assert!(a.status.is_success(), "{}", a.body);
    let mut s = h.emu.settings();
    s.quirks.list_page_size = page_size;
    h.emu.set_settings(s);
    h
}

/// Follows `nextLink` from `path`; returns the names and the number of pages.
async fn all_pages(h: &Harness, path: &str, api: &str) -> (Vec<String>, usize) {
    let mut a = h.get(path, api).await;
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        assert_eq!(a.status, 200, "{}", a.body);
        pages += 1;
        for v in a.body["value"].as_array().unwrap() {
            names.push(v["name"].as_str().unwrap().to_string());
        }
        let Some(next) = a.body["nextLink"].as_str() else {
            break;
        };
        assert!(next.starts_with(&h.url("/")), "absolute nextLink: {next}");
        assert!(next.contains("$skiptoken="), "{next}");
        a = h.raw(Method::GET, next, Some(&h.token), None).await;
    }
    (names, pages)
}

#[tokio::test]
async fn computes_and_datastores_page_through_next_link() {
    let h = harness(35, 10).await;
    let ws = ws_path("big");
    let (computes, pages) = all_pages(&h, &format!("{ws}/computes"), ML).await;
    let expected: Vec<String> = (0..35).map(|i| format!("cpu-{i:02}")).collect();
    assert_eq!(computes, expected);
    assert_eq!(pages, 4);
    let (datastores, pages) = all_pages(&h, &format!("{ws}/datastores"), ML).await;
    assert_eq!(datastores.len(), 35);
    assert_eq!(pages, 4);
    // Azure ML's `count` sets the datastore page size; the nextLink keeps it.
    let (datastores, pages) = all_pages(&h, &format!("{ws}/datastores?count=20"), ML).await;
    assert_eq!((datastores.len(), pages), (35, 2));
    let journal = h.emu.journal();
    let next_pages = journal.iter().filter(|e| e.next_page).count();
    assert_eq!(next_pages, 3 + 3 + 1, "{journal:#?}");
}

#[tokio::test]
async fn the_default_page_size_is_azure_mls_datastore_count() {
    let h = Harness::start().await;
    let a = h.control(Method::POST, "/seed", Some(big_seed(31))).await;
    assert!(a.status.is_success(), "{}", a.body);
    let (names, pages) = all_pages(&h, &format!("{}/computes", ws_path("big")), ML).await;
    assert_eq!((names.len(), pages), (31, 2));
}

#[tokio::test]
async fn workspaces_list_by_subscription_and_resource_group_and_registries_page() {
    let h = harness(0, 1).await;
    let (by_sub, pages) = all_pages(
        &h,
        &format!("/subscriptions/{SUB}/providers/Microsoft.MachineLearningServices/workspaces"),
        ML,
    )
    .await;
    assert_eq!((by_sub.len(), pages), (2, 2), "{by_sub:?}");
    let (by_rg, _) = all_pages(
        &h,
        &format!(
            "{}/providers/Microsoft.MachineLearningServices/workspaces",
            rg_path()
        ),
        ML,
    )
    .await;
    assert_eq!(by_rg, ["big"]);
    let (registries, pages) = all_pages(
        &h,
        &format!(
            "{}/providers/Microsoft.ContainerRegistry/registries",
            rg_path()
        ),
        ACR,
    )
    .await;
    assert_eq!((registries.len(), pages), (3, 3));
    let a = h
        .get(
            &format!("/subscriptions/{SUB}/providers/Microsoft.ContainerRegistry/webhooks"),
            ACR,
        )
        .await;
    assert_eq!(a.code(), "InvalidResourceType", "{}", a.body);
}

#[tokio::test]
async fn an_altered_or_rebuilt_skip_token_is_refused() {
    let h = harness(5, 2).await;
    let a = h.get(&format!("{}/computes", ws_path("big")), ML).await;
    let next = a.body["nextLink"].as_str().unwrap().to_string();
    let tampered = next.replace("sig=", "sig=0");
    let b = h.raw(Method::GET, &tampered, Some(&h.token), None).await;
    assert_eq!(b.status, 400, "{}", b.body);
    assert_eq!(b.code(), "InvalidSkipToken");
    // The same token on another collection is refused too.
    let elsewhere = next.replace("/computes?", "/datastores?");
    let c = h.raw(Method::GET, &elsewhere, Some(&h.token), None).await;
    assert_eq!(c.code(), "InvalidSkipToken", "{}", c.body);
    // The nextLink needs the bearer token like any ARM call.
    let d = h.raw(Method::GET, &next, None, None).await;
    assert_eq!(d.status, 401);
}

const P: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const Q: &str = "bbbbbbbb-0000-4000-8000-000000000002";
const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
const ACR_PUSH: &str = "8311e382-0749-4cb8-b61a-304f252e45ec";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";

/// `big_seed` plus role assignments: P holds a role on `acrone`, on its resource group and on
/// the subscription (three that apply at `acrone`); Q holds one on `acrone`; P one on `acrtwo`.
fn role_seed() -> Value {
    let mut seed = big_seed(0);
    let ra = |name: &str, scope: String, role: &str, principal: &str| json!({"name": name, "scope": scope, "roleDefinitionId": role, "principalId": principal});
    seed["subscriptions"][0]["roleAssignments"] = json!([
        ra(
            "a1000000-0000-4000-8000-000000000000",
            acr_path("acrone"),
            ACR_PULL,
            P
        ),
        ra("a2000000-0000-4000-8000-000000000000", rg_path(), READER, P),
        ra(
            "a3000000-0000-4000-8000-000000000000",
            format!("/subscriptions/{SUB}"),
            CONTRIBUTOR,
            P
        ),
        ra(
            "b1000000-0000-4000-8000-000000000000",
            acr_path("acrone"),
            ACR_PUSH,
            Q
        ),
        ra(
            "c1000000-0000-4000-8000-000000000000",
            acr_path("acrtwo"),
            ACR_PULL,
            P
        ),
    ]);
    seed
}

async fn role_harness(page_size: usize) -> Harness {
    seeded(role_seed(), page_size).await
}

fn assignments(scope: &str, filter: Option<&str>) -> String {
    let path = format!("{scope}/providers/Microsoft.Authorization/roleAssignments");
    match filter {
        Some(f) => {
            let f: String = url::form_urlencoded::byte_serialize(f.as_bytes()).collect();
            format!("{path}?$filter={f}")
        }
        None => path,
    }
}

/// The first letter of each assignment's name (`a`, `b`, `c`) and digit: which seeded one it is.
fn short(names: &[String]) -> Vec<String> {
    let mut s: Vec<String> = names.iter().map(|n| n[..2].to_string()).collect();
    s.sort();
    s
}

#[tokio::test]
async fn role_assignments_page_after_the_filter_at_every_scope() {
    let h = role_harness(1).await;
    let acr = acr_path("acrone");
    let sub = format!("/subscriptions/{SUB}");
    let at_scope_p = format!("atScope() and principalId eq '{P}'");
    // (scope, filter, the assignments expected): one per page, each exactly once.
    let cases: [(&str, Option<&str>, &[&str]); 6] = [
        (&acr, Some(&at_scope_p), &["a1", "a2", "a3"]),
        (&acr, Some("atScope()"), &["a1", "a2", "a3", "b1"]),
        (&rg_path(), Some("atScope()"), &["a2", "a3"]),
        (&sub, None, &["a1", "a2", "a3", "b1", "c1"]),
        (&sub, Some(&format!("principalId eq '{Q}'")), &["b1"]),
        (
            &acr_path("acrtwo"),
            Some(&format!("principalId eq '{P}'")),
            &["a2", "a3", "c1"],
        ),
    ];
    for &(scope, filter, want) in &cases {
        let (names, pages) = all_pages(&h, &assignments(scope, filter), AUTHZ).await;
        assert_eq!(short(&names), want, "{scope} {filter:?}: {names:?}");
        // Filtered before paging: no empty or short pages, no item dropped with its page.
        assert_eq!(pages, want.len(), "{scope} {filter:?}");
    }
    let journal = h.emu.journal();
    let next_pages = journal.iter().filter(|e| e.next_page).count();
    let followed: usize = cases.iter().map(|(_, _, want)| want.len() - 1).sum();
    assert_eq!(next_pages, followed, "{journal:#?}");

    // Page size 0: the same lists in one page.
    let mut s = h.emu.settings();
    s.quirks.list_page_size = 0;
    h.emu.set_settings(s);
    let (names, pages) = all_pages(&h, &assignments(&acr, Some(&at_scope_p)), AUTHZ).await;
    assert_eq!(
        (short(&names), pages),
        (vec!["a1".into(), "a2".into(), "a3".into()], 1)
    );
}

#[tokio::test]
async fn a_tampered_role_assignment_skip_token_is_refused() {
    let h = role_harness(1).await;
    let acr = acr_path("acrone");
    let a = h.get(&assignments(&acr, Some("atScope()")), AUTHZ).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let next = a.body["nextLink"].as_str().expect("nextLink").to_string();
    assert!(
        next.contains("filter=atScope"),
        "the filter is kept: {next}"
    );
    let tampered = next.replace("sig=", "sig=0");
    let b = h.raw(Method::GET, &tampered, Some(&h.token), None).await;
    assert_eq!(b.status, 400, "{}", b.body);
    assert_eq!(b.code(), "InvalidSkipToken");
    // The token of one scope's list is refused on another scope's.
    let elsewhere = next.replace("/registries/acrone/", "/registries/acrtwo/");
    assert_ne!(elsewhere, next);
    let c = h.raw(Method::GET, &elsewhere, Some(&h.token), None).await;
    assert_eq!(
        (c.status.as_u16(), c.code()),
        (400, "InvalidSkipToken"),
        "{}",
        c.body
    );
    // A role definition list's token is checked the same way.
    let defs = format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions");
    let d = h.get(&defs, AUTHZ).await;
    let next = d.body["nextLink"].as_str().expect("nextLink").to_string();
    let e = h
        .raw(
            Method::GET,
            &next.replace("sig=", "sig=f"),
            Some(&h.token),
            None,
        )
        .await;
    assert_eq!(
        (e.status.as_u16(), e.code()),
        (400, "InvalidSkipToken"),
        "{}",
        e.body
    );
}

#[tokio::test]
async fn role_definitions_page_at_every_scope() {
    let h = role_harness(5).await;
    for scope in [
        String::new(),
        format!("/subscriptions/{SUB}"),
        acr_path("acrone"),
    ] {
        let path = format!("{scope}/providers/Microsoft.Authorization/roleDefinitions");
        let (names, pages) = all_pages(&h, &path, AUTHZ).await;
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "each once: {names:?}");
        assert!(names.len() > 10, "{names:?}");
        assert_eq!(pages, names.len().div_ceil(5), "{path}");
        assert!(names.iter().any(|n| n == ACR_PULL));
        // The name filter applies before paging: one page, the one role.
        let (names, pages) = all_pages(
            &h,
            &format!("{path}?$filter=roleName%20eq%20'AcrPull'"),
            AUTHZ,
        )
        .await;
        assert_eq!((names, pages), (vec![ACR_PULL.to_string()], 1), "{path}");
    }
}
