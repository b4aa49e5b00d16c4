//! A server started with `--database PRIMARY --read-database REPLICA`, where REPLICA is a real
//! physical streaming replica (hot standby) of the test server that `scripts/test` starts on
//! port 5433 (`SHEZU_TEST_PG_REPLICA`). Physical replication copies the whole cluster, so the
//! test's own database, created on the primary, appears on the replica once it is replayed.
//!
//! The proof that the public surfaces really read the replica: replay is paused on the replica
//! (`pg_wal_replay_pause()`), a registrar creates an organization through the server (it is
//! on the primary: SQL says so, and the staff record page shows it), and the public API and
//! directory of the same server do not know it; once replay resumes and the replica has
//! replayed the primary's WAL position, they do. The read pool's connections are also seen
//! in the replica's `pg_stat_activity` (application name `shezu-read`) and never in the
//! primary's.

use super::Server;
use crate::common::{TestDb, url_with_db};
use shezu::db::{Backend, Db, Sql};
use std::time::{Duration, Instant};

/// The replica's admin URL, or `None` (with a SKIPPED line) when none was started; under
/// `CI=true` a missing replica is a failure, as a missing PostgreSQL is.
fn replica_admin_url() -> Option<String> {
    match std::env::var("SHEZU_TEST_PG_REPLICA") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("SHEZU_TEST_PG_REPLICA is required under CI=true (scripts/test starts it)");
            }
            eprintln!("SKIPPED on PostgreSQL (no streaming replica: set SHEZU_TEST_PG_REPLICA)");
            None
        }
    }
}

/// Waits until the replica has replayed everything the primary has written so far (its replay
/// position reaches the primary's current WAL position). Polls the positions; gives up after
/// a minute.
async fn caught_up(primary: &Db, replica: &Db) {
    let mut p = primary.acquire().await.unwrap();
    let target = Sql::new("select pg_current_wal_lsn()::text")
        .fetch_one::<(String,)>(&mut p.conn())
        .await
        .unwrap()
        .0;
    drop(p);
    let started = Instant::now();
    loop {
        let mut r = replica.acquire().await.unwrap();
        let (done,): (bool,) =
            Sql::new("select coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)")
                .arg(target.as_str())
                .fetch_one(&mut r.conn())
                .await
                .unwrap();
        if done {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the replica did not replay up to {target} within a minute"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Resumes replay on the replica when dropped, so that a failing assertion does not leave it
/// paused for the rest of the run.
struct ResumeOnDrop(String);

impl Drop for ResumeOnDrop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args([&self.0, "-qAtc", "select pg_wal_replay_resume()"])
            .output();
    }
}

/// Connections named `name` to database `db` on a server.
async fn connections(server: &Db, name: &str, db: &str) -> i64 {
    let mut c = server.acquire().await.unwrap();
    Sql::new("select count(*) from pg_stat_activity where application_name = $1 and datname = $2")
        .arg(name)
        .arg(db)
        .fetch_i64(&mut c.conn())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_pages_read_the_streaming_replica_and_writes_go_to_the_primary() {
    let Some(replica_admin_url) = replica_admin_url() else {
        return;
    };
    let Some(t) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let replica_admin = Db::connect(&replica_admin_url)
        .await
        .expect("the streaming replica accepts connections");
    let db_name = t
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    crate::registry::load_areas(&t).await;
    t.user("registrar1", "registrar", None, None).await;
    // The test database, its schema, areas and account reach the replica.
    caught_up(&t.db, &replica_admin).await;
    let replica_url = url_with_db(&replica_admin_url, &db_name);
    let server = Server::start(&t.url, Some(&replica_url));
    let staff = server.sign_in("registrar1");
    let first = staff.post(
        "/admin/orgs",
        &[
            ("name", "紫云园社区读书会"),
            ("kind", "community"),
            ("domain", "culture"),
            ("supervisory_unit", "滨海新区民政局"),
            ("legal_representative", "张秀英"),
            ("area_code", "120116001016"),
            ("registered_on", "2014-05-06"),
        ],
    );
    assert_eq!(first.status, 303, "{}", first.body);
    caught_up(&t.db, &replica_admin).await;
    let before = server.json("/api/v1/organizations?facets=kind");
    assert_eq!(
        before["total"], 1,
        "the public API sees the replicated record"
    );
    assert_eq!(
        server.json("/api/v1/organizations?q=%E5%90%88%E5%94%B1")["total"],
        0,
        "nothing matches 合唱 (choir) yet"
    );

    // The read pool is connected to the replica, and only there.
    assert!(connections(&replica_admin, "shezu-read", &db_name).await >= 1);
    assert_eq!(connections(&t.db, "shezu-read", &db_name).await, 0);

    // Replay paused: what the registrar now writes reaches the primary only.
    let _resume = ResumeOnDrop(replica_admin_url.clone());
    {
        let mut r = replica_admin.acquire().await.unwrap();
        Sql::new("select pg_wal_replay_pause()")
            .execute(&mut r.conn())
            .await
            .unwrap();
        let started = Instant::now();
        loop {
            let (state,): (String,) = Sql::new("select pg_get_wal_replay_pause_state()")
                .fetch_one(&mut r.conn())
                .await
                .unwrap();
            if state == "paused" {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "replay did not pause"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let created = staff.post(
        "/admin/orgs",
        &[
            ("name", "紫云园社区合唱团"),
            ("kind", "community"),
            ("domain", "culture"),
            ("supervisory_unit", "滨海新区民政局"),
            ("legal_representative", "李明"),
            ("area_code", "120116001016"),
            ("registered_on", "2014-06-01"),
        ],
    );
    assert_eq!(
        created.status, 303,
        "the write goes to the primary: {}",
        created.body
    );
    let id: i64 = created
        .location()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut c = t.db.acquire().await.unwrap();
    assert_eq!(
        Sql::new("select count(*) from organizations")
            .fetch_i64(&mut c.conn())
            .await
            .unwrap(),
        2
    );
    drop(c);
    // Staff pages read the primary: the record and the staff search show it (and the staff
    // search moves the shared facet index to the primary's newest change).
    let record = staff.get(&format!("/admin/orgs/{id}"));
    assert_eq!(record.status, 200);
    assert!(record.body.contains("紫云园社区合唱团"));
    let staff_search = staff.get("/admin/orgs?q=%E5%90%88%E5%94%B1%E5%9B%A2");
    assert!(staff_search.body.contains("紫云园社区合唱团"));
    // The public surfaces read the paused replica: they do not know the record yet. (The
    // staff search above is remembered at the primary's newest change and would answer a
    // public search for the same words, so the public side searches another term, 合唱, whose
    // matches only the replica answers.)
    assert_eq!(
        server.get(&format!("/api/v1/organizations/{id}")).status,
        404
    );
    let lagging = server.json("/api/v1/organizations?q=%E5%90%88%E5%94%B1&facets=kind");
    assert_eq!(
        lagging["total"], 0,
        "the replica has not replayed the new record"
    );
    assert!(
        !server
            .get("/orgs?q=%E5%90%88%E5%94%B1")
            .body
            .contains("紫云园社区合唱团")
    );
    // The facet index does not go back to the replica's older state: the unfiltered total
    // still counts what the staff page read from the primary.
    assert_eq!(server.json("/api/v1/organizations?facets=kind")["total"], 2);

    // Replay resumed and caught up: the public surfaces show the record, on their next
    // request, with nothing else written in between (a search answer read from the lagging
    // replica was not remembered as current).
    {
        let mut r = replica_admin.acquire().await.unwrap();
        Sql::new("select pg_wal_replay_resume()")
            .execute(&mut r.conn())
            .await
            .unwrap();
    }
    let resumed = Instant::now();
    caught_up(&t.db, &replica_admin).await;
    let lag_ms = resumed.elapsed().as_secs_f64() * 1000.0;
    let found = server.json("/api/v1/organizations?q=%E5%90%88%E5%94%B1&facets=kind");
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["items"][0]["id"], id);
    assert_eq!(found["facets"]["kind"]["community"], 1);
    assert_eq!(
        server.get(&format!("/api/v1/organizations/{id}")).status,
        200
    );
    assert!(
        server
            .get("/orgs?q=%E5%90%88%E5%94%B1")
            .body
            .contains("紫云园社区合唱团")
    );
    assert_eq!(server.get(&format!("/orgs/{id}")).status, 200);
    eprintln!("replica caught up {lag_ms:.1} ms after replay resumed");
    drop(staff);
    drop(server);
    replica_admin.close().await;
    t.cleanup().await;
}
