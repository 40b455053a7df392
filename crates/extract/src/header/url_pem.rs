//! URL-encoded PEM in one pass: percent-decoding, PEM framing and base64
//! together, straight into each certificate's DER, with no intermediate
//! text. It takes only the plain shape proxies write (whitespace, then
//! `CERTIFICATE` blocks of base64 and whitespace, nothing else); anything
//! else returns `None` and the general path decodes it, with its precise
//! errors, so both paths accept and refuse exactly the same values.

use certbound_cert::Certificate;

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END: &[u8] = b"-----END CERTIFICATE-----";

/// Marks in the decoding table besides the 6-bit values.
const WS: u8 = 0x40;
const PAD: u8 = 0x41;
const DASH: u8 = 0x42;
const BAD: u8 = 0xff;

const TABLE: [u8; 256] = {
    let mut t = [BAD; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t[b' ' as usize] = WS;
    t[b'\t' as usize] = WS;
    t[b'\n' as usize] = WS;
    t[b'\r' as usize] = WS;
    t[0x0c] = WS;
    t[b'=' as usize] = PAD;
    t[b'-' as usize] = DASH;
    t
};

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Decoder<'_> {
    /// The next percent-decoded byte; `Err` on a bad escape.
    #[inline]
    fn next(&mut self) -> Result<Option<u8>, ()> {
        let Some(&b) = self.input.get(self.pos) else {
            return Ok(None);
        };
        if b != b'%' {
            self.pos += 1;
            return Ok(Some(b));
        }
        let hi = self
            .input
            .get(self.pos + 1)
            .copied()
            .and_then(hex)
            .ok_or(())?;
        let lo = self
            .input
            .get(self.pos + 2)
            .copied()
            .and_then(hex)
            .ok_or(())?;
        self.pos += 3;
        Ok(Some(hi << 4 | lo))
    }

    fn expect(&mut self, text: &[u8]) -> Result<(), ()> {
        for &want in text {
            if self.next()? != Some(want) {
                return Err(());
            }
        }
        Ok(())
    }
}

/// Decodes `input` in one pass and appends its certificates to `out`;
/// `None` when the value is not of the plain shape (nothing appended).
pub(super) fn decode(input: &[u8], out: &mut Vec<Certificate>) -> Option<()> {
    let start = out.len();
    let done = decode_blocks(input, out).is_ok();
    if !done {
        out.truncate(start);
    }
    done.then_some(())
}

fn decode_blocks(input: &[u8], out: &mut Vec<Certificate>) -> Result<(), ()> {
    let mut d = Decoder { input, pos: 0 };
    let mut blocks = 0;
    loop {
        // Whitespace, then a block or the end.
        let first = loop {
            match d.next()? {
                None if blocks > 0 => return Ok(()),
                None => return Err(()),
                Some(b) if TABLE[usize::from(b)] == WS => {}
                Some(b) => break b,
            }
        };
        if first != b'-' {
            return Err(());
        }
        d.expect(&BEGIN[1..])?;
        // Base64 body up to the dash of the END line.
        let remaining = input.len().saturating_sub(d.pos);
        let mut der = Vec::with_capacity(remaining * 3 / 4);
        let mut acc: u32 = 0;
        let mut sextets: usize = 0;
        let mut pads: usize = 0;
        loop {
            // Fast lane: four plain base64 characters at a quantum boundary.
            if sextets % 4 == 0 && pads == 0 {
                if let Some(&[a, b, c, e]) = input.get(d.pos..d.pos + 4) {
                    let (a, b, c, e) = (
                        TABLE[usize::from(a)],
                        TABLE[usize::from(b)],
                        TABLE[usize::from(c)],
                        TABLE[usize::from(e)],
                    );
                    if (a | b | c | e) < 64 {
                        let q = u32::from(a) << 18
                            | u32::from(b) << 12
                            | u32::from(c) << 6
                            | u32::from(e);
                        der.extend_from_slice(&[(q >> 16) as u8, (q >> 8) as u8, q as u8]);
                        sextets += 4;
                        d.pos += 4;
                        continue;
                    }
                }
            }
            let b = d.next()?.ok_or(())?;
            let v = TABLE[usize::from(b)];
            if v < 64 {
                if pads > 0 {
                    return Err(());
                }
                acc = acc << 6 | u32::from(v);
                sextets += 1;
                if sextets % 4 == 0 {
                    der.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
                    acc = 0;
                }
            } else if v == WS {
            } else if v == PAD {
                pads += 1;
            } else if v == DASH {
                break;
            } else {
                return Err(());
            }
        }
        // Padding optional, but right when present; trailing bits zero.
        match sextets % 4 {
            0 if pads == 0 => {}
            2 if pads == 0 || pads == 2 => {
                if acc & 0xf != 0 {
                    return Err(());
                }
                der.push((acc >> 4) as u8);
            }
            3 if pads == 0 || pads == 1 => {
                if acc & 0x3 != 0 {
                    return Err(());
                }
                der.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]);
            }
            _ => return Err(()),
        }
        d.expect(&END[1..])?;
        out.push(Certificate::from_der(der).map_err(|_| ())?);
        blocks += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::{TestCa, vectors};

    fn nginx_escape(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    #[test]
    fn decodes_what_the_general_path_decodes() {
        let ca = TestCa::new("CA");
        let inter = ca.intermediate("Issuing");
        let leaf = inter.leaf("client").issue();
        let chain = format!("{}{}", leaf.pem, inter.cert.pem);
        for text in [
            vectors::RFC8705_APPENDIX_A_PEM.to_owned(),
            chain.clone(),
            chain.replace('\n', "\r\n"),
            format!("  {}", chain.trim_end()),
        ] {
            for value in [
                nginx_escape(&text),
                text.replace('\n', "%0A").replace(' ', "%20"),
            ] {
                let mut fast = Vec::new();
                assert_eq!(decode(value.as_bytes(), &mut fast), Some(()), "{value}");
                let decoded = super::super::percent_decode(value.as_bytes()).unwrap();
                let slow =
                    certbound_cert::pem::parse_certificates(std::str::from_utf8(&decoded).unwrap())
                        .unwrap();
                assert_eq!(fast, slow);
            }
        }
    }

    #[test]
    fn anything_unusual_is_left_to_the_general_path() {
        let pem = vectors::RFC8705_APPENDIX_A_PEM;
        let escaped = nginx_escape(pem);
        let mut out = Vec::new();
        for value in [
            String::new(),
            format!("x{escaped}"),
            format!("{escaped}x"),
            escaped.replacen("BEGIN%20CERTIFICATE", "BEGIN%20X509%20CERTIFICATE", 1),
            escaped.replacen("%2B", "%2", 1),
            escaped.replacen("MIIB", "MII!", 1),
            escaped.replacen("%3D", "", 1).replacen("SY", "SZ", 1),
            escaped.replacen("-----END", "-----E", 1),
        ] {
            assert_eq!(decode(value.as_bytes(), &mut out), None, "{value}");
            assert!(out.is_empty());
        }
    }
}
