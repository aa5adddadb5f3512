//! Macros that run one SQL text on either backend. Each expands to a `match` on the [`Tx`]
//! variant, so the query is typed and bound for the backend that actually runs it.
//!
//! [`Tx`]: crate::Tx

/// Runs a statement; yields the number of rows affected.
#[macro_export]
macro_rules! execute {
    ($tx:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $tx {
            $crate::Tx::Sqlite(t) => $crate::sqlx::query($sql)$(.bind($arg))*
                .execute(&mut **t).await.map(|r| r.rows_affected()),
            $crate::Tx::Pg(t) => $crate::sqlx::query($sql)$(.bind($arg))*
                .execute(&mut **t).await.map(|r| r.rows_affected()),
        }.map_err($crate::Error::from)
    };
}

/// Fetches every row as `$ty` (a `sqlx::FromRow`).
#[macro_export]
macro_rules! fetch_all {
    ($tx:expr, $ty:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $tx {
            $crate::Tx::Sqlite(t) => $crate::sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*
                .fetch_all(&mut **t).await,
            $crate::Tx::Pg(t) => $crate::sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*
                .fetch_all(&mut **t).await,
        }.map_err($crate::Error::from)
    };
}

/// Fetches at most one row as `$ty`.
#[macro_export]
macro_rules! fetch_optional {
    ($tx:expr, $ty:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $tx {
            $crate::Tx::Sqlite(t) => $crate::sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*
                .fetch_optional(&mut **t).await,
            $crate::Tx::Pg(t) => $crate::sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*
                .fetch_optional(&mut **t).await,
        }.map_err($crate::Error::from)
    };
}

/// Fetches exactly one row as `$ty`.
#[macro_export]
macro_rules! fetch_one {
    ($tx:expr, $ty:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $tx {
            $crate::Tx::Sqlite(t) => $crate::sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*
                .fetch_one(&mut **t).await,
            $crate::Tx::Pg(t) => $crate::sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*
                .fetch_one(&mut **t).await,
        }.map_err($crate::Error::from)
    };
}

/// Fetches the first column of exactly one row.
#[macro_export]
macro_rules! scalar {
    ($tx:expr, $ty:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $tx {
            $crate::Tx::Sqlite(t) => $crate::sqlx::query_scalar::<_, $ty>($sql)$(.bind($arg))*
                .fetch_one(&mut **t).await,
            $crate::Tx::Pg(t) => $crate::sqlx::query_scalar::<_, $ty>($sql)$(.bind($arg))*
                .fetch_one(&mut **t).await,
        }.map_err($crate::Error::from)
    };
}

/// Fetches the first column of at most one row.
#[macro_export]
macro_rules! scalar_optional {
    ($tx:expr, $ty:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $tx {
            $crate::Tx::Sqlite(t) => $crate::sqlx::query_scalar::<_, $ty>($sql)$(.bind($arg))*
                .fetch_optional(&mut **t).await,
            $crate::Tx::Pg(t) => $crate::sqlx::query_scalar::<_, $ty>($sql)$(.bind($arg))*
                .fetch_optional(&mut **t).await,
        }.map_err($crate::Error::from)
    };
}
