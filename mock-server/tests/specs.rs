//! The embedded specs load, cover every documented operation, and their examples are valid.

use understudy::VendorId;
use understudy::spec::{Place, SpecSet};

#[test]
fn every_vendor_spec_compiles_with_the_documented_operation_count() {
    let specs = SpecSet::embedded().expect("embedded specs compile");
    let expected = [
        (VendorId::Confluent, 3),
        (VendorId::Enhance, 4),
        (VendorId::Cloudcockpit, 1),
        (VendorId::Dub, 8),
        (VendorId::Archera, 11),
    ];
    let mut total = 0;
    for (vendor, count) in expected {
        let spec = specs.vendor(vendor);
        assert_eq!(spec.operations.len(), count, "{vendor} operations");
        total += spec.operations.len();
    }
    assert_eq!(total, 27);
    assert!(
        specs
            .vendor(VendorId::Archera)
            .openapi_version
            .starts_with("3.1")
    );
    assert!(
        specs
            .vendor(VendorId::Dub)
            .openapi_version
            .starts_with("3.0")
    );
}

#[test]
fn every_response_example_validates_against_its_own_schema() {
    let specs = SpecSet::embedded().unwrap();
    let mut checked = 0;
    for spec in specs.iter() {
        for op in &spec.operations {
            for response in &op.responses {
                let Some(body) = &response.body else { continue };
                let Some(example) = &body.example else {
                    continue;
                };
                let violations = body.schema.violations(example, Place::ResponseBody, None);
                assert!(
                    violations.is_empty(),
                    "{} {:?}: {violations:?}",
                    op.operation_id,
                    response.status
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 22, "only {checked} examples checked");
}

#[test]
fn every_operation_documents_a_success_with_an_example() {
    let specs = SpecSet::embedded().unwrap();
    for spec in specs.iter() {
        for op in &spec.operations {
            let (status, response) = op
                .success()
                .unwrap_or_else(|| panic!("{} has no 2xx", op.operation_id));
            assert!((200..300).contains(&status));
            let body = response.body.as_ref().expect("2xx has a body");
            assert!(
                body.example.is_some(),
                "{} 2xx has no example",
                op.operation_id
            );
        }
    }
}

#[test]
fn nullable_fields_of_30_documents_accept_null_after_normalisation() {
    let specs = SpecSet::embedded().unwrap();
    let op = specs
        .vendor(VendorId::Dub)
        .operation("createPartnerLink")
        .unwrap();
    let (_, response) = op.success().unwrap();
    let body = response.body.as_ref().unwrap();
    let mut example = body.example.clone().unwrap();
    example["externalId"] = serde_json::Value::Null;
    assert!(
        body.schema.is_valid(&example),
        "nullable externalId must accept null"
    );
    example["id"] = serde_json::Value::Null;
    assert!(
        !body.schema.is_valid(&example),
        "non-nullable id must reject null"
    );
}
