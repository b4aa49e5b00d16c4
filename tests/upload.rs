//! The staff upload page for bulk imports: the template and its drop-downs, a good workbook
//! imported by a background job, a bad row that writes nothing and is named in the error
//! workbook, wrong file types and a zip bomb refused, an area officer kept to their street,
//! CSRF; and the routes for the scope walk (`walk`).

use crate::common::{Answer, TestApp, TestDb};
use crate::db_test;
use crate::registry::load_areas;
use shezu::db::Sql;
use shezu::export::xlsx::XlsxWriter;
use shezu::export::xlsx_read::{Limits, XlsxRecords};
use shezu::export::{Cell, Column, ColumnKind};
use shezu::registry::uscc::Uscc;
use std::io::Cursor;

const HEADER: [&str; 10] = [
    "统一社会信用代码",
    "名称",
    "组织类型",
    "业务领域",
    "所在区域",
    "状态",
    "登记（备案）日期",
    "法定代表人（负责人）",
    "业务主管单位",
    "住所",
];

fn code(serial: u32) -> String {
    Uscc::generate('2', "120116", serial).as_str().to_owned()
}

/// A row in `area` (a division code or a name).
fn row(uscc: &str, name: &str, kind: &str, area: &str) -> Vec<String> {
    [
        uscc,
        name,
        kind,
        "养老服务",
        area,
        "正常",
        "2014-05-06",
        "张秀英",
        "滨海新区民政局",
        "紫云园小区3号楼",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A workbook with the import header and `rows`, as a user would save it.
fn workbook(rows: &[Vec<String>]) -> Vec<u8> {
    let columns: Vec<Column> = HEADER
        .iter()
        .map(|h| Column::new(*h, "", ColumnKind::Text))
        .collect();
    let mut w = XlsxWriter::new(Vec::new());
    w.start_named_sheet("导入", "", "", &columns, &[]).unwrap();
    for r in rows {
        let cells: Vec<Cell> = r
            .iter()
            .map(|c| {
                if c.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(c.clone())
                }
            })
            .collect();
        w.row(&cells).unwrap();
    }
    w.finish().unwrap()
}

/// Every row of the first sheet of `bytes`.
fn sheet_rows(bytes: &[u8]) -> Vec<(u64, Vec<String>)> {
    let mut r = XlsxRecords::open(Cursor::new(bytes.to_vec()), Limits::default()).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        out.push(rec);
    }
    out
}

async fn org_count(t: &TestDb) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new("select count(*) from organizations")
        .fetch_i64(&mut c.conn())
        .await
        .unwrap()
}

async fn upload(app: &TestApp, name: &str, bytes: &[u8]) -> Answer {
    app.post_file("/admin/orgs/import", &[], ("file", name, bytes))
        .await
}

/// Follows an upload to its job page and waits for the job to end; the ended page.
pub async fn finished(app: &TestApp, res: &Answer) -> (String, Answer) {
    assert_eq!(res.status, 303, "{}", res.body);
    let location = res.location().to_owned();
    assert!(location.starts_with("/admin/imports/jobs/"), "{location}");
    for _ in 0..1200 {
        let page = app.get(&location).await;
        assert_eq!(page.status, 200, "{}", page.body);
        if !page.body.contains("http-equiv=\"refresh\"") {
            return (location, page);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the import job did not end");
}

db_test!(
    the_template_has_chinese_headers_and_drop_downs,
    |t| async move {
        load_areas(t).await;
        let app = t.app_as("registrar1", "registrar", None, None).await;
        let res = app.get("/admin/orgs/import/template.xlsx").await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert!(
            res.headers["content-type"]
                .to_str()
                .unwrap()
                .contains("spreadsheetml")
        );
        let rows = sheet_rows(&res.bytes);
        // Only the header: the example lives on its own sheet and is never imported.
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, 1);
        assert_eq!(&rows[0].1[..3], ["统一社会信用代码", "名称", "组织类型"]);
        assert!(rows[0].1.contains(&"注册资金（元）".to_string()));
        let entries = shezu::export::zip::read_entries(&res.bytes).unwrap();
        let part = |name: &str| {
            entries
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
                .unwrap_or_else(|| panic!("no {name}"))
        };
        let sheet = part("xl/worksheets/sheet1.xml");
        assert!(sheet.contains("<dataValidations count=\"5\">"), "{sheet}");
        // 组织类型 is column C, its list column A of 字典 (four kinds: rows 2–5).
        assert!(
            sheet.contains("sqref=\"C2:C1048576\"><formula1>&apos;字典&apos;!$A$2:$A$5</formula1>")
        );
        assert!(part("xl/workbook.xml").contains("name=\"字典\""));
        let dictionary = part("xl/worksheets/sheet2.xml");
        for value in [
            "社会团体",
            "社区社会组织",
            "养老服务",
            "正常",
            "塘沽街道",
            "大港街道",
        ] {
            assert!(dictionary.contains(value), "{value} in the dictionary");
        }

        // An area officer's template offers only the areas of their street.
        let tanggu = t
            .app_as("tanggu1", "area_officer", Some("120116001"), None)
            .await;
        let res = tanggu.get("/admin/orgs/import/template.xlsx").await;
        assert_eq!(res.status, 200);
        let entries = shezu::export::zip::read_entries(&res.bytes).unwrap();
        let dictionary = entries
            .iter()
            .find(|(n, _)| n == "xl/worksheets/sheet2.xml")
            .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
            .unwrap();
        assert!(dictionary.contains("塘沽街道") && !dictionary.contains("大港街道"));
    }
);

db_test!(
    a_good_workbook_is_imported_in_the_background,
    |t| async move {
        load_areas(t).await;
        let app = t.app_as("registrar1", "registrar", None, None).await;
        let list = app.get("/admin/orgs").await;
        assert!(list.body.contains("href=\"/admin/orgs/import\""));
        let form = app.get("/admin/orgs/import").await;
        assert_eq!(form.status, 200);
        assert!(form.body.contains("enctype=\"multipart/form-data\""));
        let before = org_count(t).await;
        let file = workbook(&[
            row(
                &code(11),
                "塘沽街道紫云园社区养老服务中心",
                "民办非企业单位",
                "120116001016",
            ),
            row(
                &code(12),
                "滨海新区馨苑助老服务中心",
                "private_non_enterprise",
                "120116001",
            ),
        ]);
        let res = upload(&app, "名录.xlsx", &file).await;
        let (location, page) = finished(&app, &res).await;
        assert!(
            page.body
                .contains("导入完成：共 2 行，新增 2，更新 0，未变 0。"),
            "{}",
            page.body
        );
        assert_eq!(org_count(t).await, before + 2);
        let status = app.get(&format!("{location}/status")).await.json();
        assert_eq!(status["phase"], "done");
        assert_eq!(status["created"], 2);
        // Another user cannot see the job.
        let other = t.app_as("registrar2", "registrar", None, None).await;
        assert_eq!(other.get(&location).await.status, 404);

        // The same file again changes nothing.
        let res = upload(&app, "名录.xlsx", &file).await;
        let (_, page) = finished(&app, &res).await;
        assert!(
            page.body.contains("新增 0，更新 0，未变 2"),
            "{}",
            page.body
        );
        assert_eq!(org_count(t).await, before + 2);
    }
);

db_test!(
    a_bad_row_writes_nothing_and_the_error_workbook_names_it,
    |t| async move {
        load_areas(t).await;
        let app = t.app_as("registrar1", "registrar", None, None).await;
        let before = org_count(t).await;
        // Sheet row 3 has no kind.
        let file = workbook(&[
            row(
                &code(11),
                "塘沽街道紫云园社区养老服务中心",
                "民办非企业单位",
                "120116001016",
            ),
            row(&code(12), "滨海新区馨苑助老服务中心", "", "120116001"),
        ]);
        let res = upload(&app, "名录.xlsx", &file).await;
        let (location, page) = finished(&app, &res).await;
        assert!(
            page.body.contains("文件有 1 处错误，未写入任何数据"),
            "{}",
            page.body
        );
        assert!(page.body.contains("第 3 行 · 组织类型 · "), "{}", page.body);
        assert_eq!(org_count(t).await, before, "nothing written");

        let book = app.get(&format!("{location}/errors.xlsx")).await;
        assert_eq!(book.status, 200, "{}", book.body);
        let rows = sheet_rows(&book.bytes);
        assert_eq!(rows[0].1[0], "错误");
        assert_eq!(rows[0].1[1], "统一社会信用代码");
        assert_eq!(rows[1].1[0], "", "the good row has no problem");
        assert!(rows[2].1[0].contains("组织类型："), "{:?}", rows[2]);
        assert_eq!(rows[2].1[2], "滨海新区馨苑助老服务中心");

        // The error workbook goes back up as it is: its 错误 column is skipped, the same problem
        // is found on the same row.
        let res = upload(&app, "名录-错误.xlsx", &book.bytes).await;
        let (_, page) = finished(&app, &res).await;
        assert!(page.body.contains("第 3 行 · 组织类型 · "), "{}", page.body);
        assert!(!page.body.contains("不认识的列"), "{}", page.body);
        assert_eq!(org_count(t).await, before);
    }
);

db_test!(wrong_types_and_zip_bombs_are_refused, |t| async move {
    load_areas(t).await;
    let app = t.app_as("registrar1", "registrar", None, None).await;
    let res = upload(&app, "a.pdf", b"%PDF-1.4\n\x00\x01\x02binary").await;
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains("只接受 CSV 或 Excel（.xlsx）文件"),
        "{}",
        res.body
    );
    let res = upload(&app, "old.xls", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest").await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("另存为 .xlsx"), "{}", res.body);
    let res = upload(&app, "empty.csv", b"").await;
    assert_eq!(res.status, 422);
    // A ZIP that is no workbook.
    let res = upload(&app, "x.xlsx", b"PK\x03\x04 not really a zip").await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("不是 Excel 工作簿"), "{}", res.body);

    // 20 MB of sheet XML that deflates to a few dozen KB.
    let mut w = XlsxWriter::new(Vec::new());
    w.start_named_sheet(
        "x",
        "",
        "",
        &[Column::new("名称", "", ColumnKind::Text)],
        &[],
    )
    .unwrap();
    let blank = " ".repeat(32_000);
    for _ in 0..640 {
        w.row(&[Cell::Text(format!("a{blank}"))]).unwrap();
    }
    let bomb = w.finish().unwrap();
    assert!(bomb.len() < 1_000_000, "{}", bomb.len());
    let before = org_count(t).await;
    let res = upload(&app, "bomb.xlsx", &bomb).await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("压缩炸弹"), "{}", res.body);
    assert_eq!(org_count(t).await, before);
});

db_test!(
    an_area_officer_imports_only_into_their_street,
    |t| async move {
        load_areas(t).await;
        let app = t
            .app_as("tanggu1", "area_officer", Some("120116001"), None)
            .await;
        let before = org_count(t).await;
        // Row 3 is in 大港街道 (by name), outside 塘沽.
        let file = workbook(&[
            row(
                &code(11),
                "塘沽街道紫云园社区养老服务中心",
                "民办非企业单位",
                "120116001016",
            ),
            row(
                &code(12),
                "大港街道某养老服务中心",
                "民办非企业单位",
                "大港街道",
            ),
        ]);
        let res = upload(&app, "名录.xlsx", &file).await;
        let (_, page) = finished(&app, &res).await;
        assert!(
            page.body
                .contains("第 3 行 · 所在区域 · 这个区域不在您的管辖范围内。"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("第 2 行"), "{}", page.body);
        assert_eq!(org_count(t).await, before, "nothing written");

        // An organization of 大港 cannot be updated (moved into 塘沽) by its code either.
        let registrar = t.app_as("registrar1", "registrar", None, None).await;
        let dagang = workbook(&[row(
            &code(13),
            "大港街道某养老服务中心",
            "民办非企业单位",
            "120116051",
        )]);
        let (_, page) = finished(&registrar, &upload(&registrar, "d.xlsx", &dagang).await).await;
        assert!(page.body.contains("新增 1"), "{}", page.body);
        let moved = workbook(&[row(
            &code(13),
            "大港街道某养老服务中心",
            "民办非企业单位",
            "120116001",
        )]);
        let (_, page) = finished(&app, &upload(&app, "m.xlsx", &moved).await).await;
        assert!(
            page.body.contains("第 2 行 · 统一社会信用代码 · "),
            "{}",
            page.body
        );

        // Within the street it goes through.
        let own = workbook(&[row(
            &code(11),
            "塘沽街道紫云园社区养老服务中心",
            "民办非企业单位",
            "120116001016",
        )]);
        let (_, page) = finished(&app, &upload(&app, "own.xlsx", &own).await).await;
        assert!(page.body.contains("新增 1"), "{}", page.body);
        assert_eq!(org_count(t).await, before + 2);
    }
);

db_test!(an_upload_needs_the_sessions_csrf_token, |t| async move {
    load_areas(t).await;
    let app = t.app_as("registrar1", "registrar", None, None).await;
    let file = workbook(&[row(
        &code(11),
        "塘沽街道紫云园社区养老服务中心",
        "民办非企业单位",
        "120116001016",
    )]);
    let mut no_token = app.clone();
    no_token.csrf = None;
    assert_eq!(upload(&no_token, "a.xlsx", &file).await.status, 403);
    let mut wrong = app.clone();
    wrong.csrf = Some("not-the-token".into());
    assert_eq!(upload(&wrong, "a.xlsx", &file).await.status, 403);
    assert_eq!(org_count(t).await, 0);
});

/// The upload routes for the scope walk (tests/scope.rs): who may edit the registry may import
/// organizations; reviewers of annual reports (area officers too) may import reports; who manages volunteers
/// (an organization's own account too) may import service records and donations. A job id that
/// is not the caller's answers 404 to anyone who may import something.
pub async fn walk(app: &TestApp, u: &str) -> Vec<&'static str> {
    use crate::scope::gate;
    let edit = matches!(u, "admin1" | "registrar1" | "tanggu1" | "dagang1");
    // Area officers review their street's reports, so they may import them too.
    let reviews = edit;
    let volunteers = matches!(u, "admin1" | "registrar1" | "org1");
    let any = edit || reviews || volunteers;
    let expect = |route: &str, method: &str, want: u16, got: &Answer| {
        assert_eq!(
            got.status.as_u16(),
            want,
            "{u} {method} {route}: {}",
            got.body
        );
    };
    let uploads: [(&'static str, &'static str, bool); 4] = [
        (
            "/admin/orgs/import",
            "/admin/orgs/import/template.xlsx",
            edit,
        ),
        (
            "/admin/imports/annual-reports",
            "/admin/imports/annual-reports/template.xlsx",
            reviews,
        ),
        (
            "/admin/imports/volunteer-services",
            "/admin/imports/volunteer-services/template.xlsx",
            volunteers,
        ),
        (
            "/admin/imports/donations",
            "/admin/imports/donations/template.xlsx",
            volunteers,
        ),
    ];
    let mut routes = vec![
        "/admin/imports",
        "/admin/imports/jobs/{job}",
        "/admin/imports/jobs/{job}/status",
        "/admin/imports/jobs/{job}/errors.xlsx",
    ];
    for (form, template, allowed) in uploads {
        expect(
            form,
            "GET",
            gate(u, allowed, "GET", 200),
            &app.get(form).await,
        );
        let res = app.get(template).await;
        expect(template, "GET", gate(u, allowed, "GET", 200), &res);
        // An upload without a file: refused before any job starts.
        let res = app.post_file(form, &[], ("other", "x.txt", b"")).await;
        expect(form, "POST", gate(u, allowed, "POST", 422), &res);
        routes.extend([form, template]);
    }
    let index = app.get("/admin/imports").await;
    expect("/admin/imports", "GET", gate(u, any, "GET", 200), &index);
    if any {
        for (form, _, allowed) in uploads {
            let listed = index.body.contains(&format!("href=\"{form}\""));
            assert_eq!(listed, allowed, "{u}: /admin/imports lists {form}");
        }
    }
    for (route, path) in [
        ("/admin/imports/jobs/{job}", "/admin/imports/jobs/0123abcd"),
        (
            "/admin/imports/jobs/{job}/status",
            "/admin/imports/jobs/0123abcd/status",
        ),
        (
            "/admin/imports/jobs/{job}/errors.xlsx",
            "/admin/imports/jobs/0123abcd/errors.xlsx",
        ),
    ] {
        expect(route, "GET", gate(u, any, "GET", 404), &app.get(path).await);
    }
    routes
}

db_test!(
    the_import_reads_a_workbook_like_a_csv_file,
    |t| async move {
        use shezu::registry::import::{ImportError, import_organizations};
        load_areas(t).await;
        let actor = shezu::audit::Actor::system("test");
        // Sheet row 3 has a credit code with a wrong check character.
        let mut bad = code(12);
        let last = if bad.ends_with('0') { '1' } else { '0' };
        bad.pop();
        bad.push(last);
        let file = workbook(&[
            row(
                &code(11),
                "塘沽街道紫云园社区养老服务中心",
                "民办非企业单位",
                "120116001016",
            ),
            row(
                &bad,
                "滨海新区馨苑助老服务中心",
                "民办非企业单位",
                "120116001",
            ),
        ]);
        let Err(ImportError::Invalid(errors)) =
            import_organizations(&t.db, &actor, Cursor::new(file), &mut |_| {}).await
        else {
            panic!("a bad workbook must be refused");
        };
        let lines: Vec<String> = errors
            .iter()
            .map(|e| e.render(shezu::i18n::Lang::Zh))
            .collect();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("第 3 行 · 统一社会信用代码 · ")),
            "{lines:?}"
        );
        assert_eq!(org_count(t).await, 0);
        let good = workbook(&[
            row(
                &code(11),
                "塘沽街道紫云园社区养老服务中心",
                "民办非企业单位",
                "120116001016",
            ),
            row(
                &code(12),
                "滨海新区馨苑助老服务中心",
                "民办非企业单位",
                "馨苑社区居委会",
            ),
        ]);
        let summary = import_organizations(&t.db, &actor, Cursor::new(good), &mut |_| {})
            .await
            .unwrap();
        assert_eq!((summary.rows, summary.created), (2, 2));
        assert_eq!(org_count(t).await, 2);
    }
);
