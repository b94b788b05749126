//! The vendors Understudy stands in for, as the registry (`vendors/registry.rs`) lists them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::vendors::for_each_vendor;

macro_rules! vendor_ids {
    ( $( $(#[doc = $doc:literal])* $(#[cfg($cfg:meta)])? $variant:ident = $name:ident : $ty:ident, )* ) => {
        /// One of the vendors whose API the fake serves.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum VendorId {
            $( $(#[doc = $doc])* $(#[cfg($cfg)])? $variant, )*
        }

        impl VendorId {
            /// Every vendor, in the registry's order.
            pub const ALL: [VendorId; { let mut n = 0; $( $(#[cfg($cfg)])? { n += 1; } )* n }] =
                [ $( $(#[cfg($cfg)])? VendorId::$variant, )* ];

            /// The lower-case name used on the command line, in prefixes and in file names.
            pub fn name(self) -> &'static str {
                match self {
                    $( $(#[cfg($cfg)])? VendorId::$variant => stringify!($name), )*
                }
            }
        }
    };
}

for_each_vendor!(vendor_ids);

impl VendorId {
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

/// The error for a vendor name that is not one of the registry's.
#[derive(Debug, thiserror::Error)]
#[error("unknown vendor {0:?} (expected one of {names})", names = names())]
pub struct UnknownVendor(pub String);

fn names() -> String {
    let names: Vec<&str> = VendorId::ALL.iter().map(|v| v.name()).collect();
    names.join(", ")
}

impl FromStr for VendorId {
    type Err = UnknownVendor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VendorId::ALL
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownVendor(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendor_is_written_by_its_name_everywhere() {
        for vendor in VendorId::ALL {
            let written = serde_json::to_value(vendor).unwrap();
            assert_eq!(written, vendor.name(), "serde and the registry agree");
            assert_eq!(vendor.name().parse::<VendorId>().unwrap(), vendor);
            assert_eq!(vendor.to_string(), vendor.name());
        }
        let unknown = "nobody".parse::<VendorId>().unwrap_err().to_string();
        assert!(unknown.contains("confluent, enhance, cloudcockpit, dub, archera"));
    }
}
