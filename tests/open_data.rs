//! Open data: the streamed export holds exactly what the filtered API lists; the change feed
//! replays into an empty second instance and reproduces the public registry; keyless callers
//! are rate limited with a clear answer.

use crate::common::{TestDb, encode};
use crate::db_test;
use crate::registry::load_areas;
use axum::http::StatusCode;
use chrono::Utc;
use shezu::audit::Actor;
use shezu::auth::Scope;
use shezu::config::Settings;
use shezu::registry::store::{self, Updated};
use shezu::registry::{OrgForm, OrgId};
use std::collections::HashMap;

fn form(name: &str, kind: &str, area: &str) -> OrgForm {
    OrgForm {
        name: name.into(),
        kind: kind.into(),
        domain: "elderly_care".into(),
        supervisory_unit: "滨海新区民政局".into(),
        legal_representative: "周敏".into(),
        area_code: area.into(),
        registered_on: "2013-06-01".into(),
        address: "天津市滨海新区, \"海景\"大厦".into(),
        business_scope: "=为老服务".into(),
        contact_phone: "022-12345678".into(),
        registered_capital_yuan: "30000.50".into(),
        ..OrgForm::default()
    }
}

async fn create(t: &TestDb, f: &OrgForm) -> store::OrgRow {
    let mut tx = t.db.begin().await.unwrap();
    let row = store::create(
        &mut tx.conn(),
        &Scope::All,
        &Actor::system("tester"),
        Utc::now(),
        &f.parse().unwrap(),
        "120116",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    row
}

async fn update(t: &TestDb, row: &store::OrgRow, f: &OrgForm) {
    let mut tx = t.db.begin().await.unwrap();
    let result = store::update(
        &mut tx.conn(),
        &Scope::All,
        &Actor::system("tester"),
        Utc::now(),
        OrgId(row.id),
        row.version,
        &f.parse().unwrap(),
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(result, Updated::Changed(_)));
}

/// A small registry with a rename and a status change in its history.
async fn seed(t: &TestDb) {
    load_areas(t).await;
    let a = create(
        t,
        &form(
            "塘沽乐龄养老服务社",
            "private_non_enterprise",
            "120116001016",
        ),
    )
    .await;
    create(t, &form("大港邻里互助会", "community", "120116051")).await;
    let c = create(
        t,
        &form("泰达为老志愿者协会", "social_group", "120116014001"),
    )
    .await;
    let mut renamed = form(
        "塘沽颐年养老服务社",
        "private_non_enterprise",
        "120116001016",
    );
    renamed.uscc = a.uscc.clone().unwrap();
    update(t, &a, &renamed).await;
    let mut closed = form("泰达为老志愿者协会", "social_group", "120116014001");
    closed.uscc = c.uscc.clone().unwrap();
    closed.status = "deregistered".into();
    update(t, &c, &closed).await;
}

/// The export as text, without the column of source ids (which differ between instances).
async fn export_without_ids(t: &TestDb) -> Vec<String> {
    let res = t.app().get("/api/v1/export/organizations?format=csv").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let mut lines: Vec<String> = res
        .body
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').unwrap().1.to_owned())
        .collect();
    lines.sort();
    lines
}

db_test!(
    export_streams_exactly_what_the_filtered_list_holds,
    |t| async move {
        seed(t).await;
        let app = t.app();
        let csv = app.get("/api/v1/export/organizations?format=csv").await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.starts_with('\u{feff}'), "Excel needs the BOM");
        let lines: Vec<&str> = csv.body.lines().collect();
        assert_eq!(lines.len(), 1 + 3);
        assert!(csv.body.contains("\"天津市滨海新区, \"\"海景\"\"大厦\""));
        assert!(csv.body.contains(",'=为老服务,"), "formulas are defused");
        assert!(
            !csv.body.contains("022-12345678"),
            "internal fields stay out"
        );
        // Filters apply, in both formats, and agree with the API's total.
        let q = format!("q={}&status=active", encode("养老"));
        let json = app
            .get(&format!("/api/v1/export/organizations?format=json&{q}"))
            .await
            .json();
        let api = app.get(&format!("/api/v1/organizations?{q}")).await.json();
        assert_eq!(
            json.as_array().unwrap().len() as i64,
            api["total"].as_i64().unwrap()
        );
        assert_eq!(json[0]["name"], "塘沽颐年养老服务社");
        let bad = app.get("/api/v1/export/organizations?format=xls").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.json()["fields"]["format"].is_string());
    }
);

db_test!(
    the_change_feed_reproduces_the_registry_in_a_second_instance,
    |t| async move {
        seed(t).await;
        let mirror = TestDb::new(t.db.backend()).await.unwrap();
        load_areas(&mirror).await;
        let source = t.app();
        let mut since = 0;
        let mut local: HashMap<i64, i64> = HashMap::new();
        loop {
            let page = source
                .get(&format!("/api/v1/changes?since={since}&limit=2"))
                .await
                .json();
            for change in page["changes"].as_array().unwrap() {
                let o = &change["record"];
                let s = |k: &str| o[k].as_str().unwrap_or_default().to_owned();
                let flag = |k: &str| (s(k) == "true").then(|| "on".to_owned());
                let f = OrgForm {
                    name: s("name"),
                    uscc: s("uscc"),
                    kind: s("kind"),
                    domain: s("domain"),
                    direct_registration: flag("direct_registration"),
                    supervisory_unit: s("supervisory_unit"),
                    legal_representative: s("legal_representative"),
                    address: s("address"),
                    area_code: s("area_code"),
                    founded_on: s("founded_on"),
                    registered_on: s("registered_on"),
                    registered_capital_yuan: s("registered_capital_fen")
                        .parse::<i64>()
                        .map(|f| format!("{}.{:02}", f / 100, f % 100))
                        .unwrap_or_default(),
                    business_scope: s("business_scope"),
                    status: s("status"),
                    grade: s("grade"),
                    grade_expires_on: s("grade_expires_on"),
                    brand: flag("brand"),
                    ..OrgForm::default()
                };
                assert!(o.get("contact_phone").is_none(), "internal fields stay out");
                let source_id = change["id"].as_i64().unwrap();
                match local.get(&source_id) {
                    None => {
                        let row = create(&mirror, &f).await;
                        local.insert(source_id, row.id);
                    }
                    Some(id) => {
                        let mut c = mirror.db.acquire().await.unwrap();
                        let row = store::find(&mut c.conn(), &Scope::All, OrgId(*id))
                            .await
                            .unwrap()
                            .unwrap();
                        drop(c);
                        let mut tx = mirror.db.begin().await.unwrap();
                        store::update(
                            &mut tx.conn(),
                            &Scope::All,
                            &Actor::system("mirror"),
                            Utc::now(),
                            OrgId(*id),
                            row.version,
                            &f.parse().unwrap(),
                            None,
                        )
                        .await
                        .unwrap();
                        tx.commit().await.unwrap();
                    }
                }
            }
            since = page["next_since"].as_i64().unwrap();
            if !page["more"].as_bool().unwrap() {
                break;
            }
        }
        assert_eq!(local.len(), 3);
        assert_eq!(
            export_without_ids(t).await,
            export_without_ids(&mirror).await
        );
        // The former name travelled too: the mirror finds it.
        let found = mirror
            .app()
            .get(&format!("/api/v1/organizations?q={}", encode("乐龄")))
            .await
            .json();
        assert_eq!(found["total"], 1);
        // Nothing new: the feed is empty after the last position.
        let rest = source
            .get(&format!("/api/v1/changes?since={since}"))
            .await
            .json();
        assert_eq!(rest["changes"].as_array().unwrap().len(), 0);
        assert_eq!(rest["next_since"].as_i64().unwrap(), since);
        let bad = source.get("/api/v1/changes?since=-1&limit=0").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields = &bad.json()["fields"];
        assert!(fields["since"].is_string() && fields["limit"].is_string());
        mirror.cleanup().await;
    }
);

db_test!(
    keyless_callers_are_rate_limited_with_a_clear_answer,
    |t| async move {
        let app = t.app_with(Settings {
            api_requests_per_minute: 3,
            ..Settings::default()
        });
        for _ in 0..3 {
            assert_eq!(app.get("/api/v1/areas").await.status, StatusCode::OK);
        }
        let refused = app
            .get_with("/api/v1/organizations", &[("accept-language", "zh-CN")])
            .await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(
            refused.json()["error"]
                .as_str()
                .unwrap()
                .contains("秒后重试")
        );
        assert_eq!(refused.headers["retry-after"], "20");
        // The HTML portal is not limited by the API's budget.
        assert_eq!(app.get("/orgs").await.status, StatusCode::OK);
    }
);

db_test!(
    the_daily_dump_holds_the_public_registry_with_checksums,
    |t| async move {
        seed(t).await;
        let dir = tempfile::tempdir().unwrap();
        let date = chrono::NaiveDate::from_ymd_opt(2014, 12, 31).unwrap();
        let manifest = shezu::registry::dump::write_dump(&t.db, dir.path(), date)
            .await
            .unwrap();
        assert_eq!(manifest.organizations, 3);
        assert_eq!(manifest.areas, 532);
        let folder = dir.path().join("2014-12-31");
        for f in &manifest.files {
            let bytes = std::fs::read(folder.join(&f.name)).unwrap();
            assert_eq!(bytes.len() as u64, f.bytes, "{}", f.name);
            assert_eq!(
                shezu::auth::hex(&sha2_digest(&bytes)),
                f.sha256,
                "{}",
                f.name
            );
        }
        let csv = std::fs::read_to_string(folder.join("organizations.csv")).unwrap();
        assert_eq!(csv.lines().count(), 4);
        assert!(!csv.contains("022-12345678"));
        let dictionary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join("dictionary.json")).unwrap())
                .unwrap();
        assert_eq!(
            dictionary["codes"]["kind"][0]["name_zh"], "社会团体",
            "codes carry their Chinese names"
        );
        assert!(folder.join("LICENSE.txt").is_file());

        // Served from the page, and nothing else under the folder is reachable.
        let app = t.app_with(Settings {
            dump_dir: dir.path().to_path_buf(),
            ..Settings::default()
        });
        let page = app.get("/open-data").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body
                .contains("/open-data/2014-12-31/organizations.csv")
        );
        assert!(page.body.contains(&manifest.files[0].sha256));
        let file = app.get("/open-data/2014-12-31/organizations.csv").await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(file.body, csv);
        for bad in [
            "/open-data/2014-12-31/..%2F..%2Fetc%2Fpasswd",
            "/open-data/..%2F2014-12-31/organizations.csv",
            "/open-data/2014-12-30/organizations.csv",
        ] {
            assert_eq!(app.get(bad).await.status, StatusCode::NOT_FOUND, "{bad}");
        }
        // A second dump of the same day replaces the first; a record added shows up.
        create(t, &form("新港社区睦邻服务站", "community", "120116001016")).await;
        let again = shezu::registry::dump::write_dump(&t.db, dir.path(), date)
            .await
            .unwrap();
        assert_eq!(again.organizations, 4);
        assert_eq!(shezu::registry::dump::dump_dates(dir.path()), vec![date]);
    }
);

fn sha2_digest(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

/// The names in an export's CSV (third column), in file order.
fn csv_names(body: &str) -> Vec<String> {
    body.lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().to_owned())
        .collect()
}

/// The names in an Excel export (column C below the header row on row 3), in sheet order,
/// with the sheet's XML.
fn xlsx_names(bytes: &[u8]) -> (Vec<String>, String) {
    let entries = shezu::export::zip::read_entries(bytes).expect("a readable workbook");
    let sheet = entries
        .iter()
        .find(|(name, _)| name == "xl/worksheets/sheet1.xml")
        .map(|(_, xml)| String::from_utf8(xml.clone()).unwrap())
        .expect("the first sheet");
    assert!(
        !entries
            .iter()
            .any(|(name, _)| name == "xl/worksheets/sheet2.xml"),
        "a small export fits one sheet"
    );
    let names = sheet
        .split(r#"<c r="C"#)
        .skip(1)
        .filter_map(|cell| {
            let (row, rest) = cell.split_once('"')?;
            if row.parse::<u32>().ok()? <= 3 {
                return None;
            }
            let text = rest.split_once("<t>")?.1.split_once("</t>")?.0;
            Some(text.to_owned())
        })
        .collect();
    (names, sheet)
}

db_test!(
    the_excel_export_holds_what_the_csv_holds_in_scope,
    |t| async move {
        seed(t).await;
        let app = t.app();
        for q in ["", "q=%E5%85%BB%E8%80%81&status=active", "kind=community"] {
            let csv = app
                .get(&format!("/api/v1/export/organizations?format=csv&{q}"))
                .await;
            let xlsx = app
                .get(&format!("/api/v1/export/organizations?format=xlsx&{q}"))
                .await;
            assert_eq!(xlsx.status, StatusCode::OK, "{}", xlsx.body);
            assert_eq!(
                xlsx.headers["content-type"],
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            );
            assert!(
                xlsx.headers["content-disposition"]
                    .to_str()
                    .unwrap()
                    .ends_with(".xlsx\""),
                "{:?}",
                xlsx.headers["content-disposition"]
            );
            let (names, sheet) = xlsx_names(&xlsx.bytes);
            assert_eq!(names, csv_names(&csv.body), "filter {q:?}");
            assert!(sheet.contains("社会组织名录"), "the title");
            assert!(sheet.contains("注册资金（元）"), "Chinese headers");
            assert!(!sheet.contains("022-12345678"), "internal fields stay out");
            if q.is_empty() {
                assert_eq!(names.len(), 3);
                // Registered capital is a number under the money format (style 5 + 2).
                assert!(sheet.contains(r#" s="7"><v>30000.5</v>"#), "{sheet}");
            } else {
                assert!(
                    sheet.contains(q.split('&').next_back().unwrap()),
                    "the note names the filter"
                );
            }
        }
        let (names, _) = xlsx_names(
            &app.get("/api/v1/export/organizations?format=xlsx&q=%E5%85%BB%E8%80%81&status=active")
                .await
                .bytes,
        );
        assert_eq!(names, ["塘沽颐年养老服务社"]);

        // A department token limited to 塘沽 (an area officer's view) exports 塘沽 only.
        let mut tx = t.db.begin().await.unwrap();
        let area = shezu::areas::store::find_by_code(&mut tx.conn(), "120116001")
            .await
            .unwrap()
            .unwrap()
            .area_id();
        let (_, secret) = shezu::auth::tokens::create(
            &mut tx.conn(),
            &Actor::system("test"),
            Utc::now(),
            "塘沽街道办事处",
            &[shezu::auth::tokens::TokenScope::parse("registry:read").unwrap()],
            Some(area),
            None,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let bearer = format!("Bearer {secret}");
        let scoped = app
            .get_with(
                "/api/v1/export/organizations?format=xlsx",
                &[("authorization", &bearer)],
            )
            .await;
        assert_eq!(scoped.status, StatusCode::OK, "{}", scoped.body);
        let csv = app
            .get_with(
                "/api/v1/export/organizations?format=csv",
                &[("authorization", &bearer)],
            )
            .await;
        let (names, _) = xlsx_names(&scoped.bytes);
        assert_eq!(names, ["塘沽颐年养老服务社"]);
        assert_eq!(names, csv_names(&csv.body));

        let bad = app.get("/api/v1/export/organizations?format=xlsb").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.json()["fields"]["format"].is_string());
    }
);
