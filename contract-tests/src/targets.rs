//! Real-vendor targets, configured by environment variables (README "Contract tests"):
//! `UNDERSTUDY_<VENDOR>_BASE_URL` and `UNDERSTUDY_<VENDOR>_CREDENTIALS` (headers, one
//! `Name: value` per line, replacing the fake's test credentials).

use understudy::VendorId;

use crate::backend::HttpBackend;

/// The environment variable holding `vendor`'s base URL.
pub fn base_url_variable(vendor: VendorId) -> String {
    format!("UNDERSTUDY_{}_BASE_URL", vendor.name().to_ascii_uppercase())
}

/// The environment variable holding `vendor`'s credential headers.
pub fn credentials_variable(vendor: VendorId) -> String {
    format!(
        "UNDERSTUDY_{}_CREDENTIALS",
        vendor.name().to_ascii_uppercase()
    )
}

/// Parses `Name: value` lines into headers; lines without a colon are ignored.
pub fn parse_headers(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .filter(|(n, _)| !n.is_empty())
        .collect()
}

/// The real vendor's backend, or why there is none (`skipped: no credentials`).
pub fn real_vendor(vendor: VendorId) -> Result<HttpBackend, String> {
    let url = std::env::var(base_url_variable(vendor)).ok();
    let credentials = std::env::var(credentials_variable(vendor)).ok();
    match (url, credentials) {
        (Some(url), Some(credentials)) if !url.is_empty() && !credentials.is_empty() => {
            Ok(HttpBackend::new(format!("real:{vendor}"), url)
                .with_credentials(parse_headers(&credentials)))
        }
        _ => Err(format!(
            "{vendor}: skipped: no credentials (set {} and {})",
            base_url_variable(vendor),
            credentials_variable(vendor)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_lines_become_headers() {
        assert_eq!(
            parse_headers("Authorization: Bearer x\nX-Tenant: a.example\nnonsense"),
            vec![
                ("Authorization".into(), "Bearer x".into()),
                ("X-Tenant".into(), "a.example".into())
            ]
        );
    }
}
