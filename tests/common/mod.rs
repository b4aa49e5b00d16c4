//! Test harness: a fresh database per test on either backend, the app router with a loopback
//! peer, and helpers to send requests and read answers.

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use shezu::app::{AppState, router};
use shezu::config::Settings;
use shezu::db::{Backend, Db};
use std::net::SocketAddr;
use tower::ServiceExt;

/// A database made for one test, dropped (PostgreSQL) or deleted (SQLite) afterwards.
pub struct TestDb {
    /// The pool.
    pub db: Db,
    /// Its URL (for running the binary against it).
    pub url: String,
    /// Keeps the SQLite file's directory alive.
    _dir: Option<tempfile::TempDir>,
    /// Name of the PostgreSQL database to drop.
    pg_name: Option<String>,
}

/// The PostgreSQL server tests use: `SHEZU_TEST_PG` or the local server as `postgres`.
fn pg_admin_url() -> String {
    std::env::var("SHEZU_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `base` with its database name replaced by `name`.
pub fn url_with_db(base: &str, name: &str) -> String {
    let (server, query) = base
        .split_once('?')
        .map_or((base, None), |(s, q)| (s, Some(q)));
    let server = server.rsplit_once('/').map_or(server, |(s, _)| s);
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

impl TestDb {
    /// A new, migrated, empty database. `None` when PostgreSQL is unreachable outside CI (the
    /// test then passes vacuously and says so); under `CI=true` that is a failure.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        let t = TestDb::unmigrated(backend).await?;
        shezu::db::migrate(&t.db).await.expect("migrate");
        Some(t)
    }

    /// A new database without even the schema (a restore's target), as [`TestDb::new`].
    pub async fn unmigrated(backend: Backend) -> Option<TestDb> {
        TestDb::create(backend, None).await
    }

    /// A new database holding the demo district, copied from one loaded once per test binary
    /// ([`demo_template`]): loading it record by record takes a minute on PostgreSQL, and a
    /// copy a second. `None` as [`TestDb::new`].
    pub async fn with_demo(backend: Backend) -> Option<TestDb> {
        let template = demo_template(backend).await?;
        TestDb::create(backend, Some(&template)).await
    }

    /// A new database: empty, or a copy of `template` (a SQLite file, a PostgreSQL database).
    async fn create(backend: Backend, template: Option<&str>) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("test.db");
                if let Some(template) = template {
                    std::fs::copy(template, &path).expect("copy the demo template");
                }
                let url = format!("sqlite:{}", path.display());
                let db = Db::connect(&url).await.expect("open sqlite");
                Some(TestDb {
                    db,
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                })
            }
            Backend::Postgres => {
                let admin = pg_admin().await?;
                let name = format!(
                    "shezu_test_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                );
                let template = template.map_or(String::new(), |t| format!(" template {t}"));
                let mut conn = admin.acquire().await.expect("pg admin connection");
                shezu::db::Sql::new(&format!("create database {name}{template}"))
                    .execute(&mut conn.conn())
                    .await
                    .expect("create test database");
                drop(conn);
                admin.close().await;
                let url = url_with_db(&pg_admin_url(), &name);
                let db = Db::connect(&url).await.expect("open pg");
                Some(TestDb {
                    db,
                    url,
                    _dir: None,
                    pg_name: Some(name),
                })
            }
        }
    }

    /// The app over this database, as an anonymous visitor from 127.0.0.1.
    pub fn app(&self) -> TestApp {
        self.app_with(Settings::default())
    }

    /// The app with particular settings.
    pub fn app_with(&self, settings: Settings) -> TestApp {
        TestApp::on(self.state(settings))
    }

    /// The state the test apps run on.
    pub fn state(&self, settings: Settings) -> AppState {
        // The public surfaces read through a pool that refuses writes (as `--read-database`
        // does), so every test that visits a public page also checks that it writes nothing.
        let read_db = Db::connect_read_lazy(&self.url).expect("read-only pool");
        AppState::new(self.db.clone(), settings).with_read_db(read_db)
    }

    /// Creates an account `username` holding `role` (tied to `area` or `org` when given) with
    /// the password [`PASSWORD`].
    pub async fn user(&self, username: &str, role: &str, area: Option<&str>, org: Option<&str>) {
        shezu::cli::add_user(&self.db, username, role, area, org, "", PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("creating {username}: {e:#}"));
    }

    /// The app signed in as a new account with `role`.
    pub async fn app_as(
        &self,
        username: &str,
        role: &str,
        area: Option<&str>,
        org: Option<&str>,
    ) -> TestApp {
        self.user(username, role, area, org).await;
        self.app().signed_in(username, PASSWORD).await
    }

    /// The row count of every table of the schema (to show that a refused request changed
    /// nothing).
    pub async fn table_counts(&self) -> std::collections::BTreeMap<String, i64> {
        let tables: std::collections::BTreeSet<String> = shezu::db::schema_columns(&self.db)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.table_name)
            .collect();
        let mut out = std::collections::BTreeMap::new();
        let mut c = self.db.acquire().await.unwrap();
        for table in tables {
            let n = shezu::db::Sql::new(&format!("select count(*) from {table}"))
                .fetch_i64(&mut c.conn())
                .await
                .unwrap();
            out.insert(table, n);
        }
        out
    }

    /// Closes the pool and drops a PostgreSQL test database.
    pub async fn cleanup(self) {
        self.db.close().await;
        if let Some(name) = self.pg_name
            && let Ok(admin) = Db::connect(&pg_admin_url()).await
        {
            if let Ok(mut conn) = admin.acquire().await {
                let _ =
                    shezu::db::Sql::new(&format!("drop database if exists {name} with (force)"))
                        .execute(&mut conn.conn())
                        .await;
            }
            admin.close().await;
        }
    }
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The PostgreSQL server's admin pool. `None` when it is unreachable outside CI (the test then
/// passes vacuously and says so); under `CI=true` that is a failure.
async fn pg_admin() -> Option<Db> {
    match Db::connect(&pg_admin_url()).await {
        Ok(db) => Some(db),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL is required under CI=true but unreachable: {e}");
            }
            eprintln!("SKIPPED on PostgreSQL (unreachable: {e}); set SHEZU_TEST_PG");
            None
        }
    }
}

/// The demo templates this process made or found, by backend.
static DEMO_TEMPLATES: std::sync::LazyLock<
    tokio::sync::Mutex<std::collections::HashMap<&'static str, String>>,
> = std::sync::LazyLock::new(Default::default);

/// Templates of other builds older than this are deleted (a build's template is found again by
/// its key while it is current; one in use by another test run is younger than this).
const STALE_TEMPLATE_SECS: u64 = 2 * 3600;

/// The demo district loaded into a database of its own, for [`TestDb::with_demo`] to copy: a
/// SQLite file under the target's temporary folder or a PostgreSQL database, named by this test
/// binary (its size and modification time), so a rebuilt binary loads it afresh and a re-run
/// of the same binary finds it. Made under a lock (an advisory lock on PostgreSQL, a file
/// renamed into place on SQLite); stale ones of earlier builds are deleted.
async fn demo_template(backend: Backend) -> Option<String> {
    let label = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let mut made = DEMO_TEMPLATES.lock().await;
    if let Some(template) = made.get(label) {
        return Some(template.clone());
    }
    let key = binary_key();
    let template = match backend {
        Backend::Sqlite => sqlite_demo_template(&key).await,
        Backend::Postgres => pg_demo_template(&key).await?,
    };
    made.insert(label, template.clone());
    Some(template)
}

/// A short name for this test binary's build.
fn binary_key() -> String {
    use std::hash::{Hash, Hasher};
    let exe = std::env::current_exe().expect("test binary path");
    let meta = std::fs::metadata(&exe).expect("test binary");
    let mut h = std::hash::DefaultHasher::new();
    (meta.len(), meta.modified().ok()).hash(&mut h);
    format!("{:012x}", h.finish() & 0xFFFF_FFFF_FFFF)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Loads the demo district into `db` (already connected, not yet migrated).
async fn load_demo_into(db: &Db) {
    shezu::db::migrate(db)
        .await
        .expect("migrate the demo template");
    shezu::demo::load(db, shezu::demo::DEFAULT_SEED)
        .await
        .expect("load the demo template");
}

async fn sqlite_demo_template(key: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("demo-{key}.db"));
    if !path.exists() {
        let partial = dir.join(format!("demo-{key}.partial-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&partial);
        let db = Db::connect(&format!("sqlite:{}", partial.display()))
            .await
            .expect("open the demo template");
        load_demo_into(&db).await;
        // Everything into the main file, so that copying that one file copies the database.
        let mut conn = db.acquire().await.expect("demo template connection");
        shezu::db::Sql::new("pragma wal_checkpoint(truncate)")
            .execute(&mut conn.conn())
            .await
            .expect("checkpoint the demo template");
        drop(conn);
        db.close().await;
        std::fs::rename(&partial, &path).expect("demo template into place");
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let other = entry.path();
            let name = other.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age.as_secs() > STALE_TEMPLATE_SECS);
            if name.starts_with("demo-") && other != path && old {
                let _ = std::fs::remove_file(&other);
            }
        }
    }
    path.display().to_string()
}

async fn pg_demo_template(key: &str) -> Option<String> {
    use shezu::db::Sql;
    let admin = pg_admin().await?;
    let mut conn = admin.acquire().await.expect("pg admin connection");
    // One process at a time makes a template (another test run may share the server).
    Sql::new("select pg_advisory_lock(7355610)")
        .execute(&mut conn.conn())
        .await
        .expect("template lock");
    let prefix = format!("shezu_demo_{key}_");
    let databases: Vec<(String,)> =
        Sql::new("select datname from pg_database where datname like 'shezu_demo_%'")
            .fetch_all(&mut conn.conn())
            .await
            .expect("list databases");
    let found = databases
        .iter()
        .map(|(name,)| name)
        .find(|name| name.starts_with(&prefix) && !name.ends_with("partial"))
        .cloned();
    let template = match found {
        Some(name) => name,
        None => {
            let partial = format!("{prefix}partial");
            for sql in [
                format!("drop database if exists {partial} with (force)"),
                format!("create database {partial}"),
            ] {
                Sql::new(&sql).execute(&mut conn.conn()).await.expect(&sql);
            }
            let db = Db::connect(&url_with_db(&pg_admin_url(), &partial))
                .await
                .expect("open the demo template");
            load_demo_into(&db).await;
            db.close().await;
            let name = format!("{prefix}{}", now_secs());
            Sql::new(&format!("alter database {partial} rename to {name}"))
                .execute(&mut conn.conn())
                .await
                .expect("demo template into place");
            for (other,) in &databases {
                let made_at = other.rsplit('_').next().and_then(|s| s.parse::<u64>().ok());
                if made_at.is_some_and(|at| at + STALE_TEMPLATE_SECS < now_secs()) {
                    let _ = Sql::new(&format!("drop database if exists {other}"))
                        .execute(&mut conn.conn())
                        .await;
                }
            }
            name
        }
    };
    Sql::new("select pg_advisory_unlock(7355610)")
        .execute(&mut conn.conn())
        .await
        .expect("template unlock");
    drop(conn);
    admin.close().await;
    Some(template)
}

/// Defines one test per backend: `db_test!(name, |t| async move { … })` expands to
/// `name::sqlite` and `name::postgres`, each given a fresh `TestDb`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$t:ident| $body:expr) => {
        $crate::db_test!(@made_by new, $name, |$t| $body);
    };
    (@made_by $make:ident, $name:ident, |$t:ident| $body:expr) => {
        mod $name {
            use super::*;

            async fn run($t: &$crate::common::TestDb) {
                $body.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::common::TestDb::$make(shezu::db::Backend::Sqlite)
                    .await
                    .unwrap();
                run(&t).await;
                t.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = $crate::common::TestDb::$make(shezu::db::Backend::Postgres).await
                else {
                    return;
                };
                run(&t).await;
                t.cleanup().await;
            }
        }
    };
}

/// As [`db_test!`], each backend's test given a fresh copy of the demo district
/// ([`TestDb::with_demo`]).
#[macro_export]
macro_rules! demo_test {
    ($name:ident, |$t:ident| $body:expr) => {
        $crate::db_test!(@made_by with_demo, $name, |$t| $body);
    };
}

/// The boundary of the multipart bodies tests send.
pub const MULTIPART_BOUNDARY: &str = "shezu-test-boundary-7355608";

/// A `multipart/form-data` body: text `fields`, then `file` (field name, file name, bytes).
pub fn multipart_body(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Vec<u8> {
    let boundary = MULTIPART_BOUNDARY;
    let mut body: Vec<u8> = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    let (name, filename, bytes) = file;
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// The password of every account the tests create.
pub const PASSWORD: &str = "test-password-2014";

/// The router, ready for requests, with the cookie and CSRF token of a signed-in browser.
#[derive(Clone)]
pub struct TestApp {
    router: Router,
    /// The session cookie (`shezu_session=…`), once signed in.
    pub cookie: Option<String>,
    /// The session's CSRF token, added to every form post.
    pub csrf: Option<String>,
}

/// An answer: status, headers and body text.
pub struct Answer {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: axum::http::HeaderMap,
    /// Body as text.
    pub body: String,
    /// Body as it came (for downloads that are not text).
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The cookies the answer sets, as a `Cookie` request header value.
    pub fn cookies(&self) -> String {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The `Location` header of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl TestApp {
    /// The app over `state`, as an anonymous visitor from 127.0.0.1.
    pub fn on(state: AppState) -> TestApp {
        TestApp {
            router: router(state).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000)))),
            cookie: None,
            csrf: None,
        }
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(&self, req: Request<Body>) -> Answer {
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    /// Signs in through the login form and keeps the session like a browser.
    pub async fn signed_in(mut self, username: &str, password: &str) -> TestApp {
        let res = self
            .post_form("/login", &[("username", username), ("password", password)])
            .await;
        assert_eq!(
            res.status,
            StatusCode::SEE_OTHER,
            "sign-in of {username} failed: {}",
            res.body
        );
        let cookie = res
            .cookies()
            .split("; ")
            .find(|c| c.starts_with("shezu_session="))
            .expect("session cookie")
            .to_owned();
        self.cookie = Some(cookie);
        let page = self.get("/account").await;
        let marker = "name=\"_csrf\" value=\"";
        let start = page
            .body
            .find(marker)
            .expect("csrf field on the account page")
            + marker.len();
        let end = start + page.body[start..].find('"').unwrap();
        self.csrf = Some(page.body[start..end].to_owned());
        self
    }

    fn request(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "127.0.0.1:8080");
        if let Some(c) = &self.cookie {
            b = b.header(header::COOKIE, c.as_str());
        }
        b
    }

    /// `GET uri`.
    pub async fn get(&self, uri: &str) -> Answer {
        self.send(self.request("GET", uri).body(Body::empty()).unwrap())
            .await
    }

    /// `GET uri` with extra headers.
    pub async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> Answer {
        let mut b = self.request("GET", uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    /// Follows a redirect the way a browser does, sending the cookies it set (flash messages).
    pub async fn follow(&self, redirect: &Answer) -> Answer {
        let mut cookies = redirect.cookies();
        if let Some(c) = &self.cookie {
            cookies = format!("{c}; {cookies}");
        }
        self.send(
            Request::get(redirect.location())
                .header(header::HOST, "127.0.0.1:8080")
                .header(header::COOKIE, cookies)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// `POST uri` with a urlencoded form, adding the session's CSRF token like our pages do.
    pub async fn post_form(&self, uri: &str, fields: &[(&str, &str)]) -> Answer {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if let Some(token) = &self.csrf {
            all.push(("_csrf", token.as_str()));
        }
        self.post_raw(uri, &all).await
    }

    /// `POST uri` as multipart with text fields and one file, the CSRF token in the query string
    /// as our upload forms send it.
    pub async fn post_file(
        &self,
        uri: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Answer {
        let boundary = MULTIPART_BOUNDARY;
        let body = multipart_body(fields, file);
        let uri = match &self.csrf {
            Some(token) => format!("{uri}?_csrf={token}"),
            None => uri.to_owned(),
        };
        self.send(
            self.request("POST", &uri)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// `POST uri` with exactly these fields (no CSRF token added).
    pub async fn post_raw(&self, uri: &str, fields: &[(&str, &str)]) -> Answer {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            self.request("POST", uri)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }
}

/// Percent-encodes a form value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
