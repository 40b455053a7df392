use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pin_project! {
    /// The response future of [`BoundToken`](super::BoundToken): a refusal of a request
    /// without a well-formed bearer token, or the validation of its token
    /// followed by the inner service.
    pub struct ResponseFuture<B, E> {
        #[pin]
        state: State<B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<B, E> {
        Refused { response: Option<Response<B>> },
        Checking { future: BoxFuture<Result<Response<B>, E>> },
    }
}

impl<B, E> ResponseFuture<B, E> {
    pub(super) fn refused(response: Response<B>) -> Self {
        Self {
            state: State::Refused {
                response: Some(response),
            },
        }
    }

    pub(super) fn checking(
        future: impl Future<Output = Result<Response<B>, E>> + Send + 'static,
    ) -> Self {
        Self {
            state: State::Checking {
                future: Box::pin(future),
            },
        }
    }
}

impl<B, E> fmt::Debug for ResponseFuture<B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<B, E> Future for ResponseFuture<B, E> {
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled again after completion: never ready again, as
                // futures in general may not be polled then.
                None => Poll::Pending,
            },
            StateProj::Checking { future } => future.as_mut().poll(cx),
        }
    }
}
