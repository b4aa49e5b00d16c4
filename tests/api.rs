//! The public JSON API: envelope, filters, facets, lookups by code or id, and errors as JSON in
//! the caller's language.

use crate::common::TestDb;
use crate::db_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use chrono::Utc;
use shezu::auth::Scope;
use shezu::registry::OrgForm;
use shezu::registry::store;

async fn seed(t: &TestDb) {
    load_areas(t).await;
    let mut tx = t.db.begin().await.unwrap();
    let rows = [
        (
            "滨海新区养老服务协会",
            "social_group",
            "elderly_care",
            "120116001016",
            "active",
        ),
        (
            "塘沽乐龄居家养老服务中心",
            "private_non_enterprise",
            "elderly_care",
            "120116001",
            "active",
        ),
        (
            "大港助学促进会",
            "social_group",
            "education",
            "120116051",
            "deregistered",
        ),
        (
            "紫云园社区舞蹈队",
            "community",
            "culture",
            "120116001016",
            "active",
        ),
    ];
    for (name, kind, domain, area, status) in rows {
        let draft = OrgForm {
            name: name.into(),
            kind: kind.into(),
            domain: domain.into(),
            supervisory_unit: if kind == "community" {
                String::new()
            } else {
                "滨海新区民政局".into()
            },
            legal_representative: "周敏".into(),
            area_code: area.into(),
            registered_on: "2013-06-01".into(),
            status: status.into(),
            ..OrgForm::default()
        }
        .parse()
        .unwrap();
        store::create(
            &mut tx.conn(),
            &Scope::All,
            &shezu::audit::Actor::system("tester"),
            Utc::now(),
            &draft,
            "120116",
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

db_test!(list_filters_search_and_facets, |t| async move {
    seed(t).await;
    let app = t.app();
    let all = app.get("/api/v1/organizations").await.json();
    assert_eq!(all["total"], 4);
    assert_eq!(all["page"], 1);
    assert_eq!(all["per_page"], 20);
    let item = &all["items"][0];
    for key in [
        "id",
        "uscc",
        "name",
        "kind",
        "domain",
        "status",
        "area_code",
        "area_name",
        "registered_on",
        "grade",
    ] {
        assert!(item.get(key).is_some(), "item lacks {key}: {item}");
    }
    assert!(
        item.get("contact_phone").is_none(),
        "no internal fields in public answers"
    );

    let q = |s: &str| format!("/api/v1/organizations?q={}", crate::common::encode(s));
    assert_eq!(app.get(&q("养老")).await.json()["total"], 2);
    assert_eq!(app.get(&q("养")).await.json()["total"], 2);
    assert_eq!(app.get(&q("助学")).await.json()["total"], 1);
    assert_eq!(
        app.get(&q("%")).await.json()["total"],
        0,
        "wildcards are literal"
    );

    let street = app.get("/api/v1/organizations?area=120116001").await.json();
    assert_eq!(street["total"], 3);
    let f = app
        .get(
            "/api/v1/organizations?area=120116001&kind=social_group&facets=kind,status,area,domain",
        )
        .await
        .json();
    assert_eq!(f["total"], 1);
    assert_eq!(f["facets"]["kind"]["social_group"], 1);
    assert_eq!(
        f["facets"]["kind"]["private_non_enterprise"], 1,
        "a facet ignores its own filter"
    );
    assert_eq!(f["facets"]["area"]["120116001016"], 1);
    let paged = app
        .get("/api/v1/organizations?per_page=1&page=2")
        .await
        .json();
    assert_eq!(paged["items"].as_array().unwrap().len(), 1);
    assert_eq!(paged["total"], 4);
    let deregistered = app
        .get("/api/v1/organizations?status=deregistered")
        .await
        .json();
    assert_eq!(deregistered["total"], 1);
});

db_test!(one_organization_by_code_or_id_and_areas, |t| async move {
    seed(t).await;
    let app = t.app();
    let first = app
        .get("/api/v1/organizations?kind=private_non_enterprise")
        .await
        .json();
    let code = first["items"][0]["uscc"].as_str().unwrap().to_owned();
    let id = first["items"][0]["id"].as_i64().unwrap();
    let by_code = app
        .get(&format!("/api/v1/organizations/{code}"))
        .await
        .json();
    let by_id = app.get(&format!("/api/v1/organizations/{id}")).await.json();
    assert_eq!(by_code, by_id);
    assert_eq!(by_code["area_path"][0]["code"], "120116");
    assert_eq!(
        app.get("/api/v1/organizations/999999").await.status,
        StatusCode::NOT_FOUND
    );
    let missing = app.get("/api/v1/organizations/52120116MJ0631127X").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"], "未找到该记录。");

    let areas = app.get("/api/v1/areas").await.json();
    assert_eq!(areas["total"], 532);
    let teda = app.get("/api/v1/areas/120116014").await.json();
    assert_eq!(teda["parent_code"], "120116400");
    assert_eq!(teda["level"], "street");
    assert_eq!(teda["path"].as_array().unwrap().len(), 2);
    assert_eq!(teda["children"].as_array().unwrap().len(), 20);
    assert_eq!(
        app.get("/api/v1/areas/999").await.status,
        StatusCode::NOT_FOUND
    );
});

db_test!(bad_parameters_are_422_naming_the_field, |t| async move {
    seed(t).await;
    let app = t.app();
    let res = app
        .get("/api/v1/organizations?kind=club&area=999&page=0")
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.json();
    assert_eq!(body["error"], "提交的内容有误，请按提示修改。");
    for field in ["kind", "area", "page"] {
        assert!(body["fields"].get(field).is_some(), "{field}: {body}");
    }
    let en = app
        .get("/api/v1/organizations?kind=club&lang=en")
        .await
        .json();
    assert_eq!(en["fields"]["kind"], "Not one of the allowed values.");
    assert_eq!(
        app.get("/api/v1/nothing").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/healthz").await.body, "ok");
});

#[tokio::test]
async fn every_api_route_is_described_in_openapi_and_on_the_docs_page() {
    let t = crate::common::TestDb::new(shezu::db::Backend::Sqlite)
        .await
        .unwrap();
    let app = t.app();
    let doc = app.get("/api/v1/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let docs = app.get("/api/docs").await;
    assert_eq!(docs.status, StatusCode::OK);
    let mut routes = Vec::new();
    crate::scope::collect_routes(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut routes,
    );
    let api: Vec<&String> = routes
        .iter()
        .filter(|r| r.starts_with("/api/v1/") && !r.contains('*'))
        .collect();
    assert!(api.len() >= 6);
    for route in api {
        assert!(
            doc["paths"][route.as_str()]["get"].is_object(),
            "{route} is not in openapi.json"
        );
        assert!(
            docs.body.contains(route.as_str()),
            "{route} is not on /api/docs"
        );
        assert!(doc["paths"][route.as_str()]["get"]["responses"]["422"].is_object());
    }
    t.cleanup().await;
}

db_test!(
    every_api_error_is_json_in_the_documented_shape,
    |t| async move {
        // Found by schemathesis (scripts/schemathesis): handlers written with the page error
        // type answered the HTML error page, and the framework's own refusals plain text.
        seed(t).await;
        let app = t.app();
        let json_error = |res: &crate::common::Answer, status: StatusCode, what: &str| {
            assert_eq!(res.status, status, "{what}: {}", res.body);
            let kind = res
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(kind.starts_with("application/json"), "{what}: {kind}");
            let body = res.json();
            assert!(body["error"].is_string(), "{what}: {body}");
            assert!(body["fields"].is_object(), "{what}: {body}");
            body
        };
        let missing = app.get("/api/v1/incubation/summary?area=120116999").await;
        json_error(&missing, StatusCode::NOT_FOUND, "unknown area");
        json_error(
            &app.get("/api/v1/nothing").await,
            StatusCode::NOT_FOUND,
            "no such route",
        );
        let twice = app.get("/api/v1/changes?since=1&since=2").await;
        let body = json_error(&twice, StatusCode::BAD_REQUEST, "a parameter given twice");
        assert_eq!(body["error"], "参数 since 只能给一次。");
        let year = app.get("/api/v1/inspection/figures?year=abc").await;
        let body = json_error(&year, StatusCode::UNPROCESSABLE_ENTITY, "a year in letters");
        assert!(body["fields"]["year"].is_string(), "{body}");
        let far = app.get("/api/v1/stats/summary?year=2101").await;
        json_error(&far, StatusCode::UNPROCESSABLE_ENTITY, "a year past 2100");
        let post = app
            .send(
                axum::http::Request::post("/api/v1/organizations")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        json_error(&post, StatusCode::METHOD_NOT_ALLOWED, "POST to a GET route");
        // Blank parameters count as not given, as the description says.
        for uri in [
            "/api/v1/credit-lists?all=",
            "/api/v1/organizations?kind=&grade=&per_page=",
            "/api/v1/inspection/figures?year=&area=",
        ] {
            assert_eq!(app.get(uri).await.status, StatusCode::OK, "{uri}");
        }
        assert_eq!(
            app.get("/api/v1/credit-lists?all=maybe").await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // Chinese labels are accepted where codes are, and the description lists both.
        let by_label = app.get("/api/v1/organizations?kind=社会团体").await.json();
        let by_code = app
            .get("/api/v1/organizations?kind=social_group")
            .await
            .json();
        assert_eq!(by_label["total"], by_code["total"]);
        let doc = app.get("/api/v1/openapi.json").await.json();
        let kinds = doc["paths"]["/api/v1/organizations"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "kind")
            .unwrap()["schema"]["anyOf"][0]["enum"]
            .clone();
        assert!(
            kinds.as_array().unwrap().iter().any(|k| k == "社会团体"),
            "{kinds}"
        );
        assert!(
            doc["paths"]["/api/v1/changes"]["get"]["responses"]["400"].is_object(),
            "400 is documented"
        );
    }
);
