//! certbound-fetch behind binding's traits: [`KeySetFetcher`] for the
//! authorization server's metadata and keys, and [`HttpIntrospector`] for
//! RFC 7662 introspection.

use certbound_fetch::{BasicAuth, FetchError, Fetcher};
use serde_json::Value;

use super::introspection::Introspect;
use super::remote::{BoxFuture, FetchedDocument, KeySetFetchError, KeySetFetcher};

/// Fetches with the fetcher's limits and URL policy (build it with
/// `Fetcher::for_operator_urls()`: the authorization server's URLs are the
/// operator's).
impl KeySetFetcher for Fetcher {
    fn fetch<'a>(
        &'a self,
        url: &'a str,
    ) -> BoxFuture<'a, Result<FetchedDocument, KeySetFetchError>> {
        Box::pin(async move {
            let fetched = self.get(url).await.map_err(KeySetFetchError::new)?;
            let max_age = fetched.max_age();
            Ok(FetchedDocument::new(fetched.into_body(), max_age))
        })
    }
}

/// How the resource server authenticates to the introspection endpoint.
/// `Debug` shows no secret: `BasicAuth`'s omits the password.
#[derive(Debug, Clone)]
enum ClientAuth {
    /// mTLS (RFC 8705 §2): the fetcher presents the certificate; the
    /// `client_id` goes in the body.
    Mtls { client_id: String },
    /// `client_secret_basic` (RFC 6749 §2.3.1).
    Basic(BasicAuth),
}

/// RFC 7662 introspection over certbound-fetch: POSTs `token` with
/// `token_type_hint=access_token` to the endpoint, authenticated as the
/// resource server (mTLS or `client_secret_basic`), within the fetcher's
/// timeouts and size limit. Use it in an
/// [`IntrospectionValidator`](crate::IntrospectionValidator), alone or
/// under a [`CachedValidator`](crate::CachedValidator).
///
/// ```
/// use certbound_binding::{HttpIntrospector, IntrospectionValidator};
/// use certbound_fetch::Fetcher;
///
/// # let _ = rustls::crypto::ring::default_provider().install_default();
/// # let (chain, key) = {
/// #     let ca = certbound_testkit::TestCa::new("CA");
/// #     let rs = ca.leaf("rs-1").issue();
/// #     (vec![rs.der.clone().into()], rustls_pki_types::PrivateKeyDer::try_from(rs.key_der.clone())?)
/// # };
/// let fetcher = Fetcher::for_operator_urls().identity(chain, key).build()?;
/// let validator = IntrospectionValidator::new(HttpIntrospector::mtls(
///     fetcher,
///     "https://as.example.com/introspect",
///     "rs-1",
/// ))
/// .issuer("https://as.example.com")
/// .audience("https://rs.example.com");
/// # let _ = validator;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct HttpIntrospector {
    fetcher: Fetcher,
    endpoint: String,
    auth: ClientAuth,
}

/// Why an introspection call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum HttpIntrospectionError {
    /// The request failed (transport, TLS, status, limits).
    #[error("introspection request: {0}")]
    Fetch(#[from] FetchError),
    /// The response is not JSON.
    #[error("introspection response is not JSON: {0}")]
    InvalidJson(String),
}

impl HttpIntrospector {
    /// Authenticates by mutual TLS: `fetcher` must present the resource
    /// server's certificate (`FetcherBuilder::identity`), and `client_id`
    /// goes in the body (RFC 8705 §2).
    pub fn mtls(
        fetcher: Fetcher,
        endpoint: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Self {
        Self {
            fetcher,
            endpoint: endpoint.into(),
            auth: ClientAuth::Mtls {
                client_id: client_id.into(),
            },
        }
    }

    /// Authenticates with `client_secret_basic` (RFC 6749 §2.3.1).
    pub fn client_secret_basic(
        fetcher: Fetcher,
        endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        Self {
            fetcher,
            endpoint: endpoint.into(),
            auth: ClientAuth::Basic(BasicAuth::new(client_id, client_secret)),
        }
    }
}

impl Introspect for HttpIntrospector {
    type Error = HttpIntrospectionError;

    async fn introspect(&self, token: &str) -> Result<Value, HttpIntrospectionError> {
        let mut form = vec![("token", token), ("token_type_hint", "access_token")];
        let basic = match &self.auth {
            ClientAuth::Mtls { client_id } => {
                form.push(("client_id", client_id));
                None
            }
            ClientAuth::Basic(basic) => Some(basic),
        };
        let fetched = self.fetcher.post_form(&self.endpoint, &form, basic).await?;
        serde_json::from_slice(fetched.body())
            .map_err(|e| HttpIntrospectionError::InvalidJson(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let ca = certbound_testkit::TestCa::new("CA");
        let rs = ca.leaf("rs-1").issue();
        let key = rustls_pki_types::PrivateKeyDer::try_from(rs.key_der.clone()).unwrap();
        let fetcher = Fetcher::for_operator_urls()
            .crypto_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .only_root_certificates([ca.cert.der.clone().into()])
            .identity(vec![rs.der.clone().into()], key)
            .build()
            .unwrap();
        let basic =
            HttpIntrospector::client_secret_basic(fetcher, "https://as/i", "rs-1", "s3cret");
        let debug = format!("{basic:?}");
        assert!(
            debug.contains("rs-1") && !debug.contains("s3cret"),
            "{debug}"
        );
    }
}
