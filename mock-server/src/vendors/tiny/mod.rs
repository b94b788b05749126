//! Tiny: a one-operation vendor compiled only into this crate's unit tests. It is this folder
//! (`mod.rs`, `spec.yaml`) and one line in `vendors/registry.rs`, and nothing else: its id, its
//! configuration section, its embedded spec, its place in [`build`](super::build) and in the
//! mutant catalogue, its admin routes and its fault rules all derive from that line. The test
//! below drives it over HTTP, all vendors together and alone.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Ambient, Caller, Context, StateStore, Store, VendorSemantics};
use crate::mutants::Mutant;
use crate::pipeline::{Envelope, Rejection, Reply, ValidatedRequest};
use crate::spec::Operation;

crate::operations! {
    /// Tiny's one operation.
    pub enum TinyOp {
        /// `POST /greetings`.
        CreateGreeting = "createGreeting",
    }
}

crate::mutants! {
    /// Tiny's one contract fault.
    pub enum TinyMutant {
        Shouted = "tiny.greeting-shouted"
            => "greetings are stored and answered in capitals",
    }
}

crate::error_codes! {
    /// Tiny's error codes.
    pub enum TinyCode {
        BadRequest = "bad_request",
        Unauthorized = "unauthorized",
        Full = "full",
        Refused = "refused",
    }
}

/// Tiny's section of the configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TinyConfig {
    /// The `x-tiny-key` values it accepts.
    pub keys: Vec<String>,
    /// What a greeting starts with.
    pub salutation: String,
}

/// The greetings made, by id.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TinyState {
    /// Greeting id → text.
    pub greetings: BTreeMap<String, String>,
}

impl super::Resources for TinyState {
    fn count(&self) -> usize {
        self.greetings.len()
    }
}

/// A caller: the key it sent.
#[derive(Clone, Copy, Debug)]
pub struct TinyCaller<'a> {
    key: &'a str,
}

impl Caller for TinyCaller<'_> {
    fn credential(&self) -> &str {
        self.key
    }
}

/// A Tiny error: `{"error": {code, message}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct TinyError {
    status: StatusCode,
    code: TinyCode,
    message: String,
}

impl Envelope for TinyError {
    type Code = TinyCode;

    fn new(status: StatusCode, code: TinyCode, message: String) -> Self {
        TinyError {
            status,
            code,
            message,
        }
    }

    fn refused(r: &Rejection, _cx: &Context<'_>) -> Self {
        match r {
            Rejection::MissingCredentials
            | Rejection::MalformedCredentials(_)
            | Rejection::UnknownCredentials => {
                r.error(TinyCode::Unauthorized, "send a known key in x-tiny-key")
            }
            Rejection::Invalid(_) => {
                let first = r.first_violation().map(|v| v.to_string());
                r.error(TinyCode::BadRequest, first.unwrap_or_default())
            }
            Rejection::CapacityExceeded => r.error(TinyCode::Full, "no room for more greetings"),
            _ => r.error(TinyCode::Refused, "the request was refused"),
        }
    }

    fn reply(self, _cx: &Context<'_>) -> Reply {
        let error = json!({"code": self.code.as_str(), "message": self.message});
        Reply::json(self.status, json!({ "error": error }))
    }
}

/// The Tiny fake.
pub struct Tiny {
    config: TinyConfig,
    world: Ambient,
    state: Store<TinyState>,
}

impl VendorSemantics for Tiny {
    type Config = TinyConfig;
    type Caller<'v> = TinyCaller<'v>;
    type Error = TinyError;
    type Op = TinyOp;

    const SPEC: &'static str = include_str!("spec.yaml");
    const MUTANTS: &'static [Mutant] = TinyMutant::CATALOGUE;
    const DEFAULT_CONFIG: Option<&'static str> =
        Some("keys: [tiny_understudy_test]\nsalutation: Hello");

    fn new(config: TinyConfig, world: Ambient) -> Self {
        Tiny {
            config,
            world,
            state: Store::new(TinyState::default()),
        }
    }

    fn fork(&self, world: Ambient) -> Self {
        Tiny {
            config: self.config.clone(),
            world,
            state: self.state.fork(),
        }
    }

    fn authenticate(
        &self,
        _op: &Operation,
        headers: &HeaderMap,
    ) -> Result<TinyCaller<'_>, Rejection> {
        let key = headers
            .get("x-tiny-key")
            .ok_or(Rejection::MissingCredentials)?;
        let key = key.to_str().unwrap_or_default();
        self.caller(key).ok_or(Rejection::UnknownCredentials)
    }

    fn caller(&self, credential: &str) -> Option<TinyCaller<'_>> {
        let key = self.config.keys.iter().find(|k| *k == credential)?;
        Some(TinyCaller { key })
    }

    fn credentials(&self) -> Vec<&str> {
        self.config.keys.iter().map(String::as_str).collect()
    }

    fn handle(
        &self,
        op: TinyOp,
        request: &ValidatedRequest,
        _caller: &TinyCaller<'_>,
        _cx: &Context<'_>,
    ) -> Reply {
        match op {
            TinyOp::CreateGreeting => {
                let name = request.body.as_ref().and_then(|b| b["name"].as_str());
                let mut text = format!("{}, {}", self.config.salutation, name.unwrap_or_default());
                if self.world.mutant(TinyMutant::Shouted) {
                    text = text.to_uppercase();
                }
                let id = format!("greeting_{}", self.world.ids.alphanumeric(8));
                self.state.lock().greetings.insert(id.clone(), text.clone());
                Reply::json(StatusCode::CREATED, json!({"id": id, "text": text}))
            }
        }
    }

    fn state(&self) -> &dyn StateStore {
        &self.state
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::{Fake, VendorId};

    async fn greet(url: &str, key: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = reqwest::Client::new().post(format!("{url}/greetings"));
        if let Some(key) = key {
            request = request.header("x-tiny-key", key);
        }
        let response = request.json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn a_sixth_vendor_is_its_folder_and_one_registry_line() {
        let fake = Fake::start().await;
        let url = fake.vendor_url(VendorId::Tiny);
        assert!(url.ends_with("/tiny"), "{url}");
        assert_eq!("tiny".parse::<VendorId>().unwrap(), VendorId::Tiny);

        // Its spec routes and validates; its configuration section (from its folder) is in the
        // default configuration; its envelope answers the generic refusals.
        let (status, body) =
            greet(&url, Some("tiny_understudy_test"), json!({"name": "Ada"})).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["text"], "Hello, Ada");
        let (status, body) = greet(&url, None, json!({"name": "Ada"})).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (401, &json!("unauthorized"))
        );
        let (status, body) = greet(&url, Some("tiny_understudy_test"), json!({})).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("bad_request"))
        );
        let (status, _) = greet(&url, Some("someone_else"), json!({"name": "Ada"})).await;
        assert_eq!(status, 401);

        // The generic machinery knows it: state, journal, mutants, the admin API's vendor names.
        assert_eq!(
            fake.vendor_state(VendorId::Tiny)["greetings"]
                .as_object()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            fake.journal()
                .vendor(VendorId::Tiny)
                .operation("createGreeting")
                .count(),
            4
        );
        fake.set_mutants(["tiny.greeting-shouted"]).unwrap();
        let (_, body) = greet(&url, Some("tiny_understudy_test"), json!({"name": "Ada"})).await;
        assert_eq!(body["text"], "HELLO, ADA");
        let admin = format!("{}/__understudy", fake.url());
        let client = reqwest::Client::new();
        let faults =
            json!([{"vendor": "tiny", "operation": "createGreeting", "status": 500, "times": 1}]);
        let put = client
            .put(format!("{admin}/faults"))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert!(put.status().is_success(), "{:?}", put.text().await);
        let (status, body) =
            greet(&url, Some("tiny_understudy_test"), json!({"name": "Ada"})).await;
        assert_eq!((status, &body["error"]["code"]), (500, &json!("refused")));
        let reset = client
            .post(format!("{admin}/vendors/tiny/reset"))
            .send()
            .await
            .unwrap();
        assert_eq!(reset.status(), 204);
        assert_eq!(fake.vendor_state(VendorId::Tiny)["greetings"], json!({}));

        // Alone, at the root, it compiles only its own spec.
        let alone = Fake::builder()
            .vendor(VendorId::Tiny)
            .start()
            .await
            .unwrap();
        let (status, _) = greet(
            &alone.url(),
            Some("tiny_understudy_test"),
            json!({"name": "Bo"}),
        )
        .await;
        assert_eq!(status, 201);
        assert!(alone.spec(VendorId::Dub).is_none());
    }
}
