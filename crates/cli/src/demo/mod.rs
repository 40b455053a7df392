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
//!   a token bound to the certificate presented with it.
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

use certbound_auth::{
    Authenticator, ClientJwks, ClientMetadata, SelfSignedTlsClientAuth, TlsClientAuth,
    TokenEndpointAuthMethod, TrustStore, registry_from_metadata,
};
use certbound_binding::{JwsAlg, JwtValidator, TypCheck};
use certbound_cert::Certificate;
use certbound_discovery::{AuthorizationServerMetadata, Endpoint};
use certbound_extract::header::HeaderFormat;
use certbound_extract::{ClientCertLayer, HeaderSource};
use http::HeaderName;
use ipnet::IpNet;
use serde_json::json;
use tokio::task::JoinHandle;

pub use pki::{DemoPki, Identity};

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
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            out: PathBuf::from("certbound-demo"),
            addr: SocketAddr::from(([127, 0, 0, 1], 8443)),
            mtls_addr: SocketAddr::from(([127, 0, 0, 1], 8444)),
            rs_addr: SocketAddr::from(([127, 0, 0, 1], 8445)),
            behind_proxy: None,
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
    tasks: Vec<JoinHandle<()>>,
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
    let pki = DemoPki::generate()?;
    pki.write(&config.out)?;
    let clients = registrations(&pki)?;
    let clients_json =
        serde_json::to_string_pretty(&clients).map_err(|e| DemoError::Config(e.to_string()))?;
    std::fs::write(config.out.join("clients.json"), clients_json + "\n")
        .map_err(|e| DemoError::Io(format!("{}: {e}", config.out.display())))?;

    // Bind first, so that port 0 resolves before the URLs are published.
    let mut tasks = Vec::new();
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
            };
            (Some(front), Some(mtls), Some(rs), urls)
        }
        Some(proxy) => {
            let base = proxy.public_url.trim_end_matches('/').to_owned();
            let urls = DemoUrls {
                issuer: base.clone(),
                mtls_base: base.clone(),
                resource: format!("{base}/resource"),
            };
            (None, None, None, urls)
        }
    };

    let registry =
        registry_from_metadata(clients.clone()).map_err(|e| DemoError::Config(e.to_string()))?;
    let trust =
        TrustStore::from_pem(&pki.ca.cert_pem).map_err(|e| DemoError::Config(e.to_string()))?;
    let authenticator = Authenticator::builder(registry)
        .tls_client_auth(TlsClientAuth::new(trust))
        .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
        .build();

    let mut methods: Vec<String> = authenticator
        .supported_methods()
        .iter()
        .map(|m| m.to_string())
        .collect();
    methods.push(TokenEndpointAuthMethod::None.to_string());
    let metadata = AuthorizationServerMetadata::builder(urls.issuer.clone())
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
        .tls_client_certificate_bound_access_tokens(true)
        .grant_types(["client_credentials", "authorization_code", "refresh_token"])
        .response_types(["code"])
        .code_challenge_methods(["S256"])
        .mtls_base_url(urls.mtls_base.clone())
        .build()
        .map_err(|e| DemoError::Config(e.to_string()))?;

    let (signer, jwks, kid) = authz::signing_key()?;
    let jwk_set = josekit::jwk::JwkSet::from_map(jwks.as_object().cloned().unwrap_or_default())
        .map_err(|e| DemoError::Config(e.to_string()))?;
    let rs_base = urls.resource.trim_end_matches("/resource").to_owned();
    let validator = Arc::new(
        JwtValidator::builder(&jwk_set)
            .issuer(urls.issuer.clone())
            .audience(rs_base.clone())
            .algorithms([JwsAlg::Es256])
            .typ(TypCheck::Strict)
            .build()
            .map_err(|e| DemoError::Config(e.to_string()))?,
    );
    let clients_by_id: HashMap<String, ClientMetadata> = clients
        .iter()
        .map(|c| (c.client_id.clone(), c.clone()))
        .collect();
    let state = Arc::new(authz::AsState::new(
        urls.issuer.clone(),
        rs_base,
        signer,
        kid,
        clients_by_id,
    ));

    let front_app = authz::front_router(state.clone(), &metadata, jwks)?;
    let mtls_app = authz::mtls_router(state.clone(), authenticator, validator.clone());

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
            let rs_app = resource::service(validator, from_tls);
            tasks.push(tls::serve_tls(rs, mutual, rs_app));
        }
        (_, _, _, Some(proxy)) => {
            let listener = tls::bind(proxy.listen).await?;
            let source = HeaderSource::new(proxy.cert_format)
                .header_name(proxy.cert_header.clone())
                .trusted_proxies(proxy.trusted_proxies.iter().copied());
            let app = front_app
                .merge(mtls_app)
                .merge(resource::router(validator))
                .layer(ClientCertLayer::header(source));
            tasks.push(tls::serve_plain(listener, app));
        }
        _ => return Err(DemoError::Config("listeners not bound".into())),
    }

    let urls_json =
        serde_json::to_string_pretty(&urls).map_err(|e| DemoError::Config(e.to_string()))?;
    std::fs::write(config.out.join("urls.json"), urls_json + "\n")
        .map_err(|e| DemoError::Io(format!("{}: {e}", config.out.display())))?;

    Ok(RunningDemo {
        urls,
        pki,
        clients,
        tasks,
    })
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
  PKI and registrations: {d}/ (ca.pem, *.pem/*.key, clients.json, urls.json)

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

Every scenario at once: certbound demo --self-test

Stop with Ctrl-C.
",
        issuer = u.issuer,
        mtls = u.mtls_base,
        resource = u.resource,
        pki = curl("pki-client"),
        san = curl("san-client"),
        ss = curl("self-signed-client"),
        intruder = curl("intruder"),
        public = curl("public-client"),
        redirect = client::form_encode(PUBLIC_CLIENT_REDIRECT_URI),
        redirect_raw = PUBLIC_CLIENT_REDIRECT_URI,
    )
}
