//! What the plugin prints on stdout: the go-plugin handshake line, or the debug-mode banner.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde::Serialize;

use super::error::PluginError;
use super::options::ProtocolVersion;

/// go-plugin's core protocol version; clients reject anything else.
const CORE_PROTOCOL_VERSION: u32 = 1;

/// Formats `1|<app>|unix|<path>|grpc|<cert>` plus a newline. The certificate is the server's DER
/// in standard base64 without padding (what go-plugin decodes); it is empty in plaintext mode.
/// There is deliberately no seventh field: go-plugin 1.4 would glue it onto the certificate.
pub fn handshake_line(
    version: ProtocolVersion,
    socket: &Path,
    cert_der: Option<&[u8]>,
) -> Result<String, PluginError> {
    let path = announceable_path(socket)?;
    let cert = cert_der
        .map(|d| STANDARD_NO_PAD.encode(d))
        .unwrap_or_default();
    Ok(format!(
        "{CORE_PROTOCOL_VERSION}|{}|unix|{path}|grpc|{cert}\n",
        version.number()
    ))
}

/// The path as text, refusing what would break a `|`-separated line or a JSON banner reader.
fn announceable_path(socket: &Path) -> Result<&str, PluginError> {
    socket
        .to_str()
        .filter(|p| !p.contains(['|', '\n', '\r']))
        .ok_or_else(|| PluginError::UnrepresentableSocketPath(socket.to_path_buf()))
}

/// Writes `text` to stdout in one go and flushes, so Terraform sees the whole line at once.
pub fn write_stdout(text: &str) -> Result<(), PluginError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(PluginError::Stdout)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ReattachConfig<'a> {
    protocol: &'static str,
    protocol_version: u32,
    pid: u32,
    test: bool,
    addr: ReattachAddr<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ReattachAddr<'a> {
    network: &'static str,
    string: &'a str,
}

/// The JSON value of `TF_REATTACH_PROVIDERS` for one provider served on a unix socket.
/// `Test: true` stops Terraform from shutting the provider down after each command.
pub fn reattach_json(
    provider_address: &str,
    version: ProtocolVersion,
    pid: u32,
    socket: &Path,
) -> Result<String, PluginError> {
    let path = announceable_path(socket)?;
    let mut map = serde_json::Map::new();
    let config = ReattachConfig {
        protocol: "grpc",
        protocol_version: version.number(),
        pid,
        test: true,
        addr: ReattachAddr {
            network: "unix",
            string: path,
        },
    };
    // Serialising plain structs of strings and integers cannot fail.
    let value = serde_json::to_value(config).unwrap_or(serde_json::Value::Null);
    map.insert(provider_address.to_owned(), value);
    Ok(serde_json::Value::Object(map).to_string())
}

/// The human banner printed in debug mode, ending with a line ready to paste into a POSIX shell.
pub fn debug_banner(
    provider_address: &str,
    version: ProtocolVersion,
    pid: u32,
    socket: &Path,
) -> Result<String, PluginError> {
    let json = reattach_json(provider_address, version, pid, socket)?;
    // Single quotes keep the shell from touching the JSON; a quote inside is closed and escaped.
    let quoted = json.replace('\'', r"'\''");
    Ok(format!(
        "terraform-provider-amlauth {} is running in debug mode (protocol {version}, pid {pid}),\n\
         serving plaintext gRPC on unix socket {}.\n\
         \n\
         To use it, run this in the shell where you run Terraform:\n\
         \n\
         \texport TF_REATTACH_PROVIDERS='{quoted}'\n\
         \n\
         Press Ctrl-C to stop the provider.\n",
        env!("CARGO_PKG_VERSION"),
        socket.display(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn line_has_six_fields_and_unpadded_base64() {
        // 4 bytes encode to 6 characters plus "==" with padding.
        let line = handshake_line(
            ProtocolVersion::V6,
            Path::new("/tmp/plugin1"),
            Some(&[1, 2, 3, 4]),
        )
        .unwrap();
        assert_eq!(line, "1|6|unix|/tmp/plugin1|grpc|AQIDBA\n");
        assert_eq!(STANDARD.encode([1, 2, 3, 4]), "AQIDBA==");
    }

    #[test]
    fn plaintext_line_ends_with_an_empty_cert_field() {
        let line = handshake_line(ProtocolVersion::V5, Path::new("/tmp/p"), None).unwrap();
        assert_eq!(line, "1|5|unix|/tmp/p|grpc|\n");
        assert_eq!(line.trim_end().split('|').count(), 6);
    }

    #[test]
    fn paths_that_would_break_the_line_are_refused() {
        for bad in ["/tmp/a|b", "/tmp/a\nb"] {
            assert!(matches!(
                handshake_line(ProtocolVersion::V6, Path::new(bad), None),
                Err(PluginError::UnrepresentableSocketPath(_))
            ));
        }
    }

    #[test]
    fn reattach_json_has_terraforms_shape() {
        let json = reattach_json(
            "registry.terraform.io/amlauth/amlauth",
            ProtocolVersion::V6,
            42,
            Path::new("/tmp/plugin9"),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"registry.terraform.io/amlauth/amlauth": {
                "Protocol": "grpc", "ProtocolVersion": 6, "Pid": 42, "Test": true,
                "Addr": {"Network": "unix", "String": "/tmp/plugin9"}}})
        );
    }

    #[test]
    fn banner_quotes_the_value_for_the_shell() {
        let b = debug_banner("a/b", ProtocolVersion::V6, 1, Path::new("/tmp/it's")).unwrap();
        assert!(b.contains(r#"TF_REATTACH_PROVIDERS='{"a/b":"#), "{b}");
        assert!(b.contains(r"/tmp/it'\''s"), "{b}");
    }
}
