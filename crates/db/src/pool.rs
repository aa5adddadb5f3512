//! The database handle. SQLite runs as one writer connection plus a pool of readers (WAL lets
//! readers proceed while the writer commits), with `synchronous=FULL` so a committed payment
//! survives a power cut. PostgreSQL is one pool shared by any number of nodes.

use crate::{Error, Result};
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub const SQLITE_FILE_NAME: &str = "caredesk.db";
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the checkpointer copies committed pages from the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// WAL pages after which the writer checkpoints by itself (SQLite's default is 1,000): only a
/// backstop, for when the checkpointer cannot keep up.
const WRITER_AUTOCHECKPOINT_PAGES: &str = "16384";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
        /// The group-commit writer, started on first use.
        grouper: Arc<OnceLock<crate::group::Grouper>>,
        /// The connection that checkpoints the WAL in the background.
        checkpointer: SqlitePool,
        /// Set while the writer runs a [`Db::begin_bulk`] transaction, whose end turns the
        /// writer's foreign-key checks back on.
        bulk: Arc<AtomicBool>,
    },
    Pg(PgPool),
}

/// A transaction on either backend; every store function takes one.
#[derive(Debug)]
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl Db {
    /// Opens (creating if needed) the SQLite file `caredesk.db` in `data_dir`.
    pub async fn open_sqlite(data_dir: &Path) -> Result<Db> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| Error::DataDir { path: data_dir.display().to_string(), source })?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join(SQLITE_FILE_NAME))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-32000");
        // The writer leaves checkpoints to a connection of their own: a checkpoint writes pages
        // into the database file and syncs it, and run by the writer after a commit it holds up
        // every write queued behind (a payment's p99 is made of such stalls).
        let bulk = Arc::new(AtomicBool::new(false));
        let ended = bulk.clone();
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .after_release(move |conn, _| {
                let ended = ended.clone();
                Box::pin(async move { Ok(!ended.swap(false, Ordering::SeqCst) || foreign_keys_back_on(conn).await?) })
            })
            .connect_with(options.clone().pragma("wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES))
            .await?;
        let checkpointer =
            SqlitePoolOptions::new().max_connections(1).min_connections(1).connect_with(options.clone()).await?;
        let reader = SqlitePoolOptions::new().max_connections(8).connect_with(options.read_only(true)).await?;
        tokio::spawn(checkpoint_in_background(checkpointer.clone()));
        Ok(Db::Sqlite { writer, reader, grouper: Arc::new(OnceLock::new()), checkpointer, bulk })
    }

    /// Connects to PostgreSQL. With `schema`, every connection works inside that schema
    /// (created if missing); tests use this for a fresh database per test.
    pub async fn open_postgres(url: &str, schema: Option<&str>) -> Result<Db> {
        let mut options = PgConnectOptions::from_str(url)?;
        if let Some(schema) = schema {
            let valid =
                !schema.is_empty() && schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(Error::Malformed(format!("schema name {schema:?}")));
            }
            let setup = PgPoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
            let create = format!("create schema if not exists {schema}");
            sqlx::query(sqlx::AssertSqlSafe(create)).execute(&setup).await?;
            // Extensions live in public, shared by every scratch schema; parallel tests may race
            // to create one, so a failure is fine as long as it exists afterwards.
            let _ = sqlx::query("create extension if not exists pg_trgm with schema public").execute(&setup).await;
            setup.close().await;
            let search_path = format!("{schema},public");
            options = options.options([("search_path", search_path.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Db::Pg(pool))
    }

    /// Opens the database a URL names: `postgres://...` or `sqlite:` + a data directory.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Db> {
        match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Db::open_postgres(url, None).await
            }
            Some(other) => Err(Error::Malformed(format!(
                "database URL must start with postgres:// (got {:?})",
                other.split(':').next().unwrap_or_default()
            ))),
            None => Db::open_sqlite(data_dir).await,
        }
    }

    /// The group-commit writer (SQLite only).
    pub(crate) fn grouper(&self) -> Option<crate::group::Grouper> {
        match self {
            Db::Sqlite { grouper, .. } => {
                Some(grouper.get_or_init(|| crate::group::Grouper::start(self.clone())).clone())
            }
            Db::Pg(_) => None,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Pg(_) => Backend::Postgres,
        }
    }

    /// Applies every migration not yet applied. Forward-only.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite { writer, .. } => sqlx::migrate!("./migrations/sqlite").run(writer).await?,
            Db::Pg(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`), so a
    /// read-then-write never fails on a stale snapshot.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite { writer, .. } => Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Db::Pg(pool) => Tx::Pg(pool.begin().await?),
        })
    }

    /// A write transaction for a bulk writer that stands behind every reference it writes: each
    /// one names a row read, or written, earlier in the same transaction, and rows are never
    /// deleted meanwhile (SQLite has one writer). On SQLite the transaction runs without the
    /// foreign-key checks, which are a third of the work of a million-line payment file (a
    /// look-up in the parent table per reference); when it ends — committed, rolled back or
    /// dropped — the writer turns them back on before anyone else gets the connection, and
    /// `caredesk verify` checks every reference in the file. PostgreSQL checks as always.
    pub async fn begin_bulk(&self) -> Result<Tx> {
        match self {
            Db::Sqlite { writer, bulk, .. } => {
                let mut conn = writer.acquire().await?;
                // Set first: whatever fails below, the connection's release turns checks on.
                bulk.store(true, Ordering::SeqCst);
                sqlx::query("pragma foreign_keys = off").execute(&mut *conn).await?;
                // `Transaction::begin` is what `Pool::begin_with` runs, on this very connection.
                let tx = Transaction::begin(conn, Some(sqlx::SqlStr::from_static("BEGIN IMMEDIATE"))).await?;
                Ok(Tx::Sqlite(tx))
            }
            Db::Pg(pool) => Ok(Tx::Pg(pool.begin().await?)),
        }
    }

    /// Every reference that names no row, one sentence each (`caredesk verify`). SQLite is asked
    /// with `pragma foreign_key_check` over the whole file, on a read snapshot; PostgreSQL
    /// checks every reference as it is written, so there it answers none.
    pub async fn broken_references(&self) -> Result<Vec<String>> {
        let Db::Sqlite { reader, .. } = self else {
            return Ok(Vec::new());
        };
        let mut tx = reader.begin().await?;
        // The pragma works from the schema the connection holds, without checking it is current
        // (a table made since would go unchecked); any read of a table makes it current.
        sqlx::query("select count(*) from sqlite_schema").execute(&mut *tx).await?;
        let rows: Vec<(String, Option<i64>, String, i64)> =
            sqlx::query_as("pragma foreign_key_check").fetch_all(&mut *tx).await?;
        let mut problems = Vec::with_capacity(rows.len());
        // Each table's reference columns (key id, referring column), read once per table.
        let mut columns: std::collections::HashMap<String, Vec<(i64, String)>> = std::collections::HashMap::new();
        for (table, rowid, parent, key) in rows {
            if !columns.contains_key(&table) {
                let listed = sqlx::query_as("select id, \"from\" from pragma_foreign_key_list($1) order by id, seq")
                    .bind(&table)
                    .fetch_all(&mut *tx)
                    .await?;
                columns.insert(table.clone(), listed);
            }
            let listed = columns.get(&table).map(Vec::as_slice).unwrap_or_default();
            let column = listed.iter().find(|(id, _)| *id == key).map(|(_, c)| c.as_str()).unwrap_or("?");
            let row = rowid.map(|r| r.to_string()).unwrap_or_else(|| "?".into());
            problems.push(format!("{table} row {row}: {column} names no row of {parent}"));
        }
        tx.rollback().await?;
        Ok(problems)
    }

    /// A read transaction: a consistent snapshot that never blocks the writer.
    pub async fn read(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite { reader, .. } => Tx::Sqlite(reader.begin().await?),
            Db::Pg(pool) => Tx::Pg(pool.begin_with("BEGIN READ ONLY").await?),
        })
    }

    /// Answers whether the database takes queries; `/readyz` asks this.
    pub async fn ping(&self) -> Result<()> {
        let mut tx = self.read().await?;
        let one = crate::scalar!(&mut tx, i64, "select cast(1 as bigint)")?;
        tx.rollback().await?;
        if one == 1 { Ok(()) } else { Err(Error::Malformed("select 1 did not answer 1".into())) }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { writer, reader, checkpointer, .. } => {
                reader.close().await;
                checkpointer.close().await;
                writer.close().await;
            }
            Db::Pg(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Pg(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Pg(t) => t.rollback().await?,
        }
        Ok(())
    }
}

/// After a bulk transaction: foreign-key checks on again, answering whether they are (the
/// pragma does nothing inside a transaction; a connection it failed on is closed, and the pool
/// opens a fresh one with the checks on).
async fn foreign_keys_back_on(conn: &mut sqlx::SqliteConnection) -> std::result::Result<bool, sqlx::Error> {
    sqlx::query("pragma foreign_keys = on").execute(&mut *conn).await?;
    let on: i64 = sqlx::query_scalar("pragma foreign_keys").fetch_one(&mut *conn).await?;
    Ok(on == 1)
}

/// Copies committed WAL pages into the database file every [`CHECKPOINT_EVERY`], without
/// waiting for readers or the writer (`passive`), until the database is closed.
async fn checkpoint_in_background(checkpointer: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if checkpointer.is_closed() {
            break;
        }
        if let Err(error) = sqlx::query("pragma wal_checkpoint(passive)").execute(&checkpointer).await {
            if checkpointer.is_closed() {
                break;
            }
            tracing::warn!(%error, "WAL checkpoint failed; the writer's own checkpoints remain");
        }
    }
}

/// Hex SHA-256 of a text; used to store secrets (session ids, API tokens) by fingerprint only.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Hex SHA-256 of bytes; fingerprints stored files.
pub fn sha256_hex_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A random URL-safe token with `bytes` bytes of entropy, hex-encoded.
pub fn random_token(bytes: usize) -> String {
    let mut rng = rand::rng();
    let buf: Vec<u8> = (0..bytes).map(|_| rng.random::<u8>()).collect();
    hex::encode(buf)
}
