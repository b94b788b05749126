//! Understudy embedded in a Rust program or test: start Dub's fake on an ephemeral port, call
//! it as a client would, then look inside through the typed API. Copy this into your own crate
//! (with `understudy`, `tokio`, `reqwest`, `serde_json` and `time` as dependencies).
//!
//! Run it with `cargo run -p understudy --example embedded`.

use std::time::Duration;

use understudy::faults::FaultRule;
use understudy::{Fake, VendorId};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Dub alone, at the root: point your Dub client at `fake.url()`.
    let fake = Fake::builder()
        .vendor(VendorId::Dub)
        .seed(42)
        .start()
        .await?;
    let client = reqwest::Client::new();
    let partner = serde_json::json!({
        "programId": "prog_understudy",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "username": "ada",
    });

    // The next create fails once with a 500, as Dub's own server errors look.
    fake.add_fault(
        FaultRule::new(VendorId::Dub)
            .operation("createPartner")
            .status(500)
            .times(1),
    )?;
    let post = || {
        client
            .post(format!("{}/partners", fake.url()))
            .bearer_auth("dub_understudy_test")
            .json(&partner)
            .send()
    };
    assert_eq!(post().await?.status(), 500, "the staged fault fires once");
    assert_eq!(post().await?.status(), 201, "then Dub answers as usual");
    assert_eq!(post().await?.status(), 409, "and remembers the partner");

    // What the fake saw, newest first, credentials redacted.
    let creates = fake.journal().operation("createPartner").entries();
    assert_eq!(creates.len(), 3);
    assert_eq!(creates[0].status, 409);

    // Move time instead of sleeping: rate-limit windows and timestamps follow.
    let before = fake.now();
    fake.advance_clock(Duration::from_secs(3600))?;
    assert!(fake.now() - before >= time::Duration::hours(1));

    let partners = fake.vendor_state(VendorId::Dub)["partners"]
        .as_object()
        .map_or(0, |p| p.len());
    println!(
        "served at {}; {} exchanges journalled; {partners} partners stored",
        fake.url(),
        fake.journal().count()
    );
    // Dropping the fake stops it.
    Ok(())
}
