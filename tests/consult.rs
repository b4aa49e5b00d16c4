//! Online consultation: anyone asks (rate-limited), the window answers under first-inquiry
//! ownership, answers can be published, response time is counted from the records.

use crate::common::TestDb;
use crate::db_test;
use axum::http::StatusCode;
use shezu::db::Sql;

const QUESTION: [(&str, &str); 3] = [
    ("name", "李先生"),
    ("contact", "13800001111"),
    ("question", "成立社区社会组织需要准备哪些材料？"),
];

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

db_test!(a_question_is_answered_and_published, |t| async move {
    let public = t.app();
    let res = public.post_form("/consult", &QUESTION).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(public.follow(&res).await.body.contains("咨询已提交"));
    let id = count(t, "select id from consultations").await;

    let window = t.app_as("window1", "window", None, None).await;
    let other = t.app_as("window2", "window", None, None).await;
    let queue = window.get("/admin/consultations").await;
    assert!(
        queue.body.contains("成立社区社会组织需要准备哪些材料")
            && queue.body.contains("id=\"unanswered\">1<")
    );
    assert_eq!(
        window
            .post_form(&format!("/admin/consultations/{id}/claim"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // Someone else may not answer what the first staff member owns.
    let res = other
        .post_form(
            &format!("/admin/consultations/{id}/answer"),
            &[("answer", "抢答"), ("version", "2")],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = window
        .post_form(
            &format!("/admin/consultations/{id}/answer"),
            &[
                ("answer", "需要备案申请表、活动规则和负责人身份证明。"),
                ("publish", "on"),
                ("version", "2"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let faq = t.app().get("/consult").await;
    assert!(
        faq.body
            .contains("需要备案申请表、活动规则和负责人身份证明")
    );
    assert!(
        !faq.body.contains("13800001111"),
        "contacts are never public"
    );
    assert_eq!(
        count(
            t,
            "select count(*) from audit_log where entity = 'consultation'"
        )
        .await,
        3
    );

    // Response time comes from the records: asked five hours before the answer.
    let mut tx = t.db.begin().await.unwrap();
    Sql::new("update consultations set asked_at = $1 where id = $2")
        .arg(chrono::Utc::now() - chrono::Duration::hours(5))
        .arg(id)
        .execute(&mut tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let queue = window.get("/admin/consultations").await;
    assert!(
        queue.body.contains("id=\"median-hours\">5.0<"),
        "{}",
        queue.body
    );
});

db_test!(bad_and_too_frequent_questions_are_refused, |t| async move {
    let public = t.app();
    let res = public
        .post_form(
            "/consult",
            &[("name", ""), ("contact", "abc"), ("question", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body.contains("请留下手机、座机号码或电子邮箱") && res.body.contains("此项为必填项")
    );
    for _ in 0..5 {
        assert_eq!(
            public.post_form("/consult", &QUESTION).await.status,
            StatusCode::SEE_OTHER
        );
    }
    let res = public.post_form("/consult", &QUESTION).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("提交过于频繁"));
    assert_eq!(count(t, "select count(*) from consultations").await, 5);
    // Street officers do not answer the district window's consultations.
    crate::registry::load_areas(t).await;
    let officer = t
        .app_as("tanggu1", "area_officer", Some("120116001"), None)
        .await;
    assert_eq!(
        officer.get("/admin/consultations").await.status,
        StatusCode::FORBIDDEN
    );
});
