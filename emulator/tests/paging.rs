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
    let h = Harness::start().await;
    let a = h.control(Method::POST, "/seed", Some(big_seed(n))).await;
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
