//! Crash-safe state file: write a temporary file, fsync it, rename it over the old one,
//! fsync the directory. A reader (or a restart after `kill -9`) sees the old or the new
//! file, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::EmulatorError;
use crate::state::State;

/// Writes and reads the state file.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// A state file at `path`; its directory must exist.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    fn temp_prefix(&self) -> String {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state".into());
        format!(".{name}.tmp-")
    }

    /// Loads the state, or `None` if the file does not exist. Removes temporary files a
    /// crash may have left behind.
    pub fn load(&self) -> Result<Option<State>, EmulatorError> {
        let dir = self.dir();
        let prefix = self.temp_prefix();
        if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(EmulatorError::io(
                    format!("reading state file {}", self.path.display()),
                    e,
                ));
            }
        };
        let state: State =
            serde_json::from_slice(&bytes).map_err(|e| EmulatorError::InvalidData {
                what: format!("state file {}", self.path.display()),
                message: e.to_string(),
            })?;
        // Refuse at start what would make a later request fail: a hand-edited file or one
        // written by an older emulator that stored whatever the control API was sent.
        state
            .check_shape()
            .map_err(|message| EmulatorError::InvalidData {
                what: format!("state file {}", self.path.display()),
                message,
            })?;
        Ok(Some(state))
    }

    /// Atomically replaces the file with `state`.
    pub fn save(&self, state: &State) -> Result<(), EmulatorError> {
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| EmulatorError::InvalidData {
            what: "state".into(),
            message: e.to_string(),
        })?;
        let dir = self.dir();
        let tmp = dir.join(format!(
            "{}{}-{}",
            self.temp_prefix(),
            std::process::id(),
            crate::util::random_secret(8)
        ));
        let ctx = |what: &str| format!("{what} {}", tmp.display());
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        // The state holds secrets (datastore keys, registry passwords, tokens): owner only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts
            .open(&tmp)
            .map_err(|e| EmulatorError::io(ctx("creating"), e))?;
        let result = (|| {
            f.write_all(&bytes)
                .map_err(|e| EmulatorError::io(ctx("writing"), e))?;
            f.sync_all()
                .map_err(|e| EmulatorError::io(ctx("syncing"), e))?;
            fs::rename(&tmp, &self.path).map_err(|e| {
                EmulatorError::io(format!("renaming to {}", self.path.display()), e)
            })?;
            // The rename is durable only once the directory entry is.
            File::open(&dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| EmulatorError::io(format!("syncing {}", dir.display()), e))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_load_round_trips_and_cleans_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let sf = StateFile::new(dir.path().join("state.json"));
        assert!(sf.load().unwrap().is_none());
        let mut s = State::new();
        s.revision = 7;
        s.subscriptions.insert("x".into(), "X".into());
        sf.save(&s).unwrap();
        std::fs::write(dir.path().join(".state.json.tmp-1-abc"), b"{garbage").unwrap();
        let loaded = sf.load().unwrap().unwrap();
        assert_eq!(loaded.revision, 7);
        assert_eq!(loaded.subscriptions["x"], "X");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(leftovers.len(), 1, "temp file should be removed");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(sf.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "state file must be private");
        }
    }

    #[test]
    fn corrupt_state_file_is_an_error_not_an_empty_state() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        std::fs::write(&p, b"{not json").unwrap();
        let err = StateFile::new(&p).load().unwrap_err();
        assert!(err.to_string().contains("state file"), "{err}");
    }
}
