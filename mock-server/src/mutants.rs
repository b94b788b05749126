//! Mutants: deliberate contract faults the fake can be told to commit, so the contract-test
//! harness can prove it notices them. Off unless named.
//!
//! Each owner declares its mutants as an enum with [`mutants!`](crate::mutants!): a vendor in its
//! module, the rate limiter beside the limiter. Code asks [`Mutants::active`] with a variant, so
//! a misspelt mutant does not compile; the catalogue the admin API lists is derived from the
//! enums, so every mutant that can fire is listed and every listed one can fire.

pub use crate::rate_limit::LimiterMutant;
pub use crate::vendors::archera::ArcheraMutant;
pub use crate::vendors::cloudcockpit::CloudCockpitMutant;
pub use crate::vendors::confluent::ConfluentMutant;
pub use crate::vendors::dub::DubMutant;
pub use crate::vendors::enhance::EnhanceMutant;
pub use crate::vendors::mutant_catalogue as catalogue;

use std::collections::BTreeSet;
use std::sync::RwLock;

/// One mutant: its name (`vendor.what-breaks`) and what goes wrong when it is active. Made only
/// by the enums [`mutants!`](crate::mutants!) declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mutant {
    name: &'static str,
    what: &'static str,
}

impl Mutant {
    #[doc(hidden)]
    pub const fn declared(name: &'static str, what: &'static str) -> Self {
        Mutant { name, what }
    }

    /// Its name, as the admin API and the harness write it.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// What goes wrong when it is active.
    pub fn what(self) -> &'static str {
        self.what
    }
}

/// Declares an enum of mutants: each variant with its name and what it breaks. The enum
/// converts into [`Mutant`] and lists itself in `ALL`.
#[macro_export]
#[doc(hidden)]
macro_rules! mutants {
    (
        $(#[$meta:meta])*
        $vis:vis enum $enum:ident {
            $( $variant:ident = $name:literal => $what:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $enum {
            $( #[doc = $what] $variant, )+
        }

        impl $enum {
            /// Every mutant of this enum.
            pub const ALL: &'static [$enum] = &[$($enum::$variant),+];

            /// Every mutant of this enum, as the catalogue lists them.
            pub const CATALOGUE: &'static [$crate::mutants::Mutant] =
                &[$($crate::mutants::Mutant::declared($name, $what)),+];

            /// The mutant as the catalogue lists it.
            pub const fn mutant(self) -> $crate::mutants::Mutant {
                match self {
                    $( $enum::$variant => $crate::mutants::Mutant::declared($name, $what), )+
                }
            }
        }

        impl From<$enum> for $crate::mutants::Mutant {
            fn from(mutant: $enum) -> Self {
                mutant.mutant()
            }
        }
    };
}

/// A mutant name the catalogue does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no mutant named {0:?}")]
pub struct UnknownMutant(pub String);

/// The set of active mutants.
#[derive(Debug, Default)]
pub struct Mutants {
    active: RwLock<BTreeSet<Mutant>>,
}

impl Mutants {
    /// No mutant active.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether `mutant` is active.
    pub fn active(&self, mutant: impl Into<Mutant>) -> bool {
        let active = self.active.read().unwrap_or_else(|p| p.into_inner());
        !active.is_empty() && active.contains(&mutant.into())
    }

    /// Activates exactly `mutants` (an empty list turns them all off).
    pub fn set<I, M>(&self, mutants: I)
    where
        I: IntoIterator<Item = M>,
        M: Into<Mutant>,
    {
        *self.active.write().unwrap_or_else(|p| p.into_inner()) =
            mutants.into_iter().map(Into::into).collect();
    }

    /// Activates exactly the mutants named in `names` (an empty list turns them all off),
    /// unless one of them is not in the catalogue: then nothing changes.
    pub fn activate<I, S>(&self, names: I) -> Result<(), UnknownMutant>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let catalogue = crate::vendors::mutant_catalogue();
        let mutants = names
            .into_iter()
            .map(|name| {
                let name = name.into();
                catalogue
                    .iter()
                    .find(|m| m.name() == name)
                    .copied()
                    .ok_or(UnknownMutant(name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.set(mutants);
        Ok(())
    }

    /// The active mutants' names.
    pub fn names(&self) -> Vec<String> {
        let active = self.active.read().unwrap_or_else(|p| p.into_inner());
        active.iter().map(|m| m.name().to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::{dub::DubMutant, mutant_catalogue};

    #[test]
    fn only_named_mutants_are_active() {
        let mutants = Mutants::none();
        assert!(!mutants.active(DubMutant::LinkCreated200));
        mutants.set([DubMutant::LinkCreated200]);
        assert!(mutants.active(DubMutant::LinkCreated200));
        assert!(!mutants.active(DubMutant::ShortLinkDropped));
        mutants.set(Vec::<Mutant>::new());
        assert!(mutants.names().is_empty());
    }

    #[test]
    fn names_are_parsed_against_the_catalogue_all_or_nothing() {
        let mutants = Mutants::none();
        mutants.activate(["dub.link-created-200"]).unwrap();
        assert_eq!(mutants.names(), ["dub.link-created-200"]);
        assert_eq!(
            mutants.activate(["dub.short-link-dropped", "dub.no-such"]),
            Err(UnknownMutant("dub.no-such".into()))
        );
        assert_eq!(mutants.names(), ["dub.link-created-200"], "nothing changed");
    }

    #[test]
    fn the_catalogue_has_unique_names_each_prefixed_by_its_owner() {
        let catalogue = mutant_catalogue();
        let names: BTreeSet<&str> = catalogue.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), catalogue.len(), "unique names");
        for mutant in &catalogue {
            let (owner, what) = mutant.name().split_once('.').expect("owner.what");
            assert!(!owner.is_empty() && !what.is_empty(), "{}", mutant.name());
            assert!(!mutant.what().is_empty());
        }
    }
}
