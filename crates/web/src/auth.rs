//! The guard in front of every route: it works out who is calling (session cookie or bearer
//! token), checks the route's declared [`Access`], checks the CSRF token on every unsafe request
//! that relies on cookies, and hands the handler a [`CurrentUser`].

use crate::{Access, ApiError, AppState, CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE};
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use kernel::ids::{TokenId, UserId};
use kernel::{Actor, Role, Timestamp};

/// How often (at most) a session's or token's last-use time is written back.
const TOUCH_EVERY_SECONDS: i64 = 60;
/// The largest form body the guard reads to find the CSRF field.
const MAX_FORM_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session { session_hash: String, csrf_token: String },
    Token { token_id: TokenId },
}

/// The signed-in staff user making the request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub via: Via,
}

impl CurrentUser {
    pub fn actor(&self) -> Actor {
        Actor::User { user_id: self.user_id, username: self.username.clone(), role: self.role }
    }

    /// The token forms must echo; empty for token-authenticated calls, which need none.
    pub fn csrf_token(&self) -> &str {
        match &self.via {
            Via::Session { csrf_token, .. } => csrf_token,
            Via::Token { .. } => "",
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CurrentUser>().cloned().ok_or_else(ApiError::unauthenticated)
    }
}

/// The signed-in user if there is one; public pages use it to adapt.
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(parts.extensions.get::<CurrentUser>().cloned()))
    }
}

/// Reads one cookie from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// A `Set-Cookie` value for an HttpOnly, SameSite=Lax cookie on the whole site.
pub fn set_cookie(name: &str, value: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

enum Caller {
    Anonymous,
    BadToken,
    User(CurrentUser, Option<i64>),
}

async fn resolve(state: &AppState, headers: &HeaderMap, now: Timestamp) -> Result<Caller, ApiError> {
    if let Some(token) = bearer(headers) {
        // One statement outside any transaction: every API call makes this look-up, and it is
        // read fresh each time so a revoked token or disabled user is refused at once.
        let row = crate::store::find_token_now(&state.db, &db::sha256_hex(&token)).await?;
        let Some(row) = row.filter(|r| !r.disabled) else {
            return Ok(Caller::BadToken);
        };
        let Some(role) = Role::parse(&row.role) else {
            return Ok(Caller::BadToken);
        };
        if row.last_used_at.is_none_or(|t| now.micros() - t > TOUCH_EVERY_SECONDS * 1_000_000) {
            let mut tx = state.db.begin().await?;
            crate::store::touch_token(&mut tx, row.token_id, now).await?;
            tx.commit().await?;
        }
        let user = CurrentUser {
            user_id: UserId(row.user_id),
            username: row.username,
            display_name: row.display_name,
            role,
            via: Via::Token { token_id: TokenId(row.token_id) },
        };
        return Ok(Caller::User(user, None));
    }
    let Some(session_id) = cookie(headers, SESSION_COOKIE).filter(|s| !s.is_empty()) else {
        return Ok(Caller::Anonymous);
    };
    let session_hash = db::sha256_hex(&session_id);
    let mut tx = state.db.read().await?;
    let row = crate::store::find_session(&mut tx, &session_hash).await?;
    tx.rollback().await?;
    let Some(row) = row else {
        return Ok(Caller::Anonymous);
    };
    let idle_limit = row.last_seen_at + state.settings.session_idle_seconds * 1_000_000;
    let expired = now.micros() >= row.expires_at || now.micros() >= idle_limit;
    let role = Role::parse(&row.role);
    if expired || row.disabled || role.is_none() {
        let mut tx = state.db.begin().await?;
        crate::store::delete_session(&mut tx, &session_hash).await?;
        tx.commit().await?;
        return Ok(Caller::Anonymous);
    }
    let last_seen = row.last_seen_at;
    let user = CurrentUser {
        user_id: UserId(row.user_id),
        username: row.username,
        display_name: row.display_name,
        role: role.unwrap_or(Role::Agent1),
        via: Via::Session { session_hash, csrf_token: row.csrf_token },
    };
    Ok(Caller::User(user, Some(last_seen)))
}

/// Finds the CSRF token the request presents: the header, or the `_csrf` field of a form body.
/// Returns the request rebuilt around the body it had to read.
async fn presented_csrf(req: Request) -> Result<(Option<String>, Request), ApiError> {
    if let Some(value) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let value = value.to_string();
        return Ok((Some(value), req));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the form is larger than 1 MiB"))?;
    let token = form_urlencoded_value(&bytes, CSRF_FIELD);
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

fn form_urlencoded_value(bytes: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.replace('+', " "))
        .map(|value| percent_decode(&value))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn csrf_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf_token_invalid",
        "the form's security token is missing or stale; reload the page and try again",
    )
}

/// Answers an unauthenticated or forbidden caller: a problem for the API, a page otherwise.
fn refuse(error: ApiError, is_api: bool, path_and_query: &str) -> Response {
    if is_api {
        return error.into_response();
    }
    if error.status == StatusCode::UNAUTHORIZED {
        let next = urlencode(path_and_query);
        return Redirect::to(&format!("/signin?next={next}")).into_response();
    }
    crate::PageError(error).into_response()
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The middleware. Mounted once around the whole router by the app.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(path) = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()) else {
        return next.run(req).await;
    };
    let method = req.method().clone();
    let is_api = crate::routes::is_api_path(&path);
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let access = state.access.get(&(method.as_str().to_string(), path.clone())).copied();
    let Some(access) = access else {
        return refuse(
            ApiError::new(StatusCode::FORBIDDEN, "route_not_declared", "this route declares no access rule"),
            is_api,
            &path_and_query,
        );
    };
    let now = state.clock.now();
    let caller = match resolve(&state, req.headers(), now).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let (user, last_seen) = match caller {
        Caller::BadToken if access != Access::Public && access != Access::PublicApi => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "token_invalid",
                "the bearer token is unknown, revoked, or its user is disabled",
            )
            .into_response();
        }
        Caller::User(user, last_seen) => (Some(user), last_seen),
        _ => (None, None),
    };
    if let Access::Signed(permission) = access {
        match &user {
            None => return refuse(ApiError::unauthenticated(), is_api, &path_and_query),
            Some(u) if !u.role.permits(permission) => {
                return refuse(ApiError::forbidden(permission.code()), is_api, &path_and_query);
            }
            Some(_) => {}
        }
    }
    let mut req = req;
    if is_unsafe(&method) {
        let expected = match (&user, access) {
            (Some(u), _) => match &u.via {
                Via::Session { csrf_token, .. } => Some(csrf_token.clone()),
                Via::Token { .. } => None,
            },
            (None, Access::Public) => Some(cookie(req.headers(), CSRF_COOKIE).unwrap_or_default()),
            (None, _) => None,
        };
        if let Some(expected) = expected {
            let (presented, rebuilt) = match presented_csrf(req).await {
                Ok(found) => found,
                Err(error) => return error.into_response(),
            };
            req = rebuilt;
            let matches =
                presented.is_some_and(|p| !expected.is_empty() && constant_time_eq(p.as_bytes(), expected.as_bytes()));
            if !matches {
                return refuse(csrf_refused(), is_api, &path_and_query);
            }
        }
    }
    if let (Some(u), Some(last_seen)) = (&user, last_seen)
        && now.micros() - last_seen > TOUCH_EVERY_SECONDS * 1_000_000
        && let Via::Session { session_hash, .. } = &u.via
        && let Err(error) = touch(&state, session_hash, now).await
    {
        return ApiError::internal(error).into_response();
    }
    if let Some(u) = user {
        req.extensions_mut().insert(u);
    }
    next.run(req).await
}

async fn touch(state: &AppState, session_hash: &str, now: Timestamp) -> db::Result<()> {
    let mut tx = state.db.begin().await?;
    crate::store::touch_session(&mut tx, session_hash, now).await?;
    tx.commit().await
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A session just created at sign-in: always a fresh random id, so an id planted before
/// sign-in (session fixation) is never promoted.
pub struct StartedSession {
    pub session_id: String,
    pub csrf_token: String,
    pub set_cookie: HeaderValue,
}

pub async fn start_session(
    tx: &mut db::Tx,
    settings: &crate::WebSettings,
    user_id: UserId,
    now: Timestamp,
    client_ip: &str,
    user_agent: &str,
) -> db::Result<StartedSession> {
    let session_id = db::random_token(32);
    let csrf_token = db::random_token(24);
    let session_hash = db::sha256_hex(&session_id);
    let user_agent: String = user_agent.chars().take(300).collect();
    crate::store::insert_session(
        tx,
        crate::store::NewSession {
            session_hash: &session_hash,
            user_id,
            csrf_token: &csrf_token,
            now,
            expires_at: now.plus_seconds(settings.session_absolute_seconds),
            client_ip,
            user_agent: &user_agent,
        },
    )
    .await?;
    let set_cookie = set_cookie(SESSION_COOKIE, &session_id, settings.secure_cookies);
    Ok(StartedSession { session_id, csrf_token, set_cookie })
}
