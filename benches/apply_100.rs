//! Apply benchmark: `terraform apply` and a no-change `terraform plan` of 100
//! `amlauth_compute_identity` resources against the in-process emulator, next to the same
//! commands for 100 `terraform_data` resources, in the same run. The emulator's operations take
//! no time but are still answered asynchronously (`201` + `Azure-AsyncOperation`,
//! `Retry-After: 0`), so the figure is the provider's own overhead plus its polling policy.
//!
//! Run with `cargo bench --bench apply_100` (release build; Terraform 1.15 from `.tools/bin`,
//! runs per figure: `BENCH_RUNS`, default 3). `BENCH_BIN=path` measures another build of the
//! provider binary instead (e.g. an older commit's, for an A/B on the same machine state).
//! Prints figures; asserts nothing about them.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use amlauth_emulator::OperationDurations;
use common::emu::{self, Emu};
use common::{Install, PROVIDER_HEADER, Tf, TfWorkspace};
use serde_json::{Value, json};

const N: usize = 100;
const WORKSPACE: &str = "ws-bench";

fn compute_name(i: usize) -> String {
    format!("cluster-{i:03}")
}

fn seed() -> Value {
    let computes: Vec<Value> = (0..N)
        .map(|i| json!({ "name": compute_name(i), "maxNodes": 1 }))
        .collect();
    json!({
        "clients": [{ "clientId": emu::CLIENT_ID, "clientSecret": emu::CLIENT_SECRET }],
        "subscriptions": [{
            "id": emu::SUB,
            "resourceGroups": [{
                "name": "rg-e2e",
                "location": "eastus",
                "workspaces": [{ "name": WORKSPACE, "identity": "SystemAssigned", "computes": computes }]
            }]
        }]
    })
}

fn amlauth_config() -> String {
    let mut hcl = PROVIDER_HEADER.to_string();
    for i in 0..N {
        hcl.push_str(&format!(
            "\nresource \"amlauth_compute_identity\" \"c{i:03}\" {{\n  compute_id = \"{}\"\n  type       = \"SystemAssigned\"\n}}\n",
            emu::compute(WORKSPACE, &compute_name(i))
        ));
    }
    hcl
}

fn terraform_data_config() -> String {
    (0..N)
        .map(|i| {
            format!("resource \"terraform_data\" \"d{i:03}\" {{\n  input = \"value-{i}\"\n}}\n")
        })
        .collect()
}

struct Sample {
    apply: Duration,
    plan: Duration,
}

/// Times `apply` then a no-change `plan` in a fresh working directory.
fn measure(ws: &TfWorkspace) -> Sample {
    ws.init();
    let t = Instant::now();
    ws.apply();
    let apply = t.elapsed();
    let t = Instant::now();
    let (code, out) = ws.plan_code();
    let plan = t.elapsed();
    assert_eq!(code, 0, "the plan after apply must be empty:\n{out}");
    Sample { apply, plan }
}

fn baseline() -> Sample {
    let ws = TfWorkspace::new(Tf::V1_15, Install::Plain);
    ws.write_config(&terraform_data_config());
    measure(&ws)
}

/// Returns the sample and the number of ARM calls the apply made.
fn amlauth() -> (Sample, usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let emu = Emu::start_with(seed(), dir.path(), |c| {
        c.durations = OperationDurations::zero();
        c.retry_after_secs = 0;
    });
    let mut ws = TfWorkspace::new(Tf::V1_15, Install::Plain);
    if let Some(bin) = std::env::var_os("BENCH_BIN") {
        let mirrored = mirrored_provider(&ws.dir.path().join("mirror"));
        std::fs::copy(bin, mirrored).expect("copy BENCH_BIN into the provider mirror");
    }
    ws.use_emulator(&emu);
    ws.write_config(&amlauth_config());
    ws.init();
    emu.clear_journal();
    let t = Instant::now();
    ws.apply();
    let apply = t.elapsed();
    let calls = emu.arm_calls().len();
    let t = Instant::now();
    let (code, out) = ws.plan_code();
    let plan = t.elapsed();
    assert_eq!(code, 0, "the plan after apply must be empty:\n{out}");
    (Sample { apply, plan }, calls)
}

/// The provider binary `TfWorkspace` put in its filesystem mirror.
fn mirrored_provider(dir: &std::path::Path) -> std::path::PathBuf {
    for entry in std::fs::read_dir(dir).expect("mirror dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            return mirrored_provider(&path);
        }
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("terraform-provider-amlauth")
        {
            return path;
        }
    }
    panic!("no provider binary under {}", dir.display());
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3);
    let (mut b_apply, mut b_plan, mut a_apply, mut a_plan) = (vec![], vec![], vec![], vec![]);
    let mut calls = 0;
    for run in 1..=runs {
        // Interleaved, so machine load affects both sides alike.
        let b = baseline();
        let (a, c) = amlauth();
        calls = c;
        println!(
            "run {run}: apply {:>7.2} s vs {:>7.2} s   plan {:>6.2} s vs {:>6.2} s   ({c} ARM calls)",
            a.apply.as_secs_f64(),
            b.apply.as_secs_f64(),
            a.plan.as_secs_f64(),
            b.plan.as_secs_f64(),
        );
        b_apply.push(b.apply);
        b_plan.push(b.plan);
        a_apply.push(a.apply);
        a_plan.push(a.plan);
    }
    let (ba, bp, aa, ap) = (
        median(b_apply),
        median(b_plan),
        median(a_apply),
        median(a_plan),
    );
    println!(
        "\n{N} resources, Terraform 1.15, {runs} runs, medians (emulator shapes: {:?}):",
        emu::shapes()
    );
    println!(
        "{:<44} {:>9} {:>16} {:>7}",
        "", "amlauth", "terraform_data", "ratio"
    );
    for (name, a, b) in [("apply", aa, ba), ("no-change plan", ap, bp)] {
        println!(
            "{name:<44} {:>7.2} s {:>14.2} s {:>6.2}×",
            a.as_secs_f64(),
            b.as_secs_f64(),
            a.as_secs_f64() / b.as_secs_f64()
        );
    }
    println!("ARM calls in the amlauth apply: {calls}");
}
