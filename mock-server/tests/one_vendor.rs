//! A fake serving one vendor compiles only that vendor's spec, and everything that names
//! another vendor (admin routes, fault rules, rate limits, the journal's filter, the typed API)
//! answers as for a vendor that does not exist, without a panic: the fake keeps serving.

mod common;

use common::{Fake, read};
use reqwest::Method;
use serde_json::{Value, json};
use understudy::Mount;
use understudy::VendorId;
use understudy::faults::FaultRule;
use understudy::server::Options;

const DUB: [(&str, &str); 1] = [("Authorization", "Bearer dub_understudy_test")];

async fn dub_only() -> Fake {
    Fake::start_with(Options {
        mount: Mount::Root(VendorId::Dub),
        ..Options::default()
    })
    .await
}

async fn admin(fake: &Fake, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let (status, _, body) = read(
        fake.send(method, &format!("/__understudy{path}"), &[], body.as_ref())
            .await,
    )
    .await;
    (status, body)
}

/// Dub's partner list answers 200: the server is still up and serving its one vendor.
async fn assert_dub_serves(fake: &Fake) {
    let (status, _, body) = read(fake.send(Method::GET, "/partners", &DUB, None).await).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn only_the_served_vendors_spec_is_compiled() {
    let fake = dub_only().await;
    assert!(fake.spec(VendorId::Dub).is_some());
    for vendor in VendorId::ALL.into_iter().filter(|v| *v != VendorId::Dub) {
        assert!(fake.spec(vendor).is_none(), "{vendor} was compiled");
    }
    let all = Fake::start().await;
    for vendor in VendorId::ALL {
        assert!(all.spec(vendor).is_some(), "{vendor} was not compiled");
    }
}

#[tokio::test]
async fn admin_routes_naming_another_vendor_answer_unknown_vendor() {
    let fake = dub_only().await;
    let routes: [(Method, &str, Option<Value>); 5] = [
        (Method::POST, "/vendors/archera/reset", None),
        (Method::GET, "/vendors/confluent/state", None),
        (Method::PUT, "/vendors/enhance/state", Some(json!({}))),
        (Method::POST, "/vendors/cloudcockpit/actions/anything", None),
        (Method::PUT, "/rate-limits/confluent", Some(Value::Null)),
    ];
    for (method, path, body) in routes {
        let (status, body) = admin(&fake, method.clone(), path, body).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "unknown_vendor", "{method} {path}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("not served") && m.contains("dub")),
            "{method} {path}: {body}"
        );
        assert_dub_serves(&fake).await;
    }
    // The same routes for the vendor it serves still work.
    let (status, _) = admin(&fake, Method::GET, "/vendors/dub/state", None).await;
    assert_eq!(status, 200);
    let (status, _) = admin(&fake, Method::POST, "/vendors/dub/reset", None).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn fault_rules_and_the_journal_refuse_another_vendor_as_an_unknown_one() {
    let fake = dub_only().await;
    // A rule naming a vendor that does not exist and one naming a vendor not served: both 400.
    for vendor in ["nosuch", "archera"] {
        let rules = json!([{"vendor": vendor, "status": 500}]);
        let (status, body) = admin(&fake, Method::PUT, "/faults", Some(rules)).await;
        assert_eq!(status, 400, "{vendor}: {body}");
        assert_eq!(body["error"]["code"], "bad_request");
        let (status, body) = admin(
            &fake,
            Method::GET,
            &format!("/journal?vendor={vendor}"),
            None,
        )
        .await;
        assert_eq!(status, 400, "{vendor}: {body}");
        assert_eq!(body["error"]["code"], "bad_request");
    }
    let (status, rules) = admin(&fake, Method::GET, "/faults", None).await;
    assert_eq!((status, rules), (200, json!([])));
    assert_dub_serves(&fake).await;
    let (status, entries) = admin(&fake, Method::GET, "/journal?vendor=dub", None).await;
    assert_eq!(status, 200);
    assert_eq!(entries.as_array().map(Vec::len), Some(1), "{entries}");
    let dub_rule = json!([{"vendor": "dub", "operation": "createPartner", "status": 500}]);
    let (status, body) = admin(&fake, Method::PUT, "/faults", Some(dub_rule)).await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test]
async fn the_typed_api_refuses_another_vendor_with_an_error() {
    let fake = dub_only().await;
    let archera = FaultRule::new(VendorId::Archera).status(500);
    let error = fake.set_faults(vec![archera.clone()]).unwrap_err();
    assert!(error.to_string().contains("not served"), "{error}");
    assert!(fake.add_fault(archera).is_err());
    assert!(fake.faults().is_empty());
    let error = fake.set_rate_limit(VendorId::Confluent, None).unwrap_err();
    assert!(error.contains("not served"), "{error}");
    assert!(fake.set_rate_limit(VendorId::Dub, None).is_ok());
    assert_eq!(fake.journal().vendor(VendorId::Archera).count(), 0);
    assert_dub_serves(&fake).await;
}

#[tokio::test]
async fn configured_rules_and_limits_for_vendors_not_served_are_left_out() {
    // One configuration for several one-vendor fakes: Confluent's rule and limit cannot apply
    // to a Dub fake, so they neither stop its start nor show in its admin API.
    let fake = understudy::Fake::builder()
        .vendor(VendorId::Dub)
        .config_yaml(
            "faults:\n  - {vendor: confluent, operation: signup, status: 500}\n  - {vendor: dub, operation: createPartner, status: 500, times: 1}\nrate_limits:\n  confluent: {algorithm: fixed_window, limit: 5, window_seconds: 60, reset: relative_seconds, retry_after: seconds}\n",
        )
        .expect("valid config")
        .start()
        .await
        .expect("the fake starts");
    let rules = fake.faults();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0].vendor, VendorId::Dub);
    let limits: Value = reqwest::get(format!("{}/__understudy/rate-limits", fake.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(limits.get("confluent").is_none(), "{limits}");
    assert!(limits.get("dub").is_some(), "{limits}");
}
