//! Social workers, professionals, placements, the 1:30 ratio report and training, on both
//! databases.

use crate::common::{TestApp, TestDb};
use crate::db_test;
use crate::demo_test;
use crate::evaluation::org;
use crate::inspection::set_clock;
use crate::registry::load_areas;
use axum::http::StatusCode;
use shezu::db::Sql;

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

async fn summary(app: &TestApp, query: &str) -> serde_json::Value {
    let res = app.get(&format!("/api/v1/talent/summary?{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

/// A practitioner entered through the form; returns their id.
async fn practitioner(app: &TestApp, kind: &str, name: &str, area: &str) -> i64 {
    let res = app
        .post_form(
            "/admin/practitioners",
            &[
                ("kind", kind),
                ("name", name),
                ("qualification", "assistant"),
                ("employer_kind", "agency"),
                ("employer_name", "滨海新区启航社会工作服务中心"),
                ("role", "项目督导"),
                ("area_code", area),
                ("phone", "022-25320101"),
                ("started_on", "2014-01-01"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    res.location().rsplit('/').next().unwrap().parse().unwrap()
}

async fn place(app: &TestApp, worker: i64, org: i64, from: &str) -> crate::common::Answer {
    app.post_form(
        &format!("/admin/practitioners/{worker}/placements"),
        &[("org_id", &org.to_string()), ("started_on", from)],
    )
    .await
}

demo_test!(
    the_demo_talent_figures_are_counted_from_records,
    |t| async move {
        let public = t.app();
        let s = summary(&public, "year=2014").await;
        let live = count(
            t,
            "select count(*) from organizations where status in ('active', 'abnormal')",
        )
        .await;
        let waiting = count(t, "select count(*) from organizations o where o.status in ('active', 'abnormal') and not exists (select 1 from placements p where p.org_id = o.id and p.ended_on is null)").await;
        assert_eq!(s["organizations"], live);
        assert_eq!(s["professionals"], 20, "the first batch of 20 (SPEC §4)");
        assert_eq!(
            s["social_workers"],
            count(
                t,
                "select count(*) from practitioners where kind = 'social_worker'"
            )
            .await
        );
        assert_eq!(s["organizations_without_social_worker"], waiting);
        let workers = s["social_workers"].as_i64().unwrap();
        assert!(
            workers * 30 >= live - waiting,
            "one social worker per 30 organizations served: {workers} for {}",
            live - waiting
        );
        assert!(waiting > 0, "December's registrations are waiting for one");
        assert_eq!(s["social_workers_over_load"], 0);
        assert_eq!(s["training_sessions"], 12, "a 大讲堂 a month in 2014");
        assert_eq!(
            s["training_attendances"],
            count(t, "select count(*) from training_signups s join trainings t on t.id = s.training_id where s.attended = true and t.held_on between '2014-01-01' and '2014-12-31'").await
        );

        // Changing a record changes the figures: a placement ends, a worker is entered.
        let registrar = t
            .app()
            .signed_in("registrar", shezu::demo::DEMO_PASSWORD)
            .await;
        let (worker, placement): (i64, i64) = {
            let mut c = t.db.acquire().await.unwrap();
            Sql::new("select practitioner_id, id from placements where ended_on is null order by id limit 1")
                .fetch_one(&mut c.conn())
                .await
                .unwrap()
        };
        let res = registrar
            .post_form(
                &format!("/admin/practitioners/{worker}/placements/{placement}/end"),
                &[("ended_on", "2015-06-01")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        practitioner(&registrar, "social_worker", "新社工", "120116001").await;
        let after = summary(&public, "year=2014").await;
        assert_eq!(after["organizations_without_social_worker"], waiting + 1);
        assert_eq!(after["social_workers"], workers + 1);

        // The desk shows the same figures, and the street's line adds up to the district's.
        let desk = registrar.get("/admin/talent?year=2014").await;
        assert_eq!(desk.status, StatusCode::OK, "{}", desk.body);
        assert!(
            desk.body
                .contains(&format!("id=\"without\">{}<", waiting + 1))
        );
        let tanggu = summary(&public, "area=120116001&year=2014").await;
        assert!(tanggu["organizations"].as_i64().unwrap() < live);
    }
);

db_test!(
    the_ratio_report_names_organizations_without_a_worker_and_workers_over_load,
    |t| async move {
        load_areas(t).await;
        set_clock(t, "2015-06-30").await;
        let (a, _) = org(t, "甲社区服务协会", "2013-05-01").await;
        let (b, _) = org(t, "乙社区文化协会", "2013-06-01").await;
        let (c, _) = org(t, "丙社区助老协会", "2013-07-01").await;
        let registrar = t.app_as("wangmin", "registrar", None, None).await;
        let admin = t.app_as("guanli", "admin", None, None).await;
        let settings = admin
            .post_form(
                "/admin/settings",
                &[
                    ("key", "social_worker_load"),
                    ("value", "1"),
                    ("effective_from", "2000-01-01"),
                ],
            )
            .await;
        assert_eq!(settings.status, StatusCode::SEE_OTHER, "{}", settings.body);
        let worker = practitioner(&registrar, "social_worker", "吴芳", "120116001").await;
        for o in [a, b] {
            let res = place(&registrar, worker, o, "2014-03-01").await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        }
        let s = summary(&t.app(), "area=120116001").await;
        assert_eq!(s["organizations"], 3);
        assert_eq!(s["social_workers"], 1);
        assert_eq!(s["social_workers_needed"], 3);
        assert_eq!(s["organizations_without_social_worker"], 1);
        assert_eq!(s["social_workers_over_load"], 1);
        let desk = registrar.get("/admin/talent?area=120116001").await;
        assert_eq!(desk.status, StatusCode::OK, "{}", desk.body);
        assert!(
            desk.body.contains("丙社区助老协会"),
            "listed without a worker"
        );
        assert!(
            desk.body
                .contains(&format!("/admin/practitioners/{worker}\">吴芳"))
        );
        // An officer of another street finds nothing here; Tanggu's sees its report.
        let dagang = t
            .app_as("dagang9", "area_officer", Some("120116051"), None)
            .await;
        assert_eq!(
            dagang.get("/admin/talent?area=120116001").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            dagang
                .get(&format!("/admin/practitioners/{worker}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let tanggu = t
            .app_as("tanggu9", "area_officer", Some("120116001"), None)
            .await;
        let page = tanggu.get("/admin/talent").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("丙社区助老协会"));
        // Placing the third organization empties the list.
        let res = place(&registrar, worker, c, "2015-01-01").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let s = summary(&t.app(), "area=120116001").await;
        assert_eq!(s["organizations_without_social_worker"], 0);
    }
);

db_test!(
    bad_talent_input_is_refused_naming_the_field_and_nothing_is_written,
    |t| async move {
        load_areas(t).await;
        set_clock(t, "2015-06-30").await;
        let (tanggu_org, _) = org(t, "塘沽社区服务协会", "2013-05-01").await;
        let registrar = t.app_as("wangmin", "registrar", None, None).await;
        let audit = count(t, "select count(*) from audit_log").await;
        let res = registrar
            .post_form(
                "/admin/practitioners",
                &[
                    ("kind", "professional"),
                    ("name", ""),
                    ("qualification", "doctor"),
                    ("employer_kind", "centre"),
                    ("employer_name", "中心"),
                    ("area_code", "120116001"),
                    ("phone", "x"),
                    ("started_on", "2014-05-01"),
                    ("ended_on", "2014-01-01"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        for text in ["此项为必填项", "不是有效的选项", "结束日期不能早于起始日期"]
        {
            assert!(res.body.contains(text), "{text}: {}", res.body);
        }
        assert_eq!(count(t, "select count(*) from practitioners").await, 0);

        // A worker in 大港 cannot be placed with an organization in 塘沽.
        let worker = practitioner(&registrar, "social_worker", "刘洋", "120116051").await;
        let written = count(t, "select count(*) from audit_log").await;
        assert_eq!(written, audit + 1);
        let res = place(&registrar, worker, tanggu_org, "2014-03-01").await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("不在此社工的服务区域内"), "{}", res.body);
        let res = place(&registrar, worker, tanggu_org, "2014-02-30").await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(count(t, "select count(*) from placements").await, 0);

        // Sessions: bad hours and capacity; a stale edit is a conflict.
        let res = registrar
            .post_form(
                "/admin/trainings",
                &[
                    ("series", "社会组织大讲堂"),
                    ("topic", "年检填报"),
                    ("speaker", "王老师"),
                    ("held_on", "2015-07-10"),
                    ("hours", "25"),
                    ("place", "孵化园"),
                    ("capacity", "0"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("学时须大于0"), "{}", res.body);
        assert_eq!(count(t, "select count(*) from trainings").await, 0);
        assert_eq!(count(t, "select count(*) from audit_log").await, written);
    }
);

db_test!(
    an_organization_signs_people_up_and_attendance_gives_training_hours,
    |t| async move {
        load_areas(t).await;
        set_clock(t, "2015-06-30").await;
        let (o, uscc) = org(t, "爱之声公益助学联盟", "2013-05-01").await;
        let registrar = t.app_as("wangmin", "registrar", None, None).await;
        let res = registrar
            .post_form(
                "/admin/trainings",
                &[
                    ("series", "社会组织大讲堂"),
                    ("topic", "公益项目设计"),
                    ("speaker", "王老师"),
                    ("held_on", "2015-07-10"),
                    ("hours", "2.5"),
                    ("place", "孵化园报告厅"),
                    ("capacity", "3"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let id: i64 = res.location().rsplit('/').next().unwrap().parse().unwrap();

        let member = t.app_as("aizhi", "org", None, Some(&uscc)).await;
        let page = member.get("/trainings").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("公益项目设计") && page.body.contains("为本组织报名"));
        let sign = |names: &'static str| {
            let member = &member;
            async move {
                member
                    .post_form(
                        &format!("/trainings/{id}/signups"),
                        &[("org_id", &o.to_string()), ("attendees", names)],
                    )
                    .await
            }
        };
        let res = sign("张伟\n李娜").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        // Over the places left, and a name twice: refused, nothing added.
        let res = sign("王芳\n赵强").await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("仅剩1个名额"), "{}", res.body);
        let res = sign("张伟").await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(count(t, "select count(*) from training_signups").await, 2);
        // Another organization's account cannot sign up for this one.
        let (_, other) = org(t, "别的协会", "2013-05-01").await;
        let stranger = t.app_as("bie", "org", None, Some(&other)).await;
        let res = stranger
            .post_form(
                &format!("/trainings/{id}/signups"),
                &[("org_id", &o.to_string()), ("attendees", "钱进")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(count(t, "select count(*) from training_signups").await, 2);

        // Attendance only once the session has been held.
        let ids: Vec<(i64,)> = {
            let mut c = t.db.acquire().await.unwrap();
            Sql::new("select id from training_signups order by id")
                .fetch_all(&mut c.conn())
                .await
                .unwrap()
        };
        let first = ids[0].0.to_string();
        let attend = registrar
            .post_form(
                &format!("/admin/trainings/{id}/attendance"),
                &[("attended", &first)],
            )
            .await;
        assert_eq!(attend.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(attend.body.contains("尚未举办"));
        set_clock(t, "2015-07-11").await;
        let attend = registrar
            .post_form(
                &format!("/admin/trainings/{id}/attendance"),
                &[("attended", &first)],
            )
            .await;
        assert_eq!(attend.status, StatusCode::SEE_OTHER, "{}", attend.body);
        let s = summary(&t.app(), "year=2015").await;
        assert_eq!(s["training_sessions"], 1);
        assert_eq!(s["training_attendances"], 1);
        assert_eq!(s["training_hours"], 2.5);
        // Sign-up has closed now the session is over.
        let res = sign("王芳").await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("报名已截止"));
        let mine = member.get("/trainings").await;
        assert!(mine.body.contains("本组织报名与出勤"));
    }
);

/// What the scope walk needs: a social worker in 塘沽 and a training session.
pub struct WalkSeed {
    worker: i64,
    training: i64,
}

/// Enters a social worker serving 塘沽 with organization `tanggu_org`, and a session.
pub async fn seed_walk(t: &TestDb, tanggu_org: i64) -> WalkSeed {
    use shezu::talent::{EmployerKind, Practitioner, PractitionerKind, Qualification, Training};
    let mut tx = t.db.begin().await.unwrap();
    let mut c = tx.conn();
    let actor = shezu::audit::Actor::system("seed");
    let at = chrono::Utc::now();
    let street = shezu::areas::store::find_by_code(&mut c, "120116001")
        .await
        .unwrap()
        .unwrap();
    let p = Practitioner {
        kind: PractitionerKind::SocialWorker,
        name: "吴芳".into(),
        qualification: Qualification::Assistant,
        employer_kind: EmployerKind::Centre,
        employer_name: "滨海新区社会组织服务中心".into(),
        role: String::new(),
        phone: "022-25320101".into(),
        started_on: "2012-01-01".parse().unwrap(),
        ended_on: None,
    };
    let worker = shezu::talent::store::create_practitioner(&mut c, &actor, at, &street, &p)
        .await
        .unwrap();
    let row = shezu::talent::store::practitioner(
        &mut c,
        &shezu::auth::Scope::All,
        worker,
        "2012-06-01".parse().unwrap(),
    )
    .await
    .unwrap();
    shezu::talent::store::place(
        &mut c,
        &actor,
        at,
        &row,
        tanggu_org,
        "2012-06-01".parse().unwrap(),
    )
    .await
    .unwrap();
    let training = shezu::talent::store::create_training(
        &mut c,
        &actor,
        at,
        &Training {
            series: "社会组织大讲堂".into(),
            topic: "年检填报".into(),
            speaker: "王老师".into(),
            held_on: "2099-01-01".parse().unwrap(),
            minutes: 120,
            place: "孵化园".into(),
            capacity: 50,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    WalkSeed { worker, training }
}

/// Every talent route for caller `u`; returns the routes it covered.
pub async fn walk(app: &TestApp, u: &str, s: &WalkSeed) -> Vec<&'static str> {
    use crate::scope::gate;
    let expect = |route: &str, method: &str, want: u16, got: &crate::common::Answer| {
        assert_eq!(
            got.status.as_u16(),
            want,
            "{u} {method} {route}: {}",
            got.body
        );
    };
    // District staff see everything; Tanggu's officer sees Tanggu; an officer elsewhere finds
    // nothing there; everyone else is refused.
    let district = matches!(u, "admin1" | "registrar1");
    let view = |method: &str| match u {
        "tanggu1" => 200,
        "dagang1" => 404,
        _ => gate(u, district, method, 200),
    };
    let manage = |method: &str, ok: u16| gate(u, district, method, ok);
    let staff = district || matches!(u, "tanggu1" | "dagang1");
    expect(
        "/admin/talent",
        "GET",
        view("GET"),
        &app.get("/admin/talent?area=120116001").await,
    );
    expect(
        "/admin/practitioners",
        "GET",
        gate(u, staff, "GET", 200),
        &app.get("/admin/practitioners").await,
    );
    let w = s.worker;
    expect(
        "/admin/practitioners/{id}",
        "GET",
        view("GET"),
        &app.get(&format!("/admin/practitioners/{w}")).await,
    );
    let res = app.post_form("/admin/practitioners", &[("name", "")]).await;
    expect("/admin/practitioners", "POST", manage("POST", 422), &res);
    let res = app
        .post_form(&format!("/admin/practitioners/{w}"), &[("name", "")])
        .await;
    expect(
        "/admin/practitioners/{id}",
        "POST",
        manage("POST", 422),
        &res,
    );
    let res = app
        .post_form(
            &format!("/admin/practitioners/{w}/placements"),
            &[("org_id", "x")],
        )
        .await;
    expect(
        "/admin/practitioners/{id}/placements",
        "POST",
        manage("POST", 422),
        &res,
    );
    let res = app
        .post_form(
            &format!("/admin/practitioners/{w}/placements/0/end"),
            &[("ended_on", "2015-01-01")],
        )
        .await;
    expect(
        "/admin/practitioners/{id}/placements/{placement}/end",
        "POST",
        manage("POST", 404),
        &res,
    );
    expect(
        "/admin/trainings",
        "GET",
        gate(u, staff, "GET", 200),
        &app.get("/admin/trainings").await,
    );
    let tr = s.training;
    expect(
        "/admin/trainings/{id}",
        "GET",
        gate(u, staff, "GET", 200),
        &app.get(&format!("/admin/trainings/{tr}")).await,
    );
    let res = app.post_form("/admin/trainings", &[("topic", "")]).await;
    expect("/admin/trainings", "POST", manage("POST", 422), &res);
    let res = app
        .post_form(&format!("/admin/trainings/{tr}"), &[("topic", "")])
        .await;
    expect("/admin/trainings/{id}", "POST", manage("POST", 422), &res);
    let res = app
        .post_form(&format!("/admin/trainings/{tr}/attendance"), &[])
        .await;
    expect(
        "/admin/trainings/{id}/attendance",
        "POST",
        manage("POST", 422),
        &res,
    );
    expect("/trainings", "GET", 200, &app.get("/trainings").await);
    let signs = matches!(u, "org1" | "worker1");
    let res = app
        .post_form(&format!("/trainings/{tr}/signups"), &[("attendees", "")])
        .await;
    expect(
        "/trainings/{id}/signups",
        "POST",
        gate(u, signs, "POST", 422),
        &res,
    );
    expect(
        "/api/v1/talent/summary",
        "GET",
        200,
        &app.get("/api/v1/talent/summary?area=120116001").await,
    );
    vec![
        "/admin/talent",
        "/admin/practitioners",
        "/admin/practitioners/{id}",
        "/admin/practitioners/{id}/placements",
        "/admin/practitioners/{id}/placements/{placement}/end",
        "/admin/trainings",
        "/admin/trainings/{id}",
        "/admin/trainings/{id}/attendance",
        "/trainings",
        "/trainings/{id}/signups",
        "/api/v1/talent/summary",
    ]
}
