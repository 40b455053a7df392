//! Writes the seed corpora into `fuzz/corpus/<target>/`, generated from a
//! throw-away PKI (rcgen, through certbound-testkit) and the documented
//! header shapes. Nothing is copied from elsewhere.
//!
//! ```text
//! cd fuzz && cargo run --example seeds
//! ```
//!
//! Each run makes new keys, so the seeds differ from run to run; the
//! committed ones are one such run. Existing seed files are replaced.

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use certbound_fuzz::{JWT_AUDIENCE, JWT_ISSUER, JWT_PRIVATE_JWK, join};
use certbound_testkit::rcgen::{DnType, DnValue};
use certbound_testkit::{
    KeyAlg, TestCa, TestCert, alb_escaped_cert, nginx_escaped_cert, self_signed,
};
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::{self, JwtPayload};

/// The fixed "now" of the jwt_validate target.
const NOW: u64 = 1_800_000_000;

struct Seeds {
    root: PathBuf,
}

impl Seeds {
    fn put(&self, target: &str, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = self.root.join(target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), bytes).unwrap();
    }

    fn clear(&self, target: &str) {
        let dir = self.root.join(target);
        if dir.exists() {
            fs::remove_dir_all(&dir).unwrap();
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(der: &[u8]) -> String {
    hex(certbound_cert::Thumbprint::of_der(der).as_bytes())
}

fn b64(der: &[u8]) -> String {
    STANDARD.encode(der)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let s = Seeds { root };

    // A small PKI: Ed25519 keeps the certificates small.
    let ca = TestCa::new_with("Fuzz Root CA", KeyAlg::Ed25519);
    let inter = ca.intermediate("Fuzz Intermediate");
    let leaf = inter
        .leaf("client-1")
        .key_alg(KeyAlg::Ed25519)
        .san_dns("client-1.example.com")
        .san_uri("spiffe://example.org/ns/prod/sa/client-1")
        .san_ip("192.0.2.7".parse::<IpAddr>().unwrap())
        .san_ip("2001:db8::7".parse::<IpAddr>().unwrap())
        .san_email("ops@example.com")
        .issue();
    let rich = ca
        .leaf("rich")
        .key_alg(KeyAlg::Ed25519)
        .subject(vec![
            (
                DnType::CountryName,
                DnValue::PrintableString("US".try_into().unwrap()),
            ),
            (
                DnType::OrganizationName,
                DnValue::Utf8String("Exämple, Inc.".into()),
            ),
            (
                DnType::OrganizationalUnitName,
                DnValue::Utf8String("  spaced  ".into()),
            ),
            (
                DnType::CommonName,
                DnValue::Utf8String("#rich+name;\"q\"".into()),
            ),
            (
                DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 25]),
                DnValue::Ia5String("example".try_into().unwrap()),
            ),
        ])
        .issue();
    let p256 = self_signed("self-signed-p256")
        .san_dns("self.example.com")
        .issue();
    let ed = self_signed("self-signed-ed25519")
        .key_alg(KeyAlg::Ed25519)
        .issue();
    let certs: [(&str, &TestCert); 5] = [
        ("leaf", &leaf),
        ("rich", &rich),
        ("intermediate", &inter.cert),
        ("self_p256", &p256),
        ("self_ed25519", &ed),
    ];
    let chain_pem = format!("{}{}", leaf.pem, inter.cert.pem);

    // Certificates.
    s.clear("cert_parse");
    for (name, c) in certs {
        s.put("cert_parse", &format!("{name}.der"), &c.der);
    }
    s.put("cert_parse", "leaf.pem", &leaf.pem);
    s.put("cert_parse", "chain.pem", &chain_pem);
    s.put("cert_parse", "rich.pem", &rich.pem);

    // RFC 9440 Client-Cert.
    s.clear("header_rfc9440");
    for (name, c) in certs {
        s.put("header_rfc9440", name, format!(":{}:", b64(&c.der)));
    }
    s.put(
        "header_rfc9440",
        "params",
        format!(":{}:;a=1;b", b64(&leaf.der)),
    );
    s.put(
        "header_rfc9440",
        "spaces",
        format!("  :{}:  ", b64(&ed.der)),
    );
    s.put("header_rfc9440", "not_bytes", "\"a string\"");
    s.put("header_rfc9440", "empty", "");

    // RFC 9440 both headers.
    s.clear("rfc9440_structured_fields");
    let chain_list = |cs: &[&TestCert]| {
        cs.iter()
            .map(|c| format!(":{}:", b64(&c.der)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let v = format!(":{}:", b64(&leaf.der));
    s.put(
        "rfc9440_structured_fields",
        "leaf_and_intermediate",
        join(&[v.as_bytes(), chain_list(&[&inter.cert]).as_bytes()]),
    );
    s.put(
        "rfc9440_structured_fields",
        "leaf_and_two",
        join(&[
            v.as_bytes(),
            chain_list(&[&inter.cert, &ca.cert]).as_bytes(),
        ]),
    );
    s.put(
        "rfc9440_structured_fields",
        "inner_list",
        join(&[v.as_bytes(), b"(:AAAA: :AAAA:), :AAAA:;x=?1"]),
    );
    s.put(
        "rfc9440_structured_fields",
        "empty_chain",
        join(&[v.as_bytes(), b""]),
    );

    // URL-encoded PEM.
    s.clear("header_pem_urlencoded");
    s.put("header_pem_urlencoded", "nginx", nginx_escaped_cert(&leaf.pem));
    s.put("header_pem_urlencoded", "alb", alb_escaped_cert(&leaf.pem));
    s.put("header_pem_urlencoded", "chain", nginx_escaped_cert(&chain_pem));
    s.put("header_pem_urlencoded", "alb_rich", alb_escaped_cert(&rich.pem));
    s.put("header_pem_urlencoded", "bad_escape", "%2-%ZZ%");
    s.put("header_pem_urlencoded", "empty", "");

    // PEM.
    s.clear("header_pem");
    s.put("header_pem", "newlines", &leaf.pem);
    s.put("header_pem", "apache_spaces", leaf.pem.replace('\n', " "));
    s.put("header_pem", "tabs", ed.pem.replace('\n', "\t"));
    s.put("header_pem", "chain", chain_pem.replace('\n', " "));
    s.put("header_pem", "null", "(null)");
    s.put("header_pem", "trailing", format!("{}garbage", ed.pem));

    // Base64 DER.
    s.clear("header_der_base64");
    s.put("header_der_base64", "plain", b64(&leaf.der));
    s.put(
        "header_der_base64",
        "quoted",
        format!("\"{}\"", b64(&ed.der)),
    );
    s.put(
        "header_der_base64",
        "list",
        format!("{}, {}", b64(&leaf.der), b64(&inter.cert.der)),
    );
    let mut concatenated = leaf.der.clone();
    concatenated.extend_from_slice(&inter.cert.der);
    s.put("header_der_base64", "concatenated", b64(&concatenated));
    s.put(
        "header_der_base64",
        "url_safe",
        URL_SAFE_NO_PAD.encode(&rich.der),
    );
    s.put("header_der_base64", "raw_der_pair", &concatenated);

    // XFCC: the decoder, and the grammar alone.
    for target in ["header_xfcc", "xfcc_grammar"] {
        s.clear(target);
        let cert = nginx_escaped_cert(&leaf.pem);
        let chain = nginx_escaped_cert(&chain_pem);
        let hash = sha256_hex(&leaf.der);
        s.put(
            target,
            "envoy_cert",
            format!(
                "By=spiffe://example.org/ns/default/sa/backend;Hash={hash};Cert=\"{cert}\";Subject=\"CN=client-1\";URI=spiffe://example.org/ns/prod/sa/client-1;DNS=client-1.example.com"
            ),
        );
        s.put(
            target,
            "envoy_chain",
            format!("Hash={hash};Chain=\"{chain}\""),
        );
        s.put(
            target,
            "two_hops",
            format!(
                "By=spiffe://gw;Cert=\"{}\",By=spiffe://sidecar;URI=spiffe://gw",
                nginx_escaped_cert(&ed.pem)
            ),
        );
        s.put(
            target,
            "no_cert",
            "By=spiffe://a;Subject=\"CN=x,O=y\";DNS=a;DNS=b",
        );
        s.put(
            target,
            "escapes",
            "Subject=\"CN=\\\"q\\\"\\\\, O=y;z\" ; URI=u",
        );
        s.put(target, "unbalanced", "Subject=\"CN=x;By=y");
    }

    // Repeated field lines, as a proxy that appends forwards them: two of
    // the values above, one per part.
    for (target, a, b) in [
        ("header_rfc9440", "leaf", "self_ed25519"),
        ("header_pem", "apache_spaces", "tabs"),
        ("header_pem_urlencoded", "nginx", "alb"),
        ("header_der_base64", "plain", "quoted"),
        ("header_xfcc", "envoy_cert", "two_hops"),
    ] {
        let read = |name: &str| fs::read(s.root.join(target).join(name)).unwrap();
        let (a, b) = (read(a), read(b));
        s.put(target, "two_lines", join(&[a.as_slice(), b.as_slice()]));
    }

    // DNs.
    let dns: Vec<String> = vec![
        "CN=client-1,O=Example,C=US".into(),
        "cn=Client-1 , o = Example,c=us".into(),
        "CN=a+UID=b,DC=example,DC=com".into(),
        "UID=b+CN=a,DC=example,DC=com".into(),
        r#"CN=a\,b\+c\"d\\e\;f\<g\>h,O=x"#.into(),
        r"CN=\ leading and trailing\ ,OU=\#hash".into(),
        "1.2.3.4=#0C0161,2.5.4.3=#13026162".into(),
        "CN=#0C03616263".into(),
        "emailAddress=ops@example.com,serialNumber=1234,businessCategory=Private Organization"
            .into(),
        "jurisdictionC=DE,jurisdictionST=Berlin,organizationIdentifier=VATDE-123".into(),
        r"CN=M\C3\BCller,L=Z\C3\BCrich,STREET=1 Main St".into(),
        "CN=Müller".into(),
        String::new(),
        leaf.pem.lines().next().unwrap_or_default().to_owned(),
    ];
    let printed: Vec<String> = certs
        .iter()
        .map(|(_, c)| {
            certbound_cert::Certificate::from_der(c.der.clone())
                .unwrap()
                .subject()
                .to_string()
        })
        .collect();
    s.clear("dn_parse");
    for (i, d) in dns.iter().chain(&printed).enumerate() {
        s.put("dn_parse", &format!("dn{i:02}"), d);
    }
    s.clear("dn_match");
    let pairs: [(&str, &str); 8] = [
        (&dns[0], &dns[1]),
        (&dns[2], &dns[3]),
        ("CN=a,O=b", "O=b,CN=a"),
        ("CN=  Many   Spaces ", "cn=many spaces"),
        ("2.5.4.3=#0C0161", "CN=a"),
        ("CN=#0C0161", "CN=#130161"),
        (&printed[1], &printed[1].to_lowercase()),
        (&dns[11], &dns[10]),
    ];
    for (i, (a, b)) in pairs.iter().enumerate() {
        s.put(
            "dn_match",
            &format!("pair{i:02}"),
            join(&[a.as_bytes(), b.as_bytes()]),
        );
    }

    // SAN matchers.
    s.clear("san_match");
    let sans: [(&str, &str); 8] = [
        ("client-1.example.com", "CLIENT-1.example.COM"),
        ("*.example.com", "a.example.com"),
        ("spiffe://Example.org/ns/a", "SPIFFE://example.ORG/ns/a"),
        (
            "https://user@a.example:8443/x?q=1#f",
            "HTTPS://user@A.EXAMPLE:8443/x?q=1#f",
        ),
        ("urn:example:a", "URN:example:a"),
        ("Ops@Example.com", "Ops@example.COM"),
        ("192.0.2.7", "2001:db8::7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
    ];
    for (i, (a, b)) in sans.iter().enumerate() {
        s.put(
            "san_match",
            &format!("pair{i:02}"),
            join(&[a.as_bytes(), b.as_bytes()]),
        );
    }

    // Form bodies: the first byte is the flags of the target.
    s.clear("form_client_id");
    let bodies: [(u8, &str); 8] = [
        (0, "grant_type=client_credentials&client_id=c1&scope=a+b"),
        (0, "grant_type=client_credentials&client_id=bank%2B1+x"),
        (0, "client_id=c1&client_id=c1"),
        (0, "client_id=%FF&x"),
        (2, "grant_type=client_credentials&scope=a"),
        (0, "client_assertion_type=x&client_assertion=eyJ"),
        (8, "client_id=c1&&=&a=%zz"),
        (
            4,
            "client_id=c1&padding=0123456789012345678901234567890123456789012345678901234567890123",
        ),
    ];
    for (i, (flags, body)) in bodies.iter().enumerate() {
        let mut bytes = vec![*flags];
        bytes.extend_from_slice(body.as_bytes());
        s.put("form_client_id", &format!("body{i:02}"), bytes);
    }

    // Authorization headers.
    s.clear("bearer_token");
    let auths: [&str; 7] = [
        "Bearer mF_9.B5f-4.1JqM",
        "bearer abc+/def==",
        "Bearer  spaced  ",
        "Basic YzE6cw==",
        "Bearer a\nBearer b",
        "Bearer ",
        "DPoP eyJ",
    ];
    for (i, a) in auths.iter().enumerate() {
        s.put("bearer_token", &format!("auth{i:02}"), a);
    }

    // JWTs signed with the key the target trusts, and cnf objects.
    s.clear("jwt_validate");
    let jwk = Jwk::from_bytes(JWT_PRIVATE_JWK).unwrap();
    let signer = ES256.signer_from_jwk(&jwk).unwrap();
    let x5t = URL_SAFE_NO_PAD.encode(certbound_cert::Thumbprint::of_der(&leaf.der).as_bytes());
    let token = |typ: &str, exp: u64, aud: &str, cnf: Option<serde_json::Value>| {
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id("fuzz-1");
        let mut payload = JwtPayload::new();
        payload.set_issuer(JWT_ISSUER);
        payload.set_audience(vec![aud]);
        payload.set_subject("user-1");
        payload
            .set_claim("exp", Some(serde_json::json!(exp)))
            .unwrap();
        payload
            .set_claim("iat", Some(serde_json::json!(NOW - 10)))
            .unwrap();
        payload
            .set_claim("client_id", Some(serde_json::json!("c1")))
            .unwrap();
        payload
            .set_claim("scope", Some(serde_json::json!("read write")))
            .unwrap();
        if let Some(cnf) = cnf {
            payload.set_claim("cnf", Some(cnf)).unwrap();
        }
        jwt::encode_with_signer(&payload, &header, &signer).unwrap()
    };
    let bound = Some(serde_json::json!({"x5t#S256": x5t}));
    s.put(
        "jwt_validate",
        "bound",
        token("at+jwt", NOW + 600, JWT_AUDIENCE, bound.clone()),
    );
    s.put(
        "jwt_validate",
        "unbound",
        token("at+jwt", NOW + 600, JWT_AUDIENCE, None),
    );
    s.put(
        "jwt_validate",
        "expired",
        token("at+jwt", NOW - 600, JWT_AUDIENCE, bound.clone()),
    );
    s.put(
        "jwt_validate",
        "wrong_aud",
        token("JWT", NOW + 600, "https://other", bound),
    );
    s.put(
        "jwt_validate",
        "cnf_wrong_type",
        token(
            "at+jwt",
            NOW + 600,
            JWT_AUDIENCE,
            Some(serde_json::json!({"x5t#S256": 1, "jkt": "abc"})),
        ),
    );
    s.put(
        "jwt_validate",
        "alg_none",
        "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
    );
    s.put(
        "jwt_validate",
        "cnf_json",
        format!("{{\"x5t#S256\":\"{x5t}\",\"jkt\":\"k\"}}"),
    );
    s.put(
        "jwt_validate",
        "claims_json",
        "{\"cnf\":{\"x5t#S256\":\"abc\"},\"aud\":[\"a\",\"b\"],\"scope\":\"a b\"}",
    );

    // Client registrations.
    s.clear("client_metadata");
    let regs: Vec<String> = vec![
        r#"{"client_id":"c1","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"CN=client-1,O=Example"}"#.into(),
        r#"{"client_id":"c2","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_dns":"client-1.example.com","tls_client_certificate_bound_access_tokens":true}"#.into(),
        r#"{"client_id":"c3","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_ip":"2001:db8::7","tls_client_auth_san_uri":"spiffe://x"}"#.into(),
        r#"{"client_id":"c4","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_email":"ops@example.com","certbound_issuer_spki_sha256":"AAAA"}"#.into(),
        format!(
            r#"{{"client_id":"c5","token_endpoint_auth_method":"self_signed_tls_client_auth","jwks":{{"keys":[{{"kty":"OKP","x5c":["{}"]}}]}}}}"#,
            b64(&ed.der)
        ),
        r#"{"client_id":"c6","token_endpoint_auth_method":"self_signed_tls_client_auth","jwks_uri":"https://c6.example/jwks"}"#.into(),
        format!(
            r#"{{"client_id":"c7","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_san_dns":"a","certbound_trust_anchors":["{}"]}}"#,
            b64(&ca.cert.der)
        ),
        r#"{"client_id":"c8","token_endpoint_auth_method":"client_secret_basic","extra":[1,2.5,null]}"#.into(),
    ];
    for (i, r) in regs.iter().enumerate() {
        s.put("client_metadata", &format!("reg{i:02}"), r);
    }

    // Authorization server metadata.
    s.clear("discovery_metadata");
    let docs: [&str; 5] = [
        r#"{"issuer":"https://as.example.com","response_types_supported":[],"token_endpoint":"https://as.example.com/token","token_endpoint_auth_methods_supported":["tls_client_auth","self_signed_tls_client_auth"],"tls_client_certificate_bound_access_tokens":true,"mtls_endpoint_aliases":{"token_endpoint":"https://mtls.example.com/token"}}"#,
        r#"{"issuer":"https://as.example.com","token_endpoint":"http://as.example.com/token","mtls_endpoint_aliases":"https://mtls.example.com"}"#,
        r#"{"issuer":"https://as.example.com/?q#f","response_types_supported":["code"],"jwks_uri":"https://as.example.com/jwks","x_endpoint":"https://x"}"#,
        r#"{"issuer":1,"token_endpoint":[],"tls_client_certificate_bound_access_tokens":"yes"}"#,
        r#"[{"issuer":"https://a"}]"#,
    ];
    for (i, d) in docs.iter().enumerate() {
        s.put("discovery_metadata", &format!("doc{i:02}"), d);
    }

    eprintln!("seeds written under {}", s.root.display());
}
