//! The spec and the handlers cannot disagree: a spec with an operation no handler serves, or a
//! handler whose operation the spec lacks, stops the start with the operation named.

use std::path::PathBuf;

use serde_json::Value;
use understudy::server::{Options, StartError, start};
use understudy::spec::embedded_source;
use understudy::{OperationMismatch, VendorId};

/// A copy of the embedded specs in a fresh directory, `edit` applied to one vendor's document.
fn specs_with(name: &str, vendor: VendorId, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let mut edit = Some(edit);
    let dir = std::env::temp_dir().join(format!("understudy-ops-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for v in VendorId::ALL {
        let mut text = embedded_source(v).to_string();
        if v == vendor
            && let Some(edit) = edit.take()
        {
            let mut document: Value = serde_norway::from_str(&text).unwrap();
            edit(&mut document);
            text = serde_norway::to_string(&document).unwrap();
        }
        std::fs::write(dir.join(v.spec_file()), text).unwrap();
    }
    dir
}

async fn start_error(specs: PathBuf) -> StartError {
    let options = Options {
        addr: "127.0.0.1:0".parse().unwrap(),
        specs_dir: Some(specs.clone()),
        ..Options::default()
    };
    let error = start(options).await.err().expect("the start is refused");
    let _ = std::fs::remove_dir_all(specs);
    error
}

#[tokio::test]
async fn an_operation_without_a_handler_stops_the_start() {
    let specs = specs_with("unhandled", VendorId::Cloudcockpit, |doc| {
        let get = &mut doc["paths"]["/v1/Customers/relationship-acceptance"]["get"];
        let mut extra = get.clone();
        extra["operationId"] = Value::from("deleteCustomerRelationship");
        doc["paths"]["/v1/Customers/relationship-acceptance"]["delete"] = extra;
    });
    match start_error(specs).await {
        StartError::Operations(OperationMismatch::Unhandled { vendor, operation }) => {
            assert_eq!(vendor, VendorId::Cloudcockpit);
            assert_eq!(operation, "deleteCustomerRelationship");
        }
        other => panic!("unexpected error: {other}"),
    }
}

#[tokio::test]
async fn a_handler_without_an_operation_stops_the_start() {
    let specs = specs_with("unspecified", VendorId::Confluent, |doc| {
        doc["paths"]
            .as_object_mut()
            .unwrap()
            .remove("/partner/v2/signup/link")
            .expect("the link operation's path");
    });
    match start_error(specs).await {
        StartError::Operations(OperationMismatch::Unspecified { vendor, operation }) => {
            assert_eq!(vendor, VendorId::Confluent);
            assert_eq!(operation, "signupPartnerV2Link");
        }
        other => panic!("unexpected error: {other}"),
    }
}
