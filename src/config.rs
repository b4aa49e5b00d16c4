//! Settings: every one a command-line flag and an environment variable (`SHEZU_*`). With none
//! given, shezu runs on a SQLite file in the working directory.

use clap::Args;

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite:shezu.db` (the default, a file in the working directory) or
    /// `postgres://user@host/dbname`.
    #[arg(
        long = "database",
        env = "SHEZU_DATABASE_URL",
        default_value = "sqlite:shezu.db"
    )]
    pub url: String,
}

/// Where the read-only public surfaces read (a PostgreSQL streaming replica).
#[derive(Debug, Clone, Default, Args)]
pub struct ReadDatabaseArgs {
    /// Database URL the public directory, organization profiles, open data, public statistics
    /// and the GET routes of `/api/v1` read from — typically a PostgreSQL hot standby
    /// (`postgres://user@replica/dbname`). Its sessions are read-only; everything that writes
    /// stays on `--database`, and migrations run only there. Unset: the primary serves all.
    #[arg(long = "read-database", env = "SHEZU_READ_DATABASE_URL")]
    pub read_url: Option<String>,
}

/// How the server runs (facts the bureau edits — district, division code, allowances,
/// deadlines — are settings in the database, see `settings`).
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "SHEZU_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: i64,
    /// Hours after sign-in after which a session ends however active it is.
    #[arg(long, env = "SHEZU_SESSION_ABSOLUTE_HOURS", default_value_t = 12)]
    pub session_absolute_hours: i64,
    /// Failed sign-ins in a row that lock an account.
    #[arg(long, env = "SHEZU_LOGIN_MAX_FAILURES", default_value_t = 5)]
    pub login_max_failures: i64,
    /// Minutes an account stays locked.
    #[arg(long, env = "SHEZU_LOGIN_LOCK_MINUTES", default_value_t = 15)]
    pub login_lock_minutes: i64,
    /// Failed sign-ins from one address within the lock window after which that address is
    /// refused (whatever the account).
    #[arg(long, env = "SHEZU_LOGIN_MAX_FAILURES_PER_IP", default_value_t = 20)]
    pub login_max_failures_per_ip: i64,
    /// Mark cookies `Secure` and send HSTS (set when shezu is served over HTTPS, e.g. behind a
    /// TLS-terminating proxy).
    #[arg(long, env = "SHEZU_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,
    /// Keep uploaded documents in this directory (named by their SHA-256) instead of in the
    /// database; every app server must see the same directory.
    #[arg(long, env = "SHEZU_UPLOAD_DIR")]
    pub upload_dir: Option<std::path::PathBuf>,
    /// Requests a minute each address may make to the keyless public API (0: no limit).
    #[arg(long, env = "SHEZU_API_REQUESTS_PER_MINUTE", default_value_t = 600)]
    pub api_requests_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR blocks, comma
    /// separated, e.g. `127.0.0.1,10.0.0.0/8`). Empty: the TCP peer is the caller.
    #[arg(long, env = "SHEZU_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<crate::ops::ProxyNet>,
    /// Where the daily open-data dump is written (default: `open-data` in the working
    /// directory).
    #[arg(long, env = "SHEZU_DUMP_DIR", default_value = "open-data")]
    pub dump_dir: std::path::PathBuf,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            login_max_failures: 5,
            login_lock_minutes: 15,
            login_max_failures_per_ip: 20,
            secure_cookies: false,
            upload_dir: None,
            api_requests_per_minute: 600,
            trusted_proxies: Vec::new(),
            dump_dir: std::path::PathBuf::from("open-data"),
        }
    }
}

impl Settings {
    /// Where uploaded documents are kept.
    pub fn document_store(&self) -> crate::approvals::documents::DocumentStore {
        match &self.upload_dir {
            Some(dir) => crate::approvals::documents::DocumentStore::Directory(dir.clone()),
            None => crate::approvals::documents::DocumentStore::Database,
        }
    }

    /// How long sessions live.
    pub fn session_limits(&self) -> crate::auth::store::SessionLimits {
        crate::auth::store::SessionLimits {
            idle: chrono::Duration::minutes(self.session_idle_minutes.max(1)),
            absolute: chrono::Duration::hours(self.session_absolute_hours.max(1)),
        }
    }
}
