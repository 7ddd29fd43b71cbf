//! Fault rules: make matching requests fail, stall, drop or misbehave later.

use serde::{Deserialize, Serialize};

use crate::util::glob_match;

/// What a rule does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum FaultAction {
    /// Answer with this status and an ARM error body (e.g. 429, 500, 503).
    #[serde(rename_all = "camelCase")]
    Status {
        /// HTTP status.
        status: u16,
        /// Seconds for `Retry-After` (sent when set).
        #[serde(default)]
        retry_after: Option<u64>,
        /// Error code (defaults by status).
        #[serde(default)]
        code: Option<String>,
        /// Error message.
        #[serde(default)]
        message: Option<String>,
    },
    /// 409 `AnotherOperationInProgress`.
    Conflict,
    /// Close the connection without answering.
    Drop,
    /// Wait, then handle the request normally.
    Delay {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// Accept the write, but let its long-running operation end `Failed`.
    #[serde(rename_all = "camelCase")]
    FailAsync {
        /// Error code in the operation's `error` (default `InternalServerError`).
        #[serde(default)]
        code: Option<String>,
        /// Error message.
        #[serde(default)]
        message: Option<String>,
    },
    /// Answer the write as usual but keep the stored resource as it was (a policy reverting
    /// the change, or replication lag): later GETs still report the old values.
    #[serde(rename_all = "camelCase")]
    KeepOld {
        /// Answer the write itself with the old resource too (as a GET would render it).
        #[serde(default)]
        answer_old: bool,
    },
    /// After a matching create succeeds, the next `reads` GETs of that resource answer 404.
    NotFoundAfterCreate {
        /// How many reads fail.
        reads: u32,
    },
}

/// A rule: which requests it matches and what it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// Assigned by the emulator.
    #[serde(default)]
    pub id: String,
    /// HTTP method to match (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Case-insensitive glob over the request path (`*` matches anything, `/` included).
    pub path: String,
    /// What to do.
    pub action: FaultAction,
    /// Matching requests to let through untouched before the rule fires.
    #[serde(default)]
    pub skip: u32,
    /// How many times the rule fires; unlimited when absent.
    #[serde(default)]
    pub times: Option<u32>,
    /// How many times it has fired.
    #[serde(default)]
    pub fired: u32,
}

/// The effects of all rules on one request.
#[derive(Debug, Default, Clone)]
pub struct FaultOutcome {
    /// Milliseconds to wait first.
    pub delay_ms: u64,
    /// Immediate answer (status / conflict / drop), if any.
    pub immediate: Option<FaultAction>,
    /// The operation this request starts should fail with (`code`, `message`).
    pub fail_async: Option<(String, String)>,
    /// After a successful create, this many reads return 404.
    pub not_found_reads: Option<u32>,
    /// The write is answered but the stored resource is put back as it was (`true`: the
    /// answer shows the old resource too).
    pub keep_old: Option<bool>,
}

/// The active rules.
#[derive(Debug, Default)]
pub struct FaultSet {
    rules: Vec<FaultRule>,
    next_id: u64,
}

impl FaultSet {
    /// Adds a rule and returns its id.
    pub fn add(&mut self, mut rule: FaultRule) -> String {
        self.next_id += 1;
        rule.id = format!("fault-{}", self.next_id);
        rule.fired = 0;
        let id = rule.id.clone();
        self.rules.push(rule);
        id
    }

    /// All rules.
    pub fn list(&self) -> &[FaultRule] {
        &self.rules
    }

    /// Removes one rule; returns whether it existed.
    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        before != self.rules.len()
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Evaluates the rules for a request, consuming counts of the ones that fire.
    pub fn evaluate(&mut self, method: &str, path: &str) -> FaultOutcome {
        let mut out = FaultOutcome::default();
        let is_write = !matches!(method, "GET" | "HEAD");
        for rule in &mut self.rules {
            if rule
                .method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(method))
            {
                continue;
            }
            if !glob_match(&rule.path, path) {
                continue;
            }
            if rule.times.is_some_and(|t| rule.fired >= t) {
                continue;
            }
            // Deferred effects only make sense for writes.
            let deferred = matches!(
                rule.action,
                FaultAction::FailAsync { .. }
                    | FaultAction::NotFoundAfterCreate { .. }
                    | FaultAction::KeepOld { .. }
            );
            if deferred && !is_write {
                continue;
            }
            if out.immediate.is_some() && !matches!(rule.action, FaultAction::Delay { .. }) {
                continue;
            }
            if rule.skip > 0 {
                rule.skip -= 1;
                continue;
            }
            rule.fired += 1;
            match &rule.action {
                FaultAction::Delay { ms } => out.delay_ms += ms,
                FaultAction::FailAsync { code, message } => {
                    out.fail_async = Some((
                        code.clone().unwrap_or_else(|| "InternalServerError".into()),
                        message
                            .clone()
                            .unwrap_or_else(|| "The operation failed (injected fault).".into()),
                    ));
                }
                FaultAction::NotFoundAfterCreate { reads } => out.not_found_reads = Some(*reads),
                FaultAction::KeepOld { answer_old } => {
                    out.keep_old = Some(*answer_old);
                }
                other => out.immediate = Some(other.clone()),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(method: Option<&str>, path: &str, action: FaultAction) -> FaultRule {
        FaultRule {
            id: String::new(),
            method: method.map(str::to_string),
            path: path.into(),
            action,
            skip: 0,
            times: None,
            fired: 0,
        }
    }

    #[test]
    fn times_and_skip_are_honoured() {
        let mut f = FaultSet::default();
        let mut r = rule(Some("GET"), "*/registries/*", FaultAction::Conflict);
        r.skip = 1;
        r.times = Some(2);
        f.add(r);
        let p = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr";
        assert!(f.evaluate("GET", p).immediate.is_none(), "skipped");
        assert!(f.evaluate("GET", p).immediate.is_some());
        assert!(f.evaluate("PUT", p).immediate.is_none(), "method differs");
        assert!(f.evaluate("GET", p).immediate.is_some());
        assert!(f.evaluate("GET", p).immediate.is_none(), "exhausted");
        assert_eq!(f.list()[0].fired, 2);
    }

    #[test]
    fn deferred_actions_only_apply_to_writes() {
        let mut f = FaultSet::default();
        f.add(rule(
            None,
            "*",
            FaultAction::FailAsync {
                code: None,
                message: None,
            },
        ));
        assert!(f.evaluate("GET", "/x").fail_async.is_none());
        assert!(f.evaluate("PUT", "/x").fail_async.is_some());
    }
}
