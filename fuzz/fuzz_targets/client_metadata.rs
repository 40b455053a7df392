//! `ClientMetadata` (RFC 7591 JSON) parsing and `validate()`; a valid
//! registration survives a JSON round trip and validates again.
#![no_main]

use certbound_auth::ClientMetadata;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(metadata) = serde_json::from_slice::<ClientMetadata>(data) else {
        return;
    };
    let json = match serde_json::to_string(&metadata) {
        Ok(j) => j,
        Err(e) => panic!("ClientMetadata does not serialize: {e}"),
    };
    match metadata.clone().validate() {
        Ok(client) => {
            assert_eq!(client.client_id(), metadata.client_id);
            if let Some(p) = client.subject_parameter() {
                let _ = p.name();
            }
            let again: ClientMetadata = match serde_json::from_str(&json) {
                Ok(m) => m,
                Err(e) => panic!("{json} does not parse again: {e}"),
            };
            assert!(again.validate().is_ok(), "{json} no longer validates");
        }
        Err(e) => {
            assert!(!e.field().is_empty());
            let _ = e.to_oauth_error();
        }
    }
});
