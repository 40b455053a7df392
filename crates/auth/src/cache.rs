//! The cache of successful `tls_client_auth` verifications.

use std::time::{Duration, SystemTime};

use certbound_extract::ClientCert;
use sha2::{Digest, Sha256};

use crate::{RegisteredClient, TlsClientAuth};

/// A verification, by the SHA-256 of what it depended on: the client, its
/// trust configuration, the leaf and the presented intermediates.
pub(crate) type Key = [u8; 32];

/// Successful verifications and until when each holds.
pub(crate) struct VerificationCache {
    entries: quick_cache::sync::Cache<Key, SystemTime>,
    capacity: u64,
    ttl: Duration,
}

impl VerificationCache {
    pub(crate) fn new(capacity: u64, ttl: Duration) -> Self {
        Self {
            entries: quick_cache::sync::Cache::new(usize::try_from(capacity).unwrap_or(usize::MAX)),
            capacity,
            ttl,
        }
    }

    /// The cache a configuration asks for, if any.
    pub(crate) fn for_config(config: &TlsClientAuth) -> Option<Self> {
        (config.cache_capacity > 0 && !config.cache_ttl.is_zero())
            .then(|| Self::new(config.cache_capacity, config.cache_ttl))
    }

    /// Capacity and TTL: a new configuration with the same keeps the cache.
    pub(crate) fn settings(&self) -> (u64, Duration) {
        (self.capacity, self.ttl)
    }

    /// The key of a verification of `cert` for `client` under the
    /// configuration snapshot `generation`: a change of the configuration,
    /// of its CRLs, or of the client's registered trust (anchors, pin)
    /// changes the key.
    pub(crate) fn key(client: &RegisteredClient, cert: &ClientCert, generation: u64) -> Key {
        let mut h = Sha256::new();
        h.update(generation.to_be_bytes());
        // Lengths first, so that no two different inputs hash the same bytes.
        h.update((client.client_id().len() as u64).to_be_bytes());
        h.update(client.client_id().as_bytes());
        h.update(client.trust_config_id());
        h.update(cert.thumbprint().as_bytes());
        h.update((cert.intermediates().len() as u64).to_be_bytes());
        for c in cert.intermediates() {
            h.update(c.thumbprint().as_bytes());
        }
        h.finalize().into()
    }

    /// Whether a verification under `key` still holds at `now`.
    pub(crate) fn holds(&self, key: &Key, now: SystemTime) -> bool {
        match self.entries.get(key) {
            Some(until) if now < until => true,
            Some(_) => {
                self.entries.remove(key);
                false
            }
            None => false,
        }
    }

    /// Remembers a verification until the earlier of the TTL and `valid_until`.
    pub(crate) fn insert(&self, key: Key, now: SystemTime, valid_until: SystemTime) {
        let until = now
            .checked_add(self.ttl)
            .map_or(valid_until, |end| end.min(valid_until));
        if now < until {
            self.entries.insert(key, until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientMetadata, TokenEndpointAuthMethod};
    use certbound_cert::Certificate;
    use certbound_extract::CertSource;
    use certbound_testkit::TestCa;

    fn client(id: &str) -> RegisteredClient {
        let mut m = ClientMetadata::new(id, TokenEndpointAuthMethod::TlsClientAuth);
        m.tls_client_auth_subject_dn = Some("CN=client".into());
        m.validate().unwrap()
    }

    #[test]
    fn the_key_changes_with_the_generation() {
        let ca = TestCa::new("Key CA");
        let leaf = Certificate::from_der(ca.leaf("client").issue().der).unwrap();
        let cert = ClientCert::new(leaf, vec![], CertSource::Tls);
        assert_ne!(
            VerificationCache::key(&client("bank"), &cert, 1),
            VerificationCache::key(&client("bank"), &cert, 2)
        );
    }

    #[test]
    fn the_key_changes_with_client_leaf_and_chain() {
        let ca = TestCa::new("Key CA");
        let inter = ca.intermediate("Key Issuing");
        let leaf = Certificate::from_der(inter.leaf("client").issue().der).unwrap();
        let other = Certificate::from_der(inter.leaf("client").issue().der).unwrap();
        let chain = vec![Certificate::from_der(inter.cert.der.clone()).unwrap()];
        let with = |leaf: &Certificate, chain: &[Certificate]| {
            ClientCert::new(leaf.clone(), chain.to_vec(), CertSource::Tls)
        };
        let key = VerificationCache::key(&client("bank"), &with(&leaf, &chain), 1);
        assert_eq!(
            key,
            VerificationCache::key(&client("bank"), &with(&leaf, &chain), 1)
        );
        assert_ne!(
            key,
            VerificationCache::key(&client("bank2"), &with(&leaf, &chain), 1)
        );
        assert_ne!(
            key,
            VerificationCache::key(&client("bank"), &with(&leaf, &[]), 1)
        );
        assert_ne!(
            key,
            VerificationCache::key(&client("bank"), &with(&other, &chain), 1)
        );
    }

    #[test]
    fn an_entry_holds_until_the_earlier_of_ttl_and_validity() {
        let cache = VerificationCache::new(8, Duration::from_secs(300));
        let now = SystemTime::now();
        cache.insert([1; 32], now, now + Duration::from_secs(60));
        assert!(cache.holds(&[1; 32], now + Duration::from_secs(59)));
        assert!(!cache.holds(&[1; 32], now + Duration::from_secs(60)));
        cache.insert([2; 32], now, now + Duration::from_secs(3600));
        assert!(cache.holds(&[2; 32], now + Duration::from_secs(299)));
        assert!(!cache.holds(&[2; 32], now + Duration::from_secs(300)));
        cache.insert([3; 32], now, now);
        assert!(!cache.holds(&[3; 32], now));
    }
}
