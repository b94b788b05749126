//! Recording from an `https` upstream: a TLS front (a private CA and its leaf certificate,
//! generated here at test time, so no key is ever committed) before a second Understudy. The
//! proxy trusts the CA only through `upstream_ca`; the fixture is written, redacted, and replays.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::Fake;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use serde_json::{Value, json};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use understudy::VendorId;
use understudy::fixtures::har::Har;
use understudy::fixtures::record::{RecordOptions, record};
use understudy::fixtures::redact::RedactionRules;
use understudy::fixtures::replay::{load, replay};
use understudy::fixtures::scan::scan_file;
use understudy::spec::SpecSet;

const DUB_TOKEN: &str = "dub_understudy_test";

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("understudy-https-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A CA and a leaf for 127.0.0.1 it signed: the TLS server's configuration and the CA's PEM.
fn certificates() -> (ServerConfig, String) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "Understudy test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone(), ca.der().clone()];
    (server_config(chain, key), ca.pem())
}

/// A self-signed certificate for 127.0.0.1 (no CA): the server's configuration and its PEM.
fn self_signed() -> (ServerConfig, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    (
        server_config(vec![certified.cert.der().clone()], key),
        certified.cert.pem(),
    )
}

fn server_config(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> ServerConfig {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap()
}

/// Terminates TLS on an ephemeral port and passes the bytes to `backend` unchanged.
async fn tls_front(config: ServerConfig, backend: SocketAddr) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to forward.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut plain = tokio::net::TcpStream::connect(backend).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

fn options(upstream: String, out: PathBuf, upstream_ca: Option<PathBuf>) -> RecordOptions {
    RecordOptions {
        vendor: VendorId::Dub,
        upstream,
        out,
        addr: "127.0.0.1:0".parse().unwrap(),
        rules: RedactionRules::default(),
        upstream_ca,
    }
}

fn partner() -> Value {
    json!({"programId": "prog_understudy", "name": "Ada Lovelace", "email": "ada@example.com", "username": "ada"})
}

/// Creates a partner through `base`; returns the status and the body.
async fn create_partner(client: &reqwest::Client, base: &str) -> (u16, String) {
    let response = client
        .post(format!("{base}/partners"))
        .bearer_auth(DUB_TOKEN)
        .json(&partner())
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn an_https_upstream_is_recorded_redacted_and_replays() {
    let fake = Fake::start().await;
    let (config, ca_pem) = certificates();
    let front = tls_front(config, fake.addr()).await;
    let upstream = format!("https://127.0.0.1:{}/dub", front.port());
    let dir = temp_dir("recorded");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let out = dir.join("https.har");
    let specs = Arc::new(SpecSet::embedded().unwrap());
    let recording = record(options(upstream, out.clone(), Some(ca_file)), specs)
        .await
        .expect("the proxy starts with the CA");
    let client = reqwest::Client::new();
    let live = [
        create_partner(&client, &recording.url()).await,
        create_partner(&client, &recording.url()).await,
    ];
    assert_eq!(live[0].0, 201, "created through TLS: {}", live[0].1);
    let har = recording.stop().await.unwrap();
    assert_eq!(har.log.entries.len(), 2);

    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains(DUB_TOKEN), "the token reached the fixture");
    assert_eq!(scan_file(&out, &text), vec![]);
    let written = Har::parse(&text).unwrap();
    let entry = &written.log.entries[0];
    assert!(entry.request.url.starts_with("https://127.0.0.1:"));
    assert_eq!(
        entry.request.header("authorization"),
        Some("Bearer <redacted:dub-token:1>")
    );
    assert_eq!(entry.operation_id.as_deref(), Some("createPartner"));

    let replaying = replay(load(&out).unwrap(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("{}/dub", replaying.url());
    for (i, recorded) in live.iter().enumerate() {
        assert_eq!(
            &create_partner(&client, &base).await,
            recorded,
            "answer {i} replays"
        );
    }
    assert!(replaying.unused().is_empty());
    replaying.stop().await.unwrap();
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_without_the_ca() {
    let fake = Fake::start().await;
    let (config, _) = certificates();
    let front = tls_front(config, fake.addr()).await;
    let dir = temp_dir("untrusted");
    let out = dir.join("untrusted.har");
    let recording = record(
        options(
            format!("https://127.0.0.1:{}/dub", front.port()),
            out.clone(),
            None,
        ),
        Arc::new(SpecSet::embedded().unwrap()),
    )
    .await
    .unwrap();
    let (status, body) = create_partner(&reqwest::Client::new(), &recording.url()).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("upstream unreachable"), "{body}");
    assert!(recording.stop().await.unwrap().log.entries.is_empty());
}

#[tokio::test]
async fn a_self_signed_upstream_is_trusted_through_its_own_certificate() {
    let fake = Fake::start().await;
    let (config, pem) = self_signed();
    let front = tls_front(config, fake.addr()).await;
    let dir = temp_dir("self-signed");
    let cert = dir.join("upstream.pem");
    std::fs::write(&cert, pem).unwrap();
    let recording = record(
        options(
            format!("https://127.0.0.1:{}/dub", front.port()),
            dir.join("self-signed.har"),
            Some(cert),
        ),
        Arc::new(SpecSet::embedded().unwrap()),
    )
    .await
    .unwrap();
    let (status, body) = create_partner(&reqwest::Client::new(), &recording.url()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(recording.stop().await.unwrap().log.entries.len(), 1);
}

#[test]
fn the_record_command_refuses_a_ca_file_without_a_certificate() {
    let dir = temp_dir("bad-ca");
    let ca = dir.join("empty.pem");
    std::fs::write(&ca, "not a certificate\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args([
            "record",
            "--vendor",
            "dub",
            "--upstream",
            "https://127.0.0.1:9",
        ])
        .arg("--upstream-ca")
        .arg(&ca)
        .arg("--out")
        .arg(dir.join("never.har"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("holds no PEM certificate"), "{stderr}");
    assert!(!Path::new(&dir.join("never.har")).exists());
}
