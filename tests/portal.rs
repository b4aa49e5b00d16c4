//! The public portal as a visitor uses it: the directory's totals and facet counts equal
//! counts over the records, its links carry the query, the statistics page counts records (and
//! changes when a record does), profiles show public facts only, and English pages are
//! complete.

use crate::common::{TestDb, encode};
use crate::db_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use chrono::Utc;
use shezu::audit::Actor;
use shezu::auth::Scope;
use shezu::registry::OrgForm;
use shezu::registry::store;

async fn create(t: &TestDb, name: &str, kind: &str, area: &str, direct: bool) -> store::OrgRow {
    let form = OrgForm {
        name: name.into(),
        kind: kind.into(),
        domain: if direct { "charity" } else { "elderly_care" }.into(),
        direct_registration: direct.then(|| "on".into()),
        supervisory_unit: if direct { "" } else { "滨海新区民政局" }.into(),
        legal_representative: "孙丽".into(),
        area_code: area.into(),
        registered_on: "2014-05-06".into(),
        contact_phone: "13900001111".into(),
        registered_capital_yuan: "500000".into(),
        ..OrgForm::default()
    };
    let mut tx = t.db.begin().await.unwrap();
    let row = store::create(
        &mut tx.conn(),
        &Scope::All,
        &Actor::system("tester"),
        Utc::now(),
        &form.parse().unwrap(),
        "120116",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    row
}

/// The number shown right after `label` in the page's figures.
fn figure(body: &str, label: &str) -> i64 {
    let at = body
        .find(&format!("<dt>{label}</dt>"))
        .unwrap_or_else(|| panic!("no figure {label}"));
    let rest = &body[at..];
    let dd = &rest[rest.find("<dd>").unwrap() + 4..];
    let inner = dd.split("</dd>").next().unwrap();
    // The text between tags (a figure may be a link).
    let text: String = inner
        .split('<')
        .map(|part| part.split_once('>').map_or(part, |(_, t)| t))
        .collect::<String>()
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    text.parse().unwrap()
}

db_test!(
    the_directory_counts_and_links_like_a_register,
    |t| async move {
        load_areas(t).await;
        create(
            t,
            "塘沽颐养老年服务社",
            "private_non_enterprise",
            "120116001016",
            false,
        )
        .await;
        create(t, "塘沽居家养老协会", "social_group", "120116001016", false).await;
        create(
            t,
            "大港养老服务中心",
            "private_non_enterprise",
            "120116051",
            false,
        )
        .await;
        create(
            t,
            "大港书画院",
            "private_non_enterprise",
            "120116051",
            false,
        )
        .await;
        let app = t.app();
        let res = app.get(&format!("/orgs?q={}", encode("养老"))).await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(
            res.body.contains("<strong id=\"total\">3</strong>"),
            "{}",
            res.body
        );
        assert!(!res.body.contains("大港书画院"));
        // Facet links keep the query and show exact counts under it.
        let kind_link = format!(
            "href=\"/orgs?q={}&#38;kind=private_non_enterprise\"",
            encode("养老").replace("%20", "+")
        );
        assert!(res.body.contains(&kind_link), "{kind_link}");
        let pne = res.body.split(&kind_link).nth(1).unwrap();
        assert!(pne.contains("<span class=\"count\">2</span>"));
        // Drilling into 塘沽 and then its community.
        let tanggu = app
            .get(&format!("/orgs?q={}&area=120116001", encode("养老")))
            .await;
        assert!(tanggu.body.contains("<strong id=\"total\">2</strong>"));
        assert!(tanggu.body.contains("area=120116001016"), "community facet");
        // Exact totals agree with the API, and a filter with no match says so.
        let none = app.get("/orgs?kind=foundation").await;
        assert!(none.body.contains("<strong id=\"total\">0</strong>"));
        let bad = app.get("/orgs?kind=club").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("不是有效的选项"));
        // English page: labels translated.
        let en = app
            .get(&format!("/orgs?q={}&lang=en", encode("养老")))
            .await;
        assert!(en.body.contains("Organizations found:"));
        assert!(en.body.contains("Private non-enterprise") || en.body.contains("non-enterprise"));
    }
);

db_test!(the_statistics_page_counts_records, |t| async move {
    load_areas(t).await;
    create(
        t,
        "塘沽颐养老年服务社",
        "private_non_enterprise",
        "120116001016",
        false,
    )
    .await;
    create(t, "塘沽爱心助学社", "social_group", "120116001016", true).await;
    let app = t.app();
    let page = app.get("/stats").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(figure(&page.body, "社会组织总数"), 2);
    assert_eq!(figure(&page.body, "直接登记"), 1);
    assert!(page.body.contains("<svg class=\"chart\""));
    // A new record changes the figures; so does an area filter.
    create(t, "大港邻里互助会", "community", "120116051", false).await;
    let page = app.get("/stats").await;
    assert_eq!(figure(&page.body, "社会组织总数"), 3);
    assert_eq!(figure(&page.body, "社区社会组织"), 1);
    let dagang = app.get("/stats?area=120116051").await;
    assert_eq!(figure(&dagang.body, "社会组织总数"), 1);
    assert_eq!(
        app.get("/stats?area=999999").await.status,
        StatusCode::NOT_FOUND
    );
    // The counts are remembered until an organization changes: a write elsewhere keeps them
    // (seen here through an edit made in SQL, outside the audit log), an organization's
    // change has them counted again.
    let mut conn = t.db.acquire().await.unwrap();
    shezu::db::Sql::new("update organizations set kind = 'social_group' where kind = 'community'")
        .execute(&mut conn.conn())
        .await
        .unwrap();
    let mut tx = t.db.begin().await.unwrap();
    shezu::audit::store::append(
        &mut tx.conn(),
        Utc::now(),
        &Actor::system("tester"),
        shezu::audit::store::NewEntry::of("update", "setting", None, "elsewhere"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    drop(conn);
    let page = app.get("/stats").await;
    assert_eq!(figure(&page.body, "社区社会组织"), 1, "remembered");
    create(
        t,
        "塘沽睦邻服务社",
        "private_non_enterprise",
        "120116001016",
        false,
    )
    .await;
    let page = app.get("/stats").await;
    assert_eq!(figure(&page.body, "社会组织总数"), 4);
    assert_eq!(figure(&page.body, "社区社会组织"), 0, "counted again");
});

db_test!(
    profiles_show_public_facts_in_both_languages,
    |t| async move {
        load_areas(t).await;
        let row = create(
            t,
            "塘沽颐养老年服务社",
            "private_non_enterprise",
            "120116001016",
            false,
        )
        .await;
        let app = t.app();
        let zh = app
            .get(&format!("/orgs/{}", row.uscc.clone().unwrap()))
            .await;
        assert_eq!(zh.status, StatusCode::OK);
        assert!(zh.body.contains("塘沽颐养老年服务社"));
        assert!(zh.body.contains("50 万元"), "money in 万元");
        assert!(!zh.body.contains("13900001111"));
        assert!(zh.body.contains("application/ld+json"));
        let en = app.get(&format!("/orgs/{}?lang=en", row.id)).await;
        assert_eq!(en.status, StatusCode::OK);
        assert!(en.body.contains("Registration facts"));
        assert!(
            !en.body.contains("登记信息"),
            "no Chinese label on the English page"
        );
        assert_eq!(app.get("/orgs/0").await.status, StatusCode::NOT_FOUND);
    }
);

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let t = TestDb::new(shezu::db::Backend::Sqlite).await.unwrap();
    let app = t.app();
    app.get("/orgs").await;
    app.get("/orgs/123456").await;
    app.get("/orgs/654321").await;
    let text = app.get("/metrics").await.body;
    assert!(
        text.contains(
            "shezu_http_requests_total{route=\"/orgs/{key}\",method=\"GET\",status=\"404\"} 2"
        ),
        "{text}"
    );
    assert!(text.contains("shezu_http_request_duration_seconds_count{route=\"/orgs\"} 1"));
    assert!(!text.contains("123456"), "paths never become labels");
    // The pools the answers came from: the primary's connections are open and counted.
    assert!(
        text.contains("shezu_db_pool_max_connections{pool=\"primary\"} "),
        "{text}"
    );
    let open: u64 = text
        .lines()
        .filter(|l| l.starts_with("shezu_db_pool_connections{pool=\"primary\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(open > 0, "{text}");
    t.cleanup().await;
}
