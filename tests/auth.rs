//! Sign-in, lockout and throttling, session rotation and timeouts, CSRF, password changes,
//! organization accounts, department tokens and the audit chain — on both databases.

use crate::common::{PASSWORD, TestDb};
use crate::db_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use shezu::audit::store::{ChainCheck, verify};
use shezu::auth::Scope;
use shezu::config::Settings;
use shezu::db::Sql;
use shezu::registry::OrgForm;
use shezu::registry::store;

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

db_test!(
    lockout_after_repeated_failures_and_one_message_for_all,
    |t| async move {
        t.user("wangmin", "registrar", None, None).await;
        let app = t.app();
        let unknown = app
            .post_form(
                "/login",
                &[("username", "nobody"), ("password", "whatever-it-is")],
            )
            .await;
        let wrong = app
            .post_form(
                "/login",
                &[("username", "wangmin"), ("password", "wrong-password-1")],
            )
            .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        // The same words whether the account exists or not.
        let message = |body: &str| {
            body.split("id=\"login-error\">")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_owned()
        };
        assert_eq!(message(&unknown.body), message(&wrong.body));
        assert_eq!(message(&wrong.body), "账号或密码不正确。");
        for _ in 0..4 {
            app.post_form(
                "/login",
                &[("username", "wangmin"), ("password", "wrong-password-1")],
            )
            .await;
        }
        // Five failures in a row: locked, even with the right password.
        let locked = app
            .post_form("/login", &[("username", "wangmin"), ("password", PASSWORD)])
            .await;
        assert_eq!(locked.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(locked.body.contains("登录失败次数过多"), "{}", locked.body);
        assert_eq!(
            count(t, "select count(*) from login_log where reason = 'locked'").await,
            2
        );
        assert_eq!(
            count(
                t,
                "select count(*) from audit_log where action = 'login_failed'"
            )
            .await,
            7
        );
        // When the lock has run out, the right password works again.
        let mut tx = t.db.begin().await.unwrap();
        Sql::new("update users set locked_until = $1 where username = 'wangmin'")
            .arg(Utc::now() - Duration::minutes(1))
            .execute(&mut tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let ok = app
            .post_form("/login", &[("username", "wangmin"), ("password", PASSWORD)])
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        assert_eq!(
            count(t, "select count(*) from login_log where success = true").await,
            1
        );
    }
);

db_test!(an_address_with_many_failures_is_throttled, |t| async move {
    t.user("lina", "window", None, None).await;
    let settings = Settings {
        login_max_failures_per_ip: 3,
        ..Settings::default()
    };
    let app = t.app_with(settings);
    for name in ["a1", "a2", "a3"] {
        app.post_form(
            "/login",
            &[("username", name), ("password", "whatever-it-is")],
        )
        .await;
    }
    let refused = app
        .post_form("/login", &[("username", "lina"), ("password", PASSWORD)])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        count(
            t,
            "select count(*) from login_log where reason = 'address_throttled'"
        )
        .await,
        1
    );
    assert_eq!(count(t, "select count(*) from sessions").await, 0);
});

db_test!(
    sessions_rotate_time_out_and_end_everywhere,
    |t| async move {
        t.user("zhangwei", "registrar", None, None).await;
        let first = t.app().signed_in("zhangwei", PASSWORD).await;
        assert_eq!(first.get("/admin/orgs").await.status, StatusCode::OK);
        // Signing in again from the same browser replaces the session: the old token is dead.
        let second = first.clone().signed_in("zhangwei", PASSWORD).await;
        assert_ne!(first.cookie, second.cookie);
        assert_eq!(
            first.get("/admin/orgs").await.status,
            StatusCode::SEE_OTHER,
            "old session ended"
        );
        assert_eq!(second.get("/admin/orgs").await.status, StatusCode::OK);
        // The database keeps only hashes of session tokens.
        let token = second
            .cookie
            .clone()
            .unwrap()
            .trim_start_matches("shezu_session=")
            .to_owned();
        assert_eq!(
            count(
                t,
                &format!("select count(*) from sessions where token_hash = '{token}'")
            )
            .await,
            0
        );

        // Idle timeout.
        let mut tx = t.db.begin().await.unwrap();
        Sql::new("update sessions set last_seen_at = $1")
            .arg(Utc::now() - Duration::minutes(31))
            .execute(&mut tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let res = second.get("/admin/orgs").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(
            res.location().starts_with("/login?next=%2Fadmin%2Forgs"),
            "{}",
            res.location()
        );

        // Absolute timeout, however active.
        let third = t.app().signed_in("zhangwei", PASSWORD).await;
        let mut tx = t.db.begin().await.unwrap();
        Sql::new("update sessions set created_at = $1")
            .arg(Utc::now() - Duration::hours(13))
            .execute(&mut tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(third.get("/admin/orgs").await.status, StatusCode::SEE_OTHER);

        // Sign out everywhere ends the other browsers' sessions too.
        let a = t.app().signed_in("zhangwei", PASSWORD).await;
        let b = t.app().signed_in("zhangwei", PASSWORD).await;
        assert_eq!(
            a.post_form("/account/logout-all", &[]).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(b.get("/admin/orgs").await.status, StatusCode::SEE_OTHER);
        assert_eq!(count(t, "select count(*) from sessions").await, 0);
    }
);

db_test!(
    forms_without_the_session_token_are_refused,
    |t| async move {
        load_areas(t).await;
        let app = t.app_as("liming", "registrar", None, None).await;
        let fields = [
            ("code", "csrf_test"),
            ("name_zh", "测试"),
            ("name_en", "Test"),
            ("active", "on"),
        ];
        let missing = app.post_raw("/admin/domains", &fields).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN);
        let mut forged = fields.to_vec();
        forged.push(("_csrf", "0000"));
        assert_eq!(
            app.post_raw("/admin/domains", &forged).await.status,
            StatusCode::FORBIDDEN
        );
        // A token of another session does not work either.
        let other = t.app_as("other", "registrar", None, None).await;
        let mut stolen = fields.to_vec();
        let other_token = other.csrf.clone().unwrap();
        stolen.push(("_csrf", other_token.as_str()));
        assert_eq!(
            app.post_raw("/admin/domains", &stolen).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            count(t, "select count(*) from domains where code = 'csrf_test'").await,
            0
        );
        assert_eq!(
            app.post_form("/admin/domains", &fields).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            count(t, "select count(*) from domains where code = 'csrf_test'").await,
            1
        );
    }
);

db_test!(
    password_policy_and_change_end_other_sessions,
    |t| async move {
        let app = t.app_as("zhaoli", "window", None, None).await;
        let other = t.app().signed_in("zhaoli", PASSWORD).await;
        for (new, key) in [
            ("short", "至少10个字符"),
            ("zhaoli-2014-ok", "不能包含账号名"),
            ("1234567890", "太常见"),
        ] {
            let res = app
                .post_form(
                    "/account/password",
                    &[("current", PASSWORD), ("new", new), ("confirm", new)],
                )
                .await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(res.body.contains(key), "{new}: {}", res.body);
        }
        let res = app
            .post_form(
                "/account/password",
                &[
                    ("current", "not-it-at-all"),
                    ("new", "滨海新区社会组织2014"),
                    ("confirm", "滨海新区社会组织2014"),
                ],
            )
            .await;
        assert!(res.body.contains("当前密码不正确"));
        let res = app
            .post_form(
                "/account/password",
                &[
                    ("current", PASSWORD),
                    ("new", "滨海新区社会组织2014"),
                    ("confirm", "滨海新区社会组织2014"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(
            other.get("/account").await.status,
            StatusCode::SEE_OTHER,
            "the other session ended"
        );
        t.app().signed_in("zhaoli", "滨海新区社会组织2014").await;
        let old = t
            .app()
            .post_form("/login", &[("username", "zhaoli"), ("password", PASSWORD)])
            .await;
        assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

async fn seed_orgs(t: &TestDb) -> Vec<(String, i64)> {
    load_areas(t).await;
    let mut tx = t.db.begin().await.unwrap();
    let mut out = Vec::new();
    for (name, area) in [
        ("塘沽书友会", "120116001016"),
        ("大港棋牌协会", "120116051"),
    ] {
        let draft = OrgForm {
            name: name.into(),
            kind: "social_group".into(),
            domain: "culture".into(),
            supervisory_unit: "滨海新区文化和旅游局".into(),
            legal_representative: "孙丽".into(),
            area_code: area.into(),
            registered_on: "2013-05-05".into(),
            contact_phone: "13800000000".into(),
            ..OrgForm::default()
        }
        .parse()
        .unwrap();
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
        out.push((row.uscc.unwrap(), row.id));
    }
    tx.commit().await.unwrap();
    out
}

db_test!(
    an_organization_account_changes_only_its_contact_fields,
    |t| async move {
        let orgs = seed_orgs(t).await;
        let (code, id) = orgs[0].clone();
        let app = t.app_as("shuyou", "org", None, Some(&code)).await;
        let form = app.get(&format!("/admin/orgs/{id}/edit")).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains("只能修改联系人和联系电话"));
        // It posts a new name and a new phone: only the phone changes.
        let res = app
            .post_form(
                &format!("/admin/orgs/{id}"),
                &[
                    ("name", "改名后的协会"),
                    ("contact_phone", "022-12345678"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let mut c = t.db.acquire().await.unwrap();
        let row = store::find(&mut c.conn(), &Scope::All, shezu::registry::OrgId(id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.name, "塘沽书友会");
        assert_eq!(row.contact_phone.as_deref(), Some("022-12345678"));
        // The other organization does not exist for it.
        assert_eq!(
            app.get(&format!("/admin/orgs/{}", orgs[1].1)).await.status,
            StatusCode::NOT_FOUND
        );
    }
);

db_test!(department_tokens_have_scopes_and_expire, |t| async move {
    let orgs = seed_orgs(t).await;
    let make = |scopes: Vec<&'static str>, area: Option<&'static str>, expires: Option<i64>| {
        let db = t.db.clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            let area_id = match area {
                Some(code) => Some(
                    shezu::areas::store::find_by_code(&mut tx.conn(), code)
                        .await
                        .unwrap()
                        .unwrap()
                        .area_id(),
                ),
                None => None,
            };
            let scopes: Vec<_> = scopes
                .iter()
                .map(|s| shezu::auth::tokens::TokenScope::parse(s).unwrap())
                .collect();
            let (id, secret) = shezu::auth::tokens::create(
                &mut tx.conn(),
                &shezu::audit::Actor::system("test"),
                Utc::now(),
                "区税务局",
                &scopes,
                area_id,
                expires.map(|d| Utc::now() + Duration::days(d)),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            (id, secret)
        }
    };
    let app = t.app();
    let bearer = |s: &str| format!("Bearer {s}");
    let (_, public) = make(vec!["public"], None, None).await;
    let res = app
        .get_with(
            "/api/v1/organizations",
            &[("authorization", &bearer(&public))],
        )
        .await;
    assert_eq!(res.json()["total"], 2);
    assert!(
        !res.body.contains("13800000000"),
        "public scope shows no contact"
    );

    let (reader_id, reader) = make(vec!["registry:read"], Some("120116001"), Some(30)).await;
    let res = app
        .get_with(
            "/api/v1/organizations",
            &[("authorization", &bearer(&reader))],
        )
        .await;
    let body = res.json();
    assert_eq!(body["total"], 1, "limited to 塘沽: {body}");
    assert_eq!(body["items"][0]["internal"]["contact_phone"], "13800000000");
    let outside = app
        .get_with(
            &format!("/api/v1/organizations/{}", orgs[1].1),
            &[("authorization", &bearer(&reader))],
        )
        .await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
    assert_eq!(count(t, &format!("select count(*) from api_tokens where id = {reader_id} and last_used_at is not null")).await, 1);

    let (_, expired) = make(vec!["registry:read"], None, Some(-1)).await;
    let res = app
        .get_with(
            "/api/v1/organizations",
            &[("authorization", &bearer(&expired))],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.json()["error"], "请先登录。");
    let res = app
        .get_with(
            "/api/v1/organizations",
            &[("authorization", "Bearer shz_not_a_token")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    let mut tx = t.db.begin().await.unwrap();
    shezu::auth::tokens::revoke(
        &mut tx.conn(),
        &shezu::audit::Actor::system("test"),
        Utc::now(),
        reader_id,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let res = app
        .get_with(
            "/api/v1/organizations",
            &[("authorization", &bearer(&reader))],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    // The secret itself is nowhere in the database.
    assert_eq!(
        count(
            t,
            &format!("select count(*) from api_tokens where token_hash = '{reader}'")
        )
        .await,
        0
    );
});

db_test!(
    tampering_with_one_audit_row_is_found_at_that_row,
    |t| async move {
        let orgs = seed_orgs(t).await;
        let app = t.app_as("auditor", "registrar", None, None).await;
        app.post_form(
            "/admin/domains",
            &[
                ("code", "audit_test"),
                ("name_zh", "测试"),
                ("name_en", "Test"),
                ("active", "on"),
            ],
        )
        .await;
        let mut c = t.db.acquire().await.unwrap();
        let n = count(t, "select count(*) from audit_log").await;
        assert!(n >= 5, "writes and sign-ins are audited: {n}");
        assert_eq!(verify(&mut c.conn()).await.unwrap(), ChainCheck::Intact(n));
        // The edit of an organization records before and after.
        drop(c);
        let res = app
            .post_form(
                &format!("/admin/orgs/{}", orgs[0].1),
                &[
                    ("name", "塘沽书友会"),
                    ("uscc", &orgs[0].0),
                    ("kind", "social_group"),
                    ("domain", "culture"),
                    ("supervisory_unit", "滨海新区文化和旅游局"),
                    ("legal_representative", "周强"),
                    ("area_code", "120116001016"),
                    ("registered_on", "2013-05-05"),
                    ("contact_phone", "13800000000"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let changes = {
            let mut c = t.db.acquire().await.unwrap();
            let (changes,): (Option<String>,) = Sql::new(
                "select changes from audit_log where action = 'update' and entity = 'organization'",
            )
            .fetch_one(&mut c.conn())
            .await
            .unwrap();
            changes.unwrap()
        };
        assert!(
            changes.contains("孙丽") && changes.contains("周强"),
            "{changes}"
        );

        let mut tx = t.db.begin().await.unwrap();
        Sql::new("update audit_log set summary = 'nothing happened' where seq = 3")
            .execute(&mut tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut c = t.db.acquire().await.unwrap();
        assert_eq!(
            verify(&mut c.conn()).await.unwrap(),
            ChainCheck::BrokenAt(3)
        );
        drop(c);
        // Through the command line too, naming the entry and failing.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_shezu"))
            .args(["audit", "verify", "--database", &db_url(t).await])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("第 3 条"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
);

/// The URL of a test database, for running the binary against it.
async fn db_url(t: &TestDb) -> String {
    t.url.clone()
}

db_test!(
    settings_take_effect_on_their_date_and_are_audited,
    |t| async move {
        let app = t.app_as("root1", "admin", None, None).await;
        let page = app.get("/admin/settings").await;
        assert!(
            page.body
                .contains("id=\"setting-party_org_allowance_yuan\">2000<"),
            "shipped default"
        );
        let res = app
            .post_form(
                "/admin/settings",
                &[
                    ("key", "party_org_allowance_yuan"),
                    ("value", "2500"),
                    ("effective_from", "2015-01-01"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let bad = app
            .post_form(
                "/admin/settings",
                &[
                    ("key", "division_code"),
                    ("value", "12011"),
                    ("effective_from", "2015-01-01"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("区划代码应为6位数字"));
        let mut c = t.db.acquire().await.unwrap();
        let def = shezu::settings::SettingDef::find("party_org_allowance_yuan").unwrap();
        let on = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            shezu::settings::store::value_on(&mut c.conn(), def, on(2014, 12, 31))
                .await
                .unwrap(),
            "2000"
        );
        assert_eq!(
            shezu::settings::store::value_on(&mut c.conn(), def, on(2015, 1, 1))
                .await
                .unwrap(),
            "2500"
        );
        drop(c);
        assert_eq!(
            count(t, "select count(*) from audit_log where entity = 'setting'").await,
            1
        );
        // Only administrators change settings.
        let registrar = t.app_as("reg2", "registrar", None, None).await;
        assert_eq!(
            registrar.get("/admin/settings").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            count(t, "select count(*) from audit_log where action = 'denied'").await,
            1
        );
    }
);

#[test]
fn audit_verify_refuses_a_missing_database_instead_of_creating_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nothere.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shezu"))
        .args([
            "audit",
            "verify",
            "--database",
            &format!("sqlite:{}", path.display()),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("不存在"));
    assert!(!path.exists(), "nothing was created");
}

db_test!(
    each_account_lands_on_a_page_it_may_open_after_signing_in,
    |t| async move {
        load_areas(t).await;
        for (username, role, area, landing) in [
            ("registrar1", "registrar", None, "/admin/orgs"),
            ("window1", "window", None, "/admin/orgs"),
            ("tanggu1", "area_officer", Some("120116001"), "/admin/orgs"),
            // An applicant holds no organization yet: the registry would refuse them.
            ("applicant1", "org", None, "/applications"),
            ("expert1", "expert", None, "/account"),
        ] {
            t.user(username, role, area, None).await;
            let app = t.app();
            let signed_in = app
                .post_form("/login", &[("username", username), ("password", PASSWORD)])
                .await;
            assert_eq!(signed_in.location(), "/admin", "{username}");
            let app = app.signed_in(username, PASSWORD).await;
            let first = app.get("/admin").await;
            assert_eq!(first.location(), landing, "{username}");
            assert_eq!(
                app.get(landing).await.status,
                StatusCode::OK,
                "{username} may open {landing}"
            );
        }
    }
);

db_test!(an_error_page_keeps_the_signed_in_header, |t| async move {
    let app = t.app_as("cuowuye", "registrar", None, None).await;
    for (uri, status) in [
        ("/admin/no-such-page", StatusCode::NOT_FOUND),
        ("/admin/users", StatusCode::FORBIDDEN),
    ] {
        let page = app.get(uri).await;
        assert_eq!(page.status, status, "{uri}");
        assert!(
            page.body.contains("<a href=\"/account\">cuowuye</a>"),
            "{uri}: {}",
            page.body
        );
        assert!(page.body.contains("action=\"/logout\""), "{uri}");
        assert!(!page.body.contains("href=\"/login\""), "{uri}");
    }
    // Signed out, the same page offers the sign-in link.
    let anonymous = t.app().get("/no-such-page").await;
    assert_eq!(anonymous.status, StatusCode::NOT_FOUND);
    assert!(anonymous.body.contains("href=\"/login\""));
});
