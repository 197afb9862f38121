//! The wire form of keyset pages: `limit` and `continuationToken` = `<createdMillis>_<extId>`.

use chrono::DateTime;
use idm_domain::{DomainError, ErrorCode};
use idm_ports::{Cursor, PageRequest};

/// Default page size when `limit` is absent or 0.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page a client can ask for.
pub const MAX_LIMIT: usize = 1000;

/// Builds a page request from the raw query values.
///
/// # Errors
/// 422 `errors.invalidParameter` for a negative or oversized limit or a malformed token.
pub fn page_request(limit: Option<i64>, token: Option<&str>) -> Result<PageRequest, DomainError> {
    let limit = match limit {
        None | Some(0) => DEFAULT_LIMIT,
        Some(n) if n > 0 && n as usize <= MAX_LIMIT => n as usize,
        Some(_) => return Err(DomainError::invalid_fields(&["limit"])),
    };
    let after = match token {
        None | Some("") => None,
        Some(t) => Some(parse_token(t).ok_or_else(|| {
            DomainError::unprocessable(
                ErrorCode::InvalidParameter,
                "The following fields are not valid: continuationToken",
            )
        })?),
    };
    Ok(PageRequest { limit, after })
}

/// Parses `<createdMillis>_<extId>`.
pub fn parse_token(token: &str) -> Option<Cursor> {
    let (millis, ext_id) = token.split_once('_')?;
    if ext_id.is_empty() || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let created = DateTime::from_timestamp_millis(millis.parse().ok()?)?.naive_utc();
    Some(Cursor {
        created,
        ext_id: ext_id.to_owned(),
    })
}

/// Formats a cursor as a continuation token.
pub fn format_token(cursor: &Cursor) -> String {
    format!(
        "{}_{}",
        cursor.created.and_utc().timestamp_millis(),
        cursor.ext_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_through_format_and_parse() {
        let c = parse_token("1759758863123_aoo23").unwrap();
        assert_eq!(format_token(&c), "1759758863123_aoo23");
    }

    #[test]
    fn ext_ids_with_underscores_survive_the_token() {
        let c = parse_token("1759758863000_a_b_c").unwrap();
        assert_eq!(c.ext_id, "a_b_c");
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        for t in ["", "abc", "12x_a", "_a", "123_", "99999999999999999999_a"] {
            assert!(parse_token(t).is_none(), "{t}");
        }
        assert!(page_request(None, Some("garbage")).is_err());
    }

    #[test]
    fn limit_defaults_to_100_and_is_capped_at_1000() {
        assert_eq!(page_request(None, None).unwrap().limit, 100);
        assert_eq!(page_request(Some(0), None).unwrap().limit, 100);
        assert_eq!(page_request(Some(1000), None).unwrap().limit, 1000);
        assert!(page_request(Some(1001), None).is_err());
        assert!(page_request(Some(-1), None).is_err());
    }
}
