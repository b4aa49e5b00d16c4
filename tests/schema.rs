//! The two migration folders and the schemas they produce stay the same.

use crate::common::TestDb;
use shezu::db::Backend;

#[test]
fn migration_folders_have_the_same_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let list = |dir: &str| {
        let mut names: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(list("sqlite"), list("postgres"));
    let embedded: Vec<String> = shezu::db::migration_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        list("sqlite"),
        embedded,
        "every migration file is embedded, in order"
    );
}

#[tokio::test]
async fn both_databases_have_the_same_tables_and_columns() {
    let sqlite = TestDb::new(Backend::Sqlite).await.unwrap();
    let Some(pg) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let a = shezu::db::schema_columns(&sqlite.db).await.unwrap();
    let b = shezu::db::schema_columns(&pg.db).await.unwrap();
    assert!(a.len() > 50, "schema read: {}", a.len());
    assert_eq!(a, b);
    // Migrating again applies nothing.
    assert_eq!(shezu::db::migrate(&sqlite.db).await.unwrap(), 0);
    assert_eq!(shezu::db::migrate(&pg.db).await.unwrap(), 0);
    sqlite.cleanup().await;
    pg.cleanup().await;
}
