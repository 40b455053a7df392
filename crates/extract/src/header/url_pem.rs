//! URL-encoded PEM without intermediate text: percent-decoding, PEM
//! framing and the gathering of each block's base64 in one pass over the
//! value (the escapes found sixteen bytes at a time), into a buffer the
//! thread keeps; the base64 is then decoded by base64-simd into the
//! certificate's DER. It takes only the plain shape proxies write
//! (whitespace, then `CERTIFICATE` blocks of base64 and whitespace, nothing
//! else); anything else returns `None` and the general path decodes it,
//! with its precise errors, so both paths accept and refuse exactly the
//! same values.

use certbound_cert::Certificate;
use wide::CmpLt as _;

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END: &[u8] = b"-----END CERTIFICATE-----";
const BEGIN_NGINX: &[u8] = b"-----BEGIN%20CERTIFICATE-----";
const END_NGINX: &[u8] = b"-----END%20CERTIFICATE-----";

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

/// The byte a `%XX` escape at `input[pos]` stands for.
#[inline]
fn escaped(input: &[u8], pos: usize) -> Result<u8, ()> {
    let digit = |at: usize| {
        input
            .get(at)
            .map(|&c| HEX[usize::from(c)])
            .filter(|&v| v < 16)
            .ok_or(())
    };
    Ok(digit(pos + 1)? << 4 | digit(pos + 2)?)
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

    /// Reads `text`, whose one space may be written `%20`, as nginx does
    /// (compared whole first), or any other way the escapes allow.
    fn expect(&mut self, text: &[u8], nginx: &[u8]) -> Result<(), ()> {
        if let Some(rest) = self.input.get(self.pos..) {
            if rest.starts_with(nginx) {
                self.pos += nginx.len();
                return Ok(());
            }
        }
        for &want in text {
            if self.next()? != Some(want) {
                return Err(());
            }
        }
        Ok(())
    }
}

/// One bit for each byte of `block` (at most 64 bytes; bit `i` for byte
/// `i`) that needs a look of its own: one below `0` (0x30: `%`, `-`,
/// whitespace, controls, and `+` and `/` when a proxy leaves them raw), or
/// at or above 0x80 (compared as signed bytes). Sixteen bytes a compare
/// (SSE2 on x86_64, NEON on aarch64), through wide's safe vectors.
#[inline(always)]
fn block_marks(block: &[u8]) -> u64 {
    let mut padded = [b'A'; 64];
    let bytes: &[u8; 64] = match <&[u8; 64]>::try_from(block) {
        Ok(whole) => whole,
        Err(_) => {
            // The end of the value: what pads it is no mark.
            let n = block.len().min(64);
            padded[..n].copy_from_slice(&block[..n]);
            &padded
        }
    };
    let below_0 = wide::i8x16::splat(0x30);
    let mut bits = 0;
    for (k, chunk) in bytes.chunks_exact(16).enumerate() {
        let mut lanes = [0i8; 16];
        for (lane, &b) in lanes.iter_mut().zip(chunk) {
            *lane = b as i8;
        }
        let marks = wide::i8x16::new(lanes).cmp_lt(below_0).move_mask() as u16;
        bits |= u64::from(marks) << (16 * k);
    }
    bits
}

/// Copies `input[from..to]` to `buf[at..]`. Runs between two marks are
/// at most a line of 64 characters in what proxies write, so 64 bytes are
/// copied at once where both sides have room (what lands past the run is
/// overwritten later or cut off); otherwise, or when the run is longer,
/// exactly.
#[inline(always)]
fn copy_run(input: &[u8], from: usize, to: usize, buf: &mut [u8], at: usize) -> Result<(), ()> {
    let len = to.checked_sub(from).ok_or(())?;
    if len <= 64 {
        if let (Some(src), Some(dst)) = (input.get(from..from + 64), buf.get_mut(at..at + 64)) {
            dst.copy_from_slice(src);
            return Ok(());
        }
    }
    let src = input.get(from..to).ok_or(())?;
    buf.get_mut(at..at + len).ok_or(())?.copy_from_slice(src);
    Ok(())
}

/// The value of each hex digit, 16 for any other byte.
const HEX: [u8; 256] = {
    let mut t = [16u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Gathers the base64 characters of a block's body from `input[pos..]`
/// into `buf`: escapes decoded, whitespace dropped, `=` counted, up to the
/// dash that starts the END line (consumed). Returns the position after
/// that dash, the number of characters and the number of `=`.
///
/// The bytes that need a look ([`block_marks`]) are found 64 at a time,
/// as a bitmap, and then visited in order. The runs between them are
/// copied without a look (letters, digits, any ASCII byte from `0` up):
/// what they hold that is not base64 is refused when the characters are
/// decoded, and the general path then has the value. A non-ASCII byte is a
/// mark, refused on sight. The two hex digits of an escape are never
/// marks, so an escape is taken whole.
fn gather(input: &[u8], pos: usize, buf: &mut [u8]) -> Result<(usize, usize, usize), ()> {
    let (mut chars, mut pads) = (0, 0);
    // Whether the block is refused, decided at its END (branches for
    // what a proxy never writes would cost on what it does).
    let mut refused = false;
    // Where the current run of plain bytes starts.
    let mut run = pos;
    let mut block_at = pos;
    loop {
        let block = input
            .get(block_at..input.len().min(block_at + 64))
            .filter(|b| !b.is_empty())
            .ok_or(())?;
        let mut bits = block_marks(block);
        while bits != 0 {
            let mark = block_at + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if mark < run {
                // Inside an escape taken whole: not a mark of its own.
                continue;
            }
            // The run before the mark: base64 characters, unless it
            // follows the padding (nothing but padding and whitespace may).
            let len = mark - run;
            copy_run(input, run, mark, buf, chars)?;
            refused |= pads > 0 && len > 0;
            chars += len;
            // The mark: an escape or a byte of its own, chosen without a
            // branch (their mix follows the base64 and is not predictable).
            let (raw, hi, lo) = match input.get(mark..mark + 3) {
                Some(&[raw, h, l]) => (raw, HEX[usize::from(h)], HEX[usize::from(l)]),
                _ => (*input.get(mark).ok_or(())?, 16, 16),
            };
            let escape = raw == b'%';
            refused |= escape && (hi | lo) >= 16;
            let b = if escape { hi << 4 | (lo & 0xf) } else { raw };
            run = mark + if escape { 3 } else { 1 };
            let v = TABLE[usize::from(b)];
            // Written in any case, kept only when it is a character.
            *buf.get_mut(chars).ok_or(())? = b;
            let character = v < 64;
            refused |= character && pads > 0;
            chars += usize::from(character);
            pads += usize::from(v == PAD);
            if !character && v != WS && v != PAD {
                // The dash of the END line, or a byte no block holds.
                return if v == DASH && !refused {
                    // A raw `=` (ALB leaves them raw) is no mark: it went
                    // with its run, and the padding is the `=` that end
                    // the characters. One anywhere else is refused when
                    // the characters are decoded.
                    let (mut chars, mut pads) = (chars, pads);
                    while chars > 0 && buf.get(chars - 1) == Some(&b'=') {
                        chars -= 1;
                        pads += 1;
                    }
                    Ok((run, chars, pads))
                } else {
                    Err(())
                };
            }
        }
        block_at += 64;
    }
}

/// Decodes a block's gathered characters `chars` (`pads` of `=` were
/// counted apart) into the certificate's DER, allocated at its exact size:
/// the whole quanta by base64-simd, refusing any character that is not
/// base64 (`=` included: the padding is never among them), then the last
/// one to three by [`decode_tail`].
fn decode_characters(chars: &[u8], pads: usize) -> Result<Vec<u8>, ()> {
    let whole = chars.len() / 4 * 4;
    let (quanta, tail) = chars.split_at(whole);
    let mut der = Vec::with_capacity(whole / 4 * 3 + 2);
    base64_simd::STANDARD_NO_PAD
        .decode_append(quanta, &mut der)
        .map_err(|_| ())?;
    let mut last = [0u8; 2];
    let n = decode_tail(tail, pads, &mut last)?;
    der.extend_from_slice(last.get(..n).ok_or(())?);
    Ok(der)
}

/// The largest gathering buffer a thread keeps between decodes; a longer
/// value gets a buffer of its own.
const SCRATCH_KEPT: usize = 64 * 1024;

thread_local! {
    /// The buffer each block's characters are gathered into, kept by the
    /// thread: a cold decode neither allocates nor clears one.
    static SCRATCH: core::cell::Cell<Vec<u8>> = const { core::cell::Cell::new(Vec::new()) };
}

/// Runs `f` on a gathering buffer of `len` bytes, the thread's own when
/// `len` is at most [`SCRATCH_KEPT`] (its bytes are left from earlier use:
/// [`gather`] writes each before it reads it).
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    let keep = len <= SCRATCH_KEPT;
    // Taken out while in use, so a nested use (there is none) would
    // merely get a fresh buffer; an ending thread gives a fresh one too.
    let mut buf = if keep {
        SCRATCH.try_with(core::cell::Cell::take).unwrap_or_default()
    } else {
        Vec::new()
    };
    if buf.len() < len {
        buf.resize(len, 0);
    }
    let r = f(&mut buf[..len]);
    if keep {
        // Fails only while the thread ends, when the buffer is dropped.
        let _ = SCRATCH.try_with(|cell| cell.set(buf));
    }
    r
}

/// Decodes the last one to three base64 characters of a block (those after
/// its whole quanta), given the block's count of `=`, into `out`: padding
/// optional but right when present, every character base64, trailing bits
/// zero. Returns the number of bytes written. (The characters are checked
/// here rather than trusted to [`gather`]: it keeps most bytes without
/// looking at them.)
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
pub(super) fn decode(input: &[u8], out: &mut super::Certs) -> Option<()> {
    let start = out.len();
    let done = decode_blocks(input, out).is_ok();
    if !done {
        out.truncate(start);
    }
    done.then_some(())
}

fn decode_blocks(input: &[u8], out: &mut super::Certs) -> Result<(), ()> {
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
        d.expect(&BEGIN[1..], &BEGIN_NGINX[1..])?;
        // The base64 body, up to the dash of the END line, in two phases:
        // its characters gathered (escapes decoded, whitespace dropped),
        // then decoded into the DER.
        let (pos, der) = with_scratch(input.len().saturating_sub(d.pos), |buf| {
            let (pos, chars, pads) = gather(input, d.pos, buf)?;
            Ok::<_, ()>((pos, decode_characters(buf.get(..chars).ok_or(())?, pads)?))
        })?;
        d.pos = pos;
        d.expect(&END[1..], &END_NGINX[1..])?;
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
                let mut fast = super::super::Certs::default();
                let decoded = super::super::percent_decode(value.as_bytes()).unwrap();
                let slow =
                    certbound_cert::pem::parse_certificates(std::str::from_utf8(&decoded).unwrap())
                        .unwrap();
                assert_eq!(decode(value.as_bytes(), &mut fast), Some(()), "{value}");
                assert_eq!(fast.into_vec(), slow);
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
            let mut fast = super::super::Certs::default();
            if decode(&value, &mut fast).is_some() {
                proptest::prop_assert_eq!(Some(fast.into_vec()), general(&value));
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
        let mut out = super::super::Certs::default();
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
