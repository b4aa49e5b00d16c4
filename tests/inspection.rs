//! Annual reports, the compliance calendar, inspection figures and the credit lists, through
//! the pages and the API, on both databases.

use crate::common::{TestApp, TestDb};
use crate::db_test;
use crate::demo_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use chrono::Utc;
use shezu::auth::Scope;
use shezu::db::Sql;

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

/// Moves the business date (the `clock_date` setting), as the bureau's administrator would.
pub async fn set_clock(t: &TestDb, day: &str) {
    let mut tx = t.db.begin().await.unwrap();
    let def = shezu::settings::SettingDef::find("clock_date").unwrap();
    shezu::settings::store::set(
        &mut tx.conn(),
        &shezu::audit::Actor::system("test"),
        Utc::now(),
        def,
        day,
        "2000-01-01".parse().unwrap(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Enters a registered social group in 塘沽 and returns its id.
pub async fn social_group(t: &TestDb, name: &str, registered_on: &str) -> i64 {
    crate::evaluation::org(t, name, registered_on).await.0
}

/// A report that passes the form's checks.
pub fn good_report() -> Vec<(&'static str, &'static str)> {
    vec![
        ("income_donations", "120000"),
        ("income_services", "30000.50"),
        ("expenditure_programmes", "90000"),
        ("expenditure_total", "110000"),
        ("assets", "200000"),
        ("liabilities", "20000"),
        ("staff", "3"),
        ("members", "45"),
        ("activities", "举办书画展览4次，培训班12期。"),
        ("party_building", "党员2名，纳入社区联合党支部。"),
    ]
}

/// The organization account files its report for `year` (save, then submit).
pub async fn file_report(app: &TestApp, year: i64, fields: &[(&str, &str)]) {
    let saved = app.post_form(&format!("/reports/{year}"), fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let submitted = app.post_form(&format!("/reports/{year}/submit"), &[]).await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
}

async fn report_id(t: &TestDb, org: i64, year: i64) -> i64 {
    count(
        t,
        &format!("select id from annual_reports where org_id = {org} and year = {year}"),
    )
    .await
}

async fn version_of(t: &TestDb, id: i64) -> String {
    count(
        t,
        &format!("select version from annual_reports where id = {id}"),
    )
    .await
    .to_string()
}

async fn figures(app: &TestApp, year: i64) -> serde_json::Value {
    let res = app
        .get(&format!("/api/v1/inspection/figures?year={year}"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

demo_test!(
    the_demo_inspection_is_complete_and_its_figures_are_counted,
    |t| async move {
        let public = t.app();
        for year in [2013, 2014] {
            let due = count(
                t,
                &format!(
                    "select count(*) from organizations where kind <> 'community' and status in ('active', 'abnormal') and registered_on <= '{year}-12-31'"
                ),
            )
            .await;
            let f = figures(&public, year).await;
            assert_eq!(f["figures"]["due"], due, "{year}: {f}");
            assert_eq!(f["figures"]["reported"], due, "{year}");
            assert_eq!(f["inspection_rate"], "100.0%", "{year}");
            assert_eq!(f["pass_rate"], "100.0%", "{year}");
            assert!(
                f["figures"]["late"].as_i64().unwrap() > 0,
                "some filed late"
            );
        }

        // A new organization registered in 2014 that has not filed: the 2014 rate drops.
        let org = social_group(t, "滨海新区晚报读者协会", "2014-03-01").await;
        let before = figures(&public, 2014).await;
        assert_eq!(before["figures"]["overdue"], 1);
        assert_ne!(before["inspection_rate"], "100.0%");

        // It files (late: the demo's business date is 2015-06-30) and fails the inspection.
        let secretary = t.app_as("duzhe", "org", None, Some(&org.to_string())).await;
        file_report(&secretary, 2014, &good_report()).await;
        let page = secretary.get("/reports").await;
        assert!(page.body.contains("逾期 30 天报送"), "{}", page.body);
        let registrar = t.app_as("wangmin", "registrar", None, None).await;
        let id = report_id(t, org, 2014).await;
        let v = version_of(t, id).await;
        let res = registrar
            .post_form(
                &format!("/admin/reports/{id}/review"),
                &[
                    ("decision", "fail"),
                    ("reasons", "账目混乱，未按章程换届。"),
                    ("version", &v),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let after = figures(&public, 2014).await;
        assert_eq!(after["inspection_rate"], "100.0%");
        assert_eq!(after["figures"]["fail"], 1);
        assert_ne!(after["pass_rate"], "100.0%");
        assert_eq!(
            after["figures"]["late"].as_i64().unwrap(),
            before["figures"]["late"].as_i64().unwrap() + 1
        );

        // The public profile and the API show the year's filing and result.
        let profile = public.get(&format!("/orgs/{org}")).await;
        assert!(
            profile.body.contains("逾期 30 天报送") && profile.body.contains("不合格"),
            "{}",
            profile.body
        );
        let api = public
            .get(&format!("/api/v1/organizations/{org}"))
            .await
            .json();
        let years = api["compliance"]["annual_reports"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            years
                .iter()
                .any(|y| y["year"] == 2014 && y["filing"] == "late" && y["result"] == "fail"),
            "{api}"
        );

        // Next year's report needs a rectification report; without it nothing is filed.
        crate::inspection::set_clock(t, "2016-04-01").await;
        let saved = secretary.post_form("/reports/2015", &good_report()).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let refused = secretary.post_form("/reports/2015/submit", &[]).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(refused.body.contains("须填写整改报告"), "{}", refused.body);
        assert_eq!(
            count(t, &format!("select count(*) from annual_reports where org_id = {org} and year = 2015 and state = 'draft'")).await,
            1
        );
    }
);

db_test!(
    a_bad_report_is_refused_field_by_field_and_nothing_is_written,
    |t| async move {
        load_areas(t).await;
        set_clock(t, "2015-04-01").await;
        let org = social_group(t, "滨海新区书法协会", "2012-05-01").await;
        let app = t.app_as("shufa", "org", None, Some(&org.to_string())).await;
        let mut fields = good_report();
        fields.retain(|(k, _)| !matches!(*k, "assets" | "activities" | "expenditure_programmes"));
        fields.push(("assets", "-5000"));
        fields.push(("expenditure_programmes", "999999"));
        fields.push(("activities", ""));
        let res = app.post_form("/reports/2014", &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        for message in [
            "金额不能为负数",
            "公益事业支出不能大于费用总额",
            "此项为必填项",
        ] {
            assert!(res.body.contains(message), "{message}: {}", res.body);
        }
        assert_eq!(count(t, "select count(*) from annual_reports").await, 0);
        // A year it did not have to report for (not registered yet) does not exist for it.
        assert_eq!(app.get("/reports/2011").await.status, StatusCode::NOT_FOUND);
        // Nor a year still running.
        assert_eq!(app.get("/reports/2015").await.status, StatusCode::NOT_FOUND);
        // A reviewer must give reasons for anything but a pass.
        file_report(&app, 2014, &good_report()).await;
        let registrar = t.app_as("wangmin", "registrar", None, None).await;
        let id = count(t, "select id from annual_reports").await;
        let res = registrar
            .post_form(
                &format!("/admin/reports/{id}/review"),
                &[
                    ("decision", "basic_pass"),
                    ("reasons", ""),
                    ("version", "2"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
        assert_eq!(
            count(
                t,
                "select count(*) from annual_reports where state = 'submitted'"
            )
            .await,
            1
        );
        // A filed report can no longer be edited by the organization.
        let res = app.post_form("/reports/2014", &good_report()).await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    }
);

db_test!(
    an_organization_that_never_reports_is_listed_escalated_and_leaves_by_the_rules,
    |t| async move {
        load_areas(t).await;
        let good = social_group(t, "滨海新区守信协会", "2012-01-10").await;
        let silent = social_group(t, "滨海新区失联协会", "2012-01-10").await;
        let registrar = t.app_as("wangmin", "registrar", None, None).await;
        let good_app = t
            .app_as("shouxin", "org", None, Some(&good.to_string()))
            .await;
        let silent_app = t
            .app_as("shilian", "org", None, Some(&silent.to_string()))
            .await;
        set_clock(t, "2015-05-01").await;
        file_report(&good_app, 2014, &good_report()).await;
        let page = silent_app.get("/reports").await;
        assert!(
            page.body.contains("距截止还有 30 天") || page.body.contains("还有 30 天"),
            "{}",
            page.body
        );
        let sweep = || async {
            let res = registrar.post_form("/admin/credit/sweep", &[]).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        };
        let open = |list: &'static str| {
            format!(
                "select count(*) from credit_listings where org_id = {silent} and list = '{list}' and removed_on is null"
            )
        };

        // Before the deadline nobody is listed.
        sweep().await;
        assert_eq!(count(t, "select count(*) from credit_listings").await, 0);

        // The day after the deadline: the silent one is on the abnormal list, the other not.
        set_clock(t, "2015-06-01").await;
        sweep().await;
        sweep().await; // idempotent
        assert_eq!(count(t, &open("abnormal")).await, 1);
        assert_eq!(
            count(
                t,
                "select count(*) from credit_listings where listed_on = '2015-06-01'"
            )
            .await,
            1
        );
        assert_eq!(
            count(
                t,
                &format!("select count(*) from credit_listings where org_id = {good}")
            )
            .await,
            0
        );
        let page = silent_app.get("/reports").await;
        assert!(page.body.contains("逾期 1 天未报送"), "{}", page.body);

        // A missed report does not expire after six months: it must be filed.
        set_clock(t, "2016-01-15").await;
        sweep().await;
        assert_eq!(count(t, &open("abnormal")).await, 1);
        let listing = count(
            t,
            &format!("select id from credit_listings where org_id = {silent}"),
        )
        .await;
        let res = registrar
            .post_form(
                &format!("/admin/credit/{listing}/remove"),
                &[("reason", "rectified"), ("removal_detail", "电话联系")],
            )
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT, "not fixed: {}", res.body);

        // Two full years on the abnormal list: the serious list, from that day.
        set_clock(t, "2017-06-01").await;
        sweep().await;
        assert_eq!(count(t, &open("abnormal")).await, 0);
        assert_eq!(count(t, &open("serious")).await, 1);
        let serious = count(
            t,
            &format!("select id from credit_listings where org_id = {silent} and list = 'serious'"),
        )
        .await;
        assert_eq!(
            count(t, &format!("select count(*) from credit_listings where id = {serious} and listed_on = '2017-06-01' and escalated_from = {listing}")).await,
            1
        );
        let public = t.app();
        let f = public
            .get("/api/v1/inspection/figures?year=2016")
            .await
            .json();
        assert_eq!(
            (f["abnormal_listed"].as_i64(), f["serious_listed"].as_i64()),
            (Some(0), Some(1)),
            "{f}"
        );
        let lists = public.get("/api/v1/credit-lists?list=serious").await.json();
        assert_eq!(lists["total"], 1, "{lists}");
        assert_eq!(lists["items"][0]["organization"], "滨海新区失联协会");
        let profile = public.get(&format!("/orgs/{silent}")).await;
        assert!(
            profile.body.contains("严重违法失信名单")
                && profile.body.contains("转入严重违法失信名单"),
            "{}",
            profile.body
        );

        // Leaving the serious list: not before two full years, and only once the report is filed.
        let remove = |reason: &'static str| {
            let registrar = registrar.clone();
            async move {
                registrar
                    .post_form(
                        &format!("/admin/credit/{serious}/remove"),
                        &[("reason", reason), ("removal_detail", "核实")],
                    )
                    .await
            }
        };
        assert_eq!(remove("rectified").await.status, StatusCode::CONFLICT);
        set_clock(t, "2018-06-01").await;
        let early = remove("served").await;
        assert_eq!(early.status, StatusCode::CONFLICT);
        assert!(early.body.contains("2019-06-01"), "{}", early.body);
        set_clock(t, "2019-06-02").await;
        let unfixed = remove("served").await;
        assert_eq!(unfixed.status, StatusCode::CONFLICT, "{}", unfixed.body);
        assert!(unfixed.body.contains("尚未整改"), "{}", unfixed.body);
        file_report(&silent_app, 2014, &good_report()).await;
        assert_eq!(remove("served").await.status, StatusCode::SEE_OTHER);
        assert_eq!(count(t, &open("serious")).await, 0);
        assert_eq!(public.get("/api/v1/credit-lists").await.json()["total"], 0);
        // The history stays public.
        let all = public.get("/api/v1/credit-lists?all=true").await.json();
        assert_eq!(all["total"], 2, "{all}");
    }
);

db_test!(
    a_sweep_in_small_pages_lists_and_escalates_everyone_once,
    |t| async move {
        use shezu::inspection::credit::{Swept, sweep_in_batches};
        load_areas(t).await;
        let good = social_group(t, "滨海新区守信协会", "2012-01-10").await;
        for i in 0..5 {
            social_group(t, &format!("滨海新区失联协会{i}"), "2012-01-10").await;
        }
        let good_app = t
            .app_as("shouxin", "org", None, Some(&good.to_string()))
            .await;
        set_clock(t, "2015-05-01").await;
        file_report(&good_app, 2014, &good_report()).await;
        // Two candidates a page, a transaction each: five silent organizations take three
        // pages of missed reports and three of listings in force.
        let sweep = |page: i64| async move {
            sweep_in_batches(&t.db, &shezu::audit::Actor::system("sweep"), page)
                .await
                .unwrap()
                .1
        };
        let open = |list: &str| {
            format!(
                "select count(*) from credit_listings where list = '{list}' and removed_on is null"
            )
        };
        set_clock(t, "2015-06-01").await;
        assert_eq!(sweep(2).await.listed, 5);
        assert_eq!(count(t, &open("abnormal")).await, 5);
        assert_eq!(
            sweep(2).await,
            Swept::default(),
            "a second sweep changes nothing"
        );

        set_clock(t, "2017-06-01").await;
        let swept = sweep(2).await;
        assert_eq!((swept.escalated, swept.listed), (5, 0), "{swept:?}");
        assert_eq!(count(t, &open("abnormal")).await, 0);
        assert_eq!(count(t, &open("serious")).await, 5);
        assert_eq!(sweep(1).await, Swept::default());
        assert_eq!(count(t, "select count(*) from credit_listings").await, 10);
    }
);

db_test!(
    a_listing_can_be_objected_to_and_removed_when_the_objection_holds,
    |t| async move {
        load_areas(t).await;
        set_clock(t, "2015-06-30").await;
        let org = social_group(t, "滨海新区摄影协会", "2012-01-10").await;
        let registrar = t.app_as("wangmin", "registrar", None, None).await;
        let secretary = t
            .app_as("sheying", "org", None, Some(&org.to_string()))
            .await;
        // Staff must give facts and evidence; a bad listing changes nothing.
        let res = registrar
            .post_form(
                "/admin/credit",
                &[
                    ("org", "滨海新区摄影协会"),
                    ("reason", "unreachable"),
                    ("detail", ""),
                    ("evidence", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(count(t, "select count(*) from credit_listings").await, 0);
        let res = registrar
            .post_form(
                "/admin/credit",
                &[
                    ("org", "滨海新区摄影协会"),
                    ("reason", "unreachable"),
                    ("detail", "两次挂号信无人签收。"),
                    ("evidence", "XA1001, XA1002"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let listing = count(t, "select id from credit_listings").await;
        let page = secretary.get("/reports").await;
        assert!(
            page.body.contains("通过登记的住所无法取得联系"),
            "{}",
            page.body
        );
        let res = secretary
            .post_form(
                &format!("/credit/{listing}/objection"),
                &[("grounds", "信件寄错了门牌号，我们一直在此办公。")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let twice = secretary
            .post_form(
                &format!("/credit/{listing}/objection"),
                &[("grounds", "再次提出")],
            )
            .await;
        assert_eq!(twice.status, StatusCode::CONFLICT);
        let objection = count(t, "select id from credit_objections").await;
        let res = registrar
            .post_form(
                &format!("/admin/credit/{listing}/objections/{objection}"),
                &[
                    ("upheld", "yes"),
                    ("decision", "经核实门牌号有误，异议成立。"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(
            count(t, &format!("select count(*) from credit_listings where id = {listing} and removal_reason = 'objection_upheld' and removed_on = '2015-06-30'")).await,
            1
        );
        // Another organization's listing is not this account's to object to.
        let other = t.app_as("other", "org", None, None).await;
        let res = other
            .post_form(&format!("/credit/{listing}/objection"), &[("grounds", "x")])
            .await;
        assert!(matches!(
            res.status,
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        ));
    }
);

/// What the route × role walk (tests/scope.rs) needs: a draft report of the TEDA organization
/// for 2025 (a closed year on the real date the walk runs on), a listing of it with an open
/// objection.
pub struct WalkSeed {
    report_id: i64,
    listing_id: i64,
    objection_id: i64,
}

/// Seeds [`WalkSeed`] for the organization `teda`.
pub async fn seed_walk(t: &TestDb, teda: i64) -> WalkSeed {
    use shezu::inspection::credit::{self, NewListing};
    let mut tx = t.db.begin().await.unwrap();
    let mut c = tx.conn();
    let actor = shezu::audit::Actor::system("seed");
    let form = shezu::inspection::ReportForm {
        activities: "活动".into(),
        party_building: "党建".into(),
        ..Default::default()
    };
    let report = form.parse(false).unwrap();
    let report_id =
        shezu::inspection::store::save(&mut c, &actor, Utc::now(), teda, 2025, &report, None)
            .await
            .unwrap();
    let row = shezu::inspection::store::find(&mut c, teda, 2025)
        .await
        .unwrap()
        .unwrap();
    shezu::inspection::store::submit(&mut c, &actor, Utc::now(), &row, false)
        .await
        .unwrap();
    let new = NewListing {
        org_id: teda,
        reason: shezu::inspection::ListingReason::Unreachable,
        subject_year: None,
        detail: "挂号信退回".into(),
        evidence: "XA1".into(),
        listed_on: "2026-01-05".parse().unwrap(),
        escalated_from: None,
    };
    let listing_id = credit::add(&mut c, &actor, Utc::now(), &new, false)
        .await
        .unwrap();
    let listing = credit::get(&mut c, &Scope::All, listing_id).await.unwrap();
    let objection_id = credit::object(&mut c, &actor, Utc::now(), &listing, "地址无误")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    WalkSeed {
        report_id,
        listing_id,
        objection_id,
    }
}

/// Walks this module's routes as caller `u` (see tests/scope.rs): the organization's pages
/// for its own account only, staff pages within scope, desk actions for credit managers;
/// invalid input is used for the writes so every caller sees the same state. Returns the
/// routes it exercised.
pub async fn walk(app: &TestApp, u: &str, s: &WalkSeed) -> Vec<&'static str> {
    use crate::scope::{IN_TEDA, can_view, gate, visible};
    let org = u == "org1";
    let sees_teda = visible(u).contains(&IN_TEDA);
    let reviews = matches!(u, "admin1" | "registrar1");
    let manages = matches!(u, "admin1" | "registrar1");
    let expect = |route: &str, method: &str, want: u16, got: &crate::common::Answer| {
        assert_eq!(
            got.status.as_u16(),
            want,
            "{u} {method} {route}: {}",
            got.body
        );
    };
    let scoped = |allowed: bool, seen: bool, method: &str, ok: u16| {
        if allowed && !seen {
            404
        } else {
            gate(u, allowed, method, ok)
        }
    };
    expect(
        "/reports",
        "GET",
        gate(u, org, "GET", 200),
        &app.get("/reports").await,
    );
    expect(
        "/reports/{year}",
        "GET",
        gate(u, org, "GET", 200),
        &app.get("/reports/2025").await,
    );
    // Submitted already: the organization may no longer change it.
    let res = app.post_form("/reports/2025", &good_report()).await;
    expect("/reports/{year}", "POST", gate(u, org, "POST", 409), &res);
    let res = app.post_form("/reports/2025/submit", &[]).await;
    expect(
        "/reports/{year}/submit",
        "POST",
        gate(u, org, "POST", 409),
        &res,
    );
    let res = app
        .post_form(
            &format!("/credit/{}/objection", s.listing_id),
            &[("grounds", "")],
        )
        .await;
    expect(
        "/credit/{id}/objection",
        "POST",
        gate(u, org, "POST", 422),
        &res,
    );

    expect(
        "/admin/reports",
        "GET",
        gate(u, can_view(u), "GET", 200),
        &app.get("/admin/reports?year=2025").await,
    );
    let res = app.get(&format!("/admin/reports/{}", s.report_id)).await;
    expect(
        "/admin/reports/{id}",
        "GET",
        scoped(can_view(u), sees_teda, "GET", 200),
        &res,
    );
    // A fail without reasons: refused (422) for reviewers who see it, nothing written.
    let area_reviewer = matches!(u, "tanggu1" | "dagang1");
    let res = app
        .post_form(
            &format!("/admin/reports/{}/review", s.report_id),
            &[("decision", "fail"), ("reasons", ""), ("version", "2")],
        )
        .await;
    let want = if area_reviewer {
        404
    } else {
        gate(u, reviews, "POST", 422)
    };
    expect("/admin/reports/{id}/review", "POST", want, &res);

    expect(
        "/admin/credit",
        "GET",
        gate(u, can_view(u), "GET", 200),
        &app.get("/admin/credit").await,
    );
    let res = app
        .post_form("/admin/credit", &[("org", ""), ("reason", "unreachable")])
        .await;
    expect("/admin/credit", "POST", gate(u, manages, "POST", 422), &res);
    let res = app.get(&format!("/admin/credit/{}", s.listing_id)).await;
    expect(
        "/admin/credit/{id}",
        "GET",
        scoped(can_view(u), sees_teda, "GET", 200),
        &res,
    );
    let res = app
        .post_form(
            &format!("/admin/credit/{}/remove", s.listing_id),
            &[("reason", "rectified"), ("removal_detail", "")],
        )
        .await;
    expect(
        "/admin/credit/{id}/remove",
        "POST",
        gate(u, manages, "POST", 422),
        &res,
    );
    let res = app
        .post_form(
            &format!(
                "/admin/credit/{}/objections/{}",
                s.listing_id, s.objection_id
            ),
            &[("upheld", "no"), ("decision", "")],
        )
        .await;
    expect(
        "/admin/credit/{id}/objections/{objection}",
        "POST",
        gate(u, manages, "POST", 422),
        &res,
    );
    let res = app.post_form("/admin/credit/sweep", &[]).await;
    expect(
        "/admin/credit/sweep",
        "POST",
        gate(u, manages, "POST", 303),
        &res,
    );
    expect(
        "/api/v1/credit-lists",
        "GET",
        200,
        &app.get("/api/v1/credit-lists").await,
    );
    expect(
        "/api/v1/inspection/figures",
        "GET",
        200,
        &app.get("/api/v1/inspection/figures?year=2025").await,
    );
    vec![
        "/reports",
        "/reports/{year}",
        "/reports/{year}/submit",
        "/credit/{id}/objection",
        "/admin/reports",
        "/admin/reports/{id}",
        "/admin/reports/{id}/review",
        "/admin/credit",
        "/admin/credit/{id}",
        "/admin/credit/{id}/remove",
        "/admin/credit/{id}/objections/{objection}",
        "/admin/credit/sweep",
        "/api/v1/credit-lists",
        "/api/v1/inspection/figures",
    ]
}
