//! Keyset pagination shared by every list.

use chrono::NaiveDateTime;

/// Position after which the next page starts: the (created, extId) of the last item served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// `created` of the last item, millisecond precision.
    pub created: NaiveDateTime,
    /// `extId` of the last item (tie-breaker).
    pub ext_id: String,
}

/// What a list call asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Maximum number of items (already clamped by the caller to 1..=1000).
    pub limit: usize,
    /// Start after this position; `None` = first page.
    pub after: Option<Cursor>,
}

/// One page of items in (created, extId) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only proves there is a
    /// next page, so the cursor is taken from the last row served.
    pub fn from_overfetch(mut rows: Vec<T>, limit: usize, key: impl Fn(&T) -> Cursor) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(key) } else { None };
        Page { items: rows, next }
    }

    /// Converts the items, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}
