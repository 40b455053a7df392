//! Attribute types: the OID is the identity; names are for people.

/// Known attribute types: the name printed first, then every accepted
/// spelling (matched case-insensitively, RFC 4512 §1.4), then the OID.
///
/// The first name of each row is what the RFC 4514 printer emits: the nine
/// names of RFC 4514 §3, and the registered descriptors (RFC 4519, RFC 4524,
/// RFC 2985, CA/Browser Forum EV) for the rest.
pub(crate) const KNOWN: &[(&[&str], &str)] = &[
    (&["CN", "commonName"], "2.5.4.3"),
    (&["SN", "surname"], "2.5.4.4"),
    (&["serialNumber"], "2.5.4.5"),
    (&["C", "countryName"], "2.5.4.6"),
    (&["L", "localityName"], "2.5.4.7"),
    (&["ST", "stateOrProvinceName", "S"], "2.5.4.8"),
    (&["STREET", "streetAddress"], "2.5.4.9"),
    (&["O", "organizationName"], "2.5.4.10"),
    (&["OU", "organizationalUnitName"], "2.5.4.11"),
    (&["title"], "2.5.4.12"),
    (&["description"], "2.5.4.13"),
    (&["businessCategory"], "2.5.4.15"),
    (&["postalCode"], "2.5.4.17"),
    (&["postOfficeBox"], "2.5.4.18"),
    (&["name"], "2.5.4.41"),
    (&["givenName", "GN", "G"], "2.5.4.42"),
    (&["initials"], "2.5.4.43"),
    (&["generationQualifier"], "2.5.4.44"),
    (&["x500UniqueIdentifier"], "2.5.4.45"),
    (&["dnQualifier"], "2.5.4.46"),
    (&["pseudonym"], "2.5.4.65"),
    (&["organizationIdentifier"], "2.5.4.97"),
    (&["DC", "domainComponent"], "0.9.2342.19200300.100.1.25"),
    (&["UID", "userId"], "0.9.2342.19200300.100.1.1"),
    (&["emailAddress", "E", "email"], "1.2.840.113549.1.9.1"),
    (&["unstructuredName"], "1.2.840.113549.1.9.2"),
    (
        &["jurisdictionL", "jurisdictionLocalityName"],
        "1.3.6.1.4.1.311.60.2.1.1",
    ),
    (
        &["jurisdictionST", "jurisdictionStateOrProvinceName"],
        "1.3.6.1.4.1.311.60.2.1.2",
    ),
    (
        &["jurisdictionC", "jurisdictionCountryName"],
        "1.3.6.1.4.1.311.60.2.1.3",
    ),
];

/// The OID of a known attribute name, case-insensitively.
pub(crate) fn oid_of_name(name: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
        .map(|(_, oid)| *oid)
}

/// The printed name of a known OID.
pub(crate) fn name_of_oid(oid: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(_, o)| *o == oid)
        .and_then(|(names, _)| names.first().copied())
}

/// Whether `s` is a dotted-decimal OID (RFC 4512 numericoid): at least two
/// arcs, digits only, no leading zeros. The first arc is not limited to 0-2
/// (RFC 4512 does not), so whatever OID a certificate carries prints as a
/// string that parses again.
pub(crate) fn is_numeric_oid(s: &str) -> bool {
    let mut arcs = 0;
    for arc in s.split('.') {
        if arc.is_empty()
            || !arc.bytes().all(|b| b.is_ascii_digit())
            || (arc.len() > 1 && arc.starts_with('0'))
            || arc.len() > 20
        {
            return false;
        }
        arcs += 1;
    }
    arcs >= 2
}
