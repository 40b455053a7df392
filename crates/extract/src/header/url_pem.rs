//! URL-encoded PEM without intermediate text: percent-decoding, PEM
//! framing and the gathering of each block's base64 in one pass over the
//! value, into the buffer that then becomes the certificate's DER by
//! decoding the base64 in place. It takes only the plain shape proxies
//! write (whitespace, then
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

/// The byte a `%XX` escape at `input[pos]` stands for.
#[inline]
fn escaped(input: &[u8], pos: usize) -> Result<u8, ()> {
    let hi = input.get(pos + 1).copied().and_then(hex).ok_or(())?;
    let lo = input.get(pos + 2).copied().and_then(hex).ok_or(())?;
    Ok(hi << 4 | lo)
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
        let b = escaped(self.input, self.pos)?;
        self.pos += 3;
        Ok(Some(b))
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

/// The 6-bit value of each of four base64 characters, or a value of 64 or
/// more when one of them is not plain base64.
#[inline(always)]
fn quantum([a, b, c, e]: [u8; 4]) -> Result<[u8; 3], ()> {
    let (a, b, c, e) = (
        TABLE[usize::from(a)],
        TABLE[usize::from(b)],
        TABLE[usize::from(c)],
        TABLE[usize::from(e)],
    );
    if (a | b | c | e) >= 64 {
        return Err(());
    }
    let q = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(e);
    Ok([(q >> 16) as u8, (q >> 8) as u8, q as u8])
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `word` is zero (exact: no false positives).
#[inline(always)]
fn has_zero_byte(word: u64) -> bool {
    word.wrapping_sub(ONES) & !word & HIGHS != 0
}

/// Whether any of the eight bytes in `word` is not a plain printable ASCII
/// character (`!` to `~`), or is `%`, `-` or `=`.
#[inline(always)]
fn needs_a_look(word: u64) -> bool {
    let below_bang = word.wrapping_sub(ONES * 0x21) & !word & HIGHS != 0;
    below_bang
        || word & HIGHS != 0
        || has_zero_byte(word ^ (ONES * u64::from(b'%')))
        || has_zero_byte(word ^ (ONES * u64::from(b'-')))
        || has_zero_byte(word ^ (ONES * u64::from(b'=')))
}

/// Gathers the base64 characters of a block's body from `input[pos..]`
/// into `buf`: escapes decoded, whitespace dropped, `=` counted, up to the
/// dash that starts the END line (consumed). Returns the position after
/// that dash, the number of characters and the number of `=`. Its locals
/// stay in registers, which the byte-at-a-time `Decoder` cannot keep.
fn gather(input: &[u8], mut pos: usize, buf: &mut [u8]) -> Result<(usize, usize, usize), ()> {
    let mut chars = 0;
    let mut pads = 0;
    loop {
        // Eight bytes at a time while none needs a look of its own: no
        // escape, whitespace, control, '-', '=' or non-ASCII byte. Whether
        // they are base64 is checked when they are decoded.
        if pads == 0 {
            while let (Some(src), Some(dst)) =
                (input.get(pos..pos + 8), buf.get_mut(chars..chars + 8))
            {
                let word = u64::from_le_bytes(src.try_into().map_err(|_| ())?);
                if needs_a_look(word) {
                    break;
                }
                dst.copy_from_slice(src);
                pos += 8;
                chars += 8;
            }
        }
        let b = match input.get(pos) {
            Some(&b'%') => {
                let b = escaped(input, pos)?;
                pos += 3;
                b
            }
            Some(&b) => {
                pos += 1;
                b
            }
            None => return Err(()),
        };
        let v = TABLE[usize::from(b)];
        if v < 64 {
            if pads > 0 {
                return Err(());
            }
            *buf.get_mut(chars).ok_or(())? = b;
            chars += 1;
        } else if v == WS {
        } else if v == PAD {
            pads += 1;
        } else if v == DASH {
            return Ok((pos, chars, pads));
        } else {
            return Err(());
        }
    }
}

/// Decodes the first `chars` base64 characters of `buf` (a multiple of
/// four, each plain base64) in place: quantum `i` becomes bytes `3i..3i+3`,
/// which never overtake the characters still to read. Eight characters at
/// a time where it can. Returns the number of bytes written.
fn decode_quanta_in_place(buf: &mut [u8], chars: usize) -> Result<usize, ()> {
    let (mut pos, mut len) = (0, 0);
    while pos + 8 <= chars {
        let Some(&[a, b, c, d, e, f, g, h]) = buf.get(pos..pos + 8) else {
            return Err(());
        };
        let (x, y) = (quantum([a, b, c, d])?, quantum([e, f, g, h])?);
        let dst = buf.get_mut(len..len + 6).ok_or(())?;
        dst[..3].copy_from_slice(&x);
        dst[3..].copy_from_slice(&y);
        pos += 8;
        len += 6;
    }
    if pos < chars {
        let Some(&[a, b, c, d]) = buf.get(pos..pos + 4) else {
            return Err(());
        };
        let x = quantum([a, b, c, d])?;
        buf.get_mut(len..len + 3).ok_or(())?.copy_from_slice(&x);
        len += 3;
    }
    Ok(len)
}

/// Decodes the last one to three base64 characters of a block (those after
/// its whole quanta), given the block's count of `=`, into `out`: padding
/// optional but right when present, every character base64, trailing bits
/// zero. Returns the number of bytes written. (The characters are checked
/// here rather than trusted to [`gather`]: its eight-byte lane copies
/// without looking, and only stops short of the padding.)
fn decode_tail(tail: &[u8], pads: usize, out: &mut [u8]) -> Result<usize, ()> {
    let mut acc = 0u32;
    for &c in tail {
        let v = TABLE[usize::from(c)];
        if v >= 64 {
            return Err(());
        }
        acc = acc << 6 | u32::from(v);
    }
    let (bytes, n) = match (tail.len(), pads) {
        (0, 0) => ([0, 0], 0),
        (2, 0 | 2) if acc & 0xf == 0 => ([(acc >> 4) as u8, 0], 1),
        (3, 0 | 1) if acc & 0x3 == 0 => ([(acc >> 10) as u8, (acc >> 2) as u8], 2),
        _ => return Err(()),
    };
    out.get_mut(..n).ok_or(())?.copy_from_slice(&bytes[..n]);
    Ok(n)
}

/// Decodes `input` and appends its certificates to `out`;
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
        // The base64 body, up to the dash of the END line, in two phases
        // over one buffer: its characters gathered (escapes decoded,
        // whitespace dropped), then decoded in place, whole quanta at a
        // time. The buffer becomes the certificate's DER.
        let mut buf = vec![0u8; input.len().saturating_sub(d.pos)];
        let (pos, chars, pads) = gather(input, d.pos, &mut buf)?;
        d.pos = pos;
        let whole = chars / 4 * 4;
        let mut len = decode_quanta_in_place(&mut buf, whole)?;
        // The last one to three characters, out of the buffer the bytes go
        // into (they would overlap).
        let mut tail = [0u8; 3];
        let tail_len = chars - whole;
        tail.get_mut(..tail_len)
            .ok_or(())?
            .copy_from_slice(buf.get(whole..chars).ok_or(())?);
        len += decode_tail(&tail[..tail_len], pads, buf.get_mut(len..).ok_or(())?)?;
        let mut der = buf;
        der.truncate(len);
        // The buffer was sized for the rest of the whole value; give back
        // what the chain after this certificate needed.
        if der.capacity() > 2 * len + 256 {
            der.shrink_to_fit();
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

    /// What the general path makes of `value`: the certificates, or none.
    fn general(value: &[u8]) -> Option<Vec<Certificate>> {
        let decoded = super::super::percent_decode(value).ok()?;
        certbound_cert::pem::parse_certificates(std::str::from_utf8(&decoded).ok()?).ok()
    }

    proptest::proptest! {
        /// Whatever one to three bytes of an nginx value are changed to,
        /// the single pass accepts only what the general path accepts, and
        /// decodes it to the same certificates.
        #[test]
        fn the_single_pass_never_accepts_what_the_general_path_refuses(
            changes in proptest::collection::vec((proptest::prelude::any::<usize>(), 0x20u8..0x7f), 1..4),
        ) {
            let mut value = nginx_escape(vectors::RFC8705_APPENDIX_A_PEM).into_bytes();
            for (at, byte) in &changes {
                let at = at % value.len();
                value[at] = *byte;
            }
            let mut fast = Vec::new();
            if decode(&value, &mut fast).is_some() {
                proptest::prop_assert_eq!(Some(fast), general(&value));
            }
        }
    }

    #[test]
    fn the_last_characters_are_checked_like_every_other() {
        let mut out = [0u8; 2];
        // "QQ==" is 0x41; "QUI" is 0x41 0x42.
        assert_eq!(decode_tail(b"QQ", 2, &mut out), Ok(1));
        assert_eq!(out[0], 0x41);
        assert_eq!(decode_tail(b"QQ", 0, &mut out), Ok(1));
        assert_eq!(decode_tail(b"QUI", 1, &mut out), Ok(2));
        assert_eq!(out, [0x41, 0x42]);
        assert_eq!(decode_tail(b"", 0, &mut out), Ok(0));
        // A character that is not base64, the trailing bits otherwise
        // zero: refused.
        assert_eq!(decode_tail(b"!Q", 2, &mut out), Err(()));
        assert_eq!(decode_tail(b"Q!A", 1, &mut out), Err(()));
        // Wrong padding, non-zero trailing bits, one lone character.
        assert_eq!(decode_tail(b"QQ", 1, &mut out), Err(()));
        assert_eq!(decode_tail(b"QR", 2, &mut out), Err(()));
        assert_eq!(decode_tail(b"QUJ", 1, &mut out), Err(()));
        assert_eq!(decode_tail(b"Q", 3, &mut out), Err(()));
        assert_eq!(decode_tail(b"", 1, &mut out), Err(()));
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
