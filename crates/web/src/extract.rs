//! Extractors that turn malformed input into problem documents naming what was wrong, instead
//! of axum's plain-text rejections.

use crate::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::StatusCode;
use http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body; a malformed one is a 422 problem whose detail names the field.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => {
                let status = rejection.status();
                let code = if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    "content_type_must_be_json"
                } else {
                    "invalid_body"
                };
                let status = if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    status
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                Err(body_error(status, code, &rejection.body_text()))
            }
        }
    }
}

/// Pulls the field name out of serde's message ("missing field `username`", "... at line").
fn body_error(status: StatusCode, code: &str, text: &str) -> ApiError {
    let field = text.split('`').nth(1).filter(|f| !f.is_empty() && f.len() < 64 && !f.contains(' '));
    match field {
        Some(field) => ApiError::field(status, code, field, text.to_string()),
        None => ApiError::new(status, code, text.to_string()),
    }
}

/// A query string; malformed parameters are a 422 problem.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => {
                Err(body_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", &rejection.body_text()))
            }
        }
    }
}

/// A path parameter; one that does not parse is a 404, since no such resource exists.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(_) => Err(ApiError::not_found("resource")),
        }
    }
}

/// Whether the request came from htmx and wants only the page's content.
pub struct HtmxPartial(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for HtmxPartial {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()) == Some("true");
        Ok(HtmxPartial(header("hx-request") && !header("hx-boosted") && !header("hx-history-restore-request")))
    }
}

/// The client's address as the socket saw it (no proxy headers are trusted).
pub fn client_ip(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}
