//! A JSON document served with a strong entity tag: the authorization
//! server's metadata and its JWKS are both one of these.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use sha2::{Digest as _, Sha256};

/// A JSON body and its strong `ETag` (the SHA-256 of the body, base64url,
/// quoted), answered as RFC 9110 asks: `200` with the body to `GET`,
/// without it to `HEAD`, `304 Not Modified` when `If-None-Match` matches
/// (weak comparison, `*` included), `405` with `Allow: GET, HEAD` to
/// anything else.
///
/// ```
/// use certbound_oauth::JsonDocument;
/// use http::{HeaderValue, Request};
///
/// let document = JsonDocument::new(r#"{"keys":[]}"#);
/// let cache = HeaderValue::from_static("public, max-age=60");
/// let first = document.respond(&Request::get("/jwks").body(())?, cache.clone());
/// assert_eq!(first.status(), 200);
/// let etag = first.headers()["etag"].clone();
/// let again = Request::get("/jwks").header("if-none-match", etag).body(())?;
/// assert_eq!(document.respond(&again, cache).status(), 304);
/// # Ok::<(), http::Error>(())
/// ```
#[derive(Clone)]
pub struct JsonDocument {
    body: Bytes,
    etag: HeaderValue,
}

impl fmt::Debug for JsonDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonDocument")
            .field("len", &self.body.len())
            .field("etag", &self.etag)
            .finish()
    }
}

impl JsonDocument {
    /// The document `body` (JSON text) and its entity tag.
    pub fn new(body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(Sha256::digest(&body)));
        // base64url and quotes are visible ASCII: always a valid value.
        let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
        Self { body, etag }
    }

    /// The JSON text.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The strong entity tag, quotes included.
    pub fn etag(&self) -> &HeaderValue {
        &self.etag
    }

    /// The response to `request`, with `cache_control` on `200` and `304`.
    pub fn respond<B>(
        &self,
        request: &Request<B>,
        cache_control: HeaderValue,
    ) -> Response<Full<Bytes>> {
        let method = request.method();
        let mut response = Response::new(Full::new(Bytes::new()));
        if method != Method::GET && method != Method::HEAD {
            tracing::debug!(%method, path = request.uri().path(), "document: method not allowed");
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let not_modified = if_none_match(request.headers(), &self.etag);
        if not_modified {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
        } else if method == Method::GET {
            *response.body_mut() = Full::new(self.body.clone());
        }
        let headers = response.headers_mut();
        headers.insert(ETAG, self.etag.clone());
        headers.insert(CACHE_CONTROL, cache_control);
        if !not_modified {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(self.body.len()));
        }
        response
    }
}

/// RFC 9110 §13.1.2: `*`, or any listed entity tag equal to ours under the
/// weak comparison (a `W/` prefix is ignored).
fn if_none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.append(IF_NONE_MATCH, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn if_none_match_uses_the_weak_comparison() {
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(if_none_match(&tag("\"abc\""), &etag));
        assert!(if_none_match(&tag("W/\"abc\""), &etag));
        assert!(if_none_match(&tag("\"x\", \"abc\""), &etag));
        assert!(if_none_match(&tag("*"), &etag));
        assert!(!if_none_match(&tag("\"abcd\""), &etag));
        assert!(!if_none_match(&tag("abc"), &etag));
        assert!(!if_none_match(&HeaderMap::new(), &etag));
    }

    #[test]
    fn head_has_the_headers_without_the_body_and_other_methods_get_405() {
        use http_body::Body as _;
        let document = JsonDocument::new("{}");
        let cache = HeaderValue::from_static("no-cache");
        let get = document.respond(&Request::get("/").body(()).unwrap(), cache.clone());
        assert_eq!(get.body().size_hint().exact(), Some(2));
        let head = document.respond(&Request::head("/").body(()).unwrap(), cache.clone());
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(head.headers()[CONTENT_LENGTH], "2");
        assert_eq!(head.headers()[CACHE_CONTROL], "no-cache");
        assert!(head.body().is_end_stream());
        let post = document.respond(&Request::post("/").body(()).unwrap(), cache);
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[ALLOW], "GET, HEAD");
    }
}
