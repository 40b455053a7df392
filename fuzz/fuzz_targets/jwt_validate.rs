//! `JwtValidator::inspect_at` / `validate_at` on arbitrary token strings
//! (trusting one ES256 key; seeds are tokens signed with it), and `cnf`
//! parsing (`Confirmation::from_value`, `TokenClaims::from_map`) on the
//! input as JSON. `validate_at` succeeds exactly when the report passed.
#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use certbound_binding::{Confirmation, JwtValidator, TokenClaims, TypCheck};
use libfuzzer_sys::fuzz_target;

/// A fixed "now" (2027-01-15) so runs are reproducible; the seeds' `exp`
/// and `nbf` are around it.
const NOW: u64 = 1_800_000_000;

static VALIDATOR: LazyLock<JwtValidator> = LazyLock::new(|| {
    let built = JwtValidator::builder_from_jwks_json(certbound_fuzz::JWT_PUBLIC_JWKS).map(|b| {
        b.issuer(certbound_fuzz::JWT_ISSUER)
            .audience(certbound_fuzz::JWT_AUDIENCE)
            .typ(TypCheck::Lenient)
            .build()
    });
    match built {
        Ok(Ok(v)) => v,
        _ => panic!("fuzz setup: the validator does not build"),
    }
});

fuzz_target!(|data: &[u8]| {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW);
    if let Ok(token) = std::str::from_utf8(data) {
        let report = VALIDATOR.inspect_at(token, now);
        let validated = VALIDATOR.validate_at(token, now);
        assert_eq!(report.passed(), validated.is_ok());
        assert_eq!(report.passed(), report.first_failed().is_none());
        assert_eq!(report.result.as_ref().err(), validated.as_ref().err());
        if let Ok(claims) = validated {
            if let Some(cnf) = claims.confirmation() {
                let _ = cnf.thumbprint();
            }
        }
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(cnf) = Confirmation::from_value(&value) {
            let _ = cnf.thumbprint();
            let again = Confirmation::from_value(&cnf.to_value());
            assert_eq!(again.ok().map(|c| c.to_value()), Some(cnf.to_value()));
        }
        if let serde_json::Value::Object(map) = value {
            let _ = Confirmation::from_claims(&map);
            if let Ok(claims) = TokenClaims::from_map(map) {
                let _ = claims.audiences();
                let _ = claims.scopes().count();
            }
        }
    }
});
