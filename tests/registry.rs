//! The registry through the back office and the store, on both databases: create, refuse bad
//! input without writing, edit with history and "as of", and area scope.

use crate::common::TestDb;
use crate::db_test;
use axum::http::StatusCode;
use chrono::{NaiveDate, TimeZone, Utc};
use shezu::areas::AreaId;
use shezu::auth::Scope;
use shezu::registry::store::{self, OrgFilter};
use shezu::registry::{OrgForm, OrgId};
use shezu::web::Paging;

/// Loads the real Binhai divisions.
pub async fn load_areas(t: &TestDb) {
    let mut tx = t.db.begin().await.unwrap();
    shezu::areas::store::insert_divisions(&mut tx.conn(), &shezu::areas::binhai_divisions())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

fn valid_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("name", "塘沽街道紫云园社区养老服务中心"),
        ("kind", "private_non_enterprise"),
        ("domain", "elderly_care"),
        ("supervisory_unit", "滨海新区民政局"),
        ("legal_representative", "张秀英"),
        ("area_code", "120116001016"),
        ("registered_on", "2014-05-06"),
        ("registered_capital_yuan", "30000"),
    ]
}

async fn org_count(t: &TestDb) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    store::count_all_unscoped(&mut c.conn()).await.unwrap()
}

db_test!(
    create_generates_a_valid_code_and_records_history,
    |t| async move {
        load_areas(t).await;
        let app = t.app_as("registrar1", "registrar", None, None).await;
        let res = app.post_form("/admin/orgs", &valid_form()).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = app.follow(&res).await;
        assert!(page.body.contains("塘沽街道紫云园社区养老服务中心"));
        assert!(
            page.body.contains("社会组织已登记入库。"),
            "the flash message is shown"
        );
        let mut c = t.db.acquire().await.unwrap();
        let (rows, total) = store::list(
            &mut c.conn(),
            &Scope::All,
            &OrgFilter::default(),
            Paging::new(None, None),
            store::OrgOrder::Id,
        )
        .await
        .unwrap();
        assert_eq!(total, 1);
        let code = rows[0]
            .uscc
            .clone()
            .expect("a registered kind receives a code");
        assert!(code.starts_with("52120116MJ"), "{code}");
        shezu::registry::uscc::Uscc::parse(&code).unwrap();
        let history = store::history(&mut c.conn(), &Scope::All, rows[0].org_id())
            .await
            .unwrap();
        assert_eq!(history.len(), 1);
        assert!(history[0].fields.iter().any(|f| f.field == "name"));
    }
);

db_test!(
    bad_input_is_refused_in_chinese_naming_the_field_and_writes_nothing,
    |t| async move {
        load_areas(t).await;
        let app = t.app_as("registrar1", "registrar", None, None).await;
        assert_eq!(
            app.post_form("/admin/orgs", &valid_form()).await.status,
            StatusCode::SEE_OTHER
        );

        // The same name with full-width characters and spaces is a duplicate.
        let mut dup = valid_form();
        dup[0] = ("name", "塘沽街道 紫云园社区养老服务中心\u{3000}");
        let res = app.post_form("/admin/orgs", &dup).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("名称与已登记的"), "{}", res.body);

        // An invalid code names position 17.
        let mut bad = valid_form();
        bad[0] = ("name", "另一家服务中心");
        bad.push(("uscc", "52120116MJ0631128X"));
        let res = app.post_form("/admin/orgs", &bad).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("第17位"), "{}", res.body);

        // A missing required field is named.
        let missing: Vec<_> = valid_form()
            .into_iter()
            .filter(|(k, _)| *k != "legal_representative")
            .map(|(k, v)| {
                if k == "name" {
                    (k, "第三家服务中心")
                } else {
                    (k, v)
                }
            })
            .collect();
        let res = app.post_form("/admin/orgs", &missing).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.body.contains("e-legal_representative\">此项为必填项"),
            "{}",
            res.body
        );

        // English on request.
        let res = app.post_form("/admin/orgs?lang=en", &missing).await;
        assert!(res.body.contains("This field is required"), "{}", res.body);

        // An unknown area code and an ineligible direct registration.
        let mut wrong = valid_form();
        wrong[0] = ("name", "第四家服务中心");
        wrong[3] = ("supervisory_unit", "");
        wrong[5] = ("area_code", "120116999999");
        wrong.push(("direct_registration", "on"));
        let res = app.post_form("/admin/orgs", &wrong).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("没有这个区划代码"), "{}", res.body);
        assert!(res.body.contains("只有行业协会商会类"), "{}", res.body);

        assert_eq!(
            org_count(t).await,
            1,
            "nothing was written by the refused attempts"
        );
    }
);

db_test!(
    edit_appears_in_timeline_and_as_of_answers_the_past,
    |t| async move {
        load_areas(t).await;
        let mut form = OrgForm {
            name: "大港街道书画协会".into(),
            kind: "social_group".into(),
            domain: "culture".into(),
            supervisory_unit: "滨海新区文化和旅游局".into(),
            legal_representative: "李明".into(),
            area_code: "120116051".into(),
            registered_on: "2010-03-01".into(),
            ..OrgForm::default()
        };
        let draft = form.parse().unwrap();
        let created_at = Utc.with_ymd_and_hms(2010, 3, 1, 1, 0, 0).unwrap();
        let mut tx = t.db.begin().await.unwrap();
        let row = store::create(
            &mut tx.conn(),
            &Scope::All,
            &shezu::audit::Actor::system("tester"),
            created_at,
            &draft,
            "120116",
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let app = t.app_as("registrar1", "registrar", None, None).await;
        form.legal_representative = "王芳".into();
        form.uscc = row.uscc.clone().unwrap();
        form.version = row.version.to_string();
        form.reason = "换届选举".into();
        let fields = [
            ("name", form.name.as_str()),
            ("kind", "social_group"),
            ("domain", "culture"),
            ("supervisory_unit", form.supervisory_unit.as_str()),
            ("legal_representative", "王芳"),
            ("area_code", "120116051"),
            ("registered_on", "2010-03-01"),
            ("uscc", form.uscc.as_str()),
            ("version", form.version.as_str()),
            ("reason", "换届选举"),
        ];
        let res = app
            .post_form(&format!("/admin/orgs/{}", row.id), &fields)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = app.get(&format!("/admin/orgs/{}", row.id)).await;
        assert!(page.body.contains("换届选举"));
        assert!(
            page.body.contains("<td>李明</td><td>王芳</td>"),
            "{}",
            page.body
        );

        // The same form again, with the old version: someone else's edit is a conflict.
        let res = app
            .post_form(&format!("/admin/orgs/{}", row.id), &fields)
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT);

        let mut c = t.db.acquire().await.unwrap();
        let id = OrgId(row.id);
        let before = store::as_of(
            &mut c.conn(),
            &Scope::All,
            id,
            NaiveDate::from_ymd_opt(2012, 1, 1).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(before["legal_representative"].as_deref(), Some("李明"));
        // Today in China (as_of reads a date as a China calendar day; after 16:00 UTC the UTC
        // date is still yesterday there).
        let china_today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
        let now = store::as_of(&mut c.conn(), &Scope::All, id, china_today)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now["legal_representative"].as_deref(), Some("王芳"));
        let earlier = store::as_of(
            &mut c.conn(),
            &Scope::All,
            id,
            NaiveDate::from_ymd_opt(2009, 12, 31).unwrap(),
        )
        .await
        .unwrap();
        assert!(earlier.is_none(), "not yet on record");

        let page = app
            .get(&format!("/admin/orgs/{}?as_of=2012-01-01", row.id))
            .await;
        let as_of = page
            .body
            .split("id=\"as-of-result\"")
            .nth(1)
            .expect("as-of section");
        let as_of = as_of.split("</dl>").next().unwrap();
        assert!(as_of.contains("李明") && !as_of.contains("王芳"));
    }
);

db_test!(area_scope_limits_every_query, |t| async move {
    load_areas(t).await;
    let mut tx = t.db.begin().await.unwrap();
    let at = Utc::now();
    for (name, area) in [
        ("塘沽甲协会", "120116001016"),
        ("大港乙协会", "120116051"),
        ("泰达丙协会", "120116014"),
    ] {
        let draft = OrgForm {
            name: name.into(),
            kind: "social_group".into(),
            domain: "culture".into(),
            supervisory_unit: "滨海新区文化和旅游局".into(),
            legal_representative: "赵强".into(),
            area_code: area.into(),
            registered_on: "2012-01-01".into(),
            ..OrgForm::default()
        }
        .parse()
        .unwrap();
        store::create(
            &mut tx.conn(),
            &Scope::All,
            &shezu::audit::Actor::system("tester"),
            at,
            &draft,
            "120116",
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let mut c = t.db.acquire().await.unwrap();
    let area = |code: &str| {
        let code = code.to_owned();
        async move {
            let mut c = t.db.acquire().await.unwrap();
            AreaId(
                shezu::areas::store::find_by_code(&mut c.conn(), &code)
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
            )
        }
    };
    let tanggu = Scope::areas(vec![area("120116001").await]);
    let (rows, total) = store::list(
        &mut c.conn(),
        &tanggu,
        &OrgFilter::default(),
        Paging::new(None, None),
        store::OrgOrder::Id,
    )
    .await
    .unwrap();
    assert_eq!((total, rows.len()), (1, 1));
    assert_eq!(rows[0].name, "塘沽甲协会");
    // The development zone (a functional area) sees TEDA street beneath it.
    let zone = Scope::areas(vec![area("120116400").await]);
    let (rows, _) = store::list(
        &mut c.conn(),
        &zone,
        &OrgFilter::default(),
        Paging::new(None, None),
        store::OrgOrder::Id,
    )
    .await
    .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        vec!["泰达丙协会"]
    );
    // Details outside the scope look like nothing at all.
    let (all, _) = store::list(
        &mut c.conn(),
        &Scope::All,
        &OrgFilter::default(),
        Paging::new(None, None),
        store::OrgOrder::Id,
    )
    .await
    .unwrap();
    let dagang = all.iter().find(|r| r.name == "大港乙协会").unwrap();
    assert!(
        store::find(&mut c.conn(), &tanggu, dagang.org_id())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store::history(&mut c.conn(), &tanggu, dagang.org_id())
            .await
            .is_err()
    );
    // Counts honour the scope too.
    let counts = store::count_by(
        &mut c.conn(),
        &tanggu,
        &OrgFilter::default(),
        store::GroupColumn::Kind,
    )
    .await
    .unwrap();
    assert_eq!(counts, vec![("social_group".to_owned(), 1)]);
    // An empty scope sees nothing; a street officer cannot create outside the street.
    let (_, none) = store::list(
        &mut c.conn(),
        &Scope::areas(vec![]),
        &OrgFilter::default(),
        Paging::new(None, None),
        store::OrgOrder::Id,
    )
    .await
    .unwrap();
    assert_eq!(none, 0);
    drop(c);
    let draft = OrgForm {
        name: "越界协会".into(),
        kind: "social_group".into(),
        domain: "culture".into(),
        supervisory_unit: "某局".into(),
        legal_representative: "赵强".into(),
        area_code: "120116051".into(),
        registered_on: "2012-01-01".into(),
        ..OrgForm::default()
    }
    .parse()
    .unwrap();
    let mut tx = t.db.begin().await.unwrap();
    let err = store::create(
        &mut tx.conn(),
        &tanggu,
        &shezu::audit::Actor::system("officer"),
        at,
        &draft,
        "120116",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, shezu::error::Error::Invalid(ref f) if f.get("area_code").is_some()),
        "{err:?}"
    );
});

db_test!(domain_dictionary_is_editable_and_checked, |t| async move {
    let app = t.app_as("registrar1", "registrar", None, None).await;
    let res = app
        .post_form(
            "/admin/domains",
            &[
                ("code", "disability"),
                ("name_zh", "助残服务"),
                ("name_en", "Disability services"),
                ("sort_order", "95"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = app.follow(&res).await;
    assert!(
        page.body.contains("助残服务") && page.body.contains("业务领域已保存"),
        "{}",
        page.body
    );
    // A duplicate code and a malformed code are refused, naming the field.
    let dup = app
        .post_form(
            "/admin/domains",
            &[
                ("code", "disability"),
                ("name_zh", "重复"),
                ("name_en", "Dup"),
            ],
        )
        .await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(dup.body.contains("已存在相同的值"), "{}", dup.body);
    let bad = app
        .post_form(
            "/admin/domains",
            &[("code", "Bad Code"), ("name_zh", ""), ("name_en", "x")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("小写字母") && bad.body.contains("此项为必填项"),
        "{}",
        bad.body
    );
    let mut c = t.db.acquire().await.unwrap();
    let domains = store::list_domains(&mut c.conn()).await.unwrap();
    assert_eq!(
        domains.len(),
        17,
        "16 shipped + 1 added; the refused ones wrote nothing"
    );
    // The new domain is offered on the organization form.
    assert!(
        app.get("/admin/orgs/new")
            .await
            .body
            .contains("value=\"disability\"")
    );
});

db_test!(language_switch_is_remembered, |t| async move {
    let app = t.app_as("registrar1", "registrar", None, None).await;
    let zh = app.get("/admin/orgs").await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(zh.body.contains("<html lang=\"zh-CN\">") && zh.body.contains("社会组织登记库"));
    let en = app.get("/admin/orgs?lang=en").await;
    assert!(en.body.contains("Registry of social organizations"));
    let cookie = en.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("shezu_lang=en"), "{cookie}");
    let remembered = app
        .get_with(
            "/admin/orgs",
            &[(
                "cookie",
                &format!("{}; shezu_lang=en", app.cookie.clone().unwrap()),
            )],
        )
        .await;
    assert!(remembered.body.contains("Registry of social organizations"));
});
