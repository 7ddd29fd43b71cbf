//! AutoMTLS: the server's throw-away certificate and a verifier pinned to Terraform's client
//! certificate.
//!
//! Terraform's client certificate is a self-signed ECDSA P-521 certificate with `CA:true`, so a
//! webpki chain verifier refuses it as an end entity; instead we accept exactly the certificate(s)
//! announced in `PLUGIN_CLIENT_CERT` and check the handshake signatures with aws-lc-rs (which,
//! unlike ring, verifies P-521).

use std::sync::Arc;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName as TlsName, SignatureScheme,
};
use time::{Duration, OffsetDateTime};

use super::error::PluginError;

/// How long the generated certificate is valid. A provider process lives for one Terraform
/// command, so this only needs to outlast the longest plausible run.
const CERT_LIFETIME: Duration = Duration::days(365);
/// Backdating tolerates clocks that differ a little between host and plugin.
const CERT_BACKDATE: Duration = Duration::hours(1);

/// Installs aws-lc-rs as the process-wide rustls provider. Idempotent; call before building any
/// rustls config (tonic and reqwest both rely on it when more than one provider is compiled in).
pub fn install_crypto_provider() {
    // An error only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The server's certificate, generated for this process only.
#[derive(Debug)]
pub struct ServerCertificate {
    /// DER of the certificate (announced in the handshake line).
    pub cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

impl ServerCertificate {
    /// Generates a P-256 certificate for `localhost` (the name go-plugin's client verifies), for
    /// server authentication, valid from an hour ago for a year.
    pub fn generate() -> Result<Self, PluginError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "localhost");
        dn.push(DnType::OrganizationName, "terraform-provider-amlauth");
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - CERT_BACKDATE;
        params.not_after = now + CERT_LIFETIME;
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_der: cert.der().clone(),
            key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }
}

/// Parses every `CERTIFICATE` block of a PEM text (the value of `PLUGIN_CLIENT_CERT`).
pub fn parse_client_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, PluginError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PluginError::InvalidClientCertificate(e.to_string()))?;
    if certs.is_empty() {
        return Err(PluginError::InvalidClientCertificate(
            "no certificate found".to_owned(),
        ));
    }
    Ok(certs)
}

/// Builds the rustls server config: client certificate required and pinned, ALPN `h2`.
pub fn server_config(
    server: &ServerCertificate,
    client_certs: Vec<CertificateDer<'static>>,
) -> Result<rustls::ServerConfig, PluginError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedClientCert::new(client_certs, &provider);
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![server.cert_der.clone()],
            PrivateKeyDer::Pkcs8(server.key_der.clone_key()),
        )?;
    // grpc-go (>= 1.67) drops TLS peers that do not agree on h2; tonic's own acceptor adds it,
    // a hand-built config must say so itself.
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(cfg)
}

/// Accepts a client only if it presents one of the pinned certificates, byte for byte.
#[derive(Debug)]
pub struct PinnedClientCert {
    pinned: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    /// Pins `certs`, verifying handshake signatures with `provider`'s algorithms.
    pub fn new(certs: Vec<CertificateDer<'static>>, provider: &CryptoProvider) -> Self {
        Self {
            pinned: certs,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[TlsName] {
        // Go's client sends its only certificate even when the server names no CA.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_is_a_localhost_server_leaf() {
        let c = ServerCertificate::generate().unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(c.cert_der.as_ref()).unwrap();
        let san = cert.subject_alternative_name().unwrap().unwrap();
        assert!(san.value.general_names.iter().any(|n| matches!(
            n,
            x509_parser::extensions::GeneralName::DNSName("localhost")
        )));
        assert!(
            !cert.is_ca(),
            "webpki clients refuse a CA certificate as end entity"
        );
        let eku = cert.extended_key_usage().unwrap().unwrap();
        assert!(eku.value.server_auth);
        assert!(cert.validity().is_valid());
    }

    #[test]
    fn client_cert_pem_is_parsed_or_rejected_clearly() {
        let c = ServerCertificate::generate().unwrap();
        let text = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64_lines(c.cert_der.as_ref())
        );
        let certs = parse_client_certs(&text).unwrap();
        assert_eq!(certs, vec![c.cert_der.clone()]);
        assert!(matches!(
            parse_client_certs("not a pem"),
            Err(PluginError::InvalidClientCertificate(_))
        ));
        assert!(matches!(
            parse_client_certs("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"),
            Err(PluginError::InvalidClientCertificate(_))
        ));
    }

    #[test]
    fn verifier_pins_exact_bytes_and_requires_a_certificate() {
        install_crypto_provider();
        let a = ServerCertificate::generate().unwrap();
        let b = ServerCertificate::generate().unwrap();
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let v = PinnedClientCert::new(vec![a.cert_der.clone()], &provider);
        assert!(v.client_auth_mandatory());
        assert!(v.root_hint_subjects().is_empty());
        assert!(
            v.verify_client_cert(&a.cert_der, &[], UnixTime::now())
                .is_ok()
        );
        assert!(
            v.verify_client_cert(&b.cert_der, &[], UnixTime::now())
                .is_err()
        );
        assert!(
            v.supported_verify_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512),
            "P-521 must be verifiable: Terraform's client key is P-521"
        );
    }

    #[test]
    fn server_config_offers_h2() {
        let a = ServerCertificate::generate().unwrap();
        let cfg = server_config(&a, vec![a.cert_der.clone()]).unwrap();
        assert_eq!(cfg.alpn_protocols, vec![b"h2".to_vec()]);
    }

    fn base64_lines(der: &[u8]) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        b64.as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }
}
