//! [`JwksFetcher`] and [`CrlFetcher`] for certbound-fetch's [`Fetcher`]: a
//! client's `jwks_uri` under the client-URL policy (https only, no private
//! network), CRLs under the operator-URL policy (plain http: they are signed).

use certbound_fetch::Fetcher;

use crate::registry::BoxFuture;
use crate::{ClientJwks, CrlFetchError, CrlFetcher, JwksFetchError, JwksFetcher};

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
    fn fetch<'a>(&'a self, jwks_uri: &'a str) -> BoxFuture<'a, Result<ClientJwks, JwksFetchError>> {
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

/// Fetches CRLs with [`Fetcher::get_crl`]: build the fetcher with
/// [`Fetcher::for_operator_urls`] so that the usual `http://` distribution
/// points are reachable (a client-URL fetcher allows https only).
///
/// ```
/// use certbound_auth::{TlsClientAuth, TrustStore};
/// use certbound_fetch::Fetcher;
///
/// # let _ = rustls::crypto::ring::default_provider().install_default();
/// let tls = TlsClientAuth::new(TrustStore::new())
///     .crl_distribution_points(true)
///     .crl_fetcher(Fetcher::for_operator_urls().build()?);
/// # let _ = tls;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl CrlFetcher for Fetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Vec<u8>, CrlFetchError>> {
        Box::pin(async move {
            let fetched = self.get_crl(url).await.map_err(CrlFetchError::new)?;
            Ok(fetched.into_body().to_vec())
        })
    }
}
