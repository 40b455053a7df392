//! Helpers shared by the fuzz targets and the seed generator.
//!
//! Multi-part inputs are split on [`SEP`], a byte that never occurs in UTF-8
//! text, so each part of a seed stays readable and libFuzzer can move the
//! boundary by inserting or deleting one byte.

use certbound_cert::{DistinguishedName, DnMatchOptions, dn::MAX_DN_STRING_LEN};

/// Separates the parts of a multi-part input.
pub const SEP: u8 = 0xFF;

/// The input's parts: `input` split on [`SEP`].
pub fn parts(input: &[u8]) -> Vec<&[u8]> {
    input.split(|b| *b == SEP).collect()
}

/// Joins parts with [`SEP`] (seed generation).
pub fn join(parts: &[&[u8]]) -> Vec<u8> {
    parts.join(&SEP)
}

/// The P-256 key the `jwt_validate` target trusts, as a private JWK (the
/// seed generator signs with it). Generated for this crate; it protects
/// nothing.
pub const JWT_PRIVATE_JWK: &str = r#"{"kty":"EC","crv":"P-256","kid":"fuzz-1","alg":"ES256","use":"sig","x":"h9zStNvQZkc82HEDV7coFHLEIU0GfSDRsDSJ_oD3mEk","y":"V_dow5DlVeIIdhoeYcKfUHrPt2RWl4OXZzSXs1SwQDM","d":"UGUD9-bss_9pnEJFxxS5Y8d8N-CeR7lGLqjXKkR-fb4"}"#;

/// The public half of [`JWT_PRIVATE_JWK`] as a JWK set.
pub const JWT_PUBLIC_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"fuzz-1","alg":"ES256","use":"sig","x":"h9zStNvQZkc82HEDV7coFHLEIU0GfSDRsDSJ_oD3mEk","y":"V_dow5DlVeIIdhoeYcKfUHrPt2RWl4OXZzSXs1SwQDM"}]}"#;

/// The issuer and audience the `jwt_validate` target expects.
pub const JWT_ISSUER: &str = "https://as.fuzz.example";
/// See [`JWT_ISSUER`].
pub const JWT_AUDIENCE: &str = "https://rs.fuzz.example";

/// Whether the RFC 4514 parser accepts `oid` as a dotted-decimal type (the
/// rule of certbound-cert's private `attr::is_numeric_oid`).
pub fn is_parsable_oid(oid: &str) -> bool {
    let mut arcs = 0;
    for (i, arc) in oid.split('.').enumerate() {
        if arc.is_empty()
            || !arc.bytes().all(|b| b.is_ascii_digit())
            || (arc.len() > 1 && arc.starts_with('0'))
            || arc.len() > 20
            || (i == 0 && !matches!(arc, "0" | "1" | "2"))
        {
            return false;
        }
        arcs += 1;
    }
    arcs >= 2
}

/// The invariants every parsed name must keep:
///
/// - it matches itself, in both modes;
/// - its RFC 4514 string parses again (when within the length limit, and
///   when every attribute type is an OID the parser accepts: a certificate
///   may carry an empty or out-of-range OID, which x509-parser still
///   prints, and no RFC 4514 string can name), and the re-parsed name
///   matches the original both ways;
/// - printing the re-parsed name gives the same string (printing is a
///   fixed point after one round).
pub fn check_dn_invariants(dn: &DistinguishedName) {
    let any_order = DnMatchOptions::new().ignore_rdn_order(true);
    assert!(dn.matches(dn), "a DN must match itself: {dn:?}");
    assert!(
        dn.matches_with(dn, any_order),
        "a DN must match itself in any order: {dn:?}"
    );
    let printed = dn.to_string();
    if printed.len() > MAX_DN_STRING_LEN || !dn.attributes().all(|a| is_parsable_oid(a.oid())) {
        return;
    }
    let reparsed: DistinguishedName = match printed.parse() {
        Ok(d) => d,
        Err(e) => panic!("the printed DN {printed:?} does not parse again: {e} (from {dn:?})"),
    };
    assert!(
        dn.matches(&reparsed) && reparsed.matches(dn),
        "the printed DN {printed:?} does not match the original\noriginal: {dn:?}\nreparsed: {reparsed:?}"
    );
    assert_eq!(
        reparsed.to_string(),
        printed,
        "printing is not stable after one round: {dn:?}"
    );
}

/// The invariants of a certificate that was read: its thumbprint is the
/// SHA-256 of its DER, its DER reads to an equal certificate, x509-parser
/// parses it, its names keep the DN invariants, and each of its own SANs
/// matches itself.
pub fn check_certificate(cert: &certbound_cert::Certificate) {
    use certbound_cert::{Certificate, Thumbprint};
    assert_eq!(cert.thumbprint(), Thumbprint::of_der(cert.der()));
    match Certificate::from_der(cert.der().to_vec()) {
        Ok(again) => assert_eq!(&again, cert),
        Err(e) => panic!("a parsed certificate's DER does not parse again: {e}"),
    }
    assert!(cert.parsed().is_ok());
    let _ = cert.validity();
    let _ = cert.is_self_issued();
    check_dn_invariants(cert.subject());
    check_dn_invariants(cert.issuer());
    if let Ok(sans) = cert.subject_alt_names() {
        for d in &sans.dns {
            assert_eq!(sans.has_dns(d), !d.is_empty(), "dNSName {d:?} vs itself");
        }
        for u in &sans.uri {
            assert_eq!(sans.has_uri(u), !u.is_empty(), "URI {u:?} vs itself");
        }
        for ip in &sans.ip {
            assert!(sans.has_ip(&ip.to_string()), "IP {ip} vs itself");
        }
        for e in &sans.email {
            let well_formed = e
                .rsplit_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty());
            assert_eq!(sans.has_email(e), well_formed, "email {e:?} vs itself");
        }
    }
}

/// Decodes `value` (and `chain`) in `format` with the default limits and
/// checks what comes out: at most the chain limit, every certificate sound.
pub fn check_header(
    format: certbound_extract::header::HeaderFormat,
    value: &[u8],
    chain: Option<&[u8]>,
    hop: usize,
) {
    use certbound_extract::header::{DEFAULT_MAX_CHAIN_LEN, HeaderDecoder};
    let decoder = HeaderDecoder::new(format).xfcc_hop(hop);
    if let Ok(Some((leaf, intermediates))) = decoder.decode_chain(value, chain) {
        assert!(1 + intermediates.len() <= DEFAULT_MAX_CHAIN_LEN);
        check_certificate(&leaf);
        for c in &intermediates {
            check_certificate(c);
        }
        // The ClientCert form must agree with the raw chain.
        if let Ok(Some(client)) = decoder.decode(value, chain) {
            assert_eq!(client.leaf(), &leaf);
            assert_eq!(client.intermediates(), &intermediates[..]);
        } else {
            panic!("decode_chain succeeded but decode did not");
        }
    }
    // A tight limit must never be exceeded either.
    let tight = HeaderDecoder::new(format)
        .xfcc_hop(hop)
        .max_chain_len(1)
        .max_header_len(64);
    if let Ok(Some((_, intermediates))) = tight.decode_chain(value, chain) {
        assert!(intermediates.is_empty());
        assert!(value.len() <= 64);
    }
}
