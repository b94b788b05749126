//! One error-envelope abstraction for every vendor. The pipeline owns what is generic about a
//! refusal: its kind and the status the generic stages give it, its first violation
//! ([`Rejection`]), `Allow` on a 405 and the vendor's finishing touches (`router.rs`). A vendor
//! supplies only its codes, its table and its body shape ([`Envelope`]).

use axum::http::StatusCode;

use super::{Rejection, Reply};
use crate::vendors::Context;

/// A vendor's error envelope: its codes, its errors and how they are rendered. The vendor's own
/// rules build its errors too, so a refusal and a rule failure look alike on the wire.
pub trait Envelope: Sized {
    /// The vendor's error codes: what the `code` (or `type`) member of its bodies says.
    type Code: Copy;

    /// The error with `code` and `message`, answered with `status`.
    fn new(status: StatusCode, code: Self::Code, message: String) -> Self;

    /// The vendor's table: its error for each kind of rejection, usually
    /// [`Rejection::error`]`(code, message)` at the generic status. `cx` is the refused
    /// request (CloudCockpit reports a missing tenant header among the validation errors).
    fn refused(rejection: &Rejection, cx: &Context<'_>) -> Self;

    /// Renders the error as the answer to the request `cx` describes.
    fn reply(self, cx: &Context<'_>) -> Reply;
}

/// The vendor's answer to a generic stage's refusal.
pub fn reject<E: Envelope>(rejection: &Rejection, cx: &Context<'_>) -> Reply {
    E::refused(rejection, cx).reply(cx)
}

/// Declares a vendor's error codes: an enum whose variants each name the code the vendor
/// writes, optionally with the title it writes beside it.
#[macro_export]
#[doc(hidden)]
macro_rules! error_codes {
    (@titles $enum:ident { $( $variant:ident, )+ }) => {};
    (@titles $enum:ident { $( $variant:ident => $title:literal, )+ }) => {
        /// The title the vendor writes beside the code.
        pub fn title(self) -> &'static str {
            match self {
                $( $enum::$variant => $title, )+
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $enum:ident {
            $( $variant:ident = $code:literal $(=> $title:literal)?, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $enum {
            $( #[doc = concat!("`", $code, "`", $(" (", $title, ")")?)] $variant, )+
        }

        impl $enum {
            /// The code as the vendor writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $enum::$variant => $code, )+
                }
            }

            $crate::error_codes!(@titles $enum { $( $variant $(=> $title)?, )+ });
        }
    };
}
