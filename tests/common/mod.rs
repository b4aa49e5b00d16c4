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
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite:{}", dir.path().join("test.db").display());
                let db = Db::connect(&url).await.expect("open sqlite");
                Some(TestDb {
                    db,
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                })
            }
            Backend::Postgres => {
                let admin = match Db::connect(&pg_admin_url()).await {
                    Ok(db) => db,
                    Err(e) => {
                        if std::env::var("CI").is_ok_and(|v| v == "true") {
                            panic!("PostgreSQL is required under CI=true but unreachable: {e}");
                        }
                        eprintln!("SKIPPED on PostgreSQL (unreachable: {e}); set SHEZU_TEST_PG");
                        return None;
                    }
                };
                let name = format!(
                    "shezu_test_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                );
                let mut conn = admin.acquire().await.expect("pg admin connection");
                shezu::db::Sql::new(&format!("create database {name}"))
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

/// Defines one test per backend: `db_test!(name, |t| async move { … })` expands to
/// `name::sqlite` and `name::postgres`, each given a fresh `TestDb`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$t:ident| $body:expr) => {
        mod $name {
            use super::*;

            async fn run($t: &$crate::common::TestDb) {
                $body.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::common::TestDb::new(shezu::db::Backend::Sqlite)
                    .await
                    .unwrap();
                run(&t).await;
                t.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = $crate::common::TestDb::new(shezu::db::Backend::Postgres).await
                else {
                    return;
                };
                run(&t).await;
                t.cleanup().await;
            }
        }
    };
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
        let boundary = "shezu-test-boundary-7355608";
        let mut body: Vec<u8> = Vec::new();
        for (k, v) in fields {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        let (name, filename, bytes) = file;
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend(bytes);
        body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
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
