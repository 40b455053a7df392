//! [`JwksFetcher`] for certbound-fetch's [`Fetcher`]: a client's
//! `jwks_uri` fetched with timeouts, a size limit, no redirects, https
//! only, and no loopback, private or link-local address unless allowed by
//! name (the URL is the client's, the network is the server's).

use certbound_fetch::Fetcher;

use crate::registry::BoxFuture;
use crate::{Jwks, JwksFetchError, JwksFetcher};

/// Fetches a client's `jwks_uri`. The fetcher must be built with
/// [`Fetcher::for_client_urls`]: one built for operator URLs is refused at
/// every fetch, since it would let a client make the server reach its own
/// network.
///
/// ```
/// use certbound_auth::SelfSignedTlsClientAuth;
/// use certbound_fetch::Fetcher;
///
/// # let _ = rustls::crypto::ring::default_provider().install_default();
/// let self_signed = SelfSignedTlsClientAuth::new()
///     .jwks_fetcher(Fetcher::for_client_urls().build()?);
/// # let _ = self_signed;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl JwksFetcher for Fetcher {
    fn fetch<'a>(&'a self, jwks_uri: &'a str) -> BoxFuture<'a, Result<Jwks, JwksFetchError>> {
        Box::pin(async move {
            if !self.is_for_client_urls() {
                return Err(JwksFetchError::new(
                    "a client's jwks_uri needs a fetcher built with Fetcher::for_client_urls",
                ));
            }
            let fetched = self.get(jwks_uri).await.map_err(JwksFetchError::new)?;
            serde_json::from_slice(fetched.body()).map_err(JwksFetchError::new)
        })
    }
}
