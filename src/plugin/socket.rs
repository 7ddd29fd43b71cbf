//! The unix socket the plugin listens on: a fresh name, group permissions, removal on exit.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

use super::error::PluginError;

/// How many random names to try before giving up (each try is one `bind`).
const NAME_ATTEMPTS: u32 = 64;

/// Mode given to the socket when a group is configured: owner and group may connect.
const GROUP_MODE: u32 = 0o660;

/// Removes the socket file when dropped, so every exit path cleans up.
#[derive(Debug)]
pub struct SocketGuard {
    path: PathBuf,
}

impl SocketGuard {
    /// Path of the socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove plugin socket");
        }
    }
}

/// Binds a listener on a new socket in `dir` (or the temp dir) and, if `group` is set, hands the
/// socket to that group with mode 0660, as go-plugin does for `PLUGIN_UNIX_SOCKET_GROUP`.
///
/// Must run inside a tokio runtime.
pub fn bind(
    dir: Option<&Path>,
    group: Option<&str>,
) -> Result<(UnixListener, SocketGuard), PluginError> {
    let dir = dir.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let (listener, guard) = bind_fresh(&dir)?;
    if let Some(group) = group {
        set_group(guard.path(), group)?;
    }
    Ok((listener, guard))
}

fn bind_fresh(dir: &Path) -> Result<(UnixListener, SocketGuard), PluginError> {
    for _ in 0..NAME_ATTEMPTS {
        let path = dir.join(format!("plugin{}", rand::random::<u32>()));
        match UnixListener::bind(&path) {
            Ok(listener) => return Ok((listener, SocketGuard { path })),
            // Someone else holds this name; draw another.
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            Err(source) => return Err(PluginError::Bind { path, source }),
        }
    }
    Err(PluginError::NoFreeSocketName {
        dir: dir.to_path_buf(),
        attempts: NAME_ATTEMPTS,
    })
}

/// Resolves `group` as a numeric gid first, then as a group name.
pub fn resolve_group(group: &str) -> Result<u32, PluginError> {
    if let Ok(gid) = group.trim().parse::<u32>() {
        return Ok(gid);
    }
    match nix::unistd::Group::from_name(group) {
        Ok(Some(g)) => Ok(g.gid.as_raw()),
        _ => Err(PluginError::UnknownGroup(group.to_owned())),
    }
}

fn set_group(path: &Path, group: &str) -> Result<(), PluginError> {
    let gid = resolve_group(group)?;
    let fail = |source| PluginError::SocketPermissions {
        path: path.to_path_buf(),
        group: group.to_owned(),
        source,
    };
    std::os::unix::fs::chown(path, None, Some(gid)).map_err(fail)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(GROUP_MODE)).map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[tokio::test]
    async fn binds_a_fresh_socket_and_removes_it_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let (l1, g1) = bind(Some(dir.path()), None).unwrap();
        let (_l2, g2) = bind(Some(dir.path()), None).unwrap();
        assert_ne!(g1.path(), g2.path());
        assert!(g1.path().starts_with(dir.path()));
        let name = g1
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("plugin"), "{name}");
        let meta = std::fs::metadata(g1.path()).unwrap();
        assert!(std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()));
        let path = g1.path().to_path_buf();
        drop(l1);
        drop(g1);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn group_by_id_sets_mode_0660() {
        let dir = tempfile::tempdir().unwrap();
        let gid = nix::unistd::getegid().as_raw();
        let (_l, g) = bind(Some(dir.path()), Some(&gid.to_string())).unwrap();
        let meta = std::fs::metadata(g.path()).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o660);
        assert_eq!(meta.gid(), gid);
    }

    #[tokio::test]
    async fn group_by_name_resolves() {
        let gid = nix::unistd::getegid();
        let Ok(Some(group)) = nix::unistd::Group::from_gid(gid) else {
            // A gid without a name (possible in containers) cannot be tested by name.
            return;
        };
        assert_eq!(resolve_group(&group.name).unwrap(), gid.as_raw());
    }

    #[test]
    fn unknown_group_is_a_clear_error() {
        let err = resolve_group("no-such-group-amlauth-test").unwrap_err();
        assert!(matches!(err, PluginError::UnknownGroup(_)));
        assert!(err.to_string().contains("no-such-group-amlauth-test"));
    }

    #[tokio::test]
    async fn missing_directory_is_a_bind_error() {
        let err = bind(Some(Path::new("/nonexistent/amlauth/dir")), None).unwrap_err();
        assert!(matches!(err, PluginError::Bind { .. }), "{err}");
    }
}
