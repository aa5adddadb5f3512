//! One error shape for the whole API: RFC 9457 `application/problem+json` with a stable
//! machine-readable `code` and, for bad input, the fields at fault. Module error enums implement
//! [`Problem`] once; internal errors are logged and never shown.

use axum::Json;
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

/// What a module error says about itself so the edge can answer for it.
pub trait Problem: std::fmt::Display {
    fn status(&self) -> StatusCode;
    /// A stable snake_case code that reads as a sentence: `password_too_short`.
    fn code(&self) -> &'static str;
    /// The input field at fault, if the error is about one.
    fn field(&self) -> Option<&'static str> {
        None
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// An error answer. Rendered as a problem document ([`ProblemDocument`]).
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub detail: String,
    pub errors: Vec<FieldError>,
}

/// The `application/problem+json` body (RFC 9457) every error answer carries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(
    example = json!({
        "type": "/api/docs#problem-password_too_short",
        "title": "Unprocessable Entity",
        "status": 422,
        "code": "password_too_short",
        "detail": "password: must be at least 12 characters",
        "errors": [{"field": "password", "code": "password_too_short", "message": "must be at least 12 characters"}]
    }),
)]
pub struct ProblemDocument {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    /// Stable and machine-readable: act on this, not on the wording.
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn document(&self) -> ProblemDocument {
        ProblemDocument {
            type_uri: format!("/api/docs#problem-{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_string(),
            status: self.status.as_u16(),
            code: self.code.clone(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> ApiError {
        ApiError { status, code: code.to_string(), detail: detail.into(), errors: Vec::new() }
    }

    pub fn field(status: StatusCode, code: &str, field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        let mut error = ApiError::new(status, code, format!("{field}: {message}"));
        error.errors.push(FieldError { field: field.to_string(), code: code.to_string(), message });
        error
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "authentication_required", "sign in or send a valid bearer token")
    }

    pub fn forbidden(permission: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "permission_denied", format!("your role does not grant {permission}"))
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no such {what}"))
    }

    /// An unexpected failure: logged in full, answered with a bare 500.
    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(%error, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong on our side; it has been logged",
        )
    }
}

impl<E: Problem> From<E> for ApiError {
    fn from(error: E) -> ApiError {
        let status = error.status();
        if status.is_server_error() {
            return ApiError::internal(&error);
        }
        match error.field() {
            Some(field) => ApiError::field(status, error.code(), field, error.to_string()),
            None => ApiError::new(status, error.code(), error.to_string()),
        }
    }
}

impl Problem for db::Error {
    fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
    fn code(&self) -> &'static str {
        "internal_error"
    }
}

impl Problem for kernel::PagingError {
    fn status(&self) -> StatusCode {
        StatusCode::UNPROCESSABLE_ENTITY
    }
    fn code(&self) -> &'static str {
        match self {
            kernel::PagingError::CursorIsInvalid => "cursor_is_invalid",
            kernel::PagingError::LimitOutOfRange => "limit_out_of_range",
        }
    }
    fn field(&self) -> Option<&'static str> {
        Some(match self {
            kernel::PagingError::CursorIsInvalid => "cursor",
            kernel::PagingError::LimitOutOfRange => "limit",
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (status, Json(self.document())).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

/// The sentence a form shows for a refused input: "field name: what is wrong".
pub fn field_message<E: Problem>(error: &E) -> String {
    match error.field() {
        Some(field) => format!("{}: {error}", field.replace('_', " ")),
        None => error.to_string(),
    }
}

/// For a form page: a refused input becomes its status and message, to show on the form again;
/// a server-side failure stays an error (logged, never shown).
pub fn form_message<E: Problem>(error: E) -> Result<(StatusCode, String), PageError>
where
    ApiError: From<E>,
{
    let status = error.status();
    if status.is_server_error() {
        return Err(PageError(ApiError::from(error)));
    }
    Ok((status, field_message(&error)))
}

/// An error on an HTML page: the same facts, rendered as a page a person can read.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(error: E) -> PageError {
        PageError(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        let body = crate::layout::error_page(e.status, &e.detail);
        (e.status, Html(body)).into_response()
    }
}
