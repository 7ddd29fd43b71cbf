//! Scenarios as data: what every end-to-end file shares — the set-up (a Terraform working
//! directory wired to a fresh emulator), ARM calls read from the emulator's journal and named
//! by what they address, diagnostics read from `validate`, and the plan/apply checks that
//! recur. A scenario is written once with [`scenario!`](crate::scenario) and runs on every
//! Terraform version (and, through `AMLAUTH_EMULATOR_SHAPES`, on both emulator shapes).

use std::collections::BTreeSet;

use serde_json::Value;

use super::emu::{self, Emu};
use super::{Install, Tf, TfOutput, TfWorkspace};

/// A Terraform working directory pointed at a fresh emulator holding the standard fixture.
pub fn setup(tf: Tf) -> (TfWorkspace, Emu) {
    setup_with(tf, emu::standard_seed())
}

/// Like [`setup`], with `body` (resources after the provider header) written and `init` run.
pub fn setup_init(tf: Tf, body: &str) -> (TfWorkspace, Emu) {
    let (ws, emu) = setup(tf);
    ws.write_resources(body);
    ws.init();
    (ws, emu)
}

/// Like [`setup`], with the emulator seeded with `seed`.
pub fn setup_with(tf: Tf, seed: Value) -> (TfWorkspace, Emu) {
    let mut ws = TfWorkspace::new(tf, Install::Plain);
    let emu = Emu::start(seed, ws.dir.path());
    ws.use_emulator(&emu);
    (ws, emu)
}

/// How a call's path is named in [`calls`]; the first rule that matches wins, a path no rule
/// matches is shown whole.
#[derive(Debug, Clone, Copy)]
pub enum Name<'a> {
    /// The path is this ARM id (ignoring case): shown as the label.
    Id(&'a str, &'a str),
    /// The lower-cased path contains this segment: shown as the label.
    Under(&'a str, &'a str),
    /// The lower-cased path contains this segment: shown as the label followed by the rest of
    /// the lower-cased path after its last occurrence (`registry acre2eone`).
    Named(&'a str, &'a str),
}

/// Names for calls on workspaces and registries and their operation polls.
pub const BY_NAME: &[Name<'static>] = &[
    Name::Under("/operationresults/", "operationResults"),
    Name::Under("/operationstatuses/", "operationStatuses"),
    Name::Named("/registries/", "registry"),
    Name::Named("/workspaces/", "workspace"),
];

/// ARM calls (not token requests) since the journal was last cleared, as `METHOD what` with
/// each path named by the first of `names` that matches.
pub fn calls(emu: &Emu, names: &[Name]) -> Vec<String> {
    emu.arm_calls()
        .iter()
        .map(|line| {
            let (method, path) = line.split_once(' ').unwrap_or((line, ""));
            format!("{method} {}", name_of(path, names))
        })
        .collect()
}

fn name_of(path: &str, names: &[Name]) -> String {
    let lower = path.to_ascii_lowercase();
    for name in names {
        match *name {
            Name::Id(id, label) if path.eq_ignore_ascii_case(id) => return label.to_string(),
            Name::Under(segment, label) if lower.contains(segment) => return label.to_string(),
            Name::Named(segment, label) => {
                if let Some((_, rest)) = lower.rsplit_once(segment) {
                    return format!("{label} {rest}");
                }
            }
            _ => {}
        }
    }
    path.to_string()
}

/// Owned strings, to compare with [`calls`].
pub fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// How many answers in the journal had `status`.
pub fn status_count(emu: &Emu, status: u16) -> usize {
    emu.journal().iter().filter(|e| e.status == status).count()
}

/// Statuses the emulator answered to `method` on the object `id` itself.
pub fn statuses(emu: &Emu, method: &str, id: &str) -> Vec<u16> {
    emu.journal()
        .into_iter()
        .filter(|e| e.method == method && e.path.eq_ignore_ascii_case(id))
        .map(|e| e.status)
        .collect()
}

/// The diagnostic blocks of human-readable `output` that concern `address`
/// (pass output through [`flat`](super::flat) first).
pub fn diagnostics_for(output: &str, address: &str) -> Vec<String> {
    output
        .split("Error: ")
        .skip(1)
        .filter(|d| d.contains(&format!("with {address},")))
        .map(str::to_string)
        .collect()
}

/// The diagnostics of `terraform validate -json`, which must fail; asserts every one is an
/// error.
pub fn validate_error_diagnostics(ws: &TfWorkspace) -> Vec<Value> {
    let out = ws.run(&["validate", "-json", "-no-color"]);
    assert_ne!(out.code, 0, "{out}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    let diags = v["diagnostics"].as_array().cloned().unwrap_or_default();
    for d in &diags {
        assert_eq!(d["severity"], "error", "{d}");
    }
    diags
}

/// The one diagnostic raised for resource `kind.name`: its snippet names the resource block.
pub fn diag_for<'d>(diags: &'d [Value], kind: &str, name: &str) -> &'d Value {
    let header = format!("resource \"{kind}\" \"{name}\"");
    let found: Vec<_> = diags
        .iter()
        .filter(|d| d["snippet"]["context"].as_str() == Some(header.as_str()))
        .collect();
    assert_eq!(found.len(), 1, "one diagnostic for {name}: {diags:#?}");
    found[0]
}

/// Asserts the one diagnostic for resource `kind.name` points at a line holding `code` and
/// its detail mentions every one of `words`.
pub fn assert_diag_at(diags: &[Value], (kind, name): (&str, &str), code: &str, words: &[&str]) {
    let d = diag_for(diags, kind, name);
    assert!(snippet(d).contains(code), "{d}");
    for word in words {
        assert!(detail(d).contains(word), "{d}");
    }
}

/// Every string of 8 characters or more in `v`: the secrets an emulator record keeps.
pub fn private_strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) if s.len() >= 8 => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(private_strings).collect(),
        Value::Object(o) => o.values().flat_map(private_strings).collect(),
        _ => Vec::new(),
    }
}

/// ARM ids as a set compared ignoring case.
pub fn lower_set<'a>(ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    ids.into_iter().map(str::to_ascii_lowercase).collect()
}

/// Fails the test if `secret` shows anywhere in the output of a command.
pub fn assert_secret_hidden(out: &TfOutput, secret: &str) {
    assert!(
        !out.combined().contains(secret),
        "the secret appears in the output of terraform {:?}",
        out.args
    );
}

/// The source snippet a `validate -json` diagnostic points at (empty if none).
pub fn snippet(d: &Value) -> String {
    d["snippet"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The detail text of a `validate -json` diagnostic (empty if none).
pub fn detail(d: &Value) -> String {
    d["detail"].as_str().unwrap_or_default().to_string()
}

/// A configuration whose `import` block (Terraform 1.5+) brings `id` under `addr`, then `body`.
pub fn with_import_block(addr: &str, id: &str, body: &str) -> String {
    format!("import {{\n  to = {addr}\n  id = \"{id}\"\n}}\n{body}")
}

/// Asserts `text` (flattened human output) holds an error for `address` that names `attribute`
/// and mentions every one of `words`.
pub fn assert_diagnostic(text: &str, address: &str, attribute: &str, words: &[&str]) {
    let diags = diagnostics_for(text, address);
    assert!(
        diags
            .iter()
            .any(|d| d.contains(attribute) && words.iter().all(|w| d.contains(w))),
        "{address}: expected an error at {attribute} mentioning {words:?}:\n{text}"
    );
}

/// `terraform import addr id` from a cleared journal, asserting Terraform reports success and
/// that the import made exactly the ARM calls `reads` (named by `names`, see [`calls`]).
pub fn import_reading(
    ws: &TfWorkspace,
    emu: &Emu,
    (addr, id): (&str, &str),
    names: &[Name],
    reads: &[&str],
) -> TfOutput {
    let out = assert_reads(emu, names, reads, "import", || ws.import(addr, id));
    assert!(out.stdout.contains("Import successful"), "{out}");
    out
}

/// Runs `step` from a cleared journal and asserts it made exactly the ARM calls `reads`
/// (named by `names`, see [`calls`]); `what` names the step in the failure message.
pub fn assert_reads<T>(
    emu: &Emu,
    names: &[Name],
    reads: &[&str],
    what: &str,
    step: impl FnOnce() -> T,
) -> T {
    emu.clear_journal();
    let result = step();
    assert_eq!(calls(emu, names), strs(reads), "{what}");
    result
}

/// Asserts the next plan proposes no change, making exactly the ARM calls `reads` (named by
/// `names`, see [`calls`]).
pub fn assert_no_changes_reading(ws: &TfWorkspace, emu: &Emu, names: &[Name], reads: &[&str]) {
    assert_reads(emu, names, reads, "plan", || ws.assert_no_changes());
}

/// `destroy`, asserting it makes exactly the ARM calls `reads` (named by `names`, see
/// [`calls`]): a refresh, no write, as destroying only stops managing the setting.
pub fn destroy_reading(ws: &TfWorkspace, emu: &Emu, names: &[Name], reads: &[&str]) {
    assert_reads(emu, names, reads, "destroy: refresh only", || ws.destroy());
}

/// Asserts the emulator's journal holds no ARM call (token requests aside).
pub fn assert_no_arm_calls(emu: &Emu) {
    let calls = emu.arm_calls();
    assert!(calls.is_empty(), "no ARM call: {calls:?}");
}

/// How state attributes map to the emulator's record: `(attribute, JSON pointer into the body)`.
pub type Fields<'a> = &'a [(&'a str, &'a str)];

/// Asserts every `(attribute, pointer)` of `fields`: the state value `state[attribute]` is the
/// emulator's `stored` body at `pointer` (null when absent).
pub fn assert_fields(state: &Value, stored: &Value, fields: Fields) {
    for (attribute, pointer) in fields {
        let remote = stored.pointer(pointer).unwrap_or(&Value::Null);
        assert_eq!(
            &state[*attribute], remote,
            "{attribute} vs {pointer}: state {state}\nemulator {stored}"
        );
    }
}

/// A fault rule (see docs/emulator.md): the next `times` requests `method path` (a glob) are
/// answered with `status`, with `Retry-After: retry_after` seconds when given.
pub fn status_fault(
    method: &str,
    path: &str,
    times: u32,
    status: u16,
    retry_after: Option<u32>,
) -> Value {
    let mut action = serde_json::json!({"kind": "status", "status": status});
    if let Some(secs) = retry_after {
        action["retryAfter"] = secs.into();
    }
    serde_json::json!({"method": method, "path": path, "times": times, "action": action})
}

/// How many ARM calls in the journal used `method`.
pub fn count_calls(emu: &Emu, method: &str) -> usize {
    emu.arm_calls()
        .iter()
        .filter(|c| c.starts_with(&format!("{method} ")))
        .count()
}

/// Applies through a 429 storm on `method path` (three answers, each asking to come back in a
/// second): the apply succeeds with three throttled writes and a fourth that goes through.
pub fn apply_through_throttling(ws: &TfWorkspace, emu: &Emu, method: &str, path: &str) {
    emu.clear_journal();
    emu.fault(status_fault(method, path, 3, 429, Some(1)));
    ws.apply();
    assert_eq!(status_count(emu, 429), 3, "{:?}", emu.arm_calls());
    assert_eq!(
        count_calls(emu, method),
        4,
        "three throttled writes, then the one that went through: {:?}",
        emu.arm_calls()
    );
}

/// Applies while the next `method path` write is accepted but its operation ends `Failed` with
/// `code` and `message`: the apply fails and Azure's message reaches the user. The fault is
/// cleared afterwards.
pub fn apply_with_failed_operation(
    ws: &TfWorkspace,
    emu: &Emu,
    (method, path): (&str, &str),
    code: &str,
    message: &str,
) -> TfOutput {
    emu.fault(
        serde_json::json!({"method": method, "path": path, "times": 1,
        "action": {"kind": "failAsync", "code": code, "message": message}}),
    );
    let out = ws.assert_apply_fails_saying(&[message]);
    emu.clear_faults();
    out
}

/// Faults for an in-place update of the object at `path` (a glob): the first two operation
/// polls matching `polls` and the read back after the write (not the refresh before it) are
/// answered `503`.
pub fn fault_503s_on_polls_and_read_back(emu: &Emu, polls: &str, path: &str) {
    emu.fault(status_fault("GET", polls, 2, 503, None));
    emu.fault(
        serde_json::json!({"method": "GET", "path": path, "skip": 1, "times": 1,
        "action": {"kind": "status", "status": 503}}),
    );
}

/// Asserts the next plan of a configuration with one `import` block imports it, changing
/// nothing, with exactly the ARM calls `reads` (named by `names`, see [`calls`]).
pub fn assert_plan_imports_one_reading(
    ws: &TfWorkspace,
    emu: &Emu,
    names: &[Name],
    reads: &[&str],
) -> TfOutput {
    assert_reads(emu, names, reads, "import plan", || {
        ws.assert_plan_imports_one()
    })
}

/// Asserts the output of a command, line wrapping undone (see [`flat`](super::flat)), holds
/// every one of `words`.
pub fn assert_says(out: &TfOutput, words: &[&str]) {
    let text = super::flat(&out.combined());
    assert!(words.iter().all(|w| text.contains(w)), "{out}");
}

/// Terraform steps with the checks scenarios repeat.
impl TfWorkspace {
    /// `apply -auto-approve` without asserting its outcome.
    pub fn try_apply(&self) -> TfOutput {
        self.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `apply`, asserting it updated one object in place.
    pub fn apply_in_place(&self) -> TfOutput {
        let out = self.apply();
        assert!(
            out.stdout.contains("updated in-place") && out.stdout.contains("0 added, 1 changed"),
            "expected an in-place update:\n{out}"
        );
        out
    }

    /// `apply`, asserting it replaced one object (and changed nothing else).
    pub fn apply_replaces(&self) -> TfOutput {
        let out = self.apply();
        assert!(
            out.stdout.contains("must be replaced") && out.stdout.contains("forces replacement"),
            "{out}"
        );
        assert!(
            out.stdout.contains("1 added, 0 changed, 1 destroyed"),
            "{out}"
        );
        out
    }

    /// `destroy -auto-approve`, asserting success.
    pub fn destroy(&self) -> TfOutput {
        self.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform import addr id`, asserting success.
    pub fn import(&self, addr: &str, id: &str) -> TfOutput {
        self.ok(&["import", "-input=false", "-no-color", addr, id])
    }

    /// Asserts the next plan replaces one object (and changes nothing else).
    pub fn assert_plan_replaces(&self) -> TfOutput {
        let (code, out) = self.plan_code();
        assert_eq!(code, 2, "{out}");
        assert!(
            out.stdout.contains("must be replaced")
                && out.stdout.contains("forces replacement")
                && out.stdout.contains("1 to add, 0 to change, 1 to destroy"),
            "{out}"
        );
        out
    }

    /// Asserts the next plan imports one object and changes nothing.
    pub fn assert_plan_imports_one(&self) -> TfOutput {
        let (code, out) = self.plan_code();
        assert!(
            out.stdout
                .contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
            "exit {code}:\n{out}"
        );
        out
    }

    /// `apply`, asserting it imported one object and added or changed nothing.
    pub fn apply_imports_one(&self) -> TfOutput {
        let out = self.apply();
        assert!(
            out.stdout.contains("1 imported, 0 added, 0 changed"),
            "{out}"
        );
        out
    }

    /// Asserts the next plan creates the object again (it was deleted out of band).
    pub fn assert_plan_creates(&self) -> TfOutput {
        let (code, out) = self.plan_code();
        assert_eq!(code, 2, "{out}");
        assert!(
            out.stdout.contains("will be created") && out.stdout.contains("1 to add, 0 to change"),
            "the plan proposes a create:\n{out}"
        );
        out
    }

    /// `apply`, asserting it fails with every one of `words` on stderr.
    pub fn assert_apply_fails(&self, words: &[&str]) -> TfOutput {
        let out = self.try_apply();
        assert_ne!(out.code, 0, "{out}");
        assert!(words.iter().all(|w| out.stderr.contains(w)), "{out}");
        out
    }

    /// `apply`, asserting it fails with every one of `words` in its output, line wrapping
    /// undone (see `flat`).
    pub fn assert_apply_fails_saying(&self, words: &[&str]) -> TfOutput {
        let out = self.try_apply();
        assert_ne!(out.code, 0, "{out}");
        assert_says(&out, words);
        out
    }

    /// Asserts `plan` fails with every one of `words` in its (flattened) output.
    pub fn assert_plan_fails(&self, words: &[&str]) -> TfOutput {
        let out = self.run(&["plan", "-input=false", "-no-color"]);
        assert_ne!(out.code, 0, "{out}");
        assert_says(&out, words);
        out
    }

    /// Asserts the next plan proposes changes and its output, line wrapping undone (see `flat`),
    /// holds every one of `words`: for warnings, which Terraform wraps.
    pub fn assert_plan_changes_saying(&self, words: &[&str]) -> TfOutput {
        let (code, out) = self.plan_code();
        assert_eq!(code, 2, "{out}");
        assert_says(&out, words);
        out
    }

    /// Asserts the next plan proposes changes and its output holds every one of `words`.
    pub fn assert_plan_changes(&self, words: &[&str]) -> TfOutput {
        let (code, out) = self.plan_code();
        assert_eq!(code, 2, "changes expected in the plan:\n{out}");
        assert!(words.iter().all(|w| out.stdout.contains(w)), "{out}");
        out
    }

    /// `validate`, asserting it fails; its output with line wrapping undone (see `flat`).
    pub fn validate_errors(&self) -> String {
        let out = self.run(&["validate", "-no-color"]);
        assert_ne!(out.code, 0, "{out}");
        super::flat(&out.combined())
    }
}
