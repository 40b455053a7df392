//! A small HTTPS client for the self-test and the end-to-end tests: one
//! connection per request, an optional client certificate, the demo CA as
//! the only trust anchor.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::DemoError;
use super::pki::Identity;

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Response {
    /// The body as JSON, or `Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header's value as text, or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// An HTTPS (or plain HTTP) client that trusts one CA and presents at most
/// one client certificate.
#[derive(Clone)]
pub struct DemoClient {
    tls: Option<TlsConnector>,
}

impl std::fmt::Debug for DemoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoClient").finish_non_exhaustive()
    }
}

impl DemoClient {
    /// A client trusting `ca_pem`, presenting `identity` when given.
    pub fn new(ca_pem: &str, identity: Option<&Identity>) -> Result<Self, DemoError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in certbound_cert::pem::parse_certificates(ca_pem)
            .map_err(|e| DemoError::Tls(e.to_string()))?
        {
            roots
                .add(CertificateDer::from(cert.der().to_vec()))
                .map_err(|e| DemoError::Tls(e.to_string()))?;
        }
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| DemoError::Tls(e.to_string()))?
            .with_root_certificates(roots);
        let config = match identity {
            Some(id) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from(id.cert_der.clone())],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_der.clone())),
                )
                .map_err(|e| DemoError::Tls(e.to_string()))?,
            None => builder.with_no_client_auth(),
        };
        Ok(Self {
            tls: Some(TlsConnector::from(Arc::new(config))),
        })
    }

    /// A plain-HTTP client (for the behind-a-proxy mode's own checks).
    pub fn plain() -> Self {
        Self { tls: None }
    }

    /// `GET url` with optional extra headers.
    pub async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, DemoError> {
        self.send(Method::GET, url, headers, None).await
    }

    /// `POST url` with a form body.
    pub async fn post_form(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> Result<Response, DemoError> {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut all = headers.to_vec();
        all.push(("content-type", "application/x-www-form-urlencoded"));
        self.send(Method::POST, url, &all, Some(Bytes::from(body)))
            .await
    }

    /// Sends one request on a new connection.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
    ) -> Result<Response, DemoError> {
        let uri: Uri = url
            .parse()
            .map_err(|e| DemoError::Http(format!("{url}: {e}")))?;
        let host = uri
            .host()
            .ok_or_else(|| DemoError::Http(format!("{url}: no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| DemoError::Http(format!("connect {host}:{port}: {e}")))?;
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        let mut req = Request::builder().method(method).uri(path);
        req = req.header(http::header::HOST, authority);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| DemoError::Http(e.to_string()))?;
        match (&self.tls, https) {
            (Some(tls), true) => {
                let name = ServerName::try_from(host.clone())
                    .map_err(|e| DemoError::Tls(format!("{host}: {e}")))?;
                let stream = tls.connect(name, tcp).await.map_err(|e| {
                    DemoError::Tls(format!("TLS handshake with {host}:{port}: {e}"))
                })?;
                exchange(TokioIo::new(stream), req).await
            }
            (_, false) => exchange(TokioIo::new(tcp), req).await,
            (None, true) => Err(DemoError::Http("plain client cannot speak https".into())),
        }
    }
}

async fn exchange<T>(io: T, req: Request<Full<Bytes>>) -> Result<Response, DemoError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| DemoError::Http(e.to_string()))?;
    let driver = tokio::spawn(conn);
    let res = sender
        .send_request(req)
        .await
        .map_err(|e| DemoError::Http(e.to_string()))?;
    let status = res.status();
    let headers = res.headers().clone();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| DemoError::Http(e.to_string()))?
        .to_bytes();
    driver.abort();
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// `application/x-www-form-urlencoded` encoding of one key or value.
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
