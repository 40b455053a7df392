//! Every header format decodes the RFC 8705 Appendix A certificate and the
//! RFC 9440 example chain to the published thumbprints, from values built
//! the way each proxy writes them.

mod support;

use certbound_extract::header::{self, HeaderDecoder, HeaderError, HeaderFormat, xfcc};
use certbound_extract::{CertSource, ClientCert};
use certbound_testkit::vectors;
use certbound_testkit::{alb_escaped_cert, nginx_escaped_cert};
use support::{Fixture, b64, rfc8705, rfc9440, sha256_hex};

fn thumbprints(cert: &ClientCert) -> Vec<String> {
    std::iter::once(cert.leaf())
        .chain(cert.intermediates())
        .map(|c| c.thumbprint().to_string())
        .collect()
}

fn decode(
    format: HeaderFormat,
    value: &str,
    chain: Option<&str>,
) -> Result<Option<ClientCert>, HeaderError> {
    // These values are chains as Traefik or AWS ALB send them.
    HeaderDecoder::new(format)
        .chain_in_value(true)
        .decode(value.as_bytes(), chain.map(str::as_bytes))
}

fn assert_decodes(format: HeaderFormat, value: &str, chain: Option<&str>, f: &Fixture) {
    let cert = decode(format, value, chain)
        .unwrap_or_else(|e| panic!("{format}: {e} for {value:?}"))
        .unwrap_or_else(|| panic!("{format}: no certificate in {value:?}"));
    assert_eq!(thumbprints(&cert), f.thumbprints, "{format}: {value:?}");
    assert_eq!(
        cert.source(),
        &CertSource::Header {
            name: format.default_header()
        }
    );
}

#[test]
fn rfc9440_published_header_lines_decode() {
    let f = rfc9440();
    let leaf = vectors::header_value(vectors::RFC9440_CLIENT_CERT_HEADER);
    let chain = vectors::header_value(vectors::RFC9440_CLIENT_CERT_CHAIN_HEADER);
    assert_decodes(HeaderFormat::Rfc9440, leaf, Some(chain), &f);

    // As printed in the RFC, folded for display: unfold, then decode.
    let unfold = |s: &'static str| {
        vectors::header_value(s)
            .replace("\n ", "")
            .replace('\n', "")
    };
    let folded_leaf = unfold(vectors::RFC9440_CLIENT_CERT_HEADER_FOLDED);
    let folded_chain = unfold(vectors::RFC9440_CLIENT_CERT_CHAIN_HEADER_FOLDED);
    assert_decodes(HeaderFormat::Rfc9440, &folded_leaf, Some(&folded_chain), &f);
}

#[test]
fn rfc9440_built_values_decode_and_repeated_or_wrong_types_fail() {
    let f = rfc8705();
    assert_decodes(
        HeaderFormat::Rfc9440,
        &format!(":{}:", b64(&f.ders[0])),
        None,
        &f,
    );
    let f = rfc9440();
    let chain = format!(":{}:, :{}:", b64(&f.ders[1]), b64(&f.ders[2]));
    assert_decodes(
        HeaderFormat::Rfc9440,
        &format!(":{}:", b64(&f.ders[0])),
        Some(&chain),
        &f,
    );

    for bad in [
        b64(&f.ders[0]),
        format!("\"{}\"", b64(&f.ders[0])),
        ":AAAA:, :AAAA:".to_owned(),
    ] {
        assert!(
            decode(HeaderFormat::Rfc9440, &bad, None).is_err(),
            "{bad:?}"
        );
    }
    let inner_list = format!("(:{}:)", b64(&f.ders[1]));
    assert!(matches!(
        decode(
            HeaderFormat::Rfc9440,
            &format!(":{}:", b64(&f.ders[0])),
            Some(&inner_list)
        ),
        Err(HeaderError::Chain(_))
    ));
}

#[test]
fn pem_urlencoded_nginx_alb_and_plus_pitfall() {
    for f in [rfc8705(), rfc9440()] {
        let all = f.pems.concat();
        // nginx $ssl_client_escaped_cert and ingress-nginx: everything escaped.
        assert_decodes(
            HeaderFormat::PemUrlEncoded,
            &nginx_escaped_cert(&all),
            None,
            &f,
        );
        // AWS ALB X-Amzn-Mtls-Clientcert: '+', '/' and '=' left as they are.
        let alb = alb_escaped_cert(&all);
        assert!(alb.contains('+'));
        assert_decodes(HeaderFormat::PemUrlEncoded, &alb, None, &f);
        // Leaf in one header, the rest in a chain header.
        assert_decodes(
            HeaderFormat::PemUrlEncoded,
            &alb_escaped_cert(&f.pems[0]),
            Some(&nginx_escaped_cert(&f.pems[1..].concat())),
            &f,
        );
    }
    // Form-decoding ('+' as a space) would yield another certificate or none;
    // RFC 3986 decoding keeps '+': a literal space where '+' was is refused.
    let f = rfc8705();
    let form_mangled = alb_escaped_cert(&f.pems[0]).replace('+', " ");
    match decode(HeaderFormat::PemUrlEncoded, &form_mangled, None) {
        Ok(Some(c)) => assert_ne!(c.thumbprint().to_string(), f.thumbprints[0]),
        Ok(None) => panic!("mangled value decoded to nothing"),
        Err(_) => {}
    }
    assert!(matches!(
        decode(HeaderFormat::PemUrlEncoded, "-----BEGIN%2", None),
        Err(HeaderError::InvalidPercentEncoding { .. })
    ));
}

#[test]
fn pem_with_spaces_tabs_folds_and_apache_null() {
    for f in [rfc8705(), rfc9440()] {
        let all = f.pems.concat();
        for value in [
            all.replace('\n', " "),   // Apache mod_headers
            all.replace('\n', "\t"),  // tabs
            all.replace('\n', " \t"), // nginx $ssl_client_cert, unfolded
            all.trim_end().replace('\n', "\r\n"),
        ] {
            assert_decodes(HeaderFormat::Pem, &value, None, &f);
        }
    }
    assert!(decode(HeaderFormat::Pem, "(null)", None).unwrap().is_none());
    assert!(decode(HeaderFormat::Pem, "", None).unwrap().is_none());
    assert!(matches!(
        decode(HeaderFormat::Pem, "MIIBBjCBrAIBAjAKBggqhkjOPQQDAjAP", None),
        Err(HeaderError::Pem(_))
    ));
}

#[test]
fn der_base64_haproxy_traefik_azure_quoted_and_concatenated() {
    let f = rfc8705();
    assert_decodes(HeaderFormat::DerBase64, &b64(&f.ders[0]), None, &f);
    assert_decodes(
        HeaderFormat::DerBase64,
        &format!("\"{}\"", b64(&f.ders[0])),
        None,
        &f,
    );

    let f = rfc9440();
    let list = f.ders.iter().map(|d| b64(d)).collect::<Vec<_>>();
    // Traefik v3: a comma-separated list, leaf first.
    assert_decodes(HeaderFormat::DerBase64, &list.join(","), None, &f);
    assert_decodes(
        HeaderFormat::DerBase64,
        &format!("\"{}\"", list.join(",")),
        None,
        &f,
    );
    assert_decodes(
        HeaderFormat::DerBase64,
        &list
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", "),
        None,
        &f,
    );
    // HAProxy: %[ssl_c_der,base64] and %[ssl_c_chain_der,base64], the
    // intermediates concatenated before encoding.
    let chain_der = [f.ders[1].clone(), f.ders[2].clone()].concat();
    assert_decodes(
        HeaderFormat::DerBase64,
        &list[0],
        Some(&b64(&chain_der)),
        &f,
    );
    // Even the whole chain concatenated in one value.
    assert_decodes(HeaderFormat::DerBase64, &b64(&f.ders.concat()), None, &f);

    let mut truncated = f.ders.concat();
    truncated.pop();
    assert!(matches!(
        decode(HeaderFormat::DerBase64, &b64(&truncated), None),
        Err(HeaderError::InvalidDer { item: 1, .. })
    ));
    assert!(matches!(
        decode(HeaderFormat::DerBase64, "not base64!", None),
        Err(HeaderError::InvalidBase64 { item: 1 })
    ));
}

fn xfcc_element(f: &Fixture, with_cert: bool, with_chain: bool, hash: Option<String>) -> String {
    let mut pairs = vec!["By=spiffe://cluster.local/ns/default/sa/api".to_owned()];
    pairs.push(format!(
        "Hash={}",
        hash.unwrap_or_else(|| sha256_hex(&f.ders[0]))
    ));
    if with_cert {
        pairs.push(format!("Cert=\"{}\"", nginx_escaped_cert(&f.pems[0])));
    }
    if with_chain {
        pairs.push(format!(
            "Chain=\"{}\"",
            nginx_escaped_cert(&f.pems.concat())
        ));
    }
    pairs.push(r#"Subject="CN=BC,O=Let's Authenticate;OU=a\"b""#.to_owned());
    pairs.push(
        "URI=spiffe://example.org/a;URI=spiffe://example.org/b;DNS=a.example;DNS=b.example"
            .to_owned(),
    );
    pairs.join(";")
}

#[test]
fn xfcc_cert_else_chain_with_hash_check() {
    let f = rfc8705();
    assert_decodes(
        HeaderFormat::Xfcc,
        &xfcc_element(&f, true, false, None),
        None,
        &f,
    );
    let f = rfc9440();
    // Cert and Chain: leaf from Cert, intermediates from the rest of Chain.
    assert_decodes(
        HeaderFormat::Xfcc,
        &xfcc_element(&f, true, true, None),
        None,
        &f,
    );
    // Chain only: its first certificate is the leaf.
    assert_decodes(
        HeaderFormat::Xfcc,
        &xfcc_element(&f, false, true, None),
        None,
        &f,
    );
    // Upper-case hex Hash is the same digest.
    let upper = sha256_hex(&f.ders[0]).to_uppercase();
    assert_decodes(
        HeaderFormat::Xfcc,
        &xfcc_element(&f, true, true, Some(upper)),
        None,
        &f,
    );
    // No Cert and no Chain: no certificate.
    assert!(
        decode(
            HeaderFormat::Xfcc,
            &xfcc_element(&f, false, false, None),
            None
        )
        .unwrap()
        .is_none()
    );
    // A Hash of another certificate is refused.
    let wrong = sha256_hex(&f.ders[1]);
    assert_eq!(
        decode(
            HeaderFormat::Xfcc,
            &xfcc_element(&f, true, false, Some(wrong)),
            None
        )
        .unwrap_err(),
        HeaderError::XfccHashMismatch { element: 1 }
    );
    assert!(matches!(
        decode(
            HeaderFormat::Xfcc,
            &xfcc_element(&f, true, false, Some("xyz".into())),
            None
        ),
        Err(HeaderError::XfccInvalidHash { element: 1 })
    ));
}

#[test]
fn xfcc_selects_the_element_by_hop_from_the_right() {
    let client = rfc9440();
    let gateway = rfc8705();
    // Istio: the ingress gateway appended the client's element, then the
    // sidecar appended one for the gateway.
    let value = format!(
        "{}, {}",
        xfcc_element(&client, true, true, None),
        xfcc_element(&gateway, true, false, None)
    );
    let parsed = xfcc::parse(&value).unwrap();
    assert_eq!(parsed.len(), 2);
    assert_eq!(
        parsed[0].get("subject"),
        Some(r#"CN=BC,O=Let's Authenticate;OU=a"b"#)
    );
    assert_eq!(parsed[0].get_all("dns").count(), 2);

    let one_hop = HeaderDecoder::new(HeaderFormat::Xfcc)
        .decode(value.as_bytes(), None)
        .unwrap()
        .unwrap();
    assert_eq!(thumbprints(&one_hop), gateway.thumbprints);
    let two_hops = HeaderDecoder::new(HeaderFormat::Xfcc)
        .xfcc_hop(2)
        .decode(value.as_bytes(), None)
        .unwrap()
        .unwrap();
    assert_eq!(thumbprints(&two_hops), client.thumbprints);
    // Fewer elements than hops: no certificate, never another element's.
    let three = HeaderDecoder::new(HeaderFormat::Xfcc)
        .xfcc_hop(3)
        .decode(value.as_bytes(), None)
        .unwrap();
    assert!(three.is_none());
    // The selected element has no certificate: none, even if another has one.
    let value = format!(
        "{}, By=spiffe://gw;Hash={}",
        xfcc_element(&client, true, false, None),
        "a".repeat(64)
    );
    assert!(
        HeaderDecoder::new(HeaderFormat::Xfcc)
            .decode(value.as_bytes(), None)
            .unwrap()
            .is_none()
    );
}

#[test]
fn limits_are_enforced_with_clear_errors() {
    let f = rfc9440();
    let list = f.ders.iter().map(|d| b64(d)).collect::<Vec<_>>().join(",");
    let err = HeaderDecoder::new(HeaderFormat::DerBase64)
        .max_chain_len(2)
        .decode(list.as_bytes(), None)
        .unwrap_err();
    assert_eq!(err, HeaderError::TooManyCertificates { count: 3, limit: 2 });
    assert_eq!(
        err.to_string(),
        "the header holds 3 certificates, more than the limit of 2"
    );

    let big = "A".repeat(16 * 1024 + 1);
    assert_eq!(
        header::decode(HeaderFormat::DerBase64, big.as_bytes(), None).unwrap_err(),
        HeaderError::TooLarge {
            len: 16 * 1024 + 1,
            limit: 16 * 1024
        }
    );
    // Five certificates are over the default limit of four.
    let five = std::iter::repeat_n(b64(&f.ders[0]), 5)
        .collect::<Vec<_>>()
        .join(",");
    assert!(matches!(
        header::decode(HeaderFormat::DerBase64, five.as_bytes(), None),
        Err(HeaderError::TooManyCertificates { count: 5, limit: 4 })
    ));
}

#[test]
fn format_names_round_trip() {
    for f in HeaderFormat::ALL {
        assert_eq!(f.as_str().parse::<HeaderFormat>().unwrap(), f);
    }
    assert!("json".parse::<HeaderFormat>().is_err());
}
