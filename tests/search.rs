//! Chinese search finds exactly what a brute-force scan over every name finds, on both
//! databases; facet counts equal brute-force counts; renames keep the former name findable and
//! the index moves with the registry's transaction.

use crate::common::TestDb;
use crate::db_test;
use crate::demo_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use chrono::Utc;
use shezu::auth::Scope;
use shezu::db::Sql;
use shezu::registry::search::SearchKeys;
use shezu::registry::store::{self, OrgFilter, OrgOrder};
use shezu::registry::{OrgForm, OrgId};
use shezu::web::Paging;
use std::collections::{BTreeMap, BTreeSet};

/// Every organization's id, kind and search keys, computed here from the registry and its
/// history (not read from the index).
async fn brute_force_keys(t: &TestDb) -> Vec<(i64, String, SearchKeys)> {
    let mut conn = t.db.acquire().await.unwrap();
    let mut c = conn.conn();
    let orgs: Vec<(i64, String, String)> =
        Sql::new("select id, name, kind from organizations order by id")
            .fetch_all(&mut c)
            .await
            .unwrap();
    let former: Vec<(i64, String)> = Sql::new(
        "select c.org_id, f.before_value from org_change_fields f join org_changes c on c.id = f.change_id where f.field = 'name' and f.before_value is not null",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    orgs.into_iter()
        .map(|(id, name, kind)| {
            let old: Vec<String> = former
                .iter()
                .filter(|(o, _)| *o == id)
                .map(|(_, n)| n.clone())
                .collect();
            (id, kind, SearchKeys::of(&name, &old))
        })
        .collect()
}

/// The ids the store returns for `q`, all pages at once.
async fn search_ids(t: &TestDb, q: &str) -> (BTreeSet<i64>, i64) {
    let mut conn = t.db.acquire().await.unwrap();
    let filter = OrgFilter {
        q: Some(q.to_owned()),
        ..OrgFilter::default()
    };
    let all = Paging {
        page: 1,
        per_page: 100_000,
    };
    let (rows, total) = store::list(
        &mut conn.conn(),
        &Scope::Public,
        &filter,
        all,
        OrgOrder::Relevance,
    )
    .await
    .unwrap();
    (rows.iter().map(|r| r.id).collect(), total)
}

demo_test!(
    search_matches_a_brute_force_scan_over_the_demo,
    |t| async move {
        let keys = brute_force_keys(t).await;
        for q in [
            "养老",
            "助学",
            "慈",
            "会",
            "jjhl",
            "yanglao",
            "養老",
            "居家养老服务",
            "协会 滨海",
            "ｊｊｈｌ",
            "zhuxue",
            "9",
            "(",
            "没有这样的名字",
        ] {
            let expected: BTreeSet<i64> = keys
                .iter()
                .filter(|(_, _, k)| k.matches(q))
                .map(|(id, _, _)| *id)
                .collect();
            let (found, total) = search_ids(t, q).await;
            assert_eq!(found, expected, "query {q}");
            assert_eq!(total, expected.len() as i64, "total for {q}");
        }
        // The seed's names are where a reader expects them.
        let (jjhl, _) = search_ids(t, "jjhl").await;
        let first = jjhl.iter().next().copied().unwrap();
        assert!(
            keys.iter()
                .any(|(id, _, k)| *id == first && k.name.starts_with("九九华龄")),
            "jjhl finds 九九华龄"
        );
        let (zhuxue, _) = search_ids(t, "助学").await;
        assert!(
            keys.iter()
                .any(|(id, _, k)| zhuxue.contains(id) && k.name == "爱之声公益助学联盟"),
            "助学 finds 爱之声公益助学联盟"
        );

        // Over HTTP: relevance puts the exact name first, and facet counts equal brute-force
        // counts under the query.
        let app = t.app();
        let res = app
            .get("/api/v1/organizations?q=%E5%85%BB%E8%80%81&facets=kind&per_page=5")
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let json = res.json();
        let mut by_kind: BTreeMap<String, i64> = BTreeMap::new();
        for (_, kind, k) in &keys {
            if k.matches("养老") {
                *by_kind.entry(kind.clone()).or_default() += 1;
            }
        }
        for (kind, n) in &by_kind {
            assert_eq!(json["facets"]["kind"][kind].as_i64(), Some(*n), "{kind}");
        }
        assert_eq!(
            json["total"].as_i64().unwrap(),
            by_kind.values().sum::<i64>()
        );
        let exact = app
            .get("/api/v1/organizations?q=%E4%B9%9D%E4%B9%9D%E5%8D%8E%E9%BE%84%E5%B1%85%E5%AE%B6%E5%85%BB%E8%80%81%E6%9C%8D%E5%8A%A1%E4%B8%AD%E5%BF%83")
            .await
            .json();
        assert_eq!(exact["items"][0]["name"], "九九华龄居家养老服务中心");
        facet_index_agrees_with_sql(t).await;
    }
);

/// The in-memory facet index gives the same totals and facet counts as SQL for a range of
/// filters, and follows writes made through another server at once.
async fn facet_index_agrees_with_sql(t: &TestDb) {
    use shezu::registry::facets::{FACETS, FacetIndex};
    use shezu::registry::{Grade, OrgKind, OrgStatus};
    let index = FacetIndex::default();
    let mut conn = t.db.acquire().await.unwrap();
    let mut c = conn.conn();
    let area = |code: &'static str| async move {
        let mut conn = t.db.acquire().await.unwrap();
        shezu::areas::store::find_by_code(&mut conn.conn(), code)
            .await
            .unwrap()
            .unwrap()
            .area_id()
    };
    let filters = vec![
        OrgFilter::default(),
        OrgFilter {
            kind: Some(OrgKind::SocialGroup),
            ..OrgFilter::default()
        },
        OrgFilter {
            area: Some(area("120116001").await),
            status: Some(OrgStatus::Active),
            ..OrgFilter::default()
        },
        OrgFilter {
            area: Some(area("120116001016").await),
            ..OrgFilter::default()
        },
        OrgFilter {
            domain: Some("elderly_care".into()),
            kind: Some(OrgKind::PrivateNonEnterprise),
            ..OrgFilter::default()
        },
        OrgFilter {
            q: Some("养老".into()),
            ..OrgFilter::default()
        },
        // Two terms: the second narrows, the first's relevance orders.
        OrgFilter {
            q: Some("协会 滨海".into()),
            ..OrgFilter::default()
        },
        OrgFilter {
            q: Some("会".into()),
            kind: Some(OrgKind::Community),
            area: Some(area("120116051").await),
            ..OrgFilter::default()
        },
        OrgFilter {
            grade: Some(Grade::A5),
            ..OrgFilter::default()
        },
    ];
    for filter in &filters {
        index.refresh(&mut c).await.unwrap();
        let candidates = if filter.terms().is_empty() {
            None
        } else {
            let from_index = shezu::registry::search::matching(&mut c, &filter.terms())
                .await
                .unwrap();
            // The SQL path: the same terms as a registry query, every page at once.
            let only_terms = OrgFilter {
                q: filter.q.clone(),
                ..OrgFilter::default()
            };
            let all = Paging {
                page: 1,
                per_page: 1_000_000,
            };
            let rows = store::list_page(&mut c, &Scope::Public, &only_terms, all, OrgOrder::Id)
                .await
                .unwrap();
            let from_sql: Vec<i64> = rows.iter().map(|r| r.id).collect();
            assert_eq!(from_index.ids, from_sql, "{filter:?}");
            assert!(
                !from_sql.is_empty(),
                "{filter:?} matches nothing in the demo"
            );
            Some(from_index)
        };
        let from_index = index.count(
            filter,
            candidates.as_ref().map(|found| found.ids.as_slice()),
            filter.area,
            &FACETS,
        );
        let total = store::count(&mut c, &Scope::Public, filter).await.unwrap();
        let sql = shezu::registry::api::facets(&mut c, &Scope::Public, filter, &FACETS)
            .await
            .unwrap();
        assert_eq!(from_index.total, total, "{filter:?}");
        assert_eq!(from_index.facets, sql, "{filter:?}");
        // Pages in the orders the index keeps are the pages SQL gives.
        for order in [
            OrgOrder::Id,
            OrgOrder::LatestRecord,
            OrgOrder::Newest,
            OrgOrder::Name,
            OrgOrder::Relevance,
        ] {
            for page in [1, 2, 7] {
                let paging = Paging { page, per_page: 20 };
                let ids = index
                    .page(
                        filter,
                        candidates.as_ref(),
                        order,
                        (paging.offset() as usize, 20),
                        &[],
                        i64::MAX,
                    )
                    .unwrap();
                let rows = store::list_page(&mut c, &Scope::Public, filter, paging, order)
                    .await
                    .unwrap();
                let expected: Vec<i64> = rows.iter().map(|r| r.id).collect();
                assert_eq!(ids, expected, "{filter:?} {order:?} page {page}");
            }
        }
    }
    drop(conn);
    // Another server writes; this one's next count includes it.
    let before = t
        .app()
        .get("/api/v1/organizations?kind=private_non_enterprise")
        .await
        .json()["total"]
        .as_i64()
        .unwrap();
    let app = t.app();
    assert_eq!(
        app.get("/api/v1/organizations?kind=private_non_enterprise")
            .await
            .json()["total"],
        before
    );
    let form = OrgForm {
        name: "滨海新区慈善服务中心".into(),
        kind: "private_non_enterprise".into(),
        domain: "charity".into(),
        direct_registration: Some("on".into()),
        legal_representative: "赵刚".into(),
        area_code: "120116001016".into(),
        registered_on: "2014-09-01".into(),
        ..OrgForm::default()
    };
    let mut tx = t.db.begin().await.unwrap();
    let created = store::create(
        &mut tx.conn(),
        &Scope::All,
        &shezu::audit::Actor::system("other-server"),
        Utc::now(),
        &form.parse().unwrap(),
        "120000",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let after = app
        .get("/api/v1/organizations?kind=private_non_enterprise&facets=area")
        .await
        .json();
    assert_eq!(after["total"].as_i64().unwrap(), before + 1);
    // It moves to 大港: both areas' counts follow.
    let in_area = |code: &'static str| {
        let app = &app;
        async move {
            app.get(&format!(
                "/api/v1/organizations?kind=private_non_enterprise&area={code}"
            ))
            .await
            .json()["total"]
                .as_i64()
                .unwrap()
        }
    };
    let (tanggu, dagang) = (in_area("120116001016").await, in_area("120116051").await);
    let mut moved = form.clone();
    moved.area_code = "120116051".into();
    moved.uscc = created.uscc.clone().unwrap();
    let mut tx = t.db.begin().await.unwrap();
    store::update(
        &mut tx.conn(),
        &Scope::All,
        &shezu::audit::Actor::system("other-server"),
        Utc::now(),
        created.org_id(),
        created.version,
        &moved.parse().unwrap(),
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(in_area("120116001016").await, tanggu - 1);
    assert_eq!(in_area("120116051").await, dagang + 1);

    // A change made outside shezu bypasses the audit log: a refresh cannot see it, the
    // periodic rebuild (in place, over the built columns) reads it.
    let mut conn = t.db.acquire().await.unwrap();
    let mut c = conn.conn();
    index.refresh(&mut c).await.unwrap();
    let social_groups = OrgFilter {
        kind: Some(OrgKind::SocialGroup),
        ..OrgFilter::default()
    };
    let counted = |index: &FacetIndex| index.count(&social_groups, None, None, &FACETS);
    let before = counted(&index);
    let (outsider,): (i64,) = Sql::new(
        "select min(id) from organizations where kind = 'private_non_enterprise' and status = 'active'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    Sql::new("update organizations set kind = 'social_group', registered_on = '2099-01-01' where id = $1")
        .arg(outsider)
        .execute(&mut c)
        .await
        .unwrap();
    index.refresh(&mut c).await.unwrap();
    assert_eq!(
        counted(&index),
        before,
        "the audit log says nothing changed"
    );
    index.rebuild(&mut c).await.unwrap();
    let after = counted(&index);
    assert_eq!(after.total, before.total + 1);
    assert_eq!(
        after.total,
        store::count(&mut c, &Scope::Public, &social_groups)
            .await
            .unwrap()
    );
    assert_eq!(
        after.facets,
        shezu::registry::api::facets(&mut c, &Scope::Public, &social_groups, &FACETS)
            .await
            .unwrap()
    );
    // Its new registration date moved it to the front of the newest-first order.
    let newest = index
        .page(
            &OrgFilter::default(),
            None,
            OrgOrder::Newest,
            (0, 1),
            &[],
            i64::MAX,
        )
        .unwrap();
    assert_eq!(newest, vec![outsider]);
}

db_test!(
    a_rename_keeps_the_former_name_findable_and_rolls_back_with_the_write,
    |t| async move {
        load_areas(t).await;
        let form = OrgForm {
            name: "塘沽颐养老年服务社".into(),
            kind: "private_non_enterprise".into(),
            domain: "elderly_care".into(),
            supervisory_unit: "滨海新区民政局".into(),
            legal_representative: "张华".into(),
            area_code: "120116001".into(),
            registered_on: "2012-05-01".into(),
            ..OrgForm::default()
        };
        let actor = shezu::audit::Actor::system("tester");
        let mut tx = t.db.begin().await.unwrap();
        let row = store::create(
            &mut tx.conn(),
            &Scope::All,
            &actor,
            Utc::now(),
            &form.parse().unwrap(),
            "120116",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(search_ids(t, "养老").await.1, 1, "颐养老年 contains 养老");
        assert_eq!(search_ids(t, "tgyyln").await.1, 1);

        let mut renamed = form.clone();
        renamed.name = "塘沽乐龄助老服务社".into();
        renamed.uscc = row.uscc.clone().unwrap();
        let draft = renamed.parse().unwrap();
        // A rename rolled back leaves the index as it was.
        let mut tx = t.db.begin().await.unwrap();
        store::update(
            &mut tx.conn(),
            &Scope::All,
            &actor,
            Utc::now(),
            OrgId(row.id),
            row.version,
            &draft,
            None,
        )
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(search_ids(t, "助老").await.1, 0);

        let mut tx = t.db.begin().await.unwrap();
        store::update(
            &mut tx.conn(),
            &Scope::All,
            &actor,
            Utc::now(),
            OrgId(row.id),
            row.version,
            &draft,
            None,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(search_ids(t, "助老").await.1, 1, "the new name");
        assert_eq!(search_ids(t, "颐养").await.1, 1, "the former name");
        assert_eq!(search_ids(t, "樂齡").await.1, 1, "traditional characters");
        let code = row.uscc.unwrap();
        assert_eq!(search_ids(t, &code[..10]).await.1, 1, "credit-code prefix");
        assert_eq!(search_ids(t, &code.to_lowercase()).await.1, 1);
    }
);
