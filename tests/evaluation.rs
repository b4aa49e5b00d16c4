//! Classified evaluation (分类评估) end to end through HTTP: a round, eligibility from the
//! records, self-evaluation, expert assignment with recusal, scoring, bands, 公示, a 复核 decided
//! by recorded vote, the final grade on the public profile and the API, expiry; bad input
//! refused with nothing written; the demo's 121 graded organizations counted from records.

use crate::common::{TestApp, TestDb};
use crate::db_test;
use crate::demo_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use shezu::auth::Scope;
use shezu::db::Sql;
use shezu::evaluation::Bands;
use shezu::registry::{OrgForm, OrgKind, store};

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

/// Sets the business date.
pub async fn set_today(t: &TestDb, date: &str) {
    let mut tx = t.db.begin().await.unwrap();
    let def = shezu::settings::SettingDef::find("clock_date").unwrap();
    shezu::settings::store::set(
        &mut tx.conn(),
        &shezu::audit::Actor::system("test"),
        Utc::now(),
        def,
        date,
        NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Creates a social group registered on `registered_on` in 塘沽; returns (id, credit code).
pub async fn org(t: &TestDb, name: &str, registered_on: &str) -> (i64, String) {
    let draft = OrgForm {
        name: name.into(),
        kind: "social_group".into(),
        domain: "culture".into(),
        supervisory_unit: "滨海新区文化和旅游局".into(),
        legal_representative: "钱进".into(),
        area_code: "120116001016".into(),
        registered_on: registered_on.into(),
        ..OrgForm::default()
    }
    .parse()
    .unwrap();
    let mut tx = t.db.begin().await.unwrap();
    let row = store::create(
        &mut tx.conn(),
        &Scope::All,
        &shezu::audit::Actor::system("seed"),
        Utc::now(),
        &draft,
        "120116",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (row.id, row.uscc.unwrap())
}

/// Records a reviewed annual report with `result` for `year`.
pub async fn report(t: &TestDb, org: i64, year: i64, result: &str) {
    let mut tx = t.db.begin().await.unwrap();
    Sql::new("insert into annual_reports (org_id, year, state, income_donations_fen, income_government_fen, income_services_fen, income_dues_fen, income_other_fen, income_total_fen, expenditure_programmes_fen, expenditure_total_fen, assets_fen, liabilities_fen, net_assets_fen, staff, members, volunteers, party_members, activities, officers, changes, donations_and_grants, awards, party_building, rectification, submitted_at, submitted_by, supervisor_opinion, result, reasons, reviewed_at, reviewed_by, version, created_at, updated_at) values ($1, $2, 'reviewed', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, '', '', '', '', '', '', '', $3, 'org', null, $4, null, $3, 'registrar', 1, $3, $3)")
        .arg(org)
        .arg(year)
        .arg(Utc::now())
        .arg(result)
        .execute(&mut tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// The scored indicators of the social groups' template: (id, name, max, bonus).
pub async fn leaves(t: &TestDb) -> Vec<(i64, String, i64, bool)> {
    let mut c = t.db.acquire().await.unwrap();
    let (_, rows) = shezu::evaluation::store::template(&mut c.conn(), OrgKind::SocialGroup)
        .await
        .unwrap()
        .unwrap();
    rows.iter()
        .filter(|r| !rows.iter().any(|c| c.parent_id == Some(r.id)))
        .map(|r| (r.id, r.name.clone(), r.max_points, r.bonus))
        .collect()
}

/// Form fields scoring every leaf at `percent` of its maximum (bonus 0).
pub fn scores(leaves: &[(i64, String, i64, bool)], percent: i64) -> Vec<(String, String)> {
    leaves
        .iter()
        .map(|(id, _, max, bonus)| {
            let v = if *bonus { 0 } else { max * percent / 100 };
            (format!("s{id}"), v.to_string())
        })
        .collect()
}

fn total(fields: &[(String, String)]) -> i64 {
    fields.iter().map(|(_, v)| v.parse::<i64>().unwrap()).sum()
}

async fn post(app: &TestApp, uri: &str, fields: &[(String, String)]) -> crate::common::Answer {
    let f: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.post_form(uri, &f).await
}

fn id_after(location: &str, prefix: &str) -> i64 {
    location.trim_start_matches(prefix).parse().unwrap()
}

/// Creates a 2014 round through the staff page; returns its id.
pub async fn create_round(staff: &TestApp) -> i64 {
    let res = staff
        .post_form(
            "/admin/evaluations",
            &[
                ("title", "2014年度社会组织评估"),
                ("year", "2014"),
                ("social_group", "on"),
                ("private_non_enterprise", "on"),
                ("apply_from", "2014-04-01"),
                ("apply_until", "2014-05-31"),
                ("publicity_days", "7"),
                ("min_5a", "951"),
                ("min_4a", "901"),
                ("min_3a", "851"),
                ("min_2a", "801"),
                ("min_1a", "701"),
                ("committee", "王建国\n李淑芬\n张志强"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    id_after(res.location(), "/admin/evaluations/")
}

db_test!(a_round_end_to_end, |t| async move {
    load_areas(t).await;
    set_today(t, "2014-04-15").await;
    let (a, a_code) = org(t, "滨海新区书画艺术协会", "2010-05-01").await;
    let (young, _) = org(t, "滨海新区青年摄影协会", "2013-01-10").await;
    let (failed, _) = org(t, "滨海新区舞蹈艺术协会", "2010-05-01").await;
    report(t, a, 2013, "pass").await;
    report(t, young, 2013, "pass").await;
    report(t, failed, 2013, "fail").await;
    let staff = t.app_as("reg", "registrar", None, None).await;
    let org_app = t.app_as("shuhua", "org", None, Some(&a.to_string())).await;
    let young_app = t
        .app_as("sheying", "org", None, Some(&young.to_string()))
        .await;
    let failed_app = t
        .app_as("wudao", "org", None, Some(&failed.to_string()))
        .await;
    let e1 = t.app_as("zhuanjia1", "expert", None, None).await;
    let e2 = t.app_as("zhuanjia2", "expert", None, None).await;
    let e3 = t.app_as("zhuanjia3", "expert", None, None).await;
    let round = create_round(&staff).await;
    let page = staff.get(&format!("/admin/evaluations/{round}")).await;
    assert!(page.body.contains("5A ≥ 951"), "bands are stored per round");
    let leaves = leaves(t).await;
    assert!(leaves.len() > 15);

    // Eligibility from the records: the organization sees the round; the others are refused,
    // each with its rule, and nothing is written.
    let home = org_app.get("/evaluation").await;
    assert!(
        home.body.contains(&format!("/evaluation/rounds/{round}")),
        "{}",
        home.body
    );
    let own = scores(&leaves, 95);
    let res = post(&young_app, &format!("/evaluation/rounds/{round}"), &own).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("满两个年度"), "{}", res.body);
    let res = post(
        &failed_app,
        &format!("/evaluation/rounds/{round}?lang=en"),
        &own,
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body.contains("failed the 2013 annual inspection"),
        "{}",
        res.body
    );
    // A self-score above its maximum is refused naming the indicator.
    let mut bad = own.clone();
    bad[0].1 = (leaves[0].2 + 1).to_string();
    let res = post(&org_app, &format!("/evaluation/rounds/{round}"), &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains(&leaves[0].1), "names the indicator");
    assert_eq!(
        count(t, "select count(*) from evaluation_applications").await,
        0
    );
    assert_eq!(count(t, "select count(*) from evaluation_scores").await, 0);

    // Applying with a self-evaluation, asking expert 3 to recuse.
    let mut fields = own.clone();
    fields.push(("recuse".into(), "zhuanjia3".into()));
    let res = post(&org_app, &format!("/evaluation/rounds/{round}"), &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let app_id = id_after(res.location(), "/evaluation/applications/");
    assert_eq!(
        count(t, "select self_total from evaluation_applications").await,
        total(&own)
    );

    // Assignment with recusal: a former employee (left less than two years ago) and the expert
    // the organization asked to recuse are refused; expert 1 is assigned.
    set_today(t, "2014-06-10").await;
    let res = staff
        .post_form(
            "/admin/evaluation-experts",
            &[
                ("expert", "zhuanjia2"),
                ("org", &a_code),
                ("started_on", "2008-01-01"),
                ("ended_on", "2013-01-31"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let assign = |who: &'static str| {
        let staff = &staff;
        async move {
            staff
                .post_form(
                    &format!("/admin/evaluation-applications/{app_id}/assign"),
                    &[("expert", who)],
                )
                .await
        }
    };
    let res = assign("zhuanjia2").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body.contains("离职") && res.body.contains("未满两年"),
        "{}",
        res.body
    );
    let res = assign("zhuanjia3").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("申请您回避"), "{}", res.body);
    assert_eq!(assign("zhuanjia1").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        count(t, "select count(*) from evaluation_assignments").await,
        1
    );
    // Neither refused expert can open or score it (they are not assigned: 404).
    assert_eq!(
        e2.get(&format!("/expert/evaluations/{app_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Scoring: above a maximum refused naming the indicator, nothing written; then accepted.
    let expert_scores = scores(&leaves, 90);
    let mut bad = expert_scores.clone();
    bad[2].1 = (leaves[2].2 + 5).to_string();
    let res = post(&e1, &format!("/expert/evaluations/{app_id}"), &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains(&leaves[2].1), "{}", res.body);
    let mut bad = expert_scores.clone();
    bad[1].1 = "-3".into();
    assert_eq!(
        post(&e1, &format!("/expert/evaluations/{app_id}"), &bad)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        count(
            t,
            "select count(*) from evaluation_scores where expert_user_id is not null"
        )
        .await,
        0
    );
    let res = post(
        &e1,
        &format!("/expert/evaluations/{app_id}"),
        &expert_scores,
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    // An expert found to have worked there after assignment is refused with 403 and a reason.
    let res = staff
        .post_form(
            "/admin/evaluation-experts",
            &[
                ("expert", "zhuanjia1"),
                ("org", &a_code),
                ("started_on", "2012-01-01"),
                ("ended_on", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let res = e1.get(&format!("/expert/evaluations/{app_id}")).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains("须回避"), "{}", res.body);
    let before = count(t, "select count(*) from audit_log").await;
    let res = post(
        &e1,
        &format!("/expert/evaluations/{app_id}"),
        &scores(&leaves, 50),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        count(t, "select count(*) from audit_log").await,
        before,
        "nothing written"
    );
    assert_eq!(
        count(t, "select cast(sum(points) as bigint) from evaluation_scores where expert_user_id is not null").await,
        total(&expert_scores)
    );
    Sql::new("delete from expert_employments where org_id = $1 and ended_on is null")
        .arg(a)
        .execute(&mut t.db.acquire().await.unwrap().conn())
        .await
        .unwrap();
    let _ = e3;

    // Committee: an adjustment needs a reason; the grade comes from the round's bands.
    let propose = |adj: &'static str, reason: &'static str| {
        let staff = &staff;
        async move {
            staff
                .post_form(
                    &format!("/admin/evaluation-applications/{app_id}/propose"),
                    &[("adjustment", adj), ("adjustment_reason", reason)],
                )
                .await
        }
    };
    assert_eq!(
        propose("5", "").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        propose("5", "现场核查发现党建工作成效突出").await.status,
        StatusCode::SEE_OTHER
    );
    let score = total(&expert_scores) + 5;
    let proposed = Bands::anqing().grade_for(score).unwrap();
    assert_eq!(
        count(t, "select final_score from evaluation_applications").await,
        score
    );

    // 公示: the proposed grade shows publicly during it.
    set_today(t, "2014-09-03").await;
    let res = staff
        .post_form(
            &format!("/admin/evaluations/{round}/publicity"),
            &[("start", "2014-09-02")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let public = t.app().get("/evaluations").await;
    assert!(public.body.contains("滨海新区书画艺术协会"));
    assert!(public.body.contains(proposed.label(shezu::i18n::Lang::Zh)));
    // Finalizing during the 公示 is refused.
    assert_eq!(
        staff
            .post_form(&format!("/admin/evaluations/{round}/finalize"), &[])
            .await
            .status,
        StatusCode::CONFLICT
    );

    // 复核: requested by the organization, decided by a recorded majority of all members.
    let res = org_app
        .post_form(
            &format!("/evaluation/applications/{app_id}/review"),
            &[("grounds", "专家未查阅补充材料"), ("requested_grade", "5A")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let mut c = t.db.acquire().await.unwrap();
    let members: Vec<(i64, String)> =
        shezu::evaluation::store::committee(&mut c.conn(), shezu::evaluation::RoundId(round))
            .await
            .unwrap();
    drop(c);
    let mut votes: Vec<(String, String)> = members
        .iter()
        .zip(["change", "keep"])
        .map(|((id, _), v)| (format!("vote_{id}"), v.to_owned()))
        .collect();
    votes.push(("new_grade".into(), "5A".into()));
    votes.push(("decision".into(), "复核".into()));
    let uri = format!("/admin/evaluation-applications/{app_id}/review");
    let res = post(&staff, &uri, &votes).await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "every member's vote"
    );
    assert!(res.body.contains(&members[2].1), "{}", res.body);
    votes.push((format!("vote_{}", members[2].0), "change".into()));
    let res = post(&staff, &uri, &votes).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        count(t, "select count(*) from evaluation_review_votes").await,
        3
    );
    assert_eq!(
        count(
            t,
            "select count(*) from evaluation_applications where proposed_grade = '5A'"
        )
        .await,
        1,
        "2 of 3 members: the grade changes"
    );

    // Final grade: five years on the registry record, the profile and the API.
    set_today(t, "2014-09-20").await;
    let res = staff
        .post_form(&format!("/admin/evaluations/{round}/finalize"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let profile = t.app().get(&format!("/orgs/{a_code}")).await;
    assert!(profile.body.contains("badge grade"), "{}", profile.body);
    assert!(profile.body.contains("5A"), "{}", profile.body);
    assert!(profile.body.contains("2019-09-19"), "valid five years");
    let api = t
        .app()
        .get(&format!("/api/v1/organizations/{a_code}"))
        .await
        .json();
    assert_eq!(api["grade"], "5A");
    assert_eq!(api["grade_expires_on"], "2019-09-19");
    assert_eq!(
        count(
            t,
            "select count(*) from org_change_fields where field = 'grade'"
        )
        .await,
        1,
        "the registry's history records the grade"
    );
    let cert = t
        .app()
        .get(&format!("/evaluations/certificates/{app_id}"))
        .await;
    assert_eq!(cert.status, StatusCode::OK);
    assert!(cert.body.contains("滨海新区书画艺术协会"));

    // An expired grade stops showing.
    set_today(t, "2019-09-20").await;
    let profile = t.app().get(&format!("/orgs/{a_code}")).await;
    assert!(
        !profile.body.contains("badge grade"),
        "expired grade hidden (the timeline still records it)"
    );
    let api = t
        .app()
        .get(&format!("/api/v1/organizations/{a_code}"))
        .await
        .json();
    assert!(api["grade"].is_null());
    let mut c = t.db.acquire().await.unwrap();
    let today = NaiveDate::from_ymd_opt(2019, 9, 20).unwrap();
    assert_eq!(
        shezu::evaluation::store::count_graded(&mut c.conn(), today)
            .await
            .unwrap(),
        0
    );
});

db_test!(template_edits_keep_the_sums, |t| async move {
    load_areas(t).await;
    let staff = t.app_as("reg", "registrar", None, None).await;
    let page = staff.get("/admin/evaluation-templates/social_group").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("内部治理") && page.body.contains("工作绩效"));
    let unit = staff
        .get("/admin/evaluation-templates/private_non_enterprise")
        .await;
    assert!(unit.body.contains("业务活动和诚信建设"));
    let leaves = leaves(t).await;
    let (id, name, max, _) = leaves[0].clone();
    // Raising one leaf alone breaks its parent's sum: refused, nothing written.
    let res = staff
        .post_form(
            "/admin/evaluation-templates/social_group",
            &[
                (&format!("name_{id}") as &str, &name as &str),
                (&format!("max_{id}"), &(max + 5).to_string()),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("应等于其标准分"), "{}", res.body);
    // A rename is fine and audited.
    let res = staff
        .post_form(
            "/admin/evaluation-templates/social_group",
            &[
                (&format!("name_{id}") as &str, "登记与章程"),
                (&format!("max_{id}"), &max.to_string()),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        count(
            t,
            "select count(*) from evaluation_indicators where name = '登记与章程'"
        )
        .await,
        1
    );
    // Others may not edit.
    let window = t.app_as("win", "window", None, None).await;
    assert_eq!(
        window
            .get("/admin/evaluation-templates/social_group")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
});

demo_test!(demo_grades_121_organizations_from_records, |t| async move {
    let mut c = t.db.acquire().await.unwrap();
    let today = shezu::clock::today(&mut c.conn()).await.unwrap();
    assert_eq!(today.to_string(), "2015-06-30");
    let graded = shezu::evaluation::store::count_graded(&mut c.conn(), today)
        .await
        .unwrap();
    assert_eq!(graded, 121);
    let by_grade: Vec<(String, i64)> =
        Sql::new("select grade, count(*) from organizations where grade is not null group by grade order by grade")
            .fetch_all(&mut c.conn())
            .await
            .unwrap();
    assert_eq!(by_grade.len(), 5, "spread over 1A–5A: {by_grade:?}");
    drop(c);
    let api = t
        .app()
        .get("/api/v1/organizations?facets=grade")
        .await
        .json();
    let facet_total: i64 = api["facets"]["grade"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(facet_total, 121);
    // Changing a record moves the count: one organization is deregistered.
    let id = count(
        t,
        "select min(id) from organizations where grade is not null",
    )
    .await;
    Sql::new("update organizations set status = 'deregistered' where id = $1")
        .arg(id)
        .execute(&mut t.db.acquire().await.unwrap().conn())
        .await
        .unwrap();
    let mut c = t.db.acquire().await.unwrap();
    assert_eq!(
        shezu::evaluation::store::count_graded(&mut c.conn(), today)
            .await
            .unwrap(),
        120
    );
    // The rounds went through the real steps.
    assert_eq!(
        count(
            t,
            "select count(*) from evaluation_rounds where finalized_on is not null"
        )
        .await,
        2
    );
    assert_eq!(
        count(t, "select count(*) from evaluation_review_votes").await,
        10
    );
    assert!(
        count(
            t,
            "select count(*) from evaluation_scores where expert_user_id is not null"
        )
        .await
            > 121 * 30
    );
    let public = t.app().get("/evaluations").await;
    assert!(public.body.contains("(120)") || public.body.contains("(121)"));
});

/// The evaluation routes for one caller of the route × role walk (tests/scope.rs): staff
/// (`admin1`, `registrar1`), the expert, the organization's account, the others refused and
/// anonymous visitors sent to sign in; records outside reach answer 404. Returns the route
/// patterns exercised.
pub async fn walk_routes(app: &TestApp, u: &str) -> Vec<&'static str> {
    let staff = matches!(u, "admin1" | "registrar1");
    let expert = u == "expert1";
    let org = u == "org1";
    let gate = |allowed: bool, method: &str, ok: u16| match (u, allowed) {
        ("anonymous", _) if method == "GET" => 303,
        ("anonymous", _) => 401,
        (_, false) => 403,
        (_, true) => ok,
    };
    let mut seen = Vec::new();
    let cases: [(&'static str, &str, &str, bool, u16); 20] = [
        (
            "/admin/evaluations",
            "GET",
            "/admin/evaluations",
            staff,
            200,
        ),
        (
            "/admin/evaluations",
            "POST",
            "/admin/evaluations",
            staff,
            422,
        ),
        (
            "/admin/evaluations/{id}",
            "GET",
            "/admin/evaluations/999999",
            staff,
            404,
        ),
        (
            "/admin/evaluations/{id}/publicity",
            "POST",
            "/admin/evaluations/999999/publicity",
            staff,
            404,
        ),
        (
            "/admin/evaluations/{id}/finalize",
            "POST",
            "/admin/evaluations/999999/finalize",
            staff,
            404,
        ),
        (
            "/admin/evaluation-templates/{kind}",
            "GET",
            "/admin/evaluation-templates/social_group",
            staff,
            200,
        ),
        (
            "/admin/evaluation-templates/{kind}",
            "POST",
            "/admin/evaluation-templates/community",
            staff,
            404,
        ),
        (
            "/admin/evaluation-applications/{id}",
            "GET",
            "/admin/evaluation-applications/999999",
            staff,
            404,
        ),
        (
            "/admin/evaluation-applications/{id}/assign",
            "POST",
            "/admin/evaluation-applications/999999/assign",
            staff,
            404,
        ),
        (
            "/admin/evaluation-applications/{id}/propose",
            "POST",
            "/admin/evaluation-applications/999999/propose",
            staff,
            404,
        ),
        (
            "/admin/evaluation-applications/{id}/review",
            "POST",
            "/admin/evaluation-applications/999999/review",
            staff,
            404,
        ),
        (
            "/admin/evaluation-experts",
            "GET",
            "/admin/evaluation-experts",
            staff,
            200,
        ),
        (
            "/admin/evaluation-experts",
            "POST",
            "/admin/evaluation-experts",
            staff,
            422,
        ),
        ("/evaluation", "GET", "/evaluation", org, 200),
        (
            "/evaluation/rounds/{id}",
            "GET",
            "/evaluation/rounds/999999",
            org,
            404,
        ),
        (
            "/evaluation/rounds/{id}",
            "POST",
            "/evaluation/rounds/999999",
            org,
            404,
        ),
        (
            "/evaluation/applications/{id}",
            "GET",
            "/evaluation/applications/999999",
            org,
            404,
        ),
        (
            "/evaluation/applications/{id}/review",
            "POST",
            "/evaluation/applications/999999/review",
            org,
            404,
        ),
        (
            "/expert/evaluations",
            "GET",
            "/expert/evaluations",
            expert,
            200,
        ),
        (
            "/expert/evaluations/{id}",
            "GET",
            "/expert/evaluations/999999",
            expert,
            404,
        ),
    ];
    let more: [(&'static str, &str, &str, bool, u16); 2] = [
        (
            "/expert/evaluations/{id}",
            "POST",
            "/expert/evaluations/999999",
            expert,
            404,
        ),
        (
            "/expert/evaluations/{id}/conflict",
            "POST",
            "/expert/evaluations/999999/conflict",
            expert,
            404,
        ),
    ];
    for (route, method, path, allowed, ok) in cases.into_iter().chain(more) {
        let res = if method == "GET" {
            app.get(path).await
        } else {
            app.post_form(path, &[("start", "2014-09-01"), ("expert", "expert1")])
                .await
        };
        assert_eq!(
            res.status.as_u16(),
            gate(allowed, method, ok),
            "{u} {method} {route}: {}",
            res.body
        );
        seen.push(route);
    }
    // Public: the same for everyone.
    let res = app.get("/evaluations").await;
    assert_eq!(res.status, StatusCode::OK, "{u} /evaluations");
    let res = app.get("/evaluations/certificates/999999").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{u} certificate");
    seen.extend(["/evaluations", "/evaluations/certificates/{id}"]);
    seen
}
