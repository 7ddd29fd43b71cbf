//! The go-plugin handshake of the real binary: cookie check, negotiation, the stdout line, the
//! socket and plaintext serving.

mod plugin_support;

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::time::Duration;

use plugin_support::*;
use tonic_health::pb::health_check_response::ServingStatus;

#[test]
fn run_by_hand_without_cookie_exits_1_with_a_human_message() {
    for cookie in [None, Some("not-the-cookie")] {
        let mut p = Plugin::spawn(|c| {
            if let Some(v) = cookie {
                c.env(COOKIE_KEY, v);
            }
        });
        let status = p.wait_exit(HANDSHAKE_WAIT).expect("must exit on its own");
        assert_eq!(status.code(), Some(1), "cookie {cookie:?}");
        assert_eq!(
            p.remaining_stdout(),
            Vec::<String>::new(),
            "nothing on stdout"
        );
        let err = p.stderr_lines().join("\n");
        assert!(err.contains("Terraform provider plugin"), "{err}");
        assert!(err.contains("--debug"), "{err}");
        assert!(
            !err.starts_with('{'),
            "a human message, not a JSON log line: {err}"
        );
        assert_eq!(
            std::fs::read_dir(p.dir.path()).unwrap().count(),
            0,
            "no socket left"
        );
    }
}

#[test]
fn handshake_line_announces_socket_and_unpadded_der_certificate() {
    let client = go_plugin_like_client_cert();
    let p = Plugin::terraform_like("5,6", Some(&client.cert_pem));
    let hs = p.handshake();
    assert_eq!(hs.core, "1");
    assert_eq!(hs.app, "6");
    assert_eq!(hs.network, "unix");
    assert_eq!(hs.protocol, "grpc");
    assert!(hs.addr.starts_with(p.dir.path()), "{hs:?}");
    let meta = std::fs::metadata(&hs.addr).unwrap();
    assert!(
        meta.file_type().is_socket(),
        "bound before the line was printed"
    );

    assert!(!hs.cert.contains('='), "no base64 padding: {}", hs.cert);
    assert!(
        hs.cert.len() > 50,
        "go-plugin treats <= 50 chars as no certificate"
    );
    let der = hs.cert_der();
    let (rest, cert) = x509_parser::parse_x509_certificate(der.as_ref()).unwrap();
    assert!(rest.is_empty());
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert!(san.value.general_names.iter().any(|n| matches!(
        n,
        x509_parser::extensions::GeneralName::DNSName("localhost")
    )));
    assert!(cert.validity().is_valid());
    // The line is the only thing on stdout.
    assert_eq!(p.next_stdout_line(Duration::from_millis(200)), None);
}

#[tokio::test]
async fn negotiation_prefers_6_accepts_any_order_and_falls_back_to_5() {
    let cases = [
        ("5,6", "6"),
        ("6,5", "6"),
        ("5", "5"),
        ("6", "6"),
        ("x,6", "6"),
        ("garbage", "5"),
        ("4,7", "5"),
    ];
    for (offered, want) in cases {
        let p = Plugin::terraform_like(offered, None);
        let hs = p.handshake();
        assert_eq!(hs.app, want, "offered {offered:?}");
        // The provider service registered is the announced one, and only that one.
        let ch = plain_channel(&hs.addr).await.unwrap();
        let other = if want == "6" { "5" } else { "6" };
        assert_eq!(
            health(ch.clone(), &format!("tfplugin{want}.Provider"))
                .await
                .unwrap(),
            ServingStatus::Serving
        );
        let missing = health(ch, &format!("tfplugin{other}.Provider")).await;
        assert_eq!(
            missing.unwrap_err().code(),
            tonic::Code::NotFound,
            "offered {offered:?}"
        );
    }
}

#[test]
fn missing_version_variable_falls_back_to_5() {
    let p = Plugin::spawn(|c| {
        c.env(COOKIE_KEY, COOKIE);
    });
    assert_eq!(p.handshake().app, "5");
}

#[tokio::test]
async fn plaintext_without_client_cert_serves_and_shuts_down() {
    let mut p = Plugin::terraform_like("5,6", None);
    let hs = p.handshake();
    assert_eq!(hs.cert, "", "empty certificate field in plaintext mode");
    assert!(hs.raw.ends_with("|grpc|"), "{:?}", hs.raw);

    let ch = plain_channel(&hs.addr).await.unwrap();
    assert_eq!(
        health(ch.clone(), "plugin").await.unwrap(),
        ServingStatus::Serving
    );
    shutdown(ch).await.unwrap();
    let status = p
        .wait_exit(TERRAFORM_EXIT_DEADLINE)
        .expect("must exit within Terraform's deadline after Shutdown");
    assert!(status.success(), "{status:?}");
    assert!(!hs.addr.exists(), "socket removed on exit");
}

#[tokio::test]
async fn stdio_and_broker_streams_are_accepted() {
    use amlauth::proto::goplugin::ConnInfo;
    use amlauth::proto::goplugin::grpc_broker_client::GrpcBrokerClient;
    use amlauth::proto::goplugin::grpc_stdio_client::GrpcStdioClient;
    use futures::StreamExt as _;

    let mut p = Plugin::terraform_like("6", None);
    let hs = p.handshake();
    let ch = plain_channel(&hs.addr).await.unwrap();
    let mut stdio = GrpcStdioClient::new(ch.clone())
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    let (tx, rx) = tokio::sync::mpsc::channel::<ConnInfo>(1);
    let mut broker = GrpcBrokerClient::new(ch.clone())
        .start_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    tx.send(ConnInfo {
        service_id: 1,
        network: "unix".into(),
        address: "/nowhere".into(),
        knock: None,
    })
    .await
    .unwrap();
    // Both stay open and silent while serving.
    let quiet = tokio::time::timeout(Duration::from_millis(200), async {
        tokio::select! { m = stdio.next() => m.is_some(), m = broker.next() => m.is_some() }
    })
    .await;
    assert!(
        quiet.is_err(),
        "stdio and broker must not send or end while serving"
    );
    assert_eq!(
        health(ch.clone(), "plugin").await.unwrap(),
        ServingStatus::Serving
    );

    shutdown(ch).await.unwrap();
    assert!(
        p.wait_exit(TERRAFORM_EXIT_DEADLINE).is_some(),
        "open streams must not block exit"
    );
    drop(tx);
}

#[test]
fn socket_goes_to_the_temp_dir_by_default_and_is_removed_on_sigterm() {
    let mut p = Plugin::spawn(|c| {
        c.env(COOKIE_KEY, COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env_remove("PLUGIN_UNIX_SOCKET_DIR");
    });
    let hs = p.handshake();
    assert!(hs.addr.starts_with(std::env::temp_dir()), "{hs:?}");
    assert!(hs.addr.exists());
    p.signal("TERM");
    let status = p
        .wait_exit(HANDSHAKE_WAIT)
        .expect("SIGTERM stops the plugin");
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    assert!(!hs.addr.exists(), "socket removed on SIGTERM");
}

#[test]
fn socket_group_makes_the_socket_group_writable() {
    let gid = nix_gid();
    let p = Plugin::spawn(|c| {
        c.env(COOKIE_KEY, COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("PLUGIN_UNIX_SOCKET_GROUP", gid.to_string());
    });
    let hs = p.handshake();
    let meta = std::fs::metadata(&hs.addr).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o660);
    assert_eq!(meta.gid(), gid);
}

#[test]
fn unknown_socket_group_is_a_clear_startup_error() {
    let mut p = Plugin::spawn(|c| {
        c.env(COOKIE_KEY, COOKIE)
            .env("PLUGIN_UNIX_SOCKET_GROUP", "no-such-group-amlauth");
    });
    let status = p.wait_exit(HANDSHAKE_WAIT).expect("must exit");
    assert_eq!(status.code(), Some(1));
    assert_eq!(p.remaining_stdout(), Vec::<String>::new());
    let err = p.stderr_lines().join("\n");
    assert!(err.contains("PLUGIN_UNIX_SOCKET_GROUP"), "{err}");
    assert_eq!(
        std::fs::read_dir(p.dir.path()).unwrap().count(),
        0,
        "socket removed"
    );
}

#[test]
fn invalid_client_certificate_is_a_clear_startup_error() {
    let mut p = Plugin::terraform_like("6", Some("this is not PEM"));
    let status = p.wait_exit(HANDSHAKE_WAIT).expect("must exit");
    assert_eq!(status.code(), Some(1));
    assert_eq!(p.remaining_stdout(), Vec::<String>::new());
    let err = p.stderr_lines().join("\n");
    assert!(err.contains("PLUGIN_CLIENT_CERT"), "{err}");
}

#[test]
fn version_and_help_flags() {
    let out = std::process::Command::new(BIN)
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim(),
        format!("terraform-provider-amlauth {}", env!("CARGO_PKG_VERSION"))
    );

    let out = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("--debug"));

    let out = std::process::Command::new(BIN)
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8(out.stderr).unwrap().contains("--bogus"));
}

/// The test process's effective gid (the plugin runs as the same user).
fn nix_gid() -> u32 {
    std::fs::metadata("/proc/self").unwrap().gid()
}
