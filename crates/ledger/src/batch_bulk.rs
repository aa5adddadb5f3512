//! Multi-row statements for the bulk posting paths (payment files): inserts whose columns that
//! hold one value for the whole batch (memo, posted_by, posted_at, ...) are bound once per
//! statement rather than once a row, written as `insert into t (row columns, fixed columns)
//! select column1, .., ?, .. from (values (..), ..) as v`, and one `update ... from (values ..)`
//! for many open items. The driver's cost grows with the values bound, so binding fewer is
//! most of what makes a million-line file fast. Both backends name the columns of a `values`
//! list `column1`, `column2`, ...

use db::{Backend, Tx};
use std::collections::HashMap;

/// Bound values per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS_PER_STATEMENT: usize = 30_000;
/// Rows per statement at most (a larger statement saves little and costs memory to prepare).
const MAX_ROWS_PER_STATEMENT: usize = 10_000;

/// A value bound into a statement.
#[derive(Debug, Clone)]
pub enum Bind {
    Int(i64),
    Text(String),
    Static(&'static str),
    NullInt,
}

/// Placeholders `first..first+count` for the backend: `?` for SQLite (the driver binds those by
/// position, while it looks each `$n` up by name), `$n` for PostgreSQL.
pub fn marks(backend: Backend, first: usize, count: usize) -> String {
    let marks: Vec<String> = (first..first + count)
        .map(|n| match backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${n}"),
        })
        .collect();
    marks.join(", ")
}

/// `(?, ?), (?, ?), ...`: `rows` tuples of `width` placeholders numbered from `first`.
fn tuples(backend: Backend, first: usize, rows: usize, width: usize) -> String {
    let tuples: Vec<String> = (0..rows).map(|r| format!("({})", marks(backend, first + r * width, width))).collect();
    tuples.join(", ")
}

macro_rules! bind_all {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                Bind::Int(v) => query.bind(v),
                Bind::Text(v) => query.bind(v),
                Bind::Static(v) => query.bind(v),
                Bind::NullInt => query.bind(None::<i64>),
            };
        }
        query
    }};
}

/// Rows waiting to be inserted into one table.
pub struct BulkInsert {
    backend: Backend,
    table: &'static str,
    varying: Vec<&'static str>,
    fixed: Vec<(&'static str, Bind)>,
    suffix: &'static str,
    values: Vec<Bind>,
    texts: HashMap<usize, String>,
}

impl BulkInsert {
    /// `varying` columns get a value each row; `fixed` ones the same value for every row.
    pub fn new(
        backend: Backend,
        table: &'static str,
        varying: &[&'static str],
        fixed: &[(&'static str, Bind)],
    ) -> BulkInsert {
        BulkInsert {
            backend,
            table,
            varying: varying.to_vec(),
            fixed: fixed.to_vec(),
            suffix: "",
            values: Vec::new(),
            texts: HashMap::new(),
        }
    }

    /// Text after the row source: `where true on conflict ... returning ...`.
    pub fn suffix(mut self, suffix: &'static str) -> BulkInsert {
        self.suffix = suffix;
        self
    }

    pub fn push(&mut self, row: impl IntoIterator<Item = Bind>) {
        let before = self.values.len();
        self.values.extend(row);
        debug_assert_eq!(self.values.len() - before, self.varying.len(), "row width of {}", self.table);
    }

    fn width(&self) -> usize {
        self.varying.len().max(1)
    }

    fn rows_per_statement(&self) -> usize {
        ((MAX_BINDS_PER_STATEMENT - self.fixed.len()) / self.width()).clamp(1, MAX_ROWS_PER_STATEMENT)
    }

    fn text(&mut self, rows: usize) -> String {
        let (backend, width) = (self.backend, self.width());
        let (table, suffix) = (self.table, self.suffix);
        let (varying, fixed) = (&self.varying, &self.fixed);
        self.texts
            .entry(rows)
            .or_insert_with(|| {
                if fixed.is_empty() && suffix.is_empty() {
                    return format!(
                        "insert into {table} ({}) values {}",
                        varying.join(", "),
                        tuples(backend, 1, rows, width)
                    );
                }
                let mut columns = varying.clone();
                columns.extend(fixed.iter().map(|(name, _)| *name));
                let mut select: Vec<String> = (1..=varying.len()).map(|c| format!("column{c}")).collect();
                select.push(marks(backend, 1, fixed.len()));
                select.retain(|s| !s.is_empty());
                format!(
                    "insert into {table} ({}) select {} from (values {}) as v{suffix}",
                    columns.join(", "),
                    select.join(", "),
                    tuples(backend, fixed.len() + 1, rows, width)
                )
            })
            .clone()
    }

    /// The statements for every pending row: (text, values in binding order).
    fn statements(&mut self) -> Vec<(String, Vec<Bind>)> {
        let width = self.width();
        let per_statement = self.rows_per_statement();
        let mut pending = std::mem::take(&mut self.values).into_iter();
        let mut statements = Vec::new();
        loop {
            let mut values: Vec<Bind> = self.fixed.iter().map(|(_, v)| v.clone()).collect();
            values.extend(pending.by_ref().take(per_statement * width));
            let rows = (values.len() - self.fixed.len()) / width;
            if rows == 0 {
                return statements;
            }
            statements.push((self.text(rows), values));
        }
    }

    /// Writes every pending row.
    pub async fn flush(&mut self, tx: &mut Tx) -> Result<(), db::Error> {
        for (text, values) in self.statements() {
            let sql = sqlx::AssertSqlSafe(text);
            match tx {
                Tx::Sqlite(t) => {
                    bind_all!(sqlx::query(sql), values).execute(&mut **t).await?;
                }
                Tx::Pg(t) => {
                    bind_all!(sqlx::query(sql), values).execute(&mut **t).await?;
                }
            }
        }
        Ok(())
    }

    /// Writes every pending row and collects what the suffix's `returning` yields.
    pub async fn flush_returning<T>(&mut self, tx: &mut Tx) -> Result<Vec<T>, db::Error>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        let mut found = Vec::new();
        for (text, values) in self.statements() {
            let sql = sqlx::AssertSqlSafe(text);
            let rows = match tx {
                Tx::Sqlite(t) => bind_all!(sqlx::query_as::<_, T>(sql), values).fetch_all(&mut **t).await?,
                Tx::Pg(t) => bind_all!(sqlx::query_as::<_, T>(sql), values).fetch_all(&mut **t).await?,
            };
            found.extend(rows);
        }
        Ok(found)
    }
}

/// Many open items' open amounts lowered at once: `update open_item set open_minor =
/// open_minor - v.column2 from (values (item_id, amount), ..) as v where item_id = v.column1`.
pub struct ItemUpdate {
    backend: Backend,
    values: Vec<i64>,
}

impl ItemUpdate {
    pub fn new(backend: Backend) -> ItemUpdate {
        ItemUpdate { backend, values: Vec::new() }
    }

    pub fn push(&mut self, item_id: i64, settled_minor: i64) {
        self.values.extend([item_id, settled_minor]);
    }

    pub async fn flush(&mut self, tx: &mut Tx) -> Result<(), db::Error> {
        let per_statement = (MAX_BINDS_PER_STATEMENT / 2).min(MAX_ROWS_PER_STATEMENT) * 2;
        for chunk in std::mem::take(&mut self.values).chunks(per_statement) {
            let sql = sqlx::AssertSqlSafe(format!(
                "update open_item set open_minor = open_minor - v.column2 from (values {}) as v
                 where open_item.item_id = v.column1",
                tuples(self.backend, 1, chunk.len() / 2, 2)
            ));
            let values = chunk.iter().map(|v| Bind::Int(*v));
            match tx {
                Tx::Sqlite(t) => {
                    bind_all!(sqlx::query(sql), values).execute(&mut **t).await?;
                }
                Tx::Pg(t) => {
                    bind_all!(sqlx::query(sql), values).execute(&mut **t).await?;
                }
            }
        }
        Ok(())
    }
}
