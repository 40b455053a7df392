//! `certbound demo`: an authorization server and a resource server on
//! loopback over real TLS, with a throw-away PKI and a few registered
//! clients.
//!
//! Three hosts (defaults in parentheses, any port may be `0`):
//!
//! - the authorization server's plain-TLS host (`127.0.0.1:8443`):
//!   discovery at `/.well-known/oauth-authorization-server` and
//!   `/.well-known/openid-configuration`, `/authorize`, `/jwks`; no client
//!   certificate asked;
//! - its mTLS host (`127.0.0.1:8444`), published as `mtls_endpoint_aliases`:
//!   `/token`, `/introspect`, `/revoke`, `/userinfo`; any client certificate
//!   accepted by TLS (`AcceptAnyClientCert`), the application decides;
//! - the resource server (`127.0.0.1:8445`): `GET /resource` answers only to
//!   a token bound to the certificate presented with it. It learns the
//!   authorization server's signing keys from its `jwks_uri` over HTTPS
//!   (RFC 8414 metadata, then the JWKS), refetching on an unknown `kid`;
//! - the demo CA's CRL over plain HTTP (`127.0.0.1:8446`, `/ca.crl`), the
//!   CRL distribution point of the client certificates it issues; the
//!   authorization server follows it and refreshes it on a schedule.
//!
//! With `behind_proxy`, all of it is served on one plain-HTTP listener for a
//! TLS-terminating proxy that forwards the client certificate in a header.

mod authz;
pub mod client;
pub mod pki;
mod resource;
pub mod selftest;
mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use certbound_auth::{
    Authenticator, ClientJwks, ClientMetadata, SelfSignedTlsClientAuth, TlsClientAuth,
    TokenEndpointAuthMethod, TrustStore, registry_from_metadata,
};
use certbound_binding::{
    AccessTokenIssuer, FetchedDocument, JwksService, JwsAlg, JwtValidator, KeyRefresh,
    KeySetFetchError, SigningKeyRing, TypCheck,
};
use certbound_cert::Certificate;
use certbound_discovery::{AuthorizationServerMetadata, Endpoint};
use certbound_extract::header::HeaderFormat;
use certbound_extract::{ClientCertLayer, HeaderSource};
use certbound_fetch::Fetcher;
use http::HeaderName;
use ipnet::IpNet;
use serde_json::json;
use tokio::task::JoinHandle;

pub use pki::{DemoPki, Identity, revoke};

/// Why the demo could not start or run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// Generating the PKI or the signing key failed.
    #[error("PKI: {0}")]
    Pki(String),
    /// A file or socket operation failed.
    #[error("{0}")]
    Io(String),
    /// TLS configuration or handshake failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// An HTTP exchange failed.
    #[error("HTTP: {0}")]
    Http(String),
    /// The configuration is inconsistent.
    #[error("configuration: {0}")]
    Config(String),
}

/// Running behind a TLS-terminating reverse proxy.
#[derive(Debug, Clone)]
pub struct ProxyMode {
    /// The plain-HTTP listener the proxy forwards to.
    pub listen: SocketAddr,
    /// The proxy's external base URL, e.g. `https://127.0.0.1:9443`.
    pub public_url: String,
    /// The proxies whose certificate header is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The header carrying the client certificate.
    pub cert_header: HeaderName,
    /// Its format.
    pub cert_format: HeaderFormat,
}

/// What the demo serves and where.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Where the PKI, `clients.json` and `urls.json` are written.
    pub out: PathBuf,
    /// The authorization server's plain-TLS host.
    pub addr: SocketAddr,
    /// The authorization server's mTLS host.
    pub mtls_addr: SocketAddr,
    /// The resource server.
    pub rs_addr: SocketAddr,
    /// Behind a proxy instead of terminating TLS.
    pub behind_proxy: Option<ProxyMode>,
    /// The plain-HTTP listener that publishes the demo CA's CRL (`/ca.crl`,
    /// read from `out` on each request); port `0` picks a free port, and the
    /// client certificates name the port actually bound.
    pub crl_addr: SocketAddr,
    /// How often the authorization server fetches the CRL again.
    pub crl_refresh: Duration,
    /// Rotates the authorization server's signing key on this schedule.
    pub rotate_signing_key: Option<Duration>,
    /// The shortest time between two JWKS fetches of the resource server
    /// for tokens whose `kid` it does not know; never more than
    /// `rotate_signing_key`.
    pub unknown_kid_interval: Duration,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            out: PathBuf::from("certbound-demo"),
            addr: SocketAddr::from(([127, 0, 0, 1], 8443)),
            mtls_addr: SocketAddr::from(([127, 0, 0, 1], 8444)),
            rs_addr: SocketAddr::from(([127, 0, 0, 1], 8445)),
            behind_proxy: None,
            crl_addr: SocketAddr::from(([127, 0, 0, 1], 8446)),
            crl_refresh: Duration::from_secs(300),
            rotate_signing_key: None,
            unknown_kid_interval: Duration::from_secs(10),
        }
    }
}

/// The demo's public URLs, as written to `urls.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DemoUrls {
    /// The issuer (the plain-TLS host, or the proxy's URL).
    pub issuer: String,
    /// The base URL of the mTLS aliases.
    pub mtls_base: String,
    /// The full URL of `GET /resource`.
    pub resource: String,
    /// The demo CA's CRL (plain HTTP), named as the CRL distribution point
    /// of the client certificates it issues.
    pub crl: String,
}

/// A running demo; dropping it stops the servers.
#[derive(Debug)]
pub struct RunningDemo {
    /// Where it listens.
    pub urls: DemoUrls,
    /// Its PKI.
    pub pki: DemoPki,
    /// The registrations it serves.
    pub clients: Vec<ClientMetadata>,
    out: PathBuf,
    signing_keys: SigningKeyRing,
    authenticator: Authenticator,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningDemo {
    /// The authorization server's signing key ring: the key that signs the
    /// access tokens, and the keys its `/jwks` publishes.
    pub fn signing_keys(&self) -> &SigningKeyRing {
        &self.signing_keys
    }

    /// Rotates the authorization server's signing key now (as
    /// `--rotate-signing-key` does on a schedule); the previous key stays
    /// published until the tokens it signed have expired. Returns the new
    /// `kid`.
    pub fn rotate_signing_key(&self) -> Result<String, DemoError> {
        self.signing_keys
            .rotate()
            .map_err(|e| DemoError::Pki(e.to_string()))
    }

    /// Adds `client`'s certificate to the demo CA's CRL in the output
    /// directory, as `certbound demo revoke` does; the authorization server
    /// sees it at its next CRL refresh (or [`refresh_crls`](Self::refresh_crls)).
    pub fn revoke(&self, client: &str) -> Result<(), DemoError> {
        pki::revoke(&self.out, client)
    }

    /// Makes the authorization server fetch the CRL now, and returns when
    /// done.
    pub async fn refresh_crls(&self) {
        self.authenticator.refresh_crls().await;
    }
}

impl Drop for RunningDemo {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The redirect URI registered for `public-client`.
pub const PUBLIC_CLIENT_REDIRECT_URI: &str = "http://127.0.0.1/callback";

fn registrations(pki: &DemoPki) -> Result<Vec<ClientMetadata>, DemoError> {
    let self_signed = Certificate::from_der(pki.self_signed_client.cert_der.clone())
        .map_err(|e| DemoError::Pki(e.to_string()))?;
    let jwks = ClientJwks::from_certificates([&self_signed]);
    let value = json!([
        {
            "client_id": "pki-client",
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": pki::PKI_CLIENT_DN,
            "tls_client_certificate_bound_access_tokens": true,
            "grant_types": ["client_credentials"]
        },
        {
            "client_id": "san-client",
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_san_dns": pki::SAN_CLIENT_DNS,
            "tls_client_certificate_bound_access_tokens": true,
            "grant_types": ["client_credentials"]
        },
        {
            "client_id": "self-signed-client",
            "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "jwks": jwks,
            "tls_client_certificate_bound_access_tokens": true,
            "grant_types": ["client_credentials"]
        },
        {
            "client_id": "public-client",
            "token_endpoint_auth_method": "none",
            "redirect_uris": [PUBLIC_CLIENT_REDIRECT_URI],
            "tls_client_certificate_bound_access_tokens": true,
            "grant_types": ["authorization_code", "refresh_token"]
        }
    ]);
    serde_json::from_value(value).map_err(|e| DemoError::Config(e.to_string()))
}

fn url_of(scheme: &str, addr: SocketAddr) -> String {
    format!("{scheme}://{addr}")
}

/// Starts the demo: generates the PKI, writes the files, binds the
/// listeners and serves until the returned value is dropped.
pub async fn start(config: &DemoConfig) -> Result<RunningDemo, DemoError> {
    // The CRL's URL goes into the client certificates: bind its listener
    // first, so that port 0 resolves before the PKI is made.
    let crl_listener = tls::bind(config.crl_addr).await?;
    let crl_local = crl_listener
        .local_addr()
        .map_err(|e| DemoError::Io(e.to_string()))?;
    let crl_url = format!("http://{crl_local}/{}", pki::CRL_FILE);
    let pki = DemoPki::generate_with_crl(Some(&crl_url))?;
    pki.write(&config.out)?;
    let clients = registrations(&pki)?;
    let clients_json =
        serde_json::to_string_pretty(&clients).map_err(|e| DemoError::Config(e.to_string()))?;
    std::fs::write(config.out.join("clients.json"), clients_json + "\n")
        .map_err(|e| DemoError::Io(format!("{}: {e}", config.out.display())))?;

    // Bind first, so that port 0 resolves before the URLs are published.
    let mut tasks = vec![serve_crl(crl_listener, config.out.clone())];
    let (front, mtls, rs, urls) = match &config.behind_proxy {
        None => {
            let front = tls::bind(config.addr).await?;
            let mtls = tls::bind(config.mtls_addr).await?;
            let rs = tls::bind(config.rs_addr).await?;
            let local = |l: &tokio::net::TcpListener| {
                l.local_addr().map_err(|e| DemoError::Io(e.to_string()))
            };
            let urls = DemoUrls {
                issuer: url_of("https", local(&front)?),
                mtls_base: url_of("https", local(&mtls)?),
                resource: format!("{}/resource", url_of("https", local(&rs)?)),
                crl: crl_url.clone(),
            };
            (Some(front), Some(mtls), Some(rs), urls)
        }
        Some(proxy) => {
            let base = proxy.public_url.trim_end_matches('/').to_owned();
            let urls = DemoUrls {
                issuer: base.clone(),
                mtls_base: base.clone(),
                resource: format!("{base}/resource"),
                crl: crl_url.clone(),
            };
            (None, None, None, urls)
        }
    };

    let registry =
        registry_from_metadata(clients.clone()).map_err(|e| DemoError::Config(e.to_string()))?;
    let trust =
        TrustStore::from_pem(&pki.ca.cert_pem).map_err(|e| DemoError::Config(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // CRLs are operator URLs: plain http allowed for them alone.
    let crl_fetcher = Fetcher::for_operator_urls()
        .crypto_provider(provider.clone())
        .build()
        .map_err(|e| DemoError::Config(e.to_string()))?;
    // The CRL at its URL is fetched at start-up, so that a client's first
    // request is checked too; the distribution points in presented
    // certificates are followed besides (they name the same URL here).
    let tls_client_auth = TlsClientAuth::new(trust)
        .crl_url(crl_url.clone())
        .crl_distribution_points(true)
        .crl_fetcher(crl_fetcher)
        .crl_refresh_interval(config.crl_refresh);
    let authenticator = Authenticator::builder(registry)
        .tls_client_auth(tls_client_auth)
        .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
        .build()
        .map_err(|e| DemoError::Config(e.to_string()))?;

    // The mTLS methods at every endpoint; `none` (the public client, by its
    // `client_id`) at the token and revocation endpoints, not at
    // introspection, which answers authenticated clients only.
    let methods: Vec<String> = authenticator
        .supported_methods()
        .iter()
        .map(|m| m.to_string())
        .collect();
    let none = TokenEndpointAuthMethod::None.to_string();
    let mut metadata = AuthorizationServerMetadata::builder(urls.issuer.clone())
        .endpoint(
            Endpoint::Authorization,
            format!("{}/authorize", urls.issuer),
        )
        .endpoint(Endpoint::Token, format!("{}/token", urls.issuer))
        .endpoint(
            Endpoint::Introspection,
            format!("{}/introspect", urls.issuer),
        )
        .endpoint(Endpoint::Revocation, format!("{}/revoke", urls.issuer))
        .endpoint(Endpoint::Userinfo, format!("{}/userinfo", urls.issuer))
        .endpoint(Endpoint::JwksUri, format!("{}/jwks", urls.issuer))
        .auth_methods(methods)
        .token_endpoint_auth_methods([none.clone()])
        .tls_client_certificate_bound_access_tokens(true)
        .grant_types(["client_credentials", "authorization_code", "refresh_token"])
        .response_types(["code"])
        .code_challenge_methods(["S256"])
        .mtls_base_url(urls.mtls_base.clone())
        .build()
        .map_err(|e| DemoError::Config(e.to_string()))?;
    metadata
        .revocation_endpoint_auth_methods_supported
        .get_or_insert_with(Vec::new)
        .push(none);

    let ring = SigningKeyRing::builder()
        .algorithm(JwsAlg::Es256)
        .max_token_lifetime(authz::ACCESS_TOKEN_TTL)
        .build()
        .map_err(|e| DemoError::Pki(e.to_string()))?;
    let mut unknown_kid_interval = config.unknown_kid_interval;
    if let Some(every) = config.rotate_signing_key {
        tasks.push(
            ring.spawn_rotation(every)
                .map_err(|e| DemoError::Config(e.to_string()))?,
        );
        unknown_kid_interval = unknown_kid_interval.min(every);
    }
    let rs_base = urls.resource.trim_end_matches("/resource").to_owned();
    let key_refresh = KeyRefresh::default()
        .unknown_kid_interval(unknown_kid_interval)
        .retry_interval(Duration::from_secs(1));
    let validator = match &config.behind_proxy {
        // The resource server knows the authorization server only by its
        // issuer: RFC 8414 metadata, then the jwks_uri, over HTTPS with the
        // demo CA as the extra trust anchor.
        None => {
            let fetcher = Fetcher::for_operator_urls()
                .crypto_provider(provider)
                .add_root_certificate(pki.ca.cert_der.clone().into())
                .build()
                .map_err(|e| DemoError::Config(e.to_string()))?;
            JwtValidator::from_issuer(urls.issuer.clone(), fetcher)
        }
        // Behind a proxy the public URL may be plain http, and the proxy
        // may start after the demo: the keys come from the ring's JWKS
        // document in process, through the same refreshing key source.
        Some(_) => {
            let ring = ring.clone();
            JwtValidator::from_jwks_uri(format!("{}/jwks", urls.issuer), move |_url: String| {
                let body = ring.jwks_json();
                async move { Ok::<_, KeySetFetchError>(FetchedDocument::new(body.to_vec(), None)) }
            })
            .issuer(urls.issuer.clone())
        }
    };
    let validator = Arc::new(
        validator
            .audience(rs_base.clone())
            .algorithms([JwsAlg::Es256])
            .typ(TypCheck::Strict)
            .key_refresh(key_refresh)
            .build()
            .map_err(|e| DemoError::Config(e.to_string()))?,
    );
    let clients_by_id: HashMap<String, ClientMetadata> = clients
        .iter()
        .map(|c| (c.client_id.clone(), c.clone()))
        .collect();
    let state = Arc::new(authz::AsState::new(
        AccessTokenIssuer::new(ring.clone(), urls.issuer.clone()),
        rs_base,
        clients_by_id,
    ));

    let front_app = authz::front_router(state.clone(), &metadata, JwksService::new(ring.clone()))?;
    let mtls_app = authz::mtls_router(state.clone(), authenticator.clone(), validator.clone());

    match (front, mtls, rs, &config.behind_proxy) {
        (Some(front), Some(mtls), Some(rs), None) => {
            let plain = tls::server_config(&pki.server, tls::ClientCerts::None)?;
            let mutual = tls::server_config(&pki.server, tls::ClientCerts::AcceptAny)?;
            let from_tls = ClientCertLayer::tls();
            // The top-level endpoints of the metadata are served on the
            // plain host too (RFC 8705 §5): a client there presents no
            // certificate, so only unbound grants of public clients succeed.
            let front_app = front_app.merge(mtls_app.clone()).layer(from_tls.clone());
            tasks.push(tls::serve_tls(front, plain, front_app));
            tasks.push(tls::serve_tls(
                mtls,
                mutual.clone(),
                mtls_app.layer(from_tls.clone()),
            ));
            let rs_app = resource::service(validator.clone(), from_tls);
            tasks.push(tls::serve_tls(rs, mutual, rs_app));
        }
        (_, _, _, Some(proxy)) => {
            let listener = tls::bind(proxy.listen).await?;
            let source = HeaderSource::new(proxy.cert_format)
                .header_name(proxy.cert_header.clone())
                .trusted_proxies(proxy.trusted_proxies.iter().copied());
            let app = front_app
                .merge(mtls_app)
                .merge(resource::router(validator.clone()))
                .layer(ClientCertLayer::header(source));
            tasks.push(tls::serve_plain(listener, app));
        }
        _ => return Err(DemoError::Config("listeners not bound".into())),
    }

    let urls_json =
        serde_json::to_string_pretty(&urls).map_err(|e| DemoError::Config(e.to_string()))?;
    std::fs::write(config.out.join("urls.json"), urls_json + "\n")
        .map_err(|e| DemoError::Io(format!("{}: {e}", config.out.display())))?;

    // Serve only once the resource server has the keys (a bounded wait:
    // it keeps fetching in the background either way).
    if tokio::time::timeout(Duration::from_secs(10), validator.ready())
        .await
        .is_err()
    {
        tracing::warn!("the resource server has not loaded the authorization server's keys yet");
    }

    Ok(RunningDemo {
        urls,
        pki,
        clients,
        out: config.out.clone(),
        signing_keys: ring,
        authenticator,
        tasks,
    })
}

/// The largest CRL file the CRL listener serves.
const MAX_CRL_FILE: u64 = 10 << 20;

/// Serves `out/ca.crl` at `/ca.crl` over plain HTTP, read on each request
/// (so `certbound demo revoke` needs no restart).
fn serve_crl(listener: tokio::net::TcpListener, out: PathBuf) -> JoinHandle<()> {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;

    let path = out.join(pki::CRL_FILE);
    let app = axum::Router::new().route(
        &format!("/{}", pki::CRL_FILE),
        axum::routing::get(move || {
            let path = path.clone();
            async move {
                let read = std::fs::metadata(&path).and_then(|m| {
                    if m.len() > MAX_CRL_FILE {
                        Err(std::io::Error::other("CRL file too large"))
                    } else {
                        std::fs::read(&path)
                    }
                });
                match read {
                    Ok(der) => {
                        ([(header::CONTENT_TYPE, "application/pkix-crl")], der).into_response()
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "CRL file unreadable");
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }
                }
            }
        }),
    );
    tls::serve_plain(listener, app)
}

/// What to try, with a `curl` command per scenario.
pub fn instructions(demo: &RunningDemo, out: &std::path::Path) -> String {
    let d = out.display();
    let u = &demo.urls;
    let curl = |cert: &str| {
        format!("curl -s --cacert {d}/ca.pem --cert {d}/{cert}.pem --key {d}/{cert}.key")
    };
    format!(
        "certbound demo is running.

  issuer (discovery, /authorize): {issuer}
  mTLS endpoints (token, introspection, revocation, userinfo): {mtls}
  resource server: {resource}
  the demo CA's CRL (the client certificates' distribution point): {crl}
  PKI and registrations: {d}/ (ca.pem, ca.key, ca.crl, *.pem/*.key, clients.json, urls.json)

Discovery:
  curl -s --cacert {d}/ca.pem {issuer}/.well-known/oauth-authorization-server

A certificate-bound token for pki-client (tls_client_auth, subject DN):
  TOKEN=$({pki} -d grant_type=client_credentials -d client_id=pki-client {mtls}/token | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')
  {pki} -H \"Authorization: Bearer $TOKEN\" {resource}      # 200, bound and matching
  {intruder} -H \"Authorization: Bearer $TOKEN\" {resource}  # 401 invalid_token: other certificate

The same for san-client (tls_client_auth, SAN dNSName) and self-signed-client (self_signed_tls_client_auth):
  {san} -d grant_type=client_credentials -d client_id=san-client {mtls}/token
  {ss} -d grant_type=client_credentials -d client_id=self-signed-client {mtls}/token

Refused:
  {intruder} -d grant_type=client_credentials -d client_id=pki-client {mtls}/token   # 401 invalid_client
  {pki} -d grant_type=client_credentials -d client_id=san-client {mtls}/token        # 401 invalid_client

Introspection (shows cnf):
  {pki} -d client_id=pki-client -d token=$TOKEN {mtls}/introspect

Public client (authorization_code with PKCE S256, auto-approved; tokens and refresh token bound to public-client.pem):
  VERIFIER=certbound-demo-code-verifier-0123456789-abcdefghijklmnop
  CHALLENGE=$(printf %s \"$VERIFIER\" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
  CODE=$(curl -s -o /dev/null -w '%{{redirect_url}}' --cacert {d}/ca.pem \"{issuer}/authorize?response_type=code&client_id=public-client&redirect_uri={redirect}&code_challenge=$CHALLENGE&code_challenge_method=S256\" | sed 's/.*code=//')
  {public} -d grant_type=authorization_code -d client_id=public-client -d code=$CODE -d redirect_uri={redirect_raw} -d code_verifier=$VERIFIER {mtls}/token
  {public} -d grant_type=refresh_token -d client_id=public-client -d refresh_token=REFRESH {mtls}/token     # 200
  {intruder} -d grant_type=refresh_token -d client_id=public-client -d refresh_token=REFRESH {mtls}/token   # 400 invalid_grant

Revoke pki-client: the demo refuses it after its next CRL refresh (--crl-refresh), no restart:
  certbound demo revoke --out {d} pki-client
  {pki} -d grant_type=client_credentials -d client_id=pki-client {mtls}/token   # then 401 invalid_client

Every scenario at once: certbound demo --self-test

Stop with Ctrl-C.
",
        issuer = u.issuer,
        mtls = u.mtls_base,
        resource = u.resource,
        crl = u.crl,
        pki = curl("pki-client"),
        san = curl("san-client"),
        ss = curl("self-signed-client"),
        intruder = curl("intruder"),
        public = curl("public-client"),
        redirect = client::form_encode(PUBLIC_CLIENT_REDIRECT_URI),
        redirect_raw = PUBLIC_CLIENT_REDIRECT_URI,
    )
}
