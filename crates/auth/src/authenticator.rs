//! [`Authenticator`]: runs the registered RFC 8705 method of a client on the
//! certificate it presented.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certbound_cert::{Certificate, Thumbprint};
use certbound_extract::ClientCert;

use crate::cache::VerificationCache;
use crate::clock::{Clock, SystemClock};
use crate::crl::live::{LiveTls, TlsState};
use crate::registry::ClientRegistry;
use crate::report::Recorder;
use crate::self_signed::{SelfSignedTlsClientAuth, SetSource};
use crate::tls_client_auth::{ConfigError, EkuPolicy, PathError, Revocation, TlsClientAuth};
use crate::{AuthError, RegisteredClient, TokenEndpointAuthMethod};
use certbound_oauth::{OAuthError, Report};

/// A client that passed mutual TLS client authentication. The layer puts it
/// into the request extensions; the token endpoint reads it (axum: as an
/// extractor) to know who the client is and what to bind tokens to.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    client: RegisteredClient,
    certificate: ClientCert,
}

impl AuthenticatedClient {
    /// `client_id`.
    pub fn client_id(&self) -> &str {
        self.client.client_id()
    }

    /// The method the client authenticated with (its registered one).
    pub fn method(&self) -> &TokenEndpointAuthMethod {
        self.client.method()
    }

    /// The `x5t#S256` of the presented leaf: the value for `cnf` (RFC 8705 §3.1).
    pub fn thumbprint(&self) -> Thumbprint {
        self.certificate.thumbprint()
    }

    /// Whether the client registered `tls_client_certificate_bound_access_tokens`.
    pub fn bound_access_tokens(&self) -> bool {
        self.client.bound_access_tokens()
    }

    /// The presented certificate.
    pub fn certificate(&self) -> &ClientCert {
        &self.certificate
    }

    /// The client's registration.
    pub fn registration(&self) -> &RegisteredClient {
        &self.client
    }
}

/// Counters of the work done, for tests and metrics. They count from the
/// authenticator's start, across configuration updates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthMetrics {
    /// Path validations run by webpki (each checks signatures).
    pub path_validations: u64,
    /// `tls_client_auth` authentications answered from the cache.
    pub cache_hits: u64,
    /// CRLs taken in by a refresh because they differ from the one held.
    pub crl_updates: u64,
    /// CRL refreshes that failed (unreachable, unreadable, not verified).
    pub crl_refresh_failures: u64,
}

struct Inner {
    registry: Box<dyn ClientRegistry>,
    tls: Arc<LiveTls>,
    self_signed: Option<SelfSignedTlsClientAuth>,
    clock: Arc<dyn Clock>,
    expose_refusal_reasons: bool,
    path_validations: AtomicU64,
    cache_hits: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last clone is gone: so is the CRL refresher, even mid-fetch.
        self.tls.stop();
    }
}

/// Authenticates clients with their registered RFC 8705 method.
/// Cheap to clone (an `Arc`): clones share one authenticator, so a handle
/// kept by the application sees, and makes, the same updates as the one in
/// a [`ClientAuthLayer`](crate::ClientAuthLayer).
///
/// The `tls_client_auth` configuration and its CRLs are live (see
/// [`update_tls_client_auth`](Self::update_tls_client_auth) and
/// [`refresh_crls`](Self::refresh_crls)); the background CRL refresher ends
/// with the last clone.
///
/// ```
/// use certbound_auth::{Authenticator, ClientMetadata, TlsClientAuth, TokenEndpointAuthMethod, TrustStore, registry_from_metadata};
/// use certbound_cert::Certificate;
/// use certbound_extract::{CertSource, ClientCert};
/// use certbound_testkit::TestCa;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let ca = TestCa::new("Example CA");
/// let leaf = ca.leaf("bank-1").issue();
///
/// let mut m = ClientMetadata::new("bank-1", TokenEndpointAuthMethod::TlsClientAuth);
/// m.tls_client_auth_subject_dn = Some("cn=Bank-1".into());
/// let auth = Authenticator::builder(registry_from_metadata([m])?)
///     .tls_client_auth(TlsClientAuth::new(TrustStore::from_pem(&ca.cert.pem)?))
///     .build()?;
///
/// let cert = ClientCert::new(Certificate::from_pem(&leaf.pem)?, vec![], CertSource::Tls);
/// let client = auth.authenticate("bank-1", Some(&cert)).await?;
/// assert_eq!(client.thumbprint(), cert.thumbprint());
/// assert_eq!(auth.supported_methods(), [TokenEndpointAuthMethod::TlsClientAuth]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field(
                "tls_client_auth",
                &self.inner.tls.load().map(|s| s.config.clone()),
            )
            .field("self_signed_tls_client_auth", &self.inner.self_signed)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Authenticator`].
pub struct AuthenticatorBuilder {
    registry: Box<dyn ClientRegistry>,
    tls: Option<TlsClientAuth>,
    self_signed: Option<SelfSignedTlsClientAuth>,
    clock: Arc<dyn Clock>,
    expose_refusal_reasons: bool,
}

impl fmt::Debug for AuthenticatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticatorBuilder")
            .finish_non_exhaustive()
    }
}

impl AuthenticatorBuilder {
    /// Enables `tls_client_auth`.
    pub fn tls_client_auth(mut self, config: TlsClientAuth) -> Self {
        self.tls = Some(config);
        self
    }

    /// Enables `self_signed_tls_client_auth`.
    pub fn self_signed_tls_client_auth(mut self, config: SelfSignedTlsClientAuth) -> Self {
        self.self_signed = Some(config);
        self
    }

    /// Where the current time comes from (the system clock by default).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// For development only: the `error_description` of an
    /// `invalid_client` refusal says why (which check failed). Off by
    /// default, when every refusal has the same description, so that
    /// clients learn nothing about other clients or the PKI.
    pub fn danger_expose_refusal_reasons(mut self, expose: bool) -> Self {
        self.expose_refusal_reasons = expose;
        self
    }

    /// The authenticator, or the first error of the `tls_client_auth`
    /// configuration (a CRL or a policy OID that could not be read).
    pub fn build(mut self) -> Result<Authenticator, ConfigError> {
        if let Some(e) = self.tls.as_mut().and_then(|t| t.error.take()) {
            return Err(e);
        }
        let tls = Arc::new(LiveTls::new(self.tls, self.clock.clone()));
        tls.ensure_task();
        Ok(Authenticator {
            inner: Arc::new(Inner {
                registry: self.registry,
                tls,
                self_signed: self.self_signed,
                clock: self.clock,
                expose_refusal_reasons: self.expose_refusal_reasons,
                path_validations: AtomicU64::new(0),
                cache_hits: AtomicU64::new(0),
            }),
        })
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn describe_time(t: SystemTime) -> String {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => format!("{}s after the epoch", d.as_secs()),
        Err(_) => "before the epoch".to_owned(),
    }
}

fn map_webpki(e: &webpki::Error) -> AuthError {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => AuthError::Expired,
        E::CertNotValidYet { .. } => AuthError::NotYetValid,
        // A CA of the same name whose key did not sign the certificate is
        // just as unknown.
        E::UnknownIssuer | E::InvalidSignatureForPublicKey => AuthError::UnknownIssuer,
        E::CertRevoked => AuthError::Revoked,
        E::UnknownRevocationStatus => AuthError::RevocationStatusUnknown,
        E::CrlExpired { .. } => AuthError::CrlExpired,
        E::RequiredEkuNotFoundContext(_) => AuthError::WrongEku,
        other => AuthError::InvalidPath(other.to_string()),
    }
}

/// The leaf's EKU against the policy: `Ok(description)` or the error.
fn check_eku(leaf: &Certificate, policy: EkuPolicy) -> Result<String, (AuthError, String)> {
    let parsed = leaf
        .parsed()
        .map_err(|e| (AuthError::InvalidPath(e.to_string()), e.to_string()))?;
    let eku = parsed.extended_key_usage().map_err(|e| {
        (
            AuthError::InvalidPath(e.to_string()),
            format!("unreadable EKU extension: {e}"),
        )
    })?;
    match eku {
        None => match policy {
            EkuPolicy::ClientAuthIfPresent => {
                Ok("no EKU extension (accepted: clientAuth is required only when present)".into())
            }
            EkuPolicy::ClientAuthRequired => Err((
                AuthError::EkuMissing,
                "no EKU extension; clientAuth (1.3.6.1.5.5.7.3.2) is required".into(),
            )),
        },
        Some(ext) => {
            let e = ext.value;
            let listed: Vec<String> = [
                (e.any, "anyExtendedKeyUsage"),
                (e.server_auth, "serverAuth"),
                (e.client_auth, "clientAuth"),
                (e.code_signing, "codeSigning"),
                (e.email_protection, "emailProtection"),
                (e.time_stamping, "timeStamping"),
                (e.ocsp_signing, "OCSPSigning"),
            ]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| name.to_owned())
            .chain(e.other.iter().map(|o| o.to_id_string()))
            .collect();
            if e.client_auth {
                Ok(format!("EKU lists {}", listed.join(", ")))
            } else {
                Err((
                    AuthError::WrongEku,
                    format!("EKU lists {} but not clientAuth", listed.join(", ")),
                ))
            }
        }
    }
}

/// The leaf's certificate policy OIDs (dotted); none when it does not
/// parse, so that a required policy is missing.
fn leaf_policies(leaf: &Certificate) -> Vec<String> {
    use x509_parser::extensions::ParsedExtension;
    let Ok(parsed) = leaf.parsed() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ext in parsed.extensions() {
        if let ParsedExtension::CertificatePolicies(policies) = ext.parsed_extension() {
            out.extend(policies.iter().map(|p| p.policy_id.to_id_string()));
        }
    }
    out
}

impl Authenticator {
    /// Starts an authenticator over a registry; enable the methods on the builder.
    pub fn builder(registry: impl ClientRegistry) -> AuthenticatorBuilder {
        AuthenticatorBuilder {
            registry: Box::new(registry),
            tls: None,
            self_signed: None,
            clock: Arc::new(SystemClock),
            expose_refusal_reasons: false,
        }
    }

    /// The methods enabled, for `token_endpoint_auth_methods_supported`
    /// (RFC 8414); the application adds the non-mTLS ones it handles.
    pub fn supported_methods(&self) -> Vec<TokenEndpointAuthMethod> {
        let mut out = Vec::new();
        if self.inner.tls.load().is_some() {
            out.push(TokenEndpointAuthMethod::TlsClientAuth);
        }
        if self.inner.self_signed.is_some() {
            out.push(TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
        }
        out
    }

    /// Counters of the work done so far.
    pub fn metrics(&self) -> AuthMetrics {
        AuthMetrics {
            path_validations: self.inner.path_validations.load(Ordering::Relaxed),
            cache_hits: self.inner.cache_hits.load(Ordering::Relaxed),
            crl_updates: self.inner.tls.crl_updates.load(Ordering::Relaxed),
            crl_refresh_failures: self.inner.tls.crl_refresh_failures.load(Ordering::Relaxed),
        }
    }

    /// Replaces the `tls_client_auth` configuration (trust anchors,
    /// intermediates, CRLs and their sources, EKU and policy, limits), or
    /// keeps the old one and returns the new one's first error,
    /// atomically: a request sees the old configuration or the new one,
    /// never a mix. Enables `tls_client_auth` if it was not. No
    /// verification made under the old configuration is served from the
    /// cache afterwards; CRLs of sources both configurations share are
    /// kept; the metrics go on counting. Call it from within a tokio
    /// runtime to start the CRL refresher at once (otherwise it starts with
    /// the next verification).
    ///
    /// ```
    /// use certbound_auth::{Authenticator, ClientMetadata, TlsClientAuth, TokenEndpointAuthMethod, TrustStore, registry_from_metadata};
    /// use certbound_cert::Certificate;
    /// use certbound_extract::{CertSource, ClientCert};
    /// use certbound_testkit::TestCa;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let (old_ca, new_ca) = (TestCa::new("CA 2025"), TestCa::new("CA 2026"));
    /// let leaf = new_ca.leaf("bank-1").issue();
    /// let mut m = ClientMetadata::new("bank-1", TokenEndpointAuthMethod::TlsClientAuth);
    /// m.tls_client_auth_subject_dn = Some("CN=bank-1".into());
    /// let auth = Authenticator::builder(registry_from_metadata([m])?)
    ///     .tls_client_auth(TlsClientAuth::new(TrustStore::from_pem(&old_ca.cert.pem)?))
    ///     .build()?;
    /// let cert = ClientCert::new(Certificate::from_pem(&leaf.pem)?, vec![], CertSource::Tls);
    /// assert!(auth.authenticate("bank-1", Some(&cert)).await.is_err());
    ///
    /// // The CA rolls over: trust both for a while, without a restart.
    /// let both = format!("{}{}", old_ca.cert.pem, new_ca.cert.pem);
    /// auth.update_tls_client_auth(TlsClientAuth::new(TrustStore::from_pem(&both)?))?;
    /// assert_eq!(auth.authenticate("bank-1", Some(&cert)).await?.client_id(), "bank-1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn update_tls_client_auth(&self, mut config: TlsClientAuth) -> Result<(), ConfigError> {
        if let Some(e) = config.error.take() {
            return Err(e);
        }
        self.inner.tls.install(config);
        self.inner.tls.ensure_task();
        Ok(())
    }

    /// Refreshes every CRL file, URL and distribution point now, in the
    /// caller's task, and returns when done (the background refresher keeps
    /// its own schedule). For a start-up that should not serve before its
    /// CRLs are in, or right after a CA published a revocation. Failures
    /// are logged and counted in [`metrics`](Self::metrics), as in the
    /// background.
    pub async fn refresh_crls(&self) {
        self.inner.tls.refresh(true).await;
    }

    /// What the client is told for `err`: [`AuthError::to_oauth_error`],
    /// or the reason itself after
    /// [`danger_expose_refusal_reasons`](AuthenticatorBuilder::danger_expose_refusal_reasons).
    pub fn oauth_error(&self, err: &AuthError) -> OAuthError {
        err.oauth_error(self.inner.expose_refusal_reasons)
    }

    /// Authenticates `client_id` with the certificate it presented, by the
    /// client's registered method. On failure the precise reason, with the
    /// expected and presented values, is logged at debug level.
    pub async fn authenticate(
        &self,
        client_id: &str,
        cert: Option<&ClientCert>,
    ) -> Result<AuthenticatedClient, AuthError> {
        self.authenticate_request(client_id, cert, None).await
    }

    /// [`authenticate`](Self::authenticate) for a request that also carries
    /// the credentials of `other_method`: refused for an mTLS client.
    pub(crate) async fn authenticate_request(
        &self,
        client_id: &str,
        cert: Option<&ClientCert>,
        other_method: Option<&'static str>,
    ) -> Result<AuthenticatedClient, AuthError> {
        let mut rec = Recorder::new(false);
        let result = self
            .run(client_id, cert, other_method, &mut rec, true)
            .await;
        if let Err(e) = &result {
            if !e.is_not_mtls() {
                tracing::debug!(client_id, error = %e, "client authentication failed");
            }
        }
        result
    }

    /// Runs every check of the client's method, without the cache, and
    /// reports each with its verdict: why a certificate is refused.
    /// The report's facts are the `client_id`, the registered `method`
    /// (when the client was found) and, when authenticated, the
    /// certificate's `x5t#S256`.
    pub async fn explain(
        &self,
        client_id: &str,
        cert: Option<&ClientCert>,
    ) -> Report<AuthenticatedClient, AuthError> {
        let mut rec = Recorder::new(true);
        let result = self.run(client_id, cert, None, &mut rec, false).await;
        let mut report = Report::new(result);
        report.facts.insert("client_id".into(), client_id.into());
        if let Some(method) = &rec.method {
            report.facts.insert("method".into(), method.as_str().into());
        }
        if let Ok(client) = &report.result {
            let x5t = client.thumbprint().to_string();
            report.facts.insert("x5t#S256".into(), x5t.into());
        }
        report.checks = rec.checks.unwrap_or_default();
        report
    }

    async fn run(
        &self,
        client_id: &str,
        cert: Option<&ClientCert>,
        other_method: Option<&'static str>,
        rec: &mut Recorder,
        use_cache: bool,
    ) -> Result<AuthenticatedClient, AuthError> {
        let client = match self.inner.registry.client(client_id).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                rec.fail("client", || {
                    format!("no client registered as {client_id:?}")
                });
                return Err(AuthError::UnknownClient);
            }
            Err(e) => {
                rec.fail("client", || e.to_string());
                return Err(AuthError::Registry(e));
            }
        };
        let method = client.method().clone();
        rec.method = Some(method.clone());
        rec.pass("client", || {
            format!("{client_id:?} registered with token_endpoint_auth_method {method}")
        });
        if let Some(other) = other_method.filter(|_| method.is_mtls()) {
            rec.fail("method", || {
                format!("{method} and {other} in one request (RFC 6749 §2.3)")
            });
            return Err(AuthError::MultipleMethods { other });
        }
        match &method {
            TokenEndpointAuthMethod::TlsClientAuth => {
                if let Some(tls) = self.inner.tls.load() {
                    return self.tls_client_auth(&tls, client, cert, rec, use_cache);
                }
            }
            TokenEndpointAuthMethod::SelfSignedTlsClientAuth => {
                if let Some(ss) = &self.inner.self_signed {
                    return self.self_signed(ss, client, cert, rec).await;
                }
            }
            _ => {
                rec.skip("method", || {
                    format!("{method} is not an mTLS method: left to other client authentication")
                });
                return Err(AuthError::NotMtlsClient { method });
            }
        }
        rec.fail("method", || format!("{method} is not enabled"));
        Err(AuthError::MethodNotEnabled { method })
    }

    fn presented(cert: Option<&ClientCert>, rec: &mut Recorder) -> Result<ClientCert, AuthError> {
        let Some(c) = cert else {
            rec.fail("certificate", || "no client certificate presented".into());
            return Err(AuthError::NoCertificate);
        };
        rec.pass("certificate", || {
            format!(
                "{} (x5t#S256 {}), issued by {}, {} intermediate(s) presented",
                c.leaf().subject(),
                c.thumbprint(),
                c.leaf().issuer(),
                c.intermediates().len()
            )
        });
        Ok(c.clone())
    }

    fn tls_client_auth(
        &self,
        state: &TlsState,
        client: RegisteredClient,
        cert: Option<&ClientCert>,
        rec: &mut Recorder,
        use_cache: bool,
    ) -> Result<AuthenticatedClient, AuthError> {
        let tls: &TlsClientAuth = &state.config;
        self.inner.tls.ensure_task();
        let cert = Self::presented(cert, rec)?;
        let leaf = cert.leaf();
        let (anchors, whose) = match client.trust_anchors() {
            Some(store) => (store, "the client's own (certbound_trust_anchors)"),
            None => (&tls.trust_store, "the global trust store"),
        };
        if anchors.is_empty() {
            rec.fail("anchors", || format!("{whose} is empty"));
            return Err(AuthError::NoTrustAnchors);
        }
        rec.pass("anchors", || {
            let names: Vec<String> = anchors
                .certificates()
                .iter()
                .map(|c| c.subject().to_string())
                .collect();
            format!(
                "{} anchor(s) from {whose}: {}",
                anchors.len(),
                names.join("; ")
            )
        });

        let now = self.inner.clock.now();
        let cache = state
            .cache
            .as_ref()
            .filter(|_| use_cache)
            .map(|c| (c, VerificationCache::key(&client, &cert, state.generation)));
        let hit = cache.as_ref().is_some_and(|(c, key)| c.holds(key, now));

        let mut first: Option<AuthError> = None;
        macro_rules! failed {
            ($err:expr) => {{
                let err = $err;
                if !rec.explaining() {
                    return Err(err);
                }
                first.get_or_insert(err);
            }};
        }

        if hit {
            self.inner.cache_hits.fetch_add(1, Ordering::Relaxed);
            rec.pass("path", || "validated earlier (cached)".into());
        } else {
            let validity = leaf.validity();
            if now < validity.not_before {
                rec.fail("validity", || {
                    format!("not valid before {}", describe_time(validity.not_before))
                });
                failed!(AuthError::NotYetValid);
            } else if now > validity.not_after {
                rec.fail("validity", || {
                    format!(
                        "expired: not valid after {}",
                        describe_time(validity.not_after)
                    )
                });
                failed!(AuthError::Expired);
            } else {
                rec.pass("validity", || "within notBefore..notAfter".into());
            }

            // webpki's path validation enforces clientAuth when an EKU is
            // present (the default policy), so the leaf is read again only
            // for the stricter policy or to explain.
            if rec.explaining() || tls.eku != EkuPolicy::ClientAuthIfPresent {
                match check_eku(leaf, tls.eku) {
                    Ok(detail) => rec.pass("eku", || detail),
                    Err((err, detail)) => {
                        rec.fail("eku", || detail);
                        failed!(err);
                    }
                }
            }

            if tls.required_policies.is_empty() {
                rec.skip("policies", || "no certificate policy required".into());
            } else {
                let present = leaf_policies(leaf);
                match tls.required_policies.iter().find(|p| !present.contains(p)) {
                    None => rec.pass("policies", || {
                        format!("leaf has {}", tls.required_policies.join(", "))
                    }),
                    Some(missing) => {
                        rec.fail("policies", || {
                            format!(
                                "required {missing}; leaf has {}",
                                if present.is_empty() {
                                    "no policy".to_owned()
                                } else {
                                    present.join(", ")
                                }
                            )
                        });
                        failed!(AuthError::PolicyMissing {
                            oid: missing.clone()
                        });
                    }
                }
            }

            self.inner.path_validations.fetch_add(1, Ordering::Relaxed);
            let pin = client.issuer_spki_sha256();
            let validated =
                tls.validate_path(leaf, cert.intermediates(), anchors, pin, now, &state.crls);
            // Only the certificates of a path webpki verified to an anchor
            // name distribution points to follow.
            let chained = match &validated {
                Ok(path) => path.chained.as_slice(),
                Err(PathError::UnknownRevocationStatus { chained }) => chained.as_slice(),
                Err(_) => &[],
            };
            self.inner.tls.note_distribution_points(state, chained);
            match validated {
                Ok(path) => {
                    rec.pass("path", || {
                        format!(
                            "valid chain to anchor {} through {} intermediate(s): signatures, \
                             validity, basic constraints and EKU checked by webpki",
                            path.anchor
                                .as_ref()
                                .map(|a| a.subject().to_string())
                                .unwrap_or_default(),
                            path.intermediates
                        )
                    });
                    match &path.revocation {
                        Revocation::NotConfigured => {
                            rec.skip("revocation", || {
                                "no CRL configured: revocation status unknown".into()
                            });
                        }
                        Revocation::NotRevoked { certificates } => {
                            rec.pass("revocation", || {
                                format!(
                                    "not revoked: a configured CRL covers the issuer of each \
                                     of the {certificates} certificate(s) checked"
                                )
                            });
                        }
                        Revocation::Unknown { issuer } => {
                            rec.skip("revocation", || {
                                format!(
                                    "no CRL covers this issuer ({issuer}): revocation status \
                                     unknown"
                                )
                            });
                        }
                    }
                    match pin {
                        Some(p) => rec.pass("issuer pin", || {
                            format!("issuer SPKI SHA-256 {} is the pinned one", b64(p))
                        }),
                        None => rec.skip("issuer pin", || {
                            format!(
                                "no issuer pin registered (the issuer's SPKI SHA-256 is {})",
                                b64(&path.issuer_spki_sha256)
                            )
                        }),
                    }
                    rec.pass("path length", || {
                        format!(
                            "{} intermediate(s), at most {}",
                            path.intermediates, tls.max_intermediates
                        )
                    });
                    if first.is_none() {
                        if let Some((cache, key)) = cache {
                            cache.insert(key, now, path.valid_until);
                        }
                    }
                }
                Err(PathError::Webpki(e)) => {
                    let err = map_webpki(&e);
                    rec.fail("path", || format!("webpki: {e}"));
                    if matches!(err, AuthError::Revoked) {
                        rec.fail("revocation", || "revoked by a configured CRL".into());
                    }
                    tracing::debug!(client_id = client.client_id(), error = %e, "path validation failed");
                    failed!(err);
                }
                Err(PathError::UnknownRevocationStatus { .. }) => {
                    let e = webpki::Error::UnknownRevocationStatus;
                    rec.pass("path", || {
                        "chains to a trust anchor (signatures, validity, basic constraints and \
                         EKU checked by webpki)"
                            .into()
                    });
                    rec.fail("revocation", || {
                        "no CRL covers this issuer: revocation status unknown, and refused by \
                         configuration"
                            .into()
                    });
                    tracing::debug!(client_id = client.client_id(), error = %e, "path validation failed");
                    failed!(AuthError::RevocationStatusUnknown);
                }
                Err(PathError::CrlExpired { issuer }) => {
                    rec.fail("revocation", || {
                        format!(
                            "the CRL of {issuer} is past its nextUpdate and could not be \
                             refreshed: revocation status unknown, refused"
                        )
                    });
                    tracing::debug!(
                        client_id = client.client_id(),
                        issuer,
                        "CRL past its nextUpdate"
                    );
                    failed!(AuthError::CrlExpired);
                }
                Err(PathError::TooLong { intermediates, max }) => {
                    rec.fail("path length", || {
                        format!("{intermediates} intermediate(s), at most {max}")
                    });
                    failed!(AuthError::PathTooLong { intermediates, max });
                }
                Err(PathError::IssuerPinMismatch { presented }) => {
                    let expected = pin.map(|p| b64(p)).unwrap_or_default();
                    rec.fail("issuer pin", || {
                        format!(
                            "issuer SPKI SHA-256 {} is not the pinned {expected}",
                            b64(&presented)
                        )
                    });
                    tracing::debug!(
                        client_id = client.client_id(),
                        expected,
                        presented = b64(&presented),
                        "issuer pin mismatch"
                    );
                    failed!(AuthError::IssuerPinMismatch);
                }
            }
        }

        match client.subject_parameter() {
            Some(subject) if subject.matches(leaf) => {
                rec.pass("subject", || {
                    format!(
                        "{} {:?} matches {:?}",
                        subject.name(),
                        subject.to_string(),
                        subject.presented(leaf)
                    )
                });
            }
            Some(subject) => {
                let presented = subject.presented(leaf);
                rec.fail("subject", || {
                    format!(
                        "{} {:?} registered, certificate has {presented:?}",
                        subject.name(),
                        subject.to_string()
                    )
                });
                tracing::debug!(
                    client_id = client.client_id(),
                    parameter = subject.name(),
                    expected = %subject,
                    presented,
                    "subject mismatch"
                );
                failed!(AuthError::SubjectMismatch {
                    parameter: subject.name()
                });
            }
            None => {
                rec.fail("subject", || "no subject parameter registered".into());
                failed!(AuthError::SubjectMismatch {
                    parameter: "tls_client_auth_subject_dn"
                });
            }
        }
        if let Some(err) = first {
            return Err(err);
        }
        Ok(AuthenticatedClient {
            client,
            certificate: cert,
        })
    }

    async fn self_signed(
        &self,
        ss: &SelfSignedTlsClientAuth,
        client: RegisteredClient,
        cert: Option<&ClientCert>,
        rec: &mut Recorder,
    ) -> Result<AuthenticatedClient, AuthError> {
        let cert = Self::presented(cert, rec)?;
        rec.skip("path", || {
            "no chain or validity check for self_signed_tls_client_auth (RFC 8705 §2.2)".into()
        });
        let presented = cert.thumbprint();
        let (found, count, from) = match &client.metadata().jwks_uri {
            Some(uri) => {
                let now = self.inner.clock.now();
                match ss.lookup(uri, &presented, now).await {
                    Ok((found, count, source)) => {
                        let how = match source {
                            SetSource::Cached => "cached",
                            SetSource::Fetched => "fetched",
                            SetSource::RefetchedAfterMiss => "refetched after a miss",
                            SetSource::RefetchRateLimited => {
                                "cached; not refetched, the last fetch is too recent"
                            }
                        };
                        (found, count, format!("jwks_uri {uri} ({how})"))
                    }
                    Err(e) => {
                        rec.fail("key set", || format!("jwks_uri {uri}: {e}"));
                        tracing::debug!(client_id = client.client_id(), jwks_uri = %uri, error = %e, "jwks fetch failed");
                        return Err(AuthError::JwksUnavailable(e.to_string()));
                    }
                }
            }
            None => {
                let set = client.jwks_thumbprints();
                (set.contains(&presented), set.len(), "jwks".to_owned())
            }
        };
        if found {
            rec.pass("x5t#S256", || {
                format!("{presented} is x5c[0] of one of {count} key(s) in {from}")
            });
            Ok(AuthenticatedClient {
                client,
                certificate: cert,
            })
        } else {
            rec.fail("x5t#S256", || {
                format!("{presented} is not x5c[0] of any of {count} key(s) in {from}")
            });
            tracing::debug!(client_id = client.client_id(), presented = %presented, registered = count, source = %from, "self-signed certificate not registered");
            Err(AuthError::CertificateNotRegistered)
        }
    }
}
