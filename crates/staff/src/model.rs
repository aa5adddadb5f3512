//! Staff domain types, each built only through `parse`, and the TOTP rules (RFC 6238: HMAC-SHA1,
//! 6 digits, 30-second steps, one step of clock drift either way, no step accepted twice).

use crate::StaffError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use hmac::{Hmac, Mac};
use kernel::{Role, Timestamp};
use serde::Serialize;

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 256;
pub const TOTP_STEP_SECONDS: i64 = 30;
const TOTP_SECRET_BYTES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Username, StaffError> {
        let text = text.trim().to_ascii_lowercase();
        let starts_with_letter = text.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
        let allowed =
            text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
        if !(3..=40).contains(&text.len()) || !starts_with_letter || !allowed {
            return Err(StaffError::UsernameInvalid);
        }
        Ok(Username(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn parse_display_name(text: &str) -> Result<String, StaffError> {
    let text = text.trim();
    let length = text.chars().count();
    if length == 0 || length > 100 || text.chars().any(char::is_control) {
        return Err(StaffError::DisplayNameInvalid);
    }
    Ok(text.to_string())
}

/// An optional email: empty means none.
pub fn parse_email(text: &str) -> Result<Option<String>, StaffError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let valid = text.len() <= 254
        && !text.contains(char::is_whitespace)
        && text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if !valid {
        return Err(StaffError::EmailInvalid);
    }
    Ok(Some(text.to_ascii_lowercase()))
}

pub fn parse_role(text: &str) -> Result<Role, StaffError> {
    Role::parse(text).ok_or(StaffError::RoleUnknown)
}

/// A new password that meets the policy (length only, as NIST SP 800-63B advises).
pub struct Password(String);

impl Password {
    pub fn parse(text: &str) -> Result<Password, StaffError> {
        let length = text.chars().count();
        if length < PASSWORD_MIN_CHARS {
            return Err(StaffError::PasswordTooShort);
        }
        if length > PASSWORD_MAX_CHARS {
            return Err(StaffError::PasswordTooLong);
        }
        Ok(Password(text.to_string()))
    }

    /// Hashes with Argon2id on a blocking thread (it is deliberately slow).
    pub async fn hash(self) -> Result<PasswordHash, StaffError> {
        tokio::task::spawn_blocking(move || hash_blocking(&self.0))
            .await
            .map_err(|e| StaffError::Hashing(e.to_string()))?
    }
}

fn hash_blocking(password: &str) -> Result<PasswordHash, StaffError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| StaffError::Hashing(e.to_string()))?;
    let hash =
        Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| StaffError::Hashing(e.to_string()))?;
    Ok(PasswordHash(hash.to_string()))
}

/// An Argon2id hash in PHC string form.
#[derive(Debug, Clone)]
pub struct PasswordHash(pub String);

impl PasswordHash {
    /// Checks a password against this hash on a blocking thread.
    pub async fn verify(&self, password: &str) -> bool {
        let hash = self.0.clone();
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            argon2::password_hash::PasswordHash::new(&hash)
                .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }
}

/// A hash of no real password, verified against when the username is unknown so that unknown
/// and known usernames take the same time to refuse.
pub async fn dummy_hash() -> PasswordHash {
    static DUMMY: tokio::sync::OnceCell<PasswordHash> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            Password("caredesk-dummy-password".into()).hash().await.unwrap_or(PasswordHash(String::new()))
        })
        .await
        .clone()
}

/// A new user as an admin or the CLI describes one.
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
}

/// A staff user as the API and screens show it (never the hash or the TOTP secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub disabled: bool,
    pub locked: bool,
    pub totp_enabled: bool,
    pub created_at: String,
}

/// A fresh TOTP secret, base32 without padding, as authenticator apps expect.
pub fn new_totp_secret() -> String {
    let bytes: [u8; TOTP_SECRET_BYTES] = rand::random();
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

pub fn totp_step(at: Timestamp) -> i64 {
    at.unix_seconds().div_euclid(TOTP_STEP_SECONDS)
}

/// The 6-digit code for a secret at a step; `None` if the secret is not valid base32.
pub fn totp_code(secret: &str, step: i64) -> Option<String> {
    let key = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).ok()?;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last()? & 0x0f);
    let window: [u8; 4] = digest.get(offset..offset + 4)?.try_into().ok()?;
    let value = u32::from_be_bytes(window) & 0x7fff_ffff;
    Some(format!("{:06}", value % 1_000_000))
}

/// Accepts a code for the current step or one either side, never for a step at or before
/// `last_used_step`. Returns the step the code matched.
pub fn totp_accept(secret: &str, code: &str, now: Timestamp, last_used_step: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = totp_step(now);
    [current - 1, current, current + 1].into_iter().filter(|step| last_used_step.is_none_or(|last| *step > last)).find(
        |step| {
            totp_code(secret, *step)
                .is_some_and(|expected| web::auth::constant_time_eq(expected.as_bytes(), code.as_bytes()))
        },
    )
}

/// The `otpauth://` URI an authenticator app can import.
pub fn otpauth_uri(secret: &str, username: &str) -> String {
    format!("otpauth://totp/Caredesk:{username}?secret={secret}&issuer=Caredesk&algorithm=SHA1&digits=6&period=30")
}
