//! The party-building information database: the demo's 214 / 49 / 43 and its 2014 funding
//! counted and computed from records, and a cadre added mid-year moving the funding by the
//! rule; coverage of a newly approved organization closing its task; joint branches refusing a
//! sixth organization; a level that does not fit flagged; bad input refused field by field with
//! nothing written; the credit-list trigger; and the route walk for `tests/scope.rs`.

use crate::common::{Answer, TestApp, TestDb};
use crate::db_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use chrono::Utc;
use shezu::auth::Scope;
use shezu::db::Sql;
use shezu::party::store;
use shezu::party::{Coverage, PartyOrgId};

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

/// The demo's computed 2014 budget in fen (1,228,133.31 yuan): 2,000 yuan a year for every
/// party organization, in twelfths for the months after it was set up (never before its
/// organization was registered or filed), plus 200 yuan a month per cadre — see
/// `src/party/demo.rs`. Pinned so that a change to the demo or to the rule shows; the test also
/// recomputes it from the records.
const DEMO_2014_BUDGET_FEN: i64 = 122_813_331;

db_test!(
    demo_party_figures_are_counted_from_records,
    |t| async move {
        shezu::demo::load(&t.db, shezu::demo::DEFAULT_SEED)
            .await
            .unwrap();
        // Counted from the records directly…
        assert_eq!(
            count(
                t,
                "select count(*) from party_orgs where form = 'independent'"
            )
            .await,
            214
        );
        assert_eq!(
            count(t, "select count(*) from party_orgs where form = 'joint'").await,
            49
        );
        assert_eq!(count(t, "select count(*) from party_instructors").await, 43);
        assert_eq!(
        count(t, "select count(*) from party_org_orgs x join party_orgs p on p.id = x.party_org_id where p.form = 'joint' group by p.id order by count(*) desc limit 1").await,
        5,
        "no joint branch covers more than five"
    );
        // …and as the public aggregate shows them.
        let api = t.app().get("/api/v1/party/summary?year=2014").await;
        assert_eq!(api.status, StatusCode::OK, "{}", api.body);
        let s = api.json();
        assert_eq!(s["independent"], 214);
        assert_eq!(s["joint"], 49);
        assert_eq!(s["instructors"], 43);
        let budget = s["funding"]["budget_fen"].as_i64().unwrap();
        assert!(
            budget > 120_000_000,
            "2014 funding {budget} fen: more than 1.2 million yuan"
        );
        // The funding recomputed here from the records with the rule (2,000 yuan a year in
        // twelfths and 200 yuan a month, for the months after the start).
        let mut c = t.db.acquire().await.unwrap();
        let orgs: Vec<(chrono::NaiveDate,)> = Sql::new("select established_on from party_orgs")
            .fetch_all(&mut c.conn())
            .await
            .unwrap();
        let cadres: Vec<(chrono::NaiveDate, Option<chrono::NaiveDate>)> =
            Sql::new("select started_on, ended_on from party_cadres")
                .fetch_all(&mut c.conn())
                .await
                .unwrap();
        drop(c);
        let months = |start: chrono::NaiveDate| -> i64 {
            use chrono::Datelike;
            if start.year() < 2014 {
                12
            } else if start.year() > 2014 {
                0
            } else {
                // Counted from the month after the start (a start on the 1st still waits a month).
                12 - i64::from(start.month())
            }
        };
        let by_hand: i64 = orgs
            .iter()
            .map(|(d,)| (months(*d) * 200_000 + 6) / 12)
            .sum::<i64>()
            + cadres
                .iter()
                .map(|(d, end)| {
                    assert!(end.is_none());
                    months(*d) * 20_000
                })
                .sum::<i64>();
        assert_eq!(budget, by_hand);
        assert_eq!(budget, DEMO_2014_BUDGET_FEN);
        // The areas add up to the total.
        let mut c = t.db.acquire().await.unwrap();
        let funding = shezu::party::funding::funding(&mut c.conn(), &Scope::All, None, 2014)
            .await
            .unwrap();
        drop(c);
        assert_eq!(funding.total.budget_fen(), budget);
        assert_eq!(
            funding.lines.iter().map(|l| l.budget_fen()).sum::<i64>(),
            budget
        );
        assert!(funding.total.paid_fen > 0 && funding.total.paid_fen < budget);

        // The party committee's desk shows the same figures.
        let party = t.app().signed_in("party", shezu::demo::DEMO_PASSWORD).await;
        let desk = party.get("/admin/party?year=2014").await;
        assert_eq!(desk.status, StatusCode::OK);
        assert!(
            desk.body.contains("id=\"independent\">214<"),
            "{}",
            desk.body
        );
        assert!(desk.body.contains("id=\"joint\">49<"));
        assert!(desk.body.contains("id=\"instructors\">43<"));

        // A cadre starting on 15 June 2014 adds July–December: 6 × 200 yuan, exactly.
        let id = count(t, "select min(id) from party_orgs").await;
        let res = party
            .post_form(
                &format!("/admin/party/{id}/cadres"),
                &[
                    ("name", "林晓"),
                    ("post", "专职党务工作者"),
                    ("started_on", "2014-06-15"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let after = t.app().get("/api/v1/party/summary?year=2014").await.json();
        assert_eq!(
            after["funding"]["budget_fen"].as_i64().unwrap(),
            budget + 120_000
        );

        // An area officer sees the figures of their area, not the party organizations.
        let tanggu = t
            .app()
            .signed_in("tanggu", shezu::demo::DEMO_PASSWORD)
            .await;
        let page = tanggu.get("/admin/party").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("id=\"party-orgs\""));
        assert!(!page.body.contains("/admin/party/"), "no links to details");
        assert_eq!(
            tanggu.get(&format!("/admin/party/{id}")).await.status,
            StatusCode::FORBIDDEN
        );
        // The demo instructor sees their organizations.
        let instructor = t
            .app()
            .signed_in("instructor", shezu::demo::DEMO_PASSWORD)
            .await;
        let mine = instructor.get("/admin/party/mine").await;
        assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
        assert!(
            mine.body.contains("开发区社会服务志愿者协会"),
            "{}",
            mine.body
        );
    }
);

/// Files an establishment as a new applicant, has it accepted and approved; its org id.
async fn approve_establishment(t: &TestDb) -> i64 {
    let applicant = t.app_as("hanmei", "org", None, None).await;
    let window = t.app_as("window1", "window", None, None).await;
    let registrar = t.app_as("registrar1", "registrar", None, None).await;
    let fields = [
        ("application_kind", "establishment"),
        ("name", "滨海新区助学公益服务中心"),
        ("kind", "private_non_enterprise"),
        ("domain", "charity"),
        ("direct_registration", "on"),
        ("legal_representative", "韩梅"),
        ("area_code", "120116001016"),
        ("registered_on", "2014-06-01"),
        ("registered_capital_yuan", "30000"),
        ("address", "天津市滨海新区塘沽街道紫云园社区文化路8号"),
        ("charter_party_clause", "on"),
    ];
    let res = applicant.post_form("/applications", &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id: i64 = res
        .location()
        .trim_start_matches("/applications/")
        .parse()
        .unwrap();
    for doc in [
        "application_letter",
        "charter",
        "address_proof",
        "capital_proof",
        "head_id",
    ] {
        let res = applicant
            .post_file(
                &format!("/applications/{id}/documents"),
                &[("doc_type", doc)],
                ("file", "材料.pdf", b"%PDF-1.4\n% shezu test document\n"),
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{doc}: {}", res.body);
    }
    for (app, action) in [
        (&applicant, "submit"),
        (&window, "accept"),
        (&registrar, "start_review"),
        (&registrar, "approve"),
    ] {
        let v = count(
            t,
            &format!("select version from applications where id = {id}"),
        )
        .await;
        let res = app
            .post_form(
                &format!("/applications/{id}/action"),
                &[
                    ("action", action),
                    ("reason", ""),
                    ("version", &v.to_string()),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{action}: {}", res.body);
    }
    count(
        t,
        &format!("select org_id from applications where id = {id}"),
    )
    .await
}

async fn coverage(t: &TestDb, org: i64) -> Coverage {
    let mut c = t.db.acquire().await.unwrap();
    shezu::party::coverage::coverage_of(&mut c.conn(), shezu::registry::OrgId(org))
        .await
        .unwrap()
}

fn branch_form<'a>(
    name: &'a str,
    form: &'a str,
    orgs: &'a str,
    members: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("form", form),
        ("level", "branch"),
        ("orgs", orgs),
        ("approved_by", "中共滨海新区社会组织工作委员会"),
        ("established_on", "2014-07-01"),
        ("secretary", "王磊"),
        ("full_members", members),
        ("probationary_members", "0"),
    ]
}

db_test!(
    an_approved_organization_is_uncovered_until_coverage_is_recorded,
    |t| async move {
        load_areas(t).await;
        let org = approve_establishment(t).await;
        assert_eq!(coverage(t, org).await, Coverage::None);
        let open =
            format!("select count(*) from party_tasks where org_id = {org} and closed_at is null");
        assert_eq!(count(t, &open).await, 1);
        let party = t.app_as("party1", "party", None, None).await;
        let desk = party.get("/admin/party").await;
        assert!(
            desk.body.contains("滨海新区助学公益服务中心"),
            "listed as uncovered"
        );
        assert!(desk.body.contains("id=\"uncovered\">1<"), "{}", desk.body);

        // Coverage recorded: the task closes in the same transaction.
        let org_s = org.to_string();
        let res = party
            .post_form(
                "/admin/party",
                &branch_form(
                    "中共滨海新区助学公益服务中心支部",
                    "independent",
                    &org_s,
                    "4",
                ),
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(coverage(t, org).await, Coverage::Own);
        assert_eq!(count(t, &open).await, 0);
        let desk = party.get("/admin/party").await;
        assert!(desk.body.contains("id=\"uncovered\">0<"));
        assert_eq!(
            count(
                t,
                "select count(*) from audit_log where entity = 'party_org'"
            )
            .await,
            1
        );

        // Covered by an instructor instead: assigning closes the task too.
        let (other, _) = crate::evaluation::org(t, "滨海新区第二助学协会", "2014-07-01").await;
        Sql::new("insert into party_tasks (org_id, application_id, opened_at, closed_at) values ($1, null, $2, null)")
            .arg(other)
            .arg(Utc::now())
            .execute(&mut t.db.acquire().await.unwrap().conn())
            .await
            .unwrap();
        let res = party
            .post_form(
                "/admin/party/instructors",
                &[
                    ("name", "周杰"),
                    ("phone", "022-25201234"),
                    ("appointed_on", "2014-01-02"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let instructor = count(t, "select id from party_instructors").await;
        let res = party
            .post_form(
                &format!("/admin/party/instructors/{instructor}/orgs"),
                &[("org", &other.to_string())],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(coverage(t, other).await, Coverage::Instructor);
        assert_eq!(
            count(
                t,
                &format!(
                    "select count(*) from party_tasks where org_id = {other} and closed_at is null"
                )
            )
            .await,
            0
        );
        // An account that is not an instructor's is refused by name, nothing written.
        let res = party
            .post_form(
                "/admin/party/instructors",
                &[
                    ("name", "李娜"),
                    ("username", "party1"),
                    ("appointed_on", "2014-01-02"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body
                .contains("<code>username</code>: party1不是党建指导员账号"),
            "{}",
            res.body
        );
        assert_eq!(count(t, "select count(*) from party_instructors").await, 1);
    }
);

db_test!(
    joint_branches_refuse_a_sixth_and_bad_input_writes_nothing,
    |t| async move {
        load_areas(t).await;
        let mut ids = Vec::new();
        for i in 1..=6 {
            let (id, _) =
                crate::evaluation::org(t, &format!("滨海新区第{i}社区文化协会"), "2012-03-01")
                    .await;
            ids.push(id.to_string());
        }
        let party = t.app_as("party1", "party", None, None).await;
        let audit = count(t, "select count(*) from audit_log").await;
        let six = ids.join("\n");
        let res = party
            .post_form(
                "/admin/party",
                &branch_form("文化协会联合党支部", "joint", &six, "9"),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body
                .contains("<code>orgs</code>: 该党组织最多覆盖5个社会组织"),
            "{}",
            res.body
        );
        assert_eq!(count(t, "select count(*) from party_orgs").await, 0);
        assert_eq!(count(t, "select count(*) from audit_log").await, audit);

        let five = ids[..5].join("\n");
        let res = party
            .post_form(
                "/admin/party",
                &branch_form("文化协会联合党支部", "joint", &five, "9"),
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let id = count(t, "select id from party_orgs").await;
        let res = party
            .post_form(
                &format!("/admin/party/{id}/orgs?lang=en"),
                &[("org", &ids[5])],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body.contains(
                "<code>org</code>: This party organization may cover at most 5 organizations."
            ),
            "{}",
            res.body
        );
        assert_eq!(count(t, "select count(*) from party_org_orgs").await, 5);

        // Nine members declared a plain branch: saved, and flagged (a committee is due at 7).
        let page = party.get(&format!("/admin/party/{id}")).await;
        assert!(page.body.contains("id=\"level-flag\""), "{}", page.body);
        let flagged = party.get("/admin/party?flagged=1").await;
        assert!(flagged.body.contains("文化协会联合党支部"));
        let mut c = t.db.acquire().await.unwrap();
        let row = store::get(&mut c.conn(), &Scope::All, PartyOrgId(id))
            .await
            .unwrap();
        drop(c);
        assert!(row.level_mismatch());

        // Bad input: each field named, nothing written.
        let audit = count(t, "select count(*) from audit_log").await;
        let res = party
            .post_form(
                "/admin/party",
                &[
                    ("name", ""),
                    ("form", "sideways"),
                    ("level", "branch"),
                    ("orgs", &ids[5]),
                    ("approved_by", "党工委"),
                    ("established_on", "2014-13-01"),
                    ("secretary", "王磊"),
                    ("full_members", "2"),
                    ("probationary_members", "x"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        for field in [
            "name",
            "form",
            "established_on",
            "full_members",
            "probationary_members",
        ] {
            assert!(
                res.body.contains(&format!("<code>{field}</code>")),
                "{field}: {}",
                res.body
            );
        }
        assert!(res.body.contains("至少需要3名正式党员"));
        let res = party
            .post_form(
                &format!("/admin/party/{id}/cadres"),
                &[
                    ("name", "李"),
                    ("post", "委员"),
                    ("started_on", "2014-05-01"),
                    ("ended_on", "2014-01-01"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("<code>ended_on</code>"));
        let res = party
            .post_form(
                "/admin/party/payments",
                &[
                    ("party_org", &id.to_string()),
                    ("year", "2014"),
                    ("paid_on", "2014-06-30"),
                    ("amount_yuan", "-5"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("<code>amount_yuan</code>"));
        // The organization already covered cannot join a second party organization.
        let res = party
            .post_form(
                "/admin/party",
                &branch_form("重复党支部", "independent", &ids[0], "4"),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body.contains("已由文化协会联合党支部覆盖"),
            "{}",
            res.body
        );
        assert_eq!(count(t, "select count(*) from party_orgs").await, 1);
        assert_eq!(count(t, "select count(*) from party_cadres").await, 0);
        assert_eq!(count(t, "select count(*) from party_payments").await, 0);
        assert_eq!(count(t, "select count(*) from audit_log").await, audit);

        // Recorded payments show against the budget.
        let res = party
            .post_form(
                "/admin/party/payments",
                &[
                    ("party_org", &id.to_string()),
                    ("year", "2014"),
                    ("paid_on", "2014-12-30"),
                    ("amount_yuan", "1000.50"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let s = t.app().get("/api/v1/party/summary?year=2014").await.json();
        assert_eq!(s["funding"]["paid_fen"], 100_050);
        // Set up on 1 July 2014: August to December, five twelfths of 2,000 yuan.
        assert_eq!(s["funding"]["orgs_yuan"], "833.33");
        assert_eq!(s["joint"], 1);
        assert_eq!(s["covered_joint"], 5);
    }
);

db_test!(
    organizations_with_three_party_members_need_a_party_organization,
    |t| async move {
        load_areas(t).await;
        let (a, _) = crate::evaluation::org(t, "滨海新区甲协会", "2012-03-01").await;
        let (b, _) = crate::evaluation::org(t, "滨海新区乙协会", "2012-03-01").await;
        for (org, members) in [(a, 5), (b, 2)] {
            crate::evaluation::report(t, org, 2014, "pass").await;
            Sql::new("update annual_reports set party_members = $1 where org_id = $2")
                .arg(members)
                .arg(org)
                .execute(&mut t.db.acquire().await.unwrap().conn())
                .await
                .unwrap();
        }
        let today = "2015-06-30".parse().unwrap();
        let mut c = t.db.acquire().await.unwrap();
        assert_eq!(
            shezu::party::coverage::requiring_party_org_without_one(&mut c.conn(), today, 3)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.org_id, r.members, r.year))
                .collect::<Vec<_>>(),
            vec![(a, 5, 2014)]
        );
        let mut tx = t.db.begin().await.unwrap();
        let new = shezu::party::PartyOrgForm {
            name: "中共滨海新区甲协会支部".into(),
            form: "independent".into(),
            level: "branch".into(),
            orgs: a.to_string(),
            approved_by: "党工委".into(),
            established_on: "2015-01-05".into(),
            secretary: "张伟".into(),
            full_members: "5".into(),
            probationary_members: "0".into(),
            ..Default::default()
        }
        .parse(true)
        .unwrap();
        store::create(
            &mut tx.conn(),
            &shezu::audit::Actor::system("test"),
            Utc::now(),
            &new,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(
            shezu::party::coverage::requiring_party_org_without_one(&mut c.conn(), today, 3)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

/// What the route walk needs: a party organization over the 泰达 organization and an
/// instructor without an account.
pub struct WalkSeed {
    party_org: i64,
    instructor: i64,
    name: String,
}

/// Seeds [`WalkSeed`] for the organization `teda`.
pub async fn seed_walk(t: &TestDb, teda: i64) -> WalkSeed {
    let mut tx = t.db.begin().await.unwrap();
    let actor = shezu::audit::Actor::system("seed");
    let name = "中共泰达走查支部".to_owned();
    let new = shezu::party::PartyOrgForm {
        name: name.clone(),
        form: "independent".into(),
        level: "branch".into(),
        orgs: teda.to_string(),
        approved_by: "党工委".into(),
        established_on: "2013-01-05".into(),
        secretary: "张伟".into(),
        full_members: "5".into(),
        probationary_members: "0".into(),
        ..Default::default()
    }
    .parse(true)
    .unwrap();
    let party_org = store::create(&mut tx.conn(), &actor, Utc::now(), &new)
        .await
        .unwrap();
    let instructor = shezu::party::InstructorForm {
        name: "周杰".into(),
        appointed_on: "2013-01-01".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let instructor =
        shezu::party::coverage::create_instructor(&mut tx.conn(), &actor, Utc::now(), &instructor)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    WalkSeed {
        party_org: party_org.0,
        instructor: instructor.0,
        name,
    }
}

/// Walks the party routes as caller `u` (see `tests/scope.rs`); the routes it checked.
pub async fn walk(app: &TestApp, u: &str, s: &WalkSeed) -> Vec<&'static str> {
    use crate::scope::gate;
    let details = matches!(u, "admin1" | "party1" | "instructor1");
    let figures = details || matches!(u, "registrar1" | "tanggu1" | "dagang1");
    let manages = matches!(u, "admin1" | "party1");
    let expect = |route: &str, method: &str, want: u16, got: &Answer| {
        assert_eq!(
            got.status.as_u16(),
            want,
            "{u} {method} {route}: {}",
            got.body
        );
    };
    let desk = app.get("/admin/party").await;
    expect("/admin/party", "GET", gate(u, figures, "GET", 200), &desk);
    assert_eq!(
        desk.body.contains(&s.name),
        details,
        "{u}: party details only for those who may see them"
    );
    let res = app.post_form("/admin/party", &[("name", "")]).await;
    expect("/admin/party", "POST", gate(u, manages, "POST", 422), &res);
    let res = app.get("/admin/party/mine").await;
    let want = match u {
        "instructor1" => 200,
        "admin1" | "party1" => 303,
        _ => gate(u, false, "GET", 200),
    };
    expect("/admin/party/mine", "GET", want, &res);
    if u == "instructor1" {
        assert!(res.body.contains(&s.name));
    }
    let res = app.get("/admin/party/instructors").await;
    expect(
        "/admin/party/instructors",
        "GET",
        gate(u, manages, "GET", 200),
        &res,
    );
    let res = app
        .post_form("/admin/party/instructors", &[("name", "")])
        .await;
    expect(
        "/admin/party/instructors",
        "POST",
        gate(u, manages, "POST", 422),
        &res,
    );
    let path = format!("/admin/party/instructors/{}/orgs", s.instructor);
    let res = app.post_form(&path, &[("org", "")]).await;
    expect(
        "/admin/party/instructors/{id}/orgs",
        "POST",
        gate(u, manages, "POST", 422),
        &res,
    );
    let res = app
        .post_form("/admin/party/payments", &[("year", "x")])
        .await;
    expect(
        "/admin/party/payments",
        "POST",
        gate(u, manages, "POST", 422),
        &res,
    );
    let path = format!("/admin/party/{}", s.party_org);
    let res = app.get(&path).await;
    expect(
        "/admin/party/{id}",
        "GET",
        gate(u, details, "GET", 200),
        &res,
    );
    let res = app.post_form(&path, &[("name", "")]).await;
    expect(
        "/admin/party/{id}",
        "POST",
        gate(u, manages, "POST", 422),
        &res,
    );
    for (route, suffix, fields) in [
        ("/admin/party/{id}/orgs", "orgs", vec![("org", "")]),
        ("/admin/party/{id}/cadres", "cadres", vec![("name", "")]),
        (
            "/admin/party/{id}/activities",
            "activities",
            vec![("title", "")],
        ),
        (
            "/admin/party/{id}/mechanisms",
            "mechanisms",
            vec![("mechanism", "bogus")],
        ),
    ] {
        let res = app.post_form(&format!("{path}/{suffix}"), &fields).await;
        expect(route, "POST", gate(u, manages, "POST", 422), &res);
    }
    let res = app.get("/api/v1/party/summary").await;
    expect("/api/v1/party/summary", "GET", 200, &res);
    assert!(!res.body.contains(&s.name), "aggregates only");
    assert_eq!(res.json()["independent"], 1);
    vec![
        "/admin/party",
        "/admin/party/mine",
        "/admin/party/instructors",
        "/admin/party/instructors/{id}/orgs",
        "/admin/party/payments",
        "/admin/party/{id}",
        "/admin/party/{id}/orgs",
        "/admin/party/{id}/cadres",
        "/admin/party/{id}/activities",
        "/admin/party/{id}/mechanisms",
        "/api/v1/party/summary",
    ]
}
