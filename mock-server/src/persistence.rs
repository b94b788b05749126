//! `--state-file`: the whole state loaded at start and written atomically (a temporary file in
//! the same directory, synced, then renamed over the old one), so a crash mid-write leaves either
//! the previous file or the new one, never a torn one.
//!
//! Loading and writing are streamed (see [`crate::document`]). A write re-serialises only the
//! vendors whose state changed since the file was last written: the others are copied as bytes
//! from the previous file, whose per-vendor byte ranges are remembered. The granularity is the
//! vendor: a vendor with one new partner is written whole.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::VendorId;
use crate::document::{self, LOG_KEY, STATE_FORMAT};
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

/// Where one vendor's state sits in the file last written, and the state's generation then.
#[derive(Clone, Copy, Debug)]
struct Written {
    generation: u64,
    start: u64,
    end: u64,
}

/// What the last write left in the file.
#[derive(Debug, Default)]
struct Index {
    vendors: BTreeMap<VendorId, Written>,
    /// The log cut the file carries (0: none).
    log_segment: u64,
}

/// The file the state lives in.
#[derive(Clone, Debug)]
pub struct StateFile {
    path: PathBuf,
    index: Arc<Mutex<Index>>,
}

/// A writer that counts what went through it, so each vendor's byte range is known.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(bytes)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The buffer a file is read or written through: large, since states run to hundreds of MB.
const BUFFER_BYTES: usize = 1 << 20;

impl StateFile {
    /// The state file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StateFile {
            path: path.into(),
            index: Arc::default(),
        }
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

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads the file into `app`, all or nothing; `Ok(None)` when there is no file yet, else
    /// the log cut it carries (0 when none). Temporary files a killed writer left beside it
    /// are removed.
    pub fn load(&self, app: &App) -> Result<Option<u64>, PersistError> {
        self.remove_leftovers();
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(e)),
        };
        let invalid = |message: String| PersistError::Invalid {
            path: self.path.clone(),
            message,
        };
        let parsed = document::from_reader(
            app.world(),
            BufReader::with_capacity(BUFFER_BYTES, file),
            true,
        )
        .map_err(|e| invalid(e.to_string()))?;
        let cut = parsed.log_segment.unwrap_or(0);
        parsed
            .install(app.world())
            .map_err(|e| invalid(e.to_string()))?;
        // The byte ranges of the loaded file are not known: the next write serialises all.
        *self.index() = Index {
            vendors: BTreeMap::new(),
            log_segment: cut,
        };
        Ok(Some(cut))
    }

    /// The directory the file is in.
    pub fn directory(&self) -> PathBuf {
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
        let cut = self.index().log_segment;
        self.save_with_cut(app, cut)
    }

    /// [`StateFile::save`], recording that the state includes every log segment before
    /// `cut` (see [`crate::durable`]).
    pub fn save_with_cut(&self, app: &App, cut: u64) -> Result<(), PersistError> {
        let mut index = self.index();
        let dir = self.directory();
        let temporary = dir.join(format!(".{}.{}.tmp", self.file_name(), std::process::id()));
        let written = self
            .write_to(app, &temporary, &index, cut)
            .map_err(|e| self.io(e));
        let written = match written {
            Ok(written) => written,
            Err(error) => {
                let _ = fs::remove_file(&temporary);
                return Err(error);
            }
        };
        fs::rename(&temporary, &self.path).map_err(|e| self.io(e))?;
        // The rename itself is durable once the directory is synced.
        if let Ok(dir) = File::open(&dir) {
            let _ = dir.sync_all();
        }
        *index = Index {
            vendors: written,
            log_segment: cut,
        };
        Ok(())
    }

    /// Writes the document to `temporary`, one vendor a line, copying unchanged vendors' bytes
    /// from the current file. Returns where each vendor went.
    fn write_to(
        &self,
        app: &App,
        temporary: &Path,
        index: &Index,
        cut: u64,
    ) -> io::Result<BTreeMap<VendorId, Written>> {
        let file = File::create(temporary)?;
        let mut out = Counting {
            inner: BufWriter::with_capacity(BUFFER_BYTES, file),
            written: 0,
        };
        let mut previous = if index.vendors.is_empty() {
            None
        } else {
            File::open(&self.path).ok()
        };
        let mut written = BTreeMap::new();
        write!(out, "{{\"format\":\"{STATE_FORMAT}\",\"vendors\":{{")?;
        for (n, (id, vendor)) in app.world().vendors.iter().enumerate() {
            out.write_all(if n == 0 { b"\n" } else { b",\n" })?;
            write!(out, "\"{}\":", id.name())?;
            let store = vendor.state();
            let generation = store.generation();
            let start = out.written;
            let reused = match (index.vendors.get(id), previous.as_mut()) {
                (Some(old), Some(file)) if old.generation == generation => {
                    file.seek(SeekFrom::Start(old.start))?;
                    let copied = io::copy(&mut file.take(old.end - old.start), &mut out)?;
                    copied == old.end - old.start
                }
                _ => false,
            };
            if !reused {
                // A short copy leaves partial bytes: start the temporary file over without
                // reuse rather than patch it.
                if out.written != start {
                    drop(out);
                    return self.write_to(app, temporary, &Index::default(), cut);
                }
                store.export_to(&mut out).map_err(io::Error::other)?;
            }
            written.insert(
                *id,
                Written {
                    generation,
                    start,
                    end: out.written,
                },
            );
        }
        out.write_all(b"\n}")?;
        if cut > 0 {
            write!(out, ",\"{LOG_KEY}\":{{\"segment\":{cut}}}")?;
        }
        out.write_all(b"}\n")?;
        let file = out.inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{Options, app};

    /// A vendor whose state did not change is copied from the previous file, not serialised
    /// again: a same-length edit made to its bytes on disk survives the next write, while the
    /// vendor that changed is written from its state.
    #[test]
    fn a_write_re_serialises_only_the_vendors_that_changed() {
        let dir = std::env::temp_dir().join(format!("understudy-persist-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        let app = app(&Options::default()).unwrap();
        let file = StateFile::new(&path);
        file.save(&app).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let (confluent, enhance) = ("Initech Data", "Harbour Hosting");
        assert!(text.contains(confluent) && text.contains(enhance));
        let edited = text
            .replace(confluent, "Initech DATA")
            .replace(enhance, "Harbour HOSTING");
        fs::write(&path, edited).unwrap();

        let enhance_state = app.world().vendors[&VendorId::Enhance].state();
        let mut changed = enhance_state.export();
        enhance_state.import(changed.take()).unwrap();
        file.save(&app).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("Initech DATA"),
            "the unchanged vendor was copied"
        );
        assert!(
            text.contains(enhance),
            "the changed vendor was serialised again"
        );
        let document: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(document["format"], STATE_FORMAT);
        let _ = fs::remove_dir_all(&dir);
    }
}
