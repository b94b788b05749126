//! Reports for CI and people: the coverage matrix as JSON and HTML, and JUnit XML.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use serde::Serialize;

use crate::reach::Reach;
use crate::run::RunReport;

/// Every (operation, status) row of the matrix: the documented ones and any other seen.
fn rows(report: &RunReport) -> BTreeSet<(String, u16)> {
    let mut rows = report.documented.clone();
    rows.extend(
        report
            .coverage
            .iter()
            .chain(&report.forced)
            .map(|(op, status, _)| (op.clone(), *status)),
    );
    rows
}

/// Whether `backend` answered `operation` with `status` by the fake's own rules.
fn seen(report: &RunReport, operation: &str, status: u16, backend: &str) -> bool {
    report
        .coverage
        .contains(&(operation.to_string(), status, backend.to_string()))
}

/// Whether `backend` answered `operation` with `status` when it was forced.
fn forced(report: &RunReport, operation: &str, status: u16, backend: &str) -> bool {
    report
        .forced
        .contains(&(operation.to_string(), status, backend.to_string()))
}

/// How a row's cell is reached: the spec's annotation, or `None` for a status the spec does not
/// document.
fn reach<'r>(report: &'r RunReport, operation: &str, status: u16) -> Option<&'r Reach> {
    report.cells.get(&(operation.to_string(), status))
}

/// Whether `backend` reached the cell the way its kind says it is reached.
fn reached(report: &RunReport, operation: &str, status: u16, backend: &str) -> bool {
    match reach(report, operation, status) {
        Some(Reach::Forced(_)) => forced(report, operation, status, backend),
        _ => seen(report, operation, status, backend),
    }
}

/// How many cells of one kind there are, and how many the first backend reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Reached by the first backend (for unreachable cells: answered nonetheless).
    pub reached: usize,
    /// Documented.
    pub of: usize,
}

impl Tally {
    /// `reached` as a share of `of`, in percent (100 when there are none).
    pub fn percent(&self) -> f64 {
        if self.of == 0 {
            100.0
        } else {
            100.0 * self.reached as f64 / self.of as f64
        }
    }
}

/// The coverage of the first backend (the target), kind by kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Cells the fake's rules answer.
    pub natural: Tally,
    /// Cells reached only by fault injection.
    pub forced: Tally,
    /// Cells never answered, each with its reason; `reached` counts any answered regardless.
    pub unreachable: Tally,
    /// Cells the first backend did not reach: natural and forced ones missed, unreachable ones
    /// answered, as `operation status kind`.
    pub missed: Vec<String>,
}

impl Summary {
    /// Why the coverage falls short of `natural_percent` of the natural cells, every forced
    /// cell, and no unreachable cell answered; `None` when it does not.
    pub fn shortfall(&self, natural_percent: f64) -> Option<String> {
        let mut short = Vec::new();
        if self.natural.percent() < natural_percent {
            short.push(format!(
                "{} of {} natural cells reached ({:.1} %, below {natural_percent} %)",
                self.natural.reached,
                self.natural.of,
                self.natural.percent()
            ));
        }
        if self.forced.reached < self.forced.of {
            short.push(format!(
                "{} of {} forced cells reached",
                self.forced.reached, self.forced.of
            ));
        }
        if self.unreachable.reached > 0 {
            short.push(format!(
                "{} cells the spec calls unreachable were answered",
                self.unreachable.reached
            ));
        }
        (!short.is_empty())
            .then(|| format!("{}; missed: {}", short.join("; "), self.missed.join(", ")))
    }
}

/// The first backend's coverage, kind by kind.
pub fn summary(report: &RunReport) -> Summary {
    let mut summary = Summary::default();
    let Some(backend) = report.backends.first() else {
        return summary;
    };
    for ((operation, status), reach) in &report.cells {
        let reached = reached(report, operation, *status, backend);
        let tally = match reach {
            Reach::Natural => &mut summary.natural,
            Reach::Forced(_) => &mut summary.forced,
            Reach::Unreachable(_) => &mut summary.unreachable,
        };
        tally.of += 1;
        let counts = match reach {
            Reach::Unreachable(_) => seen(report, operation, *status, backend),
            _ => reached,
        };
        tally.reached += usize::from(counts);
        if counts == matches!(reach, Reach::Unreachable(_)) {
            summary
                .missed
                .push(format!("{operation} {status} {}", reach.kind()));
        }
    }
    summary
}

/// The coverage report: `matrix` is `{operation: {status: {backend: seen}}}` for what the fake's
/// own rules answered (every documented status, and any undocumented one a backend answered);
/// `cells` adds each cell's kind (natural, forced, unreachable or undocumented), the spec's
/// reason and whether each backend reached it that way; `summary` counts the first backend.
pub fn coverage_json(report: &RunReport) -> Value {
    let mut matrix = serde_json::Map::new();
    let mut cells = serde_json::Map::new();
    for (operation, status) in rows(report) {
        let seen_by: serde_json::Map<String, Value> = report
            .backends
            .iter()
            .map(|b| (b.clone(), json!(seen(report, &operation, status, b))))
            .collect();
        let reached_by: serde_json::Map<String, Value> = report
            .backends
            .iter()
            .map(|b| (b.clone(), json!(reached(report, &operation, status, b))))
            .collect();
        let reach = reach(report, &operation, status);
        let mut cell = json!({
            "kind": reach.map_or("undocumented", Reach::kind),
            "reached": reached_by,
        });
        if let Some(reason) = reach.and_then(Reach::reason) {
            cell["reason"] = json!(reason);
        }
        for (map, value) in [(&mut matrix, Value::Object(seen_by)), (&mut cells, cell)] {
            let statuses = map.entry(operation.clone()).or_insert_with(|| json!({}));
            if let Some(statuses) = statuses.as_object_mut() {
                statuses.insert(status.to_string(), value);
            }
        }
    }
    let summary = summary(report);
    json!({
        "vendor": report.vendor,
        "seed": report.seed,
        "backends": report.backends,
        "matrix": matrix,
        "cells": cells,
        "summary": {
            "natural": {"reached": summary.natural.reached, "of": summary.natural.of, "percent": summary.natural.percent()},
            "forced": {"reached": summary.forced.reached, "of": summary.forced.of},
            "unreachable": {"answered": summary.unreachable.reached, "of": summary.unreachable.of},
            "missed": summary.missed,
        },
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One JUnit test suite with one test case for the run.
pub fn junit(report: &RunReport) -> String {
    let failure = match &report.failure {
        Some(f) => format!(
            "<failure message=\"step {}\">{}\n{}</failure>",
            f.step,
            escape(&f.sequence.join("\n")),
            escape(&f.reason)
        ),
        None => String::new(),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"contract-{v}\" tests=\"1\" failures=\"{n}\">\n<testcase classname=\"contract\" name=\"{v} seed {s} cases {c}\">{failure}</testcase>\n</testsuite>\n",
        v = escape(&report.vendor),
        n = usize::from(report.failure.is_some()),
        s = report.seed,
        c = report.cases,
    )
}

/// Whether a row's reach belongs in a section of the page.
type KindFilter = fn(Option<&Reach>) -> bool;

/// The coverage matrix as a self-contained HTML page, the three kinds of cell apart: a table
/// of the cells the fake's rules answer, one of those reached only by fault injection, one of
/// those no one reaches with the spec's reasons; one column per backend, each cell reached or
/// not.
pub fn coverage_html(report: &RunReport) -> String {
    let summary = summary(report);
    let mut html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Coverage: {v}</title>\n<style>body{{font-family:sans-serif}}table{{border-collapse:collapse;margin-bottom:2em}}td,th{{border:1px solid #999;padding:4px 8px}}.seen{{background:#c8f0c8}}.forced{{background:#c8dcf4}}.unseen{{background:#f4d0d0}}.unreachable{{background:#e4e4e4;color:#555}}</style></head>\n<body><h1>Coverage: {v}</h1><p>seed {s}, {c} cases, {r} requests, {f}</p>\n<p>natural: {nr} of {no} reached ({np:.1} %); forced: {fr} of {fo} reached; unreachable: {uo}, each with its reason</p>\n",
        v = escape(&report.vendor),
        s = report.seed,
        c = report.cases,
        r = report.requests,
        f = if report.failure.is_some() {
            "FAILED"
        } else {
            "passed"
        },
        nr = summary.natural.reached,
        no = summary.natural.of,
        np = summary.natural.percent(),
        fr = summary.forced.reached,
        fo = summary.forced.of,
        uo = summary.unreachable.of,
    );
    let sections: [(&str, &str, KindFilter); 4] = [
        ("Reached by the fake's own rules", "natural", |r| {
            matches!(r, Some(Reach::Natural))
        }),
        (
            "Reached only by fault injection (Prefer: code=…)",
            "forced",
            |r| matches!(r, Some(Reach::Forced(_))),
        ),
        (
            "Unreachable (the reason is the spec's)",
            "unreachable",
            |r| matches!(r, Some(Reach::Unreachable(_))),
        ),
        ("Answered but not documented", "undocumented", |r| {
            r.is_none()
        }),
    ];
    for (title, kind, belongs) in sections {
        let rows: Vec<(String, u16)> = rows(report)
            .into_iter()
            .filter(|(op, status)| belongs(reach(report, op, *status)))
            .collect();
        if rows.is_empty() {
            continue;
        }
        html.push_str(&format!(
            "<h2 id=\"{kind}\">{}</h2>\n<table><tr><th>operation</th><th>status</th>",
            escape(title)
        ));
        if kind != "natural" {
            html.push_str("<th>reason</th>");
        }
        for backend in &report.backends {
            html.push_str(&format!("<th>{}</th>", escape(backend)));
        }
        html.push_str("</tr>\n");
        for (operation, status) in rows {
            html.push_str(&format!(
                "<tr data-kind=\"{kind}\"><td>{}</td><td>{status}</td>",
                escape(&operation)
            ));
            let reach = reach(report, &operation, status);
            if kind != "natural" {
                html.push_str(&format!(
                    "<td>{}</td>",
                    escape(reach.and_then(Reach::reason).unwrap_or(""))
                ));
            }
            for backend in &report.backends {
                let (class, mark) = match (reach, reached(report, &operation, status, backend)) {
                    (Some(Reach::Unreachable(_)), false) => ("unreachable", "not reached"),
                    (Some(Reach::Forced(_)), true) => ("forced", "forced"),
                    (_, true) => ("seen", "seen"),
                    (_, false) => ("unseen", "not seen"),
                };
                html.push_str(&format!("<td class=\"{class}\">{mark}</td>"));
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</table>\n");
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> RunReport {
        let cell = |op: &str, status| (op.to_string(), status);
        RunReport {
            vendor: "dub".into(),
            seed: 3,
            run_id: None,
            cases: 2,
            requests: 4,
            failure: None,
            coverage: BTreeSet::from([
                ("createPartner".to_string(), 201, "fake".to_string()),
                ("createPartner".to_string(), 409, "other".to_string()),
            ]),
            forced: BTreeSet::from([("createPartner".to_string(), 500, "fake".to_string())]),
            documented: BTreeSet::from([
                cell("createPartner", 201),
                cell("createPartner", 422),
                cell("createPartner", 410),
                cell("createPartner", 500),
            ]),
            cells: [
                (cell("createPartner", 201), Reach::Natural),
                (cell("createPartner", 422), Reach::Natural),
                (
                    cell("createPartner", 410),
                    Reach::Unreachable("never".into()),
                ),
                (
                    cell("createPartner", 500),
                    Reach::Forced("no failures".into()),
                ),
            ]
            .into(),
            backends: vec!["fake".into(), "other".into()],
            unpredicted: Default::default(),
            skipped: Vec::new(),
            throttled_seconds: 0.0,
        }
    }

    #[test]
    fn the_matrix_names_each_operation_status_and_backend() {
        let matrix = coverage_json(&report());
        let cells = &matrix["matrix"]["createPartner"];
        assert_eq!(cells["201"], json!({"fake": true, "other": false}));
        assert_eq!(cells["409"], json!({"fake": false, "other": true}));
        assert_eq!(cells["422"], json!({"fake": false, "other": false}));
        let kinds = &matrix["cells"]["createPartner"];
        assert_eq!(kinds["500"]["kind"], "forced");
        assert_eq!(
            kinds["500"]["reached"],
            json!({"fake": true, "other": false})
        );
        assert_eq!(kinds["410"]["reason"], "never");
        assert_eq!(kinds["409"]["kind"], "undocumented");
        assert_eq!(
            matrix["summary"]["natural"],
            json!({"reached": 1, "of": 2, "percent": 50.0})
        );
        assert_eq!(matrix["summary"]["forced"], json!({"reached": 1, "of": 1}));
        assert_eq!(
            matrix["summary"]["missed"],
            json!(["createPartner 422 natural"])
        );
    }

    #[test]
    fn the_page_shows_the_three_kinds_apart() {
        let html = coverage_html(&report());
        for section in [
            "id=\"natural\"",
            "id=\"forced\"",
            "id=\"unreachable\"",
            "id=\"undocumented\"",
        ] {
            assert!(html.contains(section), "{section}: {html}");
        }
        // natural: 201 seen on fake; 409 (undocumented) seen on other.
        assert_eq!(html.matches("class=\"seen\"").count(), 2);
        assert_eq!(html.matches("class=\"forced\"").count(), 1);
        assert_eq!(html.matches("class=\"unreachable\"").count(), 2);
        assert!(html.contains("<td>no failures</td>"), "{html}");
    }

    #[test]
    fn a_shortfall_names_what_was_missed() {
        let summary = summary(&report());
        assert_eq!(summary.shortfall(50.0), None);
        let short = summary.shortfall(95.0).expect("50 % is short of 95 %");
        assert!(short.contains("createPartner 422 natural"), "{short}");
        let mut unforced = report();
        unforced.forced.clear();
        let short = super::summary(&unforced)
            .shortfall(0.0)
            .expect("a forced cell missed");
        assert!(short.contains("0 of 1 forced"), "{short}");
    }

    #[test]
    fn junit_counts_the_failure() {
        let mut failed = report();
        failed.failure = Some(crate::run::Failure {
            sequence: vec!["A <b>".into()],
            step: 0,
            reason: "x & y".into(),
        });
        let xml = junit(&failed);
        assert!(xml.contains("failures=\"1\""), "{xml}");
        assert!(
            xml.contains("A &lt;b&gt;") && xml.contains("x &amp; y"),
            "{xml}"
        );
        assert!(junit(&report()).contains("failures=\"0\""));
    }
}
