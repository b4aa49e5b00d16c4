//! Online registration end to end (browserless): establishment, filing, change and
//! deregistration through applicant, window and registrar; documents; concurrent approvals;
//! bad input; processing-time figures.

use crate::common::{Answer, TestApp, TestDb};
use crate::db_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use shezu::db::Sql;

/// The id of the application a redirect points at.
fn id_from(location: &str) -> i64 {
    location
        .trim_start_matches("/applications/")
        .parse()
        .unwrap()
}

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

async fn version(t: &TestDb, id: i64) -> String {
    count(
        t,
        &format!("select version from applications where id = {id}"),
    )
    .await
    .to_string()
}

async fn act(t: &TestDb, app: &TestApp, id: i64, action: &str, reason: &str) -> Answer {
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
    ]
}

/// A small document that passes the type check (it starts like a PDF).
const PDF: &[u8] = b"%PDF-1.4\n% shezu test document\n";

/// The documents each kind requires, as the tests upload them.
fn required_docs(kind: &str) -> &'static [&'static str] {
    match kind {
        "preparation" => &[
            "application_letter",
            "charter",
            "address_proof",
            "capital_proof",
            "head_id",
        ],
        "establishment_after_preparation" => &["application_letter", "charter"],
        "establishment" => &[
            "application_letter",
            "charter",
            "address_proof",
            "capital_proof",
            "head_id",
        ],
        "filing" => &["application_letter", "charter", "head_id"],
        "change" => &["application_letter"],
        _ => &["application_letter", "liquidation_report"],
    }
}

async fn upload(app: &TestApp, id: i64, doc: &str, name: &str, bytes: &[u8]) -> Answer {
    app.post_file(
        &format!("/applications/{id}/documents"),
        &[("doc_type", doc)],
        ("file", name, bytes),
    )
    .await
}

/// Files an application, uploads the documents its kind requires and submits it.
async fn file_and_submit(t: &TestDb, app: &TestApp, fields: &[(&str, &str)]) -> i64 {
    let res = app.post_form("/applications", fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = id_from(res.location());
    let kind = fields
        .iter()
        .find(|(k, _)| *k == "application_kind")
        .unwrap()
        .1;
    for doc in required_docs(kind) {
        let res = upload(app, id, doc, "材料.pdf", PDF).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{doc}: {}", res.body);
    }
    let res = act(t, app, id, "submit", "").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    id
}

db_test!(
    an_establishment_goes_from_applicant_to_the_public_directory,
    |t| async move {
        load_areas(t).await;
        let applicant = t.app_as("hanmei", "org", None, None).await;
        let window = t.app_as("window1", "window", None, None).await;
        let registrar = t.app_as("registrar1", "registrar", None, None).await;

        let id = file_and_submit(t, &applicant, &welfare_establishment()).await;
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
        assert!(
            !page.body.contains("id=\"charter-flag\""),
            "the charter clause was declared"
        );
        let queue = window.get("/admin/applications?queue=mine").await;
        assert!(queue.body.contains("滨海新区助学公益服务中心"));
        // The window may not review or approve.
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
        let q = crate::common::encode("滨海新区助学公益服务中心");
        let found = t
            .app()
            .get(&format!("/api/v1/organizations?q={q}"))
            .await
            .json();
        assert_eq!(found["total"], 1);
        let code = found["items"][0]["uscc"].as_str().unwrap().to_owned();
        assert!(code.starts_with("52120116"), "{code}");
        shezu::registry::uscc::Uscc::parse(&code).unwrap();
        // A party-coverage task is open for it, and the applicant's account now speaks for it.
        let mut c = t.db.acquire().await.unwrap();
        let tasks =
            shezu::approvals::store::open_party_tasks(&mut c.conn(), &shezu::auth::Scope::All)
                .await
                .unwrap();
        assert_eq!(
            tasks.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
            vec!["滨海新区助学公益服务中心"]
        );
        drop(c);
        let org_id = &found["items"][0]["id"];
        assert_eq!(
            applicant.get(&format!("/admin/orgs/{org_id}")).await.status,
            StatusCode::OK
        );
        let certificate = registrar
            .get(&format!("/admin/orgs/{org_id}/certificate"))
            .await;
        assert!(
            certificate.body.contains("民办非企业单位登记证书") && certificate.body.contains(&code)
        );
    }
);

db_test!(documents_are_checked_and_stay_in_scope, |t| async move {
    load_areas(t).await;
    let applicant = t.app_as("hanmei", "org", None, None).await;
    let res = applicant
        .post_form("/applications", &welfare_establishment())
        .await;
    let id = id_from(res.location());
    // Submitting without the documents names each missing one.
    let res = act(t, &applicant, id, "submit", "").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body.contains("请先上传章程（活动规则）"),
        "{}",
        res.body
    );
    // An executable called .pdf, an empty file and an oversized one are refused; nothing is stored.
    let exe = upload(&applicant, id, "charter", "章程.pdf", b"MZ\x90\x00\x03\x00").await;
    assert_eq!(exe.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        exe.body.contains("只能上传 PDF、PNG 或 JPEG"),
        "{}",
        exe.body
    );
    let empty = upload(&applicant, id, "charter", "章程.pdf", b"").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b'x');
    let large = upload(&applicant, id, "charter", "章程.pdf", &big).await;
    assert_eq!(large.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(t, "select count(*) from attachments").await, 0);
    // A three-megabyte scan is within the limit (the form body limit does not cut it short).
    let mut scan = b"%PDF-1.4\n".to_vec();
    scan.resize(3 * 1024 * 1024, b'x');
    let res = upload(&applicant, id, "other", "扫描件.pdf", &scan).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // A good one is stored with its hash and can be downloaded by the applicant …
    let ok = upload(&applicant, id, "charter", "../../章程.pdf", PDF).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let doc = count(t, "select max(id) from attachments").await;
    let got = applicant
        .get(&format!("/applications/{id}/documents/{doc}"))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body.as_bytes(), PDF);
    let disposition = got
        .headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        disposition.contains("%E7%AB%A0%E7%A8%8B.pdf") && !disposition.contains(".."),
        "{disposition}"
    );
    // … an upload without the session token in the query string is refused …
    let mut no_token = applicant.clone();
    no_token.csrf = None;
    assert_eq!(
        upload(&no_token, id, "charter", "x.pdf", PDF).await.status,
        StatusCode::FORBIDDEN
    );
    // … and staff see it only once submitted, and only in their area.
    for doc in [
        "application_letter",
        "address_proof",
        "capital_proof",
        "head_id",
    ] {
        upload(&applicant, id, doc, "材料.pdf", PDF).await;
    }
    assert_eq!(
        act(t, &applicant, id, "submit", "").await.status,
        StatusCode::SEE_OTHER
    );
    let tanggu = t
        .app_as("tanggu1", "area_officer", Some("120116001"), None)
        .await;
    let dagang = t
        .app_as("dagang1", "area_officer", Some("120116051"), None)
        .await;
    let path = format!("/applications/{id}/documents/{doc}");
    assert_eq!(tanggu.get(&path).await.status, StatusCode::OK);
    assert_eq!(dagang.get(&path).await.status, StatusCode::NOT_FOUND);
    // Once submitted, the applicant can no longer add documents.
    assert_eq!(
        upload(&applicant, id, "other", "x.pdf", PDF).await.status,
        StatusCode::CONFLICT
    );
});

db_test!(returned_for_correction_pauses_and_resumes, |t| async move {
    load_areas(t).await;
    let applicant = t.app_as("hanmei", "org", None, None).await;
    let registrar = t.app_as("registrar1", "registrar", None, None).await;
    let mut fields = welfare_establishment();
    fields.retain(|(k, _)| *k != "charter_party_clause");
    let id = file_and_submit(t, &applicant, &fields).await;
    assert_eq!(
        act(t, &registrar, id, "accept", "").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        act(t, &registrar, id, "start_review", "").await.status,
        StatusCode::SEE_OTHER
    );
    // The reviewer is warned that the charter is not declared to carry the party clause.
    let page = registrar.get(&format!("/applications/{id}")).await;
    assert!(page.body.contains("id=\"charter-flag\""), "{}", page.body);
    // A return needs a reason, in Chinese, and changes nothing without one.
    let res = act(t, &registrar, id, "return", "").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("请填写理由"));
    let res = act(t, &registrar, id, "return", "章程缺少党建工作条款").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = applicant.get(&format!("/applications/{id}")).await;
    assert!(page.body.contains("退回补正") && page.body.contains("章程缺少党建工作条款"));

    // The applicant corrects the form while it is returned.
    assert_eq!(
        applicant
            .get(&format!("/applications/{id}/edit"))
            .await
            .status,
        StatusCode::OK
    );
    let v = version(t, id).await;
    let mut corrected: Vec<(&str, &str)> = welfare_establishment()
        .into_iter()
        .filter(|(k, _)| *k != "address" && *k != "application_kind")
        .collect();
    corrected.push(("address", "紫云园社区文化路8号（章程已补充党建条款）"));
    corrected.push(("version", &v));
    let res = applicant
        .post_form(&format!("/applications/{id}/edit"), &corrected)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    // Three days later the applicant resubmits: the deadline moves by three days.
    let mut tx = t.db.begin().await.unwrap();
    Sql::new("update applications set returned_at = $1 where id = $2")
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
    assert!(
        page.body.contains("章程已补充党建条款"),
        "the correction is what the registrar sees"
    );
    assert!(
        !page.body.contains("id=\"charter-flag\""),
        "the corrected form declares the clause"
    );
    // Once under review again the applicant can no longer edit it.
    let v = version(t, id).await;
    corrected.retain(|(k, _)| *k != "version");
    corrected.push(("version", &v));
    let res = applicant
        .post_form(&format!("/applications/{id}/edit"), &corrected)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
});

db_test!(
    two_registrars_approving_at_once_make_one_transition,
    |t| async move {
        load_areas(t).await;
        let applicant = t.app_as("hanmei", "org", None, None).await;
        let a = t.app_as("registrar1", "registrar", None, None).await;
        let b = t.app_as("registrar2", "registrar", None, None).await;
        let id = file_and_submit(t, &applicant, &welfare_establishment()).await;
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
        assert_eq!(
            count(t, "select count(*) from organizations").await,
            1,
            "one organization created"
        );
        assert_eq!(
            count(
                t,
                "select count(*) from application_events where action = 'approve'"
            )
            .await,
            1
        );
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
    let filing = [
        ("application_kind", "filing"),
        ("name", "紫云园社区夕阳红舞蹈队"),
        ("kind", "community"),
        ("domain", "culture"),
        ("area_code", "120116001016"),
        ("registered_on", "2014-03-01"),
    ];
    let id = file_and_submit(t, &group, &filing).await;
    // Another street's officer does not even see it.
    assert_eq!(
        other_street
            .get(&format!("/applications/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let queue = other_street.get("/admin/applications?queue=open").await;
    assert!(!queue.body.contains("紫云园社区夕阳红舞蹈队"));
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
    let org_id = filed["items"][0]["id"].as_i64().unwrap();

    // The (now tied) organization account asks for a change of its address; the registrar approves.
    let group = t.app().signed_in("wudao", crate::common::PASSWORD).await;
    let registrar = t.app_as("registrar1", "registrar", None, None).await;
    let mut change = filing.to_vec();
    change[0] = ("application_kind", "change");
    change.push(("address", "紫云园社区活动中心二楼"));
    let id = file_and_submit(t, &group, &change).await;
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
    assert_eq!(detail["address"], "紫云园社区活动中心二楼");
    let timeline = registrar.get(&format!("/admin/orgs/{org_id}")).await;
    assert!(
        timeline.body.contains("change #"),
        "the change is in the organization's history"
    );

    // Deregistration ends the record.
    let id = file_and_submit(t, &group, &[("application_kind", "deregistration")]).await;
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
        let mut form: Vec<(&str, &str)> = welfare_establishment()
            .into_iter()
            .filter(|(k, _)| *k != "direct_registration" && *k != "domain")
            .collect();
        form.push(("domain", "culture"));
        form.push(("supervisory_unit", "滨海新区文化和旅游局"));
        let res = applicant.post_form("/applications", &form).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body.contains("须填写同意设立的业务主管单位"),
            "{}",
            res.body
        );
        // A community organization cannot ask for an establishment.
        let mut community: Vec<(&str, &str)> = welfare_establishment()
            .into_iter()
            .filter(|(k, _)| *k != "kind")
            .collect();
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
        assert_eq!(count(t, "select count(*) from applications").await, 0);
        // With the consent named, the consent document is required too.
        form.push(("consent_unit", "滨海新区文化和旅游局"));
        let res = applicant.post_form("/applications", &form).await;
        let id = id_from(res.location());
        for doc in required_docs("establishment") {
            upload(&applicant, id, doc, "材料.pdf", PDF).await;
        }
        let res = act(t, &applicant, id, "submit", "").await;
        assert!(
            res.body.contains("请先上传业务主管单位同意文件"),
            "{}",
            res.body
        );
        // An applicant cannot accept its own application.
        let id = file_and_submit(t, &applicant, &welfare_establishment()).await;
        assert_eq!(
            act(t, &applicant, id, "accept", "").await.status,
            StatusCode::FORBIDDEN
        );
        // A draft is invisible to staff until submitted.
        let draft: Vec<(&str, &str)> = welfare_establishment()
            .into_iter()
            .map(|(k, v)| {
                if k == "name" {
                    (k, "草稿中的协会")
                } else {
                    (k, v)
                }
            })
            .collect();
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
    }
);

db_test!(
    processing_figures_are_counted_from_the_records,
    |t| async move {
        load_areas(t).await;
        let applicant = t.app_as("hanmei", "org", None, None).await;
        let registrar = t.app_as("registrar1", "registrar", None, None).await;
        let id = file_and_submit(t, &applicant, &welfare_establishment()).await;
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
        Sql::new("update applications set accepted_at = $1 where id = $2")
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

db_test!(
    the_clock_counts_working_days_when_the_bureau_says_so,
    |t| async move {
        load_areas(t).await;
        let applicant = t.app_as("hanmei", "org", None, None).await;
        let window = t.app_as("window1", "window", None, None).await;
        let admin = t.app_as("root1", "admin", None, None).await;
        let id = file_and_submit(t, &applicant, &welfare_establishment()).await;
        act(t, &window, id, "accept", "").await;
        let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
        let calendar_deadline = today + chrono::Duration::days(60);
        assert!(
            window
                .get(&format!("/applications/{id}"))
                .await
                .body
                .contains(&calendar_deadline.to_string())
        );
        // The bureau switches to working days, with a holiday tomorrow.
        let holiday = (today + chrono::Duration::days(1)).to_string();
        for (key, value) in [
            ("limit_day_count", "working"),
            ("holidays", holiday.as_str()),
        ] {
            let res = admin
                .post_form(
                    "/admin/settings",
                    &[
                        ("key", key),
                        ("value", value),
                        ("effective_from", &today.to_string()),
                    ],
                )
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        }
        let bad = admin
            .post_form(
                "/admin/settings",
                &[("key", "holidays"), ("value", "2014-13-01")],
            )
            .await;
        assert!(
            bad.body.contains("“2014-13-01”不是有效日期"),
            "{}",
            bad.body
        );
        let calendar = shezu::approvals::Calendar {
            working_days: true,
            holidays: [today + chrono::Duration::days(1)].into_iter().collect(),
            ..Default::default()
        };
        let expected = calendar.deadline(today, 60, 0);
        assert!(expected > calendar_deadline);
        let page = window.get(&format!("/applications/{id}")).await;
        assert!(
            page.body.contains(&expected.to_string()),
            "{expected}: {}",
            page.body
        );
    }
);

db_test!(a_social_group_prepares_then_establishes, |t| async move {
    load_areas(t).await;
    let promoters = t.app_as("faqiren", "org", None, None).await;
    let registrar = t.app_as("registrar1", "registrar", None, None).await;
    let group = [
        ("name", "滨海新区海洋科技学会"),
        ("kind", "social_group"),
        ("domain", "science_technology"),
        ("direct_registration", "on"),
        ("legal_representative", "宋涛"),
        ("area_code", "120116001016"),
        ("registered_capital_yuan", "30000"),
    ];
    // Establishment straight away is refused: a social group prepares first.
    let mut straight = vec![("application_kind", "establishment")];
    straight.extend(group);
    let res = promoters.post_form("/applications", &straight).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("社会团体须先经批准筹备"), "{}", res.body);

    let mut preparation = vec![("application_kind", "preparation")];
    preparation.extend(group);
    let res = promoters.post_form("/applications", &preparation).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = id_from(res.location());
    for doc in required_docs("preparation") {
        upload(&promoters, id, doc, "材料.pdf", PDF).await;
    }
    assert_eq!(
        act(t, &promoters, id, "submit", "").await.status,
        StatusCode::SEE_OTHER
    );
    for action in ["accept", "start_review", "approve"] {
        assert_eq!(
            act(t, &registrar, id, action, "").await.status,
            StatusCode::SEE_OTHER,
            "{action}"
        );
    }
    // On record as in preparation, without a code yet, and with no party task yet.
    let q = crate::common::encode("滨海新区海洋科技学会");
    let found = t
        .app()
        .get(&format!("/api/v1/organizations?q={q}"))
        .await
        .json();
    assert_eq!(found["items"][0]["status"], "preparing");
    assert!(found["items"][0]["uscc"].is_null());
    assert_eq!(count(t, "select count(*) from party_tasks").await, 0);

    // After the founding meeting the group applies for establishment with its adopted charter.
    let promoters = t.app().signed_in("faqiren", crate::common::PASSWORD).await;
    let form = promoters.get("/applications/new?kind=establishment").await;
    assert!(
        form.body.contains("滨海新区海洋科技学会"),
        "the form continues from the record"
    );
    let mut establishment = vec![("application_kind", "establishment")];
    establishment.extend(group);
    let res = promoters.post_form("/applications", &establishment).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = id_from(res.location());
    for doc in required_docs("establishment_after_preparation") {
        upload(&promoters, id, doc, "章程.pdf", PDF).await;
    }
    assert_eq!(
        act(t, &promoters, id, "submit", "").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        act(t, &registrar, id, "accept", "").await.status,
        StatusCode::SEE_OTHER
    );
    let page = registrar.get(&format!("/applications/{id}")).await;
    assert!(
        page.body.contains("剩余 30 天"),
        "the establishment after preparation has 30 days: {}",
        page.body
    );
    for action in ["start_review", "approve"] {
        assert_eq!(
            act(t, &registrar, id, action, "").await.status,
            StatusCode::SEE_OTHER,
            "{action}"
        );
    }
    let found = t
        .app()
        .get(&format!("/api/v1/organizations?q={q}"))
        .await
        .json();
    assert_eq!(found["total"], 1, "the same organization, not a second one");
    assert_eq!(found["items"][0]["status"], "active");
    let code = found["items"][0]["uscc"].as_str().unwrap();
    assert!(code.starts_with("51120116"), "{code}");
    assert_eq!(count(t, "select count(*) from party_tasks").await, 1);
});

db_test!(documents_can_live_in_an_upload_directory, |t| async move {
    load_areas(t).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = shezu::config::Settings {
        upload_dir: Some(dir.path().to_owned()),
        ..Default::default()
    };
    t.user("hanmei", "org", None, None).await;
    let applicant = t
        .app_with(settings)
        .signed_in("hanmei", crate::common::PASSWORD)
        .await;
    let res = applicant
        .post_form("/applications", &welfare_establishment())
        .await;
    let id = id_from(res.location());
    assert_eq!(
        upload(&applicant, id, "charter", "章程.pdf", PDF)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let mut c = t.db.acquire().await.unwrap();
    let (sha, storage, data): (String, String, Vec<u8>) =
        Sql::new("select sha256, storage, data from attachments")
            .fetch_one(&mut c.conn())
            .await
            .unwrap();
    drop(c);
    assert_eq!(
        (storage.as_str(), data.len()),
        ("dir", 0),
        "the bytes are not in the database"
    );
    let on_disk = std::fs::read(dir.path().join(&sha[..2]).join(&sha)).unwrap();
    assert_eq!(on_disk, PDF);
    let doc = count(t, "select id from attachments").await;
    let got = applicant
        .get(&format!("/applications/{id}/documents/{doc}"))
        .await;
    assert_eq!(got.body.as_bytes(), PDF);
});

db_test!(
    a_change_keeps_what_the_applicant_cannot_change,
    |t| async move {
        load_areas(t).await;
        // A graded private non-enterprise unit, registered in 2010, with an account.
        let draft = shezu::registry::OrgForm {
            name: "塘沽乐龄养老服务中心".into(),
            kind: "private_non_enterprise".into(),
            domain: "elderly_care".into(),
            supervisory_unit: "滨海新区民政局".into(),
            legal_representative: "高峰".into(),
            area_code: "120116001016".into(),
            registered_on: "2010-05-06".into(),
            grade: "4A".into(),
            grade_expires_on: "2029-12-31".into(),
            brand: Some("on".into()),
            ..Default::default()
        }
        .parse()
        .unwrap();
        let mut tx = t.db.begin().await.unwrap();
        let org = shezu::registry::store::create(
            &mut tx.conn(),
            &shezu::auth::Scope::All,
            &shezu::audit::Actor::system("seed"),
            chrono::Utc::now(),
            &draft,
            "120116",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let account = t
            .app_as("leling", "org", None, Some(&org.id.to_string()))
            .await;
        let registrar = t.app_as("registrar1", "registrar", None, None).await;
        // The change form is prefilled from the record; the applicant moves the address.
        let form = account.get("/applications/new?kind=change").await;
        assert!(form.body.contains("塘沽乐龄养老服务中心"));
        let change = [
            ("application_kind", "change"),
            ("name", "塘沽乐龄养老服务中心"),
            ("kind", "private_non_enterprise"),
            ("domain", "elderly_care"),
            ("supervisory_unit", "滨海新区民政局"),
            ("legal_representative", "高峰"),
            ("area_code", "120116001016"),
            ("address", "紫云园社区养老驿站"),
        ];
        let id = file_and_submit(t, &account, &change).await;
        for action in ["accept", "start_review", "approve"] {
            assert_eq!(
                act(t, &registrar, id, action, "").await.status,
                StatusCode::SEE_OTHER,
                "{action}"
            );
        }
        let detail = t
            .app()
            .get(&format!("/api/v1/organizations/{}", org.id))
            .await
            .json();
        assert_eq!(detail["address"], "紫云园社区养老驿站");
        assert_eq!(detail["grade"], "4A", "the grade stays");
        assert_eq!(
            detail["registered_on"], "2010-05-06",
            "the registration date stays"
        );
        assert_eq!(detail["uscc"], org.uscc.clone().unwrap());
        assert_eq!(detail["brand"], true);
    }
);
