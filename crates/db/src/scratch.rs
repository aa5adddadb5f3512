//! Throw-away databases for tests: a fresh SQLite file in a temporary directory, or, when
//! `TEST_DATABASE_URL` names a PostgreSQL server, a fresh schema on it. Every test gets
//! its own, so tests run in parallel without seeing each other's rows.

use crate::{Db, Result};
use std::path::PathBuf;

pub const TEST_DATABASE_URL_VAR: &str = "TEST_DATABASE_URL";

/// A scratch database and what to remove when it is dropped.
pub struct Scratch {
    pub db: Db,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub schema: Option<String>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.schema.is_none() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// The PostgreSQL URL tests should use, if one is configured.
pub fn test_database_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL_VAR).ok().filter(|url| !url.trim().is_empty())
}

/// Opens and migrates a fresh database on the backend the environment selects.
pub async fn open() -> Result<Scratch> {
    let label = crate::random_token(8);
    let data_dir = std::env::temp_dir().join(format!("caredesk-test-{label}"));
    let scratch = match test_database_url() {
        Some(url) => {
            let schema = format!("t_{label}");
            let db = Db::open_postgres(&url, Some(&schema)).await?;
            Scratch { db, data_dir, database_url: Some(url), schema: Some(schema) }
        }
        None => Scratch { db: Db::open_sqlite(&data_dir).await?, data_dir, database_url: None, schema: None },
    };
    scratch.db.migrate().await?;
    Ok(scratch)
}
