//! `--state-file`: the whole state loaded at start and written atomically (a temporary file in
//! the same directory, synced, then renamed over the old one), so a crash mid-write leaves either
//! the previous file or the new one, never a torn one.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::admin::{self, StateDocument};
use crate::pipeline::App;

/// Why the state file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// An I/O error on the file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a state document, or does not fit the vendors.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The file the state lives in.
#[derive(Clone, Debug)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// The state file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StateFile { path: path.into() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> PersistError {
        PersistError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Loads the file into `app`; `Ok(false)` when there is no file yet. Temporary files a
    /// killed writer left beside it are removed.
    pub fn load(&self, app: &App) -> Result<bool, PersistError> {
        self.remove_leftovers();
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(self.io(e)),
        };
        let invalid = |message: String| PersistError::Invalid {
            path: self.path.clone(),
            message,
        };
        let document: StateDocument =
            serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        admin::import(app, document).map_err(|e| invalid(e.to_string()))?;
        Ok(true)
    }

    fn directory(&self) -> PathBuf {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state".into())
    }

    fn remove_leftovers(&self) {
        let prefix = format!(".{}.", self.file_name());
        let Ok(entries) = fs::read_dir(self.directory()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && name.ends_with(".tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Writes `app`'s state: to a temporary sibling first, then renamed over the file.
    pub fn save(&self, app: &App) -> Result<(), PersistError> {
        let document = admin::export(app);
        let text = serde_json::to_vec_pretty(&document).expect("state serialises");
        let dir = self.directory();
        let name = self.file_name();
        let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut file = File::create(&temporary).map_err(|e| self.io(e))?;
        file.write_all(&text).map_err(|e| self.io(e))?;
        file.sync_all().map_err(|e| self.io(e))?;
        drop(file);
        fs::rename(&temporary, &self.path).map_err(|e| self.io(e))?;
        // The rename itself is durable once the directory is synced.
        if let Ok(dir) = File::open(&dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}
