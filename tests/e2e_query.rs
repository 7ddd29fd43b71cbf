//! End-to-end: list resources under `terraform query` (Terraform 1.15) against the emulator,
//! with a workspace of 35 computes and 35 datastores (more than one ARM page each), config
//! generation whose output imports with a no-change plan, validation errors at their
//! attribute, and Terraform 1.0.3 still working with the provider that announces lists.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::emu::{self, Emu};
use common::{Install, Tf, TfWorkspace, flat, setup_with};
use serde_json::{Value, json};

/// How many computes and datastores the big workspace holds (the emulator pages by 30).
const MANY: usize = 35;

fn compute_name(i: usize) -> String {
    format!("cluster-{i:02}")
}

fn datastore_name(i: usize) -> String {
    format!("store_{i:02}")
}

/// The standard fixture plus workspace `ws-big` with [`MANY`] computes (every other one with
/// a system-assigned identity) and [`MANY`] datastores (identity-based and account-key).
fn big_seed() -> Value {
    let mut seed = emu::standard_seed();
    let computes: Vec<Value> = (0..MANY)
        .map(|i| {
            let mut c = json!({"name": compute_name(i), "maxNodes": 2});
            if i % 2 == 0 {
                c["identity"] = json!("SystemAssigned");
            }
            c
        })
        .collect();
    let datastores: Vec<Value> = (0..MANY)
        .map(|i| {
            let mut d = json!({"name": datastore_name(i), "type": "AzureBlob",
                "accountName": "stbig", "containerName": format!("c{i}")});
            if i % 3 == 0 {
                d["credentials"] = json!({"accountKey": "seeded-account-key"});
                d["serviceDataAccessAuthIdentity"] = json!("WorkspaceSystemAssignedIdentity");
            }
            d
        })
        .collect();
    let workspaces = seed["subscriptions"][0]["resourceGroups"][0]["workspaces"]
        .as_array_mut()
        .expect("workspaces");
    workspaces.push(json!({
        "name": "ws-big",
        "identity": "SystemAssigned",
        "systemDatastoresAuthMode": "Identity",
        "computes": computes,
        "datastores": datastores,
    }));
    seed
}

fn setup(tf: Tf) -> (TfWorkspace, Emu) {
    let (ws, emu) = setup_with(tf, big_seed());
    ws.write_resources("");
    (ws, emu)
}

fn write_query(ws: &TfWorkspace, hcl: &str) {
    std::fs::write(ws.work_dir().join("discover.tfquery.hcl"), hcl).expect("write query");
}

fn list_block(type_: &str, name: &str, config: &str) -> String {
    list_block_limit(type_, name, config, 1000)
}

fn list_block_limit(type_: &str, name: &str, config: &str, limit: usize) -> String {
    format!(
        "list \"{type_}\" \"{name}\" {{\n  provider = amlauth\n  limit    = {limit}\n  config {{\n{config}  }}\n}}\n"
    )
}

fn workspace_lists(workspace: &str) -> String {
    let cfg = format!("    workspace_id = \"{}\"\n", emu::workspace(workspace));
    format!(
        "{}\n{}",
        list_block("amlauth_compute_identity", "computes", &cfg),
        list_block("amlauth_datastore_access", "datastores", &cfg)
    )
}

/// `terraform query -json` result lines: (list address, identity id, display name).
fn query_results(out: &str) -> Vec<(String, String, String)> {
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "list_resource_found")
        .map(|v| {
            let r = &v["list_resource_found"];
            (
                r["address"].as_str().unwrap_or_default().to_string(),
                r["identity"]["id"].as_str().unwrap_or_default().to_string(),
                r["display_name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

scenario!(
    query_lists_every_compute_and_datastore_across_pages,
    only(V1_15),
    |tf| {
        let (ws, emu) = setup(tf);
        write_query(&ws, &workspace_lists("ws-big"));
        ws.init();
        emu.clear_journal();
        let out = ws.ok(&["query", "-json", "-no-color"]);
        let results = query_results(&out.stdout);

        let ids = |addr: &str| -> BTreeSet<String> {
            results
                .iter()
                .filter(|(a, _, _)| a.starts_with(addr))
                .map(|(_, id, _)| lower(id))
                .collect()
        };
        let expected_computes: BTreeSet<String> = (0..MANY)
            .map(|i| lower(&emu::compute("ws-big", &compute_name(i))))
            .collect();
        let expected_datastores: BTreeSet<String> = (0..MANY)
            .map(|i| lower(&emu::datastore("ws-big", &datastore_name(i))))
            .collect();
        assert_eq!(
            ids("list.amlauth_compute_identity.computes"),
            expected_computes,
            "{out}"
        );
        assert_eq!(
            ids("list.amlauth_datastore_access.datastores"),
            expected_datastores,
            "{out}"
        );
        assert_eq!(results.len(), 2 * MANY, "each object once: {out}");
        assert!(
            results.iter().any(|(_, _, name)| name == &compute_name(7)),
            "display names are the object names: {results:?}"
        );

        // Both lists needed a second page, fetched through the nextLink ARM returned.
        let journal = emu.journal();
        let next_pages: Vec<&str> = journal
            .iter()
            .filter(|e| e.next_page)
            .map(|e| e.path.as_str())
            .collect();
        assert!(
            next_pages.iter().any(|p| p.ends_with("/computes"))
                && next_pages.iter().any(|p| p.ends_with("/datastores")),
            "nextLink requests: {journal:#?}"
        );
        // Nothing but the two collections was read: no GET per object.
        let reads: BTreeSet<String> = emu.arm_calls().into_iter().collect();
        assert_eq!(
            reads,
            BTreeSet::from([
                format!("GET {}/computes", emu::workspace("ws-big")),
                format!("GET {}/datastores", emu::workspace("ws-big")),
            ]),
            "{journal:#?}"
        );
    }
);

/// Every list of the provider over the fixture: the big workspace's computes and datastores,
/// the resource group's workspaces and registries.
fn every_list() -> String {
    let rg = format!("    resource_group_id = \"{}\"\n", emu::rg());
    format!(
        "{}\n{}\n{}",
        workspace_lists("ws-big"),
        list_block("amlauth_workspace_identity", "workspaces", &rg),
        list_block("amlauth_acr_admin", "registries", &rg)
    )
}

scenario!(
    generated_configuration_imports_with_a_no_change_plan,
    only(V1_15),
    |tf| {
        let (ws, emu) = setup(tf);
        write_query(&ws, &every_list());
        ws.init();
        let out = ws.ok(&["query", "-generate-config-out=generated.tf", "-no-color"]);
        let generated =
            std::fs::read_to_string(ws.work_dir().join("generated.tf")).expect("generated.tf");
        // 35 computes + 35 datastores + 3 workspaces + 2 registries.
        let objects = 2 * MANY + 3 + 2;
        assert_eq!(
            generated.matches("import {").count(),
            objects,
            "{out}\n{generated}"
        );
        assert_eq!(
            generated.matches("resource \"amlauth_").count(),
            objects,
            "{generated}"
        );
        // The generated blocks carry the state the list read: every other cluster has a
        // system-assigned identity, the others none; the three workspaces are SystemAssigned.
        let lines_equal = |text: &str| generated.lines().filter(|l| flat(l) == text).count();
        let system_computes = (0..MANY).filter(|i| i % 2 == 0).count();
        assert_eq!(
            lines_equal("type = \"SystemAssigned\""),
            system_computes + 3,
            "{generated}"
        );
        assert_eq!(
            lines_equal("type = \"None\""),
            MANY - system_computes,
            "{generated}"
        );
        assert_eq!(
            lines_equal("enabled = true"),
            2,
            "both registries' admin accounts: {generated}"
        );

        // Azure never returns a datastore's stored secret, so Terraform writes
        // `account_key_wo = null # sensitive` for the account-key datastores, and the plan says
        // which line needs it; the write-only value then imports with no change.
        let missing = ws.run(&["plan", "-input=false", "-no-color"]);
        let key_datastores = (0..MANY).filter(|i| i % 3 == 0).count();
        assert_eq!(
            flat(&missing.stderr)
                .matches("Error: Missing secret")
                .count(),
            key_datastores,
            "{missing}"
        );
        std::fs::write(
            ws.work_dir().join("generated.tf"),
            fill_account_keys(&generated, "seeded-account-key"),
        )
        .expect("write generated.tf");

        emu.clear_journal();
        let (_, plan) = ws.plan_code();
        assert!(
            flat(&plan.stdout).contains(&format!(
                "Plan: {objects} to import, 0 to add, 0 to change, 0 to destroy."
            )),
            "every object imports without a change:\n{plan}"
        );
        ws.apply();
        ws.assert_no_changes();
        let writes: Vec<String> = emu
            .arm_calls()
            .into_iter()
            .filter(|c| !c.starts_with("GET "))
            .collect();
        assert!(
            writes.is_empty(),
            "importing writes nothing to Azure: {writes:?}"
        );
    }
);

/// `generated` with the write-only account key set in each account-key datastore's block.
fn fill_account_keys(generated: &str, key: &str) -> String {
    let mut out = String::new();
    let mut block: Vec<String> = Vec::new();
    for line in generated.lines() {
        block.push(line.to_string());
        if line == "}" {
            let is_key = block.iter().any(|l| flat(l) == "mode = \"account_key\"");
            for l in block.drain(..) {
                if is_key && flat(&l) == "account_key_wo = null # sensitive" {
                    out.push_str(&format!("  account_key_wo = \"{key}\"\n"));
                } else {
                    out.push_str(&l);
                    out.push('\n');
                }
            }
        }
    }
    for l in block {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// The source line a diagnostic with `summary` points at, as Terraform prints it
/// (`  12:     workspace_id = "..."`), or `None` when it points at no line.
fn pointed_line(stderr: &str, summary: &str) -> Option<String> {
    let start = stderr.find(&format!("Error: {summary}"))?;
    stderr[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("Error:"))
        .find(|l| {
            let t = l.trim_start();
            t.split_once(':')
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .map(|l| l.trim().to_string())
}

scenario!(
    list_configuration_errors_point_at_their_attribute,
    only(V1_15),
    |tf| {
        let (ws, emu) = setup(tf);
        ws.init();

        // Both scopes of the workspace list: Terraform's validate -query and query say so at
        // the second one.
        let both = format!(
            "    subscription_id   = \"{}\"\n    resource_group_id = \"{}\"\n",
            emu::SUB,
            emu::rg()
        );
        write_query(&ws, &list_block("amlauth_workspace_identity", "ws", &both));
        let out = ws.run(&["query", "-no-color"]);
        assert_ne!(out.code, 0, "{out}");
        let line = pointed_line(&out.stderr, "Conflicting arguments").unwrap_or_default();
        assert!(line.contains("resource_group_id ="), "{out}");
        // `validate -query` runs the same check without listing anything.
        emu.clear_journal();
        let out = ws.run(&["validate", "-query", "-no-color"]);
        assert_ne!(out.code, 0, "{out}");
        let line = pointed_line(&out.stderr, "Conflicting arguments").unwrap_or_default();
        assert!(line.contains("resource_group_id ="), "{out}");
        assert!(emu.arm_calls().is_empty(), "validation calls no ARM API");

        // An id of the wrong kind fails validation at the attribute.
        let wrong = format!("    workspace_id = \"{}\"\n", emu::registry("acre2eone"));
        write_query(&ws, &list_block("amlauth_compute_identity", "c", &wrong));
        let out = ws.run(&["query", "-no-color"]);
        assert_ne!(out.code, 0, "{out}");
        assert!(
            flat(&out.stderr).contains("not \"Microsoft.MachineLearningServices\""),
            "{out}"
        );
        let line = pointed_line(&out.stderr, "Invalid").unwrap_or_default();
        assert!(line.contains("workspace_id ="), "{out}");

        // A workspace that does not exist: ARM's 404 on the collection, at the attribute.
        emu.clear_journal();
        let gone = format!("    workspace_id = \"{}\"\n", emu::workspace("ws-gone"));
        write_query(&ws, &list_block("amlauth_datastore_access", "d", &gone));
        let out = ws.run(&["query", "-no-color"]);
        assert_ne!(out.code, 0, "{out}");
        let line = pointed_line(&out.stderr, "Not found").unwrap_or_default();
        assert!(line.contains("workspace_id ="), "{out}");
        assert!(flat(&out.stderr).contains("ws-gone"), "{out}");
    }
);

fn acr_admin_config() -> String {
    format!(
        "resource \"amlauth_acr_admin\" \"this\" {{\n  registry_id = \"{}\"\n  enabled     = false\n}}\n",
        emu::registry("acre2eone")
    )
}

// Terraform 1.0.3 knows nothing of list resources: the schema field announcing them is
// skipped and the provider works as before (a `.tfquery.hcl` file is not even read).
scenario!(
    terraform_1_0_3_still_works_with_the_provider,
    only(V1_0_3),
    |tf| {
        let (ws, emu) = setup(tf);
        write_query(&ws, &every_list());
        ws.write_resources(&acr_admin_config());
        ws.init();
        ws.apply();
        ws.assert_no_changes();
        let stored = emu.resource(&emu::registry("acre2eone")).expect("registry");
        assert_eq!(stored["properties"]["adminUserEnabled"], false, "{stored}");
    }
);

// The lists are served on protocol 5 too (Terraform offers both; this install offers 5 only).
scenario!(query_over_protocol_5, only(V1_15), |tf| {
    let mut ws = TfWorkspace::new(tf, Install::OnlyProtocol5);
    let emu = Emu::start(big_seed(), ws.dir.path());
    ws.use_emulator(&emu);
    ws.write_resources("");
    let rg = format!("    resource_group_id = \"{}\"\n", emu::rg());
    write_query(&ws, &list_block("amlauth_acr_admin", "registries", &rg));
    ws.init();
    let out = ws.ok(&["query", "-json", "-no-color"]);
    let ids: BTreeSet<String> = query_results(&out.stdout)
        .into_iter()
        .map(|(_, id, _)| lower(&id))
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from([
            lower(&emu::registry("acre2eone")),
            lower(&emu::registry("acre2etwo"))
        ]),
        "{out}"
    );
});

// `limit` stops the listing: no page beyond the one that reaches it is read (here the
// limit is exactly the emulator's page size of 30, so only the provider's own count can
// tell that the second page is not needed).
scenario!(limit_stops_reading_pages, only(V1_15), |tf| {
    let (ws, emu) = setup(tf);
    let cfg = format!("    workspace_id = \"{}\"\n", emu::workspace("ws-big"));
    write_query(
        &ws,
        &list_block_limit("amlauth_compute_identity", "some", &cfg, 30),
    );
    ws.init();
    emu.clear_journal();
    let out = ws.ok(&["query", "-json", "-no-color"]);
    assert_eq!(query_results(&out.stdout).len(), 30, "{out}");
    let journal = emu.journal();
    assert!(
        journal.iter().all(|e| !e.next_page),
        "the first page had enough: {journal:#?}"
    );
});

// The documented example (`examples/query/`) runs as written, pointed at the fixture
// through its variables.
scenario!(the_example_lists_the_fixture, only(V1_15), |tf| {
    let (ws, _emu) = setup(tf);
    let example = common::repo_root().join("examples/query");
    for f in ["main.tf", "discover.tfquery.hcl"] {
        std::fs::copy(example.join(f), ws.work_dir().join(f)).expect("copy example");
    }
    // The other scope of the workspace list: the whole subscription.
    let sub = format!("    subscription_id = \"{}\"\n", emu::SUB);
    std::fs::write(
        ws.work_dir().join("subscription.tfquery.hcl"),
        list_block("amlauth_workspace_identity", "in_subscription", &sub),
    )
    .expect("write query");
    ws.init();
    let rg_var = format!("resource_group_id={}", emu::rg());
    let ws_var = format!("workspace_id={}", emu::workspace("ws-one"));
    let out = ws.ok(&[
        "query",
        "-json",
        "-no-color",
        "-var",
        &rg_var,
        "-var",
        &ws_var,
    ]);
    let mut per_list: std::collections::BTreeMap<String, usize> = Default::default();
    for (addr, _, _) in query_results(&out.stdout) {
        *per_list.entry(addr).or_default() += 1;
    }
    let count = |a: &str| per_list.get(a).copied().unwrap_or(0);
    // The fixture: three workspaces (ws-one, ws-two, ws-big), two registries; ws-one has
    // two clusters and three datastores.
    assert_eq!(
        count("list.amlauth_workspace_identity.workspaces"),
        3,
        "{out}"
    );
    assert_eq!(
        count("list.amlauth_workspace_identity.in_subscription"),
        3,
        "{out}"
    );
    assert_eq!(count("list.amlauth_acr_admin.registries"), 2, "{out}");
    assert_eq!(count("list.amlauth_compute_identity.computes"), 2, "{out}");
    assert_eq!(
        count("list.amlauth_datastore_access.datastores"),
        3,
        "{out}"
    );
});
