//! [`FetchError`] and [`BuildError`].

use std::net::IpAddr;
use std::sync::Arc;

/// Why a fetch failed. The `Display` text is for logs, not for clients.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL does not parse, has no host, or carries credentials.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The scheme is not allowed for this fetch (https only, http for CRLs
    /// of an operator fetcher).
    #[error("the {scheme} scheme is not allowed here")]
    SchemeRefused {
        /// The URL's scheme.
        scheme: String,
    },
    /// A client-registered URL names, or resolves to, an address of a
    /// forbidden range (loopback, private, link-local, ...), and its host
    /// is not allowed by name.
    #[error("{host} is {address}, an address that may not be fetched")]
    ForbiddenAddress {
        /// The URL's host.
        host: String,
        /// The address refused.
        address: IpAddr,
    },
    /// The connection or the whole exchange took longer than allowed.
    #[error("timed out")]
    Timeout,
    /// The response body is larger than allowed.
    #[error("the response is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The server answered with a redirect, which is never followed.
    #[error("redirect to {location:?} refused")]
    RedirectRefused {
        /// The `Location` header, if readable.
        location: Option<String>,
    },
    /// The server answered with a status other than 200.
    #[error("the server answered {0}")]
    Status(u16),
    /// The TLS handshake failed (certificate not trusted, name mismatch,
    /// client certificate refused, ...).
    #[error("TLS: {0}")]
    Tls(Arc<rustls::Error>),
    /// The server could not be reached.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// Any other transport error.
    #[error("transport error: {0}")]
    Transport(String),
}

impl FetchError {
    /// Maps a reqwest error to the most precise kind its source chain
    /// shows.
    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(e) = source {
            if let Some(ours) = e.downcast_ref::<FetchError>() {
                return ours.clone();
            }
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                return FetchError::Tls(Arc::new(tls.clone()));
            }
            // An io::Error's source() skips the error it wraps: look inside.
            let mut io = e.downcast_ref::<std::io::Error>();
            while let Some(inner) = io.and_then(std::io::Error::get_ref) {
                if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                    return FetchError::Tls(Arc::new(tls.clone()));
                }
                io = inner.downcast_ref::<std::io::Error>();
            }
            source = e.source();
        }
        if err.is_timeout() {
            FetchError::Timeout
        } else if err.is_connect() {
            FetchError::Connect(chain(&err))
        } else {
            FetchError::Transport(chain(&err))
        }
    }
}

/// The error and its sources, for a log line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

/// Why a [`Fetcher`](crate::Fetcher) could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No crypto provider was given and the process has no default one
    /// (`CryptoProvider::install_default`).
    #[error("no rustls crypto provider: pass one or install a process default")]
    NoCryptoProvider,
    /// The TLS configuration was refused by rustls (a bad key, a root
    /// certificate that does not parse, ...).
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
}
