//! `GET /api/v1/stats/summary`: SPEC §4's figures counted from the demo's records, on both
//! databases; the registry figures as of a year's end.

use crate::common::TestApp;
use crate::db_test;
use axum::http::StatusCode;

async fn summary(app: &TestApp, query: &str) -> serde_json::Value {
    let res = app.get(&format!("/api/v1/stats/summary?{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

/// The keys of SPEC §7, in its order.
const KEYS: [&str; 27] = [
    "organizations_total",
    "registered_total",
    "social_groups",
    "private_non_enterprise_units",
    "foundations",
    "filed_community_orgs",
    "party_orgs_independent",
    "party_branches_joint",
    "party_instructors",
    "party_funding_yuan",
    "federations",
    "communities_total",
    "communities_with_liaison_point",
    "direct_registrations",
    "inspection_rate",
    "inspection_pass_rate",
    "organizations_evaluated",
    "social_workers",
    "professionals",
    "incubated_graduated",
    "incubating",
    "venture_budget_yuan",
    "venture_domains",
    "venture_proposals",
    "venture_funded",
    "volunteer_hours",
    "donations_yuan",
];

db_test!(
    the_summary_of_2014_is_spec_section_4_counted_from_records,
    |t| async move {
        shezu::demo::load(&t.db, shezu::demo::DEFAULT_SEED)
            .await
            .unwrap();
        let app = t.app();
        let s = summary(&app, "year=2014").await;
        let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = KEYS.to_vec();
        expected.sort();
        let mut got = keys.clone();
        got.sort();
        assert_eq!(got, expected, "exactly the keys of SPEC §7");
        let exact = [
            ("organizations_total", 2355),
            ("registered_total", 624),
            ("social_groups", 326),
            ("private_non_enterprise_units", 297),
            ("foundations", 1),
            ("filed_community_orgs", 1731),
            ("party_orgs_independent", 214),
            ("party_branches_joint", 49),
            ("party_instructors", 43),
            ("federations", 19),
            ("direct_registrations", 15),
            ("organizations_evaluated", 121),
            ("professionals", 20),
            ("incubated_graduated", 4),
            ("incubating", 3),
            ("venture_budget_yuan", 3_000_000),
            ("venture_domains", 10),
            ("venture_proposals", 84),
            ("venture_funded", 32),
        ];
        for (key, value) in exact {
            assert_eq!(s[key].as_f64(), Some(value as f64), "{key}");
        }
        let f = |key: &str| s[key].as_f64().unwrap();
        assert!(f("party_funding_yuan") > 1_200_000.0);
        assert_eq!(s["communities_with_liaison_point"], s["communities_total"]);
        assert!(f("communities_total") > 500.0);
        assert_eq!(f("inspection_rate"), 1.0);
        assert_eq!(f("inspection_pass_rate"), 1.0);
        assert!(
            f("social_workers") * 30.0 >= f("organizations_total"),
            "one social worker per 30 organizations"
        );
        assert!(f("volunteer_hours") > 700_000.0);
        assert!(f("donations_yuan") > 10_000_000.0);
        let y2013 = summary(&app, "year=2013").await;
        assert_eq!(y2013["inspection_rate"], 1.0);
        assert_eq!(y2013["inspection_pass_rate"], 1.0);

        // Bad parameters are named.
        let bad = app.get("/api/v1/stats/summary?year=20x4").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("year"));
        let bad = app.get("/api/v1/stats/summary?area=999999").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

        // A street's figures are part of the district's.
        let tanggu = summary(&app, "area=120116001&year=2014").await;
        assert!(tanggu["organizations_total"].as_i64().unwrap() < 2355);
        assert!(tanggu["organizations_total"].as_i64().unwrap() > 0);

        // As of the year's end: deregistering a social group in 2015 leaves 2014 as it was
        // and moves 2015.
        let before_2015 = summary(&app, "year=2015").await;
        let mut c = t.db.acquire().await.unwrap();
        let (id,): (i64,) = shezu::db::Sql::new(
            "select id from organizations where kind = 'social_group' and status = 'active' order by id limit 1",
        )
        .fetch_one(&mut c.conn())
        .await
        .unwrap();
        let row = shezu::registry::store::find(
            &mut c.conn(),
            &shezu::auth::Scope::All,
            shezu::registry::OrgId(id),
        )
        .await
        .unwrap()
        .unwrap();
        drop(c);
        let mut form = shezu::registry::OrgForm::from_row(&row);
        form.status = "deregistered".into();
        let mut tx = t.db.begin().await.unwrap();
        shezu::registry::store::update(
            &mut tx.conn(),
            &shezu::auth::Scope::All,
            &shezu::audit::Actor::system("tester"),
            "2015-03-02T02:00:00Z".parse().unwrap(),
            row.org_id(),
            row.version,
            &form.parse().unwrap(),
            Some("注销"),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let after_2014 = summary(&app, "year=2014").await;
        assert_eq!(after_2014["social_groups"], 326, "2014 is history");
        assert_eq!(after_2014["organizations_total"], 2355);
        let after_2015 = summary(&app, "year=2015").await;
        assert_eq!(
            after_2015["social_groups"].as_i64().unwrap(),
            before_2015["social_groups"].as_i64().unwrap() - 1
        );
    }
);
