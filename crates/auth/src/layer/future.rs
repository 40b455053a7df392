use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::service::Prepared;
use crate::registry::BoxFuture;
use certbound_oauth::OAuthError;

pin_project! {
    /// The response future of [`ClientAuth`](super::ClientAuth): reads the
    /// body and authenticates, then rejects or calls the inner service.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<B>>,
    {
        Preparing {
            prepare: BoxFuture<'static, Prepared<B>>,
            service: Option<S>,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    pub(crate) fn new(prepare: BoxFuture<'static, Prepared<B>>, service: S) -> Self {
        Self {
            state: State::Preparing {
                prepare,
                service: Some(service),
            },
        }
    }
}

impl<S, B> std::fmt::Debug for ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Preparing { prepare, service } => {
                    let request = match ready!(prepare.as_mut().poll(cx)) {
                        Prepared::Reject(refusal) => {
                            return Poll::Ready(Ok(refusal.map(ResBody::from)));
                        }
                        Prepared::Forward(request) => request,
                    };
                    let Some(mut service) = service.take() else {
                        // Polled again after completion: nothing left to call.
                        return Poll::Ready(Ok(OAuthError::server_error(
                            "response future polled after completion",
                        )
                        .into_response()));
                    };
                    let future = service.call(request);
                    this.state.set(State::Calling { future });
                }
                StateProj::Calling { future } => return future.poll(cx),
            }
        }
    }
}
