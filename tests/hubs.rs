//! Federations, liaison points and the four-level network, on both databases.

use crate::common::{TestApp, TestDb};
use crate::db_test;
use crate::demo_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use shezu::db::Sql;

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

async fn network(app: &TestApp, area: &str) -> serde_json::Value {
    let res = app.get(&format!("/api/v1/network?area={area}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

/// Checks that an area's organizations are its children's plus those located at it directly,
/// and returns the code of its child with the most organizations (to drill into).
fn adds_up(n: &serde_json::Value) -> Option<String> {
    let children = n["children"].as_array().unwrap();
    let sum: i64 = children
        .iter()
        .map(|c| c["figures"]["organizations"].as_i64().unwrap())
        .sum();
    let own = n["located_directly"].as_i64().unwrap();
    assert_eq!(
        sum + own,
        n["figures"]["organizations"].as_i64().unwrap(),
        "{}: children {sum} + located there {own}",
        n["name"]
    );
    if !children.is_empty() {
        // A street's own federation and its members are at the street, not in its communities.
        let at_street = n["level"] == "street";
        for key in [
            "federations",
            "federation_members",
            "communities",
            "with_liaison_point",
        ] {
            let below: i64 = children
                .iter()
                .map(|c| c["figures"][key].as_i64().unwrap())
                .sum();
            let own = if at_street && key.starts_with("federation") {
                n["figures"][key].as_i64().unwrap()
            } else {
                0
            };
            assert_eq!(
                below + own,
                n["figures"][key].as_i64().unwrap(),
                "{} {key}",
                n["name"]
            );
        }
    }
    children
        .iter()
        .max_by_key(|c| c["figures"]["organizations"].as_i64().unwrap())
        .map(|c| c["code"].as_str().unwrap().to_owned())
}

demo_test!(
    the_demo_network_is_counted_and_drills_down_to_a_community,
    |t| async move {
        let public = t.app();
        let district = network(&public, "").await;
        let communities = count(t, "select count(*) from areas where level = 'community'").await;
        assert_eq!(district["figures"]["federations"], 19);
        assert_eq!(district["figures"]["communities"], communities);
        assert_eq!(
            district["figures"]["with_liaison_point"], communities,
            "every community has one"
        );
        assert_eq!(
            district["figures"]["federation_members"],
            count(
                t,
                "select count(*) from federation_members where left_on is null"
            )
            .await
        );
        assert_eq!(
        district["figures"]["organizations"],
        count(t, "select count(*) from organizations where status in ('preparing', 'active', 'abnormal')").await
    );
        // Party-work coverage is the party module's own count.
        let party = public.get("/api/v1/party/summary").await.json();
        let covered = ["covered_own", "covered_joint", "covered_instructor"]
            .iter()
            .map(|k| party[k].as_i64().unwrap_or_else(|| panic!("{k}: {party}")))
            .sum::<i64>();
        assert_eq!(district["figures"]["party_covered"], covered, "{party}");
        // District → functional area or street → … → one community, adding up at each level.
        let mut node = district;
        let mut levels = vec![node["level"].as_str().unwrap().to_owned()];
        while let Some(code) = adds_up(&node) {
            node = network(&public, &code).await;
            levels.push(node["level"].as_str().unwrap().to_owned());
        }
        assert_eq!(
            levels.last().map(String::as_str),
            Some("community"),
            "{levels:?}"
        );
        assert!(levels.len() >= 3, "{levels:?}");

        // The same figures on the staff page, and a member admitted moves them.
        let officer = t
            .app_as("tanggu1", "area_officer", Some("120116001"), None)
            .await;
        let page = officer.get("/admin/network?area=120116001").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let fed = count(t, "select f.id from federations f join areas a on a.id = f.area_id where a.code = '120116001'").await;
        let before = network(&public, "120116001").await["figures"]["federation_members"]
            .as_i64()
            .unwrap();
        let outsider = count(t, "select min(o.id) from organizations o join areas a on a.id = o.area_id where a.code like '120116001%' and o.kind = 'community' and o.id not in (select org_id from federation_members)").await;
        let res = officer
            .post_form(
                &format!("/admin/federations/{fed}/members"),
                &[("org", &outsider.to_string())],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(
            network(&public, "120116001").await["figures"]["federation_members"],
            before + 1
        );
        // Another street's network is not the Tanggu officer's to see.
        assert_eq!(
            officer.get("/admin/network?area=120116051").await.status,
            StatusCode::NOT_FOUND
        );
        let instructor = t
            .app_as("zhidao", "instructor", None, Some(&outsider.to_string()))
            .await;
        assert_eq!(
            instructor.get("/admin/network").await.status,
            StatusCode::FORBIDDEN
        );
    }
);

db_test!(
    bad_hub_records_are_refused_and_nothing_is_written,
    |t| async move {
        load_areas(t).await;
        let registrar = t.app_as("wangmin", "registrar", None, None).await;
        let bad = registrar
            .post_form(
                "/admin/federations",
                &[
                    ("area_code", "120116001"),
                    ("name", "塘沽社会组织联合会"),
                    ("chair", ""),
                    ("secretary_general", "李娜"),
                    ("contact_phone", "电话"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body.contains("此项为必填项") && bad.body.contains("电话号码应为"),
            "{}",
            bad.body
        );
        let in_community = registrar
            .post_form(
                "/admin/federations",
                &[
                    ("area_code", "120116001016"),
                    ("name", "紫云园联合会"),
                    ("chair", "张伟"),
                    ("secretary_general", "李娜"),
                    ("contact_phone", "022-25320101"),
                ],
            )
            .await;
        assert_eq!(in_community.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(count(t, "select count(*) from federations").await, 0);
        let good = [
            ("area_code", "120116001"),
            ("name", "塘沽社会组织联合会"),
            ("chair", "张伟"),
            ("secretary_general", "李娜"),
            ("contact_phone", "022-25320101"),
        ];
        assert_eq!(
            registrar
                .post_form("/admin/federations", &good)
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        let twice = registrar.post_form("/admin/federations", &good).await;
        assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(twice.body.contains("已有社会组织联合会"), "{}", twice.body);
        // An organization of another street cannot join.
        let dagang = crate::inspection::social_group(t, "大港书画协会", "2012-01-01").await;
        Sql::new("update organizations set area_id = (select id from areas where code = '120116051') where id = $1")
        .arg(dagang)
        .execute(&mut t.db.acquire().await.unwrap().conn())
        .await
        .unwrap();
        let fed = count(t, "select id from federations").await;
        let res = registrar
            .post_form(
                &format!("/admin/federations/{fed}/members"),
                &[("org", &dagang.to_string())],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body.contains("不在本街道"), "{}", res.body);
        assert_eq!(count(t, "select count(*) from federation_members").await, 0);
        // A liaison point belongs in a community.
        let res = registrar
            .post_form(
                "/admin/liaison-points",
                &[
                    ("area_code", "120116001"),
                    ("name", "联络点"),
                    ("address", "街道办"),
                    ("liaison_name", "赵丽"),
                    ("liaison_phone", "13800000000"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let res = registrar
            .post_form(
                "/admin/liaison-points",
                &[
                    ("area_code", "120116001016"),
                    ("name", "紫云园社区社会组织联络点"),
                    ("address", "紫云园社区居委会"),
                    ("liaison_name", "赵丽"),
                    ("liaison_phone", "13800000000"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert_eq!(count(t, "select count(*) from liaison_points").await, 1);
        let page = registrar.get("/admin/liaison-points?area=120116001").await;
        assert!(
            page.body.contains("赵丽") && page.body.contains("尚未设立联络点"),
            "{}",
            page.body
        );
    }
);

/// What the route × role walk needs: the Tanggu street's federation with one member.
pub struct WalkSeed {
    federation_id: i64,
    member_id: i64,
}

/// Seeds [`WalkSeed`] with `tanggu_org` (located in Tanggu) as the member.
pub async fn seed_walk(t: &TestDb, tanggu_org: i64) -> WalkSeed {
    let mut tx = t.db.begin().await.unwrap();
    let mut c = tx.conn();
    let actor = shezu::audit::Actor::system("seed");
    let street = shezu::areas::store::find_by_code(&mut c, "120116001")
        .await
        .unwrap()
        .unwrap();
    let fed = shezu::hubs::Federation {
        name: "塘沽社会组织联合会".into(),
        founded_on: None,
        chair: "张伟".into(),
        secretary_general: "李娜".into(),
        contact_phone: "022-25320101".into(),
    };
    let federation_id =
        shezu::hubs::store::create_federation(&mut c, &actor, chrono::Utc::now(), &street, &fed)
            .await
            .unwrap();
    let row = shezu::hubs::store::federation(&mut c, federation_id)
        .await
        .unwrap();
    let member_id = shezu::hubs::store::admit(
        &mut c,
        &actor,
        chrono::Utc::now(),
        &row,
        tanggu_org,
        "2014-01-01".parse().unwrap(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    WalkSeed {
        federation_id,
        member_id,
    }
}

/// Walks this module's routes as caller `u` (see tests/scope.rs): views within the area reach,
/// writes for registry editors there; invalid input for writes so every caller sees the same
/// state. Returns the routes it exercised.
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
    // Tanggu street's network: district staff and Tanggu's officer see it; an officer or a
    // liaison elsewhere finds nothing there; accounts tied to organizations have no area.
    let view = |method: &str| match u {
        "anonymous" => gate(u, false, method, 200),
        "admin1" | "registrar1" | "window1" | "party1" | "tanggu1" => 200,
        "dagang1" | "liaison1" => 404,
        _ => 403,
    };
    let edits_tanggu = matches!(u, "admin1" | "registrar1" | "tanggu1");
    let edit = |method: &str, ok: u16| {
        if matches!(u, "dagang1") {
            404
        } else {
            gate(u, edits_tanggu, method, ok)
        }
    };
    expect(
        "/admin/network",
        "GET",
        view("GET"),
        &app.get("/admin/network?area=120116001").await,
    );
    let f = s.federation_id;
    expect(
        "/admin/federations/{id}",
        "GET",
        view("GET"),
        &app.get(&format!("/admin/federations/{f}")).await,
    );
    let res = app
        .post_form(
            &format!("/admin/federations/{f}"),
            &[("name", ""), ("version", "1")],
        )
        .await;
    expect("/admin/federations/{id}", "POST", edit("POST", 422), &res);
    let res = app
        .post_form(
            "/admin/federations",
            &[("area_code", "120116001"), ("name", "")],
        )
        .await;
    expect("/admin/federations", "POST", edit("POST", 422), &res);
    let res = app
        .post_form(&format!("/admin/federations/{f}/members"), &[("org", "")])
        .await;
    expect(
        "/admin/federations/{id}/members",
        "POST",
        edit("POST", 422),
        &res,
    );
    // Leaving twice is a conflict: a second leave of the same member answers 409.
    let res = app
        .post_form(
            &format!(
                "/admin/federations/{f}/members/{}/leave",
                s.member_id + 1000
            ),
            &[],
        )
        .await;
    expect(
        "/admin/federations/{id}/members/{member}/leave",
        "POST",
        edit("POST", 409),
        &res,
    );
    expect(
        "/admin/liaison-points",
        "GET",
        view("GET"),
        &app.get("/admin/liaison-points?area=120116001").await,
    );
    let res = app
        .post_form(
            "/admin/liaison-points",
            &[("area_code", "120116001016"), ("name", "")],
        )
        .await;
    expect("/admin/liaison-points", "POST", edit("POST", 422), &res);
    expect(
        "/api/v1/network",
        "GET",
        200,
        &app.get("/api/v1/network?area=120116001").await,
    );
    vec![
        "/admin/network",
        "/admin/federations/{id}",
        "/admin/federations",
        "/admin/federations/{id}/members",
        "/admin/federations/{id}/members/{member}/leave",
        "/admin/liaison-points",
        "/api/v1/network",
    ]
}
