//! `shezu backup` and `shezu restore` on both databases: a copy taken while another client keeps
//! writing restores into an empty database as a consistent snapshot — every record as it was,
//! the audit chain verifying — and bad restores change nothing.

use crate::common::TestDb;
use crate::db_test;
use crate::demo_test;
use chrono::Utc;
use shezu::db::{Db, Sql};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// Rows in every table of the application schema.
async fn table_counts(db: &Db) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for column in shezu::db::schema_columns(db).await.unwrap() {
        if counts.contains_key(&column.table_name) {
            continue;
        }
        let mut conn = db.acquire().await.unwrap();
        let n = Sql::new(&format!("select count(*) from {}", column.table_name))
            .fetch_i64(&mut conn.conn())
            .await
            .unwrap();
        counts.insert(column.table_name, n);
    }
    counts
}

/// An organization's identity and state, as compared between source and restore.
type OrgLine = (i64, String, Option<String>, String, i64);

async fn organizations(db: &Db) -> Vec<OrgLine> {
    let mut conn = db.acquire().await.unwrap();
    Sql::new("select id, name, uscc, status, version from organizations order by id")
        .fetch_all(&mut conn.conn())
        .await
        .unwrap()
}

async fn audit_hashes(db: &Db) -> Vec<(i64, String)> {
    let mut conn = db.acquire().await.unwrap();
    Sql::new("select seq, hash from audit_log order by seq")
        .fetch_all(&mut conn.conn())
        .await
        .unwrap()
}

demo_test!(
    a_backup_taken_while_writes_continue_restores_a_consistent_snapshot,
    |t| async move {
        let before = table_counts(&t.db).await;
        let dir = tempfile::tempdir().unwrap();

        // One client registers organizations without pause until the backup is written.
        let done = AtomicBool::new(false);
        let writer = async {
            let mut written = 0;
            while !done.load(Ordering::SeqCst) {
                crate::evaluation::org(
                    t,
                    &format!("滨海新区备份期间登记协会{written}"),
                    "2014-06-01",
                )
                .await;
                written += 1;
                tokio::task::yield_now().await;
            }
            written
        };
        let backup = async {
            let summary = shezu::backup::backup(&t.url, dir.path(), Utc::now())
                .await
                .unwrap();
            done.store(true, Ordering::SeqCst);
            summary
        };
        let (written, summary) = tokio::join!(writer, backup);
        assert!(written > 0, "the writer wrote while the backup ran");
        assert!(summary.path.exists() && summary.bytes > 0, "{summary:?}");
        let after = table_counts(&t.db).await;

        // Restored into a database without even a schema.
        let target = TestDb::unmigrated(t.db.backend()).await.unwrap();
        target.db.close().await;
        let restored = shezu::backup::restore(&summary.path, &target.url)
            .await
            .unwrap();
        let copy = Db::connect(&target.url).await.unwrap();

        // Tables the writer did not touch are equal; the others hold between the counts before
        // and after the writing.
        let copied = table_counts(&copy).await;
        assert_eq!(
            copied.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>()
        );
        for (table, n) in &copied {
            let (low, high) = (before[table], after[table]);
            assert!(
                (low..=high).contains(n),
                "{table}: {n} restored, {low} before the backup, {high} after"
            );
        }
        assert!(before["organizations"] < after["organizations"]);

        // A snapshot: the restored organizations and audit entries are exactly a prefix of the
        // source's, row for row.
        let source_orgs = organizations(&t.db).await;
        let copy_orgs = organizations(&copy).await;
        assert_eq!(restored.organizations, Some(copy_orgs.len() as i64));
        assert_eq!(copy_orgs[..], source_orgs[..copy_orgs.len()]);
        let source_audit = audit_hashes(&t.db).await;
        let copy_audit = audit_hashes(&copy).await;
        assert_eq!(restored.audit_entries, Some(copy_audit.len() as i64));
        assert_eq!(copy_audit[..], source_audit[..copy_audit.len()]);
        copy.close().await;

        // A second restore into the now filled database is refused and changes nothing.
        let refused = shezu::backup::restore(&summary.path, &target.url)
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("不是空库"), "{refused}");
        let copy = Db::connect(&target.url).await.unwrap();
        assert_eq!(table_counts(&copy).await, copied);
        copy.close().await;
        target.cleanup().await;
    }
);

db_test!(
    retention_keeps_the_newest_backups_and_a_damaged_one_is_not_restored,
    |t| async move {
        crate::registry::load_areas(t).await;
        let dir = tempfile::tempdir().unwrap();
        let start = Utc::now();
        let mut paths = Vec::new();
        for day in 0..4 {
            let at = start + chrono::Duration::days(day);
            paths.push(
                shezu::backup::backup(&t.url, dir.path(), at)
                    .await
                    .unwrap()
                    .path,
            );
        }
        // A database that does not exist is not backed up, nor created by trying.
        if t.db.backend() == shezu::db::Backend::Sqlite {
            let missing = dir.path().join("missing.db");
            let refused =
                shezu::backup::backup(&format!("sqlite:{}", missing.display()), dir.path(), start)
                    .await
                    .unwrap_err();
            assert!(refused.to_string().contains("不存在"), "{refused}");
            assert!(!missing.exists());
        }
        // Unrelated files in the folder are left alone.
        std::fs::write(dir.path().join("notes.txt"), "keep me").unwrap();
        let removed = shezu::backup::prune(dir.path(), 2).unwrap();
        assert_eq!(removed, paths[..2]);
        assert!(paths[2].exists() && paths[3].exists());
        assert!(dir.path().join("notes.txt").exists());

        // A backup cut short (half its bytes) fails its checks and the target stays empty.
        let damaged = &paths[3];
        let bytes = std::fs::read(damaged).unwrap();
        std::fs::write(damaged, &bytes[..bytes.len() / 2]).unwrap();
        let target = TestDb::unmigrated(t.db.backend()).await.unwrap();
        target.db.close().await;
        assert!(shezu::backup::restore(damaged, &target.url).await.is_err());
        let copy = Db::connect(&target.url).await.unwrap();
        assert!(shezu::db::schema_columns(&copy).await.unwrap().is_empty());
        copy.close().await;
        target.cleanup().await;
    }
);
