//! The bulk writing pass of `shezu import organizations` writes what the row-by-row pass
//! (`store::create` / `store::update`) writes: the same rows in every table (records, history,
//! search keys and tokens, audit entries and head), the same refusals, an intact audit chain.

use crate::common::TestDb;
use crate::db_test;
use crate::registry::load_areas;
use shezu::audit::Actor;
use shezu::audit::store::{ChainCheck, verify};
use shezu::db::{Backend, Sql};
use shezu::i18n::Lang;
use shezu::registry::import::{
    ImportError, ImportOptions, ImportSummary, import_organizations_with,
};
use shezu::registry::uscc::Uscc;
use std::io::Cursor;

const HEADER: &str = "uscc,name,kind,domain,area_code,status,registered_on,grade,grade_expires_on,legal_representative,address,scope,supervisory_unit,direct_registration,founded_on,registered_capital_yuan,brand";

fn code(category: char, serial: u32) -> String {
    Uscc::generate(category, "120116", serial)
        .as_str()
        .to_owned()
}

/// Every kind and optional field: graded, branded, directly registered, with capital; a social
/// group in preparation and a community organization without codes; a deregistered one sharing
/// a live one's name; 60 plain rows so that statements hold many rows.
fn file() -> String {
    let mut f = format!("{HEADER}\n");
    f.push_str(&format!(
        "{},滨海新区科技创新促进会,社会团体,科技,塘沽街道,正常,2015-03-02,4A,2027-12-31,刘洋,\"新港路 1 号\n二层\",科技交流,,是,2014-11-01,30000.50,是\n",
        code('1', 21)
    ));
    f.push_str(&format!(
        "{},滨海新区乐龄服务中心,民办非企业单位,养老服务,120116001016,活动异常,2016-06-06,,,王芳,,,滨海新区民政局,,,,\n",
        code('2', 22)
    ));
    f.push_str(&format!(
        "{},滨海新区乐龄服务中心,民办非企业单位,养老服务,120116001016,已注销,2010-01-01,,,赵四,,,滨海新区民政局,,,,\n",
        code('2', 23)
    ));
    f.push_str(
        ",滨海新区书法家协会,社会团体,文化,塘沽街道,筹备中,2024-01-01,,,陈静,,,滨海新区文联,,,,\n",
    );
    f.push_str(",紫云园社区太极拳队,社区社会组织,体育,120116001016,正常,2019-09-09,,,,,,,,,,\n");
    for i in 0..60 {
        f.push_str(&format!(
            "{},滨海新区第{i}号社区食堂,民办非企业单位,养老服务,塘沽街道,正常,2014-05-06,,,赵{i},,,滨海新区民政局,,,,\n",
            code('2', 800 + i)
        ));
    }
    f
}

async fn import(t: &TestDb, file: &str, row_by_row: bool) -> Result<ImportSummary, ImportError> {
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-04T05:06:07.123456789Z")
        .unwrap()
        .to_utc();
    import_organizations_with(
        &t.db,
        &Actor::system("test"),
        Cursor::new(file.as_bytes().to_vec()),
        &mut |_| {},
        ImportOptions { at, row_by_row },
    )
    .await
}

/// Every row of every table the import writes, each as one text line, in key order.
async fn tables(t: &TestDb) -> Vec<String> {
    let pg = t.db.backend() == Backend::Postgres;
    let fts = if pg {
        ("org_search_fts", "org_id, tokens")
    } else {
        // A contentless FTS5 table keeps no text to read back: its rows, and the tokens
        // compared through the searches of `search.rs`.
        ("org_search_fts", "rowid")
    };
    let specs = [
        (
            "organizations",
            "id, uscc, name, name_key, kind, domain_id, direct_registration, supervisory_unit, legal_representative, contact_person, contact_phone, address, area_id, founded_on, registered_on, registration_authority, registered_capital_fen, members, staff, business_scope, status, grade, grade_expires_on, brand, version, created_at, updated_at",
        ),
        (
            "org_changes",
            "id, org_id, changed_at, actor, action, reason",
        ),
        (
            "org_change_fields",
            "change_id, field, before_value, after_value",
        ),
        ("org_search", "org_id, name, former, pinyin, initials"),
        fts,
        (
            "audit_log",
            "seq, at, actor, actor_user_id, action, entity, entity_id, summary, changes, ip, prev_hash, hash",
        ),
        ("audit_head", "id, last_seq, last_hash"),
    ];
    let mut out = Vec::new();
    let mut c = t.db.acquire().await.unwrap();
    for (table, columns) in specs {
        let expr = columns
            .split(", ")
            .map(|col| format!("coalesce(cast({col} as text), '-')"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        // The key (a column or two) orders the rows.
        let order = columns.split(", ").take(2).collect::<Vec<_>>().join(", ");
        let rows: Vec<(String,)> = Sql::new(&format!(
            "select '{table}|' || {expr} from {table} order by {order}"
        ))
        .fetch_all(&mut c.conn())
        .await
        .unwrap();
        out.extend(rows.into_iter().map(|(r,)| r));
    }
    out
}

db_test!(the_bulk_pass_writes_what_the_store_writes, |t| async move {
    let Some(reference) = TestDb::new(t.db.backend()).await else {
        return;
    };
    load_areas(t).await;
    load_areas(&reference).await;
    let bulk = import(t, &file(), false).await.unwrap();
    let by_row = import(&reference, &file(), true).await.unwrap();
    assert_eq!(bulk, by_row);
    assert_eq!((bulk.created, bulk.keyed_on_name), (65, 2));
    let (got, want) = (tables(t).await, tables(&reference).await);
    assert!(got.len() > 65 * 5, "{}", got.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    assert_eq!(got.len(), want.len());
    for db in [t, &reference] {
        let mut c = db.db.acquire().await.unwrap();
        assert_eq!(verify(&mut c.conn()).await.unwrap(), ChainCheck::Intact(65));
    }

    // A second file: edits, repeats, a new row, and rows the registry refuses (a live name
    // already taken, a code another row holds): refused alike, nothing written by either.
    let edited = file().replace("刘洋", "刘海洋");
    let mut bad = edited.clone();
    bad.push_str(&format!(
        "{},滨海新区乐龄服务中心,民办非企业单位,养老服务,塘沽街道,正常,2016-06-06,,,钱七,,,滨海新区民政局,,,,\n",
        code('2', 99)
    ));
    bad.push_str(",紫云园社区太极拳队,社区社会组织,体育,120116001020,正常,2019-09-09,,,,,,,,,,\n");
    let errors = |r: Result<ImportSummary, ImportError>| match r {
        Err(ImportError::Invalid(e)) => e.iter().map(|e| e.render(Lang::Zh)).collect::<Vec<_>>(),
        other => panic!("refused expected: {other:?}"),
    };
    let bulk_errors = errors(import(t, &bad, false).await);
    assert_eq!(bulk_errors, errors(import(&reference, &bad, true).await));
    assert_eq!(bulk_errors.len(), 2, "{bulk_errors:?}");
    assert!(
        bulk_errors[0].starts_with(&format!("第 {} 行 · 名称 · ", 68)),
        "{bulk_errors:?}"
    );
    assert!(tables(t).await == got, "a refused file writes nothing");

    let mut good = edited;
    good.push_str(&format!(
        "{},滨海新区新港志愿服务中心,民办非企业单位,社会工作,塘沽街道,正常,2020-02-02,,,孙八,,,滨海新区民政局,,,,\n",
        code('2', 98)
    ));
    let bulk = import(t, &good, false).await.unwrap();
    assert_eq!(bulk, import(&reference, &good, true).await.unwrap());
    assert_eq!((bulk.created, bulk.updated, bulk.unchanged), (1, 1, 64));
    let (got, want) = (tables(t).await, tables(&reference).await);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    assert_eq!(got.len(), want.len());
    let mut c = t.db.acquire().await.unwrap();
    assert_eq!(verify(&mut c.conn()).await.unwrap(), ChainCheck::Intact(67));
    drop(c);
    reference.cleanup().await;
});
