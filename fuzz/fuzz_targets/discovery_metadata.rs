//! The metadata validator: `check_document` on any JSON value, in both
//! profiles, and `AuthorizationServerMetadata::from_json` + `validate_for`.
//! A parsed document survives `to_json` / `from_json` (issuer, endpoints,
//! validity).
#![no_main]

use certbound_discovery::{AuthorizationServerMetadata, Profile, check_document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        for profile in [Profile::Base, Profile::Fapi] {
            match check_document(&value, profile) {
                Ok(md) => assert!(md.validate_for(profile).is_ok()),
                Err(errors) => {
                    assert!(!errors.as_slice().is_empty());
                    for e in errors.iter() {
                        let _ = e.field();
                        let _ = e.to_string();
                    }
                }
            }
        }
        // Passing the FAPI profile implies passing the base one.
        if check_document(&value, Profile::Fapi).is_ok() {
            assert!(check_document(&value, Profile::Base).is_ok());
        }
    }
    if let Ok(md) = AuthorizationServerMetadata::from_json(data) {
        let base = md.validate_for(Profile::Base).is_ok();
        let again = match AuthorizationServerMetadata::from_json(md.to_json().as_bytes()) {
            Ok(m) => m,
            Err(e) => panic!("to_json output does not parse again: {e}"),
        };
        // Not `again == md`: serde_json's default float parsing may differ
        // in the last bit from what it printed, in an unknown member.
        assert_eq!(again.issuer, md.issuer);
        assert!(again.endpoints().eq(md.endpoints()));
        assert_eq!(again.issues_bound_tokens(), md.issues_bound_tokens());
        assert_eq!(again.validate_for(Profile::Base).is_ok(), base);
        let _ = md.issues_bound_tokens();
        let _ = md.endpoints().count();
    }
});
