//! hclog-compatible logging: `tracing` events become JSON lines on stderr that Terraform shows as
//! structured provider log entries under `TF_LOG`, with secrets redacted before writing.
//!
//! Level: what Terraform itself keeps for provider lines (`TF_LOG_PROVIDER`, else `TF_LOG`;
//! unset means off, so no time is spent formatting lines Terraform would drop). Our crates log at
//! that level, dependencies at WARN at most. `AMLAUTH_LOG` (e.g. `amlauth=trace,h2=debug`)
//! overrides the filter for development.

pub mod hclog;
pub mod level;
pub mod redact;

use std::str::FromStr;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

pub use hclog::HclogLayer;
pub use redact::{PLACEHOLDER, Secret, Sensitive, redact, register_secret};

/// Installs the global subscriber for a process started by Terraform: nothing is logged unless
/// `TF_LOG_PROVIDER`/`TF_LOG` (or `AMLAUTH_LOG`) ask for it.
pub fn init() {
    init_with_default(None);
}

/// Like [`init`], but logs at `default` when the environment names no level (debug mode uses
/// INFO: a developer watching the terminal wants to see something).
pub fn init_with_default(default: Option<LevelFilter>) {
    let var = |k: &str| std::env::var(k).ok();
    let filter = match var(level::AMLAUTH_LOG).filter(|v| !v.trim().is_empty()) {
        Some(directives) => Targets::from_str(&directives).ok(),
        None => None,
    };
    let filter = filter.or_else(|| {
        level::terraform_level(
            var(level::TF_LOG_PROVIDER).as_deref(),
            var(level::TF_LOG).as_deref(),
        )
        .or(default)
        .map(level::targets)
    });
    let Some(filter) = filter else {
        // No subscriber at all: every `tracing` call site is disabled at almost no cost.
        return;
    };
    // Fails only if a subscriber is already installed (e.g. by a test); keep that one.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(HclogLayer::new(std::io::stderr))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    /// Collects written lines in memory.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// Runs `f` under a scoped subscriber (TRACE for everything) and returns the parsed lines.
    fn capture(f: impl FnOnce()) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let cap = Capture::default();
        let sub = tracing_subscriber::registry()
            .with(Targets::new().with_default(LevelFilter::TRACE))
            .with(HclogLayer::new(cap.clone()));
        tracing::subscriber::with_default(sub, f);
        let bytes = cap.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.ends_with('\n'), "every line ends with a newline");
        text.lines()
            .map(|l| match serde_json::from_str(l).unwrap() {
                serde_json::Value::Object(m) => m,
                other => panic!("not an object: {other}"),
            })
            .collect()
    }

    fn is_hclog_timestamp(ts: &str) -> bool {
        // 2026-01-02T03:04:05.123456Z
        let re = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$").unwrap();
        re.is_match(ts)
    }

    #[test]
    fn event_becomes_a_single_hclog_line() {
        let lines = capture(|| {
            tracing::info!(target: "amlauth::azure::client", id = "w-1", attempt = 2_u64, ok = true, ratio = 0.5, "created widget");
        });
        assert_eq!(lines.len(), 1);
        let l = &lines[0];
        assert_eq!(l["@level"], "info");
        assert_eq!(l["@message"], "created widget");
        assert_eq!(l["@module"], "provider.terraform-provider-amlauth.azure");
        assert!(
            is_hclog_timestamp(l["@timestamp"].as_str().unwrap()),
            "{}",
            l["@timestamp"]
        );
        assert_eq!(l["id"], "w-1");
        assert_eq!(l["attempt"], 2);
        assert_eq!(l["ok"], true);
        assert_eq!(l["ratio"], 0.5);
        let keys: Vec<&str> = l.keys().map(String::as_str).collect();
        assert_eq!(&keys[..4], ["@level", "@message", "@module", "@timestamp"]);
    }

    #[test]
    fn every_level_has_its_hclog_name() {
        let lines = capture(|| {
            tracing::trace!("t");
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
            tracing::error!("e");
        });
        let levels: Vec<&str> = lines
            .iter()
            .map(|l| l["@level"].as_str().unwrap())
            .collect();
        assert_eq!(levels, ["trace", "debug", "info", "warn", "error"]);
    }

    #[test]
    fn messages_with_quotes_and_newlines_stay_on_one_line() {
        let lines = capture(|| {
            tracing::warn!(detail = "a\tb", "line1\nline2 \"quoted\" \\ \u{1b}[31m");
        });
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0]["@message"],
            "line1\nline2 \"quoted\" \\ \u{1b}[31m"
        );
        assert_eq!(lines[0]["detail"], "a\tb");
    }

    #[test]
    fn span_fields_are_included_and_event_fields_win() {
        let lines = capture(|| {
            let span = tracing::info_span!("rpc", rpc = "PlanResourceChange", attempt = 1_u64);
            let _g = span.enter();
            span.record("attempt", 3_u64);
            tracing::debug!(attempt = 7_u64, "planning");
        });
        let l = lines.last().unwrap();
        assert_eq!(l["rpc"], "PlanResourceChange");
        assert_eq!(l["attempt"], 7);
    }

    #[test]
    fn secrets_are_redacted_in_messages_and_fields() {
        register_secret("registered-client-secret-0001");
        let lines = capture(|| {
            let body = r#"{"access_token":"tok-123","expires_in":3599}"#;
            tracing::debug!(
                header = "Bearer abcdefghijklmnopqrstuvwxyz0123",
                body,
                url = "https://a.blob.core.windows.net/c?sp=r&sig=SECRETSIG",
                "using registered-client-secret-0001 now"
            );
            let err = std::io::Error::other("auth failed for registered-client-secret-0001");
            tracing::error!(error = &err as &(dyn std::error::Error + 'static), "failed");
            tracing::info!(value = ?Sensitive::new("debug-printed-secret"), "wrapped");
        });
        let text = lines
            .iter()
            .map(|l| serde_json::Value::Object(l.clone()).to_string())
            .collect::<String>();
        for leaked in [
            "registered-client-secret-0001",
            "abcdefghijklmnopqrstuvwxyz0123",
            "tok-123",
            "SECRETSIG",
            "debug-printed-secret",
        ] {
            assert!(!text.contains(leaked), "{leaked} leaked into {text}");
        }
        assert_eq!(lines[0]["@message"], "using [REDACTED] now");
        assert_eq!(lines[1]["error"], "auth failed for [REDACTED]");
        assert_eq!(lines[2]["value"], "[REDACTED]");
    }

    #[test]
    fn reserved_keys_cannot_be_overridden_by_fields() {
        let line = hclog::format_line(
            tracing::Level::INFO,
            "m",
            hclog::BASE_MODULE,
            None,
            serde_json::json!({"@level": "error", "k": 1})
                .as_object()
                .unwrap()
                .clone(),
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["@level"], "info");
        assert_eq!(v["_@level"], "error");
        assert!(
            v.get("@timestamp").is_none(),
            "timestamp is optional in hclog"
        );
    }

    #[test]
    fn long_values_are_cut_on_a_char_boundary() {
        let long = "é".repeat(20_000);
        let line = hclog::format_line(
            tracing::Level::INFO,
            &long,
            hclog::BASE_MODULE,
            None,
            serde_json::Map::new(),
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let msg = v["@message"].as_str().unwrap();
        assert!(msg.len() < 17 * 1024, "{}", msg.len());
        assert!(msg.ends_with("bytes]"));
    }

    #[test]
    fn modules_follow_the_event_target() {
        assert_eq!(hclog::module_for("amlauth"), hclog::BASE_MODULE);
        assert_eq!(
            hclog::module_for("terraform_provider_amlauth"),
            hclog::BASE_MODULE
        );
        assert_eq!(
            hclog::module_for("amlauth::plugin::tls"),
            "provider.terraform-provider-amlauth.plugin"
        );
        assert_eq!(
            hclog::module_for("h2::codec"),
            "provider.terraform-provider-amlauth.h2"
        );
    }
}
