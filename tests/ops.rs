//! Operations: request ids on every answer, and readiness that follows the schema and the
//! server's stopping — on both databases.

use crate::common::TestApp;
use crate::db_test;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use shezu::config::Settings;
use shezu::db::Sql;

db_test!(every_answer_carries_a_request_id, |t| async move {
    let app = t.app();
    let id_of = |answer: &crate::common::Answer| {
        answer
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let first = id_of(&app.get("/").await);
    let second = id_of(&app.get("/api/v1/nothing").await);
    assert_eq!(first.len(), 16, "{first}");
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()), "{first}");
    assert_ne!(first, second, "each request its own id");

    // The reverse proxy's id is kept when it is a plain token, replaced otherwise.
    let with = |id: &str| {
        Request::get("/healthz")
            .header("x-request-id", id)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(id_of(&app.send(with("nginx-4f2a.9")).await), "nginx-4f2a.9");
    let forged = id_of(&app.send(with("x forged=1")).await);
    assert_eq!(forged.len(), 16, "{forged}");
});

db_test!(
    readiness_follows_the_schema_and_the_stopping_server,
    |t| async move {
        let state = t.state(Settings::default());
        let app = TestApp::on(state.clone());
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
        assert_eq!(ready.json()["ready"], true);

        // A schema behind the code (a migration not applied): not ready.
        let mut c = t.db.acquire().await.unwrap();
        let newest = Sql::new("select max(version) from schema_migrations")
            .fetch_i64(&mut c.conn())
            .await
            .unwrap();
        let renumber = |from: i64, to: i64| {
            Sql::new("update schema_migrations set version = $1 where version = $2")
                .arg(to)
                .arg(from)
        };
        renumber(newest, newest + 1_000_000)
            .execute(&mut c.conn())
            .await
            .unwrap();
        let behind = app.get("/readyz").await;
        assert_eq!(behind.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(behind.json()["database"], false, "{}", behind.body);
        renumber(newest + 1_000_000, newest)
            .execute(&mut c.conn())
            .await
            .unwrap();
        drop(c);
        assert_eq!(app.get("/readyz").await.status, StatusCode::OK);

        // Asked to stop: no longer ready, while the process still answers.
        state.draining.start();
        let stopping = app.get("/readyz").await;
        assert_eq!(stopping.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(stopping.json()["accepting"], false);
        assert_eq!(app.get("/healthz").await.body, "ok");
    }
);

/// Keyless API answers to two callers behind the same proxy, `limit` requests a minute each:
/// the statuses of three requests from the first, then one from the second.
async fn behind_one_proxy(t: &crate::common::TestDb, trusted: &str) -> Vec<u16> {
    let settings = Settings {
        api_requests_per_minute: 2,
        trusted_proxies: if trusted.is_empty() {
            Vec::new()
        } else {
            vec![trusted.parse().unwrap()]
        },
        ..Settings::default()
    };
    let app = TestApp::on(t.state(settings));
    let from = |client: &str| {
        Request::get("/api/v1/areas")
            .header("x-forwarded-for", format!("198.51.100.9, {client}"))
            .body(Body::empty())
            .unwrap()
    };
    let mut statuses = Vec::new();
    for client in ["203.0.113.7", "203.0.113.7", "203.0.113.7", "203.0.113.8"] {
        statuses.push(app.send(from(client)).await.status.as_u16());
    }
    statuses
}

db_test!(
    behind_a_trusted_proxy_each_caller_has_its_own_limit,
    |t| async move {
        // The test peer is 127.0.0.1, where nginx would be.
        assert_eq!(
            behind_one_proxy(t, "127.0.0.1").await,
            [200, 200, 429, 200],
            "each forwarded caller counted on its own"
        );
        // Not trusted: the header is ignored and everyone shares the proxy's address.
        assert_eq!(behind_one_proxy(t, "").await, [200, 200, 429, 429]);
        assert_eq!(
            behind_one_proxy(t, "10.0.0.0/8").await,
            [200, 200, 429, 429]
        );
    }
);
