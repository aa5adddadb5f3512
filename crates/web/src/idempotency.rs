//! `Idempotency-Key` for POSTs that create a record or move money. The key is reserved inside
//! the same transaction as the business write, so the write and the stored response commit
//! together: the same key and body again gets the stored response; the same key with another
//! body is refused; concurrent duplicates wait for the first and then get its response, so
//! there is exactly one effect.

use crate::{ApiError, CurrentUser};
use axum::Json;
use axum::response::{IntoResponse, Response};
use db::Tx;
use http::{HeaderMap, HeaderValue, StatusCode};
use kernel::Timestamp;
use serde::Serialize;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
const MAX_KEY_LENGTH: usize = 200;

/// What reserving the key found.
pub enum Reservation {
    /// No key was sent: the request runs without idempotency.
    NoKey,
    /// The key is ours: run the operation, then [`finish`].
    Fresh { key: String },
    /// A request with this key already completed: answer with its response.
    Replay(Replayed),
}

/// Reads the header and reserves the key inside `tx` for `request` (the parsed body).
pub async fn reserve<B: Serialize>(
    tx: &mut Tx,
    user: &CurrentUser,
    headers: &HeaderMap,
    route: &str,
    request: &B,
    now: Timestamp,
) -> Result<Reservation, ApiError> {
    let Some(key) = headers.get(HEADER) else {
        return Ok(Reservation::NoKey);
    };
    let key = key.to_str().unwrap_or_default().trim().to_string();
    if key.is_empty() || key.len() > MAX_KEY_LENGTH || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_invalid",
            "Idempotency-Key",
            "must be 1 to 200 printable ASCII characters",
        ));
    }
    let body = serde_json::to_string(request).map_err(ApiError::internal)?;
    let request_hash = db::sha256_hex(&format!("{route}\n{body}"));
    if crate::store::reserve_idempotency_key(tx, user.user_id, &key, &request_hash, now).await? {
        return Ok(Reservation::Fresh { key });
    }
    let stored = crate::store::find_idempotency(tx, user.user_id, &key).await?;
    let Some(stored) = stored else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_request_in_progress",
            "a request with this Idempotency-Key is still running; retry shortly",
        ));
    };
    if stored.request_hash != request_hash {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused_with_different_request",
            "Idempotency-Key",
            "this key was already used for a different request",
        ));
    }
    Ok(Reservation::Replay(Replayed { status: stored.response_status, body: stored.response_body }))
}

/// The stored response of the first request with a key.
pub struct Replayed {
    status: i32,
    body: String,
}

impl IntoResponse for Replayed {
    fn into_response(self) -> Response {
        replay(self.status, &self.body)
    }
}

fn replay(status: i32, body: &str) -> Response {
    let status = u16::try_from(status).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    let mut response = (status, Json(value)).into_response();
    response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

/// Stores the response for a fresh key (inside `tx`, before commit) and builds it.
pub async fn finish<T: Serialize>(
    tx: &mut Tx,
    user: &CurrentUser,
    reservation: &Reservation,
    status: StatusCode,
    body: &T,
) -> Result<Response, ApiError> {
    let text = serde_json::to_string(body).map_err(ApiError::internal)?;
    if let Reservation::Fresh { key } = reservation {
        crate::store::store_idempotent_response(tx, user.user_id, key, status.as_u16(), &text).await?;
    }
    // The text is the JSON already: answered as it is, not parsed and written out again.
    let json = HeaderValue::from_static("application/json");
    Ok((status, [(http::header::CONTENT_TYPE, json)], text).into_response())
}
