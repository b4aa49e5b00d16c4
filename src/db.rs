//! The two databases behind one SQL text: `Db` (a pool), `Tx` (a transaction), `Conn` (a borrowed
//! connection of either), and `Sql`, the one way every store function sends a statement.
//!
//! Nearly all SQL is written once with `$1…` placeholders and runs unchanged on SQLite and
//! PostgreSQL. Where the dialects truly differ, [`Conn::pick`] says so at that spot; `grep pick(`
//! lists every difference.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, FromRow, PgConnection, Postgres, Sqlite, SqliteConnection};
use std::str::FromStr;
use std::time::Duration;

/// How long a write transaction waits for the write lock (SQLite's busy timeout, PostgreSQL's
/// `lock_timeout`) before the request is answered "busy, try again" (503).
pub const WRITE_WAIT: Duration = Duration::from_secs(10);

/// PostgreSQL advisory-lock key that write transactions hold until they end (see
/// [`Db::begin`]); the migration runner uses its own key.
pub const WRITE_LOCK: i64 = 7_355_609;

/// Which database engine a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (the zero-configuration default).
    Sqlite,
    /// A PostgreSQL server (the scale path).
    Postgres,
}

/// A connection pool over either database.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite pool.
    Sqlite(sqlx::SqlitePool),
    /// PostgreSQL pool.
    Postgres(sqlx::PgPool),
}

/// An open transaction on either database; dropped without `commit` it rolls back.
#[derive(Debug)]
pub enum Tx {
    /// SQLite transaction.
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    /// PostgreSQL transaction.
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// A connection checked out of the pool (for reads outside a transaction).
#[derive(Debug)]
pub enum PooledConn {
    /// SQLite connection.
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    /// PostgreSQL connection.
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

/// A borrowed connection — of a transaction or of the pool — that store functions take.
#[derive(Debug)]
pub enum Conn<'c> {
    /// SQLite connection.
    Sqlite(&'c mut SqliteConnection),
    /// PostgreSQL connection.
    Postgres(&'c mut PgConnection),
}

/// Runs `$body` once per backend with `$c` bound to the concrete connection
/// (`&mut SqliteConnection` or `&mut PgConnection`), so one expression compiles for both.
#[macro_export]
macro_rules! on_db {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite(inner) => {
                let $c: &mut ::sqlx::SqliteConnection = &mut **inner;
                $body
            }
            $crate::db::Conn::Postgres(inner) => {
                let $c: &mut ::sqlx::PgConnection = &mut **inner;
                $body
            }
        }
    };
}

impl Backend {
    /// The engine a database URL names: `postgres://…` or `postgresql://…`, else SQLite.
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

impl Db {
    /// Opens a pool for `url`: `sqlite:…` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        if Backend::of_url(url) == Backend::Postgres {
            let options = PgConnectOptions::from_str(url)?.application_name("shezu");
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(WRITE_WAIT);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool))
        }
    }

    /// Opens a read-only pool for `url` (`--read-database`, usually a PostgreSQL hot standby).
    /// Its sessions refuse writes even when `url` names a primary — PostgreSQL with
    /// `default_transaction_read_only`, SQLite with `query_only` — so a public handler that
    /// wrote by mistake fails loudly instead of writing where it should not. PostgreSQL
    /// connections are named `shezu-read` (`pg_stat_activity.application_name`).
    pub async fn connect_read(url: &str) -> Result<Db, sqlx::Error> {
        let db = Db::connect_read_lazy(url)?;
        // Fail at start, not on the first visitor, when the replica cannot be reached.
        drop(db.acquire().await?);
        Ok(db)
    }

    /// [`Db::connect_read`] without connecting yet (connections open on first use).
    pub fn connect_read_lazy(url: &str) -> Result<Db, sqlx::Error> {
        if Backend::of_url(url) == Backend::Postgres {
            let options = PgConnectOptions::from_str(url)?
                .application_name("shezu-read")
                .options([("default_transaction_read_only", "on")]);
            Ok(Db::Postgres(
                PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_lazy_with(options),
            ))
        } else {
            // Never created: a read pool over a file that does not exist is a mistake.
            let options = SqliteConnectOptions::from_str(url)?
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("query_only", "ON");
            Ok(Db::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_lazy_with(options),
            ))
        }
    }

    /// The engine behind this pool.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a transaction, taking the write lock at once: on SQLite `BEGIN IMMEDIATE` (two
    /// writers queue instead of failing with "database is locked" half-way through), on
    /// PostgreSQL a transaction-level advisory lock ([`WRITE_LOCK`]). Writers take turns on
    /// both engines, so a rule checked before writing — a budget not overspent, a sixth joint
    /// branch refused, a listing not made twice — still holds at commit. It costs PostgreSQL
    /// little: every write ends by appending to the one audit chain, which serialises writers
    /// at that point anyway.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // As long as SQLite's busy timeout, then `lock_not_available`: a writer is told
                // to try again rather than left waiting behind a long import.
                sqlx::query(AssertSqlSafe(format!(
                    "set local lock_timeout = '{}ms'",
                    WRITE_WAIT.as_millis()
                )))
                .execute(&mut *tx)
                .await?;
                sqlx::query("select pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        })
    }

    /// Checks a connection out of the pool for reads.
    pub async fn acquire(&self) -> Result<PooledConn, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => PooledConn::Sqlite(pool.acquire().await?),
            Db::Postgres(pool) => PooledConn::Postgres(pool.acquire().await?),
        })
    }

    /// Connections of the pool: (open, idle, the most it opens), for `/metrics`.
    pub fn pool_figures(&self) -> (u32, usize, u32) {
        match self {
            Db::Sqlite(pool) => (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ),
            Db::Postgres(pool) => (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ),
        }
    }

    /// Closes every connection (used before a process exits or a test drops its database).
    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    /// The transaction's connection, for store functions.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    /// Makes every write of the transaction durable at once.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    /// Undoes every write of the transaction (dropping it does the same, later).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}

impl PooledConn {
    /// The connection, for store functions.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Sqlite(c) => Conn::Sqlite(c),
            PooledConn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

impl Conn<'_> {
    /// The engine behind this connection.
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Gives this SQLite connection a page cache of `mebibytes` (SQLite's default is 2 MiB),
    /// or back the default with `None`; nothing on PostgreSQL, whose cache is the server's.
    /// A bulk write into a registry of millions keeps its indexes' B-tree pages in memory
    /// instead of spilling and re-reading them; the pool's connections keep the default, so a
    /// server's memory does not grow by a large cache per connection.
    pub async fn sqlite_cache(&mut self, mebibytes: Option<u32>) -> Result<(), sqlx::Error> {
        if self.backend() == Backend::Sqlite {
            // Negative: KiB rather than pages.
            let kib = mebibytes.map_or(2_000, |m| i64::from(m) * 1024);
            Sql::new(&format!("pragma cache_size = -{kib}"))
                .execute(self)
                .await?;
        }
        Ok(())
    }

    /// Chooses the SQLite or the PostgreSQL spelling of a statement that truly differs.
    pub fn pick(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }
}

/// A point in time, stored as timestamptz on PostgreSQL and as fixed-width UTC text on SQLite.
///
/// sqlx writes `DateTime` to SQLite with a variable number of fraction digits, which does not
/// sort as text; binding through `Arg::Timestamp` always writes microseconds, so `<`, `>` and
/// `order by` agree on both databases.
pub type Timestamp = DateTime<Utc>;

/// One bound value of a statement, encoded the same way on both databases.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// 64-bit integer (ids, counts, money in fen).
    Int(i64),
    /// Optional integer.
    OptInt(Option<i64>),
    /// Text.
    Text(String),
    /// Optional text.
    OptText(Option<String>),
    /// Boolean.
    Bool(bool),
    /// Calendar date (ISO text on SQLite, `date` on PostgreSQL).
    Date(NaiveDate),
    /// Optional date.
    OptDate(Option<NaiveDate>),
    /// Instant (see [`Timestamp`]).
    Timestamp(Timestamp),
    /// Optional instant.
    OptTimestamp(Option<Timestamp>),
    /// Binary data (blob / bytea).
    Bytes(Vec<u8>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::OptText(v.map(str::to_owned))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<NaiveDate> for Arg {
    fn from(v: NaiveDate) -> Self {
        Arg::Date(v)
    }
}
impl From<Option<NaiveDate>> for Arg {
    fn from(v: Option<NaiveDate>) -> Self {
        Arg::OptDate(v)
    }
}
impl From<Timestamp> for Arg {
    fn from(v: Timestamp) -> Self {
        Arg::Timestamp(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(v)
    }
}
impl From<Option<Timestamp>> for Arg {
    fn from(v: Option<Timestamp>) -> Self {
        Arg::OptTimestamp(v)
    }
}

/// The fixed-width text form of an instant on SQLite.
fn sqlite_timestamp(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Binds every `Arg` of a statement to a sqlx query of either backend; the match is expanded per
/// backend so each variant uses that driver's own encoding.
macro_rules! bind_args {
    ($query:expr, $args:expr, $backend:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                Arg::Int(v) => q.bind(*v),
                Arg::OptInt(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.clone()),
                Arg::OptText(v) => q.bind(v.clone()),
                Arg::Bool(v) => q.bind(*v),
                Arg::Date(v) => q.bind(*v),
                Arg::OptDate(v) => q.bind(*v),
                Arg::Timestamp(v) => match $backend {
                    Backend::Sqlite => q.bind(sqlite_timestamp(v)),
                    Backend::Postgres => q.bind(*v),
                },
                Arg::Bytes(v) => q.bind(v.clone()),
                Arg::OptTimestamp(v) => match $backend {
                    Backend::Sqlite => q.bind(v.as_ref().map(sqlite_timestamp)),
                    Backend::Postgres => q.bind(*v),
                },
            };
        }
        q
    }};
}

/// A statement with its bound values: static text with `$1…` placeholders (`Sql::new(..).arg(..)`)
/// or text assembled from trusted fragments with `push` and `push_arg` (which numbers the
/// placeholder itself). Values never enter the text.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
    /// Every placeholder came from `push_arg`, so they run `$1, $2, …` in order, and the text
    /// has no other `$`: on SQLite they can go as anonymous `?` (see [`Sql::text_for`]).
    in_order: bool,
}

/// Trait bound shorthand: a row type that decodes from both databases.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

impl Sql {
    /// A statement starting with `text` (trusted SQL, never user input).
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            args: Vec::new(),
            in_order: !text.contains('$'),
        }
    }

    /// Binds the value for the next `$n` already written in the text.
    pub fn arg(mut self, value: impl Into<Arg>) -> Sql {
        self.args.push(value.into());
        self.in_order = false;
        self
    }

    /// Binds several values for the next placeholders already written in the text.
    pub fn args(mut self, values: Vec<Arg>) -> Sql {
        self.args.extend(values);
        self.in_order = false;
        self
    }

    /// Appends trusted SQL text.
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.in_order &= !text.contains('$');
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder `$n` for `value`.
    pub fn push_arg(&mut self, value: impl Into<Arg>) -> &mut Sql {
        self.args.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// Appends `$a, $b, …` for a list of values (for `in (…)`); an empty list writes `null`, so
    /// `x in (null)` matches nothing rather than being a syntax error.
    pub fn push_list<T: Into<Arg> + Clone>(&mut self, values: &[T]) -> &mut Sql {
        if values.is_empty() {
            self.text.push_str("null");
        }
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.push_arg(v.clone());
        }
        self
    }

    /// The statement text (for logs and tests).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text as sent to `backend`. SQLite treats `$n` as a *named* parameter, and sqlx asks
    /// SQLite the name of every parameter it binds, which SQLite finds by walking the list of
    /// names: a statement with thousands of values (the multi-row INSERTs of an import) then
    /// costs time quadratic in its values. Anonymous `?` parameters have no names, so when the
    /// placeholders are in order they are sent as `?`, bound in constant time each.
    fn text_for(&self, backend: Backend) -> String {
        if backend != Backend::Sqlite || !self.in_order || self.args.is_empty() {
            return self.text.clone();
        }
        let mut out = String::with_capacity(self.text.len());
        let mut chars = self.text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' {
                out.push('?');
                while chars.next_if(char::is_ascii_digit).is_some() {}
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Runs a statement that returns no rows; gives the number of rows it changed.
    pub async fn execute(&self, conn: &mut Conn<'_>) -> Result<u64, sqlx::Error> {
        let backend = conn.backend();
        on_db!(conn, c => {
            let q = bind_args!(sqlx::query(AssertSqlSafe(self.text_for(backend))), &self.args, backend);
            Ok(q.execute(&mut *c).await?.rows_affected())
        })
    }

    /// Fetches every row as `T`.
    pub async fn fetch_all<T: Row>(&self, conn: &mut Conn<'_>) -> Result<Vec<T>, sqlx::Error> {
        let backend = conn.backend();
        on_db!(conn, c => {
            let q = bind_args!(sqlx::query_as::<_, T>(AssertSqlSafe(self.text_for(backend))), &self.args, backend);
            q.fetch_all(&mut *c).await
        })
    }

    /// Fetches at most one row as `T`.
    pub async fn fetch_optional<T: Row>(
        &self,
        conn: &mut Conn<'_>,
    ) -> Result<Option<T>, sqlx::Error> {
        let backend = conn.backend();
        on_db!(conn, c => {
            let q = bind_args!(sqlx::query_as::<_, T>(AssertSqlSafe(self.text_for(backend))), &self.args, backend);
            q.fetch_optional(&mut *c).await
        })
    }

    /// Fetches exactly one row as `T`.
    pub async fn fetch_one<T: Row>(&self, conn: &mut Conn<'_>) -> Result<T, sqlx::Error> {
        let backend = conn.backend();
        on_db!(conn, c => {
            let q = bind_args!(sqlx::query_as::<_, T>(AssertSqlSafe(self.text_for(backend))), &self.args, backend);
            q.fetch_one(&mut *c).await
        })
    }

    /// Fetches the single integer a statement returns (`count(*)`, `returning id`).
    pub async fn fetch_i64(&self, conn: &mut Conn<'_>) -> Result<i64, sqlx::Error> {
        let (value,): (i64,) = self.fetch_one(conn).await?;
        Ok(value)
    }
}

/// True when a database error is a unique-constraint violation (detected by kind, because
/// SQLite reports no constraint name).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// One embedded migration: the same file name in `migrations/sqlite` and `migrations/postgres`.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// One entry of [`MIGRATIONS`]: the same file embedded from both folders.
macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $name)),
            postgres: include_str!(concat!("../migrations/postgres/", $name)),
        }
    };
}

/// Every migration, in order. Forward-only: a released file is never edited, only followed.
const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_foundation.sql"),
    migration!(2, "0002_accounts.sql"),
    migration!(3, "0003_settings.sql"),
    migration!(4, "0004_approvals.sql"),
    migration!(5, "0005_attachments.sql"),
    migration!(6, "0006_consultations.sql"),
    migration!(7, "0007_referrals.sql"),
    migration!(8, "0008_search.sql"),
    migration!(9, "0009_notices.sql"),
    migration!(10, "0010_area_kind_index.sql"),
    migration!(11, "0011_inspection.sql"),
    migration!(12, "0012_evaluation.sql"),
    migration!(13, "0013_party.sql"),
    migration!(14, "0014_hubs.sql"),
    migration!(15, "0015_party_assessment.sql"),
    migration!(16, "0016_incubation.sql"),
    migration!(17, "0017_funding.sql"),
    migration!(18, "0018_volunteers.sql"),
    migration!(19, "0019_talent.sql"),
    migration!(20, "0020_national_levels.sql"),
];

/// The names of all embedded migration files (for the parity test).
pub fn migration_names() -> Vec<&'static str> {
    MIGRATIONS.iter().map(|m| m.name).collect()
}

/// Applies every migration not yet applied, each in its own transaction; returns how many ran.
/// On PostgreSQL an advisory lock keeps two app servers starting at once from racing.
pub async fn migrate(db: &Db) -> Result<usize, sqlx::Error> {
    let mut conn = db.acquire().await?;
    let mut c = conn.conn();
    let create = c.pick(
        "create table if not exists schema_migrations (version integer primary key, name text not null, applied_at text not null)",
        "create table if not exists schema_migrations (version bigint primary key, name text not null, applied_at timestamptz not null)",
    );
    Sql::new(create).execute(&mut c).await?;
    if db.backend() == Backend::Postgres {
        Sql::new("select pg_advisory_lock(7355608)")
            .execute(&mut c)
            .await?;
    }
    let result = apply_pending(db).await;
    if db.backend() == Backend::Postgres {
        Sql::new("select pg_advisory_unlock(7355608)")
            .execute(&mut c)
            .await?;
    }
    result
}

/// True when every migration this build knows has been applied to the database (readiness:
/// a server must not answer from a schema older than its code).
pub async fn is_current(conn: &mut Conn<'_>) -> Result<bool, sqlx::Error> {
    let newest = MIGRATIONS.last().map_or(0, |m| m.version);
    let applied = Sql::new("select count(*) from schema_migrations where version <= $1")
        .arg(newest)
        .fetch_i64(conn)
        .await?;
    Ok(applied == MIGRATIONS.len() as i64)
}

async fn apply_pending(db: &Db) -> Result<usize, sqlx::Error> {
    let mut applied = 0;
    for m in MIGRATIONS {
        let mut tx = db.begin().await?;
        let done: Option<(i64,)> =
            Sql::new("select version from schema_migrations where version = $1")
                .arg(m.version)
                .fetch_optional(&mut tx.conn())
                .await?;
        if done.is_some() {
            continue;
        }
        let script = match db.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        match &mut tx {
            Tx::Sqlite(t) => {
                sqlx::raw_sql(AssertSqlSafe(script))
                    .execute(&mut **t)
                    .await?;
            }
            Tx::Postgres(t) => {
                sqlx::raw_sql(AssertSqlSafe(script))
                    .execute(&mut **t)
                    .await?;
            }
        }
        Sql::new("insert into schema_migrations (version, name, applied_at) values ($1, $2, $3)")
            .arg(m.version)
            .arg(m.name)
            .arg(Utc::now())
            .execute(&mut tx.conn())
            .await?;
        tx.commit().await?;
        applied += 1;
    }
    Ok(applied)
}

/// A column of the live schema, for the parity test and `shezu migrate --check`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, sqlx::FromRow)]
pub struct SchemaColumn {
    /// Table name.
    pub table_name: String,
    /// Column name.
    pub column_name: String,
}

/// Every (table, column) of the application schema, sorted.
pub async fn schema_columns(db: &Db) -> Result<Vec<SchemaColumn>, sqlx::Error> {
    let mut conn = db.acquire().await?;
    let mut c = conn.conn();
    let sql = c.pick(
        "select m.name as table_name, p.name as column_name from sqlite_master m join pragma_table_info(m.name) p where m.type = 'table' and m.name not like 'sqlite_%' and not exists (select 1 from sqlite_master v where v.sql like 'create virtual table%' and m.name like v.name || '\\_%' escape '\\') order by 1, 2",
        "select table_name::text as table_name, column_name::text as column_name from information_schema.columns where table_schema = current_schema() order by 1, 2",
    );
    Sql::new(sql).fetch_all(&mut c).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_in_order_go_to_sqlite_as_anonymous() {
        let mut sql = Sql::new("insert into t (a, b) values ");
        sql.push("(")
            .push_arg(1)
            .push(", ")
            .push_arg("x$")
            .push("), (");
        sql.push_arg(2).push(", ").push_arg(12).push(")");
        assert_eq!(
            sql.text_for(Backend::Sqlite),
            "insert into t (a, b) values (?, ?), (?, ?)"
        );
        assert_eq!(sql.text_for(Backend::Postgres), sql.text());
        // Numbered in the text (a value used twice): kept as written.
        let reused = Sql::new("update t set a = $1, b = $1 where id = $2")
            .arg(1)
            .arg(2);
        assert_eq!(reused.text_for(Backend::Sqlite), reused.text());
        let mut mixed = Sql::new("select 1 where a = ");
        mixed.push_arg(1).push(" and b = $1");
        assert_eq!(mixed.text_for(Backend::Sqlite), mixed.text());
    }
}
