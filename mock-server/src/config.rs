//! The fake's configuration: credentials and seeded worlds per vendor.
//!
//! The built-in default (`default-config.yaml`, embedded) is complete on its own; a user file is
//! merged over it, so it need only name what it changes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::VendorId;
use crate::connections::ConnectionLimits;
use crate::faults::FaultRule;
use crate::rate_limit::RateLimitConfig;
use crate::vendors::VendorSemantics;

/// `default-config.yaml`: the generic settings and the sections of the vendors documented there.
const DEFAULT_FILE: &str = include_str!("../default-config.yaml");

/// The built-in default configuration, as YAML text: `default-config.yaml`, then the section of
/// every vendor that brings its own (see `VendorSemantics::DEFAULT_CONFIG`).
pub fn default_yaml() -> &'static str {
    static TEXT: LazyLock<String> = LazyLock::new(|| {
        let mut text = DEFAULT_FILE.to_string();
        for (name, section) in crate::vendors::default_config_sections() {
            text.push_str(&format!("\n{name}:\n"));
            for line in section.lines() {
                text.push_str(&format!("  {line}\n"));
            }
        }
        text
    });
    &TEXT
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML did not parse or does not fit the configuration's shape.
    #[error("configuration: {0}")]
    Parse(String),
}

macro_rules! config {
    ( $( $(#[doc = $doc:literal])* $(#[cfg($cfg:meta)])? $variant:ident = $name:ident : $ty:ident, )* ) => {
        /// The whole configuration: one section per vendor (as the registry lists them), then
        /// what is generic.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Config {
            /// Seed for the id generator; `None` for random ids.
            pub seed: Option<u64>,
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("Its section, `", stringify!($name), ":`: credentials and the seeded world.")]
                $(#[cfg($cfg)])?
                pub $name: <crate::vendors::$name::$ty as VendorSemantics>::Config,
            )*
            /// Rate limits by vendor; a vendor absent here (or set to null) is not limited.
            #[serde(default)]
            pub rate_limits: BTreeMap<VendorId, Option<RateLimitConfig>>,
            /// How many exchanges the request journal keeps (a ring buffer).
            #[serde(default = "default_journal")]
            pub journal_capacity: usize,
            /// The most resources one vendor stores; creates beyond it get the vendor's "limit
            /// reached" error (resources are never evicted behind a client's back).
            #[serde(default = "default_max_resources")]
            pub max_resources: usize,
            /// Whether the admin API answers clients that are not on loopback.
            #[serde(default)]
            pub admin_remote: bool,
            /// A token that admits admin calls from clients that are not on loopback when they
            /// send it as `Authorization: Bearer TOKEN` (`--admin-token`,
            /// `UNDERSTUDY_ADMIN_TOKEN`). Without it (and without `admin_remote`) remote admin
            /// calls are refused.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub admin_token: Option<String>,
            /// Fault and latency injection rules in force from the start.
            #[serde(default)]
            pub faults: Vec<FaultRule>,
            /// Connection timeouts and the connection limit.
            #[serde(default)]
            pub connections: ConnectionLimits,
            /// How many worlds may exist, how long an idle one is kept, and the resource cap
            /// across all of them (see the worlds module).
            #[serde(default)]
            pub worlds: crate::worlds::WorldLimits,
        }
    };
}

crate::vendors::for_each_vendor!(config);

fn default_journal() -> usize {
    crate::journal::DEFAULT_CAPACITY
}

fn default_max_resources() -> usize {
    10_000
}

impl Config {
    /// The rate limits in force (vendors configured as null dropped).
    pub fn active_rate_limits(&self) -> BTreeMap<VendorId, RateLimitConfig> {
        self.rate_limits
            .iter()
            .filter_map(|(v, c)| c.clone().map(|c| (*v, c)))
            .collect()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::from_yaml(default_yaml()).expect("the embedded default configuration is valid")
    }
}

impl Config {
    /// Parses a complete configuration.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        serde_norway::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))
    }

    /// The default configuration with `overrides` (YAML) merged over it.
    pub fn with_overrides(overrides: &str) -> Result<Self, ConfigError> {
        let mut base: Value = serde_norway::from_str(default_yaml())
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        let user: Value =
            serde_norway::from_str(overrides).map_err(|e| ConfigError::Parse(e.to_string()))?;
        merge(&mut base, user);
        serde_json::from_value(base).map_err(|e| ConfigError::Parse(e.to_string()))
    }

    /// The default configuration with the file at `path` merged over it.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::with_overrides(&text)
    }
}

/// Merges `over` into `base`: objects key by key, anything else replaced.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (base, over) => *base = over,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_configuration_declares_the_documented_credentials() {
        let config = Config::default();
        assert_eq!(config.dub.workspaces[0].tokens[0], "dub_understudy_test");
        assert_eq!(
            config.confluent.tokens[0].token,
            "confluent_understudy_test"
        );
        assert_eq!(config.archera.api_keys[0].key, "archera_understudy_test");
    }

    #[test]
    fn overrides_merge_maps_and_replace_lists() {
        let config =
            Config::with_overrides("seed: 7\nconfluent:\n  tokens: [{token: t, scopes: []}]\n")
                .unwrap();
        assert_eq!(config.seed, Some(7));
        assert_eq!(config.confluent.tokens.len(), 1);
        assert_eq!(
            config.dub.workspaces.len(),
            Config::default().dub.workspaces.len()
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(Config::with_overrides("sed: 7\n").is_err());
    }
}
