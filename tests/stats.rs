//! `GET /api/v1/stats/summary`: SPEC §4's figures counted from the demo's records, on both
//! databases; the registry figures as of a year's end.

use crate::common::{TestApp, TestDb};
use crate::demo_test;
use axum::http::StatusCode;
use chrono::NaiveDate;
use shezu::areas::store::AreaRow;
use shezu::audit::Actor;
use shezu::auth::Scope;
use shezu::db::Sql;
use shezu::export::{Cell, ColumnKind, Table};
use shezu::i18n::Lang;
use shezu::stats::{Summary, catalogue};

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

demo_test!(
    the_summary_of_2014_is_spec_section_4_counted_from_records,
    |t| async move {
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

/// The area with division code `code` (the district when `None`).
async fn area_of(t: &TestDb, code: Option<&str>) -> AreaRow {
    let mut c = t.db.acquire().await.unwrap();
    let found = match code {
        None => shezu::areas::store::root(&mut c.conn()).await,
        Some(code) => shezu::areas::store::find_by_code(&mut c.conn(), code).await,
    };
    found.unwrap().unwrap()
}

/// The summary of `code` (the district when `None`) for `year`, as the desk computes it.
async fn summary_of(t: &TestDb, code: Option<&str>, year: i32) -> Summary {
    let area = area_of(t, code).await;
    let mut c = t.db.acquire().await.unwrap();
    shezu::stats::summary(&mut c.conn(), &area, year)
        .await
        .unwrap()
}

/// The drill-down of `key` for `code` and `year`, as the district-wide staff see it.
async fn drill(t: &TestDb, code: Option<&str>, key: &str, year: i32) -> Table {
    let area = area_of(t, code).await;
    let mut c = t.db.acquire().await.unwrap();
    shezu::stats::drill::records(&mut c.conn(), Lang::Zh, &Scope::All, key, &area, year)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{key} has a drill-down"))
}

/// Every key whose value differs between `before` and `after`, with the difference (rounded
/// to a hundredth, the finest unit of any figure).
fn moved(before: &Summary, after: &Summary) -> Vec<(&'static str, f64)> {
    catalogue::values(before)
        .into_iter()
        .zip(catalogue::values(after))
        .filter(|((_, b), (_, a))| a != b)
        .map(|((f, b), (_, a))| (f.key, ((a - b) * 100.0).round() / 100.0))
        .collect()
}

/// The number in the last column of the table's totals row.
fn total(table: &Table) -> f64 {
    table
        .totals
        .as_ref()
        .and_then(|t| t.last())
        .and_then(Cell::number)
        .unwrap_or_else(|| panic!("{} has a totals row", table.title))
}

/// The names (first column) of the table's rows.
fn names(table: &Table) -> Vec<String> {
    table
        .rows
        .iter()
        .map(|r| match &r[0] {
            Cell::Link(name, _) | Cell::Text(name) => name.clone(),
            other => panic!("a name, not {other:?}"),
        })
        .collect()
}

fn at(s: &str) -> shezu::db::Timestamp {
    s.parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn tester() -> Actor {
    Actor::system("tester")
}

/// Registers a social group located in the Tanggu street on `on` (recorded that morning).
async fn register(t: &TestDb, name: &str, on: &str) -> i64 {
    let draft = shezu::registry::OrgForm {
        name: name.into(),
        kind: "social_group".into(),
        domain: "culture".into(),
        supervisory_unit: "滨海新区民政局".into(),
        legal_representative: "钱进".into(),
        area_code: "120116001".into(),
        registered_on: on.into(),
        ..shezu::registry::OrgForm::default()
    }
    .parse()
    .unwrap();
    let mut tx = t.db.begin().await.unwrap();
    let row = shezu::registry::store::create(
        &mut tx.conn(),
        &Scope::All,
        &tester(),
        at(&format!("{on}T01:00:00Z")),
        &draft,
        "120116",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    row.id
}

/// Deregisters the first active, not directly registered organization of `kind` on `on`;
/// gives its id and name.
async fn deregister(t: &TestDb, kind: &str, on: &str) -> (i64, String) {
    let mut tx = t.db.begin().await.unwrap();
    let c = &mut tx.conn();
    let (id,): (i64,) = Sql::new("select id from organizations where kind = $1 and status = 'active' and direct_registration = $2 order by id limit 1")
        .arg(kind)
        .arg(false)
        .fetch_one(c)
        .await
        .unwrap();
    let row = shezu::registry::store::find(c, &Scope::All, shezu::registry::OrgId(id))
        .await
        .unwrap()
        .unwrap();
    let mut form = shezu::registry::OrgForm::from_row(&row);
    form.status = "deregistered".into();
    shezu::registry::store::update(
        c,
        &Scope::All,
        &tester(),
        at(&format!("{on}T02:00:00Z")),
        row.org_id(),
        row.version,
        &form.parse().unwrap(),
        Some("注销"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (id, row.name)
}

/// Records `tenths` of service by the first volunteer on `served`, confirmed and verified at
/// `verified`; gives the volunteer's organization.
async fn verified_service(t: &TestDb, served: &str, tenths: i64, verified: &str) -> i64 {
    use shezu::volunteers::Step;
    let mut tx = t.db.begin().await.unwrap();
    let c = &mut tx.conn();
    let (vid,): (i64,) = Sql::new("select min(id) from volunteers")
        .fetch_one(c)
        .await
        .unwrap();
    let volunteer = shezu::volunteers::store::volunteer(c, &Scope::All, vid)
        .await
        .unwrap();
    let new = shezu::volunteers::NewService {
        project: "邻里守望".into(),
        domain: shezu::volunteers::SERVICE_DOMAINS[0],
        served_on: day(served),
        tenth_hours: tenths,
    };
    let id = shezu::volunteers::store::record_service(
        c,
        &tester(),
        at(&format!("{served}T10:00:00Z")),
        &volunteer,
        &new,
    )
    .await
    .unwrap();
    for step in [Step::Confirm, Step::Verify] {
        let row = shezu::volunteers::store::service(c, &Scope::All, id)
            .await
            .unwrap();
        shezu::volunteers::store::take_step(c, &tester(), at(verified), &row, step, "")
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    volunteer.org_id
}

demo_test!(
    every_figure_drills_down_to_exactly_what_it_counts,
    |t| async move {
        // The district and a street: each count is the number of records listed, each amount
        // the list's total, each rate the marked rows over the rows.
        for code in [None, Some("120116001")] {
            let s = summary_of(t, code, 2014).await;
            for (f, figure) in catalogue::values(&s) {
                let table = drill(t, code, f.key, 2014).await;
                assert!(!table.columns.is_empty());
                for row in &table.rows {
                    assert_eq!(row.len(), table.columns.len(), "{}", f.key);
                }
                match f.kind {
                    ColumnKind::Count => {
                        assert_eq!(table.rows.len() as f64, figure, "{} of {code:?}", f.key)
                    }
                    ColumnKind::Money | ColumnKind::Decimal => assert!(
                        (total(&table) - figure).abs() < 0.005,
                        "{} of {code:?}: {} ≠ {figure}",
                        f.key,
                        total(&table)
                    ),
                    ColumnKind::Percent => {
                        let rows = table.rows.len() as i64;
                        let marked = total(&table) as i64;
                        let rate = shezu::inspection::store::permille(marked, rows)
                            .map_or(0.0, |p| p as f64 / 1000.0);
                        assert_eq!(rate, figure, "{} of {code:?}", f.key);
                        assert!(rows > 0, "{} of {code:?}", f.key);
                    }
                    ColumnKind::Text | ColumnKind::General => {
                        panic!("{} has no summary kind", f.key)
                    }
                }
            }
        }
        // SPEC §4's counts are the lists' lengths.
        for (key, n) in [
            ("social_groups", 326),
            ("party_orgs_independent", 214),
            ("party_branches_joint", 49),
            ("party_instructors", 43),
            ("federations", 19),
            ("direct_registrations", 15),
            ("organizations_evaluated", 121),
            ("incubated_graduated", 4),
            ("incubating", 3),
            ("venture_proposals", 84),
            ("venture_funded", 32),
            ("venture_domains", 10),
        ] {
            assert_eq!(drill(t, None, key, 2014).await.rows.len(), n, "{key}");
        }
        // Rows lead to the records' pages.
        let groups = drill(t, None, "social_groups", 2014).await;
        assert!(
            matches!(&groups.rows[0][0], Cell::Link(_, href) if href.starts_with("/admin/orgs/"))
        );
        let graduated = names(&drill(t, None, "incubated_graduated", 2014).await);
        assert!(
            graduated.contains(&"九九华龄居家养老服务中心".to_owned()),
            "{graduated:?}"
        );
        let incubating = names(&drill(t, None, "incubating", 2014).await);
        assert!(
            incubating.contains(&"鹤童老年服务中心".to_owned()),
            "{incubating:?}"
        );
        let funded = names(&drill(t, None, "venture_funded", 2014).await);
        assert!(funded.contains(&"幸福敲门".to_owned()), "{funded:?}");
        // A key the summary does not have has no drill-down.
        let root = area_of(t, None).await;
        let mut c = t.db.acquire().await.unwrap();
        let none = shezu::stats::drill::records(
            &mut c.conn(),
            Lang::Zh,
            &Scope::All,
            "no_such_key",
            &root,
            2014,
        )
        .await
        .unwrap();
        assert!(none.is_none());
        // A street officer's scope keeps another street's records out.
        let tanggu = shezu::auth::Scope::areas(vec![area_of(t, Some("120116001")).await.area_id()]);
        let mine = shezu::stats::drill::records(
            &mut c.conn(),
            Lang::Zh,
            &tanggu,
            "organizations_total",
            &root,
            2014,
        )
        .await
        .unwrap()
        .unwrap();
        drop(c);
        let street = drill(t, Some("120116001"), "organizations_total", 2014).await;
        assert_eq!(names(&mine), names(&street));
    }
);

demo_test!(
    the_2014_summary_stays_as_it_was_when_2015_is_entered,
    |t| async move {
        let before_2014 = summary_of(t, None, 2014).await;
        let before_2015 = summary_of(t, None, 2015).await;

        // The registry: a social group registered in 2015, a private non-enterprise unit
        // deregistered in 2015.
        let new_org = register(t, "滨海新区二〇一五年新设文化促进会", "2015-03-02").await;
        deregister(t, "private_non_enterprise", "2015-03-03").await;

        let mut tx = t.db.begin().await.unwrap();
        let c = &mut tx.conn();
        // Party building: the new group's own party organization set up in 2015, and an
        // instructor appointed in 2015 for an organization that had none.
        let new_party = shezu::party::NewPartyOrg {
            name: "滨海新区二〇一五年新设文化促进会党支部".into(),
            form: shezu::party::Form::Independent,
            level: shezu::party::Level::Branch,
            orgs: vec![new_org.to_string()],
            approved_by: "滨海新区社会组织党委".into(),
            established_on: day("2015-04-01"),
            secretary: "李红".into(),
            committee: String::new(),
            full_members: 3,
            probationary_members: 0,
            term_started_on: None,
            next_election_on: None,
            charter_clause: true,
        };
        shezu::party::store::create(c, &tester(), at("2015-04-01T02:00:00Z"), &new_party)
            .await
            .unwrap();
        let instructor = shezu::party::coverage::create_instructor(
            c,
            &tester(),
            at("2015-04-02T02:00:00Z"),
            &shezu::party::NewInstructor {
                name: "王志远".into(),
                phone: "13602020316".into(),
                username: None,
                appointed_on: day("2015-04-02"),
            },
        )
        .await
        .unwrap();
        let (unassigned,): (i64,) = Sql::new("select min(o.id) from organizations o where o.status = 'active' and not exists (select 1 from party_instructor_orgs x where x.org_id = o.id)")
            .fetch_one(c)
            .await
            .unwrap();
        shezu::party::coverage::assign_instructor(
            c,
            &tester(),
            at("2015-04-02T02:00:00Z"),
            instructor,
            &unassigned.to_string(),
            day("2015-04-02"),
        )
        .await
        .unwrap();
        // Hubs: a federation founded in 2015 in a street that had none.
        let (street,): (String,) = Sql::new("select min(a.code) from areas a where a.level = 'street' and not exists (select 1 from federations f where f.area_id = a.id)")
            .fetch_one(c)
            .await
            .unwrap();
        let street = shezu::areas::store::find_by_code(c, &street)
            .await
            .unwrap()
            .unwrap();
        shezu::hubs::store::create_federation(
            c,
            &tester(),
            at("2015-05-01T02:00:00Z"),
            &street,
            &shezu::hubs::Federation {
                name: "二〇一五年新设社会组织联合会".into(),
                founded_on: Some(day("2015-05-01")),
                chair: "张立".into(),
                secretary_general: "赵敏".into(),
                contact_phone: "022-25201234".into(),
            },
        )
        .await
        .unwrap();
        // Incubation: a group entering the park in 2015.
        let (park,): (i64,) = Sql::new("select id from incubators where level = 'district'")
            .fetch_one(c)
            .await
            .unwrap();
        let park = shezu::incubation::store::incubator(c, &Scope::All, park)
            .await
            .unwrap();
        let call = shezu::incubation::store::create_call(
            c,
            &tester(),
            at("2015-02-01T02:00:00Z"),
            &park,
            &shezu::incubation::NewCall {
                title: "2015年春季入壳征集".into(),
                opens_on: day("2015-02-01"),
                closes_on: day("2015-02-28"),
                places: 1,
            },
        )
        .await
        .unwrap();
        let call = shezu::incubation::store::call(c, &Scope::All, call)
            .await
            .unwrap();
        let application = shezu::incubation::store::file_application(
            c,
            &tester(),
            at("2015-02-10T02:00:00Z"),
            day("2015-02-10"),
            &call,
            None,
            None,
            &shezu::incubation::NewApplication {
                group_name: "春晖助学志愿服务队".into(),
                contact: "韩梅 13602020315".into(),
                domain: "charity".into(),
                plan: "开展助学服务，一年内完成登记。".into(),
            },
        )
        .await
        .unwrap();
        let application = shezu::incubation::store::application(c, &Scope::All, application)
            .await
            .unwrap();
        shezu::incubation::store::decide(
            c,
            &tester(),
            at("2015-03-01T02:00:00Z"),
            &application,
            &shezu::incubation::Decision::Accept {
                reason: "方向契合，团队稳定".into(),
                entered_on: day("2015-03-01"),
                planned_end_on: day("2016-02-28"),
            },
        )
        .await
        .unwrap();
        // A donation received in 2015.
        shezu::volunteers::store::record_donation(
            c,
            &tester(),
            at("2015-05-05T02:00:00Z"),
            new_org,
            &shezu::volunteers::NewDonation {
                direction: "received",
                counterpart: "刘先生".into(),
                counterpart_kind: "individual",
                project: "文化进社区".into(),
                kind: "money",
                goods: None,
                amount_fen: 123_456,
                donated_on: day("2015-05-05"),
                purpose: "项目运行".into(),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        // Volunteer hours served and verified in 2015.
        verified_service(t, "2015-04-10", 35, "2015-04-20T02:00:00Z").await;

        assert_eq!(
            summary_of(t, None, 2014).await,
            before_2014,
            "2014 is history"
        );
        let after_2015 = summary_of(t, None, 2015).await;
        let budget: i64 = {
            let mut c = t.db.acquire().await.unwrap();
            shezu::party::funding::budget_by_party_org(&mut c.conn(), &Scope::All, None, 2015)
                .await
                .unwrap()
                .into_iter()
                .find(|b| b.name == new_party.name)
                .unwrap()
                .line
                .budget_fen()
        };
        assert!(budget > 0);
        let mut expected = vec![
            ("social_groups", 1.0),
            ("private_non_enterprise_units", -1.0),
            ("party_orgs_independent", 1.0),
            ("party_instructors", 1.0),
            ("party_funding_yuan", budget as f64 / 100.0),
            ("federations", 1.0),
            ("incubating", 1.0),
            ("volunteer_hours", 3.5),
            ("donations_yuan", 1234.56),
        ];
        let mut got = moved(&before_2015, &after_2015);
        expected.sort_by(|a, b| a.0.cmp(b.0));
        got.sort_by(|a, b| a.0.cmp(b.0));
        assert_eq!(got, expected, "2015 moves by exactly what was entered");
    }
);

demo_test!(
    each_change_moves_exactly_its_figures_and_shows_in_the_drill_down,
    |t| async move {
        let s2014 = summary_of(t, None, 2014).await;

        // Add an organization: the registry counts of 2015 move by one, 2014's do not.
        let before = summary_of(t, None, 2015).await;
        register(t, "滨海新区晨曦书画研究会", "2015-04-08").await;
        let after = summary_of(t, None, 2015).await;
        assert_eq!(
            moved(&before, &after),
            [
                ("organizations_total", 1.0),
                ("registered_total", 1.0),
                ("social_groups", 1.0)
            ]
        );
        assert!(
            names(&drill(t, None, "social_groups", 2015).await)
                .contains(&"滨海新区晨曦书画研究会".to_owned())
        );
        assert!(
            !names(&drill(t, None, "social_groups", 2014).await)
                .contains(&"滨海新区晨曦书画研究会".to_owned())
        );

        // Deregister one: it leaves 2015's list and stays in 2014's.
        let before = after;
        let (_, gone) = deregister(t, "private_non_enterprise", "2015-04-09").await;
        let after = summary_of(t, None, 2015).await;
        assert_eq!(
            moved(&before, &after),
            [
                ("organizations_total", -1.0),
                ("registered_total", -1.0),
                ("private_non_enterprise_units", -1.0)
            ]
        );
        assert!(
            !names(&drill(t, None, "private_non_enterprise_units", 2015).await).contains(&gone)
        );
        assert!(names(&drill(t, None, "private_non_enterprise_units", 2014).await).contains(&gone));
        assert_eq!(summary_of(t, None, 2014).await, s2014);

        // Fail an inspection: a 2014 report reopened and reviewed 不合格 moves the pass rate
        // only, and is listed with its result.
        let reviewed = drill(t, None, "inspection_pass_rate", 2014)
            .await
            .rows
            .len() as i64;
        let mut tx = t.db.begin().await.unwrap();
        let c = &mut tx.conn();
        let (report,): (i64,) = Sql::new("select min(id) from annual_reports where year = 2014 and state = 'reviewed' and result = 'pass'")
            .fetch_one(c)
            .await
            .unwrap();
        Sql::new("update annual_reports set state = 'submitted', result = null where id = $1")
            .arg(report)
            .execute(c)
            .await
            .unwrap();
        let row = shezu::inspection::store::get(c, &Scope::All, report)
            .await
            .unwrap();
        shezu::inspection::store::review(
            c,
            &tester(),
            at("2015-06-29T02:00:00Z"),
            &row,
            row.version,
            shezu::inspection::store::Review {
                decision: shezu::inspection::store::Decision::Result(
                    shezu::inspection::ReportResult::Fail,
                ),
                reasons: "财务报表与审计报告不符",
                supervisor_opinion: "",
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let failed = summary_of(t, None, 2014).await;
        let rate =
            shezu::inspection::store::permille(reviewed - 1, reviewed).unwrap() as f64 / 1000.0;
        assert_eq!(
            moved(&s2014, &failed),
            [(
                "inspection_pass_rate",
                ((rate - 1.0) * 100.0).round() / 100.0
            )]
        );
        assert_eq!(failed.inspection_pass_rate, rate);
        let list = drill(t, None, "inspection_pass_rate", 2014).await;
        assert_eq!(list.rows.len() as i64, reviewed);
        let name = Sql::new("select o.name from annual_reports r join organizations o on o.id = r.org_id where r.id = $1").arg(report);
        let (name,): (String,) = {
            let mut c = t.db.acquire().await.unwrap();
            name.fetch_one(&mut c.conn()).await.unwrap()
        };
        let line = list
            .rows
            .iter()
            .find(|r| matches!(&r[0], Cell::Link(n, _) if *n == name))
            .unwrap();
        assert!(line.contains(&Cell::Text("不合格".into())), "{line:?}");

        // Fund one more venture proposal: the 2014 round reopened, a passed proposal included
        // within what the budget has left, 公示 again.
        let mut tx = t.db.begin().await.unwrap();
        let c = &mut tx.conn();
        let (round,): (i64,) = Sql::new("select r.id from funding_rounds r join funding_programmes g on g.id = r.programme_id where g.kind = 'venture' and r.year = 2014")
            .fetch_one(c)
            .await
            .unwrap();
        Sql::new("update funding_rounds set notice_started_on = null where id = $1")
            .arg(round)
            .execute(c)
            .await
            .unwrap();
        let left = 300_000_000 - shezu::funding::store::funded_total(c, round).await.unwrap();
        assert!(left > 0, "the allocation leaves something of the budget");
        let (proposal, title): (i64, String) = Sql::new("select id, title from funding_proposals where round_id = $1 and state = 'passed' and granted_fen is null order by id limit 1")
            .arg(round)
            .fetch_one(c)
            .await
            .unwrap();
        shezu::funding::store::adjust(
            c,
            &tester(),
            at("2014-06-28T02:00:00Z"),
            shezu::funding::ProposalId(proposal),
            shezu::funding::store::Adjustment::Amount(left.min(1_000_000)),
            "评审委员会复议增补",
        )
        .await
        .unwrap();
        let r = shezu::funding::store::get_round(c, shezu::funding::RoundId(round))
            .await
            .unwrap();
        shezu::funding::store::start_notice(
            c,
            &tester(),
            at("2014-07-01T02:00:00Z"),
            &r,
            day("2014-07-01"),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let funded = summary_of(t, None, 2014).await;
        assert_eq!(moved(&failed, &funded), [("venture_funded", 1.0)]);
        assert!(names(&drill(t, None, "venture_funded", 2014).await).contains(&title));

        // Verify more hours: a service of 2015 verified in 2015 moves 2015's hours; one
        // served in December 2014 but verified in 2015 moves 2015's hours, not 2014's.
        let before = summary_of(t, None, 2015).await;
        let hours_before = drill(t, None, "volunteer_hours", 2015).await;
        let org = verified_service(t, "2015-05-12", 25, "2015-05-20T02:00:00Z").await;
        verified_service(t, "2014-12-28", 40, "2015-01-05T02:00:00Z").await;
        let after = summary_of(t, None, 2015).await;
        assert_eq!(moved(&before, &after), [("volunteer_hours", 6.5)]);
        assert_eq!(summary_of(t, None, 2014).await, funded);
        let hours_after = drill(t, None, "volunteer_hours", 2015).await;
        let of = |table: &Table| {
            table
                .rows
                .iter()
                .find(|r| matches!(&r[0], Cell::Link(_, href) if *href == format!("/admin/orgs/{org}")))
                .and_then(|r| r.last().and_then(Cell::number))
                .unwrap()
        };
        assert_eq!(of(&hours_after) - of(&hours_before), 6.5);
        assert_eq!(total(&hours_after), after.volunteer_hours);
    }
);

demo_test!(
    the_registry_read_from_rows_is_the_history_replayed_and_remembered_figures_follow_a_backdated_change,
    |t| async move {
        let root = area_of(t, None).await;
        let street = area_of(t, Some("120116001")).await;
        // Organizations changed after a year's end are replayed, the others read as they are:
        // the same registry as replaying everyone, year after year.
        let same_as_replayed = |years: std::ops::RangeInclusive<i32>| {
            let (root, street) = (root.clone(), street.clone());
            async move {
                let mut c = t.db.acquire().await.unwrap();
                for year in years {
                    for area in [&root, &street] {
                        let read = shezu::stats::snapshot::snapshot(
                            &mut c.conn(),
                            &Scope::All,
                            area.area_id(),
                            year,
                        )
                        .await
                        .unwrap();
                        let replayed = shezu::stats::snapshot::snapshot_replayed(
                            &mut c.conn(),
                            &Scope::All,
                            area.area_id(),
                            year,
                        )
                        .await
                        .unwrap();
                        assert_eq!(read, replayed, "{year}, {}", area.code);
                        assert!(year < 2012 || !read.is_empty(), "{year}");
                    }
                }
            }
        };
        same_as_replayed(2008..=2016).await;
        // An organization loaded without history (carried over from an older system) counts
        // as it stands from when it was entered.
        let before = summary_of(t, None, 2014).await;
        let mut c = t.db.acquire().await.unwrap();
        let (legacy, created): (i64, shezu::db::Timestamp) = Sql::new(
            "select id, created_at from organizations where kind = 'social_group' and status = 'active' and registered_on < '2014-01-01' order by id desc limit 1",
        )
        .fetch_one(&mut c.conn())
        .await
        .unwrap();
        for statement in [
            "delete from org_change_fields where change_id in (select id from org_changes where org_id = $1)",
            "delete from org_changes where org_id = $1",
        ] {
            Sql::new(statement)
                .arg(legacy)
                .execute(&mut c.conn())
                .await
                .unwrap();
        }
        drop(c);
        assert_eq!(summary_of(t, None, 2014).await, before);
        same_as_replayed(2008..=2016).await;
        use chrono::Datelike;
        let entered = created.year();
        let then = shezu::stats::snapshot::snapshot(
            &mut t.db.acquire().await.unwrap().conn(),
            &Scope::All,
            root.area_id(),
            entered - 1,
        )
        .await
        .unwrap();
        assert!(!then.iter().any(|o| o.id == legacy), "not yet entered");

        // The remembered 2014 summary: a change entered now but dated in 2014 moves it, a
        // change dated 2015 does not.
        let app = t.app_as("tongji", "registrar", None, None).await;
        let before = summary(&app, "year=2014").await;
        let desk = app.get("/admin/stats?year=2014").await;
        assert_eq!(desk.status, StatusCode::OK);
        deregister(t, "social_group", "2015-04-01").await;
        let unmoved = summary(&app, "year=2014").await;
        assert_eq!(unmoved, before);
        let (id, _) = deregister(t, "social_group", "2014-06-01").await;
        let after = summary(&app, "year=2014").await;
        assert_eq!(
            after["social_groups"].as_i64().unwrap(),
            before["social_groups"].as_i64().unwrap() - 1,
            "organization {id} ended in 2014"
        );
        assert_eq!(
            after["organizations_total"].as_i64().unwrap(),
            before["organizations_total"].as_i64().unwrap() - 1
        );
        // The desk's trend and area bars, remembered apart, follow too: the new total shows
        // in the tile, the trend's 2014 row and the areas' sum row.
        let desk = app.get("/admin/stats?year=2014").await;
        let thousands = |n: i64| format!("{},{:03}", n / 1000, n % 1000);
        let now = thousands(after["organizations_total"].as_i64().unwrap());
        let then = thousands(before["organizations_total"].as_i64().unwrap());
        assert!(desk.body.matches(&now).count() >= 3, "the desk shows {now}");
        assert!(!desk.body.contains(&then), "the desk forgot {then}");
        same_as_replayed(2013..=2015).await;
    }
);

demo_test!(
    the_inspection_figures_counted_in_the_database_are_those_of_the_calendar,
    |t| async move {
        // A late filing and an unfiled report, so every standing occurs.
        let mut c = t.db.acquire().await.unwrap();
        Sql::new("update annual_reports set submitted_at = $1 where id = (select min(id) from annual_reports where year = 2014 and state = 'reviewed')")
            .arg(at("2015-07-01T02:00:00Z"))
            .execute(&mut c.conn())
            .await
            .unwrap();
        Sql::new("delete from annual_reports where id = (select max(id) from annual_reports where year = 2014)")
            .execute(&mut c.conn())
            .await
            .unwrap();
        let rules = shezu::inspection::Rules::load(&mut c.conn()).await.unwrap();
        let street = area_of(t, Some("120116001")).await;
        let root = area_of(t, None).await;
        for today in [day("2015-04-15"), day("2016-01-10")] {
            for year in 2012..=2015 {
                for area in [&root, &street] {
                    let registry_at = shezu::stats::snapshot::year_end(year);
                    let lines = shezu::inspection::store::calendar_as_of(
                        &mut c.conn(),
                        &Scope::All,
                        i64::from(year),
                        Some(area.area_id()),
                        None,
                        &rules,
                        today,
                        Some(registry_at),
                    )
                    .await
                    .unwrap();
                    let counted = shezu::inspection::store::Figures::as_of(
                        &mut c.conn(),
                        &Scope::All,
                        year,
                        area.area_id(),
                        &rules,
                        today,
                        registry_at,
                    )
                    .await
                    .unwrap();
                    let of_lines = shezu::inspection::store::Figures::of(&lines);
                    assert_eq!(counted, of_lines, "{year}, {}, {today}", area.code);
                    if year == 2014 && today.to_string() == "2016-01-10" && area.id == root.id {
                        assert!(counted.late > 0 && counted.overdue > 0 && counted.on_time > 0);
                    }
                }
            }
        }
    }
);
