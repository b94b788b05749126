//! One canonical, normalised transcript per vendor, held by `insta`: a behaviour change in the
//! fake shows up in review as a snapshot diff. Each step is also checked against the spec and the
//! model before it is recorded.

use understudy_contract_tests::FakeBackend;
use understudy_contract_tests::Scenario;
use understudy_contract_tests::run::transcript;
use understudy_contract_tests::vendors::{
    archera, cloudcockpit, confluent, dub, dub_rate_limit, enhance,
};

fn canonical<S: Scenario>() -> serde_json::Value {
    let fake = FakeBackend::start(S::VENDOR, &[]).expect("fake starts");
    let lines = transcript::<S>(&fake, &S::canonical()).unwrap_or_else(|f| panic!("{f:#?}"));
    serde_json::Value::Array(lines)
}

#[test]
fn dub_transcript() {
    insta::assert_json_snapshot!(canonical::<dub::Dub>());
}

#[test]
fn dub_rate_limit_transcript() {
    insta::assert_json_snapshot!(canonical::<dub_rate_limit::DubRateLimit>());
}

#[test]
fn confluent_transcript() {
    insta::assert_json_snapshot!(canonical::<confluent::Confluent>());
}

#[test]
fn enhance_transcript() {
    insta::assert_json_snapshot!(canonical::<enhance::Enhance>());
}

#[test]
fn cloudcockpit_transcript() {
    insta::assert_json_snapshot!(canonical::<cloudcockpit::CloudCockpit>());
}

#[test]
fn archera_transcript() {
    insta::assert_json_snapshot!(canonical::<archera::Archera>());
}
