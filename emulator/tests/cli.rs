//! The `amlauth-emulator` binary: readiness line, environment output, flags, exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_amlauth-emulator"))
}

#[test]
fn ready_line_and_print_env_describe_how_to_connect() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let mut child = bin()
        .args(["--print-env", "--ca-out"])
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..15 {
        let mut l = String::new();
        reader.read_line(&mut l).unwrap();
        let done = l.contains("REQUESTS_CA_BUNDLE");
        lines.push(l.trim_end().to_string());
        if done {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        lines[0].starts_with("READY https://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(lines[0].contains("identity_endpoint=http://127.0.0.1:"));
    let url = lines[0].split_whitespace().nth(1).unwrap();
    assert!(lines.contains(&format!("export ARM_RESOURCE_MANAGER_ENDPOINT={url}")));
    assert!(lines.contains(&format!("export ARM_AUTHORITY_HOST={url}")));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("export ARM_CA_BUNDLE=") && l.ends_with("ca.pem"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("export IDENTITY_HEADER="))
    );
    let pem = std::fs::read_to_string(&ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    // Python/OpenSSL clients get the system store plus the emulator CA, so the shell keeps
    // reaching everything else (issue 10.3).
    let bundle = dir.path().join("ca-bundle.pem");
    for var in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("export {var}=")) && l.ends_with("ca-bundle.pem")),
            "{var}: {lines:?}"
        );
    }
    let text = std::fs::read_to_string(&bundle).unwrap();
    assert!(
        text.trim_end().ends_with(pem.trim_end()),
        "the emulator CA comes last"
    );
    // The machine's store (when it has one) is in front of it: count certificates.
    let system = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
    let count = |s: &str| s.matches("-----BEGIN CERTIFICATE-----").count();
    assert!(
        count(&text) > count(&system).min(1),
        "system roots missing from the bundle ({} certificates)",
        count(&text)
    );
}

#[test]
fn plain_http_serves_and_sigterm_stops_cleanly() {
    let mut child = bin()
        .arg("--http")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.split_whitespace().nth(1).unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let host = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    use std::io::{Read, Write};
    stream
        .write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let mut status = None;
    for _ in 0..50 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = status.expect("emulator exits on SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_inputs_exit_non_zero_with_a_message() {
    let out = bin().args(["--listen", "0.0.0.0:0"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("non-loopback"));

    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(&seed, "{not json").unwrap();
    let out = bin().arg("--seed").arg(&seed).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid JSON"));

    std::fs::write(&seed, r#"{"subscriptions":[{"id":"s","resourceGroups":[{"name":"r","workspaces":[{"name":"w","identity":"Bogus"}]}]}]}"#).unwrap();
    let out = bin().arg("--seed").arg(&seed).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid seed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let state = dir.path().join("state.json");
    std::fs::write(&state, "{truncated").unwrap();
    let out = bin().arg("--state").arg(&state).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("state file"));
    assert_eq!(
        std::fs::read_to_string(&state).unwrap(),
        "{truncated",
        "a corrupt state file is never overwritten"
    );

    let out = bin().args(["--client", "no-equals-sign"]).output().unwrap();
    assert!(!out.status.success());
}
