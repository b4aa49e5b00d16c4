//! The party-building information database: the demo's 214 / 49 / 43 and its 2014 funding
//! counted and computed from records, and a cadre added mid-year moving the funding by the
//! rule; coverage of a newly approved organization closing its task; joint branches refusing a
//! sixth organization; a level that does not fit flagged; bad input refused field by field with
//! nothing written; the credit-list trigger; and the route walk for `tests/scope.rs`.

use crate::common::{Answer, TestApp, TestDb};
use crate::db_test;
use crate::demo_test;
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

demo_test!(
    demo_party_figures_are_counted_from_records,
    |t| async move {
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
        // Demo hygiene: no party organization before its organization was registered or
        // filed; no open coverage task for a covered organization; the annual reports' party
        // members agree with the party records, so the sweep lists no one for lacking one.
        assert_eq!(
            count(t, "select count(*) from party_org_orgs x join party_orgs p on p.id = x.party_org_id join organizations o on o.id = x.org_id where p.established_on < o.registered_on").await,
            0
        );
        assert_eq!(
            count(t, "select count(*) from party_tasks t where t.closed_at is null and (exists (select 1 from party_org_orgs x where x.org_id = t.org_id) or exists (select 1 from party_instructor_orgs i where i.org_id = t.org_id))").await,
            0
        );
        assert_eq!(
            count(
                t,
                "select count(*) from credit_listings where reason = 'no_party_organization'"
            )
            .await,
            0
        );
        assert!(
            count(
                t,
                "select count(*) from annual_reports where year = 2014 and party_members >= 3"
            )
            .await
                > 100,
            "the reports declare the party organizations' members"
        );
        // The 2014 standardisation assessment of every party organization set up by then.
        let assessed = count(
            t,
            "select count(*) from party_assessments where year = 2014",
        )
        .await;
        assert_eq!(
            assessed,
            count(
                t,
                "select count(*) from party_orgs where established_on <= '2014-12-31'"
            )
            .await
        );
        // …and as the public aggregate shows them.
        let api = t.app().get("/api/v1/party/summary?year=2014").await;
        assert_eq!(api.status, StatusCode::OK, "{}", api.body);
        let s = api.json();
        assert_eq!(s["independent"], 214);
        assert_eq!(s["joint"], 49);
        assert_eq!(s["instructors"], 43);
        assert_eq!(s["assessment"]["assessed"], assessed);
        for band in ["excellent", "good", "pass", "fail"] {
            assert!(s["assessment"][band].as_i64().unwrap() > 0, "{band}: {s}");
        }
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
        // Every organization that needs a party organization and has none (one page of all).
        let requiring = || async {
            let mut c = t.db.acquire().await.unwrap();
            shezu::party::coverage::requiring_party_org_without_one(
                &mut c.conn(),
                today,
                3,
                0,
                i64::MAX,
            )
            .await
            .unwrap()
        };
        assert_eq!(
            requiring()
                .await
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
        assert!(requiring().await.is_empty());
    }
);

/// Records a reviewed 2014 report for `org` declaring `members` party members.
async fn report_with_members(t: &TestDb, org: i64, members: i64) {
    crate::evaluation::report(t, org, 2014, "pass").await;
    Sql::new("update annual_reports set party_members = $1 where org_id = $2")
        .arg(members)
        .arg(org)
        .execute(&mut t.db.acquire().await.unwrap().conn())
        .await
        .unwrap();
}

/// An independent party organization over `org`, set up on `on`; its id.
async fn own_branch(t: &TestDb, org: i64, on: &str) -> i64 {
    let new = shezu::party::PartyOrgForm {
        name: format!("中共测试{org}支部"),
        form: "independent".into(),
        level: "branch".into(),
        orgs: org.to_string(),
        approved_by: "党工委".into(),
        established_on: on.into(),
        secretary: "张伟".into(),
        full_members: "4".into(),
        probationary_members: "0".into(),
        ..Default::default()
    }
    .parse(true)
    .unwrap();
    let mut tx = t.db.begin().await.unwrap();
    let id = store::create(
        &mut tx.conn(),
        &shezu::audit::Actor::system("test"),
        Utc::now(),
        &new,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id.0
}

async fn sweep(t: &TestDb) -> shezu::inspection::credit::Swept {
    let mut tx = t.db.begin().await.unwrap();
    let swept = shezu::inspection::credit::sweep(
        &mut tx.conn(),
        &shezu::audit::Actor::system("sweep"),
        Utc::now(),
        "2015-06-30".parse().unwrap(),
        &shezu::inspection::Rules::default(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    swept
}

async fn rectify(t: &TestDb, listing_id: i64) -> shezu::error::Result<()> {
    let mut tx = t.db.begin().await.unwrap();
    let listing = shezu::inspection::credit::get(&mut tx.conn(), &Scope::All, listing_id)
        .await
        .unwrap();
    let res = shezu::inspection::credit::remove(
        &mut tx.conn(),
        &shezu::audit::Actor::system("registrar"),
        Utc::now(),
        &listing,
        shezu::inspection::credit::Removal {
            reason: shezu::inspection::RemovalReason::Rectified,
            detail: "已建立党支部",
        },
        "2015-07-01".parse().unwrap(),
        &shezu::inspection::Rules::default(),
    )
    .await;
    tx.commit().await.unwrap();
    res
}

db_test!(
    the_sweep_lists_an_organization_without_a_required_party_organization,
    |t| async move {
        load_areas(t).await;
        let (four, _) = crate::evaluation::org(t, "滨海新区四党员协会", "2012-03-01").await;
        let (two, _) = crate::evaluation::org(t, "滨海新区两党员协会", "2012-03-01").await;
        report_with_members(t, four, 4).await;
        report_with_members(t, two, 2).await;
        let swept = sweep(t).await;
        assert_eq!(swept.no_party_org, 1);
        let listed = "select count(*) from credit_listings where reason = 'no_party_organization' and removed_on is null";
        assert_eq!(count(t, listed).await, 1);
        assert_eq!(
            count(
                t,
                "select org_id from credit_listings where reason = 'no_party_organization'"
            )
            .await,
            four
        );
        let mut c = t.db.acquire().await.unwrap();
        let (detail, year): (String, Option<i64>) = Sql::new("select detail, subject_year from credit_listings where reason = 'no_party_organization'")
            .fetch_one(&mut c.conn())
            .await
            .unwrap();
        drop(c);
        assert!(detail.contains("2014") && detail.contains('4'), "{detail}");
        assert_eq!(year, Some(2014));
        // Once per report year.
        assert_eq!(sweep(t).await.no_party_org, 0);
        assert_eq!(count(t, "select count(*) from credit_listings").await, 1);

        // Rectification is refused until a party organization of its own is recorded.
        let listing_id = count(t, "select id from credit_listings").await;
        assert!(matches!(
            rectify(t, listing_id).await,
            Err(shezu::error::Error::Conflict(_))
        ));
        assert_eq!(count(t, listed).await, 1);
        own_branch(t, four, "2015-06-01").await;
        rectify(t, listing_id).await.unwrap();
        assert_eq!(count(t, listed).await, 0);
        // Fixed: the sweep does not list it again.
        assert_eq!(sweep(t).await.no_party_org, 0);
    }
);

/// The default template's text, as the editor starts.
fn default_text() -> String {
    shezu::party::assessment::items_text(&shezu::party::assessment::default_items())
}

/// Score fields giving every item `percent` of its maximum.
async fn score_fields(t: &TestDb, template_version: i64, percent: i64) -> Vec<(String, String)> {
    let mut c = t.db.acquire().await.unwrap();
    let id = Sql::new("select id from party_assessment_templates where version = $1")
        .arg(template_version)
        .fetch_i64(&mut c.conn())
        .await
        .unwrap();
    let items = shezu::party::assessment::template_items(&mut c.conn(), id)
        .await
        .unwrap();
    items
        .iter()
        .map(|i| {
            (
                format!("s{}", i.id),
                (i.max_score * percent / 100).to_string(),
            )
        })
        .collect()
}

fn fields(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

db_test!(
    assessments_score_against_a_versioned_template,
    |t| async move {
        load_areas(t).await;
        let (org, _) = crate::evaluation::org(t, "滨海新区考核协会", "2012-03-01").await;
        let party_org = own_branch(t, org, "2013-03-01").await;
        let party = t.app_as("party1", "party", None, None).await;
        // No template yet: the editor offers the default one.
        let page = party.get("/admin/party/assessments/template").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("三会一课 | 按期召开支部党员大会"),
            "{}",
            page.body
        );
        let path = format!("/admin/party/{party_org}/assessments/2014");
        let res = party.post_form(&path, &[("s1", "5")]).await;
        assert_eq!(res.status, StatusCode::CONFLICT, "no template yet");

        // A bad line is refused, naming it; nothing written.
        let bad = format!("{}\n作用发挥 | 群众满意 | 0", default_text());
        let res = party
            .post_form(
                "/admin/party/assessments/template",
                &[("items", &bad), ("version", "0")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("第15行"), "{}", res.body);
        assert_eq!(
            count(t, "select count(*) from party_assessment_templates").await,
            0
        );
        let res = party
            .post_form(
                "/admin/party/assessments/template",
                &[("items", &default_text()), ("version", "0")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(
            count(t, "select count(*) from party_assessment_items").await,
            14
        );

        // A score above its item's maximum is refused naming the item; nothing written.
        let mut scores = score_fields(t, 1, 100).await;
        scores[0].1 = "99".into();
        let res = party.post_form(&path, &fields(&scores)).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body.contains("按规定单独或联合组建党组织"),
            "{}",
            res.body
        );
        scores[0].1 = "-1".into();
        assert_eq!(
            party.post_form(&path, &fields(&scores)).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(count(t, "select count(*) from party_assessments").await, 0);
        // A year before it was set up is refused.
        let early = format!("/admin/party/{party_org}/assessments/2012");
        let res = party
            .post_form(&early, &fields(&score_fields(t, 1, 100).await))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(count(t, "select count(*) from party_assessments").await, 0);

        // Full marks: excellent, shown on the party organization's page and counted.
        let res = party
            .post_form(&path, &fields(&score_fields(t, 1, 100).await))
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = party.get(&path).await;
        assert!(
            page.body.contains("id=\"total\">100 / 100<"),
            "{}",
            page.body
        );
        assert!(page.body.contains("id=\"band\">优秀<"));
        let show = party.get(&format!("/admin/party/{party_org}")).await;
        assert!(show.body.contains("优秀"), "{}", show.body);
        let api = t.app().get("/api/v1/party/summary?year=2014").await.json();
        assert_eq!(api["assessment"]["excellent"], 1);
        assert_eq!(api["assessment"]["assessed"], 1);
        let list = party
            .get("/admin/party/assessments?year=2014&band=excellent")
            .await;
        assert!(
            list.body.contains("id=\"band-excellent\">1<"),
            "{}",
            list.body
        );
        assert!(list.body.contains("中共测试"));
        let list = party
            .get("/admin/party/assessments?year=2014&band=fail")
            .await;
        assert!(!list.body.contains("中共测试"));

        // One assessment per party organization and year: a second without the version is stale.
        let res = party
            .post_form(&path, &fields(&score_fields(t, 1, 100).await))
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT);

        // The template changes (version 2); the 2014 assessment keeps its version-1 items.
        let v2 = "组织建设 | 组织健全 | 50\n作用发挥 | 作用明显 | 50";
        let res = party
            .post_form(
                "/admin/party/assessments/template",
                &[("items", v2), ("version", "0")],
            )
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT, "stale editor");
        let res = party
            .post_form(
                "/admin/party/assessments/template",
                &[("items", v2), ("version", "1")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let page = party.get(&path).await;
        assert!(page.body.contains("按期召开支部党员大会") && !page.body.contains("组织健全"));
        // Re-scored at 70 % with its version: a pass by the default thresholds.
        let mut again = score_fields(t, 1, 70).await;
        again.push(("version".into(), "1".into()));
        let res = party.post_form(&path, &fields(&again)).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = party.get(&path).await;
        assert!(page.body.contains("id=\"band\">合格<"), "{}", page.body);
        assert_eq!(
            count(t, "select count(*) from party_assessment_scores").await,
            14
        );
        assert_eq!(
            count(t, "select count(*) from audit_log where action = 'assess'").await,
            2
        );
        // A 2013 assessment takes the current template.
        let path13 = format!("/admin/party/{party_org}/assessments/2013");
        let res = party
            .post_form(&path13, &fields(&score_fields(t, 2, 100).await))
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(
            count(t, "select t.version from party_assessments s join party_assessment_templates t on t.id = s.template_id where s.year = 2013").await,
            2
        );
    }
);

db_test!(
    ending_records_with_dates_recomputes_coverage_and_funding,
    |t| async move {
        load_areas(t).await;
        let mut orgs = Vec::new();
        for name in ["滨海新区联一协会", "滨海新区联二协会", "滨海新区联三协会"]
        {
            orgs.push(crate::evaluation::org(t, name, "2012-03-01").await.0);
        }
        let party = t.app_as("party1", "party", None, None).await;
        let list = orgs
            .iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let mut form = branch_form("滨海新区联合党支部", "joint", &list, "4");
        form.retain(|(k, _)| *k != "established_on");
        form.push(("established_on", "2013-01-10"));
        let res = party.post_form("/admin/party", &form).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let id = count(t, "select id from party_orgs").await;
        let audits = "select count(*) from audit_log";

        // Leaving before joining, or in the future, is refused; nothing written.
        let before = count(t, audits).await;
        let leave = format!("/admin/party/{id}/orgs/{}/end", orgs[2]);
        for day in ["2012-12-31", "2999-01-01", ""] {
            let res = party.post_form(&leave, &[("on", day)]).await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{day}");
            assert!(res.body.contains("<code>on</code>"), "{}", res.body);
        }
        assert_eq!(count(t, "select count(*) from party_org_orgs").await, 3);
        assert_eq!(count(t, audits).await, before);

        // Removed from the joint branch: not covered any more, a coverage task open again.
        let res = party.post_form(&leave, &[("on", "2014-08-31")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(coverage(t, orgs[2]).await, Coverage::None);
        assert_eq!(coverage(t, orgs[0]).await, Coverage::Joint);
        assert_eq!(
            count(
                t,
                &format!(
                    "select count(*) from party_tasks where org_id = {} and closed_at is null",
                    orgs[2]
                )
            )
            .await,
            1
        );
        assert_eq!(
            count(t, "select count(*) from party_org_orgs_ended").await,
            1
        );
        assert_eq!(
            count(t, "select count(*) from audit_log where action = 'uncover'").await,
            1
        );
        let page = party.get(&format!("/admin/party/{id}")).await;
        assert!(page.body.contains("id=\"ended-orgs\""), "{}", page.body);
        // The lead leaves: the next one leads; then a joint branch keeps two.
        let res = party
            .post_form(
                &format!("/admin/party/{id}/orgs/{}/end", orgs[0]),
                &[("on", "2014-09-30")],
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "only two left: {}",
            res.body
        );

        // A cadre's service ends on 10 May 2014: January to April are paid.
        let res = party
            .post_form(
                &format!("/admin/party/{id}/cadres"),
                &[
                    ("name", "林晓"),
                    ("post", "专职党务工作者"),
                    ("started_on", "2013-02-01"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let cadre = count(t, "select id from party_cadres").await;
        let funding = || async {
            t.app().get("/api/v1/party/summary?year=2014").await.json()["funding"].clone()
        };
        assert_eq!(funding().await["budget_fen"], 200_000 + 240_000);
        let end = format!("/admin/party/{id}/cadres/{cadre}/end");
        let res = party.post_form(&end, &[("on", "2013-01-01")]).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "before the start"
        );
        let res = party.post_form(&end, &[("on", "2014-05-10")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(funding().await["budget_fen"], 200_000 + 80_000);
        assert_eq!(
            party.post_form(&end, &[("on", "2014-06-10")]).await.status,
            StatusCode::CONFLICT
        );

        // Dissolved on 15 June 2014: paid January to May (5/12 of 2,000 yuan), both remaining
        // organizations uncovered with their tasks open again.
        let version = count(t, "select version from party_orgs").await.to_string();
        let dissolve = format!("/admin/party/{id}/dissolve");
        let res = party
            .post_form(&dissolve, &[("on", "2012-01-01"), ("version", &version)])
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "before set-up"
        );
        let res = party
            .post_form(&dissolve, &[("on", "2014-06-15"), ("version", "0")])
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT, "stale version");
        assert_eq!(
            count(
                t,
                "select count(*) from party_orgs where dissolved_on is not null"
            )
            .await,
            0
        );
        let res = party
            .post_form(&dissolve, &[("on", "2014-06-15"), ("version", &version)])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(
            funding().await["budget_fen"],
            (5 * 200_000 + 6) / 12 + 80_000
        );
        for org in &orgs {
            assert_eq!(coverage(t, *org).await, Coverage::None);
        }
        assert_eq!(
            count(
                t,
                "select count(*) from party_tasks where closed_at is null"
            )
            .await,
            3
        );
        assert_eq!(count(t, "select count(*) from party_org_orgs").await, 0);
        let api = t.app().get("/api/v1/party/summary").await.json();
        assert_eq!(api["joint"], 0);
        let desk = party.get("/admin/party").await;
        assert!(desk.body.contains("已撤销"), "{}", desk.body);
        assert_eq!(
            count(
                t,
                "select count(*) from audit_log where action = 'dissolve'"
            )
            .await,
            1
        );
        let res = party
            .post_form(
                &dissolve,
                &[
                    ("on", "2014-06-16"),
                    (
                        "version",
                        &(version.parse::<i64>().unwrap() + 1).to_string(),
                    ),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT, "already dissolved");
        // The organization can now have a party organization of its own.
        own_branch(t, orgs[0], "2014-07-01").await;
        assert_eq!(coverage(t, orgs[0]).await, Coverage::Own);

        // An instructor's assignment ends: the organization is uncovered, its task open again.
        let res = party
            .post_form(
                "/admin/party/instructors",
                &[("name", "周杰"), ("appointed_on", "2013-01-01")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let instructor = count(t, "select id from party_instructors").await;
        let res = party
            .post_form(
                &format!("/admin/party/instructors/{instructor}/orgs"),
                &[("org", &orgs[1].to_string()), ("on", "2014-07-01")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(coverage(t, orgs[1]).await, Coverage::Instructor);
        let unassign = format!("/admin/party/instructors/{instructor}/orgs/{}/end", orgs[1]);
        let res = party.post_form(&unassign, &[("on", "2014-06-30")]).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "before the assignment"
        );
        let res = party.post_form(&unassign, &[("on", "2014-12-31")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(coverage(t, orgs[1]).await, Coverage::None);
        assert_eq!(
            count(t, "select count(*) from party_instructor_orgs_ended").await,
            1
        );
        assert_eq!(
            count(
                t,
                &format!(
                    "select count(*) from party_tasks where org_id = {} and closed_at is null",
                    orgs[1]
                )
            )
            .await,
            1
        );
        assert_eq!(
            party
                .post_form(&unassign, &[("on", "2014-12-31")])
                .await
                .status,
            StatusCode::NOT_FOUND
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
    // Ending records: an empty date is refused before anything is looked up.
    for (route, target) in [
        ("/admin/party/{id}/dissolve", format!("{path}/dissolve")),
        (
            "/admin/party/{id}/orgs/{org}/end",
            format!("{path}/orgs/1/end"),
        ),
        (
            "/admin/party/{id}/cadres/{cadre}/end",
            format!("{path}/cadres/1/end"),
        ),
        (
            "/admin/party/instructors/{id}/orgs/{org}/end",
            format!("/admin/party/instructors/{}/orgs/1/end", s.instructor),
        ),
    ] {
        let res = app.post_form(&target, &[("on", "")]).await;
        expect(route, "POST", gate(u, manages, "POST", 422), &res);
    }
    // The standardisation assessment.
    let res = app.get("/admin/party/assessments").await;
    expect(
        "/admin/party/assessments",
        "GET",
        gate(u, details, "GET", 200),
        &res,
    );
    let res = app.get("/admin/party/assessments/template").await;
    expect(
        "/admin/party/assessments/template",
        "GET",
        gate(u, manages, "GET", 200),
        &res,
    );
    let res = app
        .post_form("/admin/party/assessments/template", &[("items", "")])
        .await;
    expect(
        "/admin/party/assessments/template",
        "POST",
        gate(u, manages, "POST", 422),
        &res,
    );
    let res = app.get(&format!("{path}/assessments/2014")).await;
    expect(
        "/admin/party/{id}/assessments/{year}",
        "GET",
        gate(u, details, "GET", 200),
        &res,
    );
    // A year before the party organization was set up.
    let res = app
        .post_form(&format!("{path}/assessments/2000"), &[("s1", "1")])
        .await;
    expect(
        "/admin/party/{id}/assessments/{year}",
        "POST",
        gate(u, manages, "POST", 422),
        &res,
    );
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
        "/admin/party/{id}/dissolve",
        "/admin/party/{id}/orgs/{org}/end",
        "/admin/party/{id}/cadres/{cadre}/end",
        "/admin/party/instructors/{id}/orgs/{org}/end",
        "/admin/party/assessments",
        "/admin/party/assessments/template",
        "/admin/party/{id}/assessments/{year}",
        "/api/v1/party/summary",
    ]
}
