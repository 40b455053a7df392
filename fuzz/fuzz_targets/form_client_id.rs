//! The form `client_id` reader, through its public entry point: the
//! `ClientAuthLayer` service (the reader itself, `layer::form::parse`, is
//! private). The first input byte chooses the headers, the rest is the form
//! body. A forwarded request must carry the body unchanged.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use certbound_auth::{
    Authenticator, ClientAuthLayer, ClientMetadata, TokenEndpointAuthMethod, registry_from_metadata,
};
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use libfuzzer_sys::fuzz_target;
use tower_service::Service;

/// Echoes the body it is handed.
#[derive(Clone)]
struct Echo;

impl Service<Request<Full<Bytes>>> for Echo {
    type Response = Response<Full<Bytes>>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Full<Bytes>>) -> Self::Future {
        std::future::ready(Ok(Response::new(req.into_body())))
    }
}

/// Everything here is in memory: the futures are ready at once, or after a
/// few polls. Gives up (None) rather than spin.
fn run<F: Future>(f: F) -> Option<F::Output> {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    None
}

static AUTHENTICATOR: LazyLock<Authenticator> = LazyLock::new(|| {
    // One client with another method (passes through), so a body naming it
    // is forwarded; any other client_id is an unknown client.
    let clients = [ClientMetadata::new(
        "c1",
        TokenEndpointAuthMethod::ClientSecretBasic,
    )];
    match registry_from_metadata(clients) {
        Ok(registry) => Authenticator::builder(registry).build().unwrap(),
        Err(e) => panic!("fuzz setup: {e}"),
    }
});

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let limit = if flags & 4 != 0 { 64 } else { 64 * 1024 };
    let mut service = tower_layer::Layer::layer(
        &ClientAuthLayer::new(AUTHENTICATOR.clone()).body_limit(limit),
        Echo,
    );
    let mut req = Request::post("/token");
    if flags & 1 == 0 {
        req = req.header(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        );
    }
    if flags & 2 != 0 {
        req = req.header(header::AUTHORIZATION, "Basic YzE6cw==");
    }
    if flags & 8 != 0 {
        req = req.header(header::CONTENT_LENGTH, body.len().to_string());
    }
    let Ok(req) = req.body(Full::new(Bytes::copy_from_slice(body))) else {
        return;
    };
    let Some(Ok(response)) = run(service.call(req)) else {
        return;
    };
    if response.status() == StatusCode::OK {
        // Forwarded: the inner service echoed the body it was handed.
        assert!(flags & 1 == 0, "a non-form body was forwarded");
        assert!(body.len() <= limit, "a body over the limit was forwarded");
        let Some(Ok(collected)) = run(response.into_body().collect()) else {
            return;
        };
        assert_eq!(
            &collected.to_bytes()[..],
            body,
            "the body was not handed on unchanged"
        );
    } else {
        assert!(
            matches!(
                response.status(),
                StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::PAYLOAD_TOO_LARGE
            ),
            "unexpected status {}",
            response.status()
        );
    }
});
