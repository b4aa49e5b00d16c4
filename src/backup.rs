//! `shezu backup` and `shezu restore` (备份与恢复): an online, consistent copy of the database
//! while the server keeps writing, checked as it is written, kept for a number of days, and
//! restored into an empty database with the audit chain verified.
//!
//! SQLite copies with `VACUUM INTO` (one read transaction: a snapshot of the last commit, the
//! writers carry on in the WAL). PostgreSQL copies with `pg_dump --format=custom` (one
//! repeatable-read snapshot) and restores with `pg_restore --single-transaction`; both programs
//! come with the server's client package and must be of its major version or newer.
//!
//! A backup is written under a `.partial` name and renamed once complete and checked, so a
//! crash mid-way never leaves a file that looks like a backup.

use crate::db::{Backend, Db, Sql};
use crate::i18n::Lang;
use anyhow::{Context, bail};
use sqlx::sqlite::SqliteConnectOptions;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Start of every backup file's name; [`prune`] deletes only files named so.
const PREFIX: &str = "shezu-";

/// What a backup or a restore holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The file written or read.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Organizations in it (`None` for a PostgreSQL dump, which is not opened to count).
    pub organizations: Option<i64>,
    /// Audit entries whose hash chain verified (`None` as above).
    pub audit_entries: Option<i64>,
}

/// The file name of a backup taken at `at` from a database on `backend`.
pub fn file_name(backend: Backend, at: chrono::DateTime<chrono::Utc>) -> String {
    let stamp = at.format("%Y%m%d-%H%M%S");
    match backend {
        Backend::Sqlite => format!("{PREFIX}{stamp}.db"),
        Backend::Postgres => format!("{PREFIX}{stamp}.pgdump"),
    }
}

/// Writes a consistent copy of the database `url` into the folder `dir` (created if missing),
/// named by `at`, and checks it: a SQLite copy must pass `integrity_check` and its audit chain
/// must verify; a PostgreSQL dump must list its contents with `pg_restore --list`.
pub async fn backup(
    url: &str,
    dir: &Path,
    at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let backend = Backend::of_url(url);
    if backend == Backend::Sqlite {
        // Backing up must not create an empty database where there was none.
        let source = SqliteConnectOptions::from_str(url)?
            .get_filename()
            .to_owned();
        if !source.is_file() {
            bail!(
                "{}",
                Lang::Zh.tf(
                    "cli.no_database",
                    &[("path", &source.display().to_string())]
                )
            );
        }
    }
    let path = dir.join(file_name(backend, at));
    if path.exists() {
        bail!(
            "{}",
            Lang::Zh.tf(
                "backup.error.exists",
                &[("path", &path.display().to_string())]
            )
        );
    }
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let summary = match backend {
        Backend::Sqlite => copy_sqlite(url, &partial).await,
        Backend::Postgres => dump_postgres(url, &partial).await,
    };
    let summary = match summary {
        Ok(summary) => summary,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &path)?;
    Ok(Summary {
        bytes: std::fs::metadata(&path)?.len(),
        path,
        ..summary
    })
}

/// `VACUUM INTO` `into`, then the copy's checks.
async fn copy_sqlite(url: &str, into: &Path) -> anyhow::Result<Summary> {
    let db = Db::connect(url).await?;
    let quoted = into.display().to_string().replace('\'', "''");
    let copied = async {
        let mut conn = db.acquire().await?;
        Sql::new(&format!("vacuum into '{quoted}'"))
            .execute(&mut conn.conn())
            .await
    }
    .await;
    db.close().await;
    copied.context("VACUUM INTO")?;
    check_sqlite_copy(into).await
}

/// `pg_dump` into `into`, then `pg_restore --list` to see that the dump reads back.
async fn dump_postgres(url: &str, into: &Path) -> anyhow::Result<Summary> {
    let into = into.display().to_string();
    let (url, password) = without_password(url);
    run(
        "pg_dump",
        &[
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            &format!("--file={into}"),
            &url,
        ],
        password.as_deref(),
    )
    .await?;
    run("pg_restore", &["--list", &into], None).await?;
    Ok(Summary {
        path: into.into(),
        bytes: 0,
        organizations: None,
        audit_entries: None,
    })
}

/// Opens a SQLite copy read-only and checks its pages and its audit chain.
async fn check_sqlite_copy(path: &Path) -> anyhow::Result<Summary> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let db = Db::Sqlite(pool);
    let checked = async {
        let mut conn = db.acquire().await?;
        let mut c = conn.conn();
        let (integrity,): (String,) = Sql::new("pragma integrity_check").fetch_one(&mut c).await?;
        if integrity != "ok" {
            bail!(
                "{}",
                Lang::Zh.tf("backup.error.integrity", &[("detail", &integrity)])
            );
        }
        let audit_entries = verified_chain(&mut c).await?;
        let organizations = Sql::new("select count(*) from organizations")
            .fetch_i64(&mut c)
            .await?;
        Ok(Summary {
            path: path.to_owned(),
            bytes: 0,
            organizations: Some(organizations),
            audit_entries: Some(audit_entries),
        })
    }
    .await;
    db.close().await;
    checked
}

/// The number of audit entries, once their hash chain has verified.
async fn verified_chain(c: &mut crate::db::Conn<'_>) -> anyhow::Result<i64> {
    match crate::audit::store::verify(c).await? {
        crate::audit::store::ChainCheck::Intact(n) => Ok(n),
        crate::audit::store::ChainCheck::BrokenAt(seq) => bail!(
            "{}",
            Lang::Zh.tf("cli.audit_broken", &[("seq", &seq.to_string())])
        ),
    }
}

/// Deletes the backups in `dir` (files named `shezu-…`, `.db` or `.pgdump`) but the newest
/// `keep`, and returns what it deleted. Names sort by time, so the oldest go first.
pub fn prune(dir: &Path, keep: usize) -> anyhow::Result<Vec<PathBuf>> {
    let mut backups: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with(PREFIX)
                && (name.ends_with(".db") || name.ends_with(".pgdump"))
                && p.is_file()
        })
        .collect();
    backups.sort();
    let remove = backups.len().saturating_sub(keep);
    let removed: Vec<PathBuf> = backups.into_iter().take(remove).collect();
    for path in &removed {
        std::fs::remove_file(path)?;
    }
    Ok(removed)
}

/// Restores the backup `file` into the database `url`, which must be empty (no tables; a
/// SQLite file may also not exist yet), then applies any migrations newer than the backup and
/// verifies the audit chain. Refuses a backup of the other engine.
pub async fn restore(file: &Path, url: &str) -> anyhow::Result<Summary> {
    if !file.is_file() {
        bail!(
            "{}",
            Lang::Zh.tf(
                "backup.error.no_file",
                &[("path", &file.display().to_string())]
            )
        );
    }
    let backend = Backend::of_url(url);
    let is_dump = file.extension().is_some_and(|e| e == "pgdump");
    if is_dump != (backend == Backend::Postgres) {
        bail!("{}", Lang::Zh.t("backup.error.engine"));
    }
    match backend {
        Backend::Sqlite => {
            // The backup is checked before the target is touched.
            check_sqlite_copy(file).await?;
            let target = SqliteConnectOptions::from_str(url)?
                .get_filename()
                .to_owned();
            if target.exists() {
                let db = Db::connect(url).await?;
                let tables = crate::db::schema_columns(&db).await?.len();
                db.close().await;
                if tables > 0 {
                    bail!("{}", Lang::Zh.t("backup.error.not_empty"));
                }
                for suffix in ["", "-wal", "-shm"] {
                    let mut name = target.clone().into_os_string();
                    name.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(name));
                }
            }
            // Copied under another name and renamed, so the target is whole or absent.
            let mut partial = target.clone().into_os_string();
            partial.push(".partial");
            let partial = PathBuf::from(partial);
            std::fs::copy(file, &partial)?;
            std::fs::File::open(&partial)?.sync_all()?;
            std::fs::rename(&partial, &target)?;
        }
        Backend::Postgres => {
            let db = Db::connect(url).await?;
            let tables = crate::db::schema_columns(&db).await?.len();
            db.close().await;
            if tables > 0 {
                bail!("{}", Lang::Zh.t("backup.error.not_empty"));
            }
            let (bare_url, password) = without_password(url);
            run(
                "pg_restore",
                &[
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    &format!("--dbname={bare_url}"),
                    &file.display().to_string(),
                ],
                password.as_deref(),
            )
            .await?;
        }
    }
    let db = Db::connect(url).await?;
    let checked = async {
        crate::db::migrate(&db).await?;
        let mut conn = db.acquire().await?;
        let mut c = conn.conn();
        let audit_entries = verified_chain(&mut c).await?;
        let organizations = Sql::new("select count(*) from organizations")
            .fetch_i64(&mut c)
            .await?;
        anyhow::Ok(Summary {
            path: file.to_owned(),
            bytes: std::fs::metadata(file)?.len(),
            organizations: Some(organizations),
            audit_entries: Some(audit_entries),
        })
    }
    .await;
    db.close().await;
    checked
}

/// Runs one of PostgreSQL's client programs (off the async workers: a dump takes minutes); its
/// standard error becomes the error message. The password goes in the child's environment
/// (`PGPASSWORD`), which only its user can read, never on its command line, which every user of
/// the machine can see in `ps`.
async fn run(program: &'static str, args: &[&str], password: Option<&str>) -> anyhow::Result<()> {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let password = password.map(str::to_owned);
    let output = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(program);
        command.args(args);
        if let Some(password) = password {
            command.env("PGPASSWORD", password);
        }
        command.output()
    })
    .await?
    .with_context(|| Lang::Zh.tf("backup.error.program", &[("program", program)]))?;
    if !output.status.success() {
        bail!(
            "{program}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// A PostgreSQL URL without its password (from `user:password@` or a `password=` parameter),
/// and the password, percent-decoded.
fn without_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (url.to_owned(), None);
    };
    let (head, rest) = url.split_at(scheme_end);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut password = None;
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = (&authority[..at], &authority[at..]);
            match userinfo.split_once(':') {
                Some((user, secret)) => {
                    password = Some(percent_decoded(secret));
                    format!("{user}{host}")
                }
                None => authority.to_owned(),
            }
        }
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let mut kept = Vec::new();
            for pair in query.split('&') {
                match pair.strip_prefix("password=") {
                    Some(secret) => password = Some(percent_decoded(secret)),
                    None => kept.push(pair),
                }
            }
            if kept.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => tail.to_owned(),
    };
    (format!("{head}{authority}{tail}"), password)
}

/// `text` with its `%XX` escapes decoded (in a URL's user information `+` is itself).
fn percent_decoded(text: &str) -> String {
    String::from_utf8_lossy(&crate::web::percent_decoded(text.as_bytes(), false)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        for (url, bare, password) in [
            (
                "postgres://shezu:s%40cret+1@db.example:5432/shezu",
                "postgres://shezu@db.example:5432/shezu",
                Some("s@cret+1"),
            ),
            (
                "postgres://shezu@127.0.0.1/shezu?password=p%26w&sslmode=disable",
                "postgres://shezu@127.0.0.1/shezu?sslmode=disable",
                Some("p&w"),
            ),
            (
                "postgresql://u:p@h/d?password=q",
                "postgresql://u@h/d",
                Some("q"),
            ),
            (
                "postgres://postgres@127.0.0.1:5432/postgres",
                "postgres://postgres@127.0.0.1:5432/postgres",
                None,
            ),
        ] {
            let (got, secret) = without_password(url);
            assert_eq!(got, bare, "{url}");
            assert_eq!(secret.as_deref(), password, "{url}");
        }
    }
}
