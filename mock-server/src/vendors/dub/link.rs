//! A Dub link as the fake stores it: the `LinkSchema` object the API returns, typed.
//!
//! The rules read and change only a handful of fields (id, domain, key, URL, the owners, the
//! short link); every other field is kept as the JSON value it was given. A typed link costs a
//! dozen allocations to build where a JSON map of its forty-odd fields cost about a hundred,
//! and it is stored as it is, not re-encoded as text: building and encoding the map were most
//! of a partner create.

use std::fmt::Write;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// `LinkProps` fields that are copied onto the link as they are.
pub const COPIED_PROPS: [&str; 19] = [
    "archived",
    "comments",
    "expiresAt",
    "expiredUrl",
    "password",
    "proxy",
    "title",
    "description",
    "image",
    "video",
    "rewrite",
    "ios",
    "android",
    "doIndex",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
];

/// A short link. Fields missing from an imported link take their empty value (`null`, `""`);
/// fields `LinkSchema` does not have are dropped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Link {
    /// `link_…`.
    pub id: String,
    /// The short domain.
    pub domain: String,
    /// The path on the short domain.
    pub key: String,
    /// The destination URL.
    pub url: String,
    /// `https://{domain}/{key}`.
    pub short_link: String,
    /// The QR code image URL for the short link.
    pub qr_code: String,
    /// The caller's id for the link, unique in its workspace.
    pub external_id: Option<String>,
    /// The partner's id in the workspace's own system.
    pub tenant_id: Option<String>,
    /// The program the link belongs to.
    pub program_id: Option<String>,
    /// The partner the link belongs to.
    pub partner_id: Option<String>,
    /// The owning workspace, `ws_…`.
    pub workspace_id: String,
    /// The workspace id without its prefix, as Dub also sends it.
    pub project_id: String,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Whether conversions are tracked.
    pub track_conversion: Value,
    /// Copied from `linkProps`.
    pub archived: Value,
    /// Copied from `linkProps`.
    pub expires_at: Value,
    /// Copied from `linkProps`.
    pub expired_url: Value,
    /// Copied from `linkProps`.
    pub password: Value,
    /// Copied from `linkProps`.
    pub proxy: Value,
    /// Copied from `linkProps`.
    pub title: Value,
    /// Copied from `linkProps`.
    pub description: Value,
    /// Copied from `linkProps`.
    pub image: Value,
    /// Copied from `linkProps`.
    pub video: Value,
    /// Copied from `linkProps`.
    pub rewrite: Value,
    /// Copied from `linkProps`.
    pub do_index: Value,
    /// Copied from `linkProps`.
    pub ios: Value,
    /// Copied from `linkProps`.
    pub android: Value,
    /// Geo-targeting; never set through the partner API.
    pub geo: Value,
    /// Whether the stats page is public.
    pub public_stats: Value,
    /// Legacy single tag.
    pub tag_id: Value,
    /// Tags.
    pub tags: Value,
    /// Webhooks.
    pub webhook_ids: Value,
    /// Copied from `linkProps`.
    pub comments: Value,
    /// Copied from `linkProps`.
    #[serde(rename = "utm_source")]
    pub utm_source: Value,
    /// Copied from `linkProps`.
    #[serde(rename = "utm_medium")]
    pub utm_medium: Value,
    /// Copied from `linkProps`.
    #[serde(rename = "utm_campaign")]
    pub utm_campaign: Value,
    /// Copied from `linkProps`.
    #[serde(rename = "utm_term")]
    pub utm_term: Value,
    /// Copied from `linkProps`.
    #[serde(rename = "utm_content")]
    pub utm_content: Value,
    /// The creating user; API-key links have none.
    pub user_id: Value,
    /// Click count.
    pub clicks: Value,
    /// Last click time.
    pub last_clicked: Value,
    /// Lead count.
    pub leads: Value,
    /// Sale count.
    pub sales: Value,
    /// Sales amount in cents.
    pub sale_amount: Value,
    /// When the link was disabled (a banned partner's links are), or `null`.
    pub disabled_at: Value,
    /// The link's folder; the fake keeps none, so always `null`.
    pub folder_id: Value,
}

/// Where a new link goes and when it is made.
pub struct NewLink<'a> {
    /// `link_…`.
    pub id: String,
    /// The program's short domain.
    pub domain: &'a str,
    /// The path on it.
    pub key: &'a str,
    /// The destination URL.
    pub url: &'a str,
    /// The program.
    pub program_id: &'a str,
    /// The owning workspace, `ws_…`.
    pub workspace_id: &'a str,
    /// The creation time, RFC 3339.
    pub now: &'a str,
}

impl Link {
    /// A new link with Dub's defaults: no owner yet, nothing copied from `linkProps`.
    pub fn new(new: NewLink<'_>) -> Self {
        let short_link = short_link(new.domain, new.key);
        Link {
            id: new.id,
            domain: new.domain.to_string(),
            key: new.key.to_string(),
            url: new.url.to_string(),
            qr_code: qr_code(&short_link),
            short_link,
            external_id: None,
            tenant_id: None,
            program_id: Some(new.program_id.to_string()),
            partner_id: None,
            workspace_id: new.workspace_id.to_string(),
            project_id: new.workspace_id.trim_start_matches("ws_").to_string(),
            created_at: new.now.to_string(),
            updated_at: new.now.to_string(),
            track_conversion: Value::Bool(true),
            archived: Value::Bool(false),
            proxy: Value::Bool(false),
            rewrite: Value::Bool(false),
            do_index: Value::Bool(false),
            public_stats: Value::Bool(false),
            tags: json!([]),
            webhook_ids: json!([]),
            clicks: json!(0),
            leads: json!(0),
            sales: json!(0),
            sale_amount: json!(0),
            ..Link::default()
        }
    }

    /// Gives the link a new `key`, with the short link and QR code on `domain` (the program's
    /// domain, which Dub builds the new short link on) to match.
    pub fn set_key(&mut self, domain: &str, key: &str) {
        self.key = key.to_string();
        self.short_link = short_link(domain, key);
        self.qr_code = qr_code(&self.short_link);
    }

    /// The field a `linkProps` entry of [`COPIED_PROPS`] is copied to.
    pub fn copied_prop(&mut self, name: &str) -> Option<&mut Value> {
        Some(match name {
            "archived" => &mut self.archived,
            "comments" => &mut self.comments,
            "expiresAt" => &mut self.expires_at,
            "expiredUrl" => &mut self.expired_url,
            "password" => &mut self.password,
            "proxy" => &mut self.proxy,
            "title" => &mut self.title,
            "description" => &mut self.description,
            "image" => &mut self.image,
            "video" => &mut self.video,
            "rewrite" => &mut self.rewrite,
            "ios" => &mut self.ios,
            "android" => &mut self.android,
            "doIndex" => &mut self.do_index,
            "utm_source" => &mut self.utm_source,
            "utm_medium" => &mut self.utm_medium,
            "utm_campaign" => &mut self.utm_campaign,
            "utm_term" => &mut self.utm_term,
            "utm_content" => &mut self.utm_content,
            _ => return None,
        })
    }

    /// Whether the link has stopped recording events at `now`: disabled, or past its expiry.
    pub fn inactive(&self, now: time::OffsetDateTime) -> bool {
        !self.disabled_at.is_null()
            || self
                .expires_at
                .as_str()
                .and_then(parse_moment)
                .is_some_and(|at| at <= now)
    }

    /// The link as the API returns it.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// `https://{domain}/{key}`, the key percent-encoded as a URL constructor would.
fn short_link(domain: &str, key: &str) -> String {
    let mut link = format!("https://{domain}/");
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                link.push(char::from(b));
            }
            other => {
                let _ = write!(link, "%{other:02X}");
            }
        }
    }
    link
}

/// A moment as Dub reads `expiresAt`: RFC 3339, a date-time without offset (UTC), or a date.
pub fn parse_moment(text: &str) -> Option<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    time::OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .or_else(|| {
            time::PrimitiveDateTime::parse(
                text,
                format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
            )
            .ok()
            .map(time::PrimitiveDateTime::assume_utc)
        })
        .or_else(|| {
            time::Date::parse(text, format_description!("[year]-[month]-[day]"))
                .ok()
                .map(|d| d.midnight().assume_utc())
        })
}

fn qr_code(short_link: &str) -> String {
    format!("https://api.dub.co/qr?url={short_link}?qr=1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Link {
        Link::new(NewLink {
            id: "link_1".into(),
            domain: "understudy.link",
            key: "a b/é",
            url: "https://understudy.example",
            program_id: "prog_1",
            workspace_id: "ws_1",
            now: "2026-01-01T00:00:00.000Z",
        })
    }

    #[test]
    fn the_short_link_percent_encodes_the_key_as_a_url_would() {
        let link = sample();
        assert_eq!(link.short_link, "https://understudy.link/a%20b/%C3%A9");
        assert_eq!(
            link.qr_code,
            "https://api.dub.co/qr?url=https://understudy.link/a%20b/%C3%A9?qr=1"
        );
        assert_eq!(link.project_id, "1");
    }

    #[test]
    fn every_copied_prop_has_a_field_and_the_json_names_match() {
        let mut link = sample();
        for (i, name) in COPIED_PROPS.iter().enumerate() {
            *link.copied_prop(name).expect(name) = json!(i);
        }
        let json = link.to_json();
        for (i, name) in COPIED_PROPS.iter().enumerate() {
            assert_eq!(json[name], json!(i), "{name}");
        }
        assert!(link.copied_prop("shortLink").is_none());
    }

    #[test]
    fn a_link_round_trips_through_json_and_missing_fields_import_as_empty() {
        let link = sample();
        let back: Link = serde_json::from_value(link.to_json()).unwrap();
        assert_eq!(back, link);
        let sparse: Link = serde_json::from_value(json!({"id": "link_2"})).unwrap();
        assert_eq!(sparse.id, "link_2");
        assert_eq!(sparse.geo, Value::Null);
    }
}
