//! Header values that combine two sources, as a proxy that appends the
//! client's certificate header instead of replacing it forwards them: the
//! client's value first (the victim's public certificate, copied), then the
//! proxy's (the attacker's real certificate).
//!
//! ```
//! use certbound_testkit::{TestCa, combined::combined_values};
//!
//! let ca = TestCa::new("Test CA");
//! let (victim, attacker) = (ca.leaf("victim").issue(), ca.leaf("attacker").issue());
//! let cases = combined_values("pem", &victim.der, &attacker.der);
//! assert_eq!(cases[0].name, "alone");
//! assert_eq!(cases[0].lines.len(), 1);
//! assert!(cases.iter().any(|c| c.lines.len() == 2));
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// One way of combining two values: header lines, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CombinedValue {
    /// What the case is, for test messages (`"alone"` is the client's value
    /// by itself, as an honest proxy would forward it).
    pub name: String,
    /// The header lines to send, in order.
    pub lines: Vec<String>,
}

/// PEM with the END line given.
fn pem_with_end(der: &[u8], end: &str) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(end);
    out.push('\n');
    out
}

fn pem(der: &[u8]) -> String {
    pem_with_end(der, "-----END CERTIFICATE-----")
}

/// nginx's `$ssl_client_escaped_cert`: every byte but the unreserved ones
/// percent-encoded.
pub fn url_escape(text: &str) -> String {
    crate::nginx_escaped_cert(text)
}

/// Apache's `%{SSL_CLIENT_CERT}s` through mod_headers: newlines become spaces.
fn pem_one_line(text: &str) -> String {
    text.trim_end().lines().collect::<Vec<_>>().join(" ")
}

/// The END lines a client may write to make a lenient reader run past its
/// block: another label, the right label without its dashes, a bare `END`.
const ALTERED_ENDS: [&str; 4] = [
    "-----END X-----",
    "-----END CERTIFICATE",
    "-----END PUBLIC KEY-----",
    "-----END",
];

/// The client's value and the proxy's, combined every way an appending
/// proxy does: on one line (`, ` and `,`) and on two lines; for the PEM
/// formats also with the client's END line altered. The first case,
/// `"alone"`, is `client` by itself, as an honest proxy forwards it.
///
/// `format` is a `--cert-format` name: `rfc9440`, `pem-urlencoded`, `pem`,
/// `der-base64`, `xfcc`.
pub fn combined_values(format: &str, client: &[u8], proxy: &[u8]) -> Vec<CombinedValue> {
    let encode = |der: &[u8]| -> String {
        match format {
            "rfc9440" => format!(":{}:", STANDARD.encode(der)),
            "pem-urlencoded" => url_escape(&pem(der)),
            "pem" => pem_one_line(&pem(der)),
            "der-base64" => STANDARD.encode(der),
            "xfcc" => format!("Cert=\"{}\"", url_escape(&pem(der))),
            other => panic!("no such format: {other}"),
        }
    };
    let (c, p) = (encode(client), encode(proxy));
    let case = |name: &str, lines: Vec<String>| CombinedValue {
        name: name.to_owned(),
        lines,
    };
    let mut cases = vec![
        case("alone", vec![c.clone()]),
        case("one line, comma and space", vec![format!("{c}, {p}")]),
        case("one line, comma", vec![format!("{c},{p}")]),
        case("two lines", vec![c.clone(), p.clone()]),
    ];
    if matches!(format, "pem" | "pem-urlencoded") {
        // Apache's `RequestHeader append` joins with ", "; a copied nginx
        // variable may put the two blocks side by side.
        cases.push(case("one line, space", vec![format!("{c} {p}")]));
        for end in ALTERED_ENDS {
            let altered = pem_with_end(client, end);
            let (altered, proxy_pem) = match format {
                "pem" => (pem_one_line(&altered), pem_one_line(&pem(proxy))),
                _ => (url_escape(&altered), url_escape(&pem(proxy))),
            };
            cases.push(case(
                &format!("END line {end:?}, one line"),
                vec![format!("{altered}, {proxy_pem}")],
            ));
            cases.push(case(
                &format!("END line {end:?}, no separator"),
                vec![format!("{altered}{proxy_pem}")],
            ));
            cases.push(case(
                &format!("END line {end:?}, two lines"),
                vec![altered, proxy_pem],
            ));
        }
    }
    cases
}
