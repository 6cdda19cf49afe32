//! The sqlx calls the generic store makes, for any sqlx database that has
//! them.
//!
//! Generic sqlx code needs bounds such as `i64: Encode<'_, DB>` or
//! `for<'c> &'c mut DB::Connection: Executor<'c>`. Rust carries only bounds
//! on `Self` and on its associated types from a trait to the code using it,
//! so these, stated on `Dialect`, would have to be repeated on every generic
//! impl. They are stated once instead, on the blanket impl of [`Driver`],
//! and the store reaches sqlx through `Driver`'s few methods.
//!
//! Items are `pub` where the sealed `Dialect` names them; the module is
//! private, so none of them is reachable from outside the crate.

use std::future::Future;
use std::pin::Pin;

use sqlx::query::Query;
use sqlx::{
    ColumnIndex, Connection, Database, Decode, Encode, Executor, IntoArguments, Row, SqlStr,
    Transaction, Type,
};

/// A boxed `Send` future, as sqlx's executors return them.
pub(super) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The options sqlx opens a connection to `DB` with.
pub(super) type ConnectOptions<DB> = <<DB as Database>::Connection as Connection>::Options;

/// A statement with the arguments bound to it so far.
pub(super) type Bound<DB> = Query<'static, DB, <DB as Database>::Arguments>;

/// A statement parameter: the three column types sessions use, each
/// nullable.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    /// A 64-bit integer.
    Int(Option<i64>),
    /// A byte string.
    Bytes(Option<&'a [u8]>),
    /// A text.
    Text(Option<&'a str>),
}

impl From<i64> for Value<'_> {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(value: &'a [u8]) -> Self {
        Self::Bytes(Some(value))
    }
}

impl<'a> From<Option<&'a [u8]>> for Value<'a> {
    fn from(value: Option<&'a [u8]>) -> Self {
        Self::Bytes(value)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(value: &'a str) -> Self {
        Self::Text(Some(value))
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Self::Text(value)
    }
}

/// Where a statement runs.
#[derive(Debug)]
pub enum On<'c, DB: Database> {
    /// On a connection a store call took from the pool.
    Connection(&'c mut DB::Connection),
    /// Inside the transaction (a migration's).
    Transaction(&'c mut Transaction<'static, DB>),
}

/// The sqlx calls the store makes: implemented for every sqlx database
/// whose driver binds and reads the column types sessions use.
pub trait Driver: Database {
    /// Binds `value` as the statement's next parameter.
    fn bind(query: Bound<Self>, value: Value<'_>) -> Bound<Self>;

    /// Runs a statement that returns no rows.
    fn execute(
        query: Bound<Self>,
        on: On<'_, Self>,
    ) -> BoxFuture<'_, Result<Self::QueryResult, sqlx::Error>>;

    /// Runs a statement to its end and collects its rows.
    ///
    /// There is deliberately no `fetch_optional`: sqlx's stops reading
    /// after the first row and resets the statement, and SQLite runs its
    /// automatic checkpoint only when a statement runs to its end, so an
    /// `UPDATE ... RETURNING` read that way commits but never lets the
    /// write-ahead log restart (it grew by gigabytes under load). Reading
    /// every row costs no extra round trip on any database.
    fn fetch_all(
        query: Bound<Self>,
        on: On<'_, Self>,
    ) -> BoxFuture<'_, Result<Vec<Self::Row>, sqlx::Error>>;

    /// Runs a script of statements without parameters (a migration).
    fn execute_script(
        script: SqlStr,
        on: On<'_, Self>,
    ) -> BoxFuture<'_, Result<Self::QueryResult, sqlx::Error>>;

    /// Reads column `index` as an integer.
    ///
    /// # Errors
    /// A column of another type, or no column `index`.
    fn int(row: &Self::Row, index: usize) -> Result<Option<i64>, sqlx::Error>;

    /// Reads column `index` as a byte string.
    ///
    /// # Errors
    /// A column of another type, or no column `index`.
    fn bytes(row: &Self::Row, index: usize) -> Result<Option<&[u8]>, sqlx::Error>;

    /// Reads column `index` as a text.
    ///
    /// # Errors
    /// A column of another type, or no column `index`.
    fn text(row: &Self::Row, index: usize) -> Result<Option<&str>, sqlx::Error>;
}

impl<DB> Driver for DB
where
    DB: Database,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    Option<i64>: for<'q> Encode<'q, DB>,
    for<'a> &'a [u8]: Type<DB> + Decode<'a, DB>,
    for<'a> Option<&'a [u8]>: Encode<'a, DB>,
    for<'a> &'a str: Type<DB> + Decode<'a, DB>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
{
    fn bind(query: Bound<Self>, value: Value<'_>) -> Bound<Self> {
        match value {
            Value::Int(v) => query.bind(v),
            Value::Bytes(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
        }
    }

    fn execute(
        query: Bound<Self>,
        on: On<'_, Self>,
    ) -> BoxFuture<'_, Result<Self::QueryResult, sqlx::Error>> {
        match on {
            On::Connection(c) => c.execute(query),
            On::Transaction(tx) => (&mut **tx).execute(query),
        }
    }

    fn fetch_all(
        query: Bound<Self>,
        on: On<'_, Self>,
    ) -> BoxFuture<'_, Result<Vec<Self::Row>, sqlx::Error>> {
        match on {
            On::Connection(c) => c.fetch_all(query),
            On::Transaction(tx) => (&mut **tx).fetch_all(query),
        }
    }

    fn execute_script(
        script: SqlStr,
        on: On<'_, Self>,
    ) -> BoxFuture<'_, Result<Self::QueryResult, sqlx::Error>> {
        let script = sqlx::raw_sql(script);
        match on {
            On::Connection(c) => c.execute(script),
            On::Transaction(tx) => (&mut **tx).execute(script),
        }
    }

    fn int(row: &Self::Row, index: usize) -> Result<Option<i64>, sqlx::Error> {
        row.try_get(index)
    }

    fn bytes(row: &Self::Row, index: usize) -> Result<Option<&[u8]>, sqlx::Error> {
        row.try_get(index)
    }

    fn text(row: &Self::Row, index: usize) -> Result<Option<&str>, sqlx::Error> {
        row.try_get(index)
    }
}

/// A statement being bound, to run through [`Driver`]: sqlx's `Query` with
/// a `bind` that the generic store can call.
pub(super) struct Statement<DB: Database>(Bound<DB>);

impl<DB: Driver> Statement<DB> {
    /// A statement with no arguments bound yet.
    pub(super) fn new(sql: SqlStr) -> Self {
        Self(sqlx::query(sql))
    }

    /// Binds `value` as the next parameter.
    pub(super) fn bind<'a>(self, value: impl Into<Value<'a>>) -> Self {
        Self(DB::bind(self.0, value.into()))
    }

    /// Runs the statement; see [`Driver::execute`].
    pub(super) fn execute(
        self,
        on: On<'_, DB>,
    ) -> BoxFuture<'_, Result<DB::QueryResult, sqlx::Error>> {
        DB::execute(self.0, on)
    }

    /// Runs the statement; see [`Driver::fetch_all`].
    pub(super) fn fetch_all(
        self,
        on: On<'_, DB>,
    ) -> BoxFuture<'_, Result<Vec<DB::Row>, sqlx::Error>> {
        DB::fetch_all(self.0, on)
    }
}
