//! The vendors the fake serves, one line each: the only list of them. Everything that names
//! every vendor derives from it ([`VendorId`](crate::VendorId), [`Registered`],
//! [`build`](super::build), the mutant catalogue, the configuration's sections, the embedded
//! specs, the admin document's vendor names); whatever else the generic code needs of a vendor
//! it asks through [`VendorSemantics`](super::VendorSemantics). Adding a vendor is its folder
//! under `vendors/`, its line here and its `mod` item in `vendors/mod.rs` (declared there, not
//! by the macro, so that cargo-mutants finds its files; without it the line does not compile).
//!
//! A line reads `Variant = module: Type,`: the [`VendorId`](crate::VendorId) variant, the
//! module (also the vendor's name on the command line, in paths and in the configuration) and
//! the type implementing [`VendorSemantics`](super::VendorSemantics) in that module.

/// Calls `$callback!` with every registered vendor: its doc lines, an optional `#[cfg(…)]`,
/// and `Variant = module: Type`.
macro_rules! for_each_vendor {
    ($callback:ident) => {
        $callback! {
            /// Confluent Cloud partner signup v2.
            Confluent = confluent: Confluent,
            /// Enhance control-panel customers.
            Enhance = enhance: Enhance,
            /// CloudCockpit customer relationship acceptance.
            Cloudcockpit = cloudcockpit: CloudCockpit,
            /// Dub partners.
            Dub = dub: Dub,
            /// Archera channel-partner API.
            Archera = archera: Archera,
            /// A one-operation vendor compiled only into this crate's unit tests: the proof that a
            /// vendor is its folder and its line here.
            #[cfg(test)]
            Tiny = tiny: Tiny,
        }
    };
}

pub(crate) use for_each_vendor;

/// What the registry says of a vendor type: which vendor it is. Implemented by the registry
/// alone, so only a registered type can be a vendor.
pub trait Registered {
    /// The vendor's id.
    const ID: crate::VendorId;
}
