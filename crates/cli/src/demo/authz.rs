//! The demo authorization server: discovery, `/authorize` (auto-approved,
//! PKCE), `/jwks`, and on the mTLS host `/token`, `/introspect`, `/revoke`
//! and `/userinfo`.

use std::collections::{HashMap, HashSet};
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
    record: Map<String, Value>,
}

/// The authorization server's state.
pub(crate) struct AsState {
    /// Mints the access tokens, with the ring's current key.
    pub(crate) tokens: AccessTokenIssuer,
    pub(crate) audience: String,
    pub(crate) clients: HashMap<String, ClientMetadata>,
    pub(crate) policy: BindingPolicy,
    codes: Mutex<HashMap<String, CodeGrant>>,
    refresh: Mutex<HashMap<String, RefreshGrant>>,
    issued: Mutex<HashMap<String, IssuedToken>>,
    revoked: Mutex<HashSet<String>>,
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
            revoked: Mutex::default(),
        }
    }

    pub(crate) fn is_revoked(&self, token: &str) -> bool {
        self.revoked
            .lock()
            .map(|r| r.contains(token))
            .unwrap_or(true)
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
/// authentication, `/userinfo` behind the bound-token check.
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
    if get("code_challenge_method") != "S256" || get("code_challenge").is_empty() {
        return OAuthError::invalid_request("PKCE with S256 is required").into_response();
    }
    let code = random_token();
    if let Ok(mut codes) = state.codes.lock() {
        codes.insert(
            code.clone(),
            CodeGrant {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                code_challenge: get("code_challenge").to_owned(),
            },
        );
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
            match issue_access_token(&state, client.client_id(), &decided, get("scope")) {
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
            let grant = state
                .codes
                .lock()
                .ok()
                .and_then(|mut c| c.remove(get("code")));
            let Some(grant) = grant else {
                return OAuthError::invalid_grant("unknown or used code").into_response();
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
            let access = match issue_access_token(&state, client_id, &decided, get("scope")) {
                Ok(access) => access,
                Err(e) => return e.into_response(),
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
            if let Ok(mut r) = state.refresh.lock() {
                let (value, binding) = refresh.clone().into_parts();
                r.insert(
                    value,
                    RefreshGrant {
                        client_id: client_id.to_owned(),
                        binding,
                    },
                );
            }
            token_response(&access, Some(&refresh))
        }
        "refresh_token" => {
            let client_id = get("client_id");
            let Some(registration) =
                public_or_authenticated(&state, client_id, client.as_ref().map(|c| &c.0))
            else {
                return OAuthError::invalid_client("client authentication failed").into_response();
            };
            let binding_of_grant = {
                let Ok(grants) = state.refresh.lock() else {
                    return OAuthError::server_error("state unavailable").into_response();
                };
                match grants.get(get("refresh_token")) {
                    Some(g) if g.client_id == client_id => Some(g.binding),
                    _ => None,
                }
            };
            let Some(refresh_binding) = binding_of_grant else {
                return OAuthError::invalid_grant("unknown refresh token").into_response();
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
            match issue_access_token(&state, client_id, &decided, get("scope")) {
                Ok(access) => token_response(&access, None),
                Err(e) => e.into_response(),
            }
        }
        "" => OAuthError::invalid_request("grant_type is missing").into_response(),
        _ => OAuthError::unsupported_grant_type("unsupported grant_type").into_response(),
    }
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
/// records what introspection answers about it.
fn issue_access_token(
    state: &AsState,
    client_id: &str,
    binding: &TokenBinding,
    scope: &str,
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
    if let Ok(mut issued) = state.issued.lock() {
        issued.insert(token.as_str().to_owned(), IssuedToken { record });
    }
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
    let record = if state.is_revoked(token) {
        None
    } else {
        state
            .issued
            .lock()
            .ok()
            .and_then(|issued| issued.get(token).map(|t| t.record.clone()))
            .filter(|r| {
                r.get("exp")
                    .and_then(Value::as_u64)
                    .is_some_and(|exp| exp > now_secs())
            })
    };
    no_store_json(
        record
            .map(Value::Object)
            .unwrap_or_else(|| json!({"active": false})),
    )
}

/// Revocation (RFC 7009) for authenticated clients.
async fn revoke(
    State(state): State<Shared>,
    _client: AuthenticatedClient,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let (Some(token), Ok(mut revoked)) = (form.get("token"), state.revoked.lock()) {
        revoked.insert(token.clone());
    }
    StatusCode::OK.into_response()
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
