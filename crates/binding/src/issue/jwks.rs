//! [`JwksService`]: the key ring's public keys over HTTP.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use tower_service::Service;

use super::SigningKeyRing;

const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

/// A tower service that answers `GET` and `HEAD` with the
/// [`SigningKeyRing`]'s public JWKS, at whatever path it is mounted.
///
/// - `200` with `application/json`, a strong `ETag` (the SHA-256 of the
///   document) and `Cache-Control: public, max-age=N`; `304 Not Modified`
///   when `If-None-Match` matches; `HEAD` without body; `405` with
///   `Allow: GET, HEAD` for other methods.
/// - The document follows the ring: a rotation or a retirement changes it
///   and its `ETag` at once.
/// - `max-age` is the configured value (default 300 s), but never more than
///   the ring's [`publication_overlap`](SigningKeyRing::publication_overlap)
///   and, when a rotation is scheduled, never past it: a cache that honours
///   it never holds a key set older than the next rotation. (A resource
///   server should still refetch once on an unknown `kid`, as certbound's
///   validator does, for rotations made on demand.)
///
/// ```
/// use certbound_binding::{JwksService, SigningKeyRing};
///
/// let ring = SigningKeyRing::builder().build()?;
/// let app: axum::Router = axum::Router::new()
///     .route_service("/jwks", JwksService::new(ring.clone()));
/// # let _ = app;
/// # Ok::<(), certbound_binding::IssueError>(())
/// ```
#[derive(Debug, Clone)]
pub struct JwksService {
    ring: SigningKeyRing,
    max_age: Duration,
}

impl JwksService {
    /// Serves `ring`'s public keys.
    pub fn new(ring: SigningKeyRing) -> Self {
        Self {
            ring,
            max_age: DEFAULT_MAX_AGE,
        }
    }

    /// The longest `max-age` sent (default 300 s); see the type's
    /// documentation for what shortens it.
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The response to `request`.
    pub fn respond<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        let cache_control =
            HeaderValue::from_str(&format!("public, max-age={}", self.max_age_now().as_secs()))
                .unwrap_or(HeaderValue::from_static("no-cache"));
        self.ring.document().respond(request, cache_control)
    }

    fn max_age_now(&self) -> Duration {
        let mut max_age = self.max_age.min(self.ring.publication_overlap());
        if let Some(next) = self.ring.next_rotation() {
            let until = next
                .duration_since(self.ring.now())
                .unwrap_or(Duration::ZERO);
            max_age = max_age.min(until);
        }
        max_age
    }
}

impl<B> Service<Request<B>> for JwksService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(self.respond(&request)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use http::header::{ALLOW, CACHE_CONTROL, ETAG, IF_NONE_MATCH};
    use std::sync::{Arc, Mutex};
    use std::time::SystemTime;

    fn get(service: &JwksService, if_none_match: Option<&str>) -> Response<Full<Bytes>> {
        let mut request = Request::get("/jwks");
        if let Some(tag) = if_none_match {
            request = request.header(IF_NONE_MATCH, tag);
        }
        service.respond(&request.body(()).unwrap())
    }

    #[test]
    fn max_age_never_exceeds_the_publication_overlap() {
        let ring = SigningKeyRing::builder()
            .max_token_lifetime(Duration::from_secs(60))
            .leeway(Duration::from_secs(10))
            .build()
            .unwrap();
        let service = JwksService::new(ring).max_age(Duration::from_secs(3600));
        let response = get(&service, None);
        assert_eq!(response.headers()[CACHE_CONTROL], "public, max-age=70");
        let short = service.clone().max_age(Duration::from_secs(5));
        assert_eq!(
            get(&short, None).headers()[CACHE_CONTROL],
            "public, max-age=5"
        );
    }

    #[test]
    fn other_methods_are_refused_with_allow() {
        let service = JwksService::new(SigningKeyRing::builder().build().unwrap());
        let response = service.respond(&Request::post("/jwks").body(()).unwrap());
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], "GET, HEAD");
    }

    #[test]
    fn etag_follows_retirement() {
        let now = Arc::new(Mutex::new(SystemTime::now()));
        let clock = now.clone();
        let ring = SigningKeyRing::builder()
            .max_token_lifetime(Duration::from_secs(60))
            .leeway(Duration::ZERO)
            .clock(move || *clock.lock().unwrap())
            .build()
            .unwrap();
        let service = JwksService::new(ring.clone());
        ring.rotate().unwrap();
        let before = get(&service, None).headers()[ETAG].clone();
        let tag = before.to_str().unwrap().to_owned();
        assert_eq!(get(&service, Some(&tag)).status(), StatusCode::NOT_MODIFIED);
        *now.lock().unwrap() += Duration::from_secs(61);
        let after = get(&service, Some(&tag));
        assert_eq!(after.status(), StatusCode::OK);
        assert_ne!(after.headers()[ETAG], before);
    }
}
