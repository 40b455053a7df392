//! The structural check every certificate passes when it is read: the whole
//! of RFC 5280 §4.1 `Certificate`, walked once over the DER without
//! allocating, so that reading a certificate on the request path costs
//! little more than its SHA-256.
//!
//! What it checks, field by field: exact, minimally encoded lengths and
//! nothing trailing, at every level; `version` v1 to v3; a non-empty
//! `serialNumber`; each `AlgorithmIdentifier` an OID and at most one
//! parameter; `issuer` and `subject` a sequence of non-empty sets of
//! (OID, one value of any type); `validity` two `UTCTime`
//! (`YYMMDDHHMMSSZ`) or `GeneralizedTime` (`YYYYMMDDHHMMSSZ`) dates that
//! exist on the calendar; `subjectPublicKeyInfo` an algorithm and a
//! `BIT STRING`; the unique identifiers `BIT STRING`s; `extensions` a
//! sequence of (OID, optional `BOOLEAN`, `OCTET STRING`) with no OID twice;
//! every OID well formed, every `BIT STRING` with its unused bits zero.
//!
//! The fields themselves (names, SANs, dates) are then read by x509-parser
//! when first asked for. This check is stricter than x509-parser's parse on
//! every point, so that a certificate it accepts always reads: the fuzz
//! targets assert exactly that for every certificate they produce. What an
//! extension's value holds (a SAN list, a key usage) is not checked here,
//! as x509-parser does not refuse a certificate for it either: the SAN
//! accessor reports a malformed list as an error.

use core::fmt;

use crate::CertError;
use crate::der::{DerError, Tlv, read_tlv, read_value};

const BOOLEAN: u8 = 0x01;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const VERSION: u8 = 0xa0;
const ISSUER_UID: u8 = 0x81;
const SUBJECT_UID: u8 = 0x82;
const EXTENSIONS: u8 = 0xa3;

/// The most extensions a certificate may have (each is compared with the
/// others for duplicates, on the stack); one with more is refused. Real
/// client certificates have about ten.
const MAX_EXTENSIONS: usize = 64;

/// How the walk reports a refusal. It runs first with [`Quick`], whose
/// error is `()`: every `Result` then fits in registers and no reason is
/// built, which is most of the cost of a walk that passes. Only when that
/// walk refuses does [`check`] walk again with [`Explain`] for the precise
/// reason. Both are the same code, so they refuse the same certificates.
trait Report {
    type Error;
    fn invalid(what: fmt::Arguments<'_>) -> Self::Error;
    fn tlv(what: &str, e: DerError) -> Self::Error;
    fn wrong_tag(what: &str, got: u8, want: u8) -> Self::Error;
    fn trailing(what: &str) -> Self::Error;
    fn trailing_data(len: usize) -> Self::Error;
}

/// Refuses without a reason.
struct Quick;

impl Report for Quick {
    type Error = ();
    #[inline(always)]
    fn invalid(_: fmt::Arguments<'_>) {}
    #[inline(always)]
    fn tlv(_: &str, _: DerError) {}
    #[inline(always)]
    fn wrong_tag(_: &str, _: u8, _: u8) {}
    #[inline(always)]
    fn trailing(_: &str) {}
    #[inline(always)]
    fn trailing_data(_: usize) {}
}

/// Refuses with the reason, as a [`CertError`].
struct Explain;

impl Report for Explain {
    type Error = CertError;
    #[cold]
    #[inline(never)]
    fn invalid(what: fmt::Arguments<'_>) -> CertError {
        CertError::InvalidDer(format!("malformed certificate structure: {what}"))
    }
    #[cold]
    #[inline(never)]
    fn tlv(what: &str, e: DerError) -> CertError {
        Self::invalid(format_args!("{what} {e}"))
    }
    #[cold]
    #[inline(never)]
    fn wrong_tag(what: &str, got: u8, want: u8) -> CertError {
        Self::invalid(format_args!(
            "{what} has tag 0x{got:02x}, expected 0x{want:02x}"
        ))
    }
    #[cold]
    #[inline(never)]
    fn trailing(what: &str) -> CertError {
        Self::invalid(format_args!("{what} has unexpected trailing fields"))
    }
    #[cold]
    #[inline(never)]
    fn trailing_data(len: usize) -> CertError {
        CertError::TrailingData(len)
    }
}

/// The TLVs of one constructed value, read in order.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn new(content: &'a [u8]) -> Self {
        Self { rest: content }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    #[inline(always)]
    fn any<R: Report>(&mut self, what: &str) -> Result<Tlv<'a>, R::Error> {
        match read_tlv(self.rest) {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Ok(tlv)
            }
            Err(e) => Err(R::tlv(what, e)),
        }
    }

    /// The next TLV, which must have tag `tag`; its content.
    #[inline(always)]
    fn expect<R: Report>(&mut self, tag: u8, what: &str) -> Result<&'a [u8], R::Error> {
        let tlv = self.any::<R>(what)?;
        if tlv.tag != tag {
            return Err(R::wrong_tag(what, tlv.tag, tag));
        }
        Ok(tlv.content)
    }

    /// The next TLV when it has tag `tag`.
    #[inline(always)]
    fn optional<R: Report>(&mut self, tag: u8, what: &str) -> Result<Option<&'a [u8]>, R::Error> {
        if self.peek() == Some(tag) {
            self.expect::<R>(tag, what).map(Some)
        } else {
            Ok(None)
        }
    }

    #[inline(always)]
    fn end<R: Report>(&self, what: &str) -> Result<(), R::Error> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(R::trailing(what))
        }
    }
}

/// Checks that `der` is exactly one well-formed certificate.
pub(crate) fn check(der: &[u8]) -> Result<(), CertError> {
    if certificate::<Quick>(der).is_ok() {
        return Ok(());
    }
    // The same walk again, for the reason. It refuses as the first did;
    // should it not, the certificate is refused all the same.
    certificate::<Explain>(der).and(Err(CertError::InvalidDer(
        "malformed certificate structure".to_owned(),
    )))
}

fn certificate<R: Report>(der: &[u8]) -> Result<(), R::Error> {
    let mut top = Fields::new(der);
    let cert = top.expect::<R>(SEQUENCE, "Certificate")?;
    if !top.is_empty() {
        return Err(R::trailing_data(top.rest.len()));
    }
    let mut cert = Fields::new(cert);
    let tbs = cert.expect::<R>(SEQUENCE, "tbsCertificate")?;
    algorithm_identifier::<R>(&mut cert, "signatureAlgorithm")?;
    bit_string::<R>(
        cert.expect::<R>(BIT_STRING, "signatureValue")?,
        "signatureValue",
    )?;
    cert.end::<R>("Certificate")?;
    tbs_certificate::<R>(tbs)
}

fn tbs_certificate<R: Report>(tbs: &[u8]) -> Result<(), R::Error> {
    let mut f = Fields::new(tbs);
    if let Some(version) = f.optional::<R>(VERSION, "version")? {
        let mut v = Fields::new(version);
        // v1(0), v2(1), v3(2), in the one byte DER allows for them.
        match v.expect::<R>(INTEGER, "version")? {
            [0..=2] => {}
            _ => return Err(R::invalid(format_args!("version is not v1, v2 or v3"))),
        }
        v.end::<R>("version")?;
    }
    // Any non-empty INTEGER: CAs that write a negative or non-minimal serial
    // exist, and the serial decides nothing here.
    if f.expect::<R>(INTEGER, "serialNumber")?.is_empty() {
        return Err(R::invalid(format_args!("serialNumber is empty")));
    }
    algorithm_identifier::<R>(&mut f, "signature")?;
    name::<R>(f.expect::<R>(SEQUENCE, "issuer")?, "issuer")?;
    let mut validity = Fields::new(f.expect::<R>(SEQUENCE, "validity")?);
    time::<R>(&mut validity, "notBefore")?;
    time::<R>(&mut validity, "notAfter")?;
    validity.end::<R>("validity")?;
    name::<R>(f.expect::<R>(SEQUENCE, "subject")?, "subject")?;
    let mut spki = Fields::new(f.expect::<R>(SEQUENCE, "subjectPublicKeyInfo")?);
    algorithm_identifier::<R>(&mut spki, "subjectPublicKeyInfo algorithm")?;
    bit_string::<R>(
        spki.expect::<R>(BIT_STRING, "subjectPublicKey")?,
        "subjectPublicKey",
    )?;
    spki.end::<R>("subjectPublicKeyInfo")?;
    if let Some(uid) = f.optional::<R>(ISSUER_UID, "issuerUniqueID")? {
        bit_string::<R>(uid, "issuerUniqueID")?;
    }
    if let Some(uid) = f.optional::<R>(SUBJECT_UID, "subjectUniqueID")? {
        bit_string::<R>(uid, "subjectUniqueID")?;
    }
    if let Some(extensions) = f.optional::<R>(EXTENSIONS, "extensions")? {
        let mut wrapper = Fields::new(extensions);
        let list = wrapper.expect::<R>(SEQUENCE, "extensions")?;
        wrapper.end::<R>("extensions")?;
        extensions_list::<R>(list)?;
    }
    match f.peek() {
        None => Ok(()),
        Some(ISSUER_UID | SUBJECT_UID | EXTENSIONS) => Err(R::invalid(format_args!(
            "tbsCertificate fields are repeated or out of order"
        ))),
        Some(other) => Err(R::invalid(format_args!(
            "tbsCertificate has an unexpected field with tag 0x{other:02x}"
        ))),
    }
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`.
#[inline]
fn algorithm_identifier<R: Report>(f: &mut Fields<'_>, what: &str) -> Result<(), R::Error> {
    let mut alg = Fields::new(f.expect::<R>(SEQUENCE, what)?);
    oid::<R>(alg.expect::<R>(OID, what)?, what)?;
    if !alg.is_empty() {
        alg.any::<R>(what)?;
    }
    alg.end::<R>(what)
}

/// An OBJECT IDENTIFIER's content: base-128 arcs, each minimally encoded,
/// the last one ended.
#[inline]
fn oid<R: Report>(content: &[u8], what: &str) -> Result<(), R::Error> {
    // The last arc ended, and no arc starting with 0x80 (a non-minimal
    // arc): a 0x80 may only follow a byte with the continuation bit. Most
    // OIDs hold no 0x80 at all, which one pass tells.
    let well_formed = match content {
        [] => false,
        [.., last] if last & 0x80 != 0 => false,
        _ if !content.contains(&0x80) => true,
        [first, ..] => {
            *first != 0x80
                && content
                    .windows(2)
                    .all(|pair| pair[1] != 0x80 || pair[0] & 0x80 != 0)
        }
    };
    if well_formed {
        Ok(())
    } else {
        Err(R::invalid(format_args!("{what} has a malformed OID")))
    }
}

/// A BIT STRING's content: the count of unused bits (0 to 7, and 0 for an
/// empty string), then the bits, the unused ones zero.
#[inline]
fn bit_string<R: Report>(content: &[u8], what: &str) -> Result<(), R::Error> {
    let ok = match content {
        [] => false,
        [unused] => *unused == 0,
        [unused, .., last] => *unused < 8 && last.trailing_zeros() >= u32::from(*unused),
    };
    if ok {
        Ok(())
    } else {
        Err(R::invalid(format_args!("{what} is not a valid BIT STRING")))
    }
}

/// `Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }`, each set
/// non-empty.
fn name<R: Report>(content: &[u8], what: &str) -> Result<(), R::Error> {
    let mut rdns = Fields::new(content);
    while !rdns.is_empty() {
        let mut set = Fields::new(rdns.expect::<R>(SET, what)?);
        if set.is_empty() {
            return Err(R::invalid(format_args!("{what} has an empty RDN")));
        }
        while !set.is_empty() {
            let mut atv = Fields::new(set.expect::<R>(SEQUENCE, what)?);
            oid::<R>(atv.expect::<R>(OID, what)?, what)?;
            // The value may be of any type, a multi-byte tag included.
            let (_, rest) = read_value(atv.rest)
                .map_err(|e| R::invalid(format_args!("{what} attribute value {e}")))?;
            atv.rest = rest;
            atv.end::<R>(what)?;
        }
    }
    Ok(())
}

/// `Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }`, in
/// the forms RFC 5280 §4.1.2.5 requires: Zulu, with seconds, no fraction.
fn time<R: Report>(f: &mut Fields<'_>, what: &str) -> Result<(), R::Error> {
    let tlv = f.any::<R>(what)?;
    let ok = match (tlv.tag, tlv.content) {
        (UTC_TIME, [y @ .., m1, m2, d1, d2, h1, h2, n1, n2, s1, s2, b'Z']) if y.len() == 2 => {
            // YY: 50-99 is 19YY, 00-49 is 20YY; in 1950-2049 a year is a
            // leap year exactly when it is divisible by four.
            digits(y)
                .map(|yy| 1900 + yy + if yy < 50 { 100 } else { 0 })
                .is_some_and(|year| {
                    calendar(year, [*m1, *m2, *d1, *d2, *h1, *h2, *n1, *n2, *s1, *s2])
                })
        }
        (GENERALIZED_TIME, [y @ .., m1, m2, d1, d2, h1, h2, n1, n2, s1, s2, b'Z'])
            if y.len() == 4 =>
        {
            digits(y).is_some_and(|year| {
                calendar(year, [*m1, *m2, *d1, *d2, *h1, *h2, *n1, *n2, *s1, *s2])
            })
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(R::invalid(format_args!(
            "{what} is not a UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) of a real date"
        )))
    }
}

/// The number `bytes` spell in decimal digits; `None` when one is not a
/// digit. Without a branch per byte: dates are on every certificate read.
/// At most ten digits are ever read, which a u64 holds.
#[inline]
fn digits(bytes: &[u8]) -> Option<u64> {
    let mut all_digits = bytes.len() <= 19;
    let mut n = 0u64;
    for &b in bytes {
        let d = b.wrapping_sub(b'0');
        all_digits &= d < 10;
        n = n.wrapping_mul(10).wrapping_add(u64::from(d));
    }
    all_digits.then_some(n)
}

/// Whether `MMDDHHMMSS` after `year` is a real instant (no leap second).
fn calendar(year: u64, rest: [u8; 10]) -> bool {
    // Five two-digit numbers, one flag for "all digits".
    let mut all_digits = true;
    let mut two = [0u8; 5];
    for (n, pair) in two.iter_mut().zip(rest.chunks_exact(2)) {
        let (hi, lo) = (pair[0].wrapping_sub(b'0'), pair[1].wrapping_sub(b'0'));
        all_digits &= hi < 10 && lo < 10;
        *n = hi.wrapping_mul(10).wrapping_add(lo);
    }
    let [month, day, hour, minute, second] = two;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    all_digits && (1..=days).contains(&day) && hour < 24 && minute < 60 && second < 60
}

/// `Extensions ::= SEQUENCE OF SEQUENCE { extnID OID, critical BOOLEAN
/// DEFAULT FALSE, extnValue OCTET STRING }`, no extnID twice (RFC 5280
/// §4.2).
fn extensions_list<R: Report>(content: &[u8]) -> Result<(), R::Error> {
    // Where each OID seen so far sits in `content` (offset, length): eight
    // bytes an entry, so the table is quick to clear, unlike one of slices.
    let mut seen = [(0u32, 0u32); MAX_EXTENSIONS];
    let mut count = 0;
    let mut list = Fields::new(content);
    while !list.is_empty() {
        let mut ext = Fields::new(list.expect::<R>(SEQUENCE, "extension")?);
        let id = ext.expect::<R>(OID, "extension")?;
        oid::<R>(id, "extension")?;
        // Some CAs write TRUE as another non-zero byte, or FALSE outright.
        if let Some(critical) = ext.optional::<R>(BOOLEAN, "extension critical")? {
            if critical.len() != 1 {
                return Err(R::invalid(format_args!(
                    "extension critical is not one byte"
                )));
            }
        }
        ext.expect::<R>(OCTET_STRING, "extension value")?;
        ext.end::<R>("extension")?;
        if count == MAX_EXTENSIONS {
            return Err(R::invalid(format_args!(
                "more than {MAX_EXTENSIONS} extensions"
            )));
        }
        // `id` lies within `content`, so its offset is the distance between
        // the two; both numbers fit in u32 (refused otherwise).
        let entry = (id.as_ptr() as usize)
            .checked_sub(content.as_ptr() as usize)
            .and_then(|at| Some((u32::try_from(at).ok()?, u32::try_from(id.len()).ok()?)))
            .ok_or_else(|| R::invalid(format_args!("extensions too long")))?;
        let twice = seen[..count].iter().any(|&(at, len)| {
            let (at, len) = (at as usize, len as usize);
            len == id.len() && content.get(at..at + len).is_some_and(|o| same(o, id))
        });
        if twice {
            return Err(R::invalid(format_args!("an extension appears twice")));
        }
        seen[count] = entry;
        count += 1;
    }
    Ok(())
}

/// Slice equality as a byte loop from the end: OIDs are a few bytes,
/// shorter than the call `==` makes to `memcmp` costs, and two extension
/// OIDs mostly differ in their last arc (2.5.29.x).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().rev().zip(b.iter().rev()).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use certbound_testkit::{TestCa, vectors};

    /// Replaces the first occurrence of `from` in `der` with `to`, which
    /// must have the same length (so every enclosing length still holds).
    fn patched(der: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let i = der
            .windows(from.len())
            .position(|w| w == from)
            .unwrap_or_else(|| panic!("{from:02x?} not in the certificate"));
        let mut out = der.to_vec();
        out[i..i + from.len()].copy_from_slice(to);
        out
    }

    fn leaf_der() -> Vec<u8> {
        let ca = TestCa::new("Structure CA");
        ca.leaf("client").san_dns("client.example").issue().der
    }

    #[test]
    fn generated_and_published_certificates_pass() {
        let ca = TestCa::new("Structure CA");
        let leaf = ca.leaf("client").san_dns("client.example").issue();
        check(&leaf.der).unwrap();
        check(&ca.cert.der).unwrap();
        let pem = crate::pem::parse_certificates(vectors::RFC9440_EXAMPLE_CHAIN_PEM).unwrap();
        for c in pem
            .iter()
            .chain(&[crate::Certificate::from_pem(vectors::RFC8705_APPENDIX_A_PEM).unwrap()])
        {
            check(c.der()).unwrap();
        }
    }

    #[test]
    fn the_quick_walk_and_the_explaining_walk_refuse_the_same() {
        let der = leaf_der();
        for at in 0..der.len() {
            for byte in [0x00, 0x01, 0x30, 0x80, 0xff, der[at] ^ 0x01] {
                let mut d = der.clone();
                d[at] = byte;
                let quick = certificate::<Quick>(&d).is_ok();
                let explained = certificate::<Explain>(&d);
                assert_eq!(quick, explained.is_ok(), "byte {at} = {byte:#04x}");
                assert_eq!(check(&d), explained);
            }
        }
    }

    #[test]
    fn truncations_trailing_bytes_and_wrong_tags_are_refused() {
        let der = leaf_der();
        for len in 0..der.len() {
            assert!(check(&der[..len]).is_err(), "truncated to {len}");
        }
        let mut long = der.clone();
        long.push(0);
        assert_eq!(check(&long), Err(CertError::TrailingData(1)));
        let mut wrong = der.clone();
        wrong[0] = 0x31;
        assert!(check(&wrong).is_err());
    }

    #[test]
    fn non_minimal_lengths_are_refused() {
        // SEQUENCE with a long-form length for 3 bytes.
        assert!(check(&[0x30, 0x81, 0x03, 0x02, 0x01, 0x00]).is_err());
        assert!(check(&[0x30, 0x82, 0x00, 0x90]).is_err());
    }

    #[test]
    fn times_must_be_real_dates_in_the_rfc_5280_form() {
        let der = leaf_der();
        // rcgen writes UTCTime for these years; find notBefore.
        let i = der.windows(2).position(|w| w == [0x17, 0x0d]).unwrap();
        let original = der[i + 2..i + 15].to_vec();
        for (bad, why) in [
            (&b"250230000000Z"[..], "February 30th"),
            (b"230229000000Z", "February 29th of a common year"),
            (b"251301000000Z", "month 13"),
            (b"250100000000Z", "day 0"),
            (b"250101240000Z", "hour 24"),
            (b"250101236000Z", "minute 60"),
            (b"250101235960Z", "a leap second"),
            (b"25010123595 Z", "a space"),
            (b"2501012359590", "no Z"),
        ] {
            let d = patched(&der, &original, bad);
            assert!(check(&d).is_err(), "{why} accepted");
        }
        for good in [&b"240229000000Z"[..], b"000229000000Z", b"491231235959Z"] {
            check(&patched(&der, &original, good)).unwrap();
        }
    }

    #[test]
    fn field_contents_are_checked_inside_a_sound_frame() {
        let der = leaf_der();
        // notBefore's UTCTime tag becomes OCTET STRING.
        assert!(check(&patched(&der, &[0x17, 0x0d], &[0x04, 0x0d])).is_err());
        // The CN attribute's OID gets an unterminated arc.
        assert!(
            check(&patched(
                &der,
                &[0x06, 0x03, 0x55, 0x04, 0x03],
                &[0x06, 0x03, 0x55, 0x04, 0x83]
            ))
            .is_err()
        );
        // The subjectPublicKey BIT STRING claims 8 unused bits.
        let mut d = der.clone();
        let spki = d.windows(3).position(|w| w == [0x03, 0x42, 0x00]).unwrap();
        d[spki + 2] = 0x08;
        assert!(check(&d).is_err());
    }

    #[test]
    fn extensions_are_framed_and_never_twice() {
        // Two extensions: basicConstraints (critical) and keyUsage.
        let bc = [
            0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x02, 0x30, 0x00,
        ];
        let ku = [
            0x30, 0x0b, 0x06, 0x03, 0x55, 0x1d, 0x0f, 0x04, 0x04, 0x03, 0x02, 0x07, 0x80,
        ];
        extensions_list::<Explain>(&[bc.as_slice(), &ku].concat()).unwrap();
        assert!(extensions_list::<Explain>(&[bc.as_slice(), &ku, &bc].concat()).is_err());
        // critical of two bytes; value not an OCTET STRING; a trailing field.
        let mut long_bool = bc.to_vec();
        long_bool.splice(7..10, [0x01, 0x02, 0xff, 0xff]);
        long_bool[1] += 1;
        assert!(extensions_list::<Explain>(&long_bool).is_err());
        let mut not_octets = ku.to_vec();
        not_octets[7] = 0x03;
        assert!(extensions_list::<Explain>(&not_octets).is_err());
        let mut trailing = ku.to_vec();
        trailing.extend([0x05, 0x00]);
        trailing[1] += 2;
        assert!(extensions_list::<Explain>(&trailing).is_err());
        let many: Vec<u8> = (0..=MAX_EXTENSIONS as u8)
            .flat_map(|i| [0x30, 0x07, 0x06, 0x03, 0x2a, 0x03, i & 0x7f, 0x04, 0x00])
            .collect();
        assert!(extensions_list::<Explain>(&many).is_err());
    }

    #[test]
    fn oids_and_bit_strings() {
        assert!(oid::<Explain>(&[0x2a, 0x86, 0x48], "t").is_ok());
        assert!(oid::<Explain>(&[], "t").is_err());
        assert!(oid::<Explain>(&[0x2a, 0x86], "t").is_err());
        assert!(oid::<Explain>(&[0x80, 0x01], "t").is_err());
        assert!(oid::<Explain>(&[0x2a, 0x80, 0x01], "t").is_err());
        assert!(bit_string::<Explain>(&[0x00], "t").is_ok());
        assert!(bit_string::<Explain>(&[0x01], "t").is_err());
        assert!(bit_string::<Explain>(&[], "t").is_err());
        assert!(bit_string::<Explain>(&[0x03, 0b1111_1000], "t").is_ok());
        assert!(bit_string::<Explain>(&[0x03, 0b1111_1100], "t").is_err());
        assert!(bit_string::<Explain>(&[0x08, 0x00], "t").is_err());
    }
}
