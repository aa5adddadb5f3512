//! Multi-row inserts for bulk writers (bill runs, payment files, the demo loader): rows are
//! collected per table and written as `insert ... values (...), (...), ...` statements of up to
//! a thousand rows, which is many times faster than one statement a row on either backend.

use crate::{Backend, Tx};
use std::collections::HashMap;

/// Bound values per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS_PER_STATEMENT: usize = 30_000;
const MAX_ROWS_PER_STATEMENT: usize = 1_000;

/// A value bound into a statement, encoded as each backend's own type.
pub enum Value {
    Int(i64),
    Text(String),
    Static(&'static str),
    Bool(bool),
    NullInt,
    NullText,
}

/// Rows waiting to be written to one table.
pub struct Rows {
    pub table: &'static str,
    pub columns: Vec<&'static str>,
    pub values: Vec<Value>,
}

impl Rows {
    /// `columns` is the column list as written in the statement, `a, b, c`.
    pub fn new(table: &'static str, columns: &'static str) -> Rows {
        Rows { table, columns: columns.split(", ").collect(), values: Vec::new() }
    }

    pub fn push(&mut self, row: impl IntoIterator<Item = Value>) {
        let before = self.values.len();
        self.values.extend(row);
        debug_assert_eq!(self.values.len() - before, self.columns.len(), "row width of {}", self.table);
    }

    fn rows_per_statement(&self) -> usize {
        (MAX_BINDS_PER_STATEMENT / self.columns.len().max(1)).clamp(1, MAX_ROWS_PER_STATEMENT)
    }
}

/// Binds every value onto a query of either backend.
macro_rules! bind_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::Static(v) => query.bind(v),
                Value::Bool(v) => query.bind(v),
                Value::NullInt => query.bind(None::<i64>),
                Value::NullText => query.bind(None::<String>),
            };
        }
        query
    }};
}

/// Multi-row insert texts, built once per table and row count and reused (the driver caches
/// the prepared statement by its text).
pub struct Statements {
    backend: Backend,
    texts: HashMap<(&'static str, usize), String>,
}

impl Statements {
    pub fn new(backend: Backend) -> Statements {
        Statements { backend, texts: HashMap::new() }
    }

    /// SQLite gets anonymous `?` placeholders: the driver binds those by position, while it
    /// looks every `$n` up by name, which costs time quadratic in the placeholders of a statement.
    fn text(&mut self, rows: &Rows, count: usize) -> String {
        let backend = self.backend;
        self.texts
            .entry((rows.table, count))
            .or_insert_with(|| {
                let width = rows.columns.len();
                let tuples: Vec<String> = (0..count)
                    .map(|r| {
                        let marks: Vec<String> = (1..=width)
                            .map(|c| match backend {
                                Backend::Sqlite => "?".to_string(),
                                Backend::Postgres => format!("${}", r * width + c),
                            })
                            .collect();
                        format!("({})", marks.join(", "))
                    })
                    .collect();
                format!("insert into {} ({}) values {}", rows.table, rows.columns.join(", "), tuples.join(", "))
            })
            .clone()
    }

    /// Writes every pending row of `rows`.
    pub async fn flush(&mut self, tx: &mut Tx, rows: &mut Rows) -> Result<(), crate::Error> {
        let width = rows.columns.len();
        let per_statement = rows.rows_per_statement();
        let mut values = std::mem::take(&mut rows.values).into_iter();
        loop {
            let chunk: Vec<Value> = values.by_ref().take(per_statement * width).collect();
            if chunk.is_empty() {
                return Ok(());
            }
            let sql = crate::sqlx::AssertSqlSafe(self.text(rows, chunk.len() / width));
            match tx {
                Tx::Sqlite(t) => {
                    bind_values!(crate::sqlx::query(sql), chunk).execute(&mut **t).await?;
                }
                Tx::Pg(t) => {
                    bind_values!(crate::sqlx::query(sql), chunk).execute(&mut **t).await?;
                }
            }
        }
    }
}
