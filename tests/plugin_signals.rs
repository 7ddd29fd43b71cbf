//! Signals: Terraform forwards Ctrl-C to the process group, but a provider must keep serving
//! until StopProvider/Shutdown; SIGTERM ends it cleanly.

mod plugin_support;

use std::time::Duration;

use plugin_support::*;
use tonic_health::pb::health_check_response::ServingStatus;

#[tokio::test]
async fn sigint_is_ignored_and_sigterm_exits_cleanly() {
    let mut p = Plugin::terraform_like("5,6", None);
    let hs = p.handshake();

    p.signal("INT");
    p.signal("INT");
    // Give a default SIGINT disposition the chance to kill the process, then check it did not.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(p.is_running(), "SIGINT must not stop the provider");
    let ch = plain_channel(&hs.addr).await.unwrap();
    assert_eq!(health(ch, "plugin").await.unwrap(), ServingStatus::Serving);

    p.signal("TERM");
    let status = p
        .wait_exit(HANDSHAKE_WAIT)
        .expect("SIGTERM stops the provider");
    assert_eq!(status.code(), Some(0), "clean exit: {status:?}");
    assert!(!hs.addr.exists(), "socket removed on SIGTERM");
}
