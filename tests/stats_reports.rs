//! The report set's evaluation, party, funding and volunteers reports: on the demo district their
//! figures agree with the summary (SPEC §4), the pages and CSV downloads answer with Chinese
//! headers, units and a totals row, an area officer sees only their street, and a new record
//! moves a figure by exactly its amount; the Excel download is a spreadsheet.

use crate::common::{TestApp, TestDb};
use crate::db_test;
use crate::demo_test;
use axum::http::{StatusCode, header};
use shezu::areas::store::AreaRow;
use shezu::auth::Scope;
use shezu::export::{Cell, Table};
use shezu::i18n::Lang;
use shezu::stats::reports::Report;

/// The reports this file covers.
const REPORTS: [Report; 4] = [
    Report::Evaluation,
    Report::Party,
    Report::Funding,
    Report::Volunteers,
];

const DISTRICT: &str = "120116";
const TANGGU: &str = "120116001";
const DAGANG: &str = "120116051";
/// 泰达街道, where the demo's volunteer association keeps its books.
const TEDA: &str = "120116014";

async fn area(t: &TestDb, code: &str) -> AreaRow {
    let mut c = t.db.acquire().await.unwrap();
    shezu::areas::store::find_by_code(&mut c.conn(), code)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("area {code}"))
}

async fn tables(t: &TestDb, report: Report, scope: &Scope, code: &str) -> Vec<Table> {
    let area = area(t, code).await;
    let mut c = t.db.acquire().await.unwrap();
    report
        .tables(&mut c.conn(), Lang::Zh, scope, &area, 2014)
        .await
        .unwrap()
}

/// The scope of an area officer of `code`.
async fn officer_scope(t: &TestDb, code: &str) -> Scope {
    Scope::Limited {
        areas: vec![area(t, code).await.area_id()],
        orgs: Vec::new(),
    }
}

/// The table titled by catalogue key `key`.
fn table<'a>(tables: &'a [Table], key: &str) -> &'a Table {
    let title = Lang::Zh.t(key);
    tables
        .iter()
        .find(|t| t.title == title)
        .unwrap_or_else(|| panic!("no table {title}"))
}

/// The index of the column named by catalogue key `key`.
fn col(table: &Table, key: &str) -> usize {
    let name = Lang::Zh.t(key);
    table
        .columns
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name} in {}", table.title))
}

/// The totals row's number under the column named by `key`.
fn total(table: &Table, key: &str) -> f64 {
    let i = col(table, key);
    table.totals.as_ref().expect("totals row")[i]
        .number()
        .unwrap_or_else(|| panic!("no total under {key} in {}", table.title))
}

/// The sum of the rows under the column named by `key`.
fn rows_sum(table: &Table, key: &str) -> f64 {
    let i = col(table, key);
    table.rows.iter().filter_map(|r| r[i].number()).sum()
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 0.005, "{what}: {a} ≠ {b}");
}

demo_test!(
    the_reports_agree_with_the_summary_of_the_demo_and_keep_to_the_officers_street,
    |t| async move {
        let district = area(t, DISTRICT).await;
        let s = {
            let mut c = t.db.acquire().await.unwrap();
            shezu::stats::summary(&mut c.conn(), &district, 2014)
                .await
                .unwrap()
        };

        // 评估结果: 121 organizations graded in the 2013 and 2014 rounds, all still in force.
        let eval = tables(t, Report::Evaluation, &Scope::All, DISTRICT).await;
        let by_kind = table(&eval, "stats.rep.eval.by_kind");
        close(
            total(by_kind, "stats.rep.eval.orgs_graded"),
            s.organizations_evaluated as f64,
            "organizations graded",
        );
        assert_eq!(s.organizations_evaluated, 121);
        let by_round = table(&eval, "stats.rep.eval.by_round");
        assert_eq!(by_round.rows.len(), 2, "the 2013 and 2014 rounds");
        close(total(by_round, "stats.rep.eval.graded"), 121.0, "graded");
        for row in &by_round.rows {
            let n = |key: &str| row[col(by_round, key)].number().unwrap();
            assert!(
                n("stats.rep.eval.eligible") >= n("stats.rep.eval.applications"),
                "more could apply than did: {row:?}"
            );
            assert!(
                matches!(&row[0], Cell::Link(_, href) if href.starts_with("/admin/evaluations/"))
            );
        }
        let in_force = table(&eval, "stats.rep.eval.in_force");
        close(total(in_force, "stats.sum"), 121.0, "grades in force");

        // 党建覆盖与经费: the totals are the summary's; the children add up to them.
        let party = tables(t, Report::Party, &Scope::All, DISTRICT).await;
        let by_area = table(&party, "stats.rep.party.by_area");
        for (key, value) in [
            ("stats.key.party_orgs_independent", s.party_orgs_independent),
            ("stats.key.party_branches_joint", s.party_branches_joint),
            ("stats.key.party_instructors", s.party_instructors),
        ] {
            close(total(by_area, key), value as f64, key);
        }
        close(
            total(by_area, "stats.key.party_funding_yuan"),
            s.party_funding_yuan,
            "party funding",
        );
        for key in [
            "stats.key.party_orgs_independent",
            "stats.rep.party.organizations",
            "stats.key.party_funding_yuan",
        ] {
            close(rows_sum(by_area, key), total(by_area, key), key);
        }
        let by_item = table(&party, "stats.rep.party.by_item");
        close(
            total(by_item, "stats.key.party_funding_yuan"),
            s.party_funding_yuan,
            "funding by item",
        );
        close(
            total(by_item, "stats.rep.party.org_allowance")
                + total(by_item, "stats.rep.party.cadre_allowance"),
            s.party_funding_yuan,
            "the two items make the budget",
        );

        // 孵化与资助项目: 4 graduated, 3 in incubation; the venture round 3,000,000 / 84 / 32.
        let funding = tables(t, Report::Funding, &Scope::All, DISTRICT).await;
        let incubators = table(&funding, "stats.rep.fund.incubators");
        close(
            total(incubators, "stats.key.incubating"),
            s.incubating as f64,
            "incubating",
        );
        close(
            total(incubators, "stats.key.incubated_graduated"),
            s.incubated_graduated as f64,
            "graduated",
        );
        assert_eq!((s.incubating, s.incubated_graduated), (3, 4));
        let rounds = table(&funding, "stats.rep.fund.rounds");
        let venture = Lang::Zh.t("funding.kind.venture");
        let kind = col(rounds, "stats.rep.fund.kind");
        let row = rounds
            .rows
            .iter()
            .find(|r| r[kind] == Cell::Text(venture.to_owned()))
            .expect("the venture round");
        let n = |key: &str| row[col(rounds, key)].number().unwrap();
        assert_eq!(
            (
                n("stats.rep.fund.budget"),
                n("stats.rep.fund.proposals"),
                n("stats.rep.fund.funded")
            ),
            (3_000_000.0, 84.0, 32.0)
        );
        assert_eq!(
            (
                n("stats.rep.fund.budget"),
                n("stats.rep.fund.domains") as i64,
                n("stats.rep.fund.proposals") as i64,
                n("stats.rep.fund.funded") as i64
            ),
            (
                s.venture_budget_yuan,
                s.venture_domains,
                s.venture_proposals,
                s.venture_funded
            )
        );
        assert_eq!(
            n("stats.rep.fund.local_proposals"),
            84.0,
            "every proposal is from the district"
        );

        // 志愿服务与捐赠: the columns up to the year's end are the summary's; the year's agree by domain
        // and by organization and with the volunteer module's own figures.
        let vol = tables(t, Report::Volunteers, &Scope::All, DISTRICT).await;
        let by_org = table(&vol, "stats.rep.vol.by_org");
        close(
            total(by_org, "stats.rep.vol.hours_all"),
            s.volunteer_hours,
            "verified hours",
        );
        close(
            total(by_org, "stats.rep.vol.donations_all"),
            s.donations_yuan,
            "donations",
        );
        let year = {
            let mut c = t.db.acquire().await.unwrap();
            shezu::volunteers::store::figures(
                &mut c.conn(),
                &Scope::All,
                Some(district.area_id()),
                Some(2014),
            )
            .await
            .unwrap()
        };
        assert!(year.verified_tenths > 0);
        let by_domain = table(&vol, "stats.rep.vol.by_domain");
        close(
            total(by_domain, "stats.rep.vol.hours"),
            year.verified_tenths as f64 / 10.0,
            "the year's hours by domain",
        );
        close(
            total(by_org, "stats.rep.vol.hours"),
            year.verified_tenths as f64 / 10.0,
            "the year's hours by organization",
        );
        close(
            total(by_domain, "stats.rep.vol.records"),
            year.verified_records as f64,
            "the year's records",
        );
        close(
            total(by_domain, "stats.rep.vol.active"),
            year.active_volunteers as f64,
            "volunteers who served",
        );
        close(
            total(by_org, "stats.rep.vol.donations"),
            year.received_fen as f64 / 100.0,
            "the year's donations",
        );
        assert_eq!(by_domain.rows.len(), 11, "the 11 service domains");

        // Pages and CSV downloads for a registrar.
        let registrar = t.app_as("registrar9", "registrar", None, None).await;
        for report in REPORTS {
            let base = format!("/admin/stats/reports/{}?year=2014", report.as_str());
            let page = registrar.get(&base).await;
            assert_eq!(page.status, StatusCode::OK, "{base}: {}", page.body);
            assert!(page.body.contains(report.title(Lang::Zh)), "{base}");
            let csv = registrar.get(&format!("{base}&format=csv")).await;
            assert_eq!(csv.status, StatusCode::OK, "{base} csv: {}", csv.body);
            assert!(
                csv.headers[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("text/csv")
            );
            assert!(
                csv.body.lines().any(|l| l.starts_with("合计,")),
                "{base}: a totals row"
            );
        }
        let csv = registrar
            .get("/admin/stats/reports/volunteers?year=2014&format=csv")
            .await;
        assert!(csv.body.contains("核实服务时长（小时）"), "{}", csv.body);
        assert!(csv.body.contains("接收捐赠（元）"));
        let csv = registrar
            .get("/admin/stats/reports/party?year=2014&format=csv")
            .await;
        assert!(csv.body.contains("独立党组织（个）"), "{}", csv.body);
        assert!(csv.body.contains("党建经费（元）"));

        // An area officer of one street: that street's rows only, and no other street.
        let tanggu = t
            .app_as("tanggu9", "area_officer", Some(TANGGU), None)
            .await;
        for report in REPORTS {
            let own = format!("/admin/stats/reports/{}?year=2014", report.as_str());
            let page = tanggu.get(&own).await;
            assert_eq!(page.status, StatusCode::OK, "{own}: {}", page.body);
            for other in [DAGANG, DISTRICT] {
                let uri = format!("{own}&area={other}");
                assert_eq!(
                    tanggu.get(&uri).await.status,
                    StatusCode::NOT_FOUND,
                    "{uri}"
                );
                let csv = format!("{uri}&format=csv");
                assert_eq!(
                    tanggu.get(&csv).await.status,
                    StatusCode::NOT_FOUND,
                    "{csv}"
                );
            }
        }
        let tanggu_area = area(t, TANGGU).await;
        let scope = officer_scope(t, TANGGU).await;
        let party = tables(t, Report::Party, &scope, TANGGU).await;
        let by_area = table(&party, "stats.rep.party.by_area");
        let communities = {
            let mut c = t.db.acquire().await.unwrap();
            shezu::areas::store::children(&mut c.conn(), tanggu_area.area_id())
                .await
                .unwrap()
        };
        for row in &by_area.rows {
            match &row[0] {
                Cell::Link(name, _) => assert!(
                    communities.iter().any(|c| &c.name == name),
                    "{name} is a community of 塘沽街道"
                ),
                Cell::Text(name) => assert!(name.contains("塘沽街道"), "{name}"),
                other => panic!("{other:?}"),
            }
        }
        let coverage = {
            let mut c = t.db.acquire().await.unwrap();
            shezu::party::coverage::summary(&mut c.conn(), &scope, Some(tanggu_area.area_id()))
                .await
                .unwrap()
        };
        close(
            total(by_area, "stats.rep.party.organizations"),
            coverage.organizations as f64,
            "Tanggu's organizations",
        );
        assert!(coverage.organizations > 0);
        let page = tanggu
            .get("/admin/stats/reports/party?year=2014")
            .await
            .body;
        assert!(!page.contains(&format!("area={DAGANG}")));
        // The demo's incubators and volunteer books are elsewhere: Tanggu's tables are empty,
        // while Teda's officer sees the volunteer association and Dagang's its own centre.
        let funding = tables(t, Report::Funding, &scope, TANGGU).await;
        assert!(table(&funding, "stats.rep.fund.incubators").rows.is_empty());
        let vol = tables(t, Report::Volunteers, &scope, TANGGU).await;
        assert!(table(&vol, "stats.rep.vol.by_org").rows.is_empty());
        close(
            total(
                table(&vol, "stats.rep.vol.by_domain"),
                "stats.rep.vol.hours",
            ),
            0.0,
            "no service in Tanggu",
        );
        let dagang = officer_scope(t, DAGANG).await;
        let funding = tables(t, Report::Funding, &dagang, DAGANG).await;
        let incubators = table(&funding, "stats.rep.fund.incubators");
        assert_eq!(incubators.rows.len(), 1, "{:?}", incubators.rows);
        assert!(matches!(&incubators.rows[0][0], Cell::Link(name, _) if name.contains("大港")));
        let teda = officer_scope(t, TEDA).await;
        let vol = tables(t, Report::Volunteers, &teda, TEDA).await;
        let by_org = table(&vol, "stats.rep.vol.by_org");
        assert_eq!(by_org.rows.len(), 1);
        close(
            total(by_org, "stats.rep.vol.hours_all"),
            s.volunteer_hours,
            "Teda holds every volunteer hour of the demo",
        );
        // What a district-wide scope counts for Teda is what Teda's officer sees.
        let all = tables(t, Report::Volunteers, &Scope::All, TEDA).await;
        assert_eq!(all, vol);
    }
);

demo_test!(
    a_donation_recorded_for_2014_moves_the_volunteers_report_by_its_amount,
    |t| async move {
        let before = tables(t, Report::Volunteers, &Scope::All, DISTRICT).await;
        let before_2013 = volunteers_2013(t).await;
        let by_org = table(&before, "stats.rep.vol.by_org");
        let org_id = match &by_org.rows[0][0] {
            Cell::Link(_, href) => href.rsplit('/').next().unwrap().parse::<i64>().unwrap(),
            other => panic!("{other:?}"),
        };
        let donation = shezu::volunteers::NewDonation {
            direction: "received",
            counterpart: "滨海新区某企业".into(),
            counterpart_kind: "organization",
            project: "四点钟课堂".into(),
            kind: "money",
            goods: None,
            amount_fen: 1_234_567,
            donated_on: chrono::NaiveDate::from_ymd_opt(2014, 11, 20).unwrap(),
            purpose: "助学".into(),
        };
        let mut tx = t.db.begin().await.unwrap();
        shezu::volunteers::store::record_donation(
            &mut tx.conn(),
            &shezu::audit::Actor::system("tester"),
            "2014-11-20T02:00:00Z".parse().unwrap(),
            org_id,
            &donation,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let after = tables(t, Report::Volunteers, &Scope::All, DISTRICT).await;
        let after_org = table(&after, "stats.rep.vol.by_org");
        for key in ["stats.rep.vol.donations", "stats.rep.vol.donations_all"] {
            close(total(after_org, key) - total(by_org, key), 12_345.67, key);
        }
        close(
            total(after_org, "stats.rep.vol.hours"),
            total(by_org, "stats.rep.vol.hours"),
            "hours do not move",
        );
        // The 2013 report does not move at all: a 2014 donation is after its year's end.
        let after_2013 = volunteers_2013(t).await;
        let (b, a) = (
            table(&before_2013, "stats.rep.vol.by_org"),
            table(&after_2013, "stats.rep.vol.by_org"),
        );
        assert!(total(b, "stats.rep.vol.donations") > 0.0);
        close(
            total(a, "stats.rep.vol.donations"),
            total(b, "stats.rep.vol.donations"),
            "2013 donations",
        );
        close(
            total(a, "stats.rep.vol.donations_all"),
            total(b, "stats.rep.vol.donations_all"),
            "donations up to the end of 2013",
        );
    }
);

async fn volunteers_2013(t: &TestDb) -> Vec<Table> {
    let area = area(t, DISTRICT).await;
    let mut c = t.db.acquire().await.unwrap();
    Report::Volunteers
        .tables(&mut c.conn(), Lang::Zh, &Scope::All, &area, 2013)
        .await
        .unwrap()
}

/// Signs in a registrar over a database holding the area tree only.
async fn registrar_over_areas(t: &TestDb) -> TestApp {
    let mut tx = t.db.begin().await.unwrap();
    shezu::areas::store::insert_divisions(&mut tx.conn(), &shezu::areas::binhai_divisions())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    t.app_as("registrar9", "registrar", None, None).await
}

db_test!(
    the_reports_answer_on_an_empty_registry_with_zero_totals,
    |t| async move {
        let registrar = registrar_over_areas(t).await;
        for report in REPORTS {
            let base = format!("/admin/stats/reports/{}?year=2014", report.as_str());
            let page = registrar.get(&base).await;
            assert_eq!(page.status, StatusCode::OK, "{base}: {}", page.body);
            let csv = registrar.get(&format!("{base}&format=csv")).await;
            assert_eq!(csv.status, StatusCode::OK, "{base}: {}", csv.body);
            for table in tables(t, report, &Scope::All, DISTRICT).await {
                for cell in table.totals.iter().flatten() {
                    assert!(
                        cell.number().unwrap_or(0.0) == 0.0,
                        "{}: {cell:?}",
                        table.title
                    );
                }
            }
        }
    }
);

db_test!(the_excel_downloads_are_spreadsheets, |t| async move {
    let registrar = registrar_over_areas(t).await;
    for report in REPORTS {
        let uri = format!(
            "/admin/stats/reports/{}?year=2014&format=xlsx",
            report.as_str()
        );
        let res = registrar.get(&uri).await;
        assert_eq!(res.status, StatusCode::OK, "{uri}: {}", res.body);
        assert_eq!(
            res.headers[header::CONTENT_TYPE],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert!(
            res.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains(".xlsx")
        );
    }
});
