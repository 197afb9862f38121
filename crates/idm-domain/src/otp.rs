//! One-time passwords of OATH credentials: HOTP (RFC 4226), TOTP (RFC 6238) and the
//! `otpauth://` provisioning URI authenticator apps scan.
//!
//! Replay protection is modelled as a *last accepted moving factor* (the TOTP time step or the
//! HOTP counter) that must strictly increase: a code is accepted only for a factor above the one
//! stored, and the caller persists the new factor with a conditional update
//! (`… WHERE last_used = <read value>`), so two concurrent uses of one code cannot both win.
//! The secret itself never leaves this module in any form but the URI built at creation.

use hmac::{Hmac, Mac};

use crate::error::DomainError;
use crate::error_code::ErrorCode;

wire_enum! {
    /// The hash behind the HMAC (`initialAlgorithm`: `SHA1`, `SHA256`, `SHA512`). Parsed
    /// ignoring case, because the OATH policy and the DTO spell them differently.
    OtpAlgorithm, parse: (any_case "OtpAlgorithm") {
        /// HMAC-SHA-1, what every authenticator app supports (the default).
        Sha1 => "SHA1",
        /// HMAC-SHA-256.
        Sha256 => "SHA256",
        /// HMAC-SHA-512.
        Sha512 => "SHA512",
    }
}

impl OtpAlgorithm {
    /// The secret length RFC 4226 §4 / RFC 6238 recommend: the hash's output size.
    pub const fn secret_len(self) -> usize {
        match self {
            OtpAlgorithm::Sha1 => 20,
            OtpAlgorithm::Sha256 => 32,
            OtpAlgorithm::Sha512 => 64,
        }
    }
}

wire_enum! {
    /// How the moving factor is chosen (`initialType`: `totp` or `hotp`; the OATH policy
    /// spells them `hotp`/`totp` and the DTO `HOTP`/`TOTP`, so parsed ignoring case).
    OtpMethod, parse: (any_case "OtpMethod") {
        /// Time-based (RFC 6238): the factor is the current time step.
        Totp => "TOTP",
        /// Counter-based (RFC 4226): the factor is a counter both sides advance.
        Hotp => "HOTP",
    }
}

impl OtpMethod {
    /// The `otpauth://` host part (`totp`, `hotp`).
    pub const fn uri_type(self) -> &'static str {
        match self {
            OtpMethod::Totp => "totp",
            OtpMethod::Hotp => "hotp",
        }
    }
}

/// How far a code may be off: one step (TOTP) or one counter value (HOTP) either way of the
/// expected one, as the issue asks ("allowed drift ±1 step").
pub const DRIFT: u64 = 1;

/// The parameters of one OATH credential (the OathPolicy's `initial*` values at creation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpParams {
    /// TOTP or HOTP.
    pub method: OtpMethod,
    /// The HMAC hash.
    pub algorithm: OtpAlgorithm,
    /// 6, 7 or 8.
    pub digits: u32,
    /// Seconds per time step (TOTP only; kept for HOTP too, where it is ignored).
    pub period: u64,
}

impl Default for OtpParams {
    /// The OathPolicy defaults: TOTP, SHA1, 6 digits, 30 s.
    fn default() -> Self {
        OtpParams {
            method: OtpMethod::Totp,
            algorithm: OtpAlgorithm::Sha1,
            digits: 6,
            period: 30,
        }
    }
}

impl OtpParams {
    /// Checks digits (6..=8, RFC 4226 allows no fewer; the policy offers 6, 7, 8) and period
    /// (> 0), naming the offending policy key in a 422 `errors.invalidParameter`.
    ///
    /// # Errors
    /// The first parameter out of range.
    pub fn validate(&self) -> Result<(), DomainError> {
        if !(6..=8).contains(&self.digits) {
            return Err(DomainError::unprocessable(
                ErrorCode::InvalidParameter,
                "The following fields are not valid: digits".to_owned(),
            ));
        }
        if self.period == 0 {
            return Err(DomainError::unprocessable(
                ErrorCode::InvalidParameter,
                "The following fields are not valid: period".to_owned(),
            ));
        }
        Ok(())
    }
}

fn hmac_digest(algorithm: OtpAlgorithm, secret: &[u8], message: &[u8]) -> Vec<u8> {
    // `new_from_slice` accepts every key length for HMAC; the error arm is unreachable but
    // kept total (an empty digest then never matches a code).
    match algorithm {
        OtpAlgorithm::Sha1 => Hmac::<sha1::Sha1>::new_from_slice(secret)
            .map(|mut m| {
                m.update(message);
                m.finalize().into_bytes().to_vec()
            })
            .unwrap_or_default(),
        OtpAlgorithm::Sha256 => Hmac::<sha2::Sha256>::new_from_slice(secret)
            .map(|mut m| {
                m.update(message);
                m.finalize().into_bytes().to_vec()
            })
            .unwrap_or_default(),
        OtpAlgorithm::Sha512 => Hmac::<sha2::Sha512>::new_from_slice(secret)
            .map(|mut m| {
                m.update(message);
                m.finalize().into_bytes().to_vec()
            })
            .unwrap_or_default(),
    }
}

/// The HOTP value (RFC 4226 §5.3) of `counter`, zero-padded to `digits`.
pub fn hotp(secret: &[u8], counter: u64, algorithm: OtpAlgorithm, digits: u32) -> String {
    let digest = hmac_digest(algorithm, secret, &counter.to_be_bytes());
    let Some(last) = digest.last() else {
        return String::new();
    };
    let offset = usize::from(last & 0x0f);
    let Some(window) = digest.get(offset..offset + 4) else {
        return String::new();
    };
    let binary = (u32::from(window[0] & 0x7f) << 24)
        | (u32::from(window[1]) << 16)
        | (u32::from(window[2]) << 8)
        | u32::from(window[3]);
    let modulus = 10u64.pow(digits);
    format!(
        "{:0width$}",
        u64::from(binary) % modulus,
        width = digits as usize
    )
}

/// The TOTP time step (RFC 6238 §4, T0 = 0) of a Unix time in seconds.
pub fn time_step(unix_seconds: i64, period: u64) -> u64 {
    // Times before 1970 do not occur on a server clock; they map to step 0.
    u64::try_from(unix_seconds).unwrap_or(0) / period.max(1)
}

/// The TOTP value (RFC 6238) at `unix_seconds`.
pub fn totp(secret: &[u8], unix_seconds: i64, params: &OtpParams) -> String {
    hotp(
        secret,
        time_step(unix_seconds, params.period),
        params.algorithm,
        params.digits,
    )
}

/// Compares without an early exit, so the time taken does not tell how many leading digits of a
/// guess were right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks `code` and answers the moving factor it was made for, if it is acceptable: within
/// [`DRIFT`] of the expected factor and strictly above `last_used` (the factor of the last
/// accepted code; `None` = never used). The caller stores the answer as the new `last_used`,
/// conditionally on `last_used` being unchanged.
///
/// TOTP: the expected factor is the current time step. HOTP: `last_used + 1` (or 0), and a
/// code up to `DRIFT` counter values ahead is accepted too (the app was pressed once without
/// logging in).
pub fn verify(
    secret: &[u8],
    params: &OtpParams,
    code: &str,
    unix_seconds: i64,
    last_used: Option<u64>,
) -> Option<u64> {
    let code = code.trim();
    if code.len() != params.digits as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (first, last) = match params.method {
        OtpMethod::Totp => {
            let now = time_step(unix_seconds, params.period);
            (now.saturating_sub(DRIFT), now.saturating_add(DRIFT))
        }
        OtpMethod::Hotp => {
            let next = last_used.map_or(0, |c| c.saturating_add(1));
            (next, next.saturating_add(DRIFT))
        }
    };
    let mut accepted = None;
    // Every candidate is computed (no early return) to keep the time independent of which
    // factor matched; the first match wins.
    for factor in first..=last {
        let fresh = last_used.is_none_or(|used| factor > used);
        let matches = constant_time_eq(
            hotp(secret, factor, params.algorithm, params.digits).as_bytes(),
            code.as_bytes(),
        );
        if fresh && matches && accepted.is_none() {
            accepted = Some(factor);
        }
    }
    accepted
}

/// The secret in the unpadded base32 of `otpauth://` URIs (RFC 4648).
pub fn base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The secret from the base32 of an `otpauth://` URI (upper case, unpadded); `None` if it is
/// not base32.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    data_encoding::BASE32_NOPAD
        .decode(text.trim_end_matches('=').as_bytes())
        .ok()
}

/// Percent-encodes everything but RFC 3986 unreserved characters (safe in a path and a query).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The key-URI an authenticator app scans (Google Authenticator's `otpauth://` format):
/// `otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=…&digits=…&period=…`
/// (`counter=` instead of `period=` for HOTP, starting at `counter`).
pub fn otpauth_uri(
    secret: &[u8],
    params: &OtpParams,
    issuer: Option<&str>,
    account: &str,
    counter: u64,
) -> String {
    let issuer = issuer.filter(|i| !i.is_empty());
    let label = match issuer {
        Some(i) => format!("{}:{}", percent_encode(i), percent_encode(account)),
        None => percent_encode(account),
    };
    let mut uri = format!(
        "otpauth://{}/{}?secret={}",
        params.method.uri_type(),
        label,
        base32(secret)
    );
    if let Some(i) = issuer {
        uri.push_str("&issuer=");
        uri.push_str(&percent_encode(i));
    }
    uri.push_str(&format!(
        "&algorithm={}&digits={}",
        params.algorithm.as_str(),
        params.digits
    ));
    match params.method {
        OtpMethod::Totp => uri.push_str(&format!("&period={}", params.period)),
        OtpMethod::Hotp => uri.push_str(&format!("&counter={counter}")),
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    #[test]
    fn hotp_matches_the_rfc_4226_appendix_d_values() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(
                hotp(SEED_SHA1, counter as u64, OtpAlgorithm::Sha1, 6),
                *want,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn totp_matches_the_rfc_6238_appendix_b_values_for_all_three_hashes() {
        let table: [(i64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, sha1, sha256, sha512) in table {
            for (algorithm, seed, want) in [
                (OtpAlgorithm::Sha1, SEED_SHA1, sha1),
                (OtpAlgorithm::Sha256, SEED_SHA256, sha256),
                (OtpAlgorithm::Sha512, SEED_SHA512, sha512),
            ] {
                let params = OtpParams {
                    method: OtpMethod::Totp,
                    algorithm,
                    digits: 8,
                    period: 30,
                };
                assert_eq!(totp(seed, time, &params), want, "{algorithm} at {time}");
            }
        }
    }

    fn totp6() -> OtpParams {
        OtpParams::default()
    }

    #[test]
    fn a_totp_code_is_accepted_one_step_early_or_late_but_not_two() {
        let p = totp6();
        let now = 1_700_000_000;
        let step = time_step(now, 30);
        for (offset, accepted) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = totp(SEED_SHA1, now + offset * 30, &p);
            let want = accepted.then(|| (step as i64 + offset) as u64);
            assert_eq!(
                verify(SEED_SHA1, &p, &code, now, None),
                want,
                "offset {offset}"
            );
        }
    }

    #[test]
    fn a_replayed_totp_code_is_refused_because_its_step_is_not_above_the_last_used() {
        let p = totp6();
        let now = 1_700_000_000;
        let code = totp(SEED_SHA1, now, &p);
        let used = verify(SEED_SHA1, &p, &code, now, None);
        assert_eq!(used, Some(time_step(now, 30)));
        assert_eq!(verify(SEED_SHA1, &p, &code, now, used), None);
        // Still refused a step later, while it is within the drift window.
        assert_eq!(verify(SEED_SHA1, &p, &code, now + 30, used), None);
        // An older code inside the window is refused too once a newer one was used.
        let older = totp(SEED_SHA1, now - 30, &p);
        assert_eq!(verify(SEED_SHA1, &p, &older, now, used), None);
        // The next step's code is fine.
        let next = totp(SEED_SHA1, now + 30, &p);
        assert_eq!(
            verify(SEED_SHA1, &p, &next, now + 30, used),
            Some(time_step(now, 30) + 1)
        );
    }

    #[test]
    fn hotp_accepts_the_next_counter_or_one_ahead_and_never_the_same_counter_twice() {
        let p = OtpParams {
            method: OtpMethod::Hotp,
            ..OtpParams::default()
        };
        let code = |c| hotp(SEED_SHA1, c, OtpAlgorithm::Sha1, 6);
        assert_eq!(verify(SEED_SHA1, &p, &code(0), 0, None), Some(0));
        assert_eq!(verify(SEED_SHA1, &p, &code(1), 0, None), Some(1));
        assert_eq!(verify(SEED_SHA1, &p, &code(2), 0, None), None);
        assert_eq!(verify(SEED_SHA1, &p, &code(0), 0, Some(0)), None);
        assert_eq!(verify(SEED_SHA1, &p, &code(1), 0, Some(0)), Some(1));
        assert_eq!(verify(SEED_SHA1, &p, &code(3), 0, Some(1)), Some(3));
    }

    #[test]
    fn codes_of_the_wrong_length_or_with_non_digits_are_refused() {
        let p = totp6();
        let now = 59;
        let code = totp(SEED_SHA1, now, &p);
        assert_eq!(verify(SEED_SHA1, &p, &format!("{code}0"), now, None), None);
        assert_eq!(verify(SEED_SHA1, &p, &code[..5], now, None), None);
        assert_eq!(verify(SEED_SHA1, &p, "12345a", now, None), None);
        assert_eq!(verify(SEED_SHA1, &p, "", now, None), None);
        assert_eq!(
            verify(SEED_SHA1, &p, &format!(" {code} "), now, None),
            Some(1)
        );
    }

    #[test]
    fn the_otpauth_uri_carries_the_base32_secret_issuer_account_and_parameters() {
        let uri = otpauth_uri(
            b"Hello!\xde\xad\xbe\xef",
            &totp6(),
            Some("ACME Corp"),
            "alice@acme.test",
            0,
        );
        assert_eq!(
            uri,
            "otpauth://totp/ACME%20Corp:alice%40acme.test?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Corp&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            base32_decode("JBSWY3DPEHPK3PXP").as_deref(),
            Some(&b"Hello!\xde\xad\xbe\xef"[..])
        );
        assert_eq!(base32_decode("not base32!"), None);
        let hotp_uri = otpauth_uri(
            b"Hello!\xde\xad\xbe\xef",
            &OtpParams {
                method: OtpMethod::Hotp,
                algorithm: OtpAlgorithm::Sha256,
                digits: 8,
                period: 30,
            },
            None,
            "bob",
            5,
        );
        assert_eq!(
            hotp_uri,
            "otpauth://hotp/bob?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256&digits=8&counter=5"
        );
    }

    #[test]
    fn algorithm_and_method_names_parse_case_insensitively_and_others_are_refused() {
        assert_eq!(
            "sha256".parse::<OtpAlgorithm>().ok(),
            Some(OtpAlgorithm::Sha256)
        );
        assert_eq!("totp".parse::<OtpMethod>().ok(), Some(OtpMethod::Totp));
        assert_eq!("HOTP".parse::<OtpMethod>().ok(), Some(OtpMethod::Hotp));
        let err = "MD5".parse::<OtpAlgorithm>().unwrap_err();
        assert_eq!(
            err,
            DomainError::unprocessable(
                ErrorCode::InvalidParameter,
                "Invalid OtpAlgorithm name 'MD5'"
            )
        );
    }

    #[test]
    fn digits_outside_six_to_eight_and_a_zero_period_are_refused() {
        for digits in [5, 9] {
            let p = OtpParams {
                digits,
                ..OtpParams::default()
            };
            assert!(p.validate().is_err());
        }
        let p = OtpParams {
            period: 0,
            ..OtpParams::default()
        };
        assert!(p.validate().is_err());
        assert!(OtpParams::default().validate().is_ok());
    }
}
