//! `certbound demo --self-test`: every scenario, run by a built-in client
//! against a running demo, as a table of scenario, expected and got.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certbound_cert::Certificate;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::client::{DemoClient, Response};
use super::pki::{DemoPki, Identity};
use super::{DemoError, DemoUrls, PUBLIC_CLIENT_REDIRECT_URI, RunningDemo};

/// One scenario's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// What was tried.
    pub scenario: String,
    /// What should happen.
    pub expected: String,
    /// What happened.
    pub got: String,
    /// Whether it held.
    pub ok: bool,
}

/// Formats rows as a table.
pub fn table(rows: &[Row]) -> String {
    let w0 = rows
        .iter()
        .map(|r| r.scenario.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let w1 = rows
        .iter()
        .map(|r| r.expected.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = format!("{:<w0$}  {:<w1$}  {}\n", "scenario", "expected", "got");
    for r in rows {
        out.push_str(&format!(
            "{:<w0$}  {:<w1$}  {}{}\n",
            r.scenario,
            r.expected,
            r.got,
            if r.ok { "" } else { "   <-- FAILED" }
        ));
    }
    let failed = rows.iter().filter(|r| !r.ok).count();
    out.push_str(&format!(
        "{} passed, {failed} failed\n",
        rows.len() - failed
    ));
    out
}

fn thumbprint(id: &Identity) -> String {
    Certificate::from_der(id.cert_der.clone())
        .map(|c| c.thumbprint().to_string())
        .unwrap_or_default()
}

fn summary(res: &Result<Response, DemoError>) -> String {
    match res {
        Ok(r) => {
            let json = r.json();
            match json.get("error").and_then(Value::as_str) {
                Some(e) => format!("{} {e}", r.status.as_u16()),
                None => {
                    let www = r.header("www-authenticate");
                    if www.contains("invalid_token") {
                        format!("{} invalid_token", r.status.as_u16())
                    } else {
                        r.status.as_u16().to_string()
                    }
                }
            }
        }
        Err(e) => format!("error: {e}"),
    }
}

fn jwt_claims(token: &str) -> Value {
    jwt_part(token, 1)
}

fn jwt_part(token: &str, n: usize) -> Value {
    token
        .split('.')
        .nth(n)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

struct Run<'a> {
    urls: &'a DemoUrls,
    pki: &'a DemoPki,
    rows: Vec<Row>,
}

impl Run<'_> {
    fn record(&mut self, scenario: &str, expected: &str, got: String, ok: bool) {
        self.rows.push(Row {
            scenario: scenario.into(),
            expected: expected.into(),
            got,
            ok,
        });
    }

    /// Records a scenario whose outcome is its status summary.
    fn expect(&mut self, scenario: &str, expected: &str, res: &Result<Response, DemoError>) {
        let got = summary(res);
        let ok = got == expected;
        self.record(scenario, expected, got, ok);
    }

    fn client(&self, id: Option<&Identity>) -> Result<DemoClient, DemoError> {
        DemoClient::new(&self.pki.ca.cert_pem, id)
    }

    async fn token(&self, id: &Identity, client_id: &str) -> Result<Response, DemoError> {
        self.client(Some(id))?
            .post_form(
                &format!("{}/token", self.urls.mtls_base),
                &[],
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                ],
            )
            .await
    }

    async fn refresh(&self, id: &Identity, refresh_token: &str) -> Result<Response, DemoError> {
        self.client(Some(id))?
            .post_form(
                &format!("{}/token", self.urls.mtls_base),
                &[],
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", "public-client"),
                    ("refresh_token", refresh_token),
                ],
            )
            .await
    }

    async fn resource(&self, id: Option<&Identity>, token: &str) -> Result<Response, DemoError> {
        let auth = format!("Bearer {token}");
        self.client(id)?
            .get(&self.urls.resource, &[("authorization", auth.as_str())])
            .await
    }
}

/// Runs every scenario against the demo at `urls`.
pub async fn run(urls: &DemoUrls, pki: &DemoPki) -> Vec<Row> {
    let mut run = Run {
        urls,
        pki,
        rows: Vec::new(),
    };
    if let Err(e) = scenarios(&mut run).await {
        run.record("self-test client", "runs", format!("error: {e}"), false);
    }
    run.rows
}

/// Runs every scenario of [`run`], then the day-2 ones, which change the
/// running demo: a token signed after a rotation of the signing key is
/// accepted at the resource server, and `san-client`, once revoked, is
/// refused while the other clients keep working. Run it last: `san-client`
/// stays revoked.
pub async fn run_all(demo: &RunningDemo) -> Vec<Row> {
    let mut run = Run {
        urls: &demo.urls,
        pki: &demo.pki,
        rows: Vec::new(),
    };
    if let Err(e) = scenarios(&mut run).await {
        run.record("self-test client", "runs", format!("error: {e}"), false);
    }
    if let Err(e) = rotation(&mut run, demo).await {
        run.record(
            "self-test client (rotation)",
            "runs",
            format!("error: {e}"),
            false,
        );
    }
    if let Err(e) = revocation(&mut run, demo).await {
        run.record(
            "self-test client (revocation)",
            "runs",
            format!("error: {e}"),
            false,
        );
    }
    run.rows
}

/// How long a day-2 scenario waits for the demo to catch up (a refetch of
/// the keys, a refresh of the CRL) before it records a failure.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(15);
const POLL: std::time::Duration = std::time::Duration::from_millis(250);

async fn rotation(run: &mut Run<'_>, demo: &RunningDemo) -> Result<(), DemoError> {
    let pki = run.pki.clone();
    let before = run.token(&pki.pki_client, "pki-client").await?;
    let before = before.json()["access_token"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let new_kid = demo.rotate_signing_key()?;
    let res = run.token(&pki.pki_client, "pki-client").await;
    let token = res
        .as_ref()
        .map(|r| r.json()["access_token"].as_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    let kid = jwt_part(&token, 0)["kid"].as_str().unwrap_or("").to_owned();
    run.record(
        "token for pki-client after a signing-key rotation",
        "200, signed with the new kid",
        format!("{} kid is new: {}", summary(&res), kid == new_kid),
        !token.is_empty() && kid == new_kid,
    );
    // The resource server has not seen the new kid: it refetches the
    // AS's jwks_uri (at most once per its unknown-kid interval).
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    let mut res = run.resource(Some(&pki.pki_client), &token).await;
    while summary(&res) != "200" && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(POLL).await;
        res = run.resource(Some(&pki.pki_client), &token).await;
    }
    run.expect(
        "resource with a token signed by the rotated-in key",
        "200",
        &res,
    );
    let res = run.resource(Some(&pki.pki_client), &before).await;
    run.expect(
        "resource with a token signed before the rotation",
        "200",
        &res,
    );
    Ok(())
}

async fn revocation(run: &mut Run<'_>, demo: &RunningDemo) -> Result<(), DemoError> {
    let pki = run.pki.clone();
    // A verification of san-client's certificate, cached a moment before.
    let res = run.token(&pki.san_client, "san-client").await;
    run.expect("token for san-client before its revocation", "200", &res);
    demo.refresh_crls().await;
    demo.revoke("san-client")?;
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    let mut res;
    loop {
        demo.refresh_crls().await;
        res = run.token(&pki.san_client, "san-client").await;
        if summary(&res) != "200" || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    run.expect(
        "token for san-client after `demo revoke san-client` and a CRL refresh",
        "401 invalid_client",
        &res,
    );
    for (name, id) in [
        ("pki-client", &pki.pki_client),
        ("self-signed-client", &pki.self_signed_client),
    ] {
        let res = run.token(id, name).await;
        run.expect(
            &format!("token for {name} after san-client's revocation"),
            "200",
            &res,
        );
    }
    Ok(())
}

async fn scenarios(run: &mut Run<'_>) -> Result<(), DemoError> {
    let urls = run.urls.clone();
    let pki = run.pki.clone();

    // Discovery.
    for path in ["oauth-authorization-server", "openid-configuration"] {
        let res = run
            .client(None)?
            .get(&format!("{}/.well-known/{path}", urls.issuer), &[])
            .await;
        let json = res.as_ref().map(Response::json).unwrap_or(Value::Null);
        let alias = json["mtls_endpoint_aliases"]["token_endpoint"]
            .as_str()
            .unwrap_or("");
        let methods = json["token_endpoint_auth_methods_supported"].to_string();
        let ok = res.as_ref().is_ok_and(|r| r.status == 200)
            && json["tls_client_certificate_bound_access_tokens"] == Value::Bool(true)
            && alias == format!("{}/token", urls.mtls_base)
            && methods.contains("\"tls_client_auth\"")
            && methods.contains("\"self_signed_tls_client_auth\"");
        run.record(
            &format!("discovery /.well-known/{path}"),
            "200, bound tokens, mTLS aliases, both methods",
            format!("{} alias={alias} methods={methods}", summary(&res)),
            ok,
        );
    }

    // A bound token for each confidential client, used at the resource server.
    let mut pki_token = String::new();
    for (name, id) in [
        ("pki-client", &pki.pki_client),
        ("san-client", &pki.san_client),
        ("self-signed-client", &pki.self_signed_client),
    ] {
        let res = run.token(id, name).await;
        let token = res
            .as_ref()
            .map(|r| r.json()["access_token"].as_str().unwrap_or("").to_owned())
            .unwrap_or_default();
        let cnf = jwt_claims(&token)["cnf"]["x5t#S256"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let ok = !token.is_empty() && cnf == thumbprint(id);
        run.record(
            &format!("token for {name} with its certificate"),
            "200, cnf.x5t#S256 = its thumbprint",
            format!("{} cnf={cnf}", summary(&res)),
            ok,
        );
        let res = run.resource(Some(id), &token).await;
        let got_client = res
            .as_ref()
            .map(|r| r.json()["client_id"].as_str().unwrap_or("").to_owned())
            .unwrap_or_default();
        run.record(
            &format!("resource with {name}'s token and certificate"),
            "200",
            format!("{} client_id={got_client}", summary(&res)),
            res.as_ref().is_ok_and(|r| r.status == 200) && got_client == name,
        );
        if name == "pki-client" {
            pki_token = token;
        }
    }

    // The bound token with another certificate, or none.
    let res = run.resource(Some(&pki.intruder), &pki_token).await;
    run.expect(
        "resource with pki-client's token, intruder's certificate",
        "401 invalid_token",
        &res,
    );
    let res = run.resource(None, &pki_token).await;
    run.expect(
        "resource with pki-client's token, no certificate",
        "401 invalid_token",
        &res,
    );

    // Refusals at the token endpoint.
    let res = run.token(&pki.intruder, "pki-client").await;
    run.expect(
        "token for pki-client with intruder's certificate",
        "401 invalid_client",
        &res,
    );
    let res = run.token(&pki.pki_client, "san-client").await;
    run.expect(
        "token for san-client with pki-client's certificate",
        "401 invalid_client",
        &res,
    );
    let res = run.token(&pki.self_signed_client, "pki-client").await;
    run.expect(
        "token for pki-client with self-signed-client's certificate",
        "401 invalid_client",
        &res,
    );

    // The plain host serves the top-level token endpoint, where no
    // certificate is asked: confidential mTLS clients are refused there.
    let res = run
        .client(Some(&pki.pki_client))?
        .post_form(
            &format!("{}/token", urls.issuer),
            &[],
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "pki-client"),
            ],
        )
        .await;
    if urls.issuer != urls.mtls_base {
        run.expect(
            "token for pki-client at the non-mTLS token endpoint",
            "401 invalid_client",
            &res,
        );
    }

    // Introspection shows cnf.
    let res = run
        .client(Some(&pki.pki_client))?
        .post_form(
            &format!("{}/introspect", urls.mtls_base),
            &[],
            &[("client_id", "pki-client"), ("token", pki_token.as_str())],
        )
        .await;
    let json = res.as_ref().map(Response::json).unwrap_or(Value::Null);
    let cnf = json["cnf"]["x5t#S256"].as_str().unwrap_or("").to_owned();
    run.record(
        "introspection of pki-client's token",
        "active, cnf.x5t#S256 = pki-client's thumbprint",
        format!("{} active={} cnf={cnf}", summary(&res), json["active"]),
        json["active"] == Value::Bool(true) && cnf == thumbprint(&pki.pki_client),
    );

    // Userinfo on the mTLS host enforces the binding too.
    let auth = format!("Bearer {pki_token}");
    let res = run
        .client(Some(&pki.pki_client))?
        .get(
            &format!("{}/userinfo", urls.mtls_base),
            &[("authorization", auth.as_str())],
        )
        .await;
    run.record(
        "userinfo with pki-client's token and certificate",
        "200",
        summary(&res),
        summary(&res) == "200",
    );
    let res = run
        .client(Some(&pki.intruder))?
        .get(
            &format!("{}/userinfo", urls.mtls_base),
            &[("authorization", auth.as_str())],
        )
        .await;
    run.expect(
        "userinfo with pki-client's token, intruder's certificate",
        "401 invalid_token",
        &res,
    );

    // Public client: authorization code with PKCE, then refresh.
    public_client(run).await?;
    Ok(())
}

async fn public_client(run: &mut Run<'_>) -> Result<(), DemoError> {
    let urls = run.urls.clone();
    let pki = run.pki.clone();
    let verifier = "certbound-demo-code-verifier-0123456789-abcdefghijklmnop";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let authorize = format!(
        "{}/authorize?response_type=code&client_id=public-client&redirect_uri={}&code_challenge={challenge}&code_challenge_method=S256&state=xyz",
        urls.issuer,
        super::client::form_encode(PUBLIC_CLIENT_REDIRECT_URI),
    );
    let res = run.client(None)?.get(&authorize, &[]).await;
    let location = res
        .as_ref()
        .map(|r| r.header("location").to_owned())
        .unwrap_or_default();
    let code = location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .unwrap_or("")
        .to_owned();
    run.record(
        "authorize public-client (PKCE S256, auto-approved)",
        "302 with code",
        format!(
            "{} {}",
            summary(&res),
            if code.is_empty() { "no code" } else { "code" }
        ),
        res.as_ref().is_ok_and(|r| r.status == 302) && !code.is_empty(),
    );

    let public = run.client(Some(&pki.public_client))?;
    let res = public
        .post_form(
            &format!("{}/token", urls.mtls_base),
            &[],
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "public-client"),
                ("code", code.as_str()),
                ("redirect_uri", PUBLIC_CLIENT_REDIRECT_URI),
                ("code_verifier", verifier),
            ],
        )
        .await;
    let json = res.as_ref().map(Response::json).unwrap_or(Value::Null);
    let access = json["access_token"].as_str().unwrap_or("").to_owned();
    let refresh = json["refresh_token"].as_str().unwrap_or("").to_owned();
    let cnf = jwt_claims(&access)["cnf"]["x5t#S256"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    run.record(
        "code exchange by public-client with its certificate",
        "200, bound access token and refresh token",
        format!(
            "{} cnf={cnf} refresh={}",
            summary(&res),
            !refresh.is_empty()
        ),
        cnf == thumbprint(&pki.public_client) && !refresh.is_empty(),
    );
    let res = run.resource(Some(&pki.public_client), &access).await;
    run.record(
        "resource with public-client's token and certificate",
        "200",
        summary(&res),
        summary(&res) == "200",
    );

    let res = run.refresh(&pki.intruder, &refresh).await;
    run.expect(
        "refresh of public-client's token with intruder's certificate",
        "400 invalid_grant",
        &res,
    );
    let res = run.refresh(&pki.public_client, &refresh).await;
    let access = res
        .as_ref()
        .map(|r| r.json()["access_token"].as_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    let cnf = jwt_claims(&access)["cnf"]["x5t#S256"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    run.record(
        "refresh of public-client's token with its certificate",
        "200, new token bound to it",
        format!("{} cnf={cnf}", summary(&res)),
        cnf == thumbprint(&pki.public_client),
    );
    Ok(())
}
