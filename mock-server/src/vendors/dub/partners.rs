//! Dub's rules for partners already enrolled: the enrolled-partner view both SDK generations
//! parse, the listing with its filters, sorting and paging, a partner's links, ban and
//! deactivate. Each is a function over Dub's state and plain inputs.

use std::cmp::Ordering;

use serde_json::{Value, json};

use super::analytics::Figures;
use super::errors::DubError;
use super::link::{Field, Link};
use super::state::{DubState, Enrollment, Partner};

/// The ban reasons Dub's SDK lists (`BanPartnerRequestBody.reason`).
pub const BAN_REASONS: [&str; 6] = [
    "tos_violation",
    "inappropriate_content",
    "fake_traffic",
    "fraud",
    "spam",
    "brand_abuse",
];

/// The largest page `GET /partners` serves.
pub const MAX_PAGE_SIZE: usize = 100;

/// How a request names a partner: `partnerId` wins over `tenantId`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PartnerRef<'a> {
    /// `pn_…`.
    pub partner_id: Option<&'a str>,
    /// The partner's id in the workspace's own system.
    pub tenant_id: Option<&'a str>,
}

impl<'a> PartnerRef<'a> {
    /// The reference in a JSON object (a body, or the query parameters).
    pub fn from_fields(fields: impl Fn(&str) -> Option<&'a str>) -> Self {
        let non_empty = |name: &str| fields(name).filter(|v| !v.is_empty());
        PartnerRef {
            partner_id: non_empty("partnerId"),
            tenant_id: non_empty("tenantId"),
        }
    }
}

/// The words Dub's not-found answers use for a missing enrolment, which differ by operation.
#[derive(Clone, Copy, Debug)]
pub enum Missing {
    /// `GET /partners/links`: "Partner not found."
    Links,
    /// `GET /partners/analytics`: "The partner with partnerId … is not enrolled in your program."
    Analytics,
    /// Ban and deactivate: "Partner … is not enrolled in program …".
    Status,
}

/// The enrolment `who` names in `program_id`, or Dub's 400 / 404 for the operation.
pub fn find_enrollment(
    state: &DubState,
    program_id: &str,
    who: PartnerRef<'_>,
    missing: Missing,
) -> Result<Enrollment, DubError> {
    let found = match who {
        PartnerRef {
            partner_id: None,
            tenant_id: None,
        } => {
            return Err(DubError::bad_request(
                "Either `partnerId` or `tenantId` must be provided.",
            ));
        }
        PartnerRef {
            partner_id: Some(partner),
            ..
        } => state.enrollment(program_id, partner),
        PartnerRef {
            tenant_id: Some(tenant),
            ..
        } => state.enrollment_by_tenant(program_id, tenant),
    };
    found.cloned().ok_or_else(|| {
        let (field, value) = match who.partner_id {
            Some(partner) => ("partnerId", partner),
            None => ("tenantId", who.tenant_id.unwrap_or_default()),
        };
        DubError::not_found(match (missing, who.partner_id) {
            (Missing::Links, _) => "Partner not found.".to_string(),
            (Missing::Analytics, _) => {
                format!("The partner with {field} {value} is not enrolled in your program.")
            }
            (Missing::Status, Some(partner)) => {
                format!("Partner {partner} is not enrolled in program {program_id}.")
            }
            (Missing::Status, None) => {
                format!("Partner with tenantId {value} not found in program.")
            }
        })
    })
}

/// A partner link in short, as listings and `GET /partners/links` return it.
pub fn link_summary(link: &Link) -> Value {
    object([
        ("clicks", json!(link.value(Field::Clicks))),
        ("conversions", json!(link.value(Field::Sales))),
        ("domain", json!(link.domain)),
        ("id", json!(link.id)),
        ("key", json!(link.key)),
        ("leads", json!(link.value(Field::Leads))),
        ("saleAmount", json!(link.value(Field::SaleAmount))),
        ("sales", json!(link.value(Field::Sales))),
        ("shortLink", json!(link.short_link())),
        ("url", json!(link.url)),
    ])
}

/// An object from its members, built at once. serde_json's map is a B-tree: `json!` inserts
/// members one by one, a search and a shift each, where collecting them (in key order, so the
/// sort finds one run) builds the tree in one pass. A later member of one name wins, as with
/// `json!`.
fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect(),
    )
}

/// The figures of every link of an enrolment, over all time.
pub fn totals(state: &DubState, enrollment: &Enrollment) -> Figures {
    let mut figures = Figures::default();
    for link in state.links_of(&enrollment.partner_id, &enrollment.program_id) {
        for event in state.events_of(&link.id) {
            figures.add(event);
        }
    }
    figures
}

/// `a / b`, or `None` when `b` is zero (Dub's ratios are null then).
fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// The value `sort_by` orders partners by; `None` sorts last.
fn sort_key(sort_by: &str, f: &Figures) -> Option<f64> {
    let revenue = f.sale_amount;
    Some(match sort_by {
        "totalClicks" => f.clicks as f64,
        "totalLeads" => f.leads as f64,
        "totalConversions" => f.sales as f64,
        "totalSaleAmount" => revenue as f64,
        "totalCommissions" => f.earnings as f64,
        "netRevenue" => revenue as f64 - f.earnings as f64,
        "earningsPerClick" => return ratio(revenue, f.clicks),
        "averageLifetimeValue" => return ratio(revenue, f.sales),
        "clickToLeadRate" => return ratio(f.leads, f.clicks),
        "clickToConversionRate" => return ratio(f.sales, f.clicks),
        "leadToConversionRate" => return ratio(f.sales, f.leads),
        "returnOnAdSpend" => return ratio(revenue, f.earnings),
        // createdAt is the tie-break order itself.
        _ => 0.0,
    })
}

/// The enrolled partner both SDK generations parse: 0.18.0's fields and today's.
pub fn enrolled_json(state: &DubState, partner: &Partner, enrollment: &Enrollment) -> Value {
    let links: Vec<Value> = state
        .links_of(&partner.id, &enrollment.program_id)
        .into_iter()
        .map(link_summary)
        .collect();
    let f = totals(state, enrollment);
    let revenue = f.sale_amount;
    let created_at = if enrollment.created_at.is_empty() {
        &partner.created_at
    } else {
        &enrollment.created_at
    };
    // Members in key order, collected at once (see `object`).
    object([
        ("averageLifetimeValue", json!(ratio(revenue, f.sales))),
        ("bannedAt", json!(enrollment.banned_at)),
        ("bannedReason", json!(enrollment.banned_reason)),
        ("bio", json!(null)),
        ("clickToConversionRate", json!(ratio(f.sales, f.clicks))),
        ("clickToLeadRate", json!(ratio(f.leads, f.clicks))),
        ("clicks", json!(f.clicks)),
        ("commissionAmount", json!(null)),
        ("companyName", json!(null)),
        ("conversions", json!(f.sales)),
        ("country", json!(partner.country)),
        ("createdAt", json!(created_at)),
        ("defaultPayoutMethod", json!(null)),
        ("description", json!(partner.description)),
        ("earnings", json!(f.earnings)),
        ("earningsPerClick", json!(ratio(revenue, f.clicks))),
        ("email", json!(partner.email)),
        ("groupId", json!(enrollment.group_id)),
        ("id", json!(partner.id)),
        ("identityVerifiedAt", json!(null)),
        ("image", json!(partner.image)),
        ("leadToConversionRate", json!(ratio(f.sales, f.leads))),
        ("leads", json!(f.leads)),
        ("links", json!(links)),
        ("name", json!(partner.name)),
        (
            "netRevenue",
            json!(i128::from(revenue) - i128::from(f.earnings)),
        ),
        ("networkStatus", json!("draft")),
        ("partnerId", json!(partner.id)),
        ("payoutsEnabled", json!(false)),
        ("payoutsEnabledAt", json!(null)),
        ("paypalEmail", json!(null)),
        ("programId", json!(enrollment.program_id)),
        ("returnOnAdSpend", json!(ratio(revenue, f.earnings))),
        ("saleAmount", json!(revenue)),
        ("sales", json!(f.sales)),
        ("salesAmount", json!(revenue)),
        ("status", json!(enrollment.status)),
        ("stripeConnectId", json!(null)),
        ("tenantId", json!(enrollment.tenant_id)),
        ("totalClicks", json!(f.clicks)),
        ("totalCommissions", json!(f.earnings)),
        ("totalConversions", json!(f.sales)),
        ("totalLeads", json!(f.leads)),
        ("totalSaleAmount", json!(revenue)),
        ("totalSales", json!(f.sales)),
        ("updatedAt", json!(partner.updated_at)),
        ("username", json!(partner.username)),
    ])
}

/// The listing's query: filters, sorting and paging, as sent (validated by the spec).
#[derive(Clone, Debug, Default)]
pub struct ListQuery<'a> {
    /// Exact enrolment status.
    pub status: Option<&'a str>,
    /// Exact country code.
    pub country: Option<&'a str>,
    /// Exact partner group.
    pub group_id: Option<&'a str>,
    /// Exact tenant id.
    pub tenant_id: Option<&'a str>,
    /// Email, case-insensitive.
    pub email: Option<&'a str>,
    /// Substring of id, name, email or a link key, case-insensitive.
    pub search: Option<&'a str>,
    /// Sort field (default `totalSaleAmount`).
    pub sort_by: Option<&'a str>,
    /// `asc` or `desc` (default).
    pub sort_order: Option<&'a str>,
    /// Page from 1.
    pub page: usize,
    /// Partners per page, at most [`MAX_PAGE_SIZE`].
    pub page_size: usize,
}

/// Whether an enrolment passes the listing's filters.
fn matches(state: &DubState, partner: &Partner, e: &Enrollment, q: &ListQuery<'_>) -> bool {
    let same = |want: Option<&str>, have: Option<&str>| want.is_none_or(|w| have == Some(w));
    if !same(q.status, Some(&e.status))
        || !same(q.country, Some(&partner.country))
        || !same(q.group_id, e.group_id.as_deref())
        || !same(q.tenant_id, e.tenant_id.as_deref())
        || q.email
            .is_some_and(|m| !m.eq_ignore_ascii_case(&partner.email))
    {
        return false;
    }
    let Some(search) = q.search.map(str::to_lowercase).filter(|s| !s.is_empty()) else {
        return true;
    };
    [&partner.id, &partner.name, &partner.email]
        .iter()
        .any(|field| field.to_lowercase().contains(&search))
        || state
            .links_of(&partner.id, &e.program_id)
            .iter()
            .any(|link| link.key.to_lowercase().contains(&search))
}

/// `GET /partners`: one page of the program's enrolled partners.
pub fn list(state: &DubState, program_id: &str, q: &ListQuery<'_>) -> Value {
    let sort_by = q.sort_by.unwrap_or("totalSaleAmount");
    let descending = q.sort_order != Some("asc");
    // Each row carries its enrolment's position, the order enrolments were made in: the last
    // tie-break, so enrolments made in the same millisecond list in the order they were made
    // (an id order would list them differently from two fakes that ran at different speeds).
    let mut rows: Vec<(Option<f64>, &Enrollment, &Partner, usize)> = state
        .enrollments_in(program_id)
        .enumerate()
        .filter_map(|(n, e)| state.partner(&e.partner_id).map(|p| (e, p, n)))
        .filter(|(e, p, _)| matches(state, p, e, q))
        .map(|(e, p, n)| (sort_key(sort_by, &totals(state, e)), e, p, n))
        .collect();
    let tie = |a: &(Option<f64>, &Enrollment, &Partner, usize),
               b: &(Option<f64>, &Enrollment, &Partner, usize)| {
        (&a.1.created_at, a.3).cmp(&(&b.1.created_at, b.3))
    };
    rows.sort_by(|a, b| {
        let by_key = match (a.0, b.0) {
            (Some(x), Some(y)) if descending => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        // Sorting by createdAt is the tie-break itself, in the asked direction.
        let by_key = if sort_by == "createdAt" && descending {
            tie(b, a)
        } else {
            by_key
        };
        by_key.then_with(|| tie(a, b))
    });
    let size = q.page_size.clamp(1, MAX_PAGE_SIZE);
    let skip = q.page.saturating_sub(1).saturating_mul(size);
    let page: Vec<Value> = rows
        .into_iter()
        .skip(skip)
        .take(size)
        .map(|(_, e, p, _)| enrolled_json(state, p, e))
        .collect();
    Value::Array(page)
}

/// `GET /partners/links`: the enrolment's links in short.
pub fn links(state: &DubState, enrollment: &Enrollment) -> Value {
    Value::Array(
        state
            .links_of(&enrollment.partner_id, &enrollment.program_id)
            .into_iter()
            .map(link_summary)
            .collect(),
    )
}

/// `POST /partners/ban`: the enrolment is banned with `reason` at `now`; its links are
/// disabled and expire now.
pub fn ban(
    state: &mut DubState,
    enrollment: &Enrollment,
    reason: &str,
    now: &str,
) -> Result<Value, DubError> {
    if !BAN_REASONS.contains(&reason) {
        // The spec's enum refuses these first; kept so a Rust caller cannot store another.
        return Err(DubError::unprocessable(format!(
            "invalid_value: reason: Invalid option: expected one of {}",
            BAN_REASONS.join("|")
        )));
    }
    match enrollment.status.as_str() {
        "banned" => {
            return Err(DubError::bad_request(
                "This partner is already banned from your program.",
            ));
        }
        "pending" => {
            return Err(DubError::bad_request(
                "This partner is not approved yet to be banned.",
            ));
        }
        _ => {}
    }
    let (partner, program) = (&enrollment.partner_id, &enrollment.program_id);
    state.update_enrollment(program, partner, |e| {
        e.status = "banned".into();
        e.banned_at = Some(now.to_string());
        e.banned_reason = Some(reason.to_string());
    });
    state.update_links_of(partner, program, |link| {
        link.set_value(Field::DisabledAt, json!(now));
        link.set_value(Field::ExpiresAt, json!(now));
        link.updated_at = now.to_string();
    });
    Ok(json!({"partnerId": partner}))
}

/// `POST /partners/deactivate`: only approved or archived enrolments; links without an expiry
/// expire now.
pub fn deactivate(
    state: &mut DubState,
    enrollment: &Enrollment,
    now: &str,
) -> Result<Value, DubError> {
    if !matches!(enrollment.status.as_str(), "approved" | "archived") {
        return Err(DubError::bad_request(format!(
            "Only partners with an \"approved\" or \"archived\" status can be deactivated. The partner's status in this program is \"{}\".",
            enrollment.status
        )));
    }
    let (partner, program) = (&enrollment.partner_id, &enrollment.program_id);
    state.update_enrollment(program, partner, |e| e.status = "deactivated".into());
    state.update_links_of(partner, program, |link| {
        if link.value(Field::ExpiresAt).is_null() {
            link.set_value(Field::ExpiresAt, json!(now));
            link.updated_at = now.to_string();
        }
    });
    Ok(json!({"partnerId": partner}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_null_without_a_denominator() {
        assert_eq!(ratio(3, 0), None);
        assert_eq!(ratio(3, 4), Some(0.75));
        let f = Figures {
            clicks: 10,
            leads: 4,
            sales: 2,
            sale_amount: 5000,
            earnings: 1000,
        };
        assert_eq!(sort_key("earningsPerClick", &f), Some(500.0));
        assert_eq!(sort_key("leadToConversionRate", &f), Some(0.5));
        assert_eq!(sort_key("returnOnAdSpend", &f), Some(5.0));
        assert_eq!(sort_key("netRevenue", &f), Some(4000.0));
        assert_eq!(sort_key("clickToLeadRate", &Figures::default()), None);
    }

    #[test]
    fn a_missing_reference_is_400_and_an_unknown_one_404_in_each_operations_words() {
        let state = DubState::default();
        let none = PartnerRef::default();
        let err = find_enrollment(&state, "prog_1", none, Missing::Status).unwrap_err();
        assert_eq!(
            err,
            DubError::bad_request("Either `partnerId` or `tenantId` must be provided.")
        );
        let by_tenant = PartnerRef {
            partner_id: None,
            tenant_id: Some("t-1"),
        };
        let err = find_enrollment(&state, "prog_1", by_tenant, Missing::Status).unwrap_err();
        assert_eq!(
            err,
            DubError::not_found("Partner with tenantId t-1 not found in program.")
        );
        let by_id = PartnerRef {
            partner_id: Some("pn_1"),
            tenant_id: Some("t-1"),
        };
        let err = find_enrollment(&state, "prog_1", by_id, Missing::Analytics).unwrap_err();
        assert_eq!(
            err,
            DubError::not_found("The partner with partnerId pn_1 is not enrolled in your program.")
        );
    }
}
