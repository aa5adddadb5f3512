//! Multi-row statements for every bulk writer (bill runs, payment files, the demo loader): rows
//! are collected per table and written as `insert ... values (...), (...), ...` statements of
//! thousands of rows, many times faster than one statement a row on either backend. Columns
//! holding one value for the whole batch (a file id, the poster, the time) can be bound once
//! per statement instead of once a row — `insert into t (row columns, fixed columns) select
//! column1, .., ?, .. from (values (..), ..) as v` — since the driver's cost grows with the values
//! bound. Both backends name the columns of a `values` list `column1`, `column2`, ...

use crate::{Backend, Tx};
use std::collections::HashMap;
use std::sync::Arc;

/// Bound values per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS_PER_STATEMENT: usize = 30_000;
/// Rows per statement at most (a larger statement saves little and costs memory to prepare).
const MAX_ROWS_PER_STATEMENT: usize = 10_000;

/// A value bound into a statement, encoded as each backend's own type.
#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    Text(String),
    /// A text many rows share (a date, a label): bound without a copy.
    Shared(Arc<str>),
    Static(&'static str),
    Bool(bool),
    NullInt,
    NullText,
}

/// Rows waiting to be written to one table.
pub struct Rows {
    pub table: &'static str,
    /// The columns each row gives a value for.
    pub columns: Vec<&'static str>,
    /// Columns with one value for every row, bound once per statement.
    fixed: Vec<(&'static str, Value)>,
    /// Text after the row source: `where true on conflict ... returning ...`.
    suffix: &'static str,
    pub values: Vec<Value>,
}

impl Rows {
    /// `columns` is the column list as written in the statement, `a, b, c`.
    pub fn new(table: &'static str, columns: &'static str) -> Rows {
        Rows { table, columns: columns.split(", ").collect(), fixed: Vec::new(), suffix: "", values: Vec::new() }
    }

    /// Adds a column whose value is the same for every row.
    pub fn fixed(mut self, column: &'static str, value: Value) -> Rows {
        self.fixed.push((column, value));
        self
    }

    /// Text after the row source; with fixed columns an upsert needs `where true` first (the
    /// `select` form would otherwise read `on conflict` as a join).
    pub fn suffix(mut self, suffix: &'static str) -> Rows {
        self.suffix = suffix;
        self
    }

    pub fn push(&mut self, row: impl IntoIterator<Item = Value>) {
        let before = self.values.len();
        self.values.extend(row);
        debug_assert_eq!(self.values.len() - before, self.columns.len(), "row width of {}", self.table);
    }

    /// Rows pending.
    pub fn len(&self) -> usize {
        self.values.len() / self.width()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn width(&self) -> usize {
        self.columns.len().max(1)
    }

    fn rows_per_statement(&self) -> usize {
        (MAX_BINDS_PER_STATEMENT.saturating_sub(self.fixed.len()) / self.width()).clamp(1, MAX_ROWS_PER_STATEMENT)
    }

    /// The statement text for `count` rows.
    fn text(&self, backend: Backend, count: usize) -> String {
        let width = self.width();
        if self.fixed.is_empty() && self.suffix.is_empty() {
            return format!(
                "insert into {} ({}) values {}",
                self.table,
                self.columns.join(", "),
                tuples(backend, 1, count, width)
            );
        }
        let mut columns = self.columns.clone();
        columns.extend(self.fixed.iter().map(|(name, _)| *name));
        let mut select: Vec<String> = (1..=self.columns.len()).map(|c| format!("column{c}")).collect();
        select.push(marks(backend, 1, self.fixed.len()));
        select.retain(|s| !s.is_empty());
        format!(
            "insert into {} ({}) select {} from (values {}) as v{}",
            self.table,
            columns.join(", "),
            select.join(", "),
            tuples(backend, self.fixed.len() + 1, count, width),
            self.suffix
        )
    }
}

/// Placeholders `first..first+count` for the backend: anonymous `?` for SQLite (the driver binds
/// those by position, while it looks every `$n` up by name, which costs time quadratic in the
/// placeholders of a statement), `$n` for PostgreSQL.
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
pub fn tuples(backend: Backend, first: usize, rows: usize, width: usize) -> String {
    let tuples: Vec<String> = (0..rows).map(|r| format!("({})", marks(backend, first + r * width, width))).collect();
    tuples.join(", ")
}

/// Binds every value onto a query of either backend.
macro_rules! bind_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::Shared(v) => query.bind(v),
                // The driver copies a borrowed text into a new `Arc<String>` (two allocations).
                Value::Static(v) => query.bind(Arc::<str>::from(v)),
                Value::Bool(v) => query.bind(v),
                Value::NullInt => query.bind(None::<i64>),
                Value::NullText => query.bind(None::<String>),
            };
        }
        query
    }};
}

/// Runs statements in order, binding the next one's values while the one before runs.
macro_rules! run_overlapped {
    ($statements:expr, $conn:expr) => {{
        let mut bound = $statements
            .map(|(text, values)| bind_values!(crate::sqlx::query(crate::sqlx::AssertSqlSafe(text)), values));
        let mut next = bound.next();
        while let Some(query) = next {
            let (done, following) = tokio::join!(query.execute($conn), async { bound.next() });
            done?;
            next = following;
        }
    }};
}

/// Runs one statement built at run time with its values; answers the rows it changed.
pub async fn execute(tx: &mut Tx, sql: String, values: Vec<Value>) -> Result<u64, crate::Error> {
    let sql = crate::sqlx::AssertSqlSafe(sql);
    Ok(match tx {
        Tx::Sqlite(t) => bind_values!(crate::sqlx::query(sql), values).execute(&mut **t).await?.rows_affected(),
        Tx::Pg(t) => bind_values!(crate::sqlx::query(sql), values).execute(&mut **t).await?.rows_affected(),
    })
}

/// Runs one query built at run time with its values; answers its rows.
pub async fn fetch_all<T>(tx: &mut Tx, sql: String, values: Vec<Value>) -> Result<Vec<T>, crate::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let sql = crate::sqlx::AssertSqlSafe(sql);
    Ok(match tx {
        Tx::Sqlite(t) => bind_values!(crate::sqlx::query_as::<_, T>(sql), values).fetch_all(&mut **t).await?,
        Tx::Pg(t) => bind_values!(crate::sqlx::query_as::<_, T>(sql), values).fetch_all(&mut **t).await?,
    })
}

/// Multi-row insert texts, built once per table, column set and row count and reused (the
/// driver caches the prepared statement by its text).
pub struct Statements {
    backend: Backend,
    texts: HashMap<(String, usize), String>,
}

impl Statements {
    pub fn new(backend: Backend) -> Statements {
        Statements { backend, texts: HashMap::new() }
    }

    /// Every pending row's statements: (text, values in binding order).
    fn take(&mut self, rows: &mut Rows) -> Vec<(String, Vec<Value>)> {
        let width = rows.width();
        let per_statement = rows.rows_per_statement();
        let shape = format!("{} ({}) {:?} {}", rows.table, rows.columns.join(", "), rows.fixed, rows.suffix);
        let mut pending = std::mem::take(&mut rows.values).into_iter();
        let mut statements = Vec::new();
        loop {
            let mut values: Vec<Value> = rows.fixed.iter().map(|(_, v)| v.clone()).collect();
            values.extend(pending.by_ref().take(per_statement * width));
            let count = (values.len() - rows.fixed.len()) / width;
            if count == 0 {
                return statements;
            }
            let backend = self.backend;
            let text = self.texts.entry((shape.clone(), count)).or_insert_with(|| rows.text(backend, count)).clone();
            statements.push((text, values));
        }
    }

    /// Writes every pending row of `rows`. Each statement's values are bound while the one
    /// before runs: on SQLite the statements run on the connection's own thread, so binding
    /// and writing go on at the same time.
    pub async fn flush(&mut self, tx: &mut Tx, rows: &mut Rows) -> Result<(), crate::Error> {
        let statements = self.take(rows).into_iter();
        match tx {
            Tx::Sqlite(t) => run_overlapped!(statements, &mut **t),
            Tx::Pg(t) => run_overlapped!(statements, &mut **t),
        }
        Ok(())
    }

    /// Writes every pending row and collects what the suffix's `returning` yields.
    pub async fn flush_returning<T>(&mut self, tx: &mut Tx, rows: &mut Rows) -> Result<Vec<T>, crate::Error>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        let mut found = Vec::new();
        for (text, values) in self.take(rows) {
            found.extend(fetch_all::<T>(tx, text, values).await?);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_rows_become_one_values_list_and_fixed_columns_are_bound_once() {
        let rows = Rows::new("t", "a, b");
        assert_eq!(rows.text(Backend::Sqlite, 2), "insert into t (a, b) values (?, ?), (?, ?)");
        assert_eq!(rows.text(Backend::Postgres, 2), "insert into t (a, b) values ($1, $2), ($3, $4)");
        let rows = Rows::new("t", "a, b").fixed("c", Value::Int(7)).suffix(" where true on conflict (a) do nothing");
        assert_eq!(
            rows.text(Backend::Postgres, 2),
            "insert into t (a, b, c) select column1, column2, $1 from (values ($2, $3), ($4, $5)) as v \
             where true on conflict (a) do nothing"
        );
    }

    #[test]
    fn pending_rows_split_into_statements_under_the_bind_limit_with_the_fixed_values_first() {
        let mut rows = Rows::new("t", "a, b, c").fixed("d", Value::Static("x"));
        for n in 0..12_000 {
            rows.push([Value::Int(n), Value::NullInt, Value::Bool(true)]);
        }
        assert_eq!(rows.len(), 12_000);
        let statements = Statements::new(Backend::Sqlite).take(&mut rows);
        let counts: Vec<usize> = statements.iter().map(|(_, values)| values.len()).collect();
        // (30,000 - 1) / 3 = 9,999 rows, then the rest; each with its one fixed value.
        assert_eq!(counts, vec![1 + 9_999 * 3, 1 + 2_001 * 3]);
        assert!(statements.iter().all(|(_, values)| matches!(values.first(), Some(Value::Static("x")))));
        assert!(rows.is_empty());
    }
}
