//! The one redaction policy: which headers, query parameters and body keys carry secrets. The
//! request journal, the log lines and the fixtures (recording, import and the secret scan) all
//! ask here, so a secret hidden in one is hidden in all.

use std::borrow::Cow;

use serde_json::Value;

/// What replaces a secret where no stable placeholder is needed (the journal, the logs).
pub const REDACTED: &str = "<redacted>";

/// How a secret header's value holds its secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretHeader {
    /// `Authorization`: the credential after the scheme (`Bearer …`), or the whole value.
    Credential,
    /// `Cookie`: every `name=value` pair's value.
    Cookies,
    /// `Set-Cookie`: the first pair's value (the rest are attributes).
    SetCookie,
    /// The whole value (`x-api-key`).
    Whole,
}

/// Headers that always carry credentials, and how.
const SECRET_HEADERS: [(&str, SecretHeader); 5] = [
    ("authorization", SecretHeader::Credential),
    ("proxy-authorization", SecretHeader::Credential),
    ("cookie", SecretHeader::Cookies),
    ("set-cookie", SecretHeader::SetCookie),
    ("x-api-key", SecretHeader::Whole),
];

/// The header that names a customer's tenant (CloudCockpit's `X-Tenant`): not a credential, but
/// identifying. The journal and the logs always hide it; a recording hides it when its rules ask
/// (`tenant: true`), since a fixture's reader often needs to see which tenant was used.
pub const TENANT_HEADER: &str = "x-tenant";

/// Body keys and query parameters whose string values are secrets wherever they appear,
/// compared without case, `_` or `-` (so `client_secret`, `clientSecret` and `client-secret`
/// are one key).
pub const SECRET_KEYS: [&str; 11] = [
    "token",
    "password",
    "secret",
    "api_key",
    "apiKey",
    "client_secret",
    "access_token",
    "refresh_token",
    "linking_token",
    "secret_access_key",
    "aws_secret_access_key",
];

/// How `name` (any case) carries a secret, if it is a secret header.
pub fn secret_header(name: &str) -> Option<SecretHeader> {
    SECRET_HEADERS
        .iter()
        .find(|(secret, _)| secret.eq_ignore_ascii_case(name))
        .map(|(_, kind)| *kind)
}

/// Whether the journal and the logs hide header `name`'s value: the secret headers and the
/// tenant.
pub fn hidden_header(name: &str) -> bool {
    secret_header(name).is_some() || name.eq_ignore_ascii_case(TENANT_HEADER)
}

/// Whether a body key or query parameter named `name` holds a secret.
pub fn is_secret_key(name: &str) -> bool {
    // The longest key is 21 bytes; anything much longer is not one (and is not copied).
    if name.len() > 32 {
        return false;
    }
    let folded: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SECRET_KEYS.iter().any(|key| {
        key.chars()
            .filter(|c| *c != '_')
            .map(|c| c.to_ascii_lowercase())
            .eq(folded.chars())
    })
}

/// A query string with the value of every secret parameter replaced by [`REDACTED`]; the
/// string is returned as it is (not re-encoded) when it has none.
pub fn query(query: &str) -> Cow<'_, str> {
    let secret = |pair: &str| {
        let name = pair.split('=').next().unwrap_or_default();
        let decoded: String = url::form_urlencoded::parse(name.as_bytes())
            .next()
            .map(|(n, _)| n.into_owned())
            .unwrap_or_default();
        is_secret_key(&decoded)
    };
    if !query.split('&').any(secret) {
        return Cow::Borrowed(query);
    }
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            if secret(pair) {
                let name = pair.split('=').next().unwrap_or_default();
                format!("{name}={REDACTED}")
            } else {
                pair.to_string()
            }
        })
        .collect();
    Cow::Owned(pairs.join("&"))
}

/// A URL (or a path with a query) with its secret query values replaced, for log lines.
pub fn url(url: &str) -> Cow<'_, str> {
    match url.split_once('?') {
        Some((base, q)) => match query(q) {
            Cow::Borrowed(_) => Cow::Borrowed(url),
            Cow::Owned(q) => Cow::Owned(format!("{base}?{q}")),
        },
        None => Cow::Borrowed(url),
    }
}

/// Replaces, anywhere in a JSON body, every string under a secret key with [`REDACTED`].
pub fn body(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(secret) if is_secret_key(key) => *secret = REDACTED.into(),
                    _ => body(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(body),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_without_case_or_separators() {
        for key in [
            "token",
            "client_secret",
            "clientSecret",
            "Client-Secret",
            "ACCESS_TOKEN",
            "refreshToken",
            "api_key",
            "apikey",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["tokenUrl", "usedLinkingToken", "name", "secrets_manager"] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn queries_lose_secret_values_only() {
        assert_eq!(
            query("limit=5&token=live&api_key=k2"),
            "limit=5&token=<redacted>&api_key=<redacted>"
        );
        assert!(matches!(
            query("limit=5&page=2"),
            Cow::Borrowed("limit=5&page=2")
        ));
        assert_eq!(query("api%5Fkey=live"), "api%5Fkey=<redacted>");
        assert_eq!(
            url("https://x.example/p?token=live"),
            "https://x.example/p?token=<redacted>"
        );
    }
}
