//! The bearer token reader (`bearer_token(&HeaderMap)`): the input is one
//! or more `Authorization` values separated by `\n`. A token it returns is
//! non-empty b64token syntax, taken from the one header there is.
//!
//! The same headers also go, twice, through `BoundTokenLayer` with a
//! `CachedValidator` over a validator that accepts any token, after the
//! credential of every value was given to that cache directly (as an
//! application sharing it could): the layer lets the request through
//! exactly when `bearer_token` reads a token, the first time and the
//! second (when the cache holds the token), so the cache never lets
//! through what the b64token syntax refuses.
#![no_main]

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll, Waker};

use certbound_binding::{
    AccessTokenValidator, BoundToken, BoundTokenLayer, CachedValidator, TokenClaims, TokenError,
    bearer_token,
};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header::AUTHORIZATION};
use libfuzzer_sys::fuzz_target;
use tower_layer::Layer;
use tower_service::Service;

/// Accepts every token, at once.
struct AcceptAll;

fn accepted() -> Result<TokenClaims, TokenError> {
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), "fuzz".into());
    claims.insert("exp".into(), 4_000_000_000u64.into());
    TokenClaims::from_map(claims).map_err(|_| TokenError::BadSignature)
}

impl AccessTokenValidator for AcceptAll {
    fn validate(
        &self,
        _token: &str,
    ) -> impl Future<Output = Result<TokenClaims, TokenError>> + Send {
        ready(accepted())
    }
}

/// The handler: 200.
#[derive(Clone)]
struct Ok200;

impl Service<Request<()>> for Ok200 {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, _: Request<()>) -> Self::Future {
        ready(Ok(Response::new(())))
    }
}

/// One cache for the whole run: it remembers tokens across inputs.
static CACHE: LazyLock<Arc<CachedValidator<AcceptAll>>> =
    LazyLock::new(|| Arc::new(CachedValidator::new(AcceptAll)));

/// The layer, over the same cache.
static LAYERED: LazyLock<Mutex<BoundToken<Ok200, CachedValidator<AcceptAll>>>> =
    LazyLock::new(|| Mutex::new(BoundTokenLayer::from_arc(CACHE.clone()).layer(Ok200)));

/// Polls a future that never waits (every part here answers at once).
fn now<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a future that never waits is pending"),
    }
}

fn status(headers: &HeaderMap) -> StatusCode {
    let mut req = Request::new(());
    *req.headers_mut() = headers.clone();
    let Ok(mut svc) = LAYERED.lock() else {
        panic!("poisoned");
    };
    let mut cx = Context::from_waker(Waker::noop());
    assert!(svc.poll_ready(&mut cx).is_ready());
    match now(svc.call(req)) {
        Ok(res) => res.status(),
        Err(e) => match e {},
    }
}

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        let Ok(v) = HeaderValue::from_bytes(line) else {
            return;
        };
        headers.append(AUTHORIZATION, v);
    }
    // Whatever follows "Bearer " in a value, given to the cache directly.
    for value in headers.get_all(AUTHORIZATION) {
        let v = value.as_bytes();
        if v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ") {
            if let Ok(credential) = std::str::from_utf8(&v[7..]) {
                let _ = now(CACHE.validate(credential.trim_matches(' ')));
            }
        }
    }
    let read = bearer_token(&headers);
    for _ in 0..2 {
        assert_eq!(status(&headers) == StatusCode::OK, read.is_ok(), "{read:?}");
    }
    match read {
        Ok(token) => {
            assert_eq!(headers.get_all(AUTHORIZATION).iter().count(), 1);
            assert!(!token.is_empty());
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
            );
            let value = headers
                .get(AUTHORIZATION)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            assert!(value.len() > 7 && value[..7].eq_ignore_ascii_case(b"bearer "));
        }
        Err(e) => {
            let _ = e.www_authenticate();
            let _ = e.status();
        }
    }
});
