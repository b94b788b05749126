//! Typed operations: each vendor names the spec operations it serves as an enum, and the server
//! refuses to start when the spec and the enum disagree, so an operation can neither be routed
//! without a handler nor be handled without being in the spec.

use crate::VendorId;
use crate::spec::{Operation, VendorSpec};

/// Declares a vendor's operations: an enum whose variants map to the spec's `operationId`s.
#[macro_export]
#[doc(hidden)]
macro_rules! operations {
    (
        $(#[$meta:meta])*
        $vis:vis enum $enum:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $id:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $enum {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $crate::vendors::Operations for $enum {
            const IDS: &'static [&'static str] = &[$($id),+];

            fn operation_id(self) -> &'static str {
                match self {
                    $( $enum::$variant => $id, )+
                }
            }

            fn of(op: &$crate::spec::Operation) -> Option<Self> {
                match op.operation_id.as_str() {
                    $( $id => Some($enum::$variant), )+
                    _ => None,
                }
            }
        }
    };
}

/// A vendor's operations, as [`operations!`](crate::operations!) declares them.
pub trait Operations: Copy + Send + Sync + 'static {
    /// The `operationId` of every operation, in declaration order.
    const IDS: &'static [&'static str];

    /// The spec's `operationId` of this operation.
    fn operation_id(self) -> &'static str;

    /// The operation a compiled spec operation is (always one after the start-up check,
    /// [`check_operations`]).
    fn of(op: &Operation) -> Option<Self>;
}

/// The spec and a vendor's handlers disagree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OperationMismatch {
    /// The spec has an operation the vendor does not handle.
    #[error("{vendor}: the spec's operation {operation} has no handler")]
    Unhandled {
        /// The vendor.
        vendor: VendorId,
        /// The operation id.
        operation: String,
    },
    /// The vendor handles an operation the spec does not have.
    #[error("{vendor}: the handler for {operation} has no operation in the spec")]
    Unspecified {
        /// The vendor.
        vendor: VendorId,
        /// The operation id.
        operation: String,
    },
}

/// Checks that `spec`'s operations are exactly the `handled` ones.
pub fn check_operations(spec: &VendorSpec, handled: &[&str]) -> Result<(), OperationMismatch> {
    if let Some(op) = spec
        .operations
        .iter()
        .find(|op| !handled.contains(&op.operation_id.as_str()))
    {
        return Err(OperationMismatch::Unhandled {
            vendor: spec.vendor,
            operation: op.operation_id.clone(),
        });
    }
    if let Some(id) = handled.iter().find(|id| spec.operation(id).is_none()) {
        return Err(OperationMismatch::Unspecified {
            vendor: spec.vendor,
            operation: id.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SpecSet;

    #[test]
    fn every_vendor_handles_exactly_its_specs_operations() {
        let specs = SpecSet::embedded().unwrap();
        let world = crate::vendors::Ambient::new(Some(1));
        for (id, vendor) in crate::vendors::build(&crate::config::Config::default(), &world) {
            check_operations(specs.vendor(id), vendor.operations()).unwrap();
        }
    }

    #[test]
    fn a_missing_handler_and_a_missing_operation_are_both_refused() {
        let specs = SpecSet::embedded().unwrap();
        let spec = specs.vendor(VendorId::Confluent);
        assert_eq!(
            check_operations(spec, &["signup", "activateSignup"]),
            Err(OperationMismatch::Unhandled {
                vendor: VendorId::Confluent,
                operation: "signupPartnerV2Link".into()
            })
        );
        assert_eq!(
            check_operations(
                spec,
                &["signup", "activateSignup", "signupPartnerV2Link", "refund"]
            ),
            Err(OperationMismatch::Unspecified {
                vendor: VendorId::Confluent,
                operation: "refund".into()
            })
        );
    }
}
