//! Starts the fake in-process on an ephemeral loopback port, strict, for HTTP tests.

#![allow(dead_code)]

use reqwest::{Client, Method, Response};
use serde_json::Value;
use understudy::server::{Options, Running, start};

/// A running fake and a client for it.
pub struct Fake {
    pub running: Running,
    pub client: Client,
}

impl Fake {
    /// The fake with the default configuration, all vendors mounted, strict responses.
    pub async fn start() -> Fake {
        Self::start_with(Options::default()).await
    }

    /// The fake with the default configuration and `overrides` (YAML) merged over it.
    pub async fn with_config(overrides: &str) -> Fake {
        let config = understudy::config::Config::with_overrides(overrides).expect("valid config");
        Self::start_with(Options {
            config,
            ..Options::default()
        })
        .await
    }

    /// The fake with `options`, on an ephemeral loopback port.
    pub async fn start_with(options: Options) -> Fake {
        let options = Options {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..options
        };
        Fake {
            running: start(options).await.expect("fake starts"),
            client: Client::new(),
        }
    }

    /// `{base}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.running.url(), path)
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
