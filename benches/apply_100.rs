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

/// What each figure of a [`Sample`] is, in order.
const FIGURES: [&str; 4] = [
    "apply",
    "no-change plan",
    "apply, CPU",
    "no-change plan, CPU",
];

struct Sample {
    /// Wall-clock time of the apply and of the plan, then the CPU time each used ([`cpu_time`]).
    figures: [Duration; 4],
    /// Size of the state file after the apply, per resource.
    state_bytes: u64,
}

/// CPU time used so far by this process (for the amlauth run, the in-process emulator) and by
/// its waited-for descendants (Terraform and the provider processes it started), from
/// `/proc/self/stat`: on a loaded machine wall-clock time says more about the load than about
/// the work, CPU time much less so.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the parenthesised command name, field 3 (state) comes first; utime, stime, cutime
    // and cstime are fields 14 to 17, in clock ticks of 1/100 s (USER_HZ).
    let ticks: u64 = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Runs `f`, returning its wall-clock and CPU time.
fn timed(f: impl FnOnce()) -> (Duration, Duration) {
    let (t, cpu) = (Instant::now(), cpu_time());
    f();
    (t.elapsed(), cpu_time().saturating_sub(cpu))
}

/// Times `apply` then a no-change `plan` in a fresh working directory; `before_apply` runs
/// after `init`, `after_apply` between the two timed commands.
fn measure(ws: &TfWorkspace, before_apply: impl FnOnce(), after_apply: impl FnOnce()) -> Sample {
    ws.init();
    before_apply();
    let (apply, apply_cpu) = timed(|| {
        ws.apply();
    });
    after_apply();
    let state = ws.work_dir().join("terraform.tfstate");
    let state_bytes = std::fs::metadata(&state).map(|m| m.len()).unwrap_or(0) / N as u64;
    let mut plan_out = None;
    let (plan, plan_cpu) = timed(|| plan_out = Some(ws.plan_code()));
    if let Some((code, out)) = plan_out {
        assert_eq!(code, 0, "the plan after apply must be empty:\n{out}");
    }
    Sample {
        figures: [apply, plan, apply_cpu, plan_cpu],
        state_bytes,
    }
}

fn baseline() -> Sample {
    let ws = TfWorkspace::new(Tf::V1_15, Install::Plain);
    ws.write_config(&terraform_data_config());
    measure(&ws, || {}, || {})
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
    measure(&ws, || {}, || {})
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
    // The apply's calls only: the plan after it reads each compute once more.
    let mut calls = 0;
    let sample = measure(
        &ws,
        || emu.clear_journal(),
        || calls = emu.arm_calls().len(),
    );
    (sample, calls)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// One figure over the runs: amlauth, no-op, terraform_data.
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
    let mut series: [Series; 4] = Default::default();
    let (mut calls, mut state_bytes) = (0, (0, 0, 0));
    for run in 1..=runs {
        // Interleaved, so machine load affects all three alike.
        let b = baseline();
        let n = noop();
        let (a, c) = amlauth();
        calls = c;
        state_bytes = (a.state_bytes, n.state_bytes, b.state_bytes);
        let [a_apply, a_plan, a_apply_cpu, a_plan_cpu] = a.figures.map(secs);
        let [n_apply, n_plan, n_apply_cpu, n_plan_cpu] = n.figures.map(secs);
        let [b_apply, b_plan, b_apply_cpu, b_plan_cpu] = b.figures.map(secs);
        println!(
            "run {run}: apply {a_apply:>5.2} s / {n_apply:>5.2} s / {b_apply:>5.2} s   \
             plan {a_plan:>5.2} s / {n_plan:>5.2} s / {b_plan:>5.2} s   \
             (amlauth / no-op / terraform_data; {c} ARM calls)\n\
             {:7}CPU {a_apply_cpu:>5.2} s / {n_apply_cpu:>5.2} s / {b_apply_cpu:>5.2} s   \
             CPU  {a_plan_cpu:>5.2} s / {n_plan_cpu:>5.2} s / {b_plan_cpu:>5.2} s",
            ""
        );
        for (i, s) in series.iter_mut().enumerate() {
            s.amlauth.push(a.figures[i]);
            s.noop.push(n.figures[i]);
            s.data.push(b.figures[i]);
        }
    }
    println!(
        "\n{N} resources, Terraform 1.15, {runs} runs, medians (emulator shapes: {:?}):",
        emu::shapes()
    );
    println!(
        "{:<20} {:>9} {:>16} {:>16} {:>13} {:>11} {:>15}",
        "",
        "amlauth",
        "no-op provider",
        "terraform_data",
        "amlauth / tfd",
        "no-op / tfd",
        "amlauth / no-op"
    );
    for (name, s) in FIGURES.iter().zip(series) {
        let (a, n, b) = (
            secs(median(s.amlauth)),
            secs(median(s.noop)),
            secs(median(s.data)),
        );
        println!(
            "{name:<20} {a:>7.2} s {n:>14.2} s {b:>14.2} s {:>12.2}× {:>10.2}× {:>14.2}×",
            a / b,
            n / b,
            a / n
        );
    }
    println!(
        "(tfd: terraform_data. CPU: Terraform and the provider processes it started, plus the \
         in-process emulator for amlauth.)"
    );
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
