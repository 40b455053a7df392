//! Client registration: [`ClientMetadata`] (RFC 7591 and RFC 8705 names),
//! validated into a [`RegisteredClient`].

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use certbound_cert::{Certificate, DistinguishedName, Thumbprint, pem};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::TokenEndpointAuthMethod;
use crate::trust::TrustStore;
use certbound_oauth::OAuthError;

/// A client's registered metadata, with the standard JSON names of RFC 7591
/// §2 and RFC 8705 §2.1.2, §2.2 and §3.4, plus two optional certbound fields.
///
/// Unknown fields are kept in [`other`](Self::other) and written back.
///
/// ```
/// use certbound_auth::{ClientMetadata, TokenEndpointAuthMethod};
///
/// let m: ClientMetadata = serde_json::from_str(r#"{
///     "client_id": "bank-1",
///     "token_endpoint_auth_method": "tls_client_auth",
///     "tls_client_auth_subject_dn": "CN=bank-1,O=Example Bank,C=GB",
///     "tls_client_certificate_bound_access_tokens": true
/// }"#)?;
/// assert_eq!(m.token_endpoint_auth_method, TokenEndpointAuthMethod::TlsClientAuth);
/// let client = m.validate()?;
/// assert_eq!(client.subject_parameter().map(|s| s.name()), Some("tls_client_auth_subject_dn"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientMetadata {
    /// `client_id`.
    pub client_id: String,
    /// `token_endpoint_auth_method`; `client_secret_basic` when absent (RFC 7591 §2).
    #[serde(default)]
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// `tls_client_auth_subject_dn`: the expected subject, an RFC 4514 string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    /// `tls_client_auth_san_dns`: an expected dNSName SAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_dns: Option<String>,
    /// `tls_client_auth_san_uri`: an expected uniformResourceIdentifier SAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_uri: Option<String>,
    /// `tls_client_auth_san_ip`: an expected iPAddress SAN, IPv4 dotted or IPv6 text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_ip: Option<String>,
    /// `tls_client_auth_san_email`: an expected rfc822Name SAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_email: Option<String>,
    /// `jwks`: the client's key set, by value; never with `jwks_uri`
    /// (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<ClientJwks>,
    /// `jwks_uri`: where the client's key set is published; never with
    /// `jwks` (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// `tls_client_certificate_bound_access_tokens` (RFC 8705 §3.4).
    #[serde(default)]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// `certbound_trust_anchors` (certbound's own): CA certificates, each a
    /// PEM text or base64 DER, that replace the global trust store for this
    /// client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certbound_trust_anchors: Option<Vec<String>>,
    /// `certbound_issuer_spki_sha256` (certbound's own): the SHA-256 of the
    /// issuing CA's SubjectPublicKeyInfo, base64url (or base64); the leaf's
    /// issuer in the validated path must have this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certbound_issuer_spki_sha256: Option<String>,
    /// Every other field, kept as is.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A client's registered `jwks` (RFC 7517 §5 key set, RFC 8705 §2.2): only
/// `x5c` is read, everything else is kept. Named apart from josekit's
/// `JwkSet`, the signing key set that certbound-binding's `JwtValidator`
/// takes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientJwks {
    /// `keys`.
    pub keys: Vec<ClientJwk>,
}

/// One key of a [`ClientJwks`]. Only `x5c` is read; everything else is kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientJwk {
    /// `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `x5c`: the certificate chain, each base64 (not base64url) DER, the
    /// key's own certificate first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x5c: Option<Vec<String>>,
    /// Every other member.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ClientJwks {
    /// A key set with one key per certificate, each with `x5c` holding that
    /// certificate alone.
    pub fn from_certificates<'a>(certs: impl IntoIterator<Item = &'a Certificate>) -> Self {
        Self {
            keys: certs
                .into_iter()
                .map(|c| ClientJwk {
                    kid: None,
                    x5c: Some(vec![STANDARD.encode(c.der())]),
                    other: Map::new(),
                })
                .collect(),
        }
    }

    /// The `x5t#S256` of each key's `x5c[0]`, in order, with the errors of
    /// the keys whose `x5c[0]` is not a certificate. Keys without `x5c` are
    /// skipped.
    pub fn x5c_thumbprints(&self) -> (Vec<Thumbprint>, Vec<String>) {
        let mut thumbprints = Vec::new();
        let mut errors = Vec::new();
        for (i, key) in self.keys.iter().enumerate() {
            let Some(first) = key.x5c.as_ref().and_then(|x| x.first()) else {
                continue;
            };
            match STANDARD
                .decode(first.as_bytes())
                .map_err(|e| e.to_string())
                .and_then(|der| Certificate::from_der(der).map_err(|e| e.to_string()))
            {
                Ok(cert) => thumbprints.push(cert.thumbprint()),
                Err(e) => errors.push(format!("keys[{i}].x5c[0]: {e}")),
            }
        }
        (thumbprints, errors)
    }
}

/// Why a registration was refused: the RFC 7591 `invalid_client_metadata`
/// error, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid_client_metadata: {field}: {description}")]
pub struct ClientMetadataError {
    field: &'static str,
    description: String,
}

impl ClientMetadataError {
    fn new(field: &'static str, description: impl Into<String>) -> Self {
        Self {
            field,
            description: description.into(),
        }
    }

    /// The metadata field at fault.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// What is wrong with it.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The RFC 7591 §3.2.2 error response.
    pub fn to_oauth_error(&self) -> OAuthError {
        OAuthError::invalid_client_metadata(format!("{}: {}", self.field, self.description))
    }
}

/// The subject parameter a `tls_client_auth` client registered (RFC 8705
/// §2.1.2), parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubjectParameter {
    /// `tls_client_auth_subject_dn`.
    SubjectDn(DistinguishedName),
    /// `tls_client_auth_san_dns`.
    SanDns(String),
    /// `tls_client_auth_san_uri`.
    SanUri(String),
    /// `tls_client_auth_san_ip` (checked to parse).
    SanIp(String),
    /// `tls_client_auth_san_email`.
    SanEmail(String),
}

impl SubjectParameter {
    /// The metadata field name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SubjectDn(_) => "tls_client_auth_subject_dn",
            Self::SanDns(_) => "tls_client_auth_san_dns",
            Self::SanUri(_) => "tls_client_auth_san_uri",
            Self::SanIp(_) => "tls_client_auth_san_ip",
            Self::SanEmail(_) => "tls_client_auth_san_email",
        }
    }

    /// Whether the certificate matches, with certbound-cert's rules: the
    /// subject by RFC 4517 `distinguishedNameMatch`, SANs per RFC 8705 §2.1.2.
    /// A certificate whose SAN extension is malformed never matches.
    pub fn matches(&self, cert: &Certificate) -> bool {
        let sans = || cert.subject_alt_names();
        match self {
            Self::SubjectDn(dn) => dn.matches(cert.subject()),
            Self::SanDns(v) => sans().is_ok_and(|s| s.has_dns(v)),
            Self::SanUri(v) => sans().is_ok_and(|s| s.has_uri(v)),
            Self::SanIp(v) => sans().is_ok_and(|s| s.has_ip(v)),
            Self::SanEmail(v) => sans().is_ok_and(|s| s.has_email(v)),
        }
    }

    /// What the certificate presents for this parameter, for diagnostics.
    pub fn presented(&self, cert: &Certificate) -> String {
        let sans = match cert.subject_alt_names() {
            Ok(s) => s,
            Err(e) if !matches!(self, Self::SubjectDn(_)) => return format!("(unreadable: {e})"),
            Err(_) => return cert.subject().to_string(),
        };
        let list = |v: Vec<String>| {
            if v.is_empty() {
                "(none)".to_owned()
            } else {
                v.join(", ")
            }
        };
        match self {
            Self::SubjectDn(_) => cert.subject().to_string(),
            Self::SanDns(_) => list(sans.dns.clone()),
            Self::SanUri(_) => list(sans.uri.clone()),
            Self::SanIp(_) => list(sans.ip.iter().map(|i| i.to_string()).collect()),
            Self::SanEmail(_) => list(sans.email.clone()),
        }
    }
}

impl fmt::Display for SubjectParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SubjectDn(dn) => write!(f, "{dn}"),
            Self::SanDns(v) | Self::SanUri(v) | Self::SanIp(v) | Self::SanEmail(v) => {
                f.write_str(v)
            }
        }
    }
}

/// What [`ClientMetadata::validate_with`] accepts beyond the defaults of
/// [`ClientMetadata::validate`].
///
/// ```
/// use certbound_auth::{ClientMetadata, TokenEndpointAuthMethod, ValidationOptions};
///
/// let mut m = ClientMetadata::new("c", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
/// m.jwks_uri = Some("http://127.0.0.1:8080/jwks".into());
/// assert_eq!(m.clone().validate().unwrap_err().field(), "jwks_uri");
/// m.validate_with(ValidationOptions::default().allow_http_jwks_uri_for_testing(true))?;
/// # Ok::<(), certbound_auth::ClientMetadataError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationOptions {
    allow_http_jwks_uri: bool,
}

impl ValidationOptions {
    /// For tests only: accepts an `http` `jwks_uri`. A key set fetched over
    /// plain HTTP can be replaced by anyone on the path, who then
    /// authenticates as the client.
    pub fn allow_http_jwks_uri_for_testing(mut self, allow: bool) -> Self {
        self.allow_http_jwks_uri = allow;
        self
    }
}

/// A client whose metadata passed [`ClientMetadata::validate`], with what
/// authentication needs parsed once. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    inner: Arc<Registered>,
}

#[derive(Debug)]
struct Registered {
    metadata: ClientMetadata,
    subject: Option<SubjectParameter>,
    jwks_thumbprints: Vec<Thumbprint>,
    trust_anchors: Option<TrustStore>,
    issuer_pin: Option<[u8; 32]>,
    trust_config_id: [u8; 32],
}

impl RegisteredClient {
    /// The metadata as registered.
    pub fn metadata(&self) -> &ClientMetadata {
        &self.inner.metadata
    }

    /// `client_id`.
    pub fn client_id(&self) -> &str {
        &self.inner.metadata.client_id
    }

    /// The registered method.
    pub fn method(&self) -> &TokenEndpointAuthMethod {
        &self.inner.metadata.token_endpoint_auth_method
    }

    /// The subject parameter, for a `tls_client_auth` client.
    pub fn subject_parameter(&self) -> Option<&SubjectParameter> {
        self.inner.subject.as_ref()
    }

    /// The `x5t#S256` of `x5c[0]` of each key of the registered `jwks`.
    pub fn jwks_thumbprints(&self) -> &[Thumbprint] {
        &self.inner.jwks_thumbprints
    }

    /// The client's own trust anchors, which replace the global ones.
    pub fn trust_anchors(&self) -> Option<&TrustStore> {
        self.inner.trust_anchors.as_ref()
    }

    /// The SHA-256 of the issuing CA's SubjectPublicKeyInfo the client pinned.
    pub fn issuer_spki_sha256(&self) -> Option<&[u8; 32]> {
        self.inner.issuer_pin.as_ref()
    }

    /// A digest of the trust configuration (anchors and pin), so a cached
    /// verification is not reused after the registration changes them.
    pub(crate) fn trust_config_id(&self) -> [u8; 32] {
        self.inner.trust_config_id
    }

    /// `tls_client_certificate_bound_access_tokens`.
    pub fn bound_access_tokens(&self) -> bool {
        self.inner
            .metadata
            .tls_client_certificate_bound_access_tokens
    }
}

impl TryFrom<ClientMetadata> for RegisteredClient {
    type Error = ClientMetadataError;

    fn try_from(m: ClientMetadata) -> Result<Self, Self::Error> {
        m.validate()
    }
}

/// RFC 7591 §2: "The "jwks_uri" and "jwks" parameters MUST NOT both be
/// present", whatever the method.
fn jwks_and_jwks_uri_together() -> ClientMetadataError {
    ClientMetadataError::new(
        "jwks_uri",
        "jwks and jwks_uri must not both be given (RFC 7591 §2)",
    )
}

fn non_empty(field: &'static str, v: &str) -> Result<(), ClientMetadataError> {
    if v.trim().is_empty() {
        Err(ClientMetadataError::new(field, "must not be empty"))
    } else {
        Ok(())
    }
}

impl ClientMetadata {
    /// Metadata with a `client_id` and a method, everything else empty.
    pub fn new(client_id: impl Into<String>, method: TokenEndpointAuthMethod) -> Self {
        Self {
            client_id: client_id.into(),
            token_endpoint_auth_method: method,
            ..Self::default()
        }
    }

    /// Checks the registration (RFC 8705 §2.1.2, §2.2; RFC 7591 §2) and
    /// parses what authentication needs.
    ///
    /// - `client_id` is not empty;
    /// - `jwks` and `jwks_uri` are not both given, whatever the method
    ///   (RFC 7591 §2);
    /// - `tls_client_auth` has exactly one subject parameter, a DN that
    ///   parses, an IP that parses, others non-empty;
    /// - `self_signed_tls_client_auth` has a `jwks` with at least one `x5c`
    ///   certificate, or an `https` `jwks_uri`;
    /// - certbound's trust anchors are CA certificates (basicConstraints
    ///   CA:TRUE, keyCertSign when keyUsage is present) usable as anchors,
    ///   and the issuer pin is a SHA-256 digest.
    pub fn validate(self) -> Result<RegisteredClient, ClientMetadataError> {
        self.validate_with(ValidationOptions::default())
    }

    /// [`validate`](Self::validate) with these options.
    pub fn validate_with(
        self,
        options: ValidationOptions,
    ) -> Result<RegisteredClient, ClientMetadataError> {
        non_empty("client_id", &self.client_id)?;
        if self.jwks.is_some() && self.jwks_uri.is_some() {
            return Err(jwks_and_jwks_uri_together());
        }
        let mut subject = None;
        let mut jwks_thumbprints = Vec::new();
        match &self.token_endpoint_auth_method {
            TokenEndpointAuthMethod::TlsClientAuth => subject = Some(self.subject_parameter()?),
            TokenEndpointAuthMethod::SelfSignedTlsClientAuth => {
                jwks_thumbprints = self.jwks_for_self_signed(options)?;
            }
            _ => {}
        }
        let trust_anchors = self
            .certbound_trust_anchors
            .as_deref()
            .map(parse_anchors)
            .transpose()?;
        let issuer_pin = self
            .certbound_issuer_spki_sha256
            .as_deref()
            .map(parse_pin)
            .transpose()?;
        let mut id = Sha256::new();
        if let Some(store) = &trust_anchors {
            for cert in store.certificates() {
                id.update(cert.thumbprint().as_bytes());
            }
        }
        id.update([u8::from(trust_anchors.is_some())]);
        if let Some(pin) = &issuer_pin {
            id.update(pin);
        }
        Ok(RegisteredClient {
            inner: Arc::new(Registered {
                metadata: self,
                subject,
                jwks_thumbprints,
                trust_anchors,
                issuer_pin,
                trust_config_id: id.finalize().into(),
            }),
        })
    }

    fn subject_parameter(&self) -> Result<SubjectParameter, ClientMetadataError> {
        let given: Vec<(&'static str, &String)> = [
            (
                "tls_client_auth_subject_dn",
                &self.tls_client_auth_subject_dn,
            ),
            ("tls_client_auth_san_dns", &self.tls_client_auth_san_dns),
            ("tls_client_auth_san_uri", &self.tls_client_auth_san_uri),
            ("tls_client_auth_san_ip", &self.tls_client_auth_san_ip),
            ("tls_client_auth_san_email", &self.tls_client_auth_san_email),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.as_ref().map(|v| (name, v)))
        .collect();
        let (field, value) = match given.as_slice() {
            [] => {
                return Err(ClientMetadataError::new(
                    "tls_client_auth_subject_dn",
                    "tls_client_auth needs exactly one of tls_client_auth_subject_dn, \
                     tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, \
                     tls_client_auth_san_email; none is given",
                ));
            }
            [one] => *one,
            [(first, _), (second, _), ..] => {
                return Err(ClientMetadataError::new(
                    second,
                    format!(
                        "tls_client_auth needs exactly one subject parameter; {first} is also given"
                    ),
                ));
            }
        };
        non_empty(field, value)?;
        Ok(match field {
            "tls_client_auth_subject_dn" => SubjectParameter::SubjectDn(
                value
                    .parse::<DistinguishedName>()
                    .map_err(|e| ClientMetadataError::new(field, e.to_string()))?,
            ),
            "tls_client_auth_san_ip" => {
                value
                    .trim()
                    .parse::<std::net::IpAddr>()
                    .map_err(|_| ClientMetadataError::new(field, "not an IPv4 or IPv6 address"))?;
                SubjectParameter::SanIp(value.clone())
            }
            "tls_client_auth_san_dns" => SubjectParameter::SanDns(value.clone()),
            "tls_client_auth_san_uri" => {
                if !value.contains(':') {
                    return Err(ClientMetadataError::new(field, "not a URI (no scheme)"));
                }
                SubjectParameter::SanUri(value.clone())
            }
            _ => {
                if !value.contains('@') {
                    return Err(ClientMetadataError::new(field, "not an email address"));
                }
                SubjectParameter::SanEmail(value.clone())
            }
        })
    }

    fn jwks_for_self_signed(
        &self,
        options: ValidationOptions,
    ) -> Result<Vec<Thumbprint>, ClientMetadataError> {
        match (&self.jwks, &self.jwks_uri) {
            // Refused for every method before this is called.
            (Some(_), Some(_)) => Err(jwks_and_jwks_uri_together()),
            (None, None) => Err(ClientMetadataError::new(
                "jwks",
                "self_signed_tls_client_auth needs jwks with x5c certificates, or jwks_uri",
            )),
            (None, Some(uri)) => {
                non_empty("jwks_uri", uri)?;
                let scheme = uri.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
                match scheme.as_deref() {
                    Some("https") => {}
                    Some("http") if options.allow_http_jwks_uri => {}
                    Some("http") => {
                        return Err(ClientMetadataError::new(
                            "jwks_uri",
                            "must be https: a key set fetched over http can be replaced in transit",
                        ));
                    }
                    _ => return Err(ClientMetadataError::new("jwks_uri", "not an https URI")),
                }
                Ok(Vec::new())
            }
            (Some(jwks), None) => {
                let (thumbprints, errors) = jwks.x5c_thumbprints();
                if let Some(e) = errors.into_iter().next() {
                    return Err(ClientMetadataError::new("jwks", e));
                }
                if thumbprints.is_empty() {
                    return Err(ClientMetadataError::new(
                        "jwks",
                        "no key has an x5c certificate",
                    ));
                }
                Ok(thumbprints)
            }
        }
    }
}

fn parse_anchors(list: &[String]) -> Result<TrustStore, ClientMetadataError> {
    const FIELD: &str = "certbound_trust_anchors";
    if list.is_empty() {
        return Err(ClientMetadataError::new(FIELD, "must not be empty"));
    }
    let mut certs = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let parsed = if entry.contains("-----BEGIN") {
            pem::parse_certificates(entry).map_err(|e| e.to_string())
        } else {
            let compact: String = entry.split_whitespace().collect();
            STANDARD
                .decode(compact.as_bytes())
                .map_err(|e| e.to_string())
                .and_then(|der| {
                    Certificate::from_der(der)
                        .map(|c| vec![c])
                        .map_err(|e| e.to_string())
                })
        };
        certs.extend(parsed.map_err(|e| ClientMetadataError::new(FIELD, format!("[{i}]: {e}")))?);
    }
    TrustStore::from_certificates(certs).map_err(|e| ClientMetadataError::new(FIELD, e.to_string()))
}

fn parse_pin(text: &str) -> Result<[u8; 32], ClientMetadataError> {
    const FIELD: &str = "certbound_issuer_spki_sha256";
    let trimmed = text.trim().trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(trimmed.as_bytes())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed.as_bytes()))
        .map_err(|_| ClientMetadataError::new(FIELD, "not base64url"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        ClientMetadataError::new(
            FIELD,
            format!("a SHA-256 digest has 32 bytes, this has {}", bytes.len()),
        )
    })
}

/// The SHA-256 of a certificate's SubjectPublicKeyInfo, base64url, as
/// registered in `certbound_issuer_spki_sha256`.
pub fn spki_sha256(cert: &Certificate) -> Result<String, certbound_cert::CertError> {
    let parsed = cert.parsed()?;
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(parsed.public_key().raw)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::{TestCa, self_signed};

    fn tls(fields: &[(&str, &str)]) -> ClientMetadata {
        let mut v = serde_json::json!({
            "client_id": "c",
            "token_endpoint_auth_method": "tls_client_auth",
        });
        for (k, val) in fields {
            v[*k] = (*val).into();
        }
        serde_json::from_value(v).unwrap()
    }

    fn field_of(m: ClientMetadata) -> &'static str {
        m.validate().unwrap_err().field()
    }

    #[test]
    fn tls_client_auth_without_subject_parameter_is_refused() {
        let err = tls(&[]).validate().unwrap_err();
        assert_eq!(err.field(), "tls_client_auth_subject_dn");
        assert!(err.description().contains("exactly one"));
        assert_eq!(err.to_oauth_error().code(), Some("invalid_client_metadata"));
    }

    #[test]
    fn tls_client_auth_with_two_subject_parameters_is_refused() {
        let err = tls(&[
            ("tls_client_auth_subject_dn", "CN=a"),
            ("tls_client_auth_san_dns", "a.example"),
        ])
        .validate()
        .unwrap_err();
        assert_eq!(err.field(), "tls_client_auth_san_dns");
        assert!(err.description().contains("tls_client_auth_subject_dn"));
    }

    #[test]
    fn subject_dn_that_does_not_parse_is_refused() {
        assert_eq!(
            field_of(tls(&[("tls_client_auth_subject_dn", "/C=GB/CN=a")])),
            "tls_client_auth_subject_dn"
        );
        assert_eq!(
            field_of(tls(&[("tls_client_auth_subject_dn", "CN")])),
            "tls_client_auth_subject_dn"
        );
    }

    #[test]
    fn san_ip_that_does_not_parse_is_refused() {
        assert_eq!(
            field_of(tls(&[("tls_client_auth_san_ip", "192.0.2.300")])),
            "tls_client_auth_san_ip"
        );
        tls(&[("tls_client_auth_san_ip", "2001:db8::1")])
            .validate()
            .unwrap();
    }

    #[test]
    fn empty_subject_parameters_are_refused() {
        assert_eq!(
            field_of(tls(&[("tls_client_auth_san_dns", " ")])),
            "tls_client_auth_san_dns"
        );
        assert_eq!(
            field_of(tls(&[("tls_client_auth_san_uri", "no-scheme")])),
            "tls_client_auth_san_uri"
        );
        assert_eq!(
            field_of(tls(&[("tls_client_auth_san_email", "nobody")])),
            "tls_client_auth_san_email"
        );
    }

    #[test]
    fn self_signed_needs_jwks_with_x5c_or_jwks_uri() {
        let mut m = ClientMetadata::new("c", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
        assert_eq!(m.clone().validate().unwrap_err().field(), "jwks");
        m.jwks = Some(ClientJwks {
            keys: vec![ClientJwk::default()],
        });
        let err = m.clone().validate().unwrap_err();
        assert_eq!(err.field(), "jwks");
        assert!(err.description().contains("x5c"));
        m.jwks = Some(ClientJwks {
            keys: vec![ClientJwk {
                x5c: Some(vec!["bm90IGEgY2VydA==".into()]),
                ..ClientJwk::default()
            }],
        });
        assert_eq!(m.clone().validate().unwrap_err().field(), "jwks");
        let cert = Certificate::from_pem(&self_signed("c").issue().pem).unwrap();
        m.jwks = Some(ClientJwks::from_certificates([&cert]));
        let client = m.clone().validate().unwrap();
        assert_eq!(client.jwks_thumbprints(), [cert.thumbprint()]);
        m.jwks_uri = Some("https://c.example/jwks".into());
        assert_eq!(m.clone().validate().unwrap_err().field(), "jwks_uri");
        m.jwks = None;
        m.clone().validate().unwrap();
        m.jwks_uri = Some("c.example/jwks".into());
        assert_eq!(m.validate().unwrap_err().field(), "jwks_uri");
    }

    #[test]
    fn jwks_and_jwks_uri_together_are_refused_for_every_method() {
        for method in [
            "tls_client_auth",
            "self_signed_tls_client_auth",
            "private_key_jwt",
            "client_secret_basic",
            "none",
        ] {
            let m: ClientMetadata = serde_json::from_value(serde_json::json!({
                "client_id": "bank-1",
                "token_endpoint_auth_method": method,
                "tls_client_auth_subject_dn": "CN=bank-1,O=Example Bank,C=GB",
                "jwks": {"keys": []},
                "jwks_uri": "https://bank-1.example/jwks"
            }))
            .unwrap();
            let err = m.clone().validate().unwrap_err();
            assert_eq!(err.field(), "jwks_uri", "{method}");
            assert!(
                err.description().contains("must not both be given"),
                "{method}: {err}"
            );
            assert_eq!(err.to_oauth_error().code(), Some("invalid_client_metadata"));
            // Either one alone is not refused for that reason.
            let mut only_uri = m.clone();
            only_uri.jwks = None;
            let mut only_jwks = m;
            only_jwks.jwks_uri = None;
            for one in [only_uri, only_jwks] {
                if let Err(e) = one.validate() {
                    assert!(
                        !e.description().contains("must not both be given"),
                        "{method}: {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn jwks_uri_must_be_https_unless_http_is_allowed_for_testing() {
        let mut m = ClientMetadata::new("c", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
        m.jwks_uri = Some("HTTPS://c.example/jwks".into());
        m.clone().validate().unwrap();
        m.jwks_uri = Some("http://c.example/jwks".into());
        let err = m.clone().validate().unwrap_err();
        assert_eq!(err.field(), "jwks_uri");
        assert!(err.description().contains("https"), "{err}");
        let testing = ValidationOptions::default().allow_http_jwks_uri_for_testing(true);
        m.clone().validate_with(testing).unwrap();
        m.jwks_uri = Some("ftp://c.example/jwks".into());
        assert_eq!(m.validate_with(testing).unwrap_err().field(), "jwks_uri");
    }

    #[test]
    fn trust_anchors_must_be_ca_certificates() {
        use certbound_testkit::rcgen::{IsCa, KeyUsagePurpose};
        let ca = TestCa::new("Own CA");
        let mut m = tls(&[("tls_client_auth_subject_dn", "CN=a")]);
        // A leaf: basicConstraints CA:FALSE.
        m.certbound_trust_anchors = Some(vec![ca.leaf("not a ca").issue().pem]);
        let err = m.clone().validate().unwrap_err();
        assert_eq!(err.field(), "certbound_trust_anchors");
        assert!(err.description().contains("CA:TRUE"), "{err}");
        // A self-signed certificate without basicConstraints.
        m.certbound_trust_anchors = Some(vec![self_signed("no constraints").issue().pem]);
        let err = m.clone().validate().unwrap_err();
        assert!(err.description().contains("CA:TRUE"), "{err}");
        // CA:TRUE, but keyUsage without keyCertSign.
        let no_cert_sign = self_signed("no keyCertSign")
            .params(|p| {
                p.is_ca = IsCa::Ca(certbound_testkit::rcgen::BasicConstraints::Unconstrained);
                p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign];
            })
            .issue();
        m.certbound_trust_anchors = Some(vec![no_cert_sign.pem]);
        let err = m.clone().validate().unwrap_err();
        assert_eq!(err.field(), "certbound_trust_anchors");
        assert!(err.description().contains("keyCertSign"), "{err}");
        m.certbound_trust_anchors = Some(vec![ca.cert.pem.clone()]);
        m.validate().unwrap();
    }

    #[test]
    fn trust_anchors_and_pin_must_parse() {
        let ca = TestCa::new("Own CA");
        let mut m = tls(&[("tls_client_auth_subject_dn", "CN=a")]);
        m.certbound_trust_anchors = Some(vec!["garbage".into()]);
        assert_eq!(
            m.clone().validate().unwrap_err().field(),
            "certbound_trust_anchors"
        );
        m.certbound_trust_anchors = Some(vec![ca.cert.pem.clone(), STANDARD.encode(&ca.cert.der)]);
        assert_eq!(
            m.clone().validate().unwrap().trust_anchors().unwrap().len(),
            2
        );
        m.certbound_issuer_spki_sha256 = Some("AAAA".into());
        assert_eq!(
            m.clone().validate().unwrap_err().field(),
            "certbound_issuer_spki_sha256"
        );
        m.certbound_issuer_spki_sha256 =
            Some(spki_sha256(&Certificate::from_pem(&ca.cert.pem).unwrap()).unwrap());
        assert!(m.validate().unwrap().issuer_spki_sha256().is_some());
    }

    #[test]
    fn client_id_must_not_be_empty() {
        let m = ClientMetadata::new("", TokenEndpointAuthMethod::ClientSecretBasic);
        assert_eq!(m.validate().unwrap_err().field(), "client_id");
    }

    #[test]
    fn standard_json_round_trips_with_unknown_fields() {
        let json = serde_json::json!({
            "client_id": "c",
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_san_uri": "spiffe://example.org/c",
            "tls_client_certificate_bound_access_tokens": true,
            "client_name": "Example",
            "grant_types": ["client_credentials"],
        });
        let m: ClientMetadata = serde_json::from_value(json.clone()).unwrap();
        assert!(m.tls_client_certificate_bound_access_tokens);
        assert_eq!(m.other["client_name"], "Example");
        assert_eq!(serde_json::to_value(&m).unwrap(), json);
        let absent: ClientMetadata = serde_json::from_str(r#"{"client_id":"x"}"#).unwrap();
        assert_eq!(
            absent.token_endpoint_auth_method,
            TokenEndpointAuthMethod::ClientSecretBasic
        );
    }
}
