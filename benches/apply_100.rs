//! Apply benchmark: `terraform apply` and a no-change `terraform plan` of 100
//! `amlauth_compute_identity` resources against the in-process emulator, next to the same
//! commands for 100 resources of a no-op external provider and for 100 `terraform_data`
//! resources, all three interleaved in the same run. The emulator's operations take no time but
//! are still answered asynchronously (`201` + `Azure-AsyncOperation`, `Retry-After: 0`), so the
//! amlauth figure is the provider's own overhead plus its polling policy.
//!
//! The no-op provider is the floor for any external provider: this bench executable, installed in
//! a filesystem mirror as `registry.terraform.io/amlauth-bench/noop`, serves it when Terraform
//! launches it as a plugin (go-plugin's magic cookie is set). It runs on the project's own plugin
//! host, server and framework runtime (same AutoMTLS, gRPC and msgpack costs) with one resource,
//! `noop_compute_identity`, that has `amlauth_compute_identity`'s schema, resource identity,
//! validation and plan (taken from the real resource, so it follows its changes) and so stores
//! the same state bytes; create and update fill in the computed values, read returns the prior
//! state, delete does nothing, and no Azure call is made. `amlauth / no-op` is then our own
//! price; `no-op / terraform_data` is what Terraform charges for driving any external provider.
//!
//! Run with `cargo bench --bench apply_100` (release build; Terraform 1.15 from `.tools/bin`,
//! runs per figure: `BENCH_RUNS`, default 3). `BENCH_BIN=path` measures another build of the
//! provider binary instead (e.g. an older commit's, for an A/B on the same machine state).
//! Prints figures; asserts nothing about them.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/toy_provider.rs"]
mod toy_provider;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use amlauth::plugin::HostEnv;
use amlauth_emulator::OperationDurations;
use common::emu::{self, Emu};
use common::{Install, MirroredProvider, PROVIDER_HEADER, Tf, TfWorkspace};
use serde_json::{Value, json};

const N: usize = 100;
const WORKSPACE: &str = "ws-bench";

/// The no-op provider's `terraform` and `provider` blocks.
const NOOP_HEADER: &str = r#"terraform {
  required_providers {
    noop = {
      source  = "amlauth-bench/noop"
      version = "0.1.0"
    }
  }
}

provider "noop" {}
"#;

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

/// `header` and N system-assigned compute identities of resource type `type_name`.
fn compute_identity_config(header: &str, type_name: &str) -> String {
    let mut hcl = header.to_string();
    for i in 0..N {
        hcl.push_str(&format!(
            "\nresource \"{type_name}\" \"c{i:03}\" {{\n  compute_id = \"{}\"\n  type       = \"SystemAssigned\"\n}}\n",
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
    /// Size of the state file after the apply, per resource.
    state_bytes: u64,
}

/// Times `apply` then a no-change `plan` in a fresh working directory; `before_apply` runs
/// after `init`.
fn measure(ws: &TfWorkspace, before_apply: impl FnOnce()) -> Sample {
    ws.init();
    before_apply();
    let t = Instant::now();
    ws.apply();
    let apply = t.elapsed();
    let state = ws.work_dir().join("terraform.tfstate");
    let state_bytes = std::fs::metadata(&state).map(|m| m.len()).unwrap_or(0) / N as u64;
    let t = Instant::now();
    let (code, out) = ws.plan_code();
    let plan = t.elapsed();
    assert_eq!(code, 0, "the plan after apply must be empty:\n{out}");
    Sample {
        apply,
        plan,
        state_bytes,
    }
}

fn baseline() -> Sample {
    let ws = TfWorkspace::new(Tf::V1_15, Install::Plain);
    ws.write_config(&terraform_data_config());
    measure(&ws, || {})
}

fn noop() -> Sample {
    let bench = std::env::current_exe().expect("path of the bench executable");
    let provider = MirroredProvider {
        namespace: "amlauth-bench",
        name: "noop",
        binary: bench,
    };
    let ws = TfWorkspace::with_provider(Tf::V1_15, Install::Plain, &provider);
    ws.write_config(&compute_identity_config(
        NOOP_HEADER,
        noop::COMPUTE_IDENTITY,
    ));
    measure(&ws, || {})
}

/// Returns the sample and the number of ARM calls the apply made.
fn amlauth() -> (Sample, usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let emu = Emu::start_with(seed(), dir.path(), |c| {
        c.durations = OperationDurations::zero();
        c.retry_after_secs = 0;
    });
    let mut provider = MirroredProvider::amlauth();
    if let Some(bin) = std::env::var_os("BENCH_BIN") {
        provider.binary = PathBuf::from(bin);
    }
    let mut ws = TfWorkspace::with_provider(Tf::V1_15, Install::Plain, &provider);
    ws.use_emulator(&emu);
    ws.write_config(&compute_identity_config(
        PROVIDER_HEADER,
        "amlauth_compute_identity",
    ));
    let sample = measure(&ws, || emu.clear_journal());
    (sample, emu.arm_calls().len())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Medians of one command over the runs: amlauth, no-op, terraform_data.
#[derive(Default)]
struct Series {
    amlauth: Vec<Duration>,
    noop: Vec<Duration>,
    data: Vec<Duration>,
}

fn main() -> ExitCode {
    // Launched by Terraform from the no-op provider's mirror: serve instead of benchmarking.
    if HostEnv::from_process().has_magic_cookie() {
        return noop::serve();
    }
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3);
    let (mut apply, mut plan) = (Series::default(), Series::default());
    let (mut calls, mut state_bytes) = (0, (0, 0, 0));
    for run in 1..=runs {
        // Interleaved, so machine load affects all three alike.
        let b = baseline();
        let n = noop();
        let (a, c) = amlauth();
        calls = c;
        state_bytes = (a.state_bytes, n.state_bytes, b.state_bytes);
        println!(
            "run {run}: apply {:>6.2} s / {:>6.2} s / {:>6.2} s   plan {:>5.2} s / {:>5.2} s / {:>5.2} s   \
             (amlauth / no-op / terraform_data; {c} ARM calls)",
            secs(a.apply),
            secs(n.apply),
            secs(b.apply),
            secs(a.plan),
            secs(n.plan),
            secs(b.plan),
        );
        for (series, a, n, b) in [
            (&mut apply, a.apply, n.apply, b.apply),
            (&mut plan, a.plan, n.plan, b.plan),
        ] {
            series.amlauth.push(a);
            series.noop.push(n);
            series.data.push(b);
        }
    }
    println!(
        "\n{N} resources, Terraform 1.15, {runs} runs, medians (emulator shapes: {:?}):",
        emu::shapes()
    );
    println!(
        "{:<16} {:>9} {:>16} {:>16} {:>11} {:>11} {:>11}",
        "",
        "amlauth",
        "no-op provider",
        "terraform_data",
        "amlauth/tfd",
        "no-op/tfd",
        "amlauth/no-op"
    );
    for (name, s) in [("apply", apply), ("no-change plan", plan)] {
        let (a, n, b) = (
            secs(median(s.amlauth)),
            secs(median(s.noop)),
            secs(median(s.data)),
        );
        println!(
            "{name:<16} {a:>7.2} s {n:>14.2} s {b:>14.2} s {:>10.2}× {:>10.2}× {:>12.2}×",
            a / b,
            n / b,
            a / n
        );
    }
    println!("(tfd: terraform_data)");
    println!("ARM calls in the amlauth apply: {calls}");
    println!(
        "state bytes per resource: amlauth {}, no-op {}, terraform_data {}",
        state_bytes.0, state_bytes.1, state_bytes.2
    );
    ExitCode::SUCCESS
}

/// The no-op provider: `amlauth_compute_identity`'s shape with nothing behind it, served by the
/// project's own plugin host, server and framework runtime.
mod noop {
    use std::collections::BTreeMap;
    use std::hash::{DefaultHasher, Hash, Hasher};
    use std::process::ExitCode;
    use std::sync::Arc;

    use async_trait::async_trait;
    use tonic::service::Routes;

    use amlauth::framework::runtime::Runtime;
    use amlauth::framework::{
        ApplyError, ApplyResponse, CreateRequest, DeleteRequest, Diagnostics, Field,
        IdentitySchema, ImportRequest, PlanRequest, PlanResponse, ReadRequest, ReadResponse,
        Resource, Schema, UpdateRequest, ValidateRequest, ValidateResponse,
    };
    use amlauth::plugin::{self, ProtocolVersion, ServeOptions};
    use amlauth::resources::compute_identity::{ComputeIdentity, ComputeIdentityModel};
    use amlauth::resources::setting::SettingResource;
    use amlauth::value::Value;

    use super::common::emu::TENANT;
    use super::toy_provider::ToyProvider;

    pub const COMPUTE_IDENTITY: &str = "noop_compute_identity";

    /// Serves the provider until Terraform shuts it down, as `src/main.rs` does.
    pub fn serve() -> ExitCode {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("noop provider: {e}");
                return ExitCode::FAILURE;
            }
        };
        amlauth::logging::init();
        match runtime.block_on(plugin::serve(ServeOptions::default(), routes)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("noop provider: {e}");
                ExitCode::FAILURE
            }
        }
    }

    fn routes(version: ProtocolVersion) -> Routes {
        let provider = ToyProvider {
            resources: vec![Arc::new(NoopComputeIdentity(SettingResource(
                ComputeIdentity,
            )))],
            ..ToyProvider::new()
        };
        amlauth::server::routes(version, Arc::new(Runtime::new(Arc::new(provider))))
    }

    /// The real resource's schema, identity, validation, plan and import; no remote object.
    struct NoopComputeIdentity(SettingResource<ComputeIdentity>);

    /// `m` with its unknown computed values filled in, as Azure would for a new identity.
    fn settle(mut m: ComputeIdentityModel) -> ComputeIdentityModel {
        let name = m
            .compute_id
            .known()
            .and_then(|id| id.rsplit('/').next())
            .unwrap_or_default()
            .to_string();
        let identity = &mut m.identity;
        if identity.principal_id == Field::Unknown {
            identity.principal_id = Field::Known(uuid_from(&name));
        }
        if identity.tenant_id == Field::Unknown {
            identity.tenant_id = Field::Known(TENANT.into());
        }
        if identity.user_assigned_identities == Field::Unknown {
            identity.user_assigned_identities = Field::Known(BTreeMap::new());
        }
        m
    }

    /// A UUID (the usual 36 characters) that depends only on `name`.
    fn uuid_from(name: &str) -> String {
        let mut bytes = [0u8; 16];
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = DefaultHasher::new();
            (i, name).hash(&mut h);
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    #[async_trait]
    impl Resource for NoopComputeIdentity {
        type Model = ComputeIdentityModel;

        fn type_name(&self) -> &'static str {
            COMPUTE_IDENTITY
        }
        fn schema(&self) -> Schema {
            Resource::schema(&self.0)
        }
        fn identity_schema(&self) -> Option<IdentitySchema> {
            Resource::identity_schema(&self.0)
        }
        fn identity(&self, state: &ComputeIdentityModel) -> Option<Value> {
            Resource::identity(&self.0, state)
        }
        fn validate(
            &self,
            req: ValidateRequest<'_, ComputeIdentityModel>,
            resp: &mut ValidateResponse,
        ) {
            Resource::validate(&self.0, req, resp)
        }
        async fn modify_plan(
            &self,
            req: PlanRequest<'_, ComputeIdentityModel>,
            planned: &mut ComputeIdentityModel,
            resp: &mut PlanResponse,
        ) {
            self.0.modify_plan(req, planned, resp).await
        }
        async fn create(
            &self,
            req: CreateRequest<'_, ComputeIdentityModel>,
        ) -> Result<ApplyResponse<ComputeIdentityModel>, ApplyError<ComputeIdentityModel>> {
            Ok(settle(req.planned).into())
        }
        async fn read(
            &self,
            req: ReadRequest<'_, ComputeIdentityModel>,
        ) -> Result<ReadResponse<ComputeIdentityModel>, Diagnostics> {
            Ok(Some(req.state).into())
        }
        async fn update(
            &self,
            req: UpdateRequest<'_, ComputeIdentityModel>,
        ) -> Result<ApplyResponse<ComputeIdentityModel>, ApplyError<ComputeIdentityModel>> {
            Ok(settle(req.planned).into())
        }
        async fn delete(
            &self,
            _req: DeleteRequest<'_, ComputeIdentityModel>,
        ) -> Result<(), Diagnostics> {
            Ok(())
        }
        async fn import(
            &self,
            req: ImportRequest<'_>,
        ) -> Result<ComputeIdentityModel, Diagnostics> {
            Resource::import(&self.0, req).await
        }
    }
}
