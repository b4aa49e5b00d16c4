//! Online registration end to end (browserless): establishment, filing, change and
//! deregistration through applicant, window and registrar; concurrent approvals; bad input.

use crate::common::{TestApp, TestDb};
use crate::db_test;
use crate::registry::load_areas;
use axum::http::StatusCode;

/// The id of the application a redirect points at.
fn id_from(location: &str) -> i64 {
    location
        .trim_start_matches("/applications/")
        .parse()
        .unwrap()
}

async fn version(t: &TestDb, id: i64) -> String {
    let mut c = t.db.acquire().await.unwrap();
    let (v,): (i64,) = shezu::db::Sql::new("select version from applications where id = $1")
        .arg(id)
        .fetch_one(&mut c.conn())
        .await
        .unwrap();
    v.to_string()
}

async fn act(
    t: &TestDb,
    app: &TestApp,
    id: i64,
    action: &str,
    reason: &str,
) -> crate::common::Answer {
    let v = version(t, id).await;
    app.post_form(
        &format!("/applications/{id}/action"),
        &[("action", action), ("reason", reason), ("version", &v)],
    )
    .await
}

fn welfare_establishment() -> Vec<(&'static str, &'static str)> {
    vec![
        ("application_kind", "establishment"),
        ("name", "滨海新区助学公益促进会"),
        ("kind", "social_group"),
        ("domain", "charity"),
        ("direct_registration", "on"),
        ("legal_representative", "韩梅"),
        ("area_code", "120116001016"),
        ("registered_on", "2014-06-01"),
        ("registered_capital_yuan", "30000"),
        ("address", "天津市滨海新区塘沽街道紫云园社区文化路8号"),
        ("submit_now", "1"),
    ]
}

db_test!(
    an_establishment_goes_from_applicant_to_the_public_directory,
    |t| async move {
        load_areas(t).await;
        let applicant = t.app_as("hanmei", "org", None, None).await;
        let window = t.app_as("window1", "window", None, None).await;
        let registrar = t.app_as("registrar1", "registrar", None, None).await;

        let res = applicant
            .post_form("/applications", &welfare_establishment())
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let id = id_from(res.location());
        let page = applicant.get(&format!("/applications/{id}")).await;
        assert!(page.body.contains("id=\"state\">已提交<"), "{}", page.body);

        // The window accepts it and becomes its first-inquiry owner; the clock starts.
        assert_eq!(
            act(t, &window, id, "accept", "").await.status,
            StatusCode::SEE_OTHER
        );
        let page = window.get(&format!("/applications/{id}")).await;
        assert!(page.body.contains("id=\"owner\">window1<"), "{}", page.body);
        assert!(
            page.body.contains("剩余 60 天"),
            "count-down shown: {}",
            page.body
        );
        let queue = window.get("/admin/applications?queue=mine").await;
        assert!(queue.body.contains("滨海新区助学公益促进会"));
        // The window may not approve.
        assert_eq!(
            act(t, &window, id, "start_review", "").await.status,
            StatusCode::FORBIDDEN
        );

        assert_eq!(
            act(t, &registrar, id, "start_review", "").await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            act(t, &registrar, id, "approve", "").await.status,
            StatusCode::SEE_OTHER
        );
        let page = registrar.get(&format!("/applications/{id}")).await;
        assert!(page.body.contains("id=\"state\">准予<"));
        assert!(
            page.body.contains("id=\"owner\">window1<"),
            "ownership stays with the first staff member"
        );

        // It is in the public directory with a valid code, registered directly.
        let found = t
            .app()
            .get(&format!(
                "/api/v1/organizations?q={}",
                crate::common::encode("滨海新区助学公益促进会")
            ))
            .await
            .json();
        assert_eq!(found["total"], 1);
        let code = found["items"][0]["uscc"].as_str().unwrap().to_owned();
        assert!(code.starts_with("51120116"), "{code}");
        shezu::registry::uscc::Uscc::parse(&code).unwrap();
        // A party-coverage task is open for it, and the applicant's account now speaks for it.
        let mut c = t.db.acquire().await.unwrap();
        let tasks =
            shezu::approvals::store::open_party_tasks(&mut c.conn(), &shezu::auth::Scope::All)
                .await
                .unwrap();
        assert_eq!(
            tasks.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
            vec!["滨海新区助学公益促进会"]
        );
        drop(c);
        let mine = applicant
            .get(&format!("/admin/orgs/{}", found["items"][0]["id"]))
            .await;
        assert_eq!(
            mine.status,
            StatusCode::OK,
            "the organization account sees its new record"
        );
    }
);

db_test!(returned_for_correction_pauses_and_resumes, |t| async move {
    load_areas(t).await;
    let applicant = t.app_as("hanmei", "org", None, None).await;
    let registrar = t.app_as("registrar1", "registrar", None, None).await;
    let id = id_from(
        applicant
            .post_form("/applications", &welfare_establishment())
            .await
            .location(),
    );
    assert_eq!(
        act(t, &registrar, id, "accept", "").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        act(t, &registrar, id, "start_review", "").await.status,
        StatusCode::SEE_OTHER
    );
    // A return needs a reason, in Chinese, and changes nothing without one.
    let res = act(t, &registrar, id, "return", "").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = act(t, &registrar, id, "return", "章程缺少党建工作条款").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = applicant.get(&format!("/applications/{id}")).await;
    assert!(page.body.contains("退回补正") && page.body.contains("章程缺少党建工作条款"));
    // The applicant corrects the form while it is returned.
    let edit = applicant.get(&format!("/applications/{id}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK);
    let v = version(t, id).await;
    let mut corrected = welfare_establishment();
    corrected.retain(|(k, _)| *k != "address" && *k != "submit_now" && *k != "application_kind");
    corrected.push(("address", "紫云园社区文化路8号（章程已补充党建条款）"));
    corrected.push(("version", &v));
    let res = applicant
        .post_form(&format!("/applications/{id}/edit"), &corrected)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // Three days later the applicant resubmits: the deadline moves by three days.
    let mut tx = t.db.begin().await.unwrap();
    shezu::db::Sql::new("update applications set returned_at = $1 where id = $2")
        .arg(chrono::Utc::now() - chrono::Duration::days(3))
        .arg(id)
        .execute(&mut tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        act(t, &applicant, id, "resubmit", "").await.status,
        StatusCode::SEE_OTHER
    );
    let page = registrar.get(&format!("/applications/{id}")).await;
    assert!(
        page.body.contains("审查中") && page.body.contains("剩余 63 天"),
        "{}",
        page.body
    );
});

db_test!(
    two_registrars_approving_at_once_make_one_transition,
    |t| async move {
        load_areas(t).await;
        let applicant = t.app_as("hanmei", "org", None, None).await;
        let a = t.app_as("registrar1", "registrar", None, None).await;
        let b = t.app_as("registrar2", "registrar", None, None).await;
        let id = id_from(
            applicant
                .post_form("/applications", &welfare_establishment())
                .await
                .location(),
        );
        act(t, &a, id, "accept", "").await;
        act(t, &a, id, "start_review", "").await;
        let v = version(t, id).await;
        let path = format!("/applications/{id}/action");
        let fields = [
            ("action", "approve"),
            ("reason", ""),
            ("version", v.as_str()),
        ];
        let (ra, rb) = tokio::join!(a.post_form(&path, &fields), b.post_form(&path, &fields));
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [303, 409], "exactly one approval");
        let loser = if ra.status == StatusCode::CONFLICT {
            &ra
        } else {
            &rb
        };
        assert!(loser.body.contains("刚被他人办理"), "{}", loser.body);
        let mut c = t.db.acquire().await.unwrap();
        let n = shezu::db::Sql::new("select count(*) from organizations")
            .fetch_i64(&mut c.conn())
            .await
            .unwrap();
        assert_eq!(n, 1, "one organization created");
        let e =
            shezu::db::Sql::new("select count(*) from application_events where action = 'approve'")
                .fetch_i64(&mut c.conn())
                .await
                .unwrap();
        assert_eq!(e, 1);
    }
);

db_test!(filing_change_and_deregistration, |t| async move {
    load_areas(t).await;
    // A community organization is filed with its street: the street officer decides.
    let group = t.app_as("wudao", "org", None, None).await;
    let officer = t
        .app_as("tanggu1", "area_officer", Some("120116001"), None)
        .await;
    let other_street = t
        .app_as("dagang1", "area_officer", Some("120116051"), None)
        .await;
    let res = group
        .post_form(
            "/applications",
            &[
                ("application_kind", "filing"),
                ("name", "紫云园社区夕阳红舞蹈队"),
                ("kind", "community"),
                ("domain", "culture"),
                ("area_code", "120116001016"),
                ("registered_on", "2014-03-01"),
                ("submit_now", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = id_from(res.location());
    // Another street's officer does not even see it.
    assert_eq!(
        other_street
            .get(&format!("/applications/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !other_street
            .get("/admin/applications?queue=open")
            .await
            .body
            .contains("紫云园社区夕阳红舞蹈队")
    );
    for action in ["accept", "start_review", "approve"] {
        assert_eq!(
            act(t, &officer, id, action, "").await.status,
            StatusCode::SEE_OTHER,
            "{action}"
        );
    }
    let filed = t
        .app()
        .get("/api/v1/organizations?kind=community")
        .await
        .json();
    assert_eq!(filed["total"], 1);
    assert!(filed["items"][0]["uscc"].is_null());

    // The (now tied) organization account asks for a change of its address; the registrar approves.
    let group = t.app().signed_in("wudao", crate::common::PASSWORD).await;
    let registrar = t.app_as("registrar1", "registrar", None, None).await;
    let res = group
        .post_form(
            "/applications",
            &[
                ("application_kind", "change"),
                ("name", "紫云园社区夕阳红舞蹈队"),
                ("kind", "community"),
                ("domain", "culture"),
                ("area_code", "120116001016"),
                ("registered_on", "2014-03-01"),
                ("address", "紫云园社区活动中心二楼"),
                ("submit_now", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = id_from(res.location());
    for action in ["accept", "start_review", "approve"] {
        assert_eq!(
            act(t, &registrar, id, action, "").await.status,
            StatusCode::SEE_OTHER,
            "{action}"
        );
    }
    let org_id = filed["items"][0]["id"].as_i64().unwrap();
    let detail = t
        .app()
        .get(&format!("/api/v1/organizations/{org_id}"))
        .await
        .json();
    assert_eq!(detail["address"], "紫云园社区活动中心二楼");
    let timeline = registrar.get(&format!("/admin/orgs/{org_id}")).await;
    assert!(
        timeline.body.contains("change #"),
        "the change is in the organization's history"
    );

    // Deregistration ends the record.
    let res = group
        .post_form(
            "/applications",
            &[("application_kind", "deregistration"), ("submit_now", "1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = id_from(res.location());
    for action in ["accept", "start_review", "approve"] {
        assert_eq!(
            act(t, &registrar, id, action, "").await.status,
            StatusCode::SEE_OTHER,
            "{action}"
        );
    }
    let detail = t
        .app()
        .get(&format!("/api/v1/organizations/{org_id}"))
        .await
        .json();
    assert_eq!(detail["status"], "deregistered");
});

db_test!(
    bad_applications_are_refused_and_write_nothing,
    |t| async move {
        load_areas(t).await;
        let applicant = t.app_as("hanmei", "org", None, None).await;
        // Culture is not a direct-registration category: the supervisory unit's consent is required.
        let mut form = welfare_establishment();
        form.retain(|(k, _)| *k != "direct_registration" && *k != "domain");
        form.push(("domain", "culture"));
        form.push(("supervisory_unit", "滨海新区文化和旅游局"));
        let res = applicant.post_form("/applications", &form).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body.contains("须填写同意设立的业务主管单位"),
            "{}",
            res.body
        );
        // A community organization cannot ask for an establishment; a filing must be one.
        let mut community = welfare_establishment();
        community.retain(|(k, _)| *k != "kind");
        community.push(("kind", "community"));
        let res = applicant.post_form("/applications", &community).await;
        assert!(res.body.contains("社区社会组织请办理备案"), "{}", res.body);
        // Missing fields are named.
        let res = applicant
            .post_form(
                "/applications",
                &[
                    ("application_kind", "establishment"),
                    ("kind", "social_group"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("e-name\">此项为必填项"));
        let mut c = t.db.acquire().await.unwrap();
        assert_eq!(
            shezu::db::Sql::new("select count(*) from applications")
                .fetch_i64(&mut c.conn())
                .await
                .unwrap(),
            0
        );
        drop(c);
        // An applicant cannot accept its own application.
        let id = id_from(
            applicant
                .post_form("/applications", &welfare_establishment())
                .await
                .location(),
        );
        assert_eq!(
            act(t, &applicant, id, "accept", "").await.status,
            StatusCode::FORBIDDEN
        );
        // A draft is invisible to staff until submitted.
        let mut draft = welfare_establishment();
        draft.retain(|(k, _)| *k != "submit_now" && *k != "name");
        draft.push(("name", "草稿中的协会"));
        let res = applicant.post_form("/applications", &draft).await;
        let draft_id = id_from(res.location());
        let registrar = t.app_as("registrar1", "registrar", None, None).await;
        assert_eq!(
            registrar
                .get(&format!("/applications/{draft_id}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            act(t, &applicant, draft_id, "submit", "").await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            registrar
                .get(&format!("/applications/{draft_id}"))
                .await
                .status,
            StatusCode::OK
        );
    }
);

db_test!(
    processing_figures_are_counted_from_the_records,
    |t| async move {
        load_areas(t).await;
        let applicant = t.app_as("hanmei", "org", None, None).await;
        let registrar = t.app_as("registrar1", "registrar", None, None).await;
        let id = id_from(
            applicant
                .post_form("/applications", &welfare_establishment())
                .await
                .location(),
        );
        for action in ["accept", "start_review", "approve"] {
            act(t, &registrar, id, action, "").await;
        }
        let median = |body: &str| {
            body.split("class=\"figure-median\">")
                .nth(1)
                .map(|s| s.split('<').next().unwrap().to_owned())
        };
        let page = registrar.get("/admin/applications").await;
        assert_eq!(
            median(&page.body).as_deref(),
            Some("0.0"),
            "decided the day it was accepted"
        );
        // The record says it was accepted twelve days before the decision: the figure follows.
        let mut tx = t.db.begin().await.unwrap();
        shezu::db::Sql::new("update applications set accepted_at = $1 where id = $2")
            .arg(chrono::Utc::now() - chrono::Duration::days(12))
            .arg(id)
            .execute(&mut tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let page = registrar.get("/admin/applications").await;
        assert_eq!(median(&page.body).as_deref(), Some("12.0"));
        assert!(page.body.contains("100%"));
    }
);
