//! Reports for CI and people: the coverage matrix as JSON and HTML, and JUnit XML.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::run::RunReport;

/// Every (operation, status) row of the matrix: the documented ones and any other seen.
fn rows(report: &RunReport) -> BTreeSet<(String, u16)> {
    let mut rows = report.documented.clone();
    rows.extend(
        report
            .coverage
            .iter()
            .map(|(op, status, _)| (op.clone(), *status)),
    );
    rows
}

/// Whether `backend` answered `operation` with `status`.
fn seen(report: &RunReport, operation: &str, status: u16, backend: &str) -> bool {
    report
        .coverage
        .contains(&(operation.to_string(), status, backend.to_string()))
}

/// The coverage matrix: `{operation: {status: {backend: seen}}}` over every documented status
/// (and any undocumented one a backend answered).
pub fn coverage_json(report: &RunReport) -> Value {
    let mut matrix = serde_json::Map::new();
    for (operation, status) in rows(report) {
        let cells: serde_json::Map<String, Value> = report
            .backends
            .iter()
            .map(|b| (b.clone(), json!(seen(report, &operation, status, b))))
            .collect();
        let statuses = matrix.entry(operation.clone()).or_insert_with(|| json!({}));
        if let Some(statuses) = statuses.as_object_mut() {
            statuses.insert(status.to_string(), Value::Object(cells));
        }
    }
    json!({"vendor": report.vendor, "seed": report.seed, "backends": report.backends, "matrix": matrix})
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

/// The coverage matrix as a self-contained HTML page: one row per operation and status, one
/// column per backend, each cell seen or not.
pub fn coverage_html(report: &RunReport) -> String {
    let mut html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Coverage: {v}</title>\n<style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:4px 8px}}.seen{{background:#c8f0c8}}.unseen{{background:#f4d0d0}}</style></head>\n<body><h1>Coverage: {v}</h1><p>seed {s}, {c} cases, {r} requests, {f}</p>\n<table><tr><th>operation</th><th>status</th>",
        v = escape(&report.vendor),
        s = report.seed,
        c = report.cases,
        r = report.requests,
        f = if report.failure.is_some() {
            "FAILED"
        } else {
            "passed"
        },
    );
    for backend in &report.backends {
        html.push_str(&format!("<th>{}</th>", escape(backend)));
    }
    html.push_str("</tr>\n");
    for (operation, status) in rows(report) {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{status}</td>",
            escape(&operation)
        ));
        for backend in &report.backends {
            let (class, mark) = if seen(report, &operation, status, backend) {
                ("seen", "seen")
            } else {
                ("unseen", "not seen")
            };
            html.push_str(&format!("<td class=\"{class}\">{mark}</td>"));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table></body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> RunReport {
        RunReport {
            vendor: "dub".into(),
            seed: 3,
            cases: 2,
            requests: 4,
            failure: None,
            coverage: BTreeSet::from([
                ("createPartner".to_string(), 201, "fake".to_string()),
                ("createPartner".to_string(), 409, "other".to_string()),
            ]),
            documented: BTreeSet::from([
                ("createPartner".to_string(), 201),
                ("createPartner".to_string(), 422),
            ]),
            backends: vec!["fake".into(), "other".into()],
        }
    }

    #[test]
    fn the_matrix_names_each_operation_status_and_backend() {
        let matrix = coverage_json(&report());
        let cells = &matrix["matrix"]["createPartner"];
        assert_eq!(cells["201"], json!({"fake": true, "other": false}));
        assert_eq!(cells["409"], json!({"fake": false, "other": true}));
        assert_eq!(cells["422"], json!({"fake": false, "other": false}));
        let html = coverage_html(&report());
        assert_eq!(html.matches("class=\"seen\"").count(), 2);
        assert_eq!(html.matches("class=\"unseen\"").count(), 4);
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
