//! Client certificate authentication without OpenSSL.
//!
//! azure_identity's `ClientCertificateCredential` needs its `client_certificate` feature,
//! which links OpenSSL; a Terraform provider binary should not depend on the host's libssl.
//! Instead this module signs the client assertion itself (RS256 via rustls' aws-lc-rs
//! signer) and hands it to azure_identity's `ClientAssertionCredential`.
//!
//! Accepted input: PEM holding the certificate and its unencrypted RSA private key (PKCS#8
//! or PKCS#1), from `client_certificate_path` or base64 in `client_certificate`. PKCS#12
//! (`.pfx`) files are recognised and refused with a conversion hint, since decoding them
//! would need another dependency.

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use base64::Engine as _;
use rustls::SignatureScheme;
use rustls::pki_types::CertificateDer;
use rustls::sign::SigningKey;
use serde_json::json;
use time::OffsetDateTime;

use super::config::CertificateSource;

/// Signs client assertions (JWTs) with a certificate's private key.
pub struct CertificateAssertion {
    client_id: String,
    audience: String,
    thumbprint_s256: String,
    key: Arc<dyn SigningKey>,
}

impl std::fmt::Debug for CertificateAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAssertion")
            .field("client_id", &self.client_id)
            .field("thumbprint_s256", &self.thumbprint_s256)
            .finish_non_exhaustive()
    }
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// SHA-256 via the hash provider rustls already carries (no extra digest crate needed).
fn sha256(data: &[u8]) -> Vec<u8> {
    match rustls::crypto::aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256 {
        rustls::SupportedCipherSuite::Tls13(s) => {
            s.common.hash_provider.hash(data).as_ref().to_vec()
        }
        #[allow(unreachable_patterns)]
        _ => unreachable!("a TLS 1.3 suite is a TLS 1.3 suite"),
    }
}

/// Reads the certificate bytes from where the settings point.
pub fn load_certificate_bytes(source: &CertificateSource) -> Result<Vec<u8>, String> {
    match source {
        CertificateSource::Path(p) => super::config::read_setting_file(
            "client_certificate_path",
            p,
            super::config::MAX_CERTIFICATE_BYTES,
        )
        .map_err(|e| e.to_string()),
        CertificateSource::Inline(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64.secret())
            .map_err(|e| format!("client_certificate is not valid base64: {e}")),
    }
}

impl CertificateAssertion {
    /// Parses PEM certificate + key. `token_endpoint` is the assertion's audience.
    pub fn from_pem(
        pem: &[u8],
        password_set: bool,
        client_id: &str,
        token_endpoint: &str,
    ) -> Result<Self, String> {
        if !pem.windows(11).any(|w| w == b"-----BEGIN ") {
            return Err("the certificate is not PEM; PKCS#12 (.pfx) files are not supported by this provider, \
                convert one with `openssl pkcs12 -in cert.pfx -out cert.pem -nodes` and point client_certificate_path at the PEM file"
                .into());
        }
        if pem.windows(9).any(|w| w == b"ENCRYPTED") {
            return Err(
                "the private key is encrypted; decrypt it (e.g. `openssl pkey -in key.pem -out plain.pem`) since encrypted PEM keys are not supported"
                    .into(),
            );
        }
        if password_set {
            tracing::debug!(
                "client_certificate_password is ignored for an unencrypted PEM certificate"
            );
        }
        let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut &pem[..])
            .collect::<Result<_, _>>()
            .map_err(|e| format!("the certificate PEM cannot be parsed: {e}"))?;
        let cert = certs.first().ok_or("the PEM holds no CERTIFICATE block")?;
        let key = rustls_pemfile::private_key(&mut &pem[..])
            .map_err(|e| format!("the private key PEM cannot be parsed: {e}"))?
            .ok_or("the PEM holds no PRIVATE KEY block")?;
        let key = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)
            .map_err(|e| format!("the private key is not usable: {e}"))?;
        if key
            .choose_scheme(&[SignatureScheme::RSA_PKCS1_SHA256])
            .is_none()
        {
            return Err("the certificate's key must be RSA (Entra ID only accepts RSA certificate credentials)".into());
        }
        Ok(CertificateAssertion {
            client_id: client_id.to_string(),
            audience: token_endpoint.to_string(),
            thumbprint_s256: b64url(&sha256(cert.as_ref())),
            key,
        })
    }

    /// A fresh signed assertion, valid for ten minutes.
    pub fn sign(&self) -> Result<String, String> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t#S256": self.thumbprint_s256});
        let claims = json!({
            "aud": self.audience,
            "iss": self.client_id,
            "sub": self.client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        });
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let signer = self
            .key
            .choose_scheme(&[SignatureScheme::RSA_PKCS1_SHA256])
            .ok_or("the certificate's key cannot sign RS256")?;
        let sig = signer
            .sign(signing_input.as_bytes())
            .map_err(|e| format!("signing the client assertion failed: {e}"))?;
        Ok(format!("{signing_input}.{}", b64url(&sig)))
    }
}

#[async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.sign().map_err(|m| {
            azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, m)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_pkcs12_and_encrypted_keys() {
        let e = CertificateAssertion::from_pem(&[0x30, 0x82, 0x01], false, "c", "https://x")
            .unwrap_err();
        assert!(e.contains("PKCS#12") && e.contains("openssl pkcs12"), "{e}");
        let e = CertificateAssertion::from_pem(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            true,
            "c",
            "https://x",
        )
        .unwrap_err();
        assert!(e.contains("encrypted"), "{e}");
        let e = CertificateAssertion::from_pem(
            b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            false,
            "c",
            "x",
        )
        .unwrap_err();
        assert!(
            e.contains("PRIVATE KEY") || e.contains("CERTIFICATE"),
            "{e}"
        );
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            b64url(&sha256(b"abc")),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }

    #[test]
    fn refuses_non_rsa_keys() {
        let ck = rcgen::generate_simple_self_signed(vec!["c".into()]).unwrap();
        let pem = format!("{}{}", ck.cert.pem(), ck.signing_key.serialize_pem());
        let e =
            CertificateAssertion::from_pem(pem.as_bytes(), false, "c", "https://x").unwrap_err();
        assert!(e.contains("RSA"), "{e}");
    }
}
