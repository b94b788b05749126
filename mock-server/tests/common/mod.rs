//! The project's HTTP tests start the fake through the library's embedding API
//! ([`understudy::Fake`]), on an ephemeral loopback port, strict; this adds a client and
//! request helpers.

#![allow(dead_code)]

pub mod binary;

use std::ops::Deref;

use reqwest::{Client, Method, Response};
use serde_json::Value;
use understudy::server::Options;

/// A running fake and a client for it. Derefs to [`understudy::Fake`] for typed access to
/// state, faults, the journal, the clock and mutants.
pub struct Fake {
    inner: understudy::Fake,
    pub client: Client,
}

impl Deref for Fake {
    type Target = understudy::Fake;

    fn deref(&self) -> &understudy::Fake {
        &self.inner
    }
}

impl Fake {
    /// The fake with the default configuration, all vendors mounted, strict responses.
    pub async fn start() -> Fake {
        Self::wrap(understudy::Fake::start().await)
    }

    /// The fake with the default configuration and `overrides` (YAML) merged over it.
    pub async fn with_config(overrides: &str) -> Fake {
        let fake = understudy::Fake::builder()
            .config_yaml(overrides)
            .expect("valid config")
            .start()
            .await
            .expect("fake starts");
        Self::wrap(fake)
    }

    /// The fake with `options` (its address replaced by an ephemeral loopback port).
    pub async fn start_with(options: Options) -> Fake {
        let mut builder = understudy::Fake::builder().config(options.config);
        if let understudy::Mount::Root(vendor) = options.mount {
            builder = builder.vendor(vendor);
        }
        if !options.strict {
            builder = builder.lenient();
        }
        Self::wrap(builder.start().await.expect("fake starts"))
    }

    fn wrap(inner: understudy::Fake) -> Fake {
        Fake {
            inner,
            client: Client::new(),
        }
    }

    /// `{base}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.inner.url(), path)
    }

    /// Sends a request with the given headers and optional JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request reaches the fake")
    }

    /// Sends `body` as raw JSON text (not necessarily valid), so it reaches the fake exactly
    /// as written.
    pub async fn send_text(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Response {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request reaches the fake")
    }
}

/// The status, a header and the JSON body of a response (Null when empty).
pub async fn read(response: Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, headers, body)
}
