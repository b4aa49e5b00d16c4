//! Incubation (三级孵化体系), on both databases: the demo's 4 graduated / 3 in incubation counted
//! from records, capacity, bad input refused with nothing written, a group incubated, graduated
//! and then registered through the approvals flow keeping its history, and the route walk.

use crate::common::{Answer, TestApp, TestDb};
use crate::db_test;
use crate::demo_test;
use crate::inspection::set_clock;
use crate::registry::load_areas;
use axum::http::StatusCode;
use shezu::db::Sql;

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

/// Every row the module writes, to prove a refusal wrote nothing.
async fn rows(t: &TestDb) -> [i64; 5] {
    let mut out = [0; 5];
    for (i, table) in [
        "incubators",
        "incubation_calls",
        "incubation_applications",
        "incubation_stays",
        "incubation_services",
    ]
    .iter()
    .enumerate()
    {
        out[i] = count(t, &format!("select count(*) from {table}")).await;
    }
    out
}

fn id_from(location: &str) -> i64 {
    location.rsplit('/').next().unwrap().parse().unwrap()
}

async fn summary(app: &TestApp, area: &str) -> serde_json::Value {
    let res = app
        .get(&format!("/api/v1/incubation/summary?area={area}"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

fn ok(res: &Answer) {
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
}

fn refused(res: &Answer, field: &str, text: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(
        res.body.contains(&format!("#h-{field}\""))
            || res.body.contains(&format!("<code>{field}</code>")),
        "names {field}: {}",
        res.body
    );
    assert!(res.body.contains(text), "says {text}: {}", res.body);
}

/// A street centre in 塘沽 with `capacity` places, set up by `app`; returns its id.
async fn street_centre(app: &TestApp, capacity: &str) -> i64 {
    let res = app
        .post_form(
            "/admin/incubators",
            &[
                ("level", "street"),
                ("area_code", "120116001"),
                ("name", "塘沽街社会组织孵化指导中心"),
                ("focus", "养老服务、community_service"),
                ("capacity", capacity),
                ("address", "塘沽街道社会组织联合会"),
                ("operator", "塘沽街社会组织联合会"),
            ],
        )
        .await;
    ok(&res);
    id_from(res.location())
}

/// A call of `places` at incubator `id`, open around the business date 2015-06-30.
async fn call(t: &TestDb, app: &TestApp, id: i64, places: &str) -> i64 {
    let res = app
        .post_form(
            "/admin/incubation-calls",
            &[
                ("incubator", &id.to_string()),
                ("title", "2015年入壳征集"),
                ("opens_on", "2015-06-01"),
                ("closes_on", "2015-07-31"),
                ("places", places),
            ],
        )
        .await;
    ok(&res);
    count(t, "select max(id) from incubation_calls").await
}

/// A group applies to call `id` (entered by staff); returns the application's id.
async fn group_applies(t: &TestDb, app: &TestApp, call: i64, name: &str) -> i64 {
    let res = app
        .post_form(
            &format!("/admin/incubation-calls/{call}/applications"),
            &[
                ("group_name", name),
                ("contact", "韩梅 13602020315"),
                ("domain", "charity"),
                ("plan", "开展助学服务，一年内完成登记。"),
            ],
        )
        .await;
    ok(&res);
    count(t, "select max(id) from incubation_applications").await
}

async fn accept(app: &TestApp, application: i64, entered: &str, planned: &str) -> Answer {
    app.post_form(
        &format!("/admin/incubation-applications/{application}/decide"),
        &[
            ("decision", "accept"),
            ("reason", "方向契合，团队稳定"),
            ("entered_on", entered),
            ("planned_end_on", planned),
        ],
    )
    .await
}

demo_test!(
    the_demo_counts_four_graduated_and_three_in_incubation,
    |t| async move {
        let public = t.app();
        let s = summary(&public, "").await;
        assert_eq!(s["graduated"], 4, "{s}");
        assert_eq!(s["incubating"], 3, "{s}");
        assert_eq!(
            s["graduated"],
            count(
                t,
                "select count(*) from incubation_stays where outcome = 'graduated'"
            )
            .await
        );
        assert_eq!(
            s["subsidies_fen"],
            count(
                t,
                "select cast(coalesce(sum(amount_fen), 0) as bigint) from incubation_services"
            )
            .await
        );
        let levels: Vec<i64> = s["by_level"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["incubators"].as_i64().unwrap())
            .collect();
        assert_eq!(levels, [1, 1, 3], "{s}");
        // The two named ones, on their public profiles.
        for (name, state) in [
            ("九九华龄居家养老服务中心", "出壳"),
            ("鹤童老年服务中心", "孵化中"),
        ] {
            let uscc: String = {
                let mut c = t.db.acquire().await.unwrap();
                let (u,): (String,) = Sql::new("select uscc from organizations where name = $1")
                    .arg(name)
                    .fetch_one(&mut c.conn())
                    .await
                    .unwrap();
                u
            };
            let page = public.get(&format!("/orgs/{uscc}")).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("孵化经历"), "{name}");
            assert!(page.body.contains("滨海新区社会组织孵化园"), "{name}");
            assert!(page.body.contains(state), "{name}: {state}");
            assert!(page.body.contains("微补贴"), "{name}");
        }
        // Staff overview: the same figures.
        let registrar = t.app_as("registrar1", "registrar", None, None).await;
        let page = registrar.get("/admin/incubation").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body.contains("id=\"fig-graduated\">4<"),
            "{}",
            page.body
        );
        assert!(page.body.contains("id=\"fig-incubating\">3<"));
        // An area officer sees their street's centre only.
        let dagang = t
            .app_as("dagang1", "area_officer", Some("120116051"), None)
            .await;
        let page = dagang.get("/admin/incubation").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("大港街社会组织孵化指导中心"));
        assert!(!page.body.contains("滨海新区社会组织孵化园"));
        let park = count(t, "select id from incubators where level = 'district'").await;
        assert_eq!(
            dagang
                .get(&format!("/admin/incubators/{park}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            dagang.get("/admin/incubation?area=120116").await.status,
            StatusCode::NOT_FOUND
        );

        // 鹤童 graduates: the figures move with the record.
        let stay = count(t, "select s.id from incubation_stays s join organizations o on o.id = s.org_id where o.name = '鹤童老年服务中心'").await;
        ok(&registrar
            .post_form(
                &format!("/admin/incubation-stays/{stay}/end"),
                &[
                    ("outcome", "graduated"),
                    ("ended_on", "2015-06-30"),
                    ("reason", "提前达到出壳标准"),
                ],
            )
            .await);
        let s = summary(&public, "").await;
        assert_eq!(
            (s["graduated"].as_i64(), s["incubating"].as_i64()),
            (Some(5), Some(2))
        );
        // A new subsidy moves the total.
        let before = s["subsidies_fen"].as_i64().unwrap();
        let other = count(
            t,
            "select min(id) from incubation_stays where ended_on is null",
        )
        .await;
        ok(&registrar
            .post_form(
                &format!("/admin/incubation-stays/{other}/services"),
                &[
                    ("kind", "subsidy"),
                    ("given_on", "2015-06-30"),
                    ("description", "活动经费"),
                    ("amount_yuan", "1234.56"),
                ],
            )
            .await);
        let s = summary(&public, "").await;
        assert_eq!(s["subsidies_fen"].as_i64().unwrap(), before + 123_456);
    }
);

db_test!(
    places_never_exceed_capacity_and_areas_stay_apart,
    |t| async move {
        load_areas(t).await;
        set_clock(t, "2015-06-30").await;
        let registrar = t.app_as("registrar1", "registrar", None, None).await;
        let centre = street_centre(&registrar, "2").await;
        // A call cannot offer more places than the incubator has.
        let before = rows(t).await;
        let res = registrar
            .post_form(
                "/admin/incubation-calls",
                &[
                    ("incubator", &centre.to_string()),
                    ("title", "2015年入壳征集"),
                    ("opens_on", "2015-06-01"),
                    ("closes_on", "2015-07-31"),
                    ("places", "3"),
                ],
            )
            .await;
        refused(&res, "places", "不能超过孵化基地的席位（2个）");
        assert_eq!(rows(t).await, before);
        // One place offered: the second selection is refused.
        let first_call = call(t, &registrar, centre, "1").await;
        let a = group_applies(t, &registrar, first_call, "紫云园助学服务队").await;
        let b = group_applies(t, &registrar, first_call, "紫云园邻里互助社").await;
        ok(&accept(&registrar, a, "2015-06-30", "2016-06-29").await);
        let before = rows(t).await;
        let res = accept(&registrar, b, "2015-06-30", "2016-06-29").await;
        refused(&res, "decision", "个席位已满");
        assert_eq!(rows(t).await, before);
        // A rejection still needs its reason; with it, it is recorded.
        let res = registrar
            .post_form(
                &format!("/admin/incubation-applications/{b}/decide"),
                &[("decision", "reject"), ("reason", "")],
            )
            .await;
        refused(&res, "reason", "此项为必填项");
        ok(&registrar
            .post_form(
                &format!("/admin/incubation-applications/{b}/decide"),
                &[("decision", "reject"), ("reason", "本期席位已满")],
            )
            .await);
        // A second call fills the incubator; a third group finds it full.
        let second = call(t, &registrar, centre, "1").await;
        let c = group_applies(t, &registrar, second, "紫云园书画社").await;
        ok(&accept(&registrar, c, "2015-06-30", "2016-06-29").await);
        let third = call(t, &registrar, centre, "2").await;
        let d = group_applies(t, &registrar, third, "紫云园合唱团").await;
        let res = accept(&registrar, d, "2015-06-30", "2016-06-29").await;
        refused(&res, "decision", "孵化基地已满（2个席位）");
        // Nor can the capacity drop below the groups hosted.
        let version = count(
            t,
            &format!("select version from incubators where id = {centre}"),
        )
        .await;
        let res = registrar
            .post_form(
                &format!("/admin/incubators/{centre}"),
                &[
                    ("version", &version.to_string()),
                    ("name", "塘沽街社会组织孵化指导中心"),
                    ("focus", "elderly_care"),
                    ("capacity", "1"),
                    ("address", "塘沽街道社会组织联合会"),
                    ("operator", "塘沽街社会组织联合会"),
                ],
            )
            .await;
        refused(&res, "capacity", "目前有2个组织在孵");
        assert_eq!(
            count(
                t,
                "select count(*) from incubation_stays where ended_on is null"
            )
            .await,
            2
        );

        // The 塘沽 officer manages it; the 大港 officer does not see it at all.
        let tanggu = t
            .app_as("tanggu1", "area_officer", Some("120116001"), None)
            .await;
        let dagang = t
            .app_as("dagang1", "area_officer", Some("120116051"), None)
            .await;
        let stay = count(t, "select min(id) from incubation_stays").await;
        for path in [
            format!("/admin/incubators/{centre}"),
            format!("/admin/incubation-stays/{stay}"),
        ] {
            assert_eq!(tanggu.get(&path).await.status, StatusCode::OK, "{path}");
            assert_eq!(
                dagang.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        let res = dagang
            .post_form(
                &format!("/admin/incubation-applications/{d}/decide"),
                &[("decision", "reject"), ("reason", "越权")],
            )
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let page = dagang.get("/admin/incubation").await;
        assert!(!page.body.contains("塘沽街社会组织孵化指导中心"));
        assert!(
            page.body.contains("id=\"fig-incubating\">0<"),
            "{}",
            page.body
        );
        // The 大港 officer cannot open a call at the 塘沽 centre either: as if it did not exist.
        let res = dagang
            .post_form(
                "/admin/incubation-calls",
                &[
                    ("incubator", &centre.to_string()),
                    ("title", "越权征集"),
                    ("opens_on", "2015-06-01"),
                    ("closes_on", "2015-07-31"),
                    ("places", "1"),
                ],
            )
            .await;
        refused(&res, "incubator", "没有这个孵化基地");
        // The district figures count the 塘沽 street; the 大港 street's count none.
        let s = summary(&t.app(), "120116001").await;
        assert_eq!(s["incubating"], 2, "{s}");
        assert_eq!(summary(&t.app(), "120116051").await["incubating"], 0);
    }
);

db_test!(
    bad_input_is_refused_naming_the_field_and_nothing_is_written,
    |t| async move {
        load_areas(t).await;
        set_clock(t, "2015-06-30").await;
        let registrar = t.app_as("registrar1", "registrar", None, None).await;
        let centre = street_centre(&registrar, "3").await;
        let k = call(t, &registrar, centre, "2").await;
        let a = group_applies(t, &registrar, k, "紫云园助学服务队").await;
        let before = rows(t).await;
        // End before entry.
        let res = accept(&registrar, a, "2015-06-30", "2015-01-01").await;
        refused(&res, "planned_end_on", "计划出壳日期应晚于入孵日期");
        // Unknown incubator.
        let res = registrar
            .post_form(
                "/admin/incubation-calls",
                &[
                    ("incubator", "999999"),
                    ("title", "征集"),
                    ("opens_on", "2015-06-01"),
                    ("closes_on", "2015-07-31"),
                    ("places", "1"),
                ],
            )
            .await;
        refused(&res, "incubator", "没有这个孵化基地");
        // A street centre placed in a community, and an unknown focus domain.
        let res = registrar
            .post_form(
                "/admin/incubators",
                &[
                    ("level", "street"),
                    ("area_code", "120116001016"),
                    ("name", "社区孵化点"),
                    ("focus", "elderly_care"),
                    ("capacity", "2"),
                    ("address", "社区"),
                    ("operator", "社区"),
                ],
            )
            .await;
        refused(&res, "area_code", "层级不符");
        let res = registrar
            .post_form(
                "/admin/incubators",
                &[
                    ("level", "district"),
                    ("area_code", "120116"),
                    ("name", "孵化园"),
                    ("focus", "星际旅行"),
                    ("capacity", "2"),
                    ("address", "地址"),
                    ("operator", "中心"),
                ],
            )
            .await;
        refused(&res, "focus", "没有“星际旅行”这一领域");
        assert_eq!(rows(t).await, before);

        ok(&accept(&registrar, a, "2015-03-01", "2016-02-28").await);
        let stay = count(t, "select max(id) from incubation_stays").await;
        let before = rows(t).await;
        // A negative subsidy; a subsidy before entry; an end before entry.
        let service = |amount: &'static str, on: &'static str| {
            vec![
                ("kind", "subsidy"),
                ("given_on", on),
                ("description", "启动资金"),
                ("amount_yuan", amount),
            ]
        };
        let res = registrar
            .post_form(
                &format!("/admin/incubation-stays/{stay}/services"),
                &service("-500", "2015-04-01"),
            )
            .await;
        refused(&res, "amount_yuan", "微补贴金额应为大于0的数字");
        let res = registrar
            .post_form(
                &format!("/admin/incubation-stays/{stay}/services"),
                &service("500", "2015-01-01"),
            )
            .await;
        refused(&res, "given_on", "服务日期应在孵化期内");
        let res = registrar
            .post_form(
                &format!("/admin/incubation-stays/{stay}/end"),
                &[
                    ("outcome", "graduated"),
                    ("ended_on", "2015-02-01"),
                    ("reason", "出壳"),
                ],
            )
            .await;
        refused(&res, "ended_on", "不能早于入孵日期");
        assert_eq!(rows(t).await, before);
        // In English too, naming the same field.
        let res = registrar
            .post_form(
                &format!("/admin/incubation-stays/{stay}/services?lang=en"),
                &service("-1", "2015-04-01"),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(rows(t).await, before);
    }
);

/// A small document that passes the type check (it starts like a PDF).
const PDF: &[u8] = b"%PDF-1.4\n% shezu test document\n";

async fn act(t: &TestDb, app: &TestApp, id: i64, action: &str) {
    let v = count(
        t,
        &format!("select version from applications where id = {id}"),
    )
    .await;
    let res = app
        .post_form(
            &format!("/applications/{id}/action"),
            &[
                ("action", action),
                ("reason", ""),
                ("version", &v.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{action}: {}", res.body);
}

db_test!(
    a_group_incubated_graduated_and_then_registered_keeps_its_history,
    |t| async move {
        load_areas(t).await;
        set_clock(t, "2015-06-30").await;
        let registrar = t.app_as("registrar1", "registrar", None, None).await;
        let window = t.app_as("window1", "window", None, None).await;
        let applicant = t.app_as("hanmei", "org", None, None).await;
        let centre = street_centre(&registrar, "3").await;
        let k = call(t, &registrar, centre, "2").await;
        // The group applies from its applicant account, and is selected.
        let res = applicant.get("/incubation").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert!(res.body.contains("2015年入壳征集"));
        ok(&applicant
            .post_form(
                &format!("/incubation/calls/{k}/apply"),
                &[
                    ("group_name", "滨海新区助学公益服务中心"),
                    ("contact", "韩梅 13602020315"),
                    ("domain", "charity"),
                    ("plan", "开展助学服务，一年内完成登记。"),
                ],
            )
            .await);
        let a = count(t, "select max(id) from incubation_applications").await;
        let res = accept(&registrar, a, "2015-01-05", "2015-06-29").await;
        ok(&res);
        let stay = id_from(res.location());
        for (kind, on, what, amount) in [
            ("venue", "2015-01-05", "免费工位", ""),
            ("training", "2015-02-10", "财务管理培训", ""),
            ("registration", "2015-03-15", "协助准备章程", ""),
            ("subsidy", "2015-04-01", "启动资金", "5000"),
        ] {
            ok(&registrar
                .post_form(
                    &format!("/admin/incubation-stays/{stay}/services"),
                    &[
                        ("kind", kind),
                        ("given_on", on),
                        ("description", what),
                        ("amount_yuan", amount),
                    ],
                )
                .await);
        }
        ok(&registrar
            .post_form(
                &format!("/admin/incubation-stays/{stay}/end"),
                &[
                    ("outcome", "graduated"),
                    ("ended_on", "2015-06-29"),
                    ("reason", "达到出壳标准"),
                ],
            )
            .await);
        let mine = applicant.get("/incubation").await;
        assert!(mine.body.contains("入选"), "{}", mine.body);

        // It applies to register; staff link the stay to that application.
        let res = applicant
            .post_form(
                "/applications",
                &[
                    ("application_kind", "establishment"),
                    ("name", "滨海新区助学公益服务中心"),
                    ("kind", "private_non_enterprise"),
                    ("domain", "charity"),
                    ("direct_registration", "on"),
                    ("legal_representative", "韩梅"),
                    ("area_code", "120116001016"),
                    ("registered_on", "2015-06-01"),
                    ("registered_capital_yuan", "30000"),
                    ("address", "天津市滨海新区塘沽街道紫云园社区文化路8号"),
                    ("charter_party_clause", "on"),
                ],
            )
            .await;
        ok(&res);
        let application = id_from(res.location());
        for doc in [
            "application_letter",
            "charter",
            "address_proof",
            "capital_proof",
            "head_id",
        ] {
            let res = applicant
                .post_file(
                    &format!("/applications/{application}/documents"),
                    &[("doc_type", doc)],
                    ("file", "材料.pdf", PDF),
                )
                .await;
            ok(&res);
        }
        act(t, &applicant, application, "submit").await;
        // A wrong number is refused, naming the field.
        let res = registrar
            .post_form(
                &format!("/admin/incubation-stays/{stay}/link"),
                &[("application", "999999")],
            )
            .await;
        refused(&res, "application", "不是有效的成立登记或备案申请编号");
        // Nor may the applicant name an application that is not its own; its own it may.
        let res = applicant
            .post_form(
                &format!("/incubation/stays/{stay}/link"),
                &[("application", "999999")],
            )
            .await;
        refused(&res, "application", "不是有效的成立登记或备案申请编号");
        let stranger = t.app_as("lilei", "org", None, None).await;
        let res = stranger
            .post_form(
                &format!("/incubation/stays/{stay}/link"),
                &[("application", &application.to_string())],
            )
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "not its stay");
        let page = applicant.get("/incubation").await;
        assert!(
            page.body
                .contains(&format!("/incubation/stays/{stay}/link")),
            "{}",
            page.body
        );
        ok(&applicant
            .post_form(
                &format!("/incubation/stays/{stay}/link"),
                &[("application", &application.to_string())],
            )
            .await);
        assert_eq!(
            count(
                t,
                &format!(
                    "select count(*) from incubation_stays where id = {stay} and org_id is null"
                )
            )
            .await,
            1,
            "linked to the application, not yet to an organization"
        );
        act(t, &window, application, "accept").await;
        act(t, &registrar, application, "start_review").await;
        act(t, &registrar, application, "approve").await;

        // Approved: the stay belongs to the new organization, and its profile shows it.
        let org = count(
            t,
            &format!("select org_id from applications where id = {application}"),
        )
        .await;
        assert_eq!(
            count(
                t,
                &format!("select org_id from incubation_stays where id = {stay}")
            )
            .await,
            org
        );
        let uscc: String = {
            let mut c = t.db.acquire().await.unwrap();
            let (u,): (String,) = Sql::new("select uscc from organizations where id = $1")
                .arg(org)
                .fetch_one(&mut c.conn())
                .await
                .unwrap();
            u
        };
        let page = t.app().get(&format!("/orgs/{uscc}")).await;
        assert_eq!(page.status, StatusCode::OK);
        for text in [
            "孵化经历",
            "塘沽街社会组织孵化指导中心",
            "出壳 2015-06-29",
            "登记协助",
            "5,000.00 元",
        ] {
            assert!(page.body.contains(text), "{text}: {}", page.body);
        }
        assert!(!page.body.contains("达到出壳标准"), "reasons stay internal");
        let admin = registrar.get(&format!("/admin/orgs/{org}")).await;
        assert!(admin.body.contains("孵化经历") && admin.body.contains("能力建设"));
        // The public aggregate counts it.
        let s = summary(&t.app(), "").await;
        assert_eq!(
            (s["graduated"].as_i64(), s["subsidies_fen"].as_i64()),
            (Some(1), Some(500_000))
        );
    }
);

/// The incubation routes for caller `u` of the scope walk (tests/scope.rs): managed by district
/// staff with the permission (`admin1`, `registrar1`) and area officers (`tanggu1`, `dagang1`),
/// applied to by organization accounts, others refused, anonymous visitors sent to sign in; the
/// summary is open. Returns the route patterns exercised.
pub async fn walk_routes(app: &TestApp, u: &str) -> Vec<&'static str> {
    let staff = matches!(u, "admin1" | "registrar1" | "tanggu1" | "dagang1");
    let org = u == "org1";
    let gate = |allowed: bool, method: &str, ok: u16| match (u, allowed) {
        ("anonymous", _) if method == "GET" => 303,
        ("anonymous", _) => 401,
        (_, false) => 403,
        (_, true) => ok,
    };
    let cases: [(&'static str, &str, &str, bool, u16); 14] = [
        ("/admin/incubation", "GET", "/admin/incubation", staff, 200),
        ("/admin/incubators", "POST", "/admin/incubators", staff, 422),
        (
            "/admin/incubators/{id}",
            "GET",
            "/admin/incubators/999999",
            staff,
            404,
        ),
        (
            "/admin/incubators/{id}",
            "POST",
            "/admin/incubators/999999",
            staff,
            404,
        ),
        (
            "/admin/incubation-calls",
            "POST",
            "/admin/incubation-calls",
            staff,
            422,
        ),
        (
            "/admin/incubation-calls/{id}/applications",
            "POST",
            "/admin/incubation-calls/999999/applications",
            staff,
            404,
        ),
        (
            "/admin/incubation-applications/{id}/decide",
            "POST",
            "/admin/incubation-applications/999999/decide",
            staff,
            404,
        ),
        (
            "/admin/incubation-stays/{id}",
            "GET",
            "/admin/incubation-stays/999999",
            staff,
            404,
        ),
        (
            "/admin/incubation-stays/{id}/services",
            "POST",
            "/admin/incubation-stays/999999/services",
            staff,
            404,
        ),
        (
            "/admin/incubation-stays/{id}/end",
            "POST",
            "/admin/incubation-stays/999999/end",
            staff,
            404,
        ),
        (
            "/admin/incubation-stays/{id}/link",
            "POST",
            "/admin/incubation-stays/999999/link",
            staff,
            404,
        ),
        ("/incubation", "GET", "/incubation", org, 200),
        (
            "/incubation/calls/{id}/apply",
            "POST",
            "/incubation/calls/999999/apply",
            org,
            404,
        ),
        (
            "/incubation/stays/{id}/link",
            "POST",
            "/incubation/stays/999999/link",
            org,
            404,
        ),
    ];
    let mut seen = Vec::new();
    for (route, method, path, allowed, want) in cases {
        let res = if method == "GET" {
            app.get(path).await
        } else {
            app.post_form(path, &[]).await
        };
        assert_eq!(
            res.status.as_u16(),
            gate(allowed, method, want),
            "{u} {method} {path}: {}",
            res.body
        );
        seen.push(route);
    }
    let res = app.get("/api/v1/incubation/summary").await;
    assert_eq!(res.status, StatusCode::OK, "{u}: {}", res.body);
    seen.push("/api/v1/incubation/summary");
    seen
}
