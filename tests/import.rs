//! `shezu import organizations`: validation before any write, all-or-nothing, idempotent upsert
//! by USCC (name and area for filed organizations), search index and history kept, on both
//! databases; the command line once through the built binary.

use crate::common::TestDb;
use crate::db_test;
use crate::registry::load_areas;
use shezu::audit::Actor;
use shezu::auth::Scope;
use shezu::db::Sql;
use shezu::i18n::Lang;
use shezu::registry::import::{ImportError, ImportSummary, import_organizations};
use shezu::registry::store::{self, OrgFilter};
use shezu::registry::uscc::Uscc;
use shezu::web::Paging;
use std::io::Cursor;

const HEADER: &str = "统一社会信用代码,名称,组织类型,业务领域,所在区域,状态,登记（备案）日期,法定代表人（负责人）,业务主管单位,住所";

/// A valid private non-enterprise unit's code with this serial.
fn code(serial: u32) -> String {
    Uscc::generate('2', "120116", serial).as_str().to_owned()
}

/// A good file: two registered units (labels and machine codes, an area by name) and one filed
/// community organization without a code; with a BOM, CRLF, a quoted newline (so the rows
/// start on lines 2, 4 and 5) and the `'` the export puts before formula-like text.
fn good_file() -> String {
    format!(
        "\u{feff}{HEADER}\r\n\
         {},塘沽街道紫云园社区养老服务中心,民办非企业单位,养老服务,120116001016,正常,2014-05-06,张秀英,滨海新区民政局,\"紫云园小区\n3号楼\"\r\n\
         {},滨海新区馨苑助老服务中心,private_non_enterprise,elderly_care,馨苑社区居委会,active,2013-03-01,李明,滨海新区民政局,'-1层商铺\r\n\
         ,紫云园社区书画社,社区社会组织,文化,120116001016,正常,2014-08-01,,,\r\n",
        code(11),
        code(12)
    )
}

async fn import_file(t: &TestDb, file: &str) -> Result<ImportSummary, ImportError> {
    import_organizations(
        &t.db,
        &Actor::system("test"),
        Cursor::new(file.as_bytes().to_vec()),
        &mut |_| {},
    )
    .await
}

/// (organizations, history events, history fields, audit entries).
async fn counts(t: &TestDb) -> (i64, i64, i64, i64) {
    let mut c = t.db.acquire().await.unwrap();
    let n = |table: &'static str| Sql::new(&format!("select count(*) from {table}"));
    let orgs = n("organizations").fetch_i64(&mut c.conn()).await.unwrap();
    let events = n("org_changes").fetch_i64(&mut c.conn()).await.unwrap();
    let fields = n("org_change_fields")
        .fetch_i64(&mut c.conn())
        .await
        .unwrap();
    let audit = n("audit_log").fetch_i64(&mut c.conn()).await.unwrap();
    (orgs, events, fields, audit)
}

async fn search(t: &TestDb, q: &str) -> Vec<String> {
    let mut c = t.db.acquire().await.unwrap();
    let filter = OrgFilter {
        q: Some(q.to_owned()),
        ..OrgFilter::default()
    };
    let (rows, _) = store::list(
        &mut c.conn(),
        &Scope::All,
        &filter,
        Paging::new(None, None),
        store::OrgOrder::Id,
    )
    .await
    .unwrap();
    rows.into_iter().map(|r| r.name).collect()
}

db_test!(a_bad_row_imports_nothing_and_is_named, |t| async move {
    load_areas(t).await;
    // Line 4: the code's check digit is wrong; line 5: no kind.
    let mut bad = code(12);
    let last = if bad.ends_with('0') { '1' } else { '0' };
    bad.pop();
    bad.push(last);
    let file = good_file()
        .replace(&code(12), &bad)
        .replace(",社区社会组织,", ",,");
    let before = counts(t).await;
    let Err(ImportError::Invalid(errors)) = import_file(t, &file).await else {
        panic!("a bad file must be refused");
    };
    let lines: Vec<String> = errors.iter().map(|e| e.render(Lang::Zh)).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("第 4 行 · 统一社会信用代码 · ")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("第 5 行 · 组织类型 · ")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("第 2 行")), "{lines:?}");
    assert_eq!(counts(t).await, before, "nothing written");

    // A row repeated within the file is refused too.
    let mut dup = good_file();
    let second = dup.lines().nth(3).unwrap().to_owned();
    dup.push_str(&second);
    dup.push_str("\r\n");
    let Err(ImportError::Invalid(errors)) = import_file(t, &dup).await else {
        panic!("a repeated code must be refused");
    };
    assert!(
        errors.iter().any(|e| e
            .render(Lang::Zh)
            .contains("第 6 行 · 统一社会信用代码 · 与第 4 行是同一个组织")),
        "{errors:?}"
    );
    assert_eq!(counts(t).await, before, "nothing written");
});

db_test!(
    a_good_file_imports_its_rows_searchable_and_twice_changes_nothing,
    |t| async move {
        load_areas(t).await;
        let summary = import_file(t, &good_file()).await.unwrap();
        assert_eq!(
            (
                summary.rows,
                summary.created,
                summary.updated,
                summary.unchanged
            ),
            (3, 3, 0, 0)
        );
        assert_eq!(summary.keyed_on_name, 1);
        let after_first = counts(t).await;
        assert_eq!(after_first.0, 3);
        assert_eq!(after_first.1, 3, "one creation event each");
        assert_eq!(
            search(t, "紫云园社区养老").await,
            vec!["塘沽街道紫云园社区养老服务中心"]
        );
        assert_eq!(search(t, "书画").await, vec!["紫云园社区书画社"]);
        let mut c = t.db.acquire().await.unwrap();
        let uscc = Uscc::parse(&code(11)).unwrap();
        let row = store::find_by_uscc(&mut c.conn(), &Scope::All, &uscc)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.address.as_deref(), Some("紫云园小区\n3号楼"));
        assert_eq!(row.domain_code, "elderly_care");
        let row2 =
            store::find_by_uscc(&mut c.conn(), &Scope::All, &Uscc::parse(&code(12)).unwrap())
                .await
                .unwrap()
                .unwrap();
        assert_eq!(row2.area_code, "120116001020", "area given by name");
        assert_eq!(
            row2.address.as_deref(),
            Some("-1层商铺"),
            "export guard removed"
        );
        drop(c);

        let again = import_file(t, &good_file()).await.unwrap();
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
        assert_eq!(counts(t).await, after_first, "no history, no audit");

        // One edited row updates that organization only, with one history event.
        let edited = good_file().replace("张秀英", "王建国");
        let third = import_file(t, &edited).await.unwrap();
        assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 2));
        let after_edit = counts(t).await;
        assert_eq!(after_edit.0, after_first.0);
        assert_eq!(after_edit.1, after_first.1 + 1, "one history event");
        assert_eq!(after_edit.2, after_first.2 + 1, "one field changed");
        assert_eq!(after_edit.3, after_first.3 + 1, "one audit entry");
        let mut c = t.db.acquire().await.unwrap();
        let history = store::history(&mut c.conn(), &Scope::All, row.org_id())
            .await
            .unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].fields.len(), 1);
        assert_eq!(history[1].fields[0].field, "legal_representative");
    }
);

db_test!(the_command_line_imports_and_refuses, |t| async move {
    load_areas(t).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, good_file()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shezu"))
        .args(["import", "organizations", good.to_str().unwrap()])
        .args(["--database", &t.url])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("新增 3"), "{stdout}");
    assert!(stdout.contains("按“名称 + 所在区域”匹配"), "{stdout}");

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, good_file().replace(",滨海新区民政局,\"", ",,\"")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shezu"))
        .args(["import", "organizations", bad.to_str().unwrap()])
        .args(["--database", &t.url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("第 2 行 · 业务主管单位 · "), "{stderr}");
    assert!(stderr.contains("未写入任何数据"), "{stderr}");
});

db_test!(
    a_kill_in_the_middle_leaves_nothing_and_a_rerun_completes,
    |t| async move {
        load_areas(t).await;
        let rows = 5_000;
        let mut file = format!("{HEADER}\n");
        for i in 0..rows {
            file.push_str(&format!(
            "{},滨海新区第{i}号社区食堂,民办非企业单位,养老服务,塘沽街道,正常,2014-05-06,赵{i},滨海新区民政局,\n",
            Uscc::generate('2', "120116", 900_000 + i).as_str()
        ));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.csv");
        std::fs::write(&path, file).unwrap();
        let before = counts(t).await;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shezu"))
            .args(["import", "organizations", path.to_str().unwrap()])
            .args(["--database", &t.url])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the first progress line of the writing pass, then kill -9 (SIGKILL).
        let stderr = child.stderr.take().unwrap();
        let saw_writing = tokio::task::spawn_blocking(move || {
            use std::io::BufRead;
            std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .any(|l| l.starts_with("已写入"))
        })
        .await
        .unwrap();
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(saw_writing, "the writing pass started");
        assert!(!status.success(), "killed before the end");
        assert_eq!(counts(t).await, before, "a killed import leaves nothing");

        let out = std::process::Command::new(env!("CARGO_BIN_EXE_shezu"))
            .args(["import", "organizations", path.to_str().unwrap()])
            .args(["--database", &t.url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(counts(t).await.0, before.0 + i64::from(rows));
    }
);
