//! Decoded certificates, remembered by the exact bytes they were read from.
//!
//! A returning client's proxy sends the same header bytes on every request
//! (and axum-server and tonic hand over the same DER chain); reading them
//! again gives the same `ClientCert`. The key is every byte that was read,
//! so a hit is always the certificate those bytes decode to. Only
//! successful reads are kept.

use crate::ClientCert;

/// The bytes a certificate was read from: the header value and, when there
/// is one, the chain header value; or each DER certificate of a TLS chain.
type Key = Vec<Vec<u8>>;

pub(crate) struct Memo {
    cache: quick_cache::sync::Cache<Key, ClientCert>,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("entries", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl Memo {
    /// A memo of at most `capacity` entries; `None` for zero.
    pub(crate) fn new(capacity: usize) -> Option<Self> {
        (capacity > 0).then(|| Self {
            cache: quick_cache::sync::Cache::new(capacity),
        })
    }

    pub(crate) fn get(&self, parts: &[&[u8]]) -> Option<ClientCert> {
        self.cache.get(&key(parts))
    }

    pub(crate) fn insert(&self, parts: &[&[u8]], cert: &ClientCert) {
        self.cache.insert(key(parts), cert.clone());
    }
}

fn key(parts: &[&[u8]]) -> Key {
    parts.iter().map(|p| p.to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CertSource;
    use certbound_cert::Certificate;
    use certbound_testkit::vectors;

    #[test]
    fn hit_needs_the_same_bytes_in_the_same_parts() {
        let memo = Memo::new(16).unwrap();
        let cert = ClientCert::new(
            Certificate::from_pem(vectors::RFC8705_APPENDIX_A_PEM).unwrap(),
            vec![],
            CertSource::Tls,
        );
        memo.insert(&[b"abc"], &cert);
        assert!(memo.get(&[b"abc"]).is_some());
        assert!(memo.get(&[b"abd"]).is_none());
        assert!(memo.get(&[b"abc", b""]).is_none());
        assert!(memo.get(&[b"ab", b"c"]).is_none());
        memo.insert(&[b"abc", b"x"], &cert);
        assert!(memo.get(&[b"abc", b"x"]).is_some());
        assert!(Memo::new(0).is_none());
    }
}
