//! The `x5t#S256` certificate thumbprint (RFC 8705 §3.1).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The `x5t#S256` confirmation value of RFC 8705 §3.1: the SHA-256 digest of
/// a certificate's DER encoding, written as base64url without padding.
///
/// Equality is constant-time, so comparing a token's confirmation with the
/// presented certificate does not leak how many leading bytes matched.
///
/// Parsing is strict: exactly 43 base64url characters, no padding, no
/// whitespace, and canonical trailing bits (the last character of a 32-byte
/// value must be one of `AEIMQUYcgkosw048`).
///
/// ```
/// use certbound_cert::Thumbprint;
///
/// let t: Thumbprint = "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0".parse()?;
/// assert_eq!(t.to_string(), "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0");
/// assert_eq!(t.as_bytes()[0], 0x03);
///
/// // The RFC 8705 §3.1 example value is not canonical base64url.
/// assert!("bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2".parse::<Thumbprint>().is_err());
/// # Ok::<(), certbound_cert::ThumbprintError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Thumbprint([u8; 32]);

/// The encoded length of a thumbprint: 32 bytes in base64url without padding.
pub const THUMBPRINT_LEN: usize = 43;

impl Thumbprint {
    /// The thumbprint of a certificate given as DER bytes.
    ///
    /// This hashes whatever bytes it is given; use
    /// [`Certificate::thumbprint`](crate::Certificate::thumbprint) to get the
    /// cached thumbprint of a parsed certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// A thumbprint from its 32 raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time comparison with the encoded form of another thumbprint,
    /// as found in a token's `cnf` claim. A value that is not a strictly
    /// encoded thumbprint never matches.
    pub fn matches_encoded(&self, encoded: &str) -> bool {
        encoded
            .parse::<Thumbprint>()
            .is_ok_and(|other| *self == other)
    }
}

impl PartialEq for Thumbprint {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Thumbprint {}

impl std::hash::Hash for Thumbprint {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Consistent with `eq`: equal digests hash the same.
        self.0.hash(state);
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl fmt::Debug for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Thumbprint({self})")
    }
}

/// Why a string is not a valid `x5t#S256` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ThumbprintError {
    /// The value does not have the 43 characters of a base64url SHA-256 digest.
    #[error("x5t#S256 must be 43 base64url characters, found {0}")]
    Length(usize),
    /// The value is not canonical base64url without padding.
    #[error("x5t#S256 is not canonical base64url without padding")]
    Encoding,
}

impl FromStr for Thumbprint {
    type Err = ThumbprintError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != THUMBPRINT_LEN {
            return Err(ThumbprintError::Length(s.len()));
        }
        let mut out = [0u8; 33];
        // The engine rejects padding, characters outside the url-safe
        // alphabet and non-zero trailing bits.
        match (URL_SAFE_NO_PAD.decode_slice(s, &mut out), out.first_chunk()) {
            (Ok(32), Some(bytes)) => Ok(Self(*bytes)),
            _ => Err(ThumbprintError::Encoding),
        }
    }
}

impl serde::Serialize for Thumbprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl<'de> serde::Deserialize<'de> for Thumbprint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Thumbprint;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an x5t#S256 thumbprint (43 base64url characters)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Thumbprint, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPENDIX_A: &str = "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0";

    #[test]
    fn parses_and_prints_round_trip() {
        let t: Thumbprint = APPENDIX_A.parse().unwrap();
        assert_eq!(t.to_string(), APPENDIX_A);
        assert_eq!(format!("{t:?}"), format!("Thumbprint({APPENDIX_A})"));
    }

    #[test]
    fn rejects_wrong_length_padding_and_alphabet() {
        assert_eq!("abc".parse::<Thumbprint>(), Err(ThumbprintError::Length(3)));
        let padded = format!("{APPENDIX_A}=");
        assert_eq!(
            padded.parse::<Thumbprint>(),
            Err(ThumbprintError::Length(44))
        );
        // Standard base64 alphabet characters are not base64url.
        let std_alphabet = APPENDIX_A.replacen('L', "+", 1);
        assert_eq!(
            std_alphabet.parse::<Thumbprint>(),
            Err(ThumbprintError::Encoding)
        );
        let with_space = APPENDIX_A.replacen('L', " ", 1);
        assert!(with_space.parse::<Thumbprint>().is_err());
    }

    #[test]
    fn rejects_non_canonical_trailing_bits() {
        // RFC 8705 §3.1's example value ends in '2', which leaves bits set.
        assert_eq!(
            "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2".parse::<Thumbprint>(),
            Err(ThumbprintError::Encoding)
        );
        // The same value with a canonical last character is fine.
        assert!(
            "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0"
                .parse::<Thumbprint>()
                .is_ok()
        );
    }

    #[test]
    fn equality_and_encoded_matching() {
        let a: Thumbprint = APPENDIX_A.parse().unwrap();
        let mut other = *a.as_bytes();
        other[31] ^= 1;
        let b = Thumbprint::from_bytes(other);
        assert_eq!(a, a);
        assert_ne!(a, b);
        assert!(a.matches_encoded(APPENDIX_A));
        assert!(!a.matches_encoded(&b.to_string()));
        assert!(!a.matches_encoded("not a thumbprint"));
    }

    #[test]
    fn equality_sees_every_byte() {
        let a = Thumbprint::from_bytes([7; 32]);
        for i in 0..32 {
            for bit in 0..8 {
                let mut other = [7; 32];
                other[i] ^= 1 << bit;
                assert_ne!(a, Thumbprint::from_bytes(other));
            }
        }
        assert_eq!(a, Thumbprint::from_bytes([7; 32]));
    }

    #[test]
    fn serde_as_string() {
        let t: Thumbprint = APPENDIX_A.parse().unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, format!("\"{APPENDIX_A}\""));
        let back: Thumbprint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        assert!(serde_json::from_str::<Thumbprint>("\"short\"").is_err());
        assert!(serde_json::from_str::<Thumbprint>("42").is_err());
    }
}
