//! The storage error: what went wrong talking to the database, with the two cases callers act
//! on (a unique key already taken, a foreign key pointing nowhere) recognisable.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("stored data is malformed: {0}")]
    Malformed(String),
}

impl Error {
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sqlx(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }

    pub fn is_foreign_key_violation(&self) -> bool {
        match self {
            Error::Sqlx(sqlx::Error::Database(e)) => e.is_foreign_key_violation(),
            _ => false,
        }
    }

    /// The name of the violated constraint, where the backend reports one.
    pub fn constraint(&self) -> Option<String> {
        match self {
            Error::Sqlx(sqlx::Error::Database(e)) => e.constraint().map(str::to_string),
            _ => None,
        }
    }
}
