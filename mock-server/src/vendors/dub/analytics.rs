//! Partner analytics from the events recorded on links: the period an interval or a start and
//! end name, and the totals, time series and per-link figures over it.

use serde_json::{Value, json};
use time::{Duration, Month, OffsetDateTime, Time};

use super::errors::DubError;
use super::link::{Field, Link, parse_moment};
use super::state::{DubState, Event};

/// The most buckets a time series answers (the latest ones).
pub const MAX_BUCKETS: usize = 1200;

/// Clicks, leads, sales, sale amount and earnings, summed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Figures {
    /// Clicks.
    pub clicks: u64,
    /// Leads.
    pub leads: u64,
    /// Sales.
    pub sales: u64,
    /// Sale amount in cents.
    pub sale_amount: u64,
    /// Earnings in cents.
    pub earnings: u64,
}

impl Figures {
    /// Adds one recorded event.
    pub fn add(&mut self, e: &Event) {
        self.clicks = self.clicks.saturating_add(e.clicks);
        self.leads = self.leads.saturating_add(e.leads);
        self.sales = self.sales.saturating_add(e.sales);
        self.sale_amount = self.sale_amount.saturating_add(e.sale_amount);
        self.earnings = self.earnings.saturating_add(e.earnings);
    }

    /// The figures as Dub names them.
    pub fn to_json(self) -> Value {
        json!({
            "clicks": self.clicks, "leads": self.leads, "sales": self.sales,
            "saleAmount": self.sale_amount, "earnings": self.earnings,
        })
    }
}

/// The size of a time-series bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// One hour.
    Hour,
    /// One day.
    Day,
    /// One calendar month.
    Month,
}

/// The period figures are computed over, with its bucket size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    /// First moment counted.
    pub start: OffsetDateTime,
    /// Last moment counted.
    pub end: OffsetDateTime,
    /// Bucket size of a time series over it.
    pub granularity: Granularity,
}

/// The day "all" starts on: Dub's founding date.
fn founding() -> OffsetDateTime {
    time::macros::datetime!(2022-09-22 00:00 UTC)
}

/// The bucket `at` falls in, by its start.
fn floor(at: OffsetDateTime, g: Granularity) -> OffsetDateTime {
    let day = at.replace_time(Time::MIDNIGHT);
    match g {
        Granularity::Hour => {
            at.replace_time(Time::from_hms(at.hour(), 0, 0).unwrap_or(Time::MIDNIGHT))
        }
        Granularity::Day => day,
        Granularity::Month => day.replace_day(1).unwrap_or(day),
    }
}

/// The start of the bucket after the one starting at `at`.
fn next(at: OffsetDateTime, g: Granularity) -> OffsetDateTime {
    match g {
        Granularity::Hour => at + Duration::HOUR,
        Granularity::Day => at + Duration::DAY,
        Granularity::Month => {
            let (year, month) = match at.month() {
                Month::December => (at.year() + 1, Month::January),
                m => (at.year(), m.next()),
            };
            at.replace_day(1)
                .and_then(|d| d.replace_year(year))
                .and_then(|d| d.replace_month(month))
                .unwrap_or(at + Duration::days(31))
        }
    }
}

/// The period a query names at `now`: `start`..`end` (end defaults to now) when start is
/// given, else the interval (default `all`).
pub fn period(
    interval: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
    now: OffsetDateTime,
) -> Result<Period, DubError> {
    let moment = |name: &str, text: &str| {
        parse_moment(text)
            .ok_or_else(|| DubError::unprocessable(format!("invalid_date: {name}: Invalid date")))
    };
    if let Some(start) = start {
        let start = moment("start", start)?;
        let end = end.map(|e| moment("end", e)).transpose()?.unwrap_or(now);
        if end < start {
            return Err(DubError::bad_request(
                "The start date cannot be after the end date.",
            ));
        }
        let span = end - start;
        let granularity = if span <= Duration::days(2) {
            Granularity::Hour
        } else if span <= Duration::days(90) {
            Granularity::Day
        } else {
            Granularity::Month
        };
        return Ok(Period {
            start,
            end,
            granularity,
        });
    }
    let midnight = now.replace_time(Time::MIDNIGHT);
    let month_start = midnight.replace_day(1).unwrap_or(midnight);
    let (start, granularity) = match interval.unwrap_or("all") {
        "24h" => (now - Duration::HOUR * 24, Granularity::Hour),
        "7d" => (now - Duration::days(7), Granularity::Day),
        "30d" => (now - Duration::days(30), Granularity::Day),
        "90d" => (now - Duration::days(90), Granularity::Day),
        "1y" => (now - Duration::days(365), Granularity::Month),
        "mtd" => (month_start, Granularity::Day),
        "qtd" => {
            let first = Month::try_from(((u8::from(now.month()) - 1) / 3) * 3 + 1)
                .unwrap_or(Month::January);
            (
                month_start.replace_month(first).unwrap_or(month_start),
                Granularity::Day,
            )
        }
        "ytd" => (
            month_start
                .replace_month(Month::January)
                .unwrap_or(month_start),
            Granularity::Month,
        ),
        _ => (founding().min(now), Granularity::Month),
    };
    Ok(Period {
        start,
        end: now,
        granularity,
    })
}

/// The events of `links` inside `period`, with their moments.
fn events_in<'s>(
    state: &'s DubState,
    links: &'s [&Link],
    period: Period,
) -> impl Iterator<Item = (&'s str, OffsetDateTime, &'s Event)> {
    links.iter().flat_map(move |link| {
        state.events_of(&link.id).iter().filter_map(move |e| {
            parse_moment(&e.at)
                .filter(|at| *at >= period.start && *at <= period.end)
                .map(|at| (link.id.as_str(), at, e))
        })
    })
}

/// `groupBy=count`: the totals over the period.
pub fn count(state: &DubState, links: &[&Link], period: Period) -> Value {
    let mut figures = Figures::default();
    for (_, _, e) in events_in(state, links, period) {
        figures.add(e);
    }
    figures.to_json()
}

/// `groupBy=timeseries`: every bucket of the period, zeros included, oldest first.
pub fn timeseries(state: &DubState, links: &[&Link], period: Period) -> Value {
    let g = period.granularity;
    let mut starts = std::collections::VecDeque::new();
    let mut at = floor(period.start, g);
    while at <= period.end {
        starts.push_back(at);
        at = next(at, g);
        if starts.len() > MAX_BUCKETS {
            // Only the latest buckets are answered; drop the oldest as we go.
            starts.pop_front();
        }
    }
    let starts = Vec::from(starts);
    let mut figures = vec![Figures::default(); starts.len()];
    for (_, when, e) in events_in(state, links, period) {
        let bucket = floor(when, g);
        if let Ok(i) = starts.binary_search(&bucket) {
            figures[i].add(e);
        }
    }
    Value::Array(
        starts
            .into_iter()
            .zip(figures)
            .map(|(start, f)| {
                let mut item = f.to_json();
                item["start"] = json!(crate::clock::rfc3339(start));
                item
            })
            .collect(),
    )
}

/// `groupBy=top_links`: each link with its figures over the period, most clicked first.
pub fn top_links(state: &DubState, links: &[&Link], period: Period) -> Value {
    let mut rows: Vec<(Figures, &Link)> = links
        .iter()
        .map(|link| {
            let mut f = Figures::default();
            for (_, _, e) in events_in(state, std::slice::from_ref(link), period) {
                f.add(e);
            }
            (f, *link)
        })
        .collect();
    rows.sort_by(|a, b| {
        b.0.clicks
            .cmp(&a.0.clicks)
            .then_with(|| a.1.id.cmp(&b.1.id))
    });
    Value::Array(
        rows.into_iter()
            .map(|(f, link)| {
                let mut item = f.to_json();
                for (name, value) in [
                    ("link", json!(link.id)),
                    ("id", json!(link.id)),
                    ("domain", json!(link.domain)),
                    ("key", json!(link.key)),
                    ("shortLink", json!(link.short_link())),
                    ("url", json!(link.url)),
                    ("createdAt", json!(link.created_at)),
                    ("title", link.value(Field::Title).clone()),
                    ("comments", link.value(Field::Comments).clone()),
                    ("folderId", link.value(Field::FolderId).clone()),
                    ("partnerId", json!(link.partner_id)),
                ] {
                    item[name] = value;
                }
                item
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn intervals_end_now_and_pick_their_granularity() {
        let now = datetime!(2025-05-17 10:30 UTC);
        let p = period(Some("24h"), None, None, now).unwrap();
        assert_eq!(
            (p.start, p.granularity),
            (datetime!(2025-05-16 10:30 UTC), Granularity::Hour)
        );
        let p = period(Some("qtd"), None, None, now).unwrap();
        assert_eq!(
            (p.start, p.granularity),
            (datetime!(2025-04-01 00:00 UTC), Granularity::Day)
        );
        let p = period(Some("ytd"), None, None, now).unwrap();
        assert_eq!(
            (p.start, p.granularity),
            (datetime!(2025-01-01 00:00 UTC), Granularity::Month)
        );
        let p = period(None, None, None, now).unwrap();
        assert_eq!(p.start, datetime!(2022-09-22 00:00 UTC));
        let p = period(
            Some("7d"),
            Some("2025-05-01T00:00:00Z"),
            Some("2025-05-02T00:00:00Z"),
            now,
        )
        .unwrap();
        assert_eq!(
            p.granularity,
            Granularity::Hour,
            "start wins over the interval"
        );
        assert!(period(None, Some("2025-05-02"), Some("2025-05-01"), now).is_err());
        assert!(period(None, Some("yesterday"), None, now).is_err());
    }

    #[test]
    fn month_buckets_cross_the_year() {
        let dec = datetime!(2024-12-15 08:00 UTC);
        assert_eq!(
            floor(dec, Granularity::Month),
            datetime!(2024-12-01 00:00 UTC)
        );
        assert_eq!(
            next(floor(dec, Granularity::Month), Granularity::Month),
            datetime!(2025-01-01 00:00 UTC)
        );
        assert_eq!(
            floor(dec, Granularity::Hour),
            datetime!(2024-12-15 08:00 UTC)
        );
    }
}
