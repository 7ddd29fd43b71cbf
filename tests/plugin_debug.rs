//! `--debug`: plaintext on a unix socket, a pasteable TF_REATTACH_PROVIDERS value, Ctrl-C stops.

mod plugin_support;

use std::time::Duration;

use plugin_support::*;
use serde_json::Value;
use tonic_health::pb::health_check_response::ServingStatus;

/// Reads the banner until the TF_REATTACH_PROVIDERS line and returns its JSON value.
fn reattach_value(p: &Plugin) -> Value {
    loop {
        let line = p
            .next_stdout_line(HANDSHAKE_WAIT)
            .unwrap_or_else(|| panic!("no reattach line; stderr {:?}", p.stderr_lines()));
        if let Some(rest) = line.trim().strip_prefix("export TF_REATTACH_PROVIDERS='") {
            let json = rest.strip_suffix('\'').expect("value is single-quoted");
            return serde_json::from_str(json).unwrap();
        }
    }
}

#[tokio::test]
async fn debug_mode_prints_reattach_value_serves_plaintext_and_stops_on_ctrl_c() {
    // No cookie: debug mode is started by a developer.
    let mut p = Plugin::spawn(|c| {
        c.arg("--debug");
    });
    let v = reattach_value(&p);
    let entry = &v["registry.terraform.io/amlauth/amlauth"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Pid"], p.pid());
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Addr"]["Network"], "unix");
    let socket = std::path::PathBuf::from(entry["Addr"]["String"].as_str().unwrap());
    assert!(socket.starts_with(p.dir.path()));

    let ch = plain_channel(&socket).await.unwrap();
    assert_eq!(
        health(ch.clone(), "plugin").await.unwrap(),
        ServingStatus::Serving
    );
    assert_eq!(
        health(ch, "tfplugin6.Provider").await.unwrap(),
        ServingStatus::Serving
    );
    // Nobody else calls Shutdown in debug mode; the developer's Ctrl-C ends it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(p.is_running());
    p.signal("INT");
    let status = p
        .wait_exit(HANDSHAKE_WAIT)
        .expect("Ctrl-C stops debug mode");
    assert!(status.success(), "{status:?}");
    assert!(!socket.exists(), "socket removed");
}

#[test]
fn debug_mode_honours_address_and_protocol_flags() {
    let p = Plugin::spawn(|c| {
        c.args([
            "--debug",
            "--provider-address=example.com/acme/amlauth",
            "--debug-protocol=5",
        ]);
    });
    let v = reattach_value(&p);
    assert_eq!(v["example.com/acme/amlauth"]["ProtocolVersion"], 5);
}
