//! The request journal: the last N exchanges, newest first, in a ring buffer so memory never
//! grows with traffic.
//!
//! Recording is on every request's path, so it stores what it already has, cheaply: header maps
//! with credential values replaced at capture (they are never stored), and bodies as the shared
//! bytes that were received and sent. Bodies are parsed, redacted and truncated only when the
//! admin API reads the journal, before anything leaves the process.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::VendorId;
use crate::redaction;

/// How many exchanges the journal keeps unless configured otherwise.
pub const DEFAULT_CAPACITY: usize = 100;

/// Bodies longer than this (as JSON text) are stored truncated.
const MAX_BODY_CHARS: usize = 16 * 1024;

/// What replaces a redacted value.
pub use crate::redaction::REDACTED;

/// One side of an exchange.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Header names (lower case) and values, credentials redacted.
    pub headers: Map<String, Value>,
    /// The JSON body, secrets redacted; text when it is not JSON; absent when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl Message {
    /// A message with redacted `headers` and `body`.
    pub fn new(headers: &HeaderMap, body: Option<Value>) -> Self {
        let mut map = Map::new();
        for (name, value) in headers {
            let value = if redaction::hidden_header(name.as_str()) {
                REDACTED.to_string()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            map.insert(name.as_str().to_string(), Value::String(value));
        }
        Message {
            headers: map,
            body: body.map(redact_body).map(truncate),
        }
    }

    /// A message whose body is raw bytes: JSON when it parses, text otherwise.
    pub fn from_bytes(headers: &HeaderMap, bytes: &[u8]) -> Self {
        let body = (!bytes.is_empty()).then(|| {
            serde_json::from_slice(bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
        });
        Self::new(headers, body)
    }
}

/// One side of an exchange as stored: credential headers already replaced, the body as the
/// bytes that went over the wire.
#[derive(Clone, Debug)]
pub struct Captured {
    headers: HeaderMap,
    body: Bytes,
}

impl Captured {
    /// Captures `headers` (credential values replaced now) and `body` (shared, not copied).
    pub fn new(mut headers: HeaderMap, body: Bytes) -> Self {
        for (name, value) in headers.iter_mut() {
            if redaction::hidden_header(name.as_str()) {
                *value = HeaderValue::from_static(REDACTED);
            }
        }
        Captured { headers, body }
    }

    /// The readable, redacted message.
    fn render(&self) -> Message {
        Message::from_bytes(&self.headers, &self.body)
    }
}

fn redact_body(mut body: Value) -> Value {
    redaction::body(&mut body);
    body
}

fn truncate(body: Value) -> Value {
    let text = body.to_string();
    if text.len() <= MAX_BODY_CHARS {
        return body;
    }
    let cut = text
        .char_indices()
        .take_while(|(i, _)| *i < MAX_BODY_CHARS)
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    Value::String(format!("{}… (truncated)", &text[..cut]))
}

/// One exchange.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Increasing number, unique within the process.
    pub id: u64,
    /// When the request arrived (the fake's clock, RFC 3339).
    pub at: String,
    /// The vendor.
    pub vendor: VendorId,
    /// The operation id, when the request matched one.
    pub operation: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path as received (with the vendor prefix when all vendors are served).
    pub path: String,
    /// Query string, if any, secret parameters' values redacted.
    pub query: Option<String>,
    /// Response status.
    pub status: u16,
    /// Time spent answering, milliseconds.
    pub duration_ms: f64,
    /// The request.
    pub request: Message,
    /// The response.
    pub response: Message,
}

/// One exchange as the journal holds it; rendered into an [`Entry`] when read.
#[derive(Clone, Debug)]
pub struct Record {
    /// When the request arrived (the fake's clock).
    pub at: time::OffsetDateTime,
    /// The vendor.
    pub vendor: VendorId,
    /// The operation id, when the request matched one.
    pub operation: Option<String>,
    /// HTTP method.
    pub method: Method,
    /// The URI as received (path and query are read from it when rendered).
    pub uri: Uri,
    /// Response status.
    pub status: u16,
    /// Time spent answering, milliseconds.
    pub duration_ms: f64,
    /// The request.
    pub request: Captured,
    /// The response.
    pub response: Captured,
}

impl Record {
    fn render(&self, id: u64) -> Entry {
        Entry {
            id,
            at: crate::clock::rfc3339(self.at),
            vendor: self.vendor,
            operation: self.operation.clone(),
            method: self.method.to_string(),
            path: self.uri.path().to_string(),
            query: self.uri.query().map(|q| redaction::query(q).into_owned()),
            status: self.status,
            duration_ms: self.duration_ms,
            request: self.request.render(),
            response: self.response.render(),
        }
    }
}

/// Which entries to list.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Filter {
    /// Only this vendor.
    pub vendor: Option<VendorId>,
    /// Only this operation id.
    pub operation: Option<String>,
    /// At most this many (newest first).
    pub limit: Option<usize>,
}

/// The bounded journal.
#[derive(Debug)]
pub struct Journal {
    /// Read on every request; changed only under the `entries` lock, so the ring never holds
    /// more than it says.
    capacity: AtomicUsize,
    entries: Mutex<VecDeque<(u64, Record)>>,
    next_id: AtomicU64,
}

impl Journal {
    /// A journal keeping the last `capacity` exchanges (0 keeps none).
    pub fn new(capacity: usize) -> Self {
        Journal {
            capacity: AtomicUsize::new(capacity),
            // Grown as exchanges arrive: a new world costs no journal memory until it has traffic.
            entries: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(1),
        }
    }

    /// Stores `record` under the next id, evicting the oldest when full.
    pub fn record(&self, record: Record) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let capacity = self.capacity.load(Ordering::Relaxed);
        if capacity == 0 {
            return;
        }
        // The evicted entry is dropped after the lock is released: freeing its header maps
        // and bodies is most of the cost of recording.
        let evicted = if entries.len() >= capacity {
            entries.pop_back()
        } else {
            None
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        entries.push_front((id, record));
        drop(entries);
        drop(evicted);
    }

    /// Entries matching `filter`, newest first.
    pub fn list(&self, filter: &Filter) -> Vec<Entry> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .filter(|(_, r)| filter.vendor.is_none_or(|v| v == r.vendor))
            .filter(|(_, r)| {
                filter
                    .operation
                    .as_deref()
                    .is_none_or(|o| r.operation.as_deref() == Some(o))
            })
            .take(filter.limit.unwrap_or(usize::MAX))
            .map(|(id, record)| record.render(*id))
            .collect()
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether the journal is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The configured capacity.
    pub fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed)
    }

    /// Changes the capacity, dropping the oldest entries beyond it.
    pub fn set_capacity(&self, capacity: usize) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.capacity.store(capacity, Ordering::Relaxed);
        entries.truncate(capacity);
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn record(vendor: VendorId, operation: &str) -> Record {
        Record {
            at: time::OffsetDateTime::UNIX_EPOCH,
            vendor,
            operation: Some(operation.into()),
            method: Method::POST,
            uri: Uri::from_static("/x"),
            status: 201,
            duration_ms: 0.1,
            request: Captured::new(HeaderMap::new(), Bytes::new()),
            response: Captured::new(HeaderMap::new(), Bytes::new()),
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_and_filters() {
        let journal = Journal::new(3);
        for i in 0..5 {
            let vendor = if i % 2 == 0 {
                VendorId::Dub
            } else {
                VendorId::Enhance
            };
            journal.record(record(vendor, "op"));
        }
        let all = journal.list(&Filter::default());
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), vec![5, 4, 3]);
        let dub = journal.list(&Filter {
            vendor: Some(VendorId::Dub),
            ..Filter::default()
        });
        assert_eq!(dub.iter().map(|e| e.id).collect::<Vec<_>>(), vec![5, 3]);
        journal.set_capacity(1);
        assert_eq!(journal.len(), 1);
    }

    #[test]
    fn credentials_are_redacted() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer live"));
        headers.insert("x-api-key", HeaderValue::from_static("live"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let body =
            serde_json::json!({"token": "live", "nested": [{"password": "live"}], "name": "ok"});
        let captured = Captured::new(headers, Bytes::from(body.to_string()));
        assert!(
            !format!("{:?}", captured.headers).contains("live"),
            "header credentials are replaced at capture"
        );
        let text = serde_json::to_string(&captured.render()).unwrap();
        assert!(!text.contains("live"), "{text}");
        assert!(text.contains("application/json") && text.contains("\"ok\""));
    }
}
