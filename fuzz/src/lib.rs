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
/// checks what comes out: at most the chain limit, every certificate sound,
/// every certificate's DER found whole in the value's decoded bytes (the
/// decoder returns nothing the value does not hold), a list that is a leaf
/// and then CA certificates, and the same answer from `ClientCertLayer`
/// (twice: the second from its memo) as from the decoder. All of it with
/// the leaf alone in the value (the default) and with `chain_in_value`.
pub fn check_header(
    format: certbound_extract::header::HeaderFormat,
    value: &[u8],
    chain: Option<&[u8]>,
    hop: usize,
) {
    for in_value in [false, true] {
        check_header_as(format, value, chain, hop, in_value);
    }
}

/// [`check_header`] with `chain_in_value(in_value)`.
fn check_header_as(
    format: certbound_extract::header::HeaderFormat,
    value: &[u8],
    chain: Option<&[u8]>,
    hop: usize,
    in_value: bool,
) {
    use certbound_extract::header::{DEFAULT_MAX_CHAIN_LEN, HeaderDecoder};
    let decoder = HeaderDecoder::new(format)
        .xfcc_hop(hop)
        .chain_in_value(in_value);
    let decoded = decoder.decode_chain(value, chain);
    if let Ok(Some((leaf, intermediates))) = &decoded {
        assert!(1 + intermediates.len() <= DEFAULT_MAX_CHAIN_LEN);
        let pieces = [value]
            .into_iter()
            .chain(chain)
            .flat_map(|v| decoded_pieces(format, v))
            .collect::<Vec<_>>();
        for c in std::iter::once(leaf).chain(intermediates) {
            check_certificate(c);
            assert!(
                pieces.iter().any(|p| contains(p, c.der())),
                "a decoded certificate is not in the value's decoded bytes"
            );
        }
        assert!(
            intermediates.iter().all(|c| c.is_ca()),
            "a non-CA certificate after the leaf"
        );
        assert!(
            intermediates.is_empty() || !leaf.is_self_issued(),
            "certificates after a self-issued leaf"
        );
        // The ClientCert form must agree with the raw chain.
        if let Ok(Some(client)) = decoder.decode(value, chain) {
            assert_eq!(client.leaf(), leaf);
            assert_eq!(client.intermediates(), &intermediates[..]);
        } else {
            panic!("decode_chain succeeded but decode did not");
        }
    }
    // A value refused by the guard (it combines two values) is refused by
    // every entry point: `header::decode`, `decode`, `decode_lines` (which
    // `certbound inspect` calls), and the layer below.
    if let Err(e) = &decoded {
        if e.is_combined() {
            if hop == 1 && !in_value {
                assert!(
                    certbound_extract::header::decode(format, value, chain).is_err(),
                    "header::decode took a combined value"
                );
            }
            assert!(
                decoder.decode(value, chain).is_err(),
                "decode took a combined value"
            );
            assert_eq!(
                decoder.decode_lines([value], chain).err().as_ref(),
                Some(e),
                "decode_lines and decode_chain disagree"
            );
        }
    }
    let expected = match &decoded {
        Ok(certs) => Ok(certs
            .as_ref()
            .map(|(leaf, _)| leaf.thumbprint().to_string())),
        Err(_) => Err(()),
    };
    if let Some(first) = layer_answer(format, value, chain, hop, in_value) {
        assert_eq!(first, expected, "the layer and the decoder disagree");
        assert_eq!(
            layer_answer(format, value, chain, hop, in_value),
            Some(first),
            "the memo changed the answer"
        );
    }
    // A tight limit must never be exceeded either.
    let tight = HeaderDecoder::new(format)
        .xfcc_hop(hop)
        .chain_in_value(in_value)
        .max_chain_len(1)
        .max_header_len(64);
    if let Ok(Some((_, intermediates))) = tight.decode_chain(value, chain) {
        assert!(intermediates.is_empty());
        assert!(value.len() <= 64);
    }
}

/// The header given as several field lines (`lines`, split on [`SEP`]),
/// as a proxy that appends instead of replacing forwards it: each line is
/// checked on its own with [`check_header`]; more than one is refused by
/// the decoder's `decode_lines` (as combined, whatever the lines hold) and
/// by `ClientCertLayer`, and one line reads as `decode_chain` reads it.
pub fn check_header_lines(
    format: certbound_extract::header::HeaderFormat,
    lines: &[&[u8]],
    hop: usize,
) {
    use certbound_extract::header::{HeaderDecoder, HeaderError};
    for line in lines {
        check_header(format, line, None, hop);
    }
    let decoder = HeaderDecoder::new(format).xfcc_hop(hop);
    let read = decoder.decode_lines(lines.iter().copied(), []);
    match lines {
        [] => assert!(matches!(read, Ok(None))),
        [one] => assert_eq!(read, decoder.decode_chain(one, None)),
        more => {
            assert_eq!(read, Err(HeaderError::Repeated { count: more.len() }));
            assert!(read.is_err_and(|e| e.is_combined()));
            if let Some(answer) = layer_answer_lines(format, lines, None, hop, false) {
                assert_eq!(answer, Err(()), "the layer took repeated header lines");
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The bytes a header value holds, read independently of the decoders and
/// more loosely: percent-decoded (URL-encoded PEM, each XFCC value),
/// white space removed, cut at every character that cannot be base64 in
/// the format (the dashes of PEM lines, the colons of RFC 9440, the commas
/// and quotes of lists), and each piece base64-decoded, standard or
/// URL-safe alphabet, padding optional, trailing bits ignored.
pub fn decoded_pieces(
    format: certbound_extract::header::HeaderFormat,
    value: &[u8],
) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use certbound_extract::header::{HeaderFormat, percent_decode, xfcc};
    const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
    let Ok(text) = std::str::from_utf8(value) else {
        return Vec::new();
    };
    let texts: Vec<String> = match format {
        HeaderFormat::PemUrlEncoded => percent_decode(value)
            .ok()
            .and_then(|d| String::from_utf8(d.into_owned()).ok())
            .into_iter()
            .collect(),
        HeaderFormat::Xfcc => xfcc::parse(text)
            .into_iter()
            .flatten()
            .flat_map(|e| e.pairs().to_vec())
            .filter_map(|(_, v)| {
                let d = percent_decode(v.as_bytes()).ok()?;
                String::from_utf8(d.into_owned()).ok()
            })
            .collect(),
        _ => vec![text.to_owned()],
    };
    let cut: &[char] = match format {
        HeaderFormat::DerBase64 => &[',', '"'],
        HeaderFormat::Rfc9440 => &[':', ',', ';'],
        _ => &['-'],
    };
    let mut pieces = Vec::new();
    for text in texts {
        let stripped: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        for piece in stripped.split(cut).filter(|p| !p.is_empty()) {
            pieces.extend(STANDARD.decode(piece).ok());
            pieces.extend(URL_SAFE.decode(piece).ok());
        }
    }
    pieces
}

/// What `ClientCertLayer` from a trusted proxy makes of the value, as the
/// decoder's answer is compared: `Err(())` for a refusal (400), else the
/// thumbprint the service saw, if any. `None` when the request cannot be
/// made (bytes a header value cannot hold, or a chain header the format's
/// layer does not read).
fn layer_answer(
    format: certbound_extract::header::HeaderFormat,
    value: &[u8],
    chain: Option<&[u8]>,
    hop: usize,
    in_value: bool,
) -> Option<Result<Option<String>, ()>> {
    layer_answer_lines(format, &[value], chain, hop, in_value)
}

/// [`layer_answer`] with the header on these field lines.
fn layer_answer_lines(
    format: certbound_extract::header::HeaderFormat,
    lines: &[&[u8]],
    chain: Option<&[u8]>,
    hop: usize,
    in_value: bool,
) -> Option<Result<Option<String>, ()>> {
    use certbound_extract::header::HeaderFormat;
    use certbound_extract::{ClientCert, ClientCertLayer, HeaderSource, PeerAddr};
    use std::convert::Infallible;
    use std::future::Future;
    use std::task::{Context, Poll};
    use tower_layer::Layer;
    use tower_service::Service;

    /// Answers with the thumbprint it was given, in `x-seen`.
    #[derive(Clone)]
    struct Seen;
    impl Service<http::Request<()>> for Seen {
        type Response = http::Response<String>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Self::Response, Infallible>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, req: http::Request<()>) -> Self::Future {
            let mut res = http::Response::new(String::new());
            if let Some(c) = req.extensions().get::<ClientCert>() {
                if let Ok(v) = http::HeaderValue::from_str(&c.thumbprint().to_string()) {
                    res.headers_mut().insert("x-seen", v);
                }
            }
            std::future::ready(Ok(res))
        }
    }

    // One layer per format, hop and `chain_in_value` for the process, so
    // that a value seen before is answered from the layer's memo.
    type Key = (HeaderFormat, usize, bool);
    thread_local! {
        static LAYERS: std::cell::RefCell<Vec<(Key, ClientCertLayer)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    let layer = LAYERS.with(|layers| {
        let mut layers = layers.borrow_mut();
        if let Some((_, l)) = layers.iter().find(|(k, _)| *k == (format, hop, in_value)) {
            return l.clone();
        }
        let trusted = "192.0.2.0/24".parse().expect("a network");
        let l = ClientCertLayer::header(
            HeaderSource::new(format)
                .xfcc_hop(hop)
                .chain_in_value(in_value)
                .trusted_proxies([trusted]),
        );
        layers.push(((format, hop, in_value), l.clone()));
        l
    });

    let mut req = http::Request::new(());
    for line in lines {
        req.headers_mut().append(
            format.default_header(),
            http::HeaderValue::from_bytes(line).ok()?,
        );
    }
    if let Some(chain) = chain {
        req.headers_mut().insert(
            format.default_chain_header()?,
            http::HeaderValue::from_bytes(chain).ok()?,
        );
    }
    req.extensions_mut()
        .insert(PeerAddr("192.0.2.1:1234".parse().expect("an address")));
    let mut svc = layer.layer(Seen);
    let mut future = std::pin::pin!(svc.call(req));
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let Poll::Ready(Ok(response)) = future.as_mut().poll(&mut cx) else {
        panic!("the layer over a ready service did not answer at once");
    };
    match response.status() {
        http::StatusCode::OK => Some(Ok(response
            .headers()
            .get("x-seen")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned))),
        http::StatusCode::BAD_REQUEST => Some(Err(())),
        other => panic!("the layer answered {other}"),
    }
}
