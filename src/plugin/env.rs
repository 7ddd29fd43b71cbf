//! The environment variables through which Terraform (via go-plugin) configures a plugin.

use std::path::PathBuf;

/// Name of the magic cookie variable Terraform sets for its provider plugins.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The fixed value Terraform puts in [`MAGIC_COOKIE_KEY`].
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// Protocol majors offered by the client, comma separated, in any order.
pub const PROTOCOL_VERSIONS_KEY: &str = "PLUGIN_PROTOCOL_VERSIONS";
/// PEM of the client certificate when AutoMTLS is on.
pub const CLIENT_CERT_KEY: &str = "PLUGIN_CLIENT_CERT";
/// Directory for the unix socket (defaults to the temp dir).
pub const SOCKET_DIR_KEY: &str = "PLUGIN_UNIX_SOCKET_DIR";
/// Group (name or numeric id) that should be able to connect to the socket.
pub const SOCKET_GROUP_KEY: &str = "PLUGIN_UNIX_SOCKET_GROUP";

/// A snapshot of the go-plugin variables, read once so the rest of the host is pure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostEnv {
    /// `TF_PLUGIN_MAGIC_COOKIE`.
    pub magic_cookie: Option<String>,
    /// `PLUGIN_PROTOCOL_VERSIONS`.
    pub protocol_versions: Option<String>,
    /// `PLUGIN_CLIENT_CERT` (empty counts as absent).
    pub client_cert: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR` (empty counts as absent).
    pub socket_dir: Option<PathBuf>,
    /// `PLUGIN_UNIX_SOCKET_GROUP` (empty counts as absent).
    pub socket_group: Option<String>,
}

impl HostEnv {
    /// Reads the variables from the process environment.
    pub fn from_process() -> Self {
        Self::from_lookup(|k| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned()))
    }

    /// Reads the variables through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        Self {
            magic_cookie: lookup(MAGIC_COOKIE_KEY),
            protocol_versions: lookup(PROTOCOL_VERSIONS_KEY),
            client_cert: non_empty(CLIENT_CERT_KEY),
            socket_dir: non_empty(SOCKET_DIR_KEY).map(PathBuf::from),
            socket_group: non_empty(SOCKET_GROUP_KEY),
        }
    }

    /// True when the magic cookie is exactly the one Terraform sets.
    pub fn has_magic_cookie(&self) -> bool {
        self.magic_cookie.as_deref() == Some(MAGIC_COOKIE_VALUE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HostEnv {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        HostEnv::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn cookie_must_match_exactly() {
        assert!(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)]).has_magic_cookie());
        assert!(!env(&[]).has_magic_cookie());
        assert!(!env(&[(MAGIC_COOKIE_KEY, "")]).has_magic_cookie());
        let padded = format!("{MAGIC_COOKIE_VALUE} ");
        assert!(!env(&[(MAGIC_COOKIE_KEY, padded.as_str())]).has_magic_cookie());
    }

    #[test]
    fn empty_values_count_as_absent() {
        let e = env(&[
            (CLIENT_CERT_KEY, ""),
            (SOCKET_DIR_KEY, " "),
            (SOCKET_GROUP_KEY, ""),
        ]);
        assert_eq!(e.client_cert, None);
        assert_eq!(e.socket_dir, None);
        assert_eq!(e.socket_group, None);
    }
}
