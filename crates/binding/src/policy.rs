//! Issuing: which tokens get a `cnf`, and refresh-token binding for public
//! clients (RFC 8705 §3 and §4).

use certbound_cert::Thumbprint;
use certbound_extract::ClientCert;
use josekit::jwt::JwtPayload;

use crate::{BindingMismatch, Confirmation, OAuthError, verify_thumbprint};

/// What the binding policy needs to know about the authenticated client.
///
/// Built from the client's registration; with the `auth` feature, also from
/// certbound-auth's `AuthenticatedClient`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientBinding {
    bound_tokens_required: bool,
    public_client: bool,
}

impl ClientBinding {
    /// A confidential client that did not ask for bound tokens.
    pub fn confidential() -> Self {
        Self::default()
    }

    /// A public client (`token_endpoint_auth_method: none`).
    pub fn public() -> Self {
        Self {
            bound_tokens_required: false,
            public_client: true,
        }
    }

    /// Whether the client registered
    /// `tls_client_certificate_bound_access_tokens: true`.
    pub fn bound_tokens_required(mut self, required: bool) -> Self {
        self.bound_tokens_required = required;
        self
    }

    /// Whether the client is registered with `bound_tokens_required`.
    pub fn requires_bound_tokens(&self) -> bool {
        self.bound_tokens_required
    }

    /// Whether the client is public.
    pub fn is_public(&self) -> bool {
        self.public_client
    }
}

#[cfg(feature = "auth")]
impl From<&certbound_auth::RegisteredClient> for ClientBinding {
    /// Public when registered with `token_endpoint_auth_method: none`;
    /// bound tokens required when registered with
    /// `tls_client_certificate_bound_access_tokens: true`.
    fn from(client: &certbound_auth::RegisteredClient) -> Self {
        Self {
            bound_tokens_required: client.bound_access_tokens(),
            public_client: *client.method() == certbound_auth::TokenEndpointAuthMethod::None,
        }
    }
}

#[cfg(feature = "auth")]
impl From<&certbound_auth::AuthenticatedClient> for ClientBinding {
    fn from(client: &certbound_auth::AuthenticatedClient) -> Self {
        Self::from(client.registration())
    }
}

/// The server-wide binding policy of an authorization server.
///
/// - A client registered with `tls_client_certificate_bound_access_tokens:
///   true` always gets certificate-bound access tokens, whatever method it
///   authenticated with. When its token request came without a certificate
///   the request is refused with `invalid_request` (HTTP 400): the client
///   has not sent something its registration makes mandatory. (RFC 8705
///   names no code for this; `invalid_client` would wrongly say its
///   authentication failed.)
/// - With [`bind_whenever_certificate_presented`](Self::bind_whenever_certificate_presented),
///   every token requested with a certificate is bound to it.
/// - A public client's refresh token is bound to the certificate its access
///   token is bound to (RFC 8705 §4).
///
/// ```
/// use certbound_binding::{BindingPolicy, ClientBinding, TokenBinding};
///
/// let policy = BindingPolicy::new();
/// let refused = policy.decide(ClientBinding::confidential().bound_tokens_required(true), None);
/// assert_eq!(refused.unwrap_err().to_oauth_error().code(), Some("invalid_request"));
///
/// let plain = policy.decide(ClientBinding::confidential(), None)?;
/// assert_eq!(plain, TokenBinding::Unbound);
/// # Ok::<(), certbound_binding::BindingRefused>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct BindingPolicy {
    bind_when_presented: bool,
}

impl BindingPolicy {
    /// Binds only for clients that registered for bound tokens.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also binds every token requested with a client certificate.
    pub fn bind_whenever_certificate_presented(mut self, bind: bool) -> Self {
        self.bind_when_presented = bind;
        self
    }

    /// Decides the confirmation of the tokens to issue to `client`, whose
    /// token request came with `cert`.
    pub fn decide(
        &self,
        client: ClientBinding,
        cert: Option<&ClientCert>,
    ) -> Result<TokenBinding, BindingRefused> {
        let thumbprint = cert.map(ClientCert::thumbprint);
        let bind = client.bound_tokens_required || self.bind_when_presented;
        match (bind, thumbprint) {
            (true, Some(t)) => Ok(TokenBinding::Bound {
                confirmation: Confirmation::from_thumbprint(t),
                refresh_token: client.public_client.then_some(RefreshTokenBinding(t)),
            }),
            (_, None) if client.bound_tokens_required => {
                tracing::debug!(
                    "client registered for certificate-bound tokens asked for a token without a certificate"
                );
                Err(BindingRefused::CertificateRequired)
            }
            _ => Ok(TokenBinding::Unbound),
        }
    }
}

/// The binding decided for one token response: bound to a certificate, or
/// not bound. A refusal is the `Err` of [`BindingPolicy::decide`], so there
/// is no third state to flatten away.
///
/// Hand it whole to [`AccessTokenIssuer::access_token`](crate::AccessTokenIssuer::access_token)
/// and [`RefreshToken::generate`](crate::RefreshToken::generate), or put its
/// `cnf` into a payload of your own with
/// [`insert_into_jwt_payload`](Self::insert_into_jwt_payload).
///
/// ```
/// use certbound_binding::{Confirmation, TokenBinding};
///
/// let t = "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0".parse()?;
/// let bound = TokenBinding::Bound {
///     confirmation: Confirmation::from_thumbprint(t),
///     refresh_token: None,
/// };
/// let mut payload = josekit::jwt::JwtPayload::new();
/// bound.insert_into_jwt_payload(&mut payload);
/// assert_eq!(payload.claim("cnf").unwrap()["x5t#S256"], t.to_string());
///
/// let mut payload = josekit::jwt::JwtPayload::new();
/// TokenBinding::Unbound.insert_into_jwt_payload(&mut payload);
/// assert!(payload.claim("cnf").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a binding decision that is not put into the token drops the binding"]
pub enum TokenBinding {
    /// The tokens are bound to the client's certificate (RFC 8705 §3).
    Bound {
        /// The `cnf` to put into the access token.
        confirmation: Confirmation,
        /// What to record with the refresh token: set for a public client
        /// (RFC 8705 §4); a confidential client's refresh token is bound
        /// by its client authentication instead.
        refresh_token: Option<RefreshTokenBinding>,
    },
    /// The tokens are not bound.
    Unbound,
}

impl TokenBinding {
    /// Whether the tokens are bound.
    pub fn is_bound(&self) -> bool {
        matches!(self, Self::Bound { .. })
    }

    /// The `cnf` to put into the access token, when it is bound.
    pub fn access_token_confirmation(&self) -> Option<&Confirmation> {
        match self {
            Self::Bound { confirmation, .. } => Some(confirmation),
            Self::Unbound => None,
        }
    }

    /// What to record with the refresh token, when it is bound.
    pub fn refresh_token_binding(&self) -> Option<&RefreshTokenBinding> {
        match self {
            Self::Bound { refresh_token, .. } => refresh_token.as_ref(),
            Self::Unbound => None,
        }
    }

    /// Puts the `cnf` claim into `payload` when the token is bound
    /// (replacing any `cnf` there); leaves it alone when it is not.
    pub fn insert_into_jwt_payload(&self, payload: &mut JwtPayload) {
        if let Some(cnf) = self.access_token_confirmation() {
            cnf.insert_into_jwt_payload(payload);
        }
    }
}

/// Why the policy refuses to issue tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BindingRefused {
    /// The client registered for certificate-bound tokens but presented no
    /// certificate.
    #[error("a client certificate is required to obtain certificate-bound tokens")]
    CertificateRequired,
}

impl BindingRefused {
    /// The token endpoint's answer: `invalid_request`, 400.
    pub fn to_oauth_error(&self) -> OAuthError {
        OAuthError::invalid_request(self.to_string())
    }
}

/// The certificate a refresh token is bound to (RFC 8705 §4), recorded with
/// the refresh token when it is issued and checked when it is used.
///
/// Serializes as a `cnf`-like object `{"x5t#S256": "..."}`.
///
/// ```
/// use certbound_binding::RefreshTokenBinding;
///
/// let bound = RefreshTokenBinding::new("A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0".parse()?);
/// let refused = bound.check(None).unwrap_err();
/// assert_eq!(refused.to_oauth_error().code(), Some("invalid_grant"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefreshTokenBinding(#[serde(with = "as_cnf")] Thumbprint);

impl RefreshTokenBinding {
    /// A refresh token bound to the certificate with this thumbprint.
    pub fn new(thumbprint: Thumbprint) -> Self {
        Self(thumbprint)
    }

    /// The thumbprint the refresh token is bound to.
    pub fn thumbprint(&self) -> Thumbprint {
        self.0
    }

    /// Checks a refresh request: it must come with the same certificate.
    pub fn check(&self, cert: Option<&ClientCert>) -> Result<(), RefreshRefused> {
        check_refresh_token(Some(self), cert)
    }
}

/// Checks a refresh request against what was recorded with the refresh token:
/// nothing recorded passes; otherwise the request must present the same
/// certificate, decided by [`verify_binding`](crate::verify_binding).
pub fn check_refresh_token(
    recorded: Option<&RefreshTokenBinding>,
    cert: Option<&ClientCert>,
) -> Result<(), RefreshRefused> {
    let Some(recorded) = recorded else {
        return Ok(());
    };
    let cnf = Confirmation::from_thumbprint(recorded.0);
    verify_thumbprint(Some(&cnf), cert.map(ClientCert::thumbprint))
        .map(|_| ())
        .map_err(RefreshRefused)
}

/// A refresh request refused because it did not come with the certificate
/// the refresh token is bound to. The token endpoint answers `invalid_grant`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refresh token is bound to another certificate: {0}")]
pub struct RefreshRefused(BindingMismatch);

impl RefreshRefused {
    /// The precise reason.
    pub fn reason(&self) -> &BindingMismatch {
        &self.0
    }

    /// The token endpoint's answer: `invalid_grant`, 400 (RFC 6749 §5.2).
    pub fn to_oauth_error(&self) -> OAuthError {
        OAuthError::invalid_grant("the refresh token is bound to another client certificate")
    }
}

mod as_cnf {
    use certbound_cert::Thumbprint;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Cnf {
        #[serde(rename = "x5t#S256")]
        x5t_s256: Thumbprint,
    }

    pub(super) fn serialize<S: Serializer>(t: &Thumbprint, s: S) -> Result<S::Ok, S::Error> {
        Cnf { x5t_s256: *t }.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Thumbprint, D::Error> {
        Cnf::deserialize(d).map(|c| c.x5t_s256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_cert::Certificate;
    use certbound_extract::CertSource;
    use certbound_testkit::TestCa;

    fn client_cert(ca: &TestCa, cn: &str) -> ClientCert {
        let leaf = ca.leaf(cn).issue();
        ClientCert::new(
            Certificate::from_der(leaf.der).unwrap(),
            vec![],
            CertSource::Tls,
        )
    }

    #[test]
    fn bound_client_without_certificate_is_refused_with_invalid_request() {
        let policy = BindingPolicy::new().bind_whenever_certificate_presented(true);
        let client = ClientBinding::confidential().bound_tokens_required(true);
        let err = policy.decide(client, None).unwrap_err();
        assert_eq!(err, BindingRefused::CertificateRequired);
        let oauth = err.to_oauth_error();
        assert_eq!(oauth.status(), 400);
        assert_eq!(oauth.code(), Some("invalid_request"));
    }

    #[test]
    fn bound_client_with_certificate_always_gets_bound_tokens() {
        let ca = TestCa::new("CA");
        let cert = client_cert(&ca, "c1");
        let client = ClientBinding::confidential().bound_tokens_required(true);
        let binding = BindingPolicy::new().decide(client, Some(&cert)).unwrap();
        let cnf = binding.access_token_confirmation().unwrap();
        assert_eq!(cnf.thumbprint().unwrap(), Some(cert.thumbprint()));
        // A confidential client's refresh token is bound by its authentication.
        assert!(binding.refresh_token_binding().is_none());
    }

    #[test]
    fn other_clients_are_bound_only_when_the_server_says_so() {
        let ca = TestCa::new("CA");
        let cert = client_cert(&ca, "c1");
        let client = ClientBinding::confidential();
        let default = BindingPolicy::new().decide(client, Some(&cert)).unwrap();
        assert!(default.access_token_confirmation().is_none());
        let eager = BindingPolicy::new()
            .bind_whenever_certificate_presented(true)
            .decide(client, Some(&cert))
            .unwrap();
        assert!(eager.access_token_confirmation().is_some());
        let no_cert = BindingPolicy::new()
            .bind_whenever_certificate_presented(true)
            .decide(client, None)
            .unwrap();
        assert_eq!(no_cert, TokenBinding::Unbound);
    }

    #[cfg(feature = "auth")]
    #[test]
    fn client_binding_from_certbound_auth_registration() {
        use certbound_auth::{ClientMetadata, TokenEndpointAuthMethod};
        let public = ClientMetadata::new("app", TokenEndpointAuthMethod::None)
            .validate()
            .unwrap();
        assert_eq!(ClientBinding::from(&public), ClientBinding::public());
        let mut bound = ClientMetadata::new("svc", TokenEndpointAuthMethod::ClientSecretBasic);
        bound.tls_client_certificate_bound_access_tokens = true;
        let bound = bound.validate().unwrap();
        let binding = ClientBinding::from(&bound);
        assert!(binding.requires_bound_tokens() && !binding.is_public());
        assert_eq!(
            BindingPolicy::new().decide(binding, None),
            Err(BindingRefused::CertificateRequired)
        );
    }

    #[test]
    fn public_client_refresh_token_is_bound_and_checked() {
        let ca = TestCa::new("CA");
        let cert = client_cert(&ca, "public-app");
        let other = client_cert(&ca, "someone-else");
        let binding = BindingPolicy::new()
            .bind_whenever_certificate_presented(true)
            .decide(ClientBinding::public(), Some(&cert))
            .unwrap();
        let recorded = *binding.refresh_token_binding().unwrap();
        assert_eq!(recorded.thumbprint(), cert.thumbprint());

        // Stored with the refresh token, read back at refresh time.
        let stored = serde_json::to_string(&recorded).unwrap();
        assert_eq!(
            stored,
            format!("{{\"x5t#S256\":\"{}\"}}", cert.thumbprint())
        );
        let recorded: RefreshTokenBinding = serde_json::from_str(&stored).unwrap();

        assert_eq!(recorded.check(Some(&cert)), Ok(()));
        let wrong = recorded.check(Some(&other)).unwrap_err();
        assert_eq!(wrong.reason(), &BindingMismatch::ThumbprintMismatch);
        assert_eq!(wrong.to_oauth_error().code(), Some("invalid_grant"));
        assert_eq!(wrong.to_oauth_error().status(), 400);
        let missing = check_refresh_token(Some(&recorded), None).unwrap_err();
        assert_eq!(missing.reason(), &BindingMismatch::CertificateMissing);
        assert_eq!(check_refresh_token(None, None), Ok(()));
    }
}
