//! The daily full dump (每日全量数据下载): every public organization as CSV and JSON, the area
//! tree, a data dictionary and the licence, with a manifest of row counts and SHA-256 sums.
//! Written by the server once a day (China time) into `dump_dir/YYYY-MM-DD/`, first into a
//! temporary folder that is renamed into place, so a reader never sees half a dump; the last
//! `KEEP_DAYS` dumps are kept. `shezu dump` writes one on demand.

use super::open_data::{BatchWalk, EXPORT_COLUMNS, ExportRow, column_key, csv_header, csv_line};
use super::store::{self, OrgFilter};
use super::{Grade, OrgKind, OrgStatus};
use crate::areas::store as areas;
use crate::auth::Scope;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Dumps kept on disk.
pub const KEEP_DAYS: usize = 7;

/// The files of a dump, in the order the page lists them.
pub const FILES: [&str; 6] = [
    "organizations.csv",
    "organizations.json",
    "areas.csv",
    "dictionary.json",
    "LICENSE.txt",
    "manifest.json",
];

/// What a dump holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The day (China time) the dump is for.
    pub date: NaiveDate,
    /// When it was written (UTC, RFC 3339).
    pub generated_at: String,
    /// Organizations in it.
    pub organizations: i64,
    /// Areas in it.
    pub areas: i64,
    /// Each data file with its size and SHA-256.
    pub files: Vec<DumpFile>,
}

/// One file of a dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpFile {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

/// Today in China Standard Time.
pub fn china_today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// A file being written, hashed and counted as it goes.
struct HashedFile {
    out: std::io::BufWriter<std::fs::File>,
    hash: Sha256,
    bytes: u64,
    name: &'static str,
}

impl HashedFile {
    fn create(dir: &Path, name: &'static str) -> std::io::Result<HashedFile> {
        Ok(HashedFile {
            out: std::io::BufWriter::new(std::fs::File::create(dir.join(name))?),
            hash: Sha256::new(),
            bytes: 0,
            name,
        })
    }

    fn write(&mut self, text: &str) -> std::io::Result<()> {
        self.out.write_all(text.as_bytes())?;
        self.hash.update(text.as_bytes());
        self.bytes += text.len() as u64;
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<DumpFile> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        Ok(DumpFile {
            name: self.name.to_owned(),
            bytes: self.bytes,
            sha256: crate::auth::hex(&self.hash.finalize()),
        })
    }
}

fn io(e: std::io::Error) -> Error {
    Error::Other(format!("writing the open-data dump: {e}"))
}

/// The data dictionary: every column with its names in both languages, and every code list.
async fn dictionary(db: &Db) -> Result<serde_json::Value> {
    let mut conn = db.acquire().await?;
    let domains = store::list_domains(&mut conn.conn()).await?;
    let columns: Vec<serde_json::Value> = EXPORT_COLUMNS
        .iter()
        .map(|c| {
            let key = column_key(c);
            serde_json::json!({
                "column": c,
                "name_zh": Lang::Zh.t(&key),
                "name_en": Lang::En.t(&key),
            })
        })
        .collect();
    let codes = |items: Vec<(&str, &str, &str)>| -> Vec<serde_json::Value> {
        items
            .into_iter()
            .map(|(code, zh, en)| serde_json::json!({"code": code, "name_zh": zh, "name_en": en}))
            .collect()
    };
    Ok(serde_json::json!({
        "organizations.csv": {
            "encoding": "UTF-8 with byte-order mark; RFC 4180; text beginning with = + - @ is prefixed with '",
            "columns": columns,
        },
        "codes": {
            "kind": codes(OrgKind::ALL.iter().map(|k| (k.as_str(), k.label(Lang::Zh), k.label(Lang::En))).collect()),
            "status": codes(OrgStatus::ALL.iter().map(|k| (k.as_str(), k.label(Lang::Zh), k.label(Lang::En))).collect()),
            "grade": codes(Grade::ALL.iter().map(|k| (k.as_str(), k.label(Lang::Zh), k.label(Lang::En))).collect()),
            "domain": codes(domains.iter().map(|d| (d.code.as_str(), d.name_zh.as_str(), d.name_en.as_str())).collect()),
        },
        "areas.csv": {"columns": ["code", "name", "level", "parent_code"]},
    }))
}

/// Writes the dump for `date` into `root/date/` (replacing one of the same date) and prunes old
/// ones; returns its manifest.
pub async fn write_dump(db: &Db, root: &Path, date: NaiveDate) -> Result<Manifest> {
    std::fs::create_dir_all(root).map_err(io)?;
    let partial = root.join(format!(".partial-{date}-{}", std::process::id()));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(io)?;
    }
    std::fs::create_dir_all(&partial).map_err(io)?;
    let result = write_files(db, &partial, date).await;
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    let target = root.join(date.to_string());
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(io)?;
    }
    std::fs::rename(&partial, &target).map_err(io)?;
    prune(root).map_err(io)?;
    Ok(manifest)
}

async fn write_files(db: &Db, dir: &Path, date: NaiveDate) -> Result<Manifest> {
    let mut csv = HashedFile::create(dir, "organizations.csv").map_err(io)?;
    let mut json = HashedFile::create(dir, "organizations.json").map_err(io)?;
    csv.write(&csv_header()).map_err(io)?;
    json.write("[\n").map_err(io)?;
    let mut walk = BatchWalk::new(Scope::Public, OrgFilter::default());
    let mut organizations = 0i64;
    while let Some(rows) = walk.next(db).await? {
        for r in &rows {
            let row = ExportRow::of(r);
            csv.write(&row.csv_line()).map_err(io)?;
            if organizations > 0 {
                json.write(",\n").map_err(io)?;
            }
            json.write(&serde_json::to_string(&row).unwrap_or_default())
                .map_err(io)?;
            organizations += 1;
        }
    }
    json.write("\n]\n").map_err(io)?;
    let mut files = vec![csv.finish().map_err(io)?, json.finish().map_err(io)?];

    let mut area_file = HashedFile::create(dir, "areas.csv").map_err(io)?;
    area_file
        .write(&format!(
            "\u{feff}{}",
            csv_line(["code", "name", "level", "parent_code"].into_iter())
        ))
        .map_err(io)?;
    let all_areas = {
        let mut conn = db.acquire().await?;
        areas::list_all(&mut conn.conn()).await?
    };
    for a in &all_areas {
        let parent = a.parent_code.clone().unwrap_or_default();
        area_file
            .write(&csv_line(
                [
                    a.code.as_str(),
                    a.name.as_str(),
                    a.level.as_str(),
                    parent.as_str(),
                ]
                .into_iter(),
            ))
            .map_err(io)?;
    }
    files.push(area_file.finish().map_err(io)?);

    let mut dict = HashedFile::create(dir, "dictionary.json").map_err(io)?;
    let text = serde_json::to_string_pretty(&dictionary(db).await?).unwrap_or_default();
    dict.write(&text).map_err(io)?;
    files.push(dict.finish().map_err(io)?);

    let mut licence = HashedFile::create(dir, "LICENSE.txt").map_err(io)?;
    licence
        .write(&format!(
            "{}\n\n{}\n",
            Lang::Zh.t("dump.licence"),
            Lang::En.t("dump.licence")
        ))
        .map_err(io)?;
    files.push(licence.finish().map_err(io)?);

    let manifest = Manifest {
        date,
        generated_at: Utc::now().to_rfc3339(),
        organizations,
        areas: all_areas.len() as i64,
        files,
    };
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap_or_default(),
    )
    .map_err(io)?;
    Ok(manifest)
}

/// Dump folders under `root`, newest first.
pub fn dump_dates(root: &Path) -> Vec<NaiveDate> {
    let mut dates: Vec<NaiveDate> = std::fs::read_dir(root)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    NaiveDate::parse_from_str(&e.file_name().to_string_lossy(), "%Y-%m-%d").ok()
                })
                .collect()
        })
        .unwrap_or_default();
    dates.sort_unstable_by(|a, b| b.cmp(a));
    dates
}

fn prune(root: &Path) -> std::io::Result<()> {
    for old in dump_dates(root).into_iter().skip(KEEP_DAYS) {
        std::fs::remove_dir_all(root.join(old.to_string()))?;
    }
    Ok(())
}

/// The manifest of the newest dump, if any.
pub fn latest(root: &Path) -> Option<Manifest> {
    let date = dump_dates(root).into_iter().next()?;
    let text = std::fs::read(root.join(date.to_string()).join("manifest.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// The path of a dump file, only for a real date folder and a known file name (nothing from
/// the URL reaches the file system otherwise).
pub fn file_path(root: &Path, date: &str, name: &str) -> Option<PathBuf> {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let name = FILES.iter().find(|f| **f == name)?;
    let path = root.join(date.to_string()).join(name);
    path.is_file().then_some(path)
}

/// Keeps today's dump current: writes it at start if missing, then checks every ten minutes
/// whether the China date has changed. Runs for the life of the server.
pub async fn run_daily(db: Db, root: PathBuf) {
    loop {
        let today = china_today();
        if !root.join(today.to_string()).is_dir() {
            match write_dump(&db, &root, today).await {
                Ok(m) => tracing::info!(
                    date = %m.date,
                    organizations = m.organizations,
                    "open-data dump written"
                ),
                Err(e) => tracing::error!(error = %e, "open-data dump failed"),
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_dates_and_known_files_resolve() {
        let dir = tempfile_dir();
        let day = dir.join("2014-12-31");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(day.join("organizations.csv"), "x").unwrap();
        std::fs::write(dir.join("secret.txt"), "x").unwrap();
        assert!(file_path(&dir, "2014-12-31", "organizations.csv").is_some());
        assert!(file_path(&dir, "2014-12-31", "../secret.txt").is_none());
        assert!(file_path(&dir, "..", "secret.txt").is_none());
        assert!(
            file_path(&dir, "2014-12-31", "areas.csv").is_none(),
            "missing file"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("shezu-dump-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
