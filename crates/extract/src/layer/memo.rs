//! Decoded proxy headers, remembered by their exact bytes.
//!
//! A returning client's proxy sends the same header bytes on every request;
//! decoding and checking them again gives the same `ClientCert`. The
//! memo is a bounded direct-mapped table: a fast keyed hash of the header
//! and chain header values picks the slot, and a hit requires the stored
//! bytes to be equal, so a collision can only cost a decode, never give
//! another certificate. Only successful decodes are kept.

use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, RwLock};

use crate::ClientCert;

struct Entry {
    value: Box<[u8]>,
    chain: Option<Box<[u8]>>,
    cert: ClientCert,
}

pub(crate) struct Memo {
    slots: Box<[RwLock<Option<Arc<Entry>>>]>,
    hasher: foldhash::quality::RandomState,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("slots", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl Memo {
    /// A memo of `slots` entries; `None` for zero.
    pub(crate) fn new(slots: usize) -> Option<Self> {
        (slots > 0).then(|| Self {
            slots: (0..slots).map(|_| RwLock::new(None)).collect(),
            hasher: foldhash::quality::RandomState::default(),
        })
    }

    fn slot(&self, value: &[u8], chain: Option<&[u8]>) -> &RwLock<Option<Arc<Entry>>> {
        let mut h = self.hasher.build_hasher();
        h.write(value);
        match chain {
            Some(c) => {
                h.write_u8(1);
                h.write(c);
            }
            None => h.write_u8(0),
        }
        // `slots` is never empty (see `new`).
        let i = (h.finish() % self.slots.len() as u64) as usize;
        &self.slots[i]
    }

    pub(crate) fn get(&self, value: &[u8], chain: Option<&[u8]>) -> Option<ClientCert> {
        let slot = self.slot(value, chain).read().ok()?;
        let entry = slot.as_ref()?;
        (*entry.value == *value && entry.chain.as_deref() == chain).then(|| entry.cert.clone())
    }

    pub(crate) fn insert(&self, value: &[u8], chain: Option<&[u8]>, cert: &ClientCert) {
        let entry = Arc::new(Entry {
            value: value.into(),
            chain: chain.map(Into::into),
            cert: cert.clone(),
        });
        if let Ok(mut slot) = self.slot(value, chain).write() {
            *slot = Some(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CertSource;
    use certbound_cert::Certificate;
    use certbound_testkit::vectors;

    #[test]
    fn hit_needs_the_same_bytes_and_chain() {
        let memo = Memo::new(1).unwrap();
        let cert = ClientCert::new(
            Certificate::from_pem(vectors::RFC8705_APPENDIX_A_PEM).unwrap(),
            vec![],
            CertSource::Tls,
        );
        memo.insert(b"abc", None, &cert);
        assert!(memo.get(b"abc", None).is_some());
        // One slot: everything collides, and nothing else is a hit.
        assert!(memo.get(b"abd", None).is_none());
        assert!(memo.get(b"abc", Some(b"")).is_none());
        memo.insert(b"abc", Some(b"x"), &cert);
        assert!(memo.get(b"abc", Some(b"x")).is_some());
        assert!(memo.get(b"abc", None).is_none());
        assert!(Memo::new(0).is_none());
    }
}
