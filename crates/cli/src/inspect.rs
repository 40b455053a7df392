//! `certbound inspect`: decode a proxy's client-certificate header value and
//! show what is in it. The tool for "the certificate doesn't arrive".

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use certbound_cert::Certificate;
use certbound_extract::header::{HeaderDecoder, HeaderError, HeaderFormat, xfcc};
use serde_json::{Value, json};

use crate::input;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The header format: rfc9440, pem-urlencoded, pem, der-base64, xfcc, or
    /// auto (guesses, and says which).
    #[arg(long, short, default_value = "auto")]
    format: String,
    /// The chain header's value (RFC 9440 Client-Cert-Chain, or the same
    /// format as the certificate header). Given twice, two field lines:
    /// refused, as the library refuses them.
    #[arg(long)]
    chain: Vec<String>,
    /// The proxy puts the client's chain into the certificate header after
    /// the leaf (Traefik, AWS ALB's X-Amzn-Mtls-Clientcert); without it,
    /// a value with several certificates is refused as combined, as the
    /// library refuses it by default.
    #[arg(long)]
    chain_in_value: bool,
    /// For xfcc: which element describes the client, counted from the right
    /// (1 = the last, one proxy; 2 behind an Istio gateway and sidecar).
    #[arg(long, default_value_t = 1)]
    xfcc_hop: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// The header value; `-` or nothing reads standard input. A leading
    /// `Header-Name: ` is ignored. Several values are several field lines
    /// of the header, as a proxy that appends forwards them (refused, and
    /// explained); on standard input, several lines that each start with
    /// `Header-Name: ` are too.
    #[arg(allow_hyphen_values = true)]
    values: Vec<String>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let stdin;
    let raw: Vec<&str> = match &args.values[..] {
        [] => vec!["-"],
        values => values.iter().map(String::as_str).collect(),
    };
    let lines: Vec<&str> = if raw.contains(&"-") {
        if raw.len() > 1 {
            return input::bad_input("`-` (standard input) must be the only value");
        }
        stdin = match input::read_bytes(None) {
            Ok(b) => match String::from_utf8(b) {
                Ok(s) => s,
                Err(e) => {
                    return input::bad_input(format!(
                        "standard input is not UTF-8 text (bad byte at {})",
                        e.utf8_error().valid_up_to()
                    ));
                }
            },
            Err(e) => return input::bad_input(e),
        };
        field_lines(&stdin)
    } else {
        raw.iter().map(|v| strip_header_name(v.trim())).collect()
    };
    let chain_lines: Vec<&str> = args
        .chain
        .iter()
        .map(|c| strip_header_name(c.trim()))
        .collect();
    let value = lines.first().copied().unwrap_or_default();

    let (format, guessed) = if args.format.eq_ignore_ascii_case("auto") {
        match guess(value) {
            Some(f) => (f, true),
            None => {
                return input::bad_input(format!(
                    "cannot guess the format of {}; pass --format (rfc9440, pem-urlencoded, pem, der-base64, xfcc)",
                    describe(value)
                ));
            }
        }
    } else {
        match args.format.parse::<HeaderFormat>() {
            Ok(f) => (f, false),
            Err(e) => return input::bad_input(e),
        }
    };
    let how = if guessed { " (guessed)" } else { "" };

    // The library's own reading, field lines included: what inspect
    // refuses, ClientCertLayer refuses.
    let decoder = HeaderDecoder::new(format)
        .chain_in_value(args.chain_in_value)
        .xfcc_hop(args.xfcc_hop);
    let decoded = decoder.decode_lines(
        lines.iter().map(|l| l.as_bytes()),
        chain_lines.iter().map(|l| l.as_bytes()),
    );
    let certs = match decoded {
        Ok(Some((leaf, rest))) => std::iter::once(leaf).chain(rest).collect::<Vec<_>>(),
        Ok(None) => Vec::new(),
        Err(HeaderError::Repeated { count }) => {
            return repeated(&decoder, "", &lines, count, how);
        }
        Err(HeaderError::Chain(e)) if matches!(*e, HeaderError::Repeated { .. }) => {
            let count = chain_lines.len();
            return repeated(&decoder, "chain ", &chain_lines, count, how);
        }
        Err(e) => {
            let hint = match guess(value) {
                Some(g) if g != format => format!(" (it looks like {g})"),
                _ => String::new(),
            };
            let combined = if e.is_combined() {
                "refused, values were combined: "
            } else {
                ""
            };
            return input::bad_input(format!(
                "{format}{how}: {combined}{e}; the value was {}{hint}",
                describe(value)
            ));
        }
    };
    let elements = if format == HeaderFormat::Xfcc {
        xfcc::parse(value).ok()
    } else {
        None
    };

    if args.json {
        let mut out = json!({
            "format": format.as_str(),
            "certificates": certs.iter().map(cert_json).collect::<Vec<_>>(),
        });
        if let Some(elements) = &elements {
            out["elements"] = Value::Array(
                elements
                    .iter()
                    .enumerate()
                    .map(|(i, el)| element_json(i, elements.len(), el, args.xfcc_hop))
                    .collect(),
            );
        }
        outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        outln!("format: {format}{how}");
        if let Some(elements) = &elements {
            print_elements(elements, args.xfcc_hop);
        }
        for (i, cert) in certs.iter().enumerate() {
            let role = if i == 0 { "leaf" } else { "intermediate" };
            outln!("certificate {} ({role})", i + 1);
            print_cert(cert, "  ");
        }
    }
    if certs.is_empty() {
        errln!(
            "no certificate: {}",
            match format {
                HeaderFormat::Xfcc =>
                    "the selected x-forwarded-client-cert element has no Cert or Chain (or there are fewer elements than --xfcc-hop)",
                _ => "the value is empty or says the client sent none",
            }
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Several field lines of one header: refused (exit 2), saying what each
/// line holds on its own, so that a person sees whose certificates were
/// combined.
fn repeated(
    decoder: &HeaderDecoder,
    which: &str,
    lines: &[&str],
    count: usize,
    how: &str,
) -> ExitCode {
    let format = decoder.format();
    errln!(
        "error: {format}{how}: refused: repeated header lines: values were combined (the {which}header appears {count} times; a proxy must replace the client's header, not append to it)"
    );
    for (i, line) in lines.iter().enumerate() {
        let what = match decoder.decode_chain(line.as_bytes(), None) {
            Ok(Some((leaf, _))) => format!("{}, x5t#S256 {}", leaf.subject(), leaf.thumbprint()),
            Ok(None) => "no certificate".to_owned(),
            Err(e) => format!("unreadable on its own: {e}"),
        };
        errln!("  line {}: {what}", i + 1);
    }
    ExitCode::from(input::BAD_INPUT)
}

/// The field lines in standard input: each line when there are several and
/// each starts with `Header-Name: ` (a request's header lines pasted),
/// else the whole text as one value (PEM may span lines).
fn field_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() > 1 && lines.iter().all(|l| header_name(l).is_some()) {
        lines.into_iter().map(strip_header_name).collect()
    } else {
        vec![strip_header_name(text.trim())]
    }
}

/// The value after a leading header name: `Client-Cert: :MIIB...:` ->
/// `:MIIB...:`. A name is a token of letters, digits, `-` and `_` with a
/// letter in it, followed by a colon and white space; no value of any
/// format starts that way (RFC 9440 starts with a colon, XFCC keys with
/// `=`, PEM with dashes, base64 has no colon), so this never changes what
/// a valid value says.
fn header_name(v: &str) -> Option<&str> {
    let (name, rest) = v.split_once(':')?;
    let is_name = name.bytes().any(|b| b.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (is_name && rest.starts_with([' ', '\t'])).then_some(rest)
}

fn strip_header_name(v: &str) -> &str {
    header_name(v).map_or(v, str::trim)
}

/// A short description of a value for error messages: its length and start.
fn describe(v: &str) -> String {
    let start: String = v.chars().take(40).collect();
    let more = if v.chars().count() > 40 { "..." } else { "" };
    format!("{} bytes starting {start:?}{more}", v.len())
}

/// Guesses the format of a value, for people (the library never guesses).
fn guess(v: &str) -> Option<HeaderFormat> {
    let v = v.trim();
    if v.starts_with(':') {
        return Some(HeaderFormat::Rfc9440);
    }
    if let Ok(elements) = xfcc::parse(v) {
        const KEYS: [&str; 7] = ["By", "Hash", "Cert", "Chain", "Subject", "URI", "DNS"];
        if elements
            .iter()
            .flat_map(|e| e.pairs())
            .any(|(k, _)| KEYS.iter().any(|known| known.eq_ignore_ascii_case(k)))
        {
            return Some(HeaderFormat::Xfcc);
        }
    }
    let upper = v.to_ascii_uppercase();
    if upper.contains("BEGIN") && (v.contains('%')) {
        return Some(HeaderFormat::PemUrlEncoded);
    }
    if v.contains("-----BEGIN") || v == "(null)" {
        return Some(HeaderFormat::Pem);
    }
    if !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=-_,\" \t".contains(&b))
    {
        return Some(HeaderFormat::DerBase64);
    }
    None
}

fn print_elements(elements: &[xfcc::XfccElement], hop: usize) {
    let n = elements.len();
    for (i, el) in elements.iter().enumerate() {
        let from_right = n - i;
        let selected = if from_right == hop.max(1) {
            ", selected"
        } else {
            ""
        };
        outln!(
            "element {} of {n} (hop {from_right} from the right{selected})",
            i + 1
        );
        for (k, v) in el.pairs() {
            if k.eq_ignore_ascii_case("cert") || k.eq_ignore_ascii_case("chain") {
                outln!("  {k}: ({} bytes, URL-encoded PEM)", v.len());
            } else {
                outln!("  {k}: {v}");
            }
        }
        match el.certificate(i + 1) {
            Ok(Some((leaf, rest))) => {
                outln!(
                    "  certificate: x5t#S256 {} ({} intermediates)",
                    leaf.thumbprint(),
                    rest.len()
                );
            }
            Ok(None) => outln!("  certificate: none"),
            Err(e) => outln!("  certificate: error: {e}"),
        }
    }
}

fn element_json(i: usize, n: usize, el: &xfcc::XfccElement, hop: usize) -> Value {
    let mut out = json!({
        "position": i + 1,
        "hop": n - i,
        "selected": n - i == hop.max(1),
        "fields": el.pairs().iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
    });
    match el.certificate(i + 1) {
        Ok(Some((leaf, _))) => out["certificate"] = cert_json(&leaf),
        Ok(None) => {}
        Err(e) => out["error"] = Value::String(e.to_string()),
    }
    out
}

fn cert_json(cert: &Certificate) -> Value {
    let validity = cert.validity();
    let san = match cert.subject_alt_names() {
        Ok(s) => json!({
            "dns": s.dns,
            "uri": s.uri,
            "ip": s.ip.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "email": s.email,
        }),
        Err(e) => json!({ "error": e.to_string() }),
    };
    json!({
        "x5t#S256": cert.thumbprint().to_string(),
        "subject": cert.subject().to_string(),
        "issuer": cert.issuer().to_string(),
        "san": san,
        "not_before": rfc3339(validity.not_before),
        "not_after": rfc3339(validity.not_after),
    })
}

fn print_cert(cert: &Certificate, indent: &str) {
    let validity = cert.validity();
    outln!("{indent}subject:    {}", cert.subject());
    outln!("{indent}issuer:     {}", cert.issuer());
    match cert.subject_alt_names() {
        Ok(s) => {
            let all: Vec<String> = s
                .dns
                .iter()
                .map(|d| format!("DNS:{d}"))
                .chain(s.uri.iter().map(|u| format!("URI:{u}")))
                .chain(s.ip.iter().map(|i| format!("IP:{i}")))
                .chain(s.email.iter().map(|e| format!("email:{e}")))
                .collect();
            let shown = if all.is_empty() {
                "none".to_owned()
            } else {
                all.join(", ")
            };
            outln!("{indent}san:        {shown}");
        }
        Err(e) => outln!("{indent}san:        error: {e}"),
    }
    let now = SystemTime::now();
    let state = if validity.contains(now) {
        "valid now"
    } else if now < validity.not_before {
        "NOT YET VALID"
    } else {
        "EXPIRED"
    };
    outln!("{indent}not before: {}", rfc3339(validity.not_before));
    outln!(
        "{indent}not after:  {} ({state})",
        rfc3339(validity.not_after)
    );
    outln!("{indent}x5t#S256:   {}", cert.thumbprint());
}

/// RFC 3339 in UTC, whole seconds.
fn rfc3339(t: SystemTime) -> String {
    let secs: i64 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_539_866_229)),
            "2018-10-18T12:37:09Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn guesses_each_format() {
        assert_eq!(guess(":MIIB:"), Some(HeaderFormat::Rfc9440));
        assert_eq!(
            guess("-----BEGIN%20CERTIFICATE-----%0AMII"),
            Some(HeaderFormat::PemUrlEncoded)
        );
        assert_eq!(
            guess("%2D%2D%2D%2D%2DBEGIN%20CERT"),
            Some(HeaderFormat::PemUrlEncoded)
        );
        assert_eq!(
            guess("-----BEGIN CERTIFICATE----- MII"),
            Some(HeaderFormat::Pem)
        );
        assert_eq!(guess("(null)"), Some(HeaderFormat::Pem));
        assert_eq!(guess("By=spiffe://x;Hash=ab"), Some(HeaderFormat::Xfcc));
        assert_eq!(guess("MIIBBjCB+/=="), Some(HeaderFormat::DerBase64));
        assert_eq!(guess("{\"json\": 1}"), None);
    }

    #[test]
    fn strips_a_header_name_only() {
        assert_eq!(strip_header_name("Client-Cert: :MII:"), ":MII:");
        assert_eq!(strip_header_name(":MII:"), ":MII:");
        assert_eq!(strip_header_name("By=spiffe://a"), "By=spiffe://a");
        // No white space after the colon, or no letter: not a name.
        assert_eq!(strip_header_name("MIIB:MIIB"), "MIIB:MIIB");
        assert_eq!(strip_header_name("1234: x"), "1234: x");
    }

    #[test]
    fn standard_input_is_one_value_unless_every_line_is_a_header_line() {
        assert_eq!(
            field_lines("X-SSL-Client-Der: AAAA\nx-ssl-client-der: BBBB\n"),
            ["AAAA", "BBBB"]
        );
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(field_lines(pem), [pem.trim()]);
        assert_eq!(field_lines("Client-Cert: :AAAA:\n"), [":AAAA:"]);
    }
}
