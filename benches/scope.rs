//! What area scope costs: the back-office organization list (page 1 with its exact total) on
//! the demo district, for callers with different scopes, measured in process through the whole
//! router (session lookup, scoped SQL, template) and at the store alone. Prints p50/p99.
//!
//!     cargo bench --bench scope            # SQLite, and PostgreSQL if reachable
//!
//! PostgreSQL is reached at SHEZU_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres);
//! a scratch database is created and dropped.

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::Request;
use chrono::Utc;
use http_body_util::BodyExt;
use shezu::app::{AppState, router};
use shezu::areas::AreaId;
use shezu::auth::{Scope, UserId};
use shezu::config::Settings;
use shezu::db::{Db, Sql};
use shezu::registry::store::{self, OrgFilter};
use shezu::web::Paging;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const ROUNDS: usize = 1000;

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i].as_secs_f64() * 1000.0
}

async fn area(db: &Db, code: &str) -> AreaId {
    let mut c = db.acquire().await.unwrap();
    shezu::areas::store::find_by_code(&mut c.conn(), code)
        .await
        .unwrap()
        .unwrap()
        .area_id()
}

async fn user_id(db: &Db, name: &str) -> UserId {
    let mut c = db.acquire().await.unwrap();
    UserId(
        shezu::auth::store::find_user_by_name(&mut c.conn(), name)
            .await
            .unwrap()
            .unwrap()
            .id,
    )
}

async fn run(label: &str, db: Db) {
    let started = Instant::now();
    shezu::db::migrate(&db).await.unwrap();
    shezu::demo::load(&db, shezu::demo::DEFAULT_SEED)
        .await
        .unwrap();
    println!(
        "\n{label}: demo loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let instructor_orgs = {
        let mut c = db.acquire().await.unwrap();
        let (rows, _) = store::list(
            &mut c.conn(),
            &Scope::All,
            &OrgFilter::default(),
            Paging::new(None, Some(30)),
            store::OrgOrder::Id,
        )
        .await
        .unwrap();
        rows.iter().map(|r| r.org_id()).collect::<Vec<_>>()
    };
    let scopes = [
        ("district (no predicate)", Scope::All),
        (
            "street 塘沽",
            Scope::areas(vec![area(&db, "120116001").await]),
        ),
        (
            "functional area 开发区",
            Scope::areas(vec![area(&db, "120116400").await]),
        ),
        (
            "community 紫云园",
            Scope::areas(vec![area(&db, "120116001016").await]),
        ),
        ("30 assigned organizations", Scope::orgs(instructor_orgs)),
    ];
    println!("{label}: store::list, page 1 (20 rows) + exact total, {ROUNDS} rounds each");
    println!(
        "  {:<28} {:>8} {:>9} {:>9}",
        "scope", "total", "p50 ms", "p99 ms"
    );
    for (name, scope) in &scopes {
        let mut samples = Vec::with_capacity(ROUNDS);
        let mut total = 0;
        for _ in 0..ROUNDS {
            let t = Instant::now();
            let mut c = db.acquire().await.unwrap();
            let (_, n) = store::list(
                &mut c.conn(),
                scope,
                &OrgFilter::default(),
                Paging::new(None, None),
                store::OrgOrder::LatestRecord,
            )
            .await
            .unwrap();
            samples.push(t.elapsed());
            total = n;
        }
        println!(
            "  {:<28} {:>8} {:>9.3} {:>9.3}",
            name,
            total,
            percentile(&mut samples, 0.5),
            percentile(&mut samples, 0.99)
        );
    }

    // Through the router: session lookup, permission, scoped list, template.
    let app = router(AppState::new(db.clone(), Settings::default()))
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    println!("{label}: GET /admin/orgs through the router, {ROUNDS} rounds each");
    println!("  {:<28} {:>9} {:>9}", "account", "p50 ms", "p99 ms");
    for name in ["registrar", "tanggu", "teda", "liaison", "instructor"] {
        let id = user_id(&db, name).await;
        let token = {
            let mut tx = db.begin().await.unwrap();
            let t = shezu::auth::store::start_session(&mut tx.conn(), id, Utc::now(), None, None)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            t
        };
        let mut samples = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let req = Request::get("/admin/orgs")
                .header("host", "127.0.0.1:8080")
                .header("cookie", format!("shezu_session={token}"))
                .body(Body::empty())
                .unwrap();
            let t = Instant::now();
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), 200);
            res.into_body().collect().await.unwrap();
            samples.push(t.elapsed());
        }
        println!(
            "  {:<28} {:>9.3} {:>9.3}",
            name,
            percentile(&mut samples, 0.5),
            percentile(&mut samples, 0.99)
        );
    }
    db.close().await;
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    run("SQLite", Db::connect(&url).await.unwrap()).await;

    let admin_url = std::env::var("SHEZU_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let Ok(admin) = Db::connect(&admin_url).await else {
        println!("\nPostgreSQL unreachable at {admin_url}: skipped");
        return;
    };
    let name = format!("shezu_bench_{}", std::process::id());
    let mut c = admin.acquire().await.unwrap();
    Sql::new(&format!("create database {name}"))
        .execute(&mut c.conn())
        .await
        .unwrap();
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    run(
        "PostgreSQL",
        Db::connect(&format!("{base}/{name}")).await.unwrap(),
    )
    .await;
    Sql::new(&format!("drop database {name} with (force)"))
        .execute(&mut c.conn())
        .await
        .unwrap();
}
