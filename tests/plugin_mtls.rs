//! AutoMTLS against the real binary: a client with the certificate announced in
//! PLUGIN_CLIENT_CERT gets in, anyone else is refused during the TLS handshake.

mod plugin_support;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use plugin_support::*;
use tonic_health::pb::health_check_response::ServingStatus;

#[tokio::test]
async fn announced_client_certificate_gets_in_and_shutdown_exits_promptly() {
    install_crypto();
    let client = go_plugin_like_client_cert();
    let mut p = Plugin::terraform_like("5,6", Some(&client.cert_pem));
    let hs = p.handshake();
    let config = client_tls_config(&hs.cert_der(), Some(&client));

    let tls = raw_tls(&hs.addr, config.clone()).await.unwrap();
    assert_eq!(
        tls.get_ref().1.alpn_protocol(),
        Some(&b"h2"[..]),
        "ALPN must settle on h2"
    );
    drop(tls);

    let ch = tls_channel(&hs.addr, config).await.unwrap();
    assert_eq!(
        health(ch.clone(), "plugin").await.unwrap(),
        ServingStatus::Serving
    );
    // RPCs on one connection run concurrently.
    let checks = (0..16).map(|_| health(ch.clone(), "plugin"));
    for r in futures::future::join_all(checks).await {
        assert_eq!(r.unwrap(), ServingStatus::Serving);
    }

    shutdown(ch).await.unwrap();
    let status = p
        .wait_exit(TERRAFORM_EXIT_DEADLINE)
        .expect("must exit within Terraform's deadline after Shutdown");
    assert!(status.success(), "{status:?}");
    assert!(!hs.addr.exists(), "socket removed after Shutdown");
}

/// Performs a TLS handshake and tries to use the connection; returns the error text, or `None`
/// if the server accepted the connection.
async fn refusal(
    socket: &std::path::Path,
    config: std::sync::Arc<rustls::ClientConfig>,
) -> Option<String> {
    let mut tls = match raw_tls(socket, config).await {
        Ok(t) => t,
        Err(e) => return Some(e.to_string()),
    };
    // With TLS 1.3 the server judges the client certificate after the client has finished,
    // so the refusal arrives as an alert on the first read.
    if let Err(e) = tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await {
        return Some(e.to_string());
    }
    let mut buf = [0_u8; 64];
    match tls.read(&mut buf).await {
        Err(e) => Some(e.to_string()),
        Ok(0) => Some("closed".to_owned()),
        Ok(_) => None,
    }
}

#[tokio::test]
async fn clients_without_or_with_another_certificate_are_refused_at_tls() {
    install_crypto();
    let client = go_plugin_like_client_cert();
    let intruder = go_plugin_like_client_cert();
    let p = Plugin::terraform_like("6", Some(&client.cert_pem));
    let hs = p.handshake();
    let server_cert = hs.cert_der();

    let none = refusal(&hs.addr, client_tls_config(&server_cert, None)).await;
    let none = none.expect("a client without a certificate must be refused");
    assert!(none.contains("CertificateRequired"), "{none}");

    let other = refusal(&hs.addr, client_tls_config(&server_cert, Some(&intruder))).await;
    let other = other.expect("a client with another certificate must be refused");
    // The alert, or (when the server closed before our first write landed) a closed pipe.
    assert!(
        ["alert", "Broken pipe", "reset", "closed"]
            .iter()
            .any(|m| other.contains(m)),
        "{other}"
    );

    // gRPC over a refused connection fails too.
    let rpc = match tls_channel(&hs.addr, client_tls_config(&server_cert, Some(&intruder))).await {
        Ok(ch) => health(ch, "plugin").await.err(),
        Err(e) => Some(tonic::Status::unavailable(e.to_string())),
    };
    assert!(rpc.is_some(), "RPC with the wrong certificate must fail");

    // The refusals did not hurt the server: the right client still gets in.
    assert_eq!(
        refusal(&hs.addr, client_tls_config(&server_cert, Some(&client))).await,
        None
    );
    let ch = tls_channel(&hs.addr, client_tls_config(&server_cert, Some(&client)))
        .await
        .unwrap();
    assert_eq!(health(ch, "plugin").await.unwrap(), ServingStatus::Serving);
}

#[tokio::test]
async fn plaintext_clients_are_refused_when_tls_is_on() {
    install_crypto();
    let client = go_plugin_like_client_cert();
    let p = Plugin::terraform_like("6", Some(&client.cert_pem));
    let hs = p.handshake();
    let result = match plain_channel(&hs.addr).await {
        Ok(ch) => health(ch, "plugin").await.err(),
        Err(e) => Some(tonic::Status::unavailable(e.to_string())),
    };
    assert!(
        result.is_some(),
        "plaintext gRPC must not work against a TLS server"
    );
}

#[tokio::test]
async fn a_stalled_handshake_does_not_block_other_clients() {
    install_crypto();
    let client = go_plugin_like_client_cert();
    let p = Plugin::terraform_like("6", Some(&client.cert_pem));
    let hs = p.handshake();
    // Connect and say nothing: one handshake task waits on this peer.
    let _idle = tokio::net::UnixStream::connect(&hs.addr).await.unwrap();
    let ch = tls_channel(&hs.addr, client_tls_config(&hs.cert_der(), Some(&client)))
        .await
        .unwrap();
    assert_eq!(health(ch, "plugin").await.unwrap(), ServingStatus::Serving);
}
