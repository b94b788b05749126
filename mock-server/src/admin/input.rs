//! Extractors for admin input whose every refusal is an [`AdminError`], so no admin error is
//! ever axum's plain-text rejection.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::AdminError;
use super::contract::body_read_error;

/// The largest admin body read at all: a state import of a large world. Every other admin
/// body is already bounded by the contract stage at [`super::MAX_CHECKED_BODY_BYTES`].
pub const MAX_ADMIN_BODY_BYTES: usize = 1 << 30;

/// A JSON body deserialised into `T`. Any content type is read as JSON (`curl -d` sends a form
/// type by default); an empty body reads as `null`, so `Option<T>` makes a body optional.
pub struct AdminJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AdminJson<T> {
    type Rejection = AdminError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_ADMIN_BODY_BYTES)
            .await
            .map_err(body_read_error)?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &bytes
        };
        serde_json::from_slice(text)
            .map(AdminJson)
            .map_err(|e| AdminError::BadRequest(format!("the body does not fit: {e}")))
    }
}

/// A body as bytes, read up to [`MAX_ADMIN_BODY_BYTES`]: for state imports, which parse it
/// themselves as they read.
pub struct AdminBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for AdminBytes {
    type Rejection = AdminError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        axum::body::to_bytes(request.into_body(), MAX_ADMIN_BODY_BYTES)
            .await
            .map(AdminBytes)
            .map_err(body_read_error)
    }
}

/// A query string deserialised into `T`.
pub struct AdminQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AdminQuery<T> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| AdminQuery(q.0))
            .map_err(|e| AdminError::BadRequest(format!("the query does not fit: {e}")))
    }
}
