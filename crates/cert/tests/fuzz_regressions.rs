//! Inputs found by the fuzz targets (`fuzz/`), minimized, kept here so the
//! normal test suite catches a regression.

use certbound_cert::DistinguishedName;

/// fuzz target `dn_parse` (and `dn_match`): an attribute type that is only
/// the `OID.` prefix indexed the first byte of an empty string
/// (`parse.rs`, `attribute_type`: `numeric.as_bytes()[0]`) and panicked.
/// The same string reaches the parser from a client registration's
/// `tls_client_auth_subject_dn`.
#[test]
fn an_oid_prefix_without_digits_is_an_error_not_a_panic() {
    for input in [
        "oid.",
        "OID.",
        "OID.=x",
        "oid.=#0C0161",
        "CN=a,OID.=b",
        "UID=b+OID.,DC=example",
    ] {
        let parsed = std::panic::catch_unwind(|| input.parse::<DistinguishedName>());
        match parsed {
            Ok(result) => assert!(result.is_err(), "{input:?} parsed as {result:?}"),
            Err(_) => panic!("{input:?} made the DN parser panic"),
        }
    }
}
