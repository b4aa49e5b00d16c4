//! The national dataset (`shezu demo --scale N`), on both databases: exactly N organizations
//! with valid, unique codes in county-level areas of the national tree; the same seed gives the
//! same rows and another seed other rows; the directory, facets, search, area pages and stats
//! answer over it; a database that is not empty is refused and left as it was.

use crate::common::{TestDb, encode};
use crate::db_test;
use axum::http::StatusCode;
use sha2::{Digest, Sha256};
use shezu::db::Sql;
use shezu::demo::national;
use shezu::registry::uscc::Uscc;
use std::collections::{BTreeMap, HashSet};

const N: usize = 2_000;

/// The organization columns the digest covers.
type OrgDigestRow = (
    i64,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
);

/// A digest of every generated row that matters (organizations with their search keys, areas,
/// annual reports, volunteers and service records), in id order.
async fn digest(t: &TestDb) -> String {
    let mut c = t.db.acquire().await.unwrap();
    let mut h = Sha256::new();
    let orgs: Vec<OrgDigestRow> = Sql::new(
        "select o.id, o.uscc, o.name, o.kind, a.code, o.status, o.address, o.grade, s.pinyin, o.legal_representative from organizations o join areas a on a.id = o.area_id join org_search s on s.org_id = o.id order by o.id",
    )
    .fetch_all(&mut c.conn())
    .await
    .unwrap();
    h.update(format!("{orgs:?}"));
    let dates: Vec<(i64, String)> =
        Sql::new("select id, cast(registered_on as text) from organizations order by id")
            .fetch_all(&mut c.conn())
            .await
            .unwrap();
    h.update(format!("{dates:?}"));
    let reports: Vec<(i64, i64, i64, i64, String)> = Sql::new(
        "select id, org_id, year, income_total_fen, activities from annual_reports order by id",
    )
    .fetch_all(&mut c.conn())
    .await
    .unwrap();
    h.update(format!("{reports:?}"));
    let volunteers: Vec<(i64, i64, String, String)> =
        Sql::new("select id, org_id, name, id_masked from volunteers order by id")
            .fetch_all(&mut c.conn())
            .await
            .unwrap();
    h.update(format!("{volunteers:?}"));
    let services: Vec<(i64, i64, i64, String)> =
        Sql::new("select id, volunteer_id, tenth_hours, state from volunteer_services order by id")
            .fetch_all(&mut c.conn())
            .await
            .unwrap();
    h.update(format!("{services:?}"));
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

db_test!(
    national_dataset_is_exact_valid_and_answers,
    |t| async move {
        let summary = national::generate(&t.db, N, 7, &mut |_| {}).await.unwrap();
        let rows: BTreeMap<&str, u64> = summary.rows.iter().copied().collect();
        assert_eq!(rows["organizations"], N as u64);
        assert_eq!(rows["areas"], 3_349);
        assert_eq!(
            count(t, "select count(*) from organizations").await,
            N as i64
        );
        assert_eq!(count(t, "select count(*) from org_search").await, N as i64);
        for (table, n) in &rows {
            assert_eq!(
                count(t, &format!("select count(*) from {table}")).await,
                *n as i64,
                "{table}"
            );
        }
        assert!(
            rows["annual_reports"] > 0 && rows["volunteer_services"] > 0,
            "{rows:?}"
        );

        // Codes: every registered organization has one, valid and unique, carrying the county (or
        // for a foundation the province) it was registered in; filed ones have none.
        let mut c = t.db.acquire().await.unwrap();
        let codes: Vec<(Option<String>, String, String, String)> = Sql::new(
        "select o.uscc, o.kind, a.code, p.code from organizations o join areas a on a.id = o.area_id join area_closure c on c.descendant_id = a.id and c.distance = 2 join areas p on p.id = c.ancestor_id",
    )
    .fetch_all(&mut c.conn())
    .await
    .unwrap();
        drop(c);
        assert_eq!(codes.len(), N, "every area is two levels below a province");
        let mut seen = HashSet::new();
        for (code, kind, county, province) in &codes {
            match (code, kind.as_str()) {
                (None, "community") => {}
                (Some(code), _) => {
                    let u = Uscc::parse(code).unwrap_or_else(|e| panic!("{code}: {e:?}"));
                    let authority = if kind == "foundation" {
                        province
                    } else {
                        county
                    };
                    assert_eq!(u.division(), authority, "{code}");
                    assert!(seen.insert(code.clone()), "duplicate {code}");
                }
                other => panic!("unexpected code for {other:?}"),
            }
        }
        // Each organization sits in a county-level area of the national tree.
        assert_eq!(
        count(t, "select count(*) from organizations o join areas a on a.id = o.area_id where a.level = 'district'").await,
        N as i64
    );
        assert_eq!(
        count(t, "select count(*) from organizations o join area_closure c on c.descendant_id = o.area_id join areas r on r.id = c.ancestor_id where r.parent_id is null and r.level = 'nation'").await,
        N as i64
    );
        // Annual reports belong to registered organizations only.
        assert_eq!(
        count(t, "select count(*) from annual_reports r join organizations o on o.id = r.org_id where o.kind = 'community'").await,
        0
    );

        // The public directory lists every organization; facet counts equal SQL counts.
        let app = t.app();
        let res = app
            .get("/api/v1/organizations?facets=kind,status&per_page=5")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let json = res.json();
        assert_eq!(json["total"].as_i64(), Some(N as i64));
        for kind in [
            "social_group",
            "private_non_enterprise",
            "foundation",
            "community",
        ] {
            let sql = count(
                t,
                &format!("select count(*) from organizations where kind = '{kind}'"),
            )
            .await;
            assert_eq!(
                json["facets"]["kind"][kind].as_i64().unwrap_or(0),
                sql,
                "{kind}"
            );
        }
        let active = count(
            t,
            "select count(*) from organizations where status = 'active'",
        )
        .await;
        assert_eq!(json["facets"]["status"]["active"].as_i64(), Some(active));
        // A province filter counts its subtree.
        let beijing = count(t, "select count(*) from organizations o join areas a on a.id = o.area_id where a.code like '11%'").await;
        let res = app.get("/api/v1/organizations?area=110000").await;
        assert_eq!(res.json()["total"].as_i64(), Some(beijing), "{}", res.body);
        // A generated name is found by search.
        let mut c = t.db.acquire().await.unwrap();
        let (name,): (String,) = Sql::new("select name from organizations where id = $1")
            .arg(N as i64 / 2)
            .fetch_one(&mut c.conn())
            .await
            .unwrap();
        drop(c);
        let found = app
            .get(&format!("/api/v1/organizations?q={}", encode(&name)))
            .await
            .json();
        assert_eq!(
            found["items"][0]["name"].as_str(),
            Some(name.as_str()),
            "{found}"
        );
        let page = app.get(&format!("/orgs?q={}", encode(&name))).await;
        assert!(page.body.contains(&name));
        // The area tree answers at every level, and the nationwide administrator browses it all.
        let area = app.get("/api/v1/areas/110108").await.json();
        assert_eq!(area["level"], "district", "{area}");
        let province = app.get("/api/v1/areas/440000").await.json();
        assert_eq!(province["level"], "province", "{province}");
        let admin = t
            .app()
            .signed_in(national::ROOT_ADMIN, shezu::demo::DEMO_PASSWORD)
            .await;
        for uri in [
            "/admin/orgs?area=110000",
            "/admin/stats",
            "/stats",
            "/admin/orgs",
        ] {
            let res = admin.get(uri).await;
            assert_eq!(res.status, StatusCode::OK, "{uri}");
        }
        assert!(
            admin.get("/admin/orgs").await.body.contains("北京市"),
            "area picker"
        );

        // A second generation into the same database is refused and changes nothing.
        let again = national::generate(&t.db, 10, 7, &mut |_| {}).await;
        assert!(
            matches!(again, Err(shezu::demo::DemoError::NotEmpty)),
            "{again:?}"
        );
        assert_eq!(
            count(t, "select count(*) from organizations").await,
            N as i64
        );

        // Same seed, same rows; another seed, other rows.
        let first = digest(t).await;
        let same = TestDb::new(t.db.backend()).await.unwrap();
        national::generate(&same.db, N, 7, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(digest(&same).await, first);
        same.cleanup().await;
        let other = TestDb::new(t.db.backend()).await.unwrap();
        national::generate(&other.db, N, 8, &mut |_| {})
            .await
            .unwrap();
        assert_ne!(digest(&other).await, first);
        other.cleanup().await;
    }
);

#[tokio::test]
async fn cli_refuses_a_database_that_is_not_empty() {
    let t = TestDb::new(shezu::db::Backend::Sqlite).await.unwrap();
    national::generate(&t.db, 50, 1, &mut |_| {}).await.unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shezu"))
        .args(["demo", "--scale", "100", "--database", &t.url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("数据库不是空的"), "{err}");
    assert_eq!(count(&t, "select count(*) from organizations").await, 50);
    t.cleanup().await;
}
