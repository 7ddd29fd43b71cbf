//! The binary's stderr under TF_LOG: hclog JSON lines Terraform can parse, and silence without it.

mod plugin_support;

use plugin_support::*;
use serde_json::Value;

/// Runs a full plaintext session (handshake, health check, Shutdown) and returns stderr.
async fn session(env: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
    let mut p = Plugin::spawn(|c| {
        c.env(COOKIE_KEY, COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6,5");
        for (k, v) in env {
            c.env(k, v);
        }
    });
    let hs = p.handshake();
    let ch = plain_channel(&hs.addr).await.unwrap();
    health(ch.clone(), "plugin").await.unwrap();
    shutdown(ch).await.unwrap();
    assert!(p.wait_exit(TERRAFORM_EXIT_DEADLINE).is_some());
    (p.stderr_lines(), p.remaining_stdout())
}

fn parse(line: &str) -> serde_json::Map<String, Value> {
    match serde_json::from_str(line) {
        Ok(Value::Object(m)) => m,
        other => panic!("stderr line is not a JSON object: {line:?} ({other:?})"),
    }
}

#[tokio::test]
async fn tf_log_trace_gives_hclog_json_lines() {
    let (stderr, stdout) = session(&[("TF_LOG", "TRACE")]).await;
    assert_eq!(
        stdout,
        Vec::<String>::new(),
        "only the handshake line goes to stdout"
    );
    assert!(!stderr.is_empty(), "TF_LOG=TRACE must produce log lines");
    let ts = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$").unwrap();
    let mut listening = None;
    for line in &stderr {
        let l = parse(line);
        let level = l["@level"].as_str().expect("@level is a string");
        assert!(
            ["trace", "debug", "info", "warn", "error"].contains(&level),
            "{line}"
        );
        assert!(l["@message"].is_string(), "{line}");
        let module = l["@module"].as_str().unwrap();
        assert!(
            module.starts_with("provider.terraform-provider-amlauth"),
            "{line}"
        );
        assert!(ts.is_match(l["@timestamp"].as_str().unwrap()), "{line}");
        if l["@message"] == "plugin server listening" {
            listening = Some(l);
        }
    }
    let l = listening.expect("startup is logged");
    assert_eq!(l["@level"], "info");
    assert_eq!(l["@module"], "provider.terraform-provider-amlauth.plugin");
    assert_eq!(l["protocol"], 6);
    assert_eq!(l["tls"], false);
}

#[tokio::test]
async fn without_tf_log_stderr_stays_empty() {
    let (stderr, _) = session(&[]).await;
    assert_eq!(stderr, Vec::<String>::new());
}

#[tokio::test]
async fn tf_log_provider_overrides_tf_log() {
    let (stderr, _) = session(&[("TF_LOG", "TRACE"), ("TF_LOG_PROVIDER", "WARN")]).await;
    for line in &stderr {
        let level = parse(line)["@level"].as_str().unwrap().to_owned();
        assert!(level == "warn" || level == "error", "{line}");
    }
    let (stderr, _) = session(&[("TF_LOG", "OFF"), ("TF_LOG_PROVIDER", "debug")]).await;
    assert!(
        stderr.iter().any(|l| parse(l)["@level"] == "debug"),
        "TF_LOG_PROVIDER=debug must enable debug lines: {stderr:?}"
    );
}

#[tokio::test]
async fn skipped_protocol_versions_are_warned_about() {
    let mut p = Plugin::spawn(|c| {
        c.env(COOKIE_KEY, COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "six,6")
            .env("TF_LOG", "WARN");
    });
    assert_eq!(p.handshake().app, "6");
    p.signal("TERM");
    assert!(p.wait_exit(HANDSHAKE_WAIT).is_some());
    let warned = p
        .stderr_lines()
        .iter()
        .map(|l| parse(l))
        .any(|l| l["@level"] == "warn" && l["entry"] == "six");
    assert!(warned, "{:?}", p.stderr_lines());
}
