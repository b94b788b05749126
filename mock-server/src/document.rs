//! The state document (`understudy-state/1`), written and read as a stream: each vendor's state
//! is serialised straight from its locked state to the writer, and parsed straight from the
//! reader into the vendor's typed state, so neither side builds a JSON tree of everything (a
//! 783 MB export used to peak at 4.19 GB of memory that way).

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use crate::VendorId;
use crate::vendors::{ImportError, Staged, StateStore};
use crate::worlds::World;

/// The format tag of a state document.
pub const STATE_FORMAT: &str = "understudy-state/1";

/// The key of a state file's log cut (see [`Parsed::log_segment`]); never in an export.
pub const LOG_KEY: &str = "log";

/// Why a state document could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The JSON is malformed, or a vendor's state does not fit its shape.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Writing failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A staged state did not install.
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// Writes `{"format":…,"vendors":{…}}` with every vendor, each streamed from its state.
pub fn write(world: &World, out: &mut dyn Write) -> Result<(), DocumentError> {
    write!(out, "{{\"format\":\"{STATE_FORMAT}\",\"vendors\":{{")?;
    for (index, (id, vendor)) in world.vendors.iter().enumerate() {
        if index > 0 {
            out.write_all(b",")?;
        }
        write!(out, "\"{}\":", id.name())?;
        vendor.state().export_to(out)?;
    }
    out.write_all(b"}}")?;
    Ok(())
}

/// A parsed document, not yet installed.
pub struct Parsed {
    vendors: Vec<(VendorId, Staged)>,
    /// A state file's log cut: the first log segment its state does not include.
    pub log_segment: Option<u64>,
}

impl Parsed {
    /// Installs every vendor the document has; the others keep their state.
    pub fn install(self, world: &World) -> Result<(), DocumentError> {
        for (id, staged) in self.vendors {
            world.vendors[&id].state().install(staged)?;
        }
        Ok(())
    }
}

/// Parses a document from `input`. Nothing is installed, so a document that does not fit
/// changes nothing. `state_file` also accepts the log cut a state file carries.
pub fn read<'de, D: Deserializer<'de>>(
    world: &World,
    input: D,
    state_file: bool,
) -> Result<Parsed, D::Error> {
    input.deserialize_map(DocumentVisitor { world, state_file })
}

/// Parses a whole document held in `bytes` (see [`read`]).
pub fn from_slice(
    world: &World,
    bytes: &[u8],
    state_file: bool,
) -> Result<Parsed, serde_json::Error> {
    let mut input = serde_json::Deserializer::from_slice(bytes);
    let parsed = read(world, &mut input, state_file)?;
    input.end()?;
    Ok(parsed)
}

/// Parses a whole document from `reader` (see [`read`]).
pub fn from_reader(
    world: &World,
    reader: impl io::Read,
    state_file: bool,
) -> Result<Parsed, serde_json::Error> {
    let mut input = serde_json::Deserializer::from_reader(reader);
    let parsed = read(world, &mut input, state_file)?;
    input.end()?;
    Ok(parsed)
}

struct DocumentVisitor<'a> {
    world: &'a World,
    state_file: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LogCut {
    segment: u64,
}

impl<'de> Visitor<'de> for DocumentVisitor<'_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a state document {\"format\", \"vendors\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let mut format: Option<String> = None;
        let mut vendors = None;
        let mut log_segment = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => format = Some(map.next_value()?),
                "vendors" => vendors = Some(map.next_value_seed(VendorsSeed(self.world))?),
                LOG_KEY if self.state_file => {
                    log_segment = Some(map.next_value::<LogCut>()?.segment);
                }
                other => return Err(de::Error::unknown_field(other, &["format", "vendors"])),
            }
        }
        let format = format.ok_or_else(|| de::Error::missing_field("format"))?;
        if format != STATE_FORMAT {
            return Err(de::Error::custom(format!(
                "format {format:?} is not {STATE_FORMAT:?}"
            )));
        }
        Ok(Parsed {
            vendors: vendors.ok_or_else(|| de::Error::missing_field("vendors"))?,
            log_segment,
        })
    }
}

struct VendorsSeed<'a>(&'a World);

impl<'de> DeserializeSeed<'de> for VendorsSeed<'_> {
    type Value = Vec<(VendorId, Staged)>;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for VendorsSeed<'_> {
    type Value = Vec<(VendorId, Staged)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of vendor names to states")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // A vendor named twice keeps its last state, as a map would.
        let mut staged = BTreeMap::new();
        while let Some(id) = map.next_key::<VendorId>()? {
            let store = self.0.vendors[&id].state();
            let state = map.next_value_seed(VendorSeed { id, store })?;
            staged.insert(id, state);
        }
        Ok(staged.into_iter().collect())
    }
}

struct VendorSeed<'a> {
    id: VendorId,
    store: &'a dyn StateStore,
}

impl<'de> DeserializeSeed<'de> for VendorSeed<'_> {
    type Value = Staged;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Staged, D::Error> {
        let mut erased = <dyn erased_serde::Deserializer>::erase(input);
        self.store
            .stage(&mut erased)
            .map_err(|error| de::Error::custom(format!("{}: {error}", self.id)))
    }
}
