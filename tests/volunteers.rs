//! Volunteers, the verification chain, stars and certificates, donations and brand figures, on
//! both databases.

use crate::common::{Answer, TestApp, TestDb};
use crate::db_test;
use crate::demo_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use chrono::Utc;
use shezu::auth::Scope;
use shezu::db::Sql;
use shezu::registry::OrgForm;

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

async fn summary(app: &TestApp, query: &str) -> serde_json::Value {
    let res = app.get(&format!("/api/v1/volunteers/summary{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

/// A valid ID number made from 17 digits.
fn id_number(first17: &str) -> String {
    format!(
        "{first17}{}",
        shezu::volunteers::id_check_char(first17).unwrap()
    )
}

/// An organization in `area`, its id.
async fn org(t: &TestDb, name: &str, area: &str, brand: bool) -> i64 {
    let draft = OrgForm {
        name: name.into(),
        kind: "social_group".into(),
        domain: "culture".into(),
        supervisory_unit: "滨海新区民政局".into(),
        legal_representative: "钱进".into(),
        area_code: area.into(),
        registered_on: "2012-03-04".into(),
        brand: brand.then(|| "on".into()),
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

/// The number of the volunteer a registration redirected to.
fn created_id(res: &Answer) -> i64 {
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    res.location().rsplit('/').next().unwrap().parse().unwrap()
}

demo_test!(
    the_demo_figures_are_counted_from_records_and_follow_them,
    |t| async move {
        let public = t.app();
        let s = summary(&public, "").await;
        let hours = s["volunteer_hours"].as_i64().unwrap();
        assert!(hours > 700_000, "{s}");
        assert!(s["donations_yuan"].as_i64().unwrap() > 10_000_000, "{s}");
        assert_eq!(s["domains"], 11, "{s}");
        assert!(s["unverified_hours"].as_i64().unwrap() > 0, "{s}");
        let verified = count(
            t,
            "select cast(sum(tenth_hours) as bigint) / 10 from volunteer_services where state = 'verified'",
        )
        .await;
        assert_eq!(hours, verified, "only verified hours count");
        // The figures on the profiles of the brand organizations.
        let mut c = t.db.acquire().await.unwrap();
        let uni = shezu::registry::store::find_by_name(&mut c.conn(), &Scope::All, "大港老年大学")
            .await
            .unwrap()
            .unwrap();
        let host =
            shezu::registry::store::find_by_name(&mut c.conn(), &Scope::All, "泰达社会服务中心")
                .await
                .unwrap()
                .unwrap();
        drop(c);
        let figures = |org: i64| async move {
            let mut c = t.db.acquire().await.unwrap();
            shezu::volunteers::store::figures_of(&mut c.conn(), org)
                .await
                .unwrap()
        };
        let f = figures(uni.id).await;
        let students = f.iter().find(|f| f.label == "在读学员").unwrap().value;
        let classes = f.iter().find(|f| f.label == "开设班级").unwrap().value;
        assert!(students > 1_000, "{f:?}");
        assert_eq!(classes, 42);
        let children = figures(host.id).await[0].value;
        assert!(children > 600, "{children}");
        let profile = public.get(&format!("/orgs/{}", uni.id)).await;
        assert_eq!(profile.status, StatusCode::OK);
        assert!(profile.body.contains("开设班级"), "{}", profile.body);
        assert!(
            profile.body.contains(&format!("{students}"))
                || profile
                    .body
                    .contains(&format!("{},{:03}", students / 1000, students % 1000))
        );
        // A record changes the figures: one more student, one more verified service.
        let mut tx = t.db.begin().await.unwrap();
        let (group,): (i64,) =
            Sql::new("select id from beneficiary_groups where org_id = $1 order by id limit 1")
                .arg(uni.id)
                .fetch_one(&mut tx.conn())
                .await
                .unwrap();
        shezu::volunteers::store::enrol(
            &mut tx.conn(),
            group,
            "王*",
            "elderly",
            "2014-09-10".parse().unwrap(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let f = figures(uni.id).await;
        assert_eq!(
            f.iter().find(|f| f.label == "在读学员").unwrap().value,
            students + 1
        );
        let (id, tenths): (i64, i64) = {
            let mut c = t.db.acquire().await.unwrap();
            Sql::new("select id, tenth_hours from volunteer_services where state = 'confirmed' order by id limit 1")
                .fetch_one(&mut c.conn())
                .await
                .unwrap()
        };
        let before = count(t, "select cast(sum(tenth_hours) as bigint) from volunteer_services where state = 'verified'").await;
        let admin = t.app_as("vadmin", "admin", None, None).await;
        let res = admin
            .post_form(
                &format!("/admin/volunteer-services/{id}"),
                &[("action", "verify")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let after = count(t, "select cast(sum(tenth_hours) as bigint) from volunteer_services where state = 'verified'").await;
        assert_eq!(after, before + tenths);
        let s2 = summary(&public, "").await;
        assert_eq!(s2["volunteer_hours"].as_i64().unwrap(), after / 10);
        // A year and an area narrow the figures.
        let y = summary(&public, "?year=2014&area=120116014").await;
        assert!(y["volunteer_hours"].as_i64().unwrap() < after / 10);
        assert!(y["volunteer_hours"].as_i64().unwrap() > 0);
        // The association's desk page shows it, and never a full ID number.
        let desk = admin.get("/admin/volunteers").await;
        assert_eq!(desk.status, StatusCode::OK, "{}", desk.body);
        assert!(desk.body.contains("**********"));
    }
);

/// A TEDA organization with an account, an officer for TEDA and one for 大港, another
/// organization's account, and a volunteer registered through the page. Star levels at
/// 10/20/30/40/50 hours.
struct Chain {
    org: TestApp,
    teda: TestApp,
    dagang: TestApp,
    other: TestApp,
    volunteer: i64,
    clear_id: String,
}

async fn chain(t: &TestDb) -> Chain {
    load_areas(t).await;
    let org_id = org(t, "泰达链条志愿服务队", "120116014001", false).await;
    org(t, "大港别家协会", "120116051", false).await;
    let mut tx = t.db.begin().await.unwrap();
    let def = shezu::settings::SettingDef::find("volunteer_star_hours").unwrap();
    shezu::settings::store::set(
        &mut tx.conn(),
        &shezu::audit::Actor::system("seed"),
        Utc::now(),
        def,
        "10,20,30,40,50",
        "2000-01-01".parse().unwrap(),
    )
    .await
    .unwrap();
    shezu::settings::store::set(
        &mut tx.conn(),
        &shezu::audit::Actor::system("seed"),
        Utc::now(),
        shezu::settings::SettingDef::find("clock_date").unwrap(),
        "2015-06-30",
        "2000-01-01".parse().unwrap(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let org_app = t
        .app_as("vorg", "org", None, Some(&org_id.to_string()))
        .await;
    let teda = t
        .app_as("vteda", "area_officer", Some("120116014"), None)
        .await;
    let dagang = t
        .app_as("vdagang", "area_officer", Some("120116051"), None)
        .await;
    let other_id = {
        let mut c = t.db.acquire().await.unwrap();
        shezu::registry::store::find_by_name(&mut c.conn(), &Scope::All, "大港别家协会")
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let other = t
        .app_as("vother", "org", None, Some(&other_id.to_string()))
        .await;
    let clear_id = id_number("12011619850315201");
    let res = org_app
        .post_form(
            "/admin/volunteers",
            &[
                ("name", "韩梅梅"),
                ("gender", "female"),
                ("id_number", &clear_id),
                ("phone", "13812345678"),
                ("registered_on", "2014-01-02"),
            ],
        )
        .await;
    let volunteer = created_id(&res);
    Chain {
        org: org_app,
        teda,
        dagang,
        other,
        volunteer,
        clear_id,
    }
}

async fn service_id(t: &TestDb, on: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new("select id from volunteer_services where served_on = $1 order by id desc limit 1")
        .arg(on.parse::<chrono::NaiveDate>().unwrap())
        .fetch_i64(&mut c.conn())
        .await
        .unwrap()
}

fn stars(body: &str) -> i64 {
    let at = body.find("data-stars=\"").unwrap() + 12;
    body[at..at + 1].parse().unwrap()
}

db_test!(
    only_verified_hours_count_and_the_star_and_certificate_follow_them,
    |t| async move {
        let c = chain(t).await;
        let v = c.volunteer;
        let record = |on: &'static str, hours: &'static str| {
            let app = c.org.clone();
            async move {
                app.post_form(
                    &format!("/admin/volunteers/{v}/services"),
                    &[
                        ("project", "社区助老"),
                        ("domain", "elderly_care"),
                        ("served_on", on),
                        ("hours", hours),
                    ],
                )
                .await
            }
        };
        assert_eq!(
            record("2015-06-01", "12").await.status,
            StatusCode::SEE_OTHER
        );
        let s = service_id(t, "2015-06-01").await;
        let cert = format!("/admin/volunteers/{v}/certificate");
        let page = c.org.get(&cert).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(stars(&page.body), 0, "recorded hours do not count");
        assert_eq!(summary(&t.app(), "").await["volunteer_hours"], 0);
        // The area office cannot verify before the organization confirms; the organization
        // cannot verify at all.
        let step = |app: &TestApp, action: &'static str| {
            let app = app.clone();
            async move {
                app.post_form(
                    &format!("/admin/volunteer-services/{s}"),
                    &[("action", action)],
                )
                .await
            }
        };
        assert_eq!(step(&c.teda, "verify").await.status, StatusCode::CONFLICT);
        assert_eq!(step(&c.org, "confirm").await.status, StatusCode::SEE_OTHER);
        assert_eq!(step(&c.org, "confirm").await.status, StatusCode::CONFLICT);
        assert_eq!(step(&c.org, "verify").await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            step(&c.dagang, "verify").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            summary(&t.app(), "").await["volunteer_hours"],
            0,
            "confirmed is not verified"
        );
        assert_eq!(stars(&c.org.get(&cert).await.body), 0);
        assert_eq!(step(&c.teda, "verify").await.status, StatusCode::SEE_OTHER);
        assert_eq!(summary(&t.app(), "").await["volunteer_hours"], 12);
        let page = c.org.get(&cert).await;
        assert_eq!(stars(&page.body), 1, "12 verified hours: 1★ at 10");
        assert!(
            page.body.contains("泰达链条志愿服务队"),
            "issued by the recording organization"
        );
        assert!(page.body.contains("id=\"total\">12<"), "{}", page.body);
        // Who did what, audited.
        let audited = count(t, &format!("select count(*) from audit_log where entity = 'volunteer_service' and entity_id = {s}")).await;
        assert_eq!(audited, 3, "record, confirm, verify");
        // A second service sent back: with a reason only, and it never counts.
        assert_eq!(
            record("2015-06-02", "10").await.status,
            StatusCode::SEE_OTHER
        );
        let s2 = service_id(t, "2015-06-02").await;
        let res = c
            .org
            .post_form(
                &format!("/admin/volunteer-services/{s2}"),
                &[("action", "reject")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("reason"), "{}", res.body);
        let res = c
            .org
            .post_form(
                &format!("/admin/volunteer-services/{s2}"),
                &[("action", "reject"), ("reason", "重复记录")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        // A third, verified: 22 hours → 2★; the certificate follows.
        assert_eq!(
            record("2015-06-03", "10").await.status,
            StatusCode::SEE_OTHER
        );
        let s3 = service_id(t, "2015-06-03").await;
        for (app, action) in [(&c.org, "confirm"), (&c.teda, "verify")] {
            let res = app
                .post_form(
                    &format!("/admin/volunteer-services/{s3}"),
                    &[("action", action)],
                )
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        }
        let page = c.org.get(&cert).await;
        assert_eq!(stars(&page.body), 2);
        assert!(page.body.contains("id=\"total\">22<"));
        let show = c.org.get(&format!("/admin/volunteers/{v}")).await;
        assert!(show.body.contains("重复记录"), "the reason is shown");

        // Personal data: never the full ID number — not in pages, JSON or the database; the
        // phone in full only for the registering organization.
        let masked = format!("{}**********{}", &c.clear_id[..4], &c.clear_id[14..]);
        let admin = t.app_as("vadmin", "admin", None, None).await;
        for (app, phone_full) in [(&c.org, true), (&c.teda, false), (&admin, true)] {
            for path in [
                format!("/admin/volunteers/{v}"),
                "/admin/volunteers".to_owned(),
                cert.clone(),
            ] {
                let res = app.get(&path).await;
                assert_eq!(res.status, StatusCode::OK, "{path}");
                assert!(!res.body.contains(&c.clear_id), "{path}");
                assert!(!res.body.contains(&c.clear_id[6..14]), "birth date {path}");
                assert!(res.body.contains(&masked), "{path}");
                if path != cert {
                    assert_eq!(res.body.contains("13812345678"), phone_full, "{path}");
                }
            }
        }
        assert!(
            c.teda
                .get("/admin/volunteers")
                .await
                .body
                .contains("138****5678")
        );
        let json = t.app().get("/api/v1/volunteers/summary").await.body;
        assert!(!json.contains("韩梅梅") && !json.contains(&c.clear_id));
        let stored = count(
            t,
            &format!(
                "select count(*) from volunteers where id_hash like '%{}%' or id_masked like '%{}%' or name like '%{}%'",
                &c.clear_id[6..14],
                &c.clear_id[6..14],
                &c.clear_id[6..14]
            ),
        )
        .await;
        assert_eq!(stored, 0, "the clear number is stored nowhere");
        // Outside scope: not there at all.
        for app in [&c.dagang, &c.other] {
            assert_eq!(
                app.get(&format!("/admin/volunteers/{v}")).await.status,
                StatusCode::NOT_FOUND
            );
            assert_eq!(app.get(&cert).await.status, StatusCode::NOT_FOUND);
            assert!(!app.get("/admin/volunteers").await.body.contains("韩梅梅"));
        }
        assert_eq!(
            t.app().get(&format!("/admin/volunteers/{v}")).await.status,
            StatusCode::SEE_OTHER
        );
    }
);

db_test!(
    bad_input_is_refused_naming_the_field_and_nothing_is_written,
    |t| async move {
        let c = chain(t).await;
        let v = c.volunteer;
        let services = "select count(*) from volunteer_services";
        let audit = "select count(*) from audit_log";
        let post = |fields: Vec<(&'static str, &'static str)>| {
            let app = c.org.clone();
            async move {
                app.post_form(&format!("/admin/volunteers/{v}/services"), &fields)
                    .await
            }
        };
        let base = |on: &'static str, hours: &'static str| {
            vec![
                ("project", "环境清洁"),
                ("domain", "environment"),
                ("served_on", on),
                ("hours", hours),
            ]
        };
        assert_eq!(
            post(base("2015-06-10", "20")).await.status,
            StatusCode::SEE_OTHER
        );
        let (n, a) = (count(t, services).await, count(t, audit).await);
        for (fields, field) in [
            (base("2015-06-11", "-3"), "hours"),
            (base("2015-06-11", "0"), "hours"),
            (base("2015-06-11", "25"), "hours"),
            (base("2015-06-10", "4.5"), "hours"),
            (base("2015-07-01", "2"), "served_on"),
            (base("2015-06-11", "两小时"), "hours"),
            (
                vec![
                    ("project", "x"),
                    ("domain", "astrology"),
                    ("served_on", "2015-06-11"),
                    ("hours", "2"),
                ],
                "domain",
            ),
        ] {
            let res = post(fields.clone()).await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
            assert!(
                res.body.contains(&format!("<code>{field}</code>")),
                "{fields:?}: {}",
                res.body
            );
        }
        // 20 + 4 = 24 on one day is allowed; the day's sum is what counts.
        assert_eq!(
            post(base("2015-06-10", "4")).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(count(t, services).await, n + 1);
        let res = post(base("2015-06-10", "0.5")).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("24"), "{}", res.body);
        // An unknown volunteer.
        let res = c
            .org
            .post_form(
                "/admin/volunteers/999999/services",
                &base("2015-06-11", "2"),
            )
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert_eq!(count(t, services).await, n + 1);
        // Registration: a wrong check character, a second registration of the same person.
        let vols = "select count(*) from volunteers";
        let before = count(t, vols).await;
        let mut bad = c.clear_id.clone();
        let last = bad.pop().unwrap();
        bad.push(if last == '1' { '2' } else { '1' });
        for (id, field) in [
            (bad.as_str(), "id_number"),
            (c.clear_id.as_str(), "id_number"),
            ("", "id_number"),
        ] {
            let res = c
                .org
                .post_form("/admin/volunteers", &[("name", "李雷"), ("id_number", id)])
                .await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{id}");
            assert!(res.body.contains(&format!("<code>{field}</code>")));
        }
        assert_eq!(count(t, vols).await, before);
        // Donations: no amount, a future date, goods without a description.
        let dons = "select count(*) from donations";
        for (fields, field) in [
            (
                vec![
                    ("direction", "received"),
                    ("counterpart", "张三"),
                    ("counterpart_kind", "individual"),
                    ("kind", "money"),
                    ("amount_yuan", "-5"),
                    ("donated_on", "2015-06-01"),
                    ("purpose", "助学"),
                ],
                "amount_yuan",
            ),
            (
                vec![
                    ("direction", "received"),
                    ("counterpart", "张三"),
                    ("counterpart_kind", "individual"),
                    ("kind", "money"),
                    ("amount_yuan", "5"),
                    ("donated_on", "2016-01-01"),
                    ("purpose", "助学"),
                ],
                "donated_on",
            ),
            (
                vec![
                    ("direction", "received"),
                    ("counterpart", "张三"),
                    ("counterpart_kind", "individual"),
                    ("kind", "goods"),
                    ("amount_yuan", "5"),
                    ("donated_on", "2015-06-01"),
                    ("purpose", "助学"),
                ],
                "goods",
            ),
        ] {
            let res = c.org.post_form("/admin/donations", &fields).await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                res.body.contains(&format!("<code>{field}</code>")),
                "{field}: {}",
                res.body
            );
        }
        assert_eq!(count(t, dons).await, 0);
        // The refused posts wrote no audit entries beyond the accepted ones.
        assert_eq!(count(t, audit).await, a + 1);
        // A donation to disclose: totals at or above the threshold show on the public profile,
        // individual donors masked.
        let res = c
            .org
            .post_form(
                "/admin/donations",
                &[
                    ("direction", "received"),
                    ("counterpart", "王小明"),
                    ("counterpart_kind", "individual"),
                    ("kind", "money"),
                    ("amount_yuan", "20000"),
                    ("donated_on", "2015-06-01"),
                    ("purpose", "助学"),
                    ("project", "助学计划"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let org_id = {
            let mut c = t.db.acquire().await.unwrap();
            Sql::new("select org_id from volunteers limit 1")
                .fetch_i64(&mut c.conn())
                .await
                .unwrap()
        };
        let profile = t.app().get(&format!("/orgs/{org_id}")).await;
        assert!(profile.body.contains("donation-totals"), "{}", profile.body);
        assert!(profile.body.contains("王**") && !profile.body.contains("王小明"));
        assert!(
            !profile.body.contains("韩梅梅"),
            "no volunteer on the public profile"
        );
        let donations = c.org.get("/admin/donations").await;
        assert!(donations.body.contains("助学计划") && donations.body.contains("王小明"));
    }
);

/// What the scope walk needs: a volunteer of the TEDA organization with a recorded service.
pub struct WalkSeed {
    volunteer: i64,
    service: i64,
    name: &'static str,
}

/// Registers the walk's volunteer with organization `teda` (tests/scope.rs).
pub async fn seed_walk(t: &TestDb, teda: i64) -> WalkSeed {
    let mut tx = t.db.begin().await.unwrap();
    let mut c = tx.conn();
    let actor = shezu::audit::Actor::system("seed");
    let name = "走查志愿者";
    let new = shezu::volunteers::VolunteerForm {
        name: name.into(),
        id_number: id_number("12011619900101123"),
        phone: "13900001111".into(),
        ..Default::default()
    }
    .parse("2015-06-30".parse().unwrap())
    .unwrap();
    let (_, _, area) = shezu::volunteers::store::org_in_scope(&mut c, &Scope::All, teda)
        .await
        .unwrap();
    let volunteer =
        shezu::volunteers::store::create_volunteer(&mut c, &actor, Utc::now(), teda, area, &new)
            .await
            .unwrap();
    let row = shezu::volunteers::store::volunteer(&mut c, &Scope::All, volunteer)
        .await
        .unwrap();
    let s = shezu::volunteers::ServiceForm {
        project: "走查项目".into(),
        domain: "health".into(),
        served_on: "2014-05-01".into(),
        hours: "3".into(),
    }
    .parse("2015-06-30".parse().unwrap())
    .unwrap();
    let service = shezu::volunteers::store::record_service(&mut c, &actor, Utc::now(), &row, &s)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    WalkSeed {
        volunteer,
        service,
        name,
    }
}

/// Walks this module's routes as caller `u` (see tests/scope.rs): views for organizations'
/// accounts and area offices within reach and district staff; writes with invalid input so
/// every caller sees the same state. Returns the routes it exercised.
pub async fn walk(app: &TestApp, u: &str, s: &WalkSeed) -> Vec<&'static str> {
    use crate::scope::gate;
    let expect = |route: &str, method: &str, want: u16, got: &Answer| {
        assert_eq!(
            got.status.as_u16(),
            want,
            "{u} {method} {route}: {}",
            got.body
        );
    };
    let views = matches!(u, "admin1" | "registrar1" | "tanggu1" | "dagang1" | "org1");
    let sees_teda = matches!(u, "admin1" | "registrar1" | "org1");
    let manages = sees_teda;
    let brands = matches!(u, "admin1" | "registrar1");
    // A record in view, or one outside it (404), for callers who view some.
    let record = |method: &str, ok: u16| match u {
        "tanggu1" | "dagang1" => 404,
        _ => gate(u, sees_teda, method, ok),
    };
    let desk = app.get("/admin/volunteers").await;
    expect(
        "/admin/volunteers",
        "GET",
        gate(u, views, "GET", 200),
        &desk,
    );
    assert_eq!(
        desk.body.contains(s.name),
        sees_teda,
        "{u}: the volunteer list stays in scope"
    );
    let res = app.post_form("/admin/volunteers", &[("name", "")]).await;
    expect(
        "/admin/volunteers",
        "POST",
        gate(u, manages, "POST", 422),
        &res,
    );
    let v = s.volunteer;
    let res = app.get(&format!("/admin/volunteers/{v}")).await;
    expect("/admin/volunteers/{id}", "GET", record("GET", 200), &res);
    let res = app
        .post_form(
            &format!("/admin/volunteers/{v}/services"),
            &[("hours", "-1")],
        )
        .await;
    expect(
        "/admin/volunteers/{id}/services",
        "POST",
        record("POST", 422),
        &res,
    );
    let res = app.get(&format!("/admin/volunteers/{v}/certificate")).await;
    expect(
        "/admin/volunteers/{id}/certificate",
        "GET",
        record("GET", 200),
        &res,
    );
    let res = app
        .post_form(
            &format!("/admin/volunteer-services/{}", s.service),
            &[("action", "bogus")],
        )
        .await;
    expect(
        "/admin/volunteer-services/{id}",
        "POST",
        record("POST", 422),
        &res,
    );
    let res = app.get("/admin/donations").await;
    expect("/admin/donations", "GET", gate(u, views, "GET", 200), &res);
    let res = app
        .post_form("/admin/donations", &[("amount_yuan", "x")])
        .await;
    expect(
        "/admin/donations",
        "POST",
        gate(u, manages, "POST", 422),
        &res,
    );
    let res = app.get("/admin/service-bases").await;
    expect(
        "/admin/service-bases",
        "GET",
        gate(u, views, "GET", 200),
        &res,
    );
    let res = app.post_form("/admin/service-bases", &[("name", "")]).await;
    expect(
        "/admin/service-bases",
        "POST",
        gate(u, brands, "POST", 422),
        &res,
    );
    let res = app.get("/admin/brands").await;
    expect("/admin/brands", "GET", gate(u, brands, "GET", 200), &res);
    let res = app
        .post_form(&format!("/admin/brands/{v}"), &[("reasons", "")])
        .await;
    expect(
        "/admin/brands/{id}",
        "POST",
        gate(u, brands, "POST", 422),
        &res,
    );
    let res = app
        .post_form(&format!("/admin/brands/{v}/figures"), &[("label", "")])
        .await;
    expect(
        "/admin/brands/{id}/figures",
        "POST",
        gate(u, brands, "POST", 422),
        &res,
    );
    let res = app.get("/api/v1/volunteers/summary").await;
    expect("/api/v1/volunteers/summary", "GET", 200, &res);
    assert!(!res.body.contains(s.name));
    vec![
        "/admin/volunteers",
        "/admin/volunteers/{id}",
        "/admin/volunteers/{id}/services",
        "/admin/volunteers/{id}/certificate",
        "/admin/volunteer-services/{id}",
        "/admin/donations",
        "/admin/service-bases",
        "/admin/brands",
        "/admin/brands/{id}",
        "/admin/brands/{id}/figures",
        "/api/v1/volunteers/summary",
    ]
}
