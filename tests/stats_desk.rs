//! The statistics desk (`/admin/stats`), its report set and the public yearly figures on
//! `/stats`: the same numbers as the summary API, within the viewer's reach.

use crate::common::{Answer, TestApp};
use crate::demo_test;
use axum::http::StatusCode;
use shezu::export::{Cell, ColumnKind};
use shezu::stats::catalogue::FIGURES;

/// The summary API's figures for `query`.
async fn summary(app: &TestApp, query: &str) -> serde_json::Value {
    let res = app.get(&format!("/api/v1/stats/summary?{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.json()
}

/// A summary value formatted as the pages show it.
fn shown(kind: ColumnKind, value: f64) -> String {
    let cell = if kind == ColumnKind::Count {
        Cell::Int(value.round() as i64)
    } else {
        Cell::Number(value)
    };
    cell.display(kind)
}

/// The value shown in the tile `fig-{key}` of a page (tags stripped, unit dropped).
fn tile(page: &Answer, key: &str) -> String {
    let at = page
        .body
        .find(&format!("id=\"fig-{key}\""))
        .unwrap_or_else(|| panic!("no tile {key}"));
    let rest = &page.body[at..];
    let dd = &rest[rest.find("<dd>").unwrap() + 4..rest.find("</dd>").unwrap()];
    let mut text = String::new();
    let mut in_tag = false;
    for c in dd.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Every tile of `page` shows the summary's value.
fn tiles_match(page: &Answer, summary: &serde_json::Value) {
    for figure in FIGURES {
        let value = summary[figure.key].as_f64().unwrap();
        assert_eq!(
            tile(page, figure.key),
            shown(figure.kind, value),
            "{}",
            figure.key
        );
    }
}

demo_test!(
    the_desk_and_the_summary_report_show_the_summary_figures,
    |t| async move {
        let api = summary(&t.app(), "year=2014").await;
        let registrar = t.app_as("tongji", "registrar", None, None).await;
        let desk = registrar.get("/admin/stats?year=2014").await;
        assert_eq!(desk.status, StatusCode::OK, "{}", desk.body);
        tiles_match(&desk, &api);
        assert_eq!(tile(&desk, "organizations_total"), "2,355");
        assert!(desk.body.contains("/admin/stats/drill/social_groups?area="));

        // The summary report in CSV: one row per figure, the same numbers (rates in percent).
        let csv = registrar
            .get("/admin/stats/reports/summary?year=2014&format=csv")
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(
            csv.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "类别,指标,数值,单位");
        assert_eq!(lines.len(), 1 + FIGURES.len());
        for (figure, line) in FIGURES.iter().zip(&lines[1..]) {
            let value: f64 = line.split(',').nth(2).unwrap().parse().unwrap();
            let mut expected = api[figure.key].as_f64().unwrap();
            if figure.kind == ColumnKind::Percent {
                expected *= 100.0;
            }
            assert!(
                (value - expected).abs() < 0.005,
                "{}: {value} vs {expected}",
                figure.key
            );
        }

        // The same report in Excel: each figure's label and its number as a numeric cell.
        let xlsx = registrar
            .get("/admin/stats/reports/summary?year=2014&format=xlsx")
            .await;
        assert_eq!(xlsx.status, StatusCode::OK);
        let entries = shezu::export::zip::read_entries(&xlsx.bytes).expect("a readable workbook");
        let sheet = entries
            .iter()
            .find(|(name, _)| name == "xl/worksheets/sheet1.xml")
            .map(|(_, xml)| String::from_utf8_lossy(xml).into_owned())
            .expect("the summary sheet");
        assert!(sheet.contains("<pane ") && sheet.contains("state=\"frozen\""));
        for figure in FIGURES {
            let label = shezu::i18n::Lang::Zh.t(&shezu::stats::catalogue::label_key(figure.key));
            assert!(sheet.contains(label), "{label} in the sheet");
            let value = api[figure.key].as_f64().unwrap();
            let cell = match figure.kind {
                ColumnKind::Count => format!("<v>{}</v>", value.round() as i64),
                ColumnKind::Percent => format!("<v>{}</v>", value * 100.0),
                _ => format!("<v>{value}</v>"),
            };
            assert!(sheet.contains(&cell), "{}: {cell} in the sheet", figure.key);
        }

        // Every report of the set answers as a page, CSV and Excel.
        for report in shezu::stats::reports::Report::ALL {
            let uri = format!("/admin/stats/reports/{}?year=2014", report.as_str());
            let page = registrar.get(&uri).await;
            assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
            let csv = registrar.get(&format!("{uri}&format=csv")).await;
            assert_eq!(csv.status, StatusCode::OK, "{uri} csv");
            let xlsx = registrar.get(&format!("{uri}&format=xlsx")).await;
            assert_eq!(xlsx.status, StatusCode::OK, "{uri} xlsx");
            assert_eq!(
                xlsx.headers["content-type"],
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            );
            assert!(
                xlsx.headers["content-disposition"]
                    .to_str()
                    .unwrap()
                    .contains(".xlsx")
            );
        }
        let bad = registrar
            .get("/admin/stats/reports/summary?year=2014&format=pdf")
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("format"));
        let nothing = registrar.get("/admin/stats/reports/nonsense").await;
        assert_eq!(nothing.status, StatusCode::NOT_FOUND);
        let wrong_year = registrar.get("/admin/stats?year=abc").await;
        assert_eq!(wrong_year.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

demo_test!(
    a_street_officer_sees_their_street_and_the_public_sees_aggregates,
    |t| async move {
        let tanggu = "120116001";
        let street = summary(&t.app(), &format!("year=2014&area={tanggu}")).await;
        let officer = t
            .app_as("tanggu-stats", "area_officer", Some(tanggu), None)
            .await;
        // Blank area: the root of the officer's reach, their street.
        let desk = officer.get("/admin/stats?year=2014").await;
        assert_eq!(desk.status, StatusCode::OK, "{}", desk.body);
        assert!(desk.body.contains("塘沽街道"));
        tiles_match(&desk, &street);
        let district = summary(&t.app(), "year=2014").await;
        assert!(street["organizations_total"].as_i64() < district["organizations_total"].as_i64());
        // Another street, the district and its reports are out of reach.
        for uri in [
            "/admin/stats?year=2014&area=120116051",
            "/admin/stats?year=2014&area=120116",
            "/admin/stats/drill/social_groups?year=2014&area=120116051",
            "/admin/stats/reports/organizations?year=2014&area=120116051",
            "/admin/stats/reports/organizations?year=2014&area=120116051&format=xlsx",
        ] {
            assert_eq!(
                officer.get(uri).await.status,
                StatusCode::NOT_FOUND,
                "{uri}"
            );
        }
        // Their street's report lists their street's communities only.
        let report = officer
            .get("/admin/stats/reports/organizations?year=2014&format=csv")
            .await;
        assert_eq!(report.status, StatusCode::OK);
        assert!(!report.body.contains("大港"), "{}", report.body);
        assert!(report.body.contains("塘沽街道"));

        // No desk for an expert or the public.
        let expert = t
            .app_as("stats-expert", "expert", None, None)
            .await
            .get("/admin/stats")
            .await;
        assert_eq!(expert.status, StatusCode::FORBIDDEN);
        let anonymous = t.app().get("/admin/stats").await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER);

        // The public page carries the yearly aggregates, without links to records.
        let public = t.app().get("/stats?year=2014").await;
        assert_eq!(public.status, StatusCode::OK);
        tiles_match(&public, &district);
        assert!(!public.body.contains("/admin/stats/drill/"));
    }
);

/// The desk's routes for one caller of the scope walk (tests/scope.rs), asking for 塘沽街道:
/// district staff and the party committee see it, 塘沽's officer sees it, an officer or liaison
/// elsewhere finds nothing, everyone else is refused.
pub async fn walk(app: &TestApp, u: &str) -> Vec<&'static str> {
    let want = match u {
        "admin1" | "registrar1" | "party1" | "tanggu1" => 200,
        "dagang1" | "liaison1" => 404,
        _ => crate::scope::gate(u, false, "GET", 200),
    };
    let routes = [
        ("/admin/stats", "/admin/stats?area=120116001&year=2014"),
        (
            "/admin/stats/drill/{key}",
            "/admin/stats/drill/social_groups?area=120116001&year=2014",
        ),
        (
            "/admin/stats/reports/{name}",
            "/admin/stats/reports/organizations?area=120116001&year=2014&format=csv",
        ),
    ];
    for (route, path) in routes {
        let res = app.get(path).await;
        assert_eq!(res.status.as_u16(), want, "{u} GET {route}: {}", res.body);
    }
    routes.iter().map(|(route, _)| *route).collect()
}

demo_test!(
    a_drill_down_page_lists_the_first_thousand_records_and_the_download_all_of_them,
    |t| async move {
        let registrar = t.app_as("tongji", "registrar", None, None).await;
        let all = "/admin/stats/drill/organizations_total?year=2014";
        let page = registrar.get(all).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(r#"<span id="drill-rows">2355</span>"#));
        assert!(page.body.contains("drill-truncated"));
        let listed = page.body.matches("href=\"/admin/orgs/").count();
        assert_eq!(listed, 1000, "one link per listed record");
        let csv = registrar.get(&format!("{all}&format=csv")).await;
        assert_eq!(csv.status, StatusCode::OK);
        let lines = csv
            .body
            .trim_start_matches('\u{feff}')
            .trim_end()
            .lines()
            .count();
        assert!(lines > 2355, "{lines} lines hold every record");
        // A short list has no notice.
        let few = registrar
            .get("/admin/stats/drill/foundations?year=2014")
            .await;
        assert!(few.body.contains(r#"<span id="drill-rows">1</span>"#));
        assert!(!few.body.contains("drill-truncated"));
    }
);
