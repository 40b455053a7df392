//! The demo authorization server: discovery, `/authorize` (auto-approved,
//! PKCE), `/jwks`, and on the mTLS host `/token`, `/introspect`, `/revoke`
//! and `/userinfo`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certbound_auth::{
    AuthenticatedClient, Authenticator, ClientAuthLayer, ClientMetadata, TokenEndpointAuthMethod,
};
use certbound_binding::{
    AccessToken, AccessTokenIssuer, BindingPolicy, BoundTokenLayer, ClientBinding, JwksService,
    JwtValidator, RefreshToken, RefreshTokenBinding, TokenBinding, VerifiedToken,
};
use certbound_discovery::{AuthorizationServerMetadata, MetadataService};
use certbound_extract::ClientCert;
use certbound_oauth::OAuthError;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tower::Layer as _;

use super::DemoError;

/// Access tokens live this long.
pub(crate) const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(300);
/// Authorization codes live this long (RFC 6749 §4.1.2: short-lived).
const CODE_TTL: Duration = Duration::from_secs(60);
/// Refresh tokens live this long.
const REFRESH_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// At most this many unredeemed authorization codes are live: `/authorize`
/// asks for no authentication and approves every request, so beyond this
/// it answers `503 temporarily_unavailable` until codes expire or are
/// redeemed.
const MAX_CODES: usize = 1024;
/// At most this many refresh tokens are live: anyone can obtain one for
/// `public-client` (auto-approved `/authorize`, then the code), so beyond
/// this the authorization code grant answers `503 temporarily_unavailable`
/// until refresh tokens expire or are revoked.
const MAX_REFRESH_GRANTS: usize = 4096;
/// At most this many access tokens are live (each for `ACCESS_TOKEN_TTL`):
/// a holder of a refresh token can ask for access tokens in a loop, so
/// beyond this the token endpoint answers `503 temporarily_unavailable`
/// until access tokens expire or are revoked.
const MAX_ISSUED: usize = 16384;

struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
}

struct RefreshGrant {
    client_id: String,
    binding: Option<RefreshTokenBinding>,
}

struct IssuedToken {
    /// The client it was issued to: the one that may revoke it.
    client_id: String,
    /// The refresh token it was issued under, if any: revoking that one
    /// revokes this one too (RFC 7009 §2.1).
    grant: Option<String>,
    /// What introspection answers.
    record: Map<String, Value>,
}

/// Values keyed by token that expire: an entry past its time is never
/// returned, and is dropped at a later insertion (expired entries are
/// pruned at most once a second, and whenever the map is full), so the map
/// holds what is live and no more.
struct Expiring<V> {
    entries: HashMap<String, (u64, V)>,
    pruned_at: u64,
}

impl<V> Default for Expiring<V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            pruned_at: 0,
        }
    }
}

/// The map already holds its maximum of live entries.
struct Full;

impl<V> Expiring<V> {
    /// The live value for `key`.
    fn get(&self, key: &str, now: u64) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|(expires_at, _)| *expires_at > now)
            .map(|(_, v)| v)
    }

    /// Removes `key`, returning its value if it was live.
    fn remove(&mut self, key: &str, now: u64) -> Option<V> {
        self.entries
            .remove(key)
            .filter(|(expires_at, _)| *expires_at > now)
            .map(|(_, v)| v)
    }

    /// Keeps the entries whose value satisfies `keep`.
    fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        self.entries.retain(|_, (_, v)| keep(v));
    }

    /// Inserts `value` until `expires_at` (seconds since the epoch), after
    /// dropping expired entries; refused when `max` live entries are held.
    fn insert(
        &mut self,
        key: String,
        value: V,
        expires_at: u64,
        now: u64,
        max: usize,
    ) -> Result<(), Full> {
        if now != self.pruned_at || self.entries.len() >= max {
            self.entries.retain(|_, (expires_at, _)| *expires_at > now);
            self.pruned_at = now;
        }
        if self.entries.len() >= max {
            return Err(Full);
        }
        self.entries.insert(key, (expires_at, value));
        Ok(())
    }
}

/// Stores `value` under `key` in `entries` until `expires_at` (seconds
/// since the epoch), or the refusal: `temporarily_unavailable` (503) when
/// `max` live entries are already held (logged with `what` the entries
/// are), `server_error` when the state is unavailable.
fn store<V>(
    what: &'static str,
    entries: &Mutex<Expiring<V>>,
    key: String,
    value: V,
    expires_at: u64,
    now: u64,
    max: usize,
) -> Result<(), OAuthError> {
    let stored = entries
        .lock()
        .map(|mut e| e.insert(key, value, expires_at, now, max));
    match stored {
        Ok(Ok(())) => Ok(()),
        Ok(Err(Full)) => {
            tracing::warn!(max, "too many live {what}: request refused");
            Err(OAuthError::temporarily_unavailable(
                "too many live tokens or grants, try again later",
            ))
        }
        Err(_) => Err(OAuthError::server_error("state unavailable")),
    }
}

/// Why a revocation was not done.
enum RevokeError {
    /// The token was issued to this other client.
    OtherClient(String),
    /// The state is unavailable (a poisoned lock).
    State,
}

/// The authorization server's state.
pub(crate) struct AsState {
    /// Mints the access tokens, with the ring's current key.
    pub(crate) tokens: AccessTokenIssuer,
    pub(crate) audience: String,
    pub(crate) clients: HashMap<String, ClientMetadata>,
    pub(crate) policy: BindingPolicy,
    codes: Mutex<Expiring<CodeGrant>>,
    refresh: Mutex<Expiring<RefreshGrant>>,
    issued: Mutex<Expiring<IssuedToken>>,
}

impl AsState {
    pub(crate) fn new(
        tokens: AccessTokenIssuer,
        audience: String,
        clients: HashMap<String, ClientMetadata>,
    ) -> Self {
        Self {
            tokens,
            audience,
            clients,
            // RFC 8705 §4: tokens of public clients are bound to the
            // certificate they present, so bind whenever one is presented.
            policy: BindingPolicy::new().bind_whenever_certificate_presented(true),
            codes: Mutex::default(),
            refresh: Mutex::default(),
            issued: Mutex::default(),
        }
    }

    /// Revokes `token` for `client_id` (RFC 7009 §2.1): an access token or
    /// a refresh token issued to that client, and with a refresh token the
    /// access tokens issued under it. A token of another client is left
    /// alone and refused; an unknown or expired token needs nothing done.
    fn revoke(&self, token: &str, client_id: &str) -> Result<(), RevokeError> {
        let now = now_secs();
        {
            let mut issued = self.issued.lock().map_err(|_| RevokeError::State)?;
            if let Some(t) = issued.get(token, now) {
                if t.client_id != client_id {
                    return Err(RevokeError::OtherClient(t.client_id.clone()));
                }
                issued.remove(token, now);
                return Ok(());
            }
        }
        // The grant's lock is held until its access tokens are gone, and
        // `issue_access_token` records a token under a grant only while
        // holding it too (the same order: `refresh`, then `issued`), so no
        // token issued under the grant outlives its revocation.
        let mut grants = self.refresh.lock().map_err(|_| RevokeError::State)?;
        match grants.get(token, now) {
            None => return Ok(()),
            Some(g) if g.client_id != client_id => {
                return Err(RevokeError::OtherClient(g.client_id.clone()));
            }
            Some(_) => {
                grants.remove(token, now);
            }
        }
        let mut issued = self.issued.lock().map_err(|_| RevokeError::State)?;
        issued.retain(|t| t.grant.as_deref() != Some(token));
        Ok(())
    }
}

type Shared = Arc<AsState>;

fn random_token() -> String {
    let mut bytes = [0u8; 24];
    let provider = rustls::crypto::ring::default_provider();
    if provider.secure_random.fill(&mut bytes).is_err() {
        // ring's random source does not fail on supported platforms; a
        // constant would be unsafe, so fall back to the clock and a hash.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes.copy_from_slice(&Sha256::digest(nanos.to_be_bytes())[..24]);
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The plain-TLS host: discovery, `/authorize`, `/jwks`.
pub(crate) fn front_router(
    state: Shared,
    metadata: &AuthorizationServerMetadata,
    jwks: JwksService,
) -> Result<Router, DemoError> {
    let discovery = MetadataService::new(metadata).map_err(|e| DemoError::Config(e.to_string()))?;
    Ok(Router::new()
        .route_service("/.well-known/oauth-authorization-server", discovery.clone())
        .route_service("/.well-known/openid-configuration", discovery)
        .route("/authorize", get(authorize))
        .route_service("/jwks", jwks)
        .with_state(state))
}

/// The mTLS host: `/token`, `/introspect`, `/revoke` behind client
/// authentication (the public client passes by its `client_id` to `/token`
/// and `/revoke`), `/userinfo` behind the bound-token check.
pub(crate) fn mtls_router(
    state: Shared,
    authenticator: Authenticator,
    validator: Arc<JwtValidator>,
) -> Router {
    let auth = ClientAuthLayer::new(authenticator);
    let token = Router::new()
        .route("/token", post(token))
        .with_state(state.clone());
    let introspect = Router::new()
        .route("/introspect", post(introspect))
        .with_state(state.clone());
    let revoke = Router::new()
        .route("/revoke", post(revoke))
        .with_state(state.clone());
    let userinfo = Router::new()
        .route("/userinfo", get(userinfo))
        .with_state(state)
        .layer(BoundTokenLayer::from_arc(validator));
    Router::new()
        .route_service("/token", auth.clone().layer(token))
        .route_service("/introspect", auth.clone().layer(introspect))
        .route_service("/revoke", auth.layer(revoke))
        .merge(userinfo)
}

async fn authorize(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let client_id = get("client_id");
    let Some(client) = state.clients.get(client_id) else {
        return OAuthError::invalid_request("unknown client_id").into_response();
    };
    let redirect_uri = get("redirect_uri");
    let registered = client
        .other
        .get("redirect_uris")
        .and_then(Value::as_array)
        .is_some_and(|uris| uris.iter().any(|u| u.as_str() == Some(redirect_uri)));
    if !registered {
        return OAuthError::invalid_request("redirect_uri is not registered").into_response();
    }
    if get("response_type") != "code" {
        return OAuthError::unsupported_response_type("only code is supported").into_response();
    }
    if get("code_challenge_method") != "S256" {
        return OAuthError::invalid_request("PKCE with S256 is required").into_response();
    }
    let code_challenge = get("code_challenge");
    if !is_code_challenge(code_challenge) {
        return OAuthError::invalid_request(
            "code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.2)",
        )
        .into_response();
    }
    let code = random_token();
    let now = now_secs();
    let grant = CodeGrant {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        code_challenge: code_challenge.to_owned(),
    };
    let stored = store(
        "authorization codes",
        &state.codes,
        code.clone(),
        grant,
        now + CODE_TTL.as_secs(),
        now,
        MAX_CODES,
    );
    if let Err(refused) = stored {
        return refused.into_response();
    }
    // Auto-approved: the demo has no login page.
    let mut location = format!("{redirect_uri}?code={code}");
    if !get("state").is_empty() {
        location.push_str("&state=");
        location.push_str(&super::client::form_encode(get("state")));
    }
    let mut res = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

async fn token(
    State(state): State<Shared>,
    client: Option<Extension<AuthenticatedClient>>,
    cert: Option<Extension<ClientCert>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let cert = cert.map(|Extension(c)| c);
    match get("grant_type") {
        "client_credentials" => {
            let Some(Extension(client)) = client else {
                return OAuthError::invalid_client(
                    "client_credentials needs an authenticated confidential client",
                )
                .into_response();
            };
            let binding =
                ClientBinding::confidential().bound_tokens_required(client.bound_access_tokens());
            let decided = match state.policy.decide(binding, Some(client.certificate())) {
                Ok(d) => d,
                Err(e) => return e.to_oauth_error().into_response(),
            };
            match issue_access_token(&state, client.client_id(), &decided, get("scope"), None) {
                Ok(access) => token_response(&access, None),
                Err(e) => e.into_response(),
            }
        }
        "authorization_code" => {
            let client_id = get("client_id");
            let Some(registration) =
                public_or_authenticated(&state, client_id, client.as_ref().map(|c| &c.0))
            else {
                return OAuthError::invalid_client("client authentication failed").into_response();
            };
            let now = now_secs();
            let grant = state
                .codes
                .lock()
                .ok()
                .and_then(|mut c| c.remove(get("code"), now));
            let Some(grant) = grant else {
                return OAuthError::invalid_grant("unknown, used or expired code").into_response();
            };
            if grant.client_id != client_id || grant.redirect_uri != get("redirect_uri") {
                return OAuthError::invalid_grant(
                    "code was issued to another client or redirect_uri",
                )
                .into_response();
            }
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(get("code_verifier").as_bytes()));
            if challenge != grant.code_challenge {
                return OAuthError::invalid_grant("PKCE verification failed").into_response();
            }
            let binding = client_binding(&registration);
            let decided = match state.policy.decide(binding, cert.as_ref()) {
                Ok(d) => d,
                Err(e) => return e.to_oauth_error().into_response(),
            };
            // RFC 8705 §4: a public client's refresh token is bound to the
            // certificate its access token is bound to.
            let refresh = match RefreshToken::generate(&decided) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "refresh token generation failed");
                    return OAuthError::server_error("token generation failed").into_response();
                }
            };
            let (value, binding) = refresh.clone().into_parts();
            // The refresh grant first: when there is no room for it, no
            // access token is issued either.
            let grant = RefreshGrant {
                client_id: client_id.to_owned(),
                binding,
            };
            let stored = store(
                "refresh tokens",
                &state.refresh,
                value.clone(),
                grant,
                now + REFRESH_TOKEN_TTL.as_secs(),
                now,
                MAX_REFRESH_GRANTS,
            );
            if let Err(refused) = stored {
                return refused.into_response();
            }
            match issue_access_token(&state, client_id, &decided, get("scope"), Some(&value)) {
                Ok(access) => token_response(&access, Some(&refresh)),
                Err(e) => {
                    if let Ok(mut r) = state.refresh.lock() {
                        r.remove(&value, now);
                    }
                    e.into_response()
                }
            }
        }
        "refresh_token" => {
            let client_id = get("client_id");
            let Some(registration) =
                public_or_authenticated(&state, client_id, client.as_ref().map(|c| &c.0))
            else {
                return OAuthError::invalid_client("client authentication failed").into_response();
            };
            // A revoked refresh token is no longer held, nor an expired one.
            let refresh_token = get("refresh_token");
            let binding_of_grant = {
                let Ok(grants) = state.refresh.lock() else {
                    return OAuthError::server_error("state unavailable").into_response();
                };
                match grants.get(refresh_token, now_secs()) {
                    Some(g) if g.client_id == client_id => Some(g.binding),
                    _ => None,
                }
            };
            let Some(refresh_binding) = binding_of_grant else {
                return OAuthError::invalid_grant("unknown, expired or revoked refresh token")
                    .into_response();
            };
            // RFC 8705 §4: a bound refresh token is only good with its certificate.
            if let Some(b) = &refresh_binding {
                if let Err(e) = b.check(cert.as_ref()) {
                    return e.to_oauth_error().into_response();
                }
            }
            let decided = match state
                .policy
                .decide(client_binding(&registration), cert.as_ref())
            {
                Ok(d) => d,
                Err(e) => return e.to_oauth_error().into_response(),
            };
            match issue_access_token(
                &state,
                client_id,
                &decided,
                get("scope"),
                Some(refresh_token),
            ) {
                Ok(access) => token_response(&access, None),
                Err(e) => e.into_response(),
            }
        }
        "" => OAuthError::invalid_request("grant_type is missing").into_response(),
        _ => OAuthError::unsupported_grant_type("unsupported grant_type").into_response(),
    }
}

/// Whether `challenge` is a `code_challenge` by RFC 7636 §4.2's syntax:
/// 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
fn is_code_challenge(challenge: &str) -> bool {
    (43..=128).contains(&challenge.len())
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The registration of a public client (method `none`), or of the
/// authenticated client with this id.
fn public_or_authenticated(
    state: &AsState,
    client_id: &str,
    authenticated: Option<&AuthenticatedClient>,
) -> Option<ClientMetadata> {
    if let Some(client) = authenticated {
        return (client.client_id() == client_id).then(|| client.registration().metadata().clone());
    }
    state
        .clients
        .get(client_id)
        .filter(|c| c.token_endpoint_auth_method == TokenEndpointAuthMethod::None)
        .cloned()
}

fn client_binding(registration: &ClientMetadata) -> ClientBinding {
    let base = if registration.token_endpoint_auth_method == TokenEndpointAuthMethod::None {
        ClientBinding::public()
    } else {
        ClientBinding::confidential()
    };
    base.bound_tokens_required(registration.tls_client_certificate_bound_access_tokens)
}

/// Mints an RFC 9068 access token with the key ring's current key, and
/// records what introspection answers about it (until it expires), and the
/// refresh token `grant` it was issued under.
fn issue_access_token(
    state: &AsState,
    client_id: &str,
    binding: &TokenBinding,
    scope: &str,
    grant: Option<&str>,
) -> Result<AccessToken, OAuthError> {
    let mut builder = state
        .tokens
        .access_token(client_id, binding)
        .audience(state.audience.clone())
        .lifetime(ACCESS_TOKEN_TTL);
    if !scope.is_empty() {
        builder = builder.scope(scope);
    }
    let token = builder.sign().map_err(|e| {
        tracing::warn!(error = %e, "access token signing failed");
        OAuthError::server_error("token generation failed")
    })?;

    let mut record = Map::new();
    record.insert("active".into(), json!(true));
    record.insert("iss".into(), json!(state.tokens.issuer()));
    record.insert("sub".into(), json!(client_id));
    record.insert("client_id".into(), json!(client_id));
    record.insert("aud".into(), json!(state.audience));
    record.insert("iat".into(), json!(secs(token.issued_at())));
    record.insert("exp".into(), json!(secs(token.expires_at())));
    record.insert("jti".into(), json!(token.jti()));
    record.insert("token_type".into(), json!("Bearer"));
    if !scope.is_empty() {
        record.insert("scope".into(), json!(scope));
    }
    if let Some(cnf) = binding.access_token_confirmation() {
        cnf.insert_into_introspection(&mut record);
    }
    // Under a refresh token, recorded only while that grant is still held,
    // with its lock held (see `AsState::revoke`).
    let now = now_secs();
    let grants = match grant {
        Some(grant) => {
            let grants = state
                .refresh
                .lock()
                .map_err(|_| OAuthError::server_error("state unavailable"))?;
            if grants.get(grant, now).is_none() {
                return Err(OAuthError::invalid_grant(
                    "unknown, expired or revoked refresh token",
                ));
            }
            Some(grants)
        }
        None => None,
    };
    let record = IssuedToken {
        client_id: client_id.to_owned(),
        grant: grant.map(str::to_owned),
        record,
    };
    let expires_at = secs(token.expires_at());
    let key = token.as_str().to_owned();
    store(
        "access tokens",
        &state.issued,
        key,
        record,
        expires_at,
        now,
        MAX_ISSUED,
    )?;
    drop(grants);
    Ok(token)
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

fn token_response(access: &AccessToken, refresh: Option<&RefreshToken>) -> Response {
    no_store_json(access.token_response(refresh))
}

/// A JSON answer that must not be cached (RFC 6749 §5.1, RFC 7662 §2.2).
fn no_store_json(body: Value) -> Response {
    let mut res = Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Introspection (RFC 7662) for authenticated clients: the extractor
/// answers 401 invalid_client to anyone else.
async fn introspect(
    State(state): State<Shared>,
    _client: AuthenticatedClient,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let token = form.get("token").map(String::as_str).unwrap_or("");
    // Revoked tokens are no longer held, nor expired ones.
    let record = state
        .issued
        .lock()
        .ok()
        .and_then(|issued| issued.get(token, now_secs()).map(|t| t.record.clone()));
    no_store_json(
        record
            .map(Value::Object)
            .unwrap_or_else(|| json!({"active": false})),
    )
}

/// Revocation (RFC 7009) by the client a token was issued to: an
/// mTLS-authenticated client, or the public client by its `client_id` (as
/// at the token endpoint). A token of another client is refused (§2.1);
/// an unknown, expired or already revoked token is answered `200` (§2.2).
async fn revoke(
    State(state): State<Shared>,
    client: Option<Extension<AuthenticatedClient>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let client_id = get("client_id");
    if public_or_authenticated(&state, client_id, client.as_ref().map(|c| &c.0)).is_none() {
        return OAuthError::invalid_client("client authentication failed").into_response();
    }
    let token = get("token");
    if token.is_empty() {
        return OAuthError::invalid_request("token is missing").into_response();
    }
    match state.revoke(token, client_id) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(RevokeError::OtherClient(owner)) => {
            tracing::debug!(
                client_id,
                issued_to = %owner,
                "revocation refused: the token was issued to another client"
            );
            OAuthError::unauthorized_client("the client may not revoke this token").into_response()
        }
        Err(RevokeError::State) => OAuthError::server_error("state unavailable").into_response(),
    }
}

async fn userinfo(
    State(state): State<Shared>,
    Extension(token): Extension<VerifiedToken>,
) -> Response {
    let sub = token.claims().subject().unwrap_or_default().to_owned();
    let bound = token.bound_thumbprint().map(|t| t.to_string());
    let _ = &state;
    Json(json!({"sub": sub, "x5t#S256": bound})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_entries_are_not_returned_and_are_dropped_at_the_next_insertion() {
        let mut map = Expiring::default();
        assert!(map.insert("a".into(), 1, 110, 100, 8).is_ok());
        assert!(map.insert("b".into(), 2, 200, 100, 8).is_ok());
        assert_eq!(map.get("a", 109), Some(&1));
        assert_eq!(map.get("a", 110), None);
        assert!(map.insert("c".into(), 3, 300, 110, 8).is_ok());
        assert!(!map.entries.contains_key("a"));
        assert_eq!(map.entries.len(), 2);
        assert_eq!(map.remove("b", 200), None);
    }

    #[test]
    fn a_full_map_refuses_until_entries_expire() {
        let mut map = Expiring::default();
        for i in 0..4 {
            assert!(map.insert(format!("{i}"), i, 160, 100, 4).is_ok());
        }
        // Full of live entries, even within the same second.
        assert!(map.insert("x".into(), 9, 160, 100, 4).is_err());
        assert!(map.insert("x".into(), 9, 160, 159, 4).is_err());
        // Once they expire, there is room again.
        assert!(map.insert("x".into(), 9, 260, 160, 4).is_ok());
        assert_eq!(map.entries.len(), 1);
    }

    #[test]
    fn code_challenge_syntax_is_rfc_7636s() {
        assert!(is_code_challenge(&"a".repeat(43)));
        assert!(is_code_challenge(&"Az09-._~".repeat(16)));
        assert!(!is_code_challenge(&"a".repeat(42)));
        assert!(!is_code_challenge(&"a".repeat(129)));
        assert!(!is_code_challenge(&format!("{}/", "a".repeat(42))));
        assert!(!is_code_challenge(&format!("{}é", "a".repeat(42))));
    }
}
