//! Hostile certificates: ones rcgen will not write, made by editing the DER
//! of a certificate rcgen did write and signing it again.
//!
//! [`Resigner`] is a root CA that keeps its key, so a test can issue a leaf,
//! rewrite any field of its `TBSCertificate` (serial, names, extensions,
//! version, signature algorithm) and get back a certificate whose signature
//! is the CA's over the edited bytes: only the edit makes it odd.
//!
//! ```
//! use certbound_testkit::hostile::{self, Resigner, TBS_SERIAL};
//! use certbound_testkit::der_tlv;
//!
//! let ca = Resigner::new("Hostile CA");
//! // A negative serial number (RFC 5280 §4.1.2.2 says positive).
//! let leaf = ca.issue(ca.leaf("client"), |tbs| tbs[TBS_SERIAL] = der_tlv(0x02, &[0xff, 0x01]));
//! assert_eq!(hostile::tbs_fields(&leaf.der)[TBS_SERIAL], [0x02, 0x02, 0xff, 0x01]);
//! ```

use rcgen::{CertificateParams, Issuer, KeyPair, SigningKey};

use crate::{LeafBuilder, TestCert, ca_params, der_oid, der_tlv, finish, serial};

/// Index of the version (`[0] EXPLICIT`) in the fields of a v3 `TBSCertificate`.
pub const TBS_VERSION: usize = 0;
/// Index of the serial number.
pub const TBS_SERIAL: usize = 1;
/// Index of the signature algorithm (repeated outside the `TBSCertificate`).
pub const TBS_SIGNATURE: usize = 2;
/// Index of the issuer name.
pub const TBS_ISSUER: usize = 3;
/// Index of the validity.
pub const TBS_VALIDITY: usize = 4;
/// Index of the subject name.
pub const TBS_SUBJECT: usize = 5;
/// Index of the subject public key info.
pub const TBS_SPKI: usize = 6;
/// Index of the extensions (`[3] EXPLICIT`), when present.
pub const TBS_EXTENSIONS: usize = 7;

/// Splits DER content into its TLVs, each kept whole (tag, length, value).
///
/// Panics on malformed input: it is for bytes the test itself built.
pub fn tlvs(mut content: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (header, len) = tlv_header(content);
        out.push(content[..header + len].to_vec());
        content = &content[header + len..];
    }
    out
}

/// The content (value) of one TLV.
pub fn tlv_content(tlv: &[u8]) -> &[u8] {
    let (header, len) = tlv_header(tlv);
    &tlv[header..header + len]
}

fn tlv_header(b: &[u8]) -> (usize, usize) {
    assert!(b.len() >= 2, "truncated TLV");
    let first = b[1];
    if first < 0x80 {
        (2, usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        let len = b[2..2 + n]
            .iter()
            .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
        (2 + n, len)
    }
}

/// The fields of a certificate's `TBSCertificate`, each a whole TLV, in
/// order (see the `TBS_*` indexes, valid for v3 certificates).
pub fn tbs_fields(cert_der: &[u8]) -> Vec<Vec<u8>> {
    let cert = tlvs(tlv_content(cert_der));
    tlvs(tlv_content(&cert[0]))
}

/// The `Extension`s of a v3 certificate's `[3]` extensions field.
pub fn extensions(extensions_field: &[u8]) -> Vec<Vec<u8>> {
    let seq = tlv_content(extensions_field);
    tlvs(tlv_content(seq))
}

/// A `[3] EXPLICIT Extensions` field from `Extension`s.
pub fn extensions_field(extensions: &[Vec<u8>]) -> Vec<u8> {
    der_tlv(0xa3, &der_tlv(0x30, &extensions.concat()))
}

/// One `Extension`: OID, criticality, OCTET STRING of `value`.
pub fn extension(oid: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut body = der_oid(oid);
    if critical {
        body.extend([0x01, 0x01, 0xff]);
    }
    body.extend(der_tlv(0x04, value));
    der_tlv(0x30, &body)
}

/// A `Name` with one single-valued RDN per attribute, in ASN.1 order, each
/// value a UTF8String.
pub fn name(attributes: &[(&[u64], &str)]) -> Vec<u8> {
    let mut rdns = Vec::new();
    for (oid, value) in attributes {
        let mut atv = der_oid(oid);
        atv.extend(der_tlv(0x0c, value.as_bytes()));
        rdns.extend(der_tlv(0x31, &der_tlv(0x30, &atv)));
    }
    der_tlv(0x30, &rdns)
}

/// `depth` SEQUENCEs, each holding the next, around an empty one.
pub fn nested_sequences(depth: usize) -> Vec<u8> {
    let mut der = vec![0x30, 0x00];
    for _ in 0..depth {
        der = der_tlv(0x30, &der);
    }
    der
}

/// An AlgorithmIdentifier with no parameters.
pub fn algorithm(oid: &[u64]) -> Vec<u8> {
    der_tlv(0x30, &der_oid(oid))
}

/// `sha1WithRSAEncryption` (1.2.840.113549.1.1.5), with NULL parameters.
pub fn sha1_with_rsa() -> Vec<u8> {
    let mut body = der_oid(&[1, 2, 840, 113549, 1, 1, 5]);
    body.extend([0x05, 0x00]);
    der_tlv(0x30, &body)
}

/// A root CA that keeps its key and signs edited certificates.
pub struct Resigner {
    params: CertificateParams,
    key: KeyPair,
    /// The CA's own certificate.
    pub cert: TestCert,
}

impl std::fmt::Debug for Resigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resigner").finish_non_exhaustive()
    }
}

impl Resigner {
    /// A self-signed P-256 root CA with this common name.
    pub fn new(cn: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let params = ca_params(cn);
        let serial = params.serial_number.as_ref().unwrap().to_bytes();
        let cert = params.self_signed(&key).unwrap();
        let cert = finish(cert, &key, serial);
        Self { params, key, cert }
    }

    /// Starts a leaf as [`TestCa::leaf`](crate::TestCa::leaf) does: the
    /// common name, clientAuth EKU, valid from a day ago for thirty days.
    pub fn leaf(&self, cn: &str) -> LeafBuilder<'static> {
        let mut builder = crate::self_signed(cn);
        builder.params.is_ca = rcgen::IsCa::ExplicitNoCa;
        builder.params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        builder.params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        builder.params.use_authority_key_identifier_extension = true;
        builder
    }

    /// Issues the leaf, lets `edit` rewrite the fields of its
    /// `TBSCertificate` (see the `TBS_*` indexes), and signs the result
    /// with this CA's key. The outer signature algorithm is the edited
    /// [`TBS_SIGNATURE`] field (the signature itself is always ECDSA P-256
    /// with SHA-256).
    pub fn issue(&self, leaf: LeafBuilder<'_>, edit: impl FnOnce(&mut Vec<Vec<u8>>)) -> TestCert {
        let LeafBuilder {
            mut params, alg, ..
        } = leaf;
        let key = KeyPair::generate_for(alg.alg()).unwrap();
        let serial_number = serial();
        let serial = serial_number.to_bytes();
        params.serial_number = Some(serial_number);
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        let mut out = finish(cert, &key, serial);
        let mut fields = tbs_fields(&out.der);
        edit(&mut fields);
        out.der = self.sign(&fields);
        out.pem = crate::pem_of(&out.der);
        out
    }

    /// A certificate of these `TBSCertificate` fields, signed by this CA.
    pub fn sign(&self, fields: &[Vec<u8>]) -> Vec<u8> {
        let tbs = der_tlv(0x30, &fields.concat());
        let signature = self.key.sign(&tbs).unwrap();
        let algorithm = fields
            .iter()
            .find(|f| f.first() == Some(&0x30) && tlv_content(f).first() == Some(&0x06))
            .cloned()
            .unwrap_or_else(|| algorithm(&[1, 2, 840, 10045, 4, 3, 2]));
        let mut bits = vec![0u8];
        bits.extend(signature);
        let mut body = tbs;
        body.extend(algorithm);
        body.extend(der_tlv(0x03, &bits));
        der_tlv(0x30, &body)
    }
}

/// The base64 of DER (standard alphabet, padded).
fn base64_of(der: &[u8]) -> String {
    crate::pem_of(der)
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect()
}

/// Percent-encodes everything but RFC 3986 unreserved characters, as nginx
/// `$ssl_client_escaped_cert` and Envoy's XFCC `Cert` do.
fn escape_all(s: &str) -> String {
    crate::nginx_escaped_cert(s)
}

/// END lines a client may write to make a lenient reader end its block
/// elsewhere than a strict one: without the trailing dashes, another
/// label, no label.
pub const ALTERED_END_LINES: [&str; 5] = [
    "-----END X",
    "-----END CERTIFICATE",
    "-----END X-----",
    "-----END PRIVATE KEY-----",
    "-----END -----",
];

/// `der`'s certificate as a proxy that replaces the header writes it in
/// `format` (see [`combined_header_values`] for the names): RFC 9440
/// `:base64:`, nginx's escaped PEM, Apache's PEM with spaces for line
/// ends, HAProxy's base64 DER, one Envoy XFCC element with `Cert`.
///
/// Panics on an unknown format name.
pub fn header_value(format: &str, der: &[u8]) -> String {
    let pem = crate::pem_of(der).trim_end().to_owned();
    match format {
        "rfc9440" => format!(":{}:", base64_of(der)),
        "pem-urlencoded" => escape_all(&pem),
        "pem" => pem.replace('\n', " "),
        "der-base64" => base64_of(der),
        "xfcc" => xfcc_element(&escape_all(&pem), None),
        other => panic!("unknown header format {other:?}"),
    }
}

/// One XFCC element as Envoy writes it, `Cert` and `Chain` already escaped.
fn xfcc_element(cert: &str, chain: Option<&str>) -> String {
    let chain = chain.map_or(String::new(), |c| format!(";Chain=\"{c}\""));
    format!("By=spiffe://proxy.example/ns/edge;Cert=\"{cert}\"{chain};Subject=\"CN=x\"")
}

/// Header values a proxy that appends instead of replacing (Apache
/// `RequestHeader append`, HAProxy `add-header`, a copied `$http_`
/// variable in nginx) makes of a client's own header carrying the victim's
/// public certificate (`victim_der`) and the attacker's real one
/// (`attacker_der`): the client's value first, the proxy's after, on one
/// line (with and without a space after the comma, or a space alone) and
/// on two header lines, and with the client's END line altered. Every one
/// must be refused.
///
/// `format` is a certbound header format name: `rfc9440` (`Client-Cert`),
/// `pem-urlencoded`, `pem`, `der-base64` or `xfcc`. Each case is a name
/// and the field lines of the certificate header, in order. For `xfcc`,
/// whose elements are one per hop and counted from the right, two elements
/// on one line are not a combination (the last is the proxy's own), so its
/// cases combine the field lines and, inside `Cert` and `Chain`, two PEM
/// blocks (joined every way, and with the client's END line altered).
///
/// The one generator of such values: the extractor's tests, `certbound
/// inspect`'s and the demo's end-to-end matrix all use it.
///
/// ```
/// use certbound_testkit::{TestCa, hostile};
///
/// let ca = TestCa::new("Clients CA");
/// let (victim, attacker) = (ca.leaf("victim").issue(), ca.leaf("attacker").issue());
/// let cases = hostile::combined_header_values("pem", &victim.der, &attacker.der);
/// assert!(cases.iter().any(|(_, lines)| lines.len() == 2));
/// assert!(cases.iter().any(|(name, _)| name.contains("-----END X")));
/// ```
///
/// Panics on an unknown format name.
pub fn combined_header_values(
    format: &str,
    victim_der: &[u8],
    attacker_der: &[u8],
) -> Vec<(String, Vec<String>)> {
    let pem = |der: &[u8]| crate::pem_of(der).trim_end().to_owned();
    let altered = |end: &str| pem(victim_der).replace("-----END CERTIFICATE-----", end);
    let joins = [(", ", "comma and space"), (",", "comma"), (" ", "space")];
    let mut cases = Vec::new();
    // The client's value and the proxy's, joined every way.
    let mut combine = |victim: String, attacker: String, what: &str| {
        for (join, how) in joins {
            cases.push((
                format!("{what}, one line, {how}"),
                vec![format!("{victim}{join}{attacker}")],
            ));
        }
        cases.push((format!("{what}, two lines"), vec![victim, attacker]));
    };
    match format {
        "rfc9440" => combine(
            format!(":{}:", base64_of(victim_der)),
            format!(":{}:", base64_of(attacker_der)),
            "byte sequences",
        ),
        "pem" | "pem-urlencoded" => {
            // Apache writes the PEM's line ends as spaces; nginx escapes.
            let encode = |text: String| match format {
                "pem" => text.replace('\n', " "),
                _ => escape_all(&text),
            };
            combine(encode(pem(victim_der)), encode(pem(attacker_der)), "blocks");
            for end in ALTERED_END_LINES {
                combine(
                    encode(altered(end)),
                    encode(pem(attacker_der)),
                    &format!("client's block ending {end:?}"),
                );
            }
            // Both blocks in one value: line ends between them.
            cases.push((
                "two blocks, a line end between them".to_owned(),
                vec![encode(format!(
                    "{}\n{}",
                    pem(victim_der),
                    pem(attacker_der)
                ))],
            ));
        }
        "der-base64" => {
            combine(base64_of(victim_der), base64_of(attacker_der), "items");
            let both = [victim_der, attacker_der].concat();
            cases.push((
                "DER back to back in one item".to_owned(),
                vec![base64_of(&both)],
            ));
        }
        "xfcc" => {
            let element = xfcc_element;
            let victim = escape_all(&pem(victim_der));
            let attacker = escape_all(&pem(attacker_der));
            cases.push((
                "two lines".to_owned(),
                vec![element(&victim, None), element(&attacker, None)],
            ));
            for (join, how) in joins {
                let escaped_join = escape_all(join);
                cases.push((
                    format!("Cert of two blocks, {how}"),
                    vec![element(&format!("{victim}{escaped_join}{attacker}"), None)],
                ));
                cases.push((
                    format!("Chain of the victim then the attacker, {how}"),
                    vec![element(
                        &victim,
                        Some(&format!("{victim}{escaped_join}{attacker}")),
                    )],
                ));
                cases.push((
                    format!("Chain of the victim then the attacker, no Cert, {how}"),
                    vec![format!(
                        "By=spiffe://proxy.example/ns/edge;Chain=\"{victim}{escaped_join}{attacker}\""
                    )],
                ));
                for end in ALTERED_END_LINES {
                    let both = format!("{}{escaped_join}{attacker}", escape_all(&altered(end)));
                    cases.push((
                        format!("Cert whose first block ends {end:?}, {how}"),
                        vec![element(&both, None)],
                    ));
                    cases.push((
                        format!("Chain whose first block ends {end:?}, {how}"),
                        vec![element(&victim, Some(&both))],
                    ));
                }
            }
        }
        other => panic!("unknown header format {other:?}"),
    }
    cases
}
