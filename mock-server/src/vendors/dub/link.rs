//! A Dub link as the fake stores it: the `LinkSchema` object the API returns, typed.
//!
//! The rules read and change only a handful of fields (id, domain, key, URL, the owners): those
//! are strings. The thirty-three others are JSON values the fake copies from `linkProps` or
//! counts, and nearly every one of them holds null, a boolean, zero or an empty list: kept as
//! `serde_json::Value`s they took 1,056 bytes per link, so [`Values`] keeps each as one byte
//! and only the others as values. The short link, its QR code URL and the project id are
//! derived from other fields, and stored only when an import gave them otherwise.

use std::borrow::Cow;
use std::fmt::Write;
use std::sync::LazyLock;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A `LinkSchema` field the fake keeps as the JSON value it was given or counted, in the
/// order a link is exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `trackConversion`.
    TrackConversion,
    /// `archived`.
    Archived,
    /// `expiresAt`.
    ExpiresAt,
    /// `expiredUrl`.
    ExpiredUrl,
    /// `password`.
    Password,
    /// `proxy`.
    Proxy,
    /// `title`.
    Title,
    /// `description`.
    Description,
    /// `image`.
    Image,
    /// `video`.
    Video,
    /// `rewrite`.
    Rewrite,
    /// `doIndex`.
    DoIndex,
    /// `ios`.
    Ios,
    /// `android`.
    Android,
    /// `geo`: geo-targeting, never set through the partner API.
    Geo,
    /// `publicStats`.
    PublicStats,
    /// `tagId`: the legacy single tag.
    TagId,
    /// `tags`.
    Tags,
    /// `webhookIds`.
    WebhookIds,
    /// `comments`.
    Comments,
    /// `utm_source`.
    UtmSource,
    /// `utm_medium`.
    UtmMedium,
    /// `utm_campaign`.
    UtmCampaign,
    /// `utm_term`.
    UtmTerm,
    /// `utm_content`.
    UtmContent,
    /// `userId`: the creating user; API-key links have none.
    UserId,
    /// `clicks`.
    Clicks,
    /// `lastClicked`.
    LastClicked,
    /// `leads`.
    Leads,
    /// `sales`.
    Sales,
    /// `saleAmount`, in cents.
    SaleAmount,
    /// `disabledAt`: when the link was disabled (a banned partner's links are).
    DisabledAt,
    /// `folderId`: the fake keeps no folders.
    FolderId,
}

/// How many [`Field`]s there are.
const FIELDS: usize = 33;

impl Field {
    /// Every field, in export order.
    pub const ALL: [Field; FIELDS] = [
        Field::TrackConversion,
        Field::Archived,
        Field::ExpiresAt,
        Field::ExpiredUrl,
        Field::Password,
        Field::Proxy,
        Field::Title,
        Field::Description,
        Field::Image,
        Field::Video,
        Field::Rewrite,
        Field::DoIndex,
        Field::Ios,
        Field::Android,
        Field::Geo,
        Field::PublicStats,
        Field::TagId,
        Field::Tags,
        Field::WebhookIds,
        Field::Comments,
        Field::UtmSource,
        Field::UtmMedium,
        Field::UtmCampaign,
        Field::UtmTerm,
        Field::UtmContent,
        Field::UserId,
        Field::Clicks,
        Field::LastClicked,
        Field::Leads,
        Field::Sales,
        Field::SaleAmount,
        Field::DisabledAt,
        Field::FolderId,
    ];

    /// The field's JSON name.
    pub fn name(self) -> &'static str {
        match self {
            Field::TrackConversion => "trackConversion",
            Field::Archived => "archived",
            Field::ExpiresAt => "expiresAt",
            Field::ExpiredUrl => "expiredUrl",
            Field::Password => "password",
            Field::Proxy => "proxy",
            Field::Title => "title",
            Field::Description => "description",
            Field::Image => "image",
            Field::Video => "video",
            Field::Rewrite => "rewrite",
            Field::DoIndex => "doIndex",
            Field::Ios => "ios",
            Field::Android => "android",
            Field::Geo => "geo",
            Field::PublicStats => "publicStats",
            Field::TagId => "tagId",
            Field::Tags => "tags",
            Field::WebhookIds => "webhookIds",
            Field::Comments => "comments",
            Field::UtmSource => "utm_source",
            Field::UtmMedium => "utm_medium",
            Field::UtmCampaign => "utm_campaign",
            Field::UtmTerm => "utm_term",
            Field::UtmContent => "utm_content",
            Field::UserId => "userId",
            Field::Clicks => "clicks",
            Field::LastClicked => "lastClicked",
            Field::Leads => "leads",
            Field::Sales => "sales",
            Field::SaleAmount => "saleAmount",
            Field::DisabledAt => "disabledAt",
            Field::FolderId => "folderId",
        }
    }
}

/// `LinkProps` fields that are copied onto the link as they are.
pub const COPIED_PROPS: [Field; 19] = [
    Field::Archived,
    Field::Comments,
    Field::ExpiresAt,
    Field::ExpiredUrl,
    Field::Password,
    Field::Proxy,
    Field::Title,
    Field::Description,
    Field::Image,
    Field::Video,
    Field::Rewrite,
    Field::Ios,
    Field::Android,
    Field::DoIndex,
    Field::UtmSource,
    Field::UtmMedium,
    Field::UtmCampaign,
    Field::UtmTerm,
    Field::UtmContent,
];

// The values a field nearly always holds, each one byte in `Values::codes`.
const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const ZERO: u8 = 3;
const EMPTY_LIST: u8 = 4;
/// Any other value, kept in `Values::others`.
const OTHER: u8 = 5;

static NULL_VALUE: Value = Value::Null;
static FALSE_VALUE: Value = Value::Bool(false);
static TRUE_VALUE: Value = Value::Bool(true);
static EMPTY_LIST_VALUE: Value = Value::Array(Vec::new());
static ZERO_VALUE: LazyLock<Value> = LazyLock::new(|| json!(0));

/// A link's [`Field`] values: one byte per field for null, `false`, `true`, `0` and `[]`, and
/// a list of the few fields holding anything else.
#[derive(Clone, Debug)]
pub struct Values {
    codes: [u8; FIELDS],
    others: Vec<(Field, Value)>,
}

/// Every field null.
impl Default for Values {
    fn default() -> Self {
        Values {
            codes: [NULL; FIELDS],
            others: Vec::new(),
        }
    }
}

impl Values {
    /// The value of `field`.
    pub fn get(&self, field: Field) -> &Value {
        match self.codes[field as usize] {
            FALSE => &FALSE_VALUE,
            TRUE => &TRUE_VALUE,
            ZERO => &ZERO_VALUE,
            EMPTY_LIST => &EMPTY_LIST_VALUE,
            OTHER => self
                .others
                .iter()
                .find(|(f, _)| *f == field)
                .map_or(&NULL_VALUE, |(_, v)| v),
            _ => &NULL_VALUE,
        }
    }

    /// Gives `field` the value `value`.
    pub fn set(&mut self, field: Field, value: Value) {
        let code = match &value {
            Value::Null => NULL,
            Value::Bool(false) => FALSE,
            Value::Bool(true) => TRUE,
            Value::Number(n) if n.as_u64() == Some(0) => ZERO,
            Value::Array(items) if items.is_empty() => EMPTY_LIST,
            _ => OTHER,
        };
        let slot = self.others.iter().position(|(f, _)| *f == field);
        match (code, slot) {
            (OTHER, Some(at)) => self.others[at].1 = value,
            (OTHER, None) => self.others.push((field, value)),
            (_, Some(at)) => {
                self.others.swap_remove(at);
            }
            (_, None) => {}
        }
        self.codes[field as usize] = code;
    }
}

/// Equal when every field holds the same value, whatever order the others were set in.
impl PartialEq for Values {
    fn eq(&self, other: &Self) -> bool {
        self.codes == other.codes && Field::ALL.iter().all(|f| self.get(*f) == other.get(*f))
    }
}

/// A short link. Fields missing from an imported link take their empty value (`null`, `""`);
/// fields `LinkSchema` does not have are dropped.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(from = "LinkDocument")]
pub struct Link {
    /// `link_…`.
    pub id: String,
    /// The short domain.
    pub domain: String,
    /// The path on the short domain.
    pub key: String,
    /// The destination URL.
    pub url: String,
    /// The short link, when it is not `https://{domain}/{key}`.
    short_link: Option<Box<str>>,
    /// The QR code image URL, when it is not the one of the short link.
    qr_code: Option<Box<str>>,
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
    /// The project id, when it is not the workspace id without its prefix.
    project_id: Option<Box<str>>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Every other field.
    values: Values,
}

/// A link as it is exported and imported: every `LinkSchema` field, in this order.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct LinkDocument {
    id: String,
    domain: String,
    key: String,
    url: String,
    short_link: String,
    qr_code: String,
    external_id: Option<String>,
    tenant_id: Option<String>,
    program_id: Option<String>,
    partner_id: Option<String>,
    workspace_id: String,
    project_id: String,
    created_at: String,
    updated_at: String,
    track_conversion: Value,
    archived: Value,
    expires_at: Value,
    expired_url: Value,
    password: Value,
    proxy: Value,
    title: Value,
    description: Value,
    image: Value,
    video: Value,
    rewrite: Value,
    do_index: Value,
    ios: Value,
    android: Value,
    geo: Value,
    public_stats: Value,
    tag_id: Value,
    tags: Value,
    webhook_ids: Value,
    comments: Value,
    #[serde(rename = "utm_source")]
    utm_source: Value,
    #[serde(rename = "utm_medium")]
    utm_medium: Value,
    #[serde(rename = "utm_campaign")]
    utm_campaign: Value,
    #[serde(rename = "utm_term")]
    utm_term: Value,
    #[serde(rename = "utm_content")]
    utm_content: Value,
    user_id: Value,
    clicks: Value,
    last_clicked: Value,
    leads: Value,
    sales: Value,
    sale_amount: Value,
    disabled_at: Value,
    folder_id: Value,
}

impl From<LinkDocument> for Link {
    fn from(d: LinkDocument) -> Self {
        let mut link = Link {
            id: d.id,
            domain: d.domain,
            key: d.key,
            url: d.url,
            short_link: None,
            qr_code: None,
            external_id: d.external_id,
            tenant_id: d.tenant_id,
            program_id: d.program_id,
            partner_id: d.partner_id,
            workspace_id: d.workspace_id,
            project_id: None,
            created_at: d.created_at,
            updated_at: d.updated_at,
            values: Values::default(),
        };
        // Kept only when they differ from what they would be derived as.
        if d.short_link != short_link(&link.domain, &link.key) {
            link.short_link = Some(d.short_link.into());
        }
        if d.qr_code != qr_code(&link.short_link()) {
            link.qr_code = Some(d.qr_code.into());
        }
        if d.project_id != link.project_id() {
            link.project_id = Some(d.project_id.into());
        }
        let values = [
            d.track_conversion,
            d.archived,
            d.expires_at,
            d.expired_url,
            d.password,
            d.proxy,
            d.title,
            d.description,
            d.image,
            d.video,
            d.rewrite,
            d.do_index,
            d.ios,
            d.android,
            d.geo,
            d.public_stats,
            d.tag_id,
            d.tags,
            d.webhook_ids,
            d.comments,
            d.utm_source,
            d.utm_medium,
            d.utm_campaign,
            d.utm_term,
            d.utm_content,
            d.user_id,
            d.clicks,
            d.last_clicked,
            d.leads,
            d.sales,
            d.sale_amount,
            d.disabled_at,
            d.folder_id,
        ];
        for (field, value) in Field::ALL.into_iter().zip(values) {
            link.values.set(field, value);
        }
        link
    }
}

/// Every `LinkSchema` field, in the order [`LinkDocument`] reads them.
impl Serialize for Link {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Link", 14 + FIELDS)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("domain", &self.domain)?;
        out.serialize_field("key", &self.key)?;
        out.serialize_field("url", &self.url)?;
        out.serialize_field("shortLink", &self.short_link())?;
        out.serialize_field("qrCode", &self.qr_code())?;
        out.serialize_field("externalId", &self.external_id)?;
        out.serialize_field("tenantId", &self.tenant_id)?;
        out.serialize_field("programId", &self.program_id)?;
        out.serialize_field("partnerId", &self.partner_id)?;
        out.serialize_field("workspaceId", &self.workspace_id)?;
        out.serialize_field("projectId", self.project_id())?;
        out.serialize_field("createdAt", &self.created_at)?;
        out.serialize_field("updatedAt", &self.updated_at)?;
        for field in Field::ALL {
            out.serialize_field(field.name(), self.values.get(field))?;
        }
        out.end()
    }
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
        let mut values = Values::default();
        values.codes[Field::TrackConversion as usize] = TRUE;
        for field in [
            Field::Archived,
            Field::Proxy,
            Field::Rewrite,
            Field::DoIndex,
            Field::PublicStats,
        ] {
            values.codes[field as usize] = FALSE;
        }
        for field in [Field::Tags, Field::WebhookIds] {
            values.codes[field as usize] = EMPTY_LIST;
        }
        for field in [Field::Clicks, Field::Leads, Field::Sales, Field::SaleAmount] {
            values.codes[field as usize] = ZERO;
        }
        Link {
            id: new.id,
            domain: new.domain.to_string(),
            key: new.key.to_string(),
            url: new.url.to_string(),
            short_link: None,
            qr_code: None,
            external_id: None,
            tenant_id: None,
            program_id: Some(new.program_id.to_string()),
            partner_id: None,
            workspace_id: new.workspace_id.to_string(),
            project_id: None,
            created_at: new.now.to_string(),
            updated_at: new.now.to_string(),
            values,
        }
    }

    /// `https://{domain}/{key}`, unless an import gave another.
    pub fn short_link(&self) -> Cow<'_, str> {
        match &self.short_link {
            Some(link) => Cow::Borrowed(link),
            None => Cow::Owned(short_link(&self.domain, &self.key)),
        }
    }

    /// The QR code image URL of the short link, unless an import gave another.
    pub fn qr_code(&self) -> Cow<'_, str> {
        match &self.qr_code {
            Some(url) => Cow::Borrowed(url),
            None => Cow::Owned(qr_code(&self.short_link())),
        }
    }

    /// The workspace id without its `ws_` prefix, unless an import gave another.
    pub fn project_id(&self) -> &str {
        match &self.project_id {
            Some(id) => id,
            None => self.workspace_id.trim_start_matches("ws_"),
        }
    }

    /// The value of `field`.
    pub fn value(&self, field: Field) -> &Value {
        self.values.get(field)
    }

    /// Gives `field` the value `value`.
    pub fn set_value(&mut self, field: Field, value: Value) {
        self.values.set(field, value);
    }

    /// A counter (clicks, leads, sales, sale amount): 0 when it holds no count.
    pub fn count(&self, field: Field) -> u64 {
        self.value(field).as_u64().unwrap_or(0)
    }

    /// Gives the link a new `key`, with the short link and QR code on `domain` (the program's
    /// domain, which Dub builds the new short link on) to match.
    pub fn set_key(&mut self, domain: &str, key: &str) {
        self.key = key.to_string();
        self.short_link = (domain != self.domain).then(|| short_link(domain, key).into());
        self.qr_code = None;
    }

    /// Copies every field of [`COPIED_PROPS`] that `props` (a `linkProps` object) has.
    pub fn copy_props(&mut self, props: &Map<String, Value>) {
        for field in COPIED_PROPS {
            if let Some(value) = props.get(field.name()) {
                self.values.set(field, value.clone());
            }
        }
    }

    /// Whether the link has stopped recording events at `now`: disabled, or past its expiry.
    pub fn inactive(&self, now: time::OffsetDateTime) -> bool {
        !self.value(Field::DisabledAt).is_null()
            || self
                .value(Field::ExpiresAt)
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
        assert_eq!(link.short_link(), "https://understudy.link/a%20b/%C3%A9");
        assert_eq!(
            link.qr_code(),
            "https://api.dub.co/qr?url=https://understudy.link/a%20b/%C3%A9?qr=1"
        );
        assert_eq!(link.project_id(), "1");
    }

    #[test]
    fn every_copied_prop_is_copied_under_its_json_name() {
        let mut link = sample();
        let props: Map<String, Value> = COPIED_PROPS
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name().to_string(), json!(i)))
            .chain([("shortLink".to_string(), json!("x"))])
            .collect();
        link.copy_props(&props);
        let json = link.to_json();
        for (i, field) in COPIED_PROPS.iter().enumerate() {
            assert_eq!(json[field.name()], json!(i), "{field:?}");
        }
        assert_eq!(json["shortLink"], "https://understudy.link/a%20b/%C3%A9");
    }

    #[test]
    fn a_link_round_trips_through_json_and_missing_fields_import_as_empty() {
        let link = sample();
        let back: Link = serde_json::from_value(link.to_json()).unwrap();
        assert_eq!(back, link);
        let sparse: Link = serde_json::from_value(json!({"id": "link_2"})).unwrap();
        assert_eq!(sparse.id, "link_2");
        assert_eq!(sparse.value(Field::Geo), &Value::Null);
        let json = sparse.to_json();
        assert_eq!(
            (&json["shortLink"], &json["qrCode"]),
            (&json!(""), &json!(""))
        );
        assert_eq!(json["projectId"], "");
    }

    #[test]
    fn every_field_exports_in_order_with_the_value_it_was_given() {
        // Each kind of value: the one-byte ones and the others, set, replaced and reset.
        let kinds = [
            json!(null),
            json!(false),
            json!(true),
            json!(0),
            json!([]),
            json!(0.0),
            json!(7),
            json!(-1),
            json!("text"),
            json!(["a"]),
            json!({"k": 1}),
        ];
        let mut link = sample();
        for (i, field) in Field::ALL.iter().enumerate() {
            link.set_value(*field, json!(["first", i]));
        }
        for (i, field) in Field::ALL.iter().enumerate() {
            link.set_value(*field, kinds[i % kinds.len()].clone());
        }
        let text = serde_json::to_string(&link).unwrap();
        let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        let positions: Vec<usize> = names
            .iter()
            .map(|n| text.find(&format!("\"{n}\":")).expect(n))
            .collect();
        assert!(positions.is_sorted(), "export order: {text}");
        let json: Value = serde_json::from_str(&text).unwrap();
        for (i, field) in Field::ALL.iter().enumerate() {
            let want = &kinds[i % kinds.len()];
            assert_eq!(&json[field.name()], want, "{field:?}");
            // 0.0 stays a float, not the integer 0.
            assert_eq!(
                json[field.name()].to_string(),
                want.to_string(),
                "{field:?}"
            );
        }
        let back: Link = serde_json::from_str(&text).unwrap();
        assert_eq!(back, link);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }

    #[test]
    fn an_imported_short_link_qr_code_and_project_id_are_kept_as_given() {
        let mut json = sample().to_json();
        json["shortLink"] = json!("https://elsewhere.link/x");
        json["qrCode"] = json!("https://qr.example/x");
        json["projectId"] = json!("other");
        let link: Link = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(link.to_json(), json);
        // A new key on another domain is stored; on the link's own it is derived again.
        let mut moved = sample();
        moved.set_key("other.link", "k");
        assert_eq!(moved.short_link(), "https://other.link/k");
        assert_eq!(
            moved.qr_code(),
            "https://api.dub.co/qr?url=https://other.link/k?qr=1"
        );
        moved.set_key("understudy.link", "k");
        assert_eq!(moved.short_link(), "https://understudy.link/k");
    }
}
