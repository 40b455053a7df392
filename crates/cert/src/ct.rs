//! [`constant_time_eq`]: equality of secrets without a timing side channel.

use subtle::ConstantTimeEq;

/// Whether `a` and `b` are equal, in a time that depends on their lengths
/// only: every byte is looked at, eight at a time (XORed and ORed into one
/// word), and the result is tested once through `subtle`, with no branch on
/// the contents. For comparing a presented thumbprint or token with the
/// expected one.
///
/// ```
/// use certbound_cert::constant_time_eq;
///
/// assert!(constant_time_eq(b"a.b.c", b"a.b.c"));
/// assert!(!constant_time_eq(b"a.b.c", b"a.b.d"));
/// assert!(!constant_time_eq(b"a.b", b"a.b.c"));
/// ```
#[inline]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .fold(0u64, |acc, (x, y)| acc | u64::from(x ^ y));
    let diff = a8
        .zip(b8)
        .fold(tail, |acc, (x, y)| acc | (word(x) ^ word(y)));
    diff.ct_eq(&0).into()
}

/// Eight bytes as a word (the chunk is always eight bytes long).
#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(bytes);
    u64::from_ne_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_every_byte() {
        let a: Vec<u8> = (0..=255u8).collect();
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 255, 256] {
            assert!(constant_time_eq(&a[..len], &a[..len]));
            for i in 0..len {
                let mut b = a[..len].to_vec();
                b[i] ^= 0x40;
                assert!(!constant_time_eq(&a[..len], &b), "len {len}, byte {i}");
            }
        }
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
