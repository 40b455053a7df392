//! `tls_client_auth` (RFC 8705 §2.1): path validation, then the one
//! registered subject parameter matched on the leaf.

mod common;

use std::time::SystemTime;

use certbound_auth::{
    AuthError, Authenticator, ClientMetadata, EkuPolicy, SelfSignedTlsClientAuth, TlsClientAuth,
    TokenEndpointAuthMethod, Verdict, registry_from_metadata, spki_sha256,
};
use certbound_testkit::rcgen::{DnType, ExtendedKeyUsagePurpose};
use certbound_testkit::{TestCa, TestCert};
use common::*;

const DN: &str = "tls_client_auth_subject_dn";

fn simple() -> (TestCa, Authenticator) {
    let ca = TestCa::new("Client CA");
    let auth = tls_authenticator(
        vec![tls_client("bank-1", DN, "CN=bank-1")],
        TlsClientAuth::new(store(&[&ca])),
    );
    (ca, auth)
}

#[tokio::test]
async fn right_certificate_authenticates() {
    let (ca, auth) = simple();
    let leaf = ca.leaf("bank-1").issue();
    let got = auth
        .authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap();
    assert_eq!(got.client_id(), "bank-1");
    assert_eq!(got.method(), &TokenEndpointAuthMethod::TlsClientAuth);
    assert_eq!(got.thumbprint(), cert(&leaf).thumbprint());
    assert!(!got.bound_access_tokens());
}

#[tokio::test]
async fn wrong_certificate_is_refused() {
    let (ca, auth) = simple();
    let other = ca.leaf("bank-2").issue();
    let err = auth
        .authenticate("bank-1", Some(&presented(&other, &[])))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::SubjectMismatch { parameter: DN }),
        "{err:?}"
    );
    assert_eq!(err.to_oauth_error().code(), Some("invalid_client"));
    assert_eq!(err.to_oauth_error().status(), 401);
}

#[tokio::test]
async fn no_certificate_is_refused() {
    let (_ca, auth) = simple();
    let err = auth.authenticate("bank-1", None).await.unwrap_err();
    assert!(matches!(err, AuthError::NoCertificate), "{err:?}");
}

#[tokio::test]
async fn unknown_client_is_refused() {
    let (ca, auth) = simple();
    let leaf = ca.leaf("bank-1").issue();
    let err = auth
        .authenticate("bank-9", Some(&presented(&leaf, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::UnknownClient), "{err:?}");
}

#[tokio::test]
async fn expired_certificate_is_refused() {
    let (ca, auth) = simple();
    let now = SystemTime::now();
    let leaf = ca
        .leaf("bank-1")
        .validity(now - 30 * DAY, now - DAY)
        .issue();
    let err = auth
        .authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Expired), "{err:?}");
}

#[tokio::test]
async fn not_yet_valid_certificate_is_refused() {
    let (ca, auth) = simple();
    let now = SystemTime::now();
    let leaf = ca
        .leaf("bank-1")
        .validity(now + DAY, now + 30 * DAY)
        .issue();
    let err = auth
        .authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::NotYetValid), "{err:?}");
}

#[tokio::test]
async fn certificate_from_unknown_ca_is_refused() {
    let (_ca, auth) = simple();
    // Another CA, and an impostor with the trusted CA's name.
    for stranger in [TestCa::new("Other CA"), TestCa::new("Client CA")] {
        let leaf = stranger.leaf("bank-1").issue();
        let err = auth
            .authenticate("bank-1", Some(&presented(&leaf, &[])))
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::UnknownIssuer), "{err:?}");
    }
}

#[tokio::test]
async fn missing_intermediate_is_refused_then_completed_from_configuration() {
    let root = TestCa::new("Root");
    let issuing = root.intermediate("Issuing CA");
    let leaf = issuing.leaf("bank-1").issue();
    let clients = || vec![tls_client("bank-1", DN, "CN=bank-1")];

    // Sent with its intermediate: fine.
    let auth = tls_authenticator(clients(), TlsClientAuth::new(store(&[&root])));
    auth.authenticate("bank-1", Some(&presented(&leaf, &[&issuing.cert])))
        .await
        .unwrap();

    // Leaf only (a proxy that forwards only the leaf): no path.
    let err = auth
        .authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::UnknownIssuer), "{err:?}");

    // The same leaf, with the intermediate configured.
    let auth = tls_authenticator(
        clients(),
        TlsClientAuth::new(store(&[&root])).intermediate(cert(&issuing.cert)),
    );
    auth.authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap();
}

#[tokio::test]
async fn leaf_with_only_server_auth_eku_is_refused() {
    let (ca, auth) = simple();
    let leaf = ca
        .leaf("bank-1")
        .eku(vec![ExtendedKeyUsagePurpose::ServerAuth])
        .issue();
    let err = auth
        .authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::WrongEku), "{err:?}");
}

#[tokio::test]
async fn leaf_without_eku_is_accepted_by_default_and_refused_when_required() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").eku(vec![]).issue();
    let clients = || vec![tls_client("bank-1", DN, "CN=bank-1")];
    let lenient = tls_authenticator(clients(), TlsClientAuth::new(store(&[&ca])));
    lenient
        .authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap();
    let strict = tls_authenticator(
        clients(),
        TlsClientAuth::new(store(&[&ca])).eku(EkuPolicy::ClientAuthRequired),
    );
    let err = strict
        .authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::EkuMissing), "{err:?}");
    let with_eku = ca.leaf("bank-1").issue();
    strict
        .authenticate("bank-1", Some(&presented(&with_eku, &[])))
        .await
        .unwrap();
}

#[tokio::test]
async fn missing_required_policy_oid_is_refused() {
    let ca = TestCa::new("Client CA");
    let auth = tls_authenticator(
        vec![tls_client("bank-1", DN, "CN=bank-1")],
        TlsClientAuth::new(store(&[&ca])).required_policy("1.3.6.1.4.1.99999.1"),
    );
    let without = ca
        .leaf("bank-1")
        .policies(&[&[1, 3, 6, 1, 4, 1, 99999, 2]])
        .issue();
    let err = auth
        .authenticate("bank-1", Some(&presented(&without, &[])))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AuthError::PolicyMissing { oid } if oid == "1.3.6.1.4.1.99999.1"),
        "{err:?}"
    );
    let with = ca
        .leaf("bank-1")
        .policies(&[&[1, 3, 6, 1, 4, 1, 99999, 2], &[1, 3, 6, 1, 4, 1, 99999, 1]])
        .issue();
    auth.authenticate("bank-1", Some(&presented(&with, &[])))
        .await
        .unwrap();
}

#[tokio::test]
async fn certificate_revoked_by_crl_is_refused() {
    let ca = TestCa::new("Client CA");
    let revoked = ca.leaf("bank-1").issue();
    let good = ca.leaf("bank-1").issue();
    let auth = tls_authenticator(
        vec![tls_client("bank-1", DN, "CN=bank-1")],
        TlsClientAuth::new(store(&[&ca])).crl(&ca.crl(&[&revoked.serial])),
    );
    let err = auth
        .authenticate("bank-1", Some(&presented(&revoked, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Revoked), "{err:?}");
    auth.authenticate("bank-1", Some(&presented(&good, &[])))
        .await
        .unwrap();
}

#[tokio::test]
async fn issuer_spki_pin_mismatch_is_refused() {
    let root = TestCa::new("Root");
    let issuing = root.intermediate("Issuing CA");
    let other_issuing = root.intermediate("Issuing CA 2");
    let leaf = issuing.leaf("bank-1").issue();
    let pinned = |pin: String| {
        let mut m = tls_client("bank-1", DN, "CN=bank-1");
        m.certbound_issuer_spki_sha256 = Some(pin);
        tls_authenticator(vec![m], TlsClientAuth::new(store(&[&root])))
    };

    let right_pin = spki_sha256(&cert(&issuing.cert)).unwrap();
    pinned(right_pin)
        .authenticate("bank-1", Some(&presented(&leaf, &[&issuing.cert])))
        .await
        .unwrap();

    let wrong_pin = spki_sha256(&cert(&other_issuing.cert)).unwrap();
    let err = pinned(wrong_pin)
        .authenticate("bank-1", Some(&presented(&leaf, &[&issuing.cert])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::IssuerPinMismatch), "{err:?}");
}

#[tokio::test]
async fn per_client_trust_anchors_replace_the_global_store() {
    let global = TestCa::new("Global CA");
    let own = TestCa::new("Bank's own CA");
    let mut m = tls_client("bank-1", DN, "CN=bank-1");
    m.certbound_trust_anchors = Some(vec![own.cert.pem.clone()]);
    let auth = tls_authenticator(
        vec![m, tls_client("bank-2", DN, "CN=bank-1")],
        TlsClientAuth::new(store(&[&global])),
    );

    let from_own = own.leaf("bank-1").issue();
    let from_global = global.leaf("bank-1").issue();
    auth.authenticate("bank-1", Some(&presented(&from_own, &[])))
        .await
        .unwrap();
    // The global anchors are replaced, not added to.
    let err = auth
        .authenticate("bank-1", Some(&presented(&from_global, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::UnknownIssuer), "{err:?}");
    // Other clients still use the global store.
    auth.authenticate("bank-2", Some(&presented(&from_global, &[])))
        .await
        .unwrap();
    let err = auth
        .authenticate("bank-2", Some(&presented(&from_own, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::UnknownIssuer), "{err:?}");
}

#[tokio::test]
async fn leaf_only_pki_client_works() {
    // The root issues the leaf directly; the client sends its leaf alone.
    let root = TestCa::new("Small Root");
    let leaf = root.leaf("bank-1").issue();
    let auth = tls_authenticator(
        vec![tls_client("bank-1", DN, "CN=bank-1")],
        TlsClientAuth::new(store(&[&root])),
    );
    auth.authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap();
}

#[tokio::test]
async fn path_longer_than_the_maximum_is_refused() {
    let root = TestCa::new("Root");
    let a = root.intermediate("A");
    let b = a.intermediate("B");
    let leaf = b.leaf("bank-1").issue();
    let clients = || vec![tls_client("bank-1", DN, "CN=bank-1")];
    let short = tls_authenticator(
        clients(),
        TlsClientAuth::new(store(&[&root])).max_intermediates(1),
    );
    let err = short
        .authenticate("bank-1", Some(&presented(&leaf, &[&b.cert, &a.cert])))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::PathTooLong {
                intermediates: 2,
                max: 1
            }
        ),
        "{err:?}"
    );
    let long = tls_authenticator(
        clients(),
        TlsClientAuth::new(store(&[&root])).max_intermediates(2),
    );
    long.authenticate("bank-1", Some(&presented(&leaf, &[&b.cert, &a.cert])))
        .await
        .unwrap();
}

#[tokio::test]
async fn method_comes_from_the_registration_not_the_chain() {
    let ca = TestCa::new("Client CA");
    // A self-signed certificate does not turn a tls_client_auth client into
    // a self-signed one.
    let self_signed = certbound_testkit::self_signed("bank-1").issue();
    let (_, auth) = simple();
    let err = auth
        .authenticate("bank-1", Some(&presented(&self_signed, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::UnknownIssuer), "{err:?}");

    // And a CA-issued certificate registered by a self_signed client is
    // judged by thumbprint only.
    let leaf = ca.leaf("anything").issue();
    let mut m = ClientMetadata::new("ss", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
    m.jwks = Some(certbound_auth::ClientJwks::from_certificates([&cert(
        &leaf,
    )]));
    let auth = tls_authenticator(vec![m], TlsClientAuth::new(store(&[])));
    let got = auth
        .authenticate("ss", Some(&presented(&leaf, &[])))
        .await
        .unwrap();
    assert_eq!(
        got.method(),
        &TokenEndpointAuthMethod::SelfSignedTlsClientAuth
    );
}

#[tokio::test]
async fn non_mtls_clients_are_not_ours() {
    let ca = TestCa::new("Client CA");
    let m = ClientMetadata::new("web", TokenEndpointAuthMethod::ClientSecretBasic);
    let auth = tls_authenticator(vec![m], TlsClientAuth::new(store(&[&ca])));
    let err = auth.authenticate("web", None).await.unwrap_err();
    assert!(err.is_not_mtls(), "{err:?}");
}

#[tokio::test]
async fn method_not_enabled_is_refused_and_not_listed() {
    let ca = TestCa::new("Client CA");
    let auth = Authenticator::builder(
        registry_from_metadata([tls_client("bank-1", DN, "CN=bank-1")]).unwrap(),
    )
    .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
    .build()
    .unwrap();
    assert_eq!(
        auth.supported_methods(),
        [TokenEndpointAuthMethod::SelfSignedTlsClientAuth]
    );
    let leaf = ca.leaf("bank-1").issue();
    let err = auth
        .authenticate("bank-1", Some(&presented(&leaf, &[])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::MethodNotEnabled { .. }), "{err:?}");
}

// --- the five subject parameters ---

async fn subject_case(
    field: &str,
    registered: &str,
    leaf: certbound_testkit::TestCert,
    ca: &TestCa,
) -> Result<(), AuthError> {
    let auth = tls_authenticator(
        vec![tls_client("c", field, registered)],
        TlsClientAuth::new(store(&[ca])),
    );
    auth.authenticate("c", Some(&presented(&leaf, &[])))
        .await
        .map(|_| ())
}

#[tokio::test]
async fn subject_dn_matches_and_does_not_match() {
    let ca = TestCa::new("Client CA");
    let leaf = || {
        ca.leaf("x")
            .subject(vec![
                (DnType::CountryName, "GB".into()),
                (DnType::OrganizationName, "Example Bank".into()),
                (DnType::CommonName, "bank-1".into()),
            ])
            .issue()
    };
    subject_case(DN, "CN=bank-1,O=Example Bank,C=GB", leaf(), &ca)
        .await
        .unwrap();
    let err = subject_case(DN, "CN=bank-2,O=Example Bank,C=GB", leaf(), &ca)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::SubjectMismatch { parameter: DN }));
    // Order of RDNs is significant.
    subject_case(DN, "C=GB,O=Example Bank,CN=bank-1", leaf(), &ca)
        .await
        .unwrap_err();
}

#[tokio::test]
async fn subject_dn_in_another_valid_spelling_still_matches() {
    let ca = TestCa::new("Client CA");
    let leaf = || {
        ca.leaf("x")
            .subject(vec![
                (DnType::CountryName, "GB".into()),
                (DnType::OrganizationName, "Example Bank".into()),
                (DnType::CommonName, "bank-1".into()),
            ])
            .issue()
    };
    for spelling in [
        "cn=BANK-1,o=example bank,c=gb",
        "CN=bank-1, O=Example  Bank, C=GB",
        " CN = bank-1 ,O= Example Bank ,C=GB",
        "2.5.4.3=bank-1,2.5.4.10=Example Bank,2.5.4.6=GB",
        "commonName=bank-1,organizationName=Example Bank,countryName=GB",
        "CN=#0c0662616e6b2d31,O=Example Bank,C=GB",
    ] {
        subject_case(DN, spelling, leaf(), &ca)
            .await
            .unwrap_or_else(|e| panic!("{spelling:?}: {e:?}"));
    }
}

#[tokio::test]
async fn san_dns_matches_and_does_not_match() {
    let ca = TestCa::new("Client CA");
    let f = "tls_client_auth_san_dns";
    subject_case(
        f,
        "Client.Example.com",
        ca.leaf("x").san_dns("client.example.com").issue(),
        &ca,
    )
    .await
    .unwrap();
    let err = subject_case(
        f,
        "client.example.com",
        ca.leaf("x").san_dns("other.example.com").issue(),
        &ca,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        AuthError::SubjectMismatch {
            parameter: "tls_client_auth_san_dns"
        }
    ));
    // No wildcard expansion.
    subject_case(
        f,
        "client.example.com",
        ca.leaf("x").san_dns("*.example.com").issue(),
        &ca,
    )
    .await
    .unwrap_err();
    // The CN is not a dNSName.
    subject_case(
        f,
        "client.example.com",
        ca.leaf("client.example.com").issue(),
        &ca,
    )
    .await
    .unwrap_err();
}

#[tokio::test]
async fn san_uri_matches_and_does_not_match() {
    let ca = TestCa::new("Client CA");
    let f = "tls_client_auth_san_uri";
    subject_case(
        f,
        "SPIFFE://Example.org/bank/1",
        ca.leaf("x").san_uri("spiffe://example.org/bank/1").issue(),
        &ca,
    )
    .await
    .unwrap();
    let err = subject_case(
        f,
        "spiffe://example.org/bank/1",
        ca.leaf("x").san_uri("spiffe://example.org/Bank/1").issue(),
        &ca,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        AuthError::SubjectMismatch {
            parameter: "tls_client_auth_san_uri"
        }
    ));
}

#[tokio::test]
async fn san_ip_matches_and_does_not_match() {
    let ca = TestCa::new("Client CA");
    let f = "tls_client_auth_san_ip";
    subject_case(
        f,
        "2001:DB8::7",
        ca.leaf("x")
            .san_ip("2001:db8:0::7".parse().unwrap())
            .issue(),
        &ca,
    )
    .await
    .unwrap();
    subject_case(
        f,
        "192.0.2.7",
        ca.leaf("x").san_ip("192.0.2.7".parse().unwrap()).issue(),
        &ca,
    )
    .await
    .unwrap();
    let err = subject_case(
        f,
        "192.0.2.7",
        ca.leaf("x").san_ip("192.0.2.8".parse().unwrap()).issue(),
        &ca,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        AuthError::SubjectMismatch {
            parameter: "tls_client_auth_san_ip"
        }
    ));
}

#[tokio::test]
async fn san_email_matches_and_does_not_match() {
    let ca = TestCa::new("Client CA");
    let f = "tls_client_auth_san_email";
    subject_case(
        f,
        "ops@EXAMPLE.com",
        ca.leaf("x").san_email("ops@example.com").issue(),
        &ca,
    )
    .await
    .unwrap();
    let err = subject_case(
        f,
        "Ops@example.com",
        ca.leaf("x").san_email("ops@example.com").issue(),
        &ca,
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        AuthError::SubjectMismatch {
            parameter: "tls_client_auth_san_email"
        }
    ));
}

#[tokio::test]
async fn subject_is_matched_on_the_leaf_only() {
    // The registered DN is the intermediate's: it must not match.
    let root = TestCa::new("Root");
    let issuing = root.intermediate("bank-1");
    let leaf = issuing.leaf("someone-else").issue();
    let auth = tls_authenticator(
        vec![tls_client("bank-1", DN, "CN=bank-1")],
        TlsClientAuth::new(store(&[&root])),
    );
    let err = auth
        .authenticate("bank-1", Some(&presented(&leaf, &[&issuing.cert])))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::SubjectMismatch { .. }), "{err:?}");
}

#[tokio::test]
async fn explain_reports_every_check_with_its_verdict() {
    let ca = TestCa::new("Client CA");
    let auth = tls_authenticator(
        vec![tls_client("bank-1", DN, "CN=bank-1")],
        TlsClientAuth::new(store(&[&ca])),
    );
    let now = SystemTime::now();
    // Expired and the wrong subject: both are reported.
    let leaf = ca
        .leaf("bank-2")
        .validity(now - 30 * DAY, now - DAY)
        .issue();
    let report = auth.explain("bank-1", Some(&presented(&leaf, &[]))).await;
    assert!(!report.passed());
    let verdict = |name: &str| {
        report
            .checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no check {name}: {report}"))
            .verdict
    };
    assert_eq!(verdict("client"), Verdict::Pass);
    assert_eq!(verdict("certificate"), Verdict::Pass);
    assert_eq!(verdict("anchors"), Verdict::Pass);
    assert_eq!(verdict("validity"), Verdict::Fail);
    assert_eq!(verdict("eku"), Verdict::Pass);
    assert_eq!(verdict("policies"), Verdict::Skipped);
    assert_eq!(verdict("path"), Verdict::Fail);
    assert_eq!(verdict("subject"), Verdict::Fail);
    assert!(matches!(report.result, Err(AuthError::Expired)));
    let text = report.to_string();
    assert!(text.contains("CN=bank-2"), "{text}");
    assert!(text.contains("refused"), "{text}");
    let json = report.to_json();
    assert_eq!(json["passed"], false);
    assert_eq!(json["method"], "tls_client_auth");
}

/// The `revocation` check of a report.
fn revocation_check(
    report: &certbound_auth::Report<certbound_auth::AuthenticatedClient, AuthError>,
) -> certbound_auth::Check {
    report
        .checks
        .iter()
        .find(|c| c.name == "revocation")
        .cloned()
        .unwrap_or_else(|| panic!("no revocation check: {report}"))
}

#[tokio::test]
async fn report_says_when_no_crl_covers_the_issuer() {
    let ca = TestCa::new("Client CA");
    let other = TestCa::new("Other CA");
    let leaf = ca.leaf("bank-1").issue();
    let cert = presented(&leaf, &[]);
    let clients = || vec![tls_client("bank-1", DN, "CN=bank-1")];

    // A CRL of another CA only: the status is unknown, not "not revoked".
    let auth = tls_authenticator(
        clients(),
        TlsClientAuth::new(store(&[&ca])).crl(&other.crl(&[])),
    );
    let report = auth.explain("bank-1", Some(&cert)).await;
    assert!(report.passed(), "{report}");
    let check = revocation_check(&report);
    assert_eq!(check.verdict, Verdict::Skipped, "{report}");
    assert!(
        check
            .detail
            .contains("no CRL covers this issuer (CN=Client CA)"),
        "{report}"
    );

    // No CRL at all.
    let auth = tls_authenticator(clients(), TlsClientAuth::new(store(&[&ca])));
    let check = revocation_check(&auth.explain("bank-1", Some(&cert)).await);
    assert_eq!(check.verdict, Verdict::Skipped);
    assert!(
        check.detail.contains("no CRL configured"),
        "{}",
        check.detail
    );

    // The issuer's own CRL: checked, and not revoked.
    let auth = tls_authenticator(
        clients(),
        TlsClientAuth::new(store(&[&ca])).crl(&ca.crl(&[])),
    );
    let check = revocation_check(&auth.explain("bank-1", Some(&cert)).await);
    assert_eq!(check.verdict, Verdict::Pass);
    assert!(check.detail.starts_with("not revoked"), "{}", check.detail);
}

#[tokio::test]
async fn unknown_revocation_status_is_refused_when_configured() {
    let root = TestCa::new("Root");
    let issuing = root.intermediate("Issuing");
    let other = TestCa::new("Other CA");
    let leaf = issuing.leaf("bank-1").issue();
    let cert = presented(&leaf, &[&issuing.cert]);
    let auth = |tls: TlsClientAuth| {
        tls_authenticator(
            vec![tls_client("bank-1", DN, "CN=bank-1")],
            tls.refuse_unknown_revocation_status(true),
        )
    };
    // The intermediate is configured: a CRL is used only when a CA of the
    // configuration signed it.
    let base = || TlsClientAuth::new(store(&[&root])).intermediate(common::cert(&issuing.cert));

    for tls in [
        // No CRL at all.
        base(),
        // Only another CA's CRL.
        base().crl(&other.crl(&[])),
        // The leaf's issuer's CRL, but nothing covers the intermediate.
        base().crl(&issuing.crl(&[])),
    ] {
        let auth = auth(tls);
        let err = auth.authenticate("bank-1", Some(&cert)).await.unwrap_err();
        assert!(matches!(err, AuthError::RevocationStatusUnknown), "{err:?}");
        assert_eq!(err.to_oauth_error().code(), Some("invalid_client"));
        let report = auth.explain("bank-1", Some(&cert)).await;
        assert_eq!(revocation_check(&report).verdict, Verdict::Fail, "{report}");
    }

    // Leaf and intermediate both covered.
    auth(base().crl(&issuing.crl(&[])).crl(&root.crl(&[])))
        .authenticate("bank-1", Some(&cert))
        .await
        .unwrap();
    // Only the leaf is checked, and its issuer's CRL covers it.
    auth(base().crl(&issuing.crl(&[])).crl_leaf_only())
        .authenticate("bank-1", Some(&cert))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_anchors_path_length_constraint_is_enforced() {
    // webpki ignores an anchor's own pathLenConstraint; certbound applies
    // it (RFC 5280 §6.1.1(d)).
    let far = SystemTime::now() + 3650 * DAY;
    let clients = || vec![tls_client("bank-1", DN, "CN=bank-1")];
    let constrained = chain(Some(0), far);
    let anchors = certbound_auth::TrustStore::from_certificates([cert(&constrained.root)]).unwrap();
    let auth = tls_authenticator(clients(), TlsClientAuth::new(anchors));
    let err = auth
        .authenticate(
            "bank-1",
            Some(&presented(&constrained.leaf, &[&constrained.intermediate])),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::PathTooLong {
                intermediates: 1,
                max: 0
            }
        ),
        "{err:?}"
    );

    // pathLenConstraint 1 allows the one intermediate.
    let allowed = chain(Some(1), far);
    let anchors = certbound_auth::TrustStore::from_certificates([cert(&allowed.root)]).unwrap();
    tls_authenticator(clients(), TlsClientAuth::new(anchors))
        .authenticate(
            "bank-1",
            Some(&presented(&allowed.leaf, &[&allowed.intermediate])),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_leaf_cannot_be_a_trust_anchor() {
    let ca = TestCa::new("Client CA");
    let leaf = ca.leaf("bank-1").issue();
    let err = certbound_auth::TrustStore::from_certificates([cert(&leaf)]).unwrap_err();
    assert!(
        matches!(err, certbound_auth::TrustStoreError::NotCa { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_per_client_anchors_path_length_constraint_is_enforced() {
    // The same rule for an anchor registered in certbound_trust_anchors,
    // which replaces the global store for that client.
    let far = SystemTime::now() + 3650 * DAY;
    let global = TestCa::new("Global CA");
    let client = |root: &TestCert| {
        let mut m = tls_client("bank-1", DN, "CN=bank-1");
        m.certbound_trust_anchors = Some(vec![root.pem.clone()]);
        m
    };
    let constrained = chain(Some(0), far);
    let err = tls_authenticator(
        vec![client(&constrained.root)],
        TlsClientAuth::new(store(&[&global])),
    )
    .authenticate(
        "bank-1",
        Some(&presented(&constrained.leaf, &[&constrained.intermediate])),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::PathTooLong {
                intermediates: 1,
                max: 0
            }
        ),
        "{err:?}"
    );

    let allowed = chain(Some(1), far);
    tls_authenticator(
        vec![client(&allowed.root)],
        TlsClientAuth::new(store(&[&global])),
    )
    .authenticate(
        "bank-1",
        Some(&presented(&allowed.leaf, &[&allowed.intermediate])),
    )
    .await
    .unwrap();
}

#[test]
fn registry_from_metadata_with_passes_the_validation_options() {
    use certbound_auth::{ValidationOptions, registry_from_metadata_with};
    let mut m = ClientMetadata::new("device-1", TokenEndpointAuthMethod::SelfSignedTlsClientAuth);
    m.jwks_uri = Some("http://127.0.0.1:9/jwks.json".into());
    let err = registry_from_metadata([m.clone()]).unwrap_err();
    assert_eq!(err.field(), "jwks_uri");
    let err = registry_from_metadata_with(ValidationOptions::default(), [m.clone()]).unwrap_err();
    assert_eq!(err.field(), "jwks_uri");
    let testing = ValidationOptions::default().allow_http_jwks_uri_for_testing(true);
    let registry = registry_from_metadata_with(testing, [m]).unwrap();
    assert_eq!(registry["device-1"].client_id(), "device-1");
    // The options loosen only what they name.
    let bad = tls_client("bank-1", DN, "not a DN");
    assert_eq!(
        registry_from_metadata_with(testing, [bad])
            .unwrap_err()
            .field(),
        "tls_client_auth_subject_dn"
    );
}
