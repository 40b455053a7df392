//! The bearer token reader (`bearer_token(&HeaderMap)`): the input is one
//! or more `Authorization` values separated by `\n`. A token it returns is
//! non-empty b64token syntax, taken from the one header there is.
#![no_main]

use certbound_binding::bearer_token;
use http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        let Ok(v) = HeaderValue::from_bytes(line) else {
            return;
        };
        headers.append(AUTHORIZATION, v);
    }
    match bearer_token(&headers) {
        Ok(token) => {
            assert_eq!(headers.get_all(AUTHORIZATION).iter().count(), 1);
            assert!(!token.is_empty());
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
            );
            let value = headers
                .get(AUTHORIZATION)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            assert!(value.len() > 7 && value[..7].eq_ignore_ascii_case(b"bearer "));
        }
        Err(e) => {
            let _ = e.www_authenticate();
            let _ = e.status();
        }
    }
});
