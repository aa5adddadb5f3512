//! Cursor pagination for every list: the client passes back an opaque cursor naming the last
//! row it saw, so pages stay stable while rows are added, and no list is ever unbounded.

use base64::Engine;
use serde::Serialize;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 200;

/// An opaque position in a list ordered by an integer key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub after_key: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    #[error("cursor is not one this server issued")]
    CursorIsInvalid,
    #[error("limit must be between 1 and 200")]
    LimitOutOfRange,
}

impl Cursor {
    pub fn encode(self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("k:{}", self.after_key))
    }

    pub fn parse(text: &str) -> Result<Cursor, PagingError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| PagingError::CursorIsInvalid)?;
        let text = String::from_utf8(bytes).map_err(|_| PagingError::CursorIsInvalid)?;
        let key = text.strip_prefix("k:").and_then(|k| k.parse::<i64>().ok()).ok_or(PagingError::CursorIsInvalid)?;
        Ok(Cursor { after_key: key })
    }
}

/// What a client asked for: at most `limit` rows after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: DEFAULT_PAGE_SIZE, after: None }
    }
}

impl PageRequest {
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, PagingError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(PagingError::LimitOutOfRange);
        }
        let after = match cursor {
            Some(text) if !text.trim().is_empty() => Some(Cursor::parse(text)?),
            _ => None,
        };
        Ok(PageRequest { limit, after })
    }

    /// The key to start after; lists order by ascending integer key.
    pub fn after_key(&self) -> i64 {
        self.after.map(|c| c.after_key).unwrap_or(i64::MIN)
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of a list and the cursor for the next, if any.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `fetch_limit` rows, using `key` to name the cursor.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> i64) -> Page<T> {
        let limit = request.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| Cursor { after_key: key(last) }.encode())
        } else {
            None
        };
        Page { items: rows, next_cursor }
    }
}
