//! What can go wrong with staff and sign-in, each variant a sentence with a stable code.

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("must be 3 to 40 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter")]
    UsernameInvalid,
    #[error("is already taken")]
    UsernameTaken,
    #[error("must be 1 to 100 characters")]
    DisplayNameInvalid,
    #[error("is not a valid email address")]
    EmailInvalid,
    #[error("is not a role; use one of: {}", kernel::Role::ALL.map(kernel::Role::code).join(", "))]
    RoleUnknown,
    #[error("must be at least 12 characters")]
    PasswordTooShort,
    #[error("must be at most 256 characters")]
    PasswordTooLong,
    #[error("username or password is wrong")]
    InvalidCredentials,
    #[error("too many failed sign-ins; the account is locked until {until}")]
    AccountLocked { until: String },
    #[error("too many sign-in attempts from this address; wait a minute")]
    TooManyAttempts,
    #[error("a code from your authenticator app is required")]
    TotpCodeRequired,
    #[error("the code is wrong, expired or already used")]
    TotpCodeInvalid,
    #[error("no second factor enrolment is in progress; start one first")]
    TotpNotEnrolling,
    #[error("the current password is wrong")]
    CurrentPasswordWrong,
    #[error("no such user")]
    UserNotFound,
    #[error("no such token")]
    TokenNotFound,
    #[error("you cannot disable or demote your own account")]
    CannotLockOutSelf,
    #[error("must be 1 to 80 characters")]
    TokenNameInvalid,
    #[error(transparent)]
    Db(#[from] db::Error),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl web::Problem for StaffError {
    fn status(&self) -> StatusCode {
        use StaffError as E;
        match self {
            E::UsernameTaken => StatusCode::CONFLICT,
            E::InvalidCredentials | E::TotpCodeRequired => StatusCode::UNAUTHORIZED,
            E::AccountLocked { .. } => StatusCode::LOCKED,
            E::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            E::UserNotFound | E::TokenNotFound => StatusCode::NOT_FOUND,
            E::CannotLockOutSelf => StatusCode::CONFLICT,
            E::Db(_) | E::Hashing(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        use StaffError as E;
        match self {
            E::UsernameInvalid => "username_invalid",
            E::UsernameTaken => "username_taken",
            E::DisplayNameInvalid => "display_name_invalid",
            E::EmailInvalid => "email_invalid",
            E::RoleUnknown => "role_unknown",
            E::PasswordTooShort => "password_too_short",
            E::PasswordTooLong => "password_too_long",
            E::InvalidCredentials => "invalid_credentials",
            E::AccountLocked { .. } => "account_locked",
            E::TooManyAttempts => "too_many_signin_attempts",
            E::TotpCodeRequired => "totp_code_required",
            E::TotpCodeInvalid => "totp_code_invalid",
            E::TotpNotEnrolling => "totp_not_enrolling",
            E::CurrentPasswordWrong => "current_password_wrong",
            E::UserNotFound => "user_not_found",
            E::TokenNotFound => "token_not_found",
            E::CannotLockOutSelf => "cannot_lock_out_self",
            E::TokenNameInvalid => "token_name_invalid",
            E::Db(_) | E::Hashing(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<&'static str> {
        use StaffError as E;
        match self {
            E::UsernameInvalid | E::UsernameTaken => Some("username"),
            E::DisplayNameInvalid => Some("display_name"),
            E::EmailInvalid => Some("email"),
            E::RoleUnknown => Some("role"),
            E::PasswordTooShort | E::PasswordTooLong => Some("password"),
            E::TotpCodeRequired | E::TotpCodeInvalid => Some("totp_code"),
            E::CurrentPasswordWrong => Some("current_password"),
            E::TokenNameInvalid => Some("name"),
            _ => None,
        }
    }
}
