//! The five vendors Understudy stands in for.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the vendors whose API the fake serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VendorId {
    /// Confluent Cloud partner signup v2.
    Confluent,
    /// Enhance control-panel customers.
    Enhance,
    /// CloudCockpit customer relationship acceptance.
    Cloudcockpit,
    /// Dub partners.
    Dub,
    /// Archera channel-partner API.
    Archera,
}

impl VendorId {
    /// Every vendor, in a stable order.
    pub const ALL: [VendorId; 5] = [
        VendorId::Confluent,
        VendorId::Enhance,
        VendorId::Cloudcockpit,
        VendorId::Dub,
        VendorId::Archera,
    ];

    /// The lower-case name used on the command line, in prefixes and in file names.
    pub fn name(self) -> &'static str {
        match self {
            VendorId::Confluent => "confluent",
            VendorId::Enhance => "enhance",
            VendorId::Cloudcockpit => "cloudcockpit",
            VendorId::Dub => "dub",
            VendorId::Archera => "archera",
        }
    }

    /// The path prefix the vendor is mounted under when all vendors are served together.
    pub fn prefix(self) -> String {
        format!("/{}", self.name())
    }

    /// The spec file name inside `specs/`.
    pub fn spec_file(self) -> String {
        format!("{}.yaml", self.name())
    }
}

impl fmt::Display for VendorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a vendor name that is not one of the five.
#[derive(Debug, thiserror::Error)]
#[error("unknown vendor {0:?} (expected one of confluent, enhance, cloudcockpit, dub, archera)")]
pub struct UnknownVendor(pub String);

impl FromStr for VendorId {
    type Err = UnknownVendor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VendorId::ALL
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownVendor(s.to_string()))
    }
}
