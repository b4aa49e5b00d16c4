//! Referral tasks between departments and areas: sent about an organization, replied to,
//! closed; seen by its parties and by whoever's scope covers the organization; overdue flagged.

use crate::common::TestDb;
use crate::db_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use chrono::Utc;
use shezu::auth::Scope;
use shezu::db::Sql;
use shezu::registry::OrgForm;

async fn org_in_tanggu(t: &TestDb) -> i64 {
    load_areas(t).await;
    let draft = OrgForm {
        name: "紫云园社区书画协会".into(),
        kind: "social_group".into(),
        domain: "culture".into(),
        supervisory_unit: "滨海新区文化和旅游局".into(),
        legal_representative: "程明".into(),
        area_code: "120116001016".into(),
        registered_on: "2012-01-01".into(),
        ..OrgForm::default()
    }
    .parse()
    .unwrap();
    let mut tx = t.db.begin().await.unwrap();
    let row = shezu::registry::store::create(
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
    row.id
}

fn due(days: i64) -> String {
    ((Utc::now() + chrono::Duration::hours(8)).date_naive() + chrono::Duration::days(days))
        .to_string()
}

db_test!(
    a_referral_is_sent_answered_and_closed_in_scope,
    |t| async move {
        let org = org_in_tanggu(t).await;
        let registrar = t.app_as("registrar1", "registrar", None, None).await;
        let tanggu = t
            .app_as("tanggu1", "area_officer", Some("120116001"), None)
            .await;
        let dagang = t
            .app_as("dagang1", "area_officer", Some("120116051"), None)
            .await;
        let liaison = t
            .app_as("liaison1", "liaison", Some("120116001016"), None)
            .await;
        let due_date = due(10);
        let res = registrar
            .post_form(
                &format!("/admin/orgs/{org}/referrals"),
                &[
                    ("to", "tanggu1"),
                    ("subject", "核查住所"),
                    ("details", "请核实该组织是否仍在登记住所办公。"),
                    ("due_on", &due_date),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let path = res.location().to_owned();

        // The recipient has it in their list and on the organization's page.
        assert!(
            tanggu
                .get("/admin/referrals")
                .await
                .body
                .contains("核查住所")
        );
        assert!(
            tanggu
                .get(&format!("/admin/orgs/{org}"))
                .await
                .body
                .contains("核查住所")
        );
        // The liaison of the community sees it (the organization is in scope) but is not a party.
        assert!(liaison.get(&path).await.status == StatusCode::OK);
        assert_eq!(
            liaison
                .post_form(&format!("{path}/reply"), &[("body", "我来回复")])
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        // Another street neither sees it nor can tell it exists.
        assert_eq!(dagang.get(&path).await.status, StatusCode::NOT_FOUND);
        assert!(
            !dagang
                .get("/admin/referrals")
                .await
                .body
                .contains("核查住所")
        );

        assert_eq!(
            tanggu
                .post_form(
                    &format!("{path}/reply"),
                    &[("body", "已实地核查，住所无误。")]
                )
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        let page = registrar.get(&path).await;
        assert!(page.body.contains("id=\"status\">已回复<") && page.body.contains("已实地核查"));
        assert_eq!(
            registrar
                .post_form(&format!("{path}/reply"), &[("close", "on")])
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        assert!(
            registrar
                .get(&path)
                .await
                .body
                .contains("id=\"status\">已办结<")
        );
        assert_eq!(
            tanggu
                .post_form(&format!("{path}/reply"), &[("body", "补充")])
                .await
                .status,
            StatusCode::CONFLICT
        );
        let mut c = t.db.acquire().await.unwrap();
        let audited = Sql::new("select count(*) from audit_log where entity = 'referral'")
            .fetch_i64(&mut c.conn())
            .await
            .unwrap();
        assert_eq!(audited, 3);
    }
);

db_test!(
    overdue_referrals_are_flagged_and_bad_ones_refused,
    |t| async move {
        let org = org_in_tanggu(t).await;
        let registrar = t.app_as("registrar1", "registrar", None, None).await;
        t.user("tanggu1", "area_officer", Some("120116001"), None)
            .await;
        let past = due(-1);
        let res = registrar
            .post_form(
                &format!("/admin/orgs/{org}/referrals"),
                &[
                    ("to", "tanggu1"),
                    ("subject", "核查"),
                    ("details", "x"),
                    ("due_on", &past),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let res = registrar
            .post_form(
                &format!("/admin/orgs/{org}/referrals"),
                &[
                    ("to", "nobody"),
                    ("subject", "核查"),
                    ("details", "x"),
                    ("due_on", &due(3)),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let instructor = t
            .app_as("instructor1", "instructor", None, Some(&org.to_string()))
            .await;
        let res = instructor
            .post_form(
                &format!("/admin/orgs/{org}/referrals"),
                &[
                    ("to", "tanggu1"),
                    ("subject", "核查"),
                    ("details", "x"),
                    ("due_on", &due(3)),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let mut c = t.db.acquire().await.unwrap();
        assert_eq!(
            Sql::new("select count(*) from referrals")
                .fetch_i64(&mut c.conn())
                .await
                .unwrap(),
            0
        );
        drop(c);
        // A referral whose due date has passed is marked in every list.
        let res = registrar
            .post_form(
                &format!("/admin/orgs/{org}/referrals"),
                &[
                    ("to", "tanggu1"),
                    ("subject", "核查"),
                    ("details", "x"),
                    ("due_on", &due(1)),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let mut tx = t.db.begin().await.unwrap();
        Sql::new("update referrals set due_on = $1")
            .arg((Utc::now() + chrono::Duration::hours(8)).date_naive() - chrono::Duration::days(2))
            .execute(&mut tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(
            registrar
                .get("/admin/referrals")
                .await
                .body
                .contains("class=\"overdue\"")
        );
    }
);
