//! Two app servers on one database (PostgreSQL, and SQLite: two processes share the WAL file).
//! Each keeps its own in-memory facet index; a write through server A must show in server B's
//! search results, exact total and facet counts on B's very next request — no sleeping, no
//! polling — and the counts must equal what SQL counts in the database.

use super::{Server, Session};
use crate::common::TestDb;
use crate::db_test;
use serde_json::Value;
use shezu::db::Sql;
use std::collections::BTreeMap;
use std::time::Instant;

/// A staff form for an organization in Tanggu's Ziyun community.
fn form<'a>(name: &'a str, kind: &'a str, status: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("kind", kind),
        ("domain", "culture"),
        ("supervisory_unit", "滨海新区民政局"),
        ("legal_representative", "张秀英"),
        ("area_code", "120116001016"),
        ("registered_on", "2014-05-06"),
        ("status", status),
    ]
}

/// Creates an organization through `staff`'s server; its id.
fn create(staff: &Session, fields: &[(&str, &str)]) -> i64 {
    let reply = staff.post("/admin/orgs", fields);
    assert_eq!(reply.status, 303, "create: {}", reply.body);
    reply
        .location()
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("redirect to the new record")
}

/// Edits organization `id` through `staff`'s server (the form carries the current version).
async fn edit(t: &TestDb, staff: &Session, id: i64, fields: &[(&str, &str)]) {
    let mut c = t.db.acquire().await.unwrap();
    let (version, uscc): (i64, Option<String>) =
        Sql::new("select version, uscc from organizations where id = $1")
            .arg(id)
            .fetch_one(&mut c.conn())
            .await
            .unwrap();
    let version = version.to_string();
    let uscc = uscc.unwrap_or_default();
    let mut all = fields.to_vec();
    all.push(("version", &version));
    all.push(("uscc", &uscc));
    let reply = staff.post(&format!("/admin/orgs/{id}"), &all);
    assert_eq!(reply.status, 303, "edit {id}: {}", reply.body);
}

/// What the database says: the total and the kind, status and domain counts of the whole
/// registry (the public sees every organization), and the ids whose name contains `term`.
async fn sql_truth(
    t: &TestDb,
    term: &str,
) -> (i64, BTreeMap<String, BTreeMap<String, i64>>, Vec<i64>) {
    let mut c = t.db.acquire().await.unwrap();
    let total = Sql::new("select count(*) from organizations")
        .fetch_i64(&mut c.conn())
        .await
        .unwrap();
    let mut facets = BTreeMap::new();
    for (facet, sql) in [
        (
            "kind",
            "select kind, count(*) from organizations group by kind",
        ),
        (
            "status",
            "select status, count(*) from organizations group by status",
        ),
        (
            "domain",
            "select d.code, count(*) from organizations o join domains d on d.id = o.domain_id group by d.code",
        ),
    ] {
        let rows: Vec<(String, i64)> = Sql::new(sql).fetch_all(&mut c.conn()).await.unwrap();
        facets.insert(facet.to_owned(), rows.into_iter().collect());
    }
    let ids: Vec<(i64,)> = Sql::new("select id from organizations where name like $1 order by id")
        .arg(format!("%{term}%"))
        .fetch_all(&mut c.conn())
        .await
        .unwrap();
    (total, facets, ids.into_iter().map(|(id,)| id).collect())
}

/// The facet counts of an API answer, as the SQL truth spells them.
fn api_facets(page: &Value) -> BTreeMap<String, BTreeMap<String, i64>> {
    serde_json::from_value(page["facets"].clone()).expect("facets object")
}

fn api_ids(page: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

const ALL: &str = "/api/v1/organizations?facets=kind,status,domain&per_page=100";
const SEARCH: &str =
    "/api/v1/organizations?q=%E7%B4%AB%E4%BA%91&facets=kind,status,domain&per_page=100";
const TERM: &str = "紫云";

db_test!(
    a_write_through_one_server_shows_on_the_next_request_to_another,
    |t| async move {
        crate::registry::load_areas(t).await;
        t.user("registrar1", "registrar", None, None).await;
        let a = Server::start(&t.url, None);
        let b = Server::start(&t.url, None);
        let staff = a.sign_in("registrar1");
        let preparing = create(&staff, &form("紫云书画研究会", "social_group", "preparing"));
        let active = create(
            &staff,
            &form("紫云园社区养老服务中心", "private_non_enterprise", "active"),
        );
        create(&staff, &form("紫云园社区读书会", "community", "active"));
        create(&staff, &form("新港街道象棋协会", "community", "active"));

        // Warm B: its index is built and the answers below are remembered at this sequence.
        let (total, facets, matched) = sql_truth(t, TERM).await;
        for path in [ALL, SEARCH, "/orgs", "/orgs?q=%E7%B4%AB%E4%BA%91", "/"] {
            assert_eq!(b.get(path).status, 200, "warming {path}");
        }
        let warm = b.json(SEARCH);
        assert_eq!(api_ids(&warm), matched);
        assert_eq!(warm["total"], matched.len() as i64);
        let warm_all = b.json(ALL);
        assert_eq!(
            (warm_all["total"].as_i64().unwrap(), api_facets(&warm_all)),
            (total, facets)
        );
        let started = Instant::now();
        let _ = b.json(ALL);
        let warm_ms = started.elapsed().as_secs_f64() * 1000.0;

        // 1. A new organization through A; B's very next request is the remembered search.
        let created = create(&staff, &form("紫云园社区舞蹈队", "community", "active"));
        let written = Instant::now();
        let after = b.json(SEARCH);
        let first_ms = written.elapsed().as_secs_f64() * 1000.0;
        let (total, facets, matched) = sql_truth(t, TERM).await;
        assert!(matched.contains(&created));
        assert_eq!(
            api_ids(&after),
            matched,
            "B's search sees A's new organization"
        );
        assert_eq!(after["total"], matched.len() as i64);
        assert_eq!(
            after["facets"]["kind"]["community"],
            warm["facets"]["kind"]["community"].as_i64().unwrap() + 1,
            "the kind facet moved by exactly one"
        );

        // 2. A kind change and a deregistration through A; B's next request is the remembered
        //    unfiltered page with its facets.
        let mut changed = form("紫云书画研究会", "private_non_enterprise", "preparing");
        changed.push(("reason", "改为民办非企业单位筹备"));
        edit(t, &staff, preparing, &changed).await;
        let mut gone = form(
            "紫云园社区养老服务中心",
            "private_non_enterprise",
            "deregistered",
        );
        gone.push(("reason", "注销登记"));
        edit(t, &staff, active, &gone).await;
        let after_all = b.json(ALL);
        let (total2, facets2, _) = sql_truth(t, TERM).await;
        assert_eq!(total2, total, "edits add no organization");
        assert_eq!(after_all["total"].as_i64().unwrap(), total2);
        assert_eq!(
            api_facets(&after_all),
            facets2,
            "B's facets equal SQL's counts"
        );
        let kind = |f: &BTreeMap<String, BTreeMap<String, i64>>, k: &str| {
            f["kind"].get(k).copied().unwrap_or(0)
        };
        let status = |f: &BTreeMap<String, BTreeMap<String, i64>>, s: &str| {
            f["status"].get(s).copied().unwrap_or(0)
        };
        assert_eq!(
            kind(&facets2, "social_group"),
            kind(&facets, "social_group") - 1
        );
        assert_eq!(
            kind(&facets2, "private_non_enterprise"),
            kind(&facets, "private_non_enterprise") + 1
        );
        assert_eq!(
            status(&facets2, "deregistered"),
            status(&facets, "deregistered") + 1
        );
        assert_eq!(status(&facets2, "active"), status(&facets, "active") - 1);

        // 3. The public directory page on B filters by the new status at once.
        let page = b.get("/orgs?status=deregistered");
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("紫云园社区养老服务中心"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("紫云园社区读书会"));
        // And A, which made the writes, agrees with B.
        assert_eq!(api_facets(&a.json(ALL)), facets2);
        eprintln!(
            "two servers ({:?}): B answered the first request after A's write in {first_ms:.1} ms \
         (a warm request: {warm_ms:.1} ms)",
            t.db.backend()
        );
        drop(staff);
        drop((a, b));
    }
);
