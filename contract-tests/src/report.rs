//! Reports for CI: the coverage matrix as JSON, and JUnit XML.

use serde_json::{Value, json};

use crate::run::RunReport;

/// The coverage matrix: `{operation: {status: [backends]}}`.
pub fn coverage_json(report: &RunReport) -> Value {
    let mut matrix = serde_json::Map::new();
    for (operation, status, backend) in &report.coverage {
        let statuses = matrix.entry(operation.clone()).or_insert_with(|| json!({}));
        let backends = statuses
            .as_object_mut()
            .expect("an object")
            .entry(status.to_string())
            .or_insert_with(|| json!([]));
        if let Some(list) = backends.as_array_mut() {
            list.push(json!(backend));
        }
    }
    json!({"vendor": report.vendor, "seed": report.seed, "matrix": matrix})
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
