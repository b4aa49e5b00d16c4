//! Bulk import of organizations (批量导入) from a CSV file or an Excel workbook shaped like the registry's own export:
//! a validation pass over the whole file that reports every bad row and field, then one
//! transaction that creates or updates each organization through the normal store paths, keyed
//! by USCC (or by name and area for filed organizations without one), so re-running the same
//! file changes nothing.

use super::open_data::{EXPORT_COLUMNS, column_key};
use super::records::Records;
use super::store;
use super::{OrgForm, OrgStatus, name_key};
use crate::audit::Actor;
use crate::db::{Conn, Db, Timestamp};
use crate::error::Error;
use crate::i18n::{Lang, Msg};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Reads RFC 4180 records one at a time (quoted fields may hold commas, doubled quotes and
/// newlines), so memory stays bounded by the longest record, not the file.
pub struct CsvRecords<R> {
    input: R,
    /// Physical line the next record starts on (1-based).
    line: u64,
    buf: String,
}

impl<R: BufRead> CsvRecords<R> {
    /// A reader over `input`; a leading UTF-8 byte-order mark is skipped.
    pub fn new(input: R) -> CsvRecords<R> {
        CsvRecords {
            input,
            line: 1,
            buf: String::new(),
        }
    }

    /// The next record and the line it starts on; `None` at the end. Blank lines are skipped.
    pub fn next_record(&mut self) -> std::io::Result<Option<(u64, Vec<String>)>> {
        loop {
            let start = self.line;
            let mut fields = Vec::new();
            let mut field = String::new();
            let mut in_quotes = false;
            let mut quoted_field = false;
            let mut any = false;
            loop {
                self.buf.clear();
                let read = self.input.read_line(&mut self.buf).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::InvalidData {
                        super::records::unreadable_line(self.line)
                    } else {
                        e
                    }
                })?;
                if read == 0 {
                    if !any {
                        return Ok(None);
                    }
                    // End of file inside a record (no final newline, or an unclosed quote).
                    fields.push(std::mem::take(&mut field));
                    return Ok(Some((start, fields)));
                }
                any = true;
                self.line += 1;
                if start == 1 && self.line == 2 && self.buf.starts_with('\u{feff}') {
                    self.buf.drain(..'\u{feff}'.len_utf8());
                }
                let mut chars = self.buf.chars().peekable();
                let mut ended = false;
                while let Some(c) = chars.next() {
                    if in_quotes {
                        if c == '"' {
                            if chars.peek() == Some(&'"') {
                                chars.next();
                                field.push('"');
                            } else {
                                in_quotes = false;
                            }
                        } else {
                            field.push(c);
                        }
                    } else {
                        match c {
                            '"' if field.is_empty() && !quoted_field => {
                                in_quotes = true;
                                quoted_field = true;
                            }
                            ',' => {
                                fields.push(std::mem::take(&mut field));
                                quoted_field = false;
                            }
                            '\r' if chars.peek() == Some(&'\n') => {}
                            '\n' => {
                                ended = true;
                                break;
                            }
                            c => field.push(c),
                        }
                    }
                }
                if ended || !in_quotes && self.buf.is_empty() {
                    break;
                }
            }
            fields.push(field);
            if fields.len() == 1 && fields[0].trim().is_empty() {
                continue;
            }
            return Ok(Some((start, fields)));
        }
    }
}

/// One problem found in the file: the line, the column (catalogue key of the field) and what
/// is wrong.
#[derive(Debug, Clone)]
pub struct RowError {
    /// Physical line of the file (the header is line 1).
    pub line: u64,
    /// Catalogue key naming the column.
    pub field: String,
    /// What is wrong.
    pub msg: Msg,
}

impl RowError {
    /// `第 N 行 · 字段 · 问题` in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        lang.tf(
            "import.error_line",
            &[
                ("line", &self.line.to_string()),
                ("field", lang.t(&self.field)),
                ("problem", &self.msg.render(lang)),
            ],
        )
    }
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum ImportError {
    /// The file has bad rows; every one is listed.
    Invalid(Vec<RowError>),
    /// The file could not be read.
    Io(std::io::Error),
    /// The database failed.
    Db(Error),
}

impl From<std::io::Error> for ImportError {
    fn from(e: std::io::Error) -> Self {
        ImportError::Io(e)
    }
}

impl From<Error> for ImportError {
    fn from(e: Error) -> Self {
        ImportError::Db(e)
    }
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Db(e.into())
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Rows read (without the header).
    pub rows: u64,
    /// Organizations created.
    pub created: u64,
    /// Organizations whose record changed.
    pub updated: u64,
    /// Rows that repeated what the registry already said.
    pub unchanged: u64,
    /// Rows without a USCC, matched on name and area (filed organizations).
    pub keyed_on_name: u64,
}

/// Where an import is, for a progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// `false` while validating, `true` while writing.
    pub writing: bool,
    /// Rows done in this pass.
    pub rows: u64,
    /// Rows a second in this pass so far.
    pub rows_per_second: f64,
    /// Bytes of the file read in this pass so far.
    pub bytes_read: u64,
    /// The file's size in bytes.
    pub total_bytes: u64,
}

impl Progress {
    /// How far this pass is through the file, 0–100.
    pub fn percent(&self) -> f64 {
        if self.total_bytes == 0 {
            100.0
        } else {
            (self.bytes_read as f64 * 100.0 / self.total_bytes as f64).min(100.0)
        }
    }
}

/// Rows between two progress reports.
pub const PROGRESS_EVERY: u64 = 1_000;

/// The import's columns: export column names (machine or Chinese or English label), mapped to
/// the form field they fill; `id` and `area_name` are the export's own and are skipped.
pub(crate) fn column_of(header: &str) -> Option<&'static str> {
    let h = header.trim().trim_start_matches('\u{feff}').trim();
    EXPORT_COLUMNS.iter().copied().find(|&c| {
        let key = column_key(c);
        c == h || Lang::Zh.t(&key) == h || Lang::En.t(&key) == h
    })
}

/// A cell as typed: trimmed, with the `'` the export puts before formula-like text removed.
pub(crate) fn cell(raw: &str) -> &str {
    let t = raw.trim();
    match t.strip_prefix('\'') {
        Some(rest) if rest.starts_with(super::open_data::FORMULA_STARTS) => rest,
        _ => t,
    }
}

/// Dictionaries the labels in a file are resolved against (loaded once per import).
pub(super) struct Dictionaries {
    /// Domain code, Chinese name or English name → code.
    domains: HashMap<String, String>,
    /// Area name → codes (a name may repeat in different streets).
    area_names: HashMap<String, Vec<String>>,
    /// Known division codes.
    area_codes: HashSet<String>,
}

impl Dictionaries {
    async fn load(conn: &mut Conn<'_>) -> Result<Dictionaries, Error> {
        let mut domains = HashMap::new();
        for d in store::list_domains(conn).await? {
            domains.insert(d.name_zh.clone(), d.code.clone());
            domains.insert(d.name_en.clone(), d.code.clone());
            domains.insert(d.code.clone(), d.code);
        }
        let mut area_names: HashMap<String, Vec<String>> = HashMap::new();
        let mut area_codes = HashSet::new();
        for a in crate::areas::store::list_all(conn).await? {
            area_names.entry(a.name).or_default().push(a.code.clone());
            area_codes.insert(a.code);
        }
        Ok(Dictionaries {
            domains,
            area_names,
            area_codes,
        })
    }
}

/// One data row turned into form text over `base` (the stored record on update, blank on
/// create); label errors are added to `errors`.
fn fill_form(
    base: OrgForm,
    columns: &[Option<&'static str>],
    record: &[String],
    dict: &Dictionaries,
    line: u64,
    errors: &mut Vec<RowError>,
) -> OrgForm {
    let mut form = base;
    let mut area_name = None;
    let mut area_given = false;
    for (column, raw) in columns.iter().zip(record) {
        let Some(column) = column else { continue };
        let v = cell(raw).to_owned();
        let bad = |errors: &mut Vec<RowError>, msg: Msg| {
            errors.push(RowError {
                line,
                field: column_key(column),
                msg,
            })
        };
        match *column {
            "uscc" => form.uscc = v,
            "name" => form.name = v,
            "kind" => form.kind = v,
            "domain" => {
                form.domain = match v.as_str() {
                    "" => v,
                    _ => match dict.domains.get(&v) {
                        Some(code) => code.clone(),
                        None => {
                            bad(errors, Msg::new("error.field.choice"));
                            String::new()
                        }
                    },
                }
            }
            "area_code" => {
                area_given = !v.is_empty();
                form.area_code = v;
            }
            "area_name" => area_name = Some(v),
            "status" => form.status = v,
            "registered_on" => form.registered_on = v,
            "grade" => form.grade = v,
            "grade_expires_on" => form.grade_expires_on = v,
            "legal_representative" => form.legal_representative = v,
            "address" => form.address = v,
            "scope" => form.business_scope = v,
            "supervisory_unit" => form.supervisory_unit = v,
            "direct_registration" => form.direct_registration = Some(v),
            "founded_on" => form.founded_on = v,
            "registered_capital_yuan" => form.registered_capital_yuan = v,
            "brand" => form.brand = Some(v),
            _ => {}
        }
    }
    // 所在区域 may hold a division code or an area name; 所在区域名称 fills it when it is blank.
    let area_text = if area_given {
        Some(form.area_code.clone())
    } else {
        area_name.filter(|n| !n.is_empty())
    };
    if let Some(text) = area_text {
        if dict.area_codes.contains(&text) {
            form.area_code = text;
        } else {
            match dict.area_names.get(&text).map(Vec::as_slice) {
                Some([code]) => form.area_code = code.clone(),
                Some(_) => {
                    errors.push(RowError {
                        line,
                        field: "org.field.area_code".into(),
                        msg: Msg::new("import.error.ambiguous_area"),
                    });
                    form.area_code.clear();
                }
                None => {
                    errors.push(RowError {
                        line,
                        field: "org.field.area_code".into(),
                        msg: Msg::new("registry.error.unknown_area"),
                    });
                    form.area_code.clear();
                }
            }
        }
    }
    form.reason = Lang::Zh.t("import.reason").to_owned();
    form
}

/// The key a row is matched on: its USCC, or for a filed organization without one its name
/// (folded) and area.
fn row_key(form: &OrgForm) -> String {
    match form.uscc.trim() {
        "" => format!("{}\u{1f}{}", name_key(&form.name), form.area_code),
        code => code.to_ascii_uppercase(),
    }
}

/// Reads the header and maps its columns; unknown or repeated columns are errors.
fn header_columns(header: &[String], errors: &mut Vec<RowError>) -> Vec<Option<&'static str>> {
    let mut seen = HashSet::new();
    header
        .iter()
        .map(|h| match column_of(h) {
            // The 错误 column of an error workbook, re-uploaded after the fixes.
            None if is_error_column(h) => None,
            Some(c) if !seen.insert(c) => {
                errors.push(RowError {
                    line: 1,
                    field: column_key(c),
                    msg: Msg::new("import.error.repeated_column"),
                });
                None
            }
            Some(c) => Some(c),
            None => {
                errors.push(RowError {
                    line: 1,
                    field: "import.header".into(),
                    msg: Msg::new("import.error.unknown_column").with("column", h.trim()),
                });
                None
            }
        })
        .collect()
}

/// Whether `header` names the column of problems an error workbook adds (错误 / Errors).
pub fn is_error_column(header: &str) -> bool {
    let h = header.trim();
    h == Lang::Zh.t("import.errors_column") || h == Lang::En.t("import.errors_column")
}

/// Imports organizations from a CSV file or an Excel workbook ([`Records`]): validates every row first (nothing is written if any
/// is bad), then creates or updates each one in a single transaction. The input is read twice
/// (once per pass), so it must be seekable; neither pass keeps the rows in memory.
pub async fn import_organizations<R: Read + Seek>(
    db: &Db,
    actor: &Actor,
    input: R,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<ImportSummary, ImportError> {
    import_organizations_with(db, actor, input, progress, ImportOptions::default()).await
}

/// How an import writes (tests and benchmarks choose; everyone else takes the default).
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// The instant every write carries (default: now).
    pub at: Timestamp,
    /// Write row by row through `store::create` / `store::update` (the reference the bulk pass
    /// is compared with) instead of in bulk.
    pub row_by_row: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            at: chrono::Utc::now(),
            row_by_row: false,
        }
    }
}

/// [`import_organizations`] with explicit options.
pub async fn import_organizations_with<R: Read + Seek>(
    db: &Db,
    actor: &Actor,
    mut input: R,
    progress: &mut (dyn FnMut(Progress) + Send),
    options: ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let total = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(0))?;
    let bytes = ByteCount::new(total);
    let mut input = BufReader::with_capacity(1 << 16, bytes.reader(input));
    let dict = {
        let mut conn = db.acquire().await?;
        Dictionaries::load(&mut conn.conn()).await?
    };

    // Validation pass: pure checks of every row and duplicates within the file.
    let mut errors = Vec::new();
    let (columns, rows) = {
        let mut records = Records::open(&mut input)?;
        let Some((_, header)) = records.next_record()? else {
            return Err(ImportError::Invalid(vec![RowError {
                line: 1,
                field: "import.header".into(),
                msg: Msg::new("import.error.empty"),
            }]));
        };
        let columns = header_columns(&header, &mut errors);
        // One 128-bit key per row (not its text) to find repeats within the file.
        let mut keys: HashMap<u128, u64> = HashMap::new();
        let started = Instant::now();
        let mut rows = 0u64;
        while let Some((line, record)) = records.next_record()? {
            rows += 1;
            if record.len() != header.len() {
                errors.push(RowError {
                    line,
                    field: "import.header".into(),
                    msg: Msg::new("import.error.field_count")
                        .with("found", record.len())
                        .with("expected", header.len()),
                });
                continue;
            }
            let form = fill_form(
                OrgForm::default(),
                &columns,
                &record,
                &dict,
                line,
                &mut errors,
            );
            match form.parse() {
                Err(fields) => {
                    for (field, msg) in fields.0 {
                        errors.push(RowError {
                            line,
                            field: form_field_key(field),
                            msg,
                        });
                    }
                }
                // A code generated here would differ on every run, so a registered organization
                // must bring its own to be matched again; only one in preparation has none yet.
                Ok(d)
                    if d.uscc.is_none()
                        && d.kind.is_registered()
                        && d.status != OrgStatus::Preparing =>
                {
                    errors.push(RowError {
                        line,
                        field: "org.field.uscc".into(),
                        msg: Msg::new("import.error.uscc_required"),
                    });
                }
                Ok(_) => {}
            }
            if errors.last().is_some_and(|e| e.line == line) {
                // Already reported; a duplicate check on a broken row would only add noise.
            } else if let Some(first) = keys.insert(super::bulk::key_hash(&[&row_key(&form)]), line)
            {
                let field = if form.uscc.trim().is_empty() {
                    "org.field.name"
                } else {
                    "org.field.uscc"
                };
                errors.push(RowError {
                    line,
                    field: field.into(),
                    msg: Msg::new("import.error.duplicate_row").with("line", first),
                });
            }
            if rows.is_multiple_of(PROGRESS_EVERY) {
                progress(progress_at(false, rows, started, &bytes));
            }
        }
        (columns, rows)
    };
    if !errors.is_empty() {
        return Err(ImportError::Invalid(errors));
    }

    // Commit pass: one transaction, so a crash or any refused row leaves the registry as it was.
    input.seek(SeekFrom::Start(0))?;
    let mut records = Records::open(&mut input)?;
    records.next_record()?;
    let pass = WritePass {
        columns: &columns,
        dict: &dict,
        actor,
        at: options.at,
        started: Instant::now(),
        bytes: &bytes,
        rows,
    };
    let (summary, errors) = if options.row_by_row {
        super::import_write::row_by_row(db, &pass, &mut records, progress).await?
    } else {
        super::import_write::bulk(db, &pass, &mut records, progress).await?
    };
    if !errors.is_empty() {
        return Err(ImportError::Invalid(errors));
    }
    Ok(summary)
}

/// What both writing passes share.
pub(super) struct WritePass<'a> {
    /// The form field of each column.
    pub(super) columns: &'a [Option<&'static str>],
    /// The dictionaries labels resolve against.
    pub(super) dict: &'a Dictionaries,
    /// Who imports.
    pub(super) actor: &'a Actor,
    /// The instant every write of the import carries.
    pub(super) at: Timestamp,
    /// When the pass started.
    pub(super) started: Instant,
    /// Bytes of the file read so far, and its size.
    pub(super) bytes: &'a ByteCount,
    /// Data rows in the file (counted by the validation pass).
    pub(super) rows: u64,
}

impl WritePass<'_> {
    /// A row as form text over `base`.
    pub(super) fn form(
        &self,
        base: OrgForm,
        record: &[String],
        line: u64,
        errors: &mut Vec<RowError>,
    ) -> OrgForm {
        fill_form(base, self.columns, record, self.dict, line, errors)
    }

    /// Where the writing pass is after `rows` rows.
    pub(super) fn progress(&self, rows: u64) -> Progress {
        progress_at(true, rows, self.started, self.bytes)
    }
}

/// Adds what a store write refused to the row errors (checks against the registry: duplicate
/// names, codes, references), so every row is reported and nothing is committed.
pub(super) fn refused(
    result: Result<(), Error>,
    line: u64,
    errors: &mut Vec<RowError>,
) -> Result<(), ImportError> {
    match result {
        Ok(()) => Ok(()),
        Err(Error::Invalid(fields)) => {
            for (field, msg) in fields.0 {
                errors.push(RowError {
                    line,
                    field: form_field_key(field),
                    msg,
                });
            }
            Ok(())
        }
        Err(Error::Conflict(msg)) => {
            errors.push(RowError {
                line,
                field: "org.field.name".into(),
                msg,
            });
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Where a pass is after `rows` rows, for a progress report.
pub(crate) fn progress_at(
    writing: bool,
    rows: u64,
    started: Instant,
    bytes: &ByteCount,
) -> Progress {
    Progress {
        writing,
        rows,
        rows_per_second: rows as f64 / started.elapsed().as_secs_f64().max(1e-9),
        bytes_read: bytes.read.load(Ordering::Relaxed),
        total_bytes: bytes.total,
    }
}

/// Bytes of the input read so far (shared with the reader) and its size, for the percentage.
pub(crate) struct ByteCount {
    read: Arc<AtomicU64>,
    total: u64,
}

impl ByteCount {
    /// Nothing read yet of an input of `total` bytes.
    pub(crate) fn new(total: u64) -> ByteCount {
        ByteCount {
            read: Arc::new(AtomicU64::new(0)),
            total,
        }
    }

    /// `input`, counting into this count as it is read.
    pub(crate) fn reader<R>(&self, input: R) -> Counted<R> {
        Counted {
            inner: input,
            read: self.read.clone(),
        }
    }
}

/// A reader that counts what it hands out; a seek moves the count too (each pass rereads).
pub(crate) struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counted<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let at = self.inner.seek(pos)?;
        self.read.store(at, Ordering::Relaxed);
        Ok(at)
    }
}

/// The catalogue key naming a form field, for error lines.
fn form_field_key(field: &str) -> String {
    match field {
        "business_scope" => "org.field.business_scope".into(),
        "registered_capital_yuan" => "dump.column.registered_capital_yuan".into(),
        f => format!("org.field.{f}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Vec<(u64, Vec<String>)> {
        let mut r = CsvRecords::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            out.push(rec);
        }
        out
    }

    #[test]
    fn reads_quotes_newlines_and_bom() {
        let got = records("\u{feff}a,b\r\n\"x, \"\"y\"\"\",\"two\nlines\"\r\n\nlast,\n");
        assert_eq!(got[0], (1, vec!["a".into(), "b".into()]));
        assert_eq!(got[1], (2, vec!["x, \"y\"".into(), "two\nlines".into()]));
        assert_eq!(got[2], (5, vec!["last".into(), "".into()]));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn export_guard_is_removed_and_labels_name_columns() {
        assert_eq!(cell("'=SUM(A1)"), "=SUM(A1)");
        assert_eq!(cell("'quoted"), "'quoted");
        assert_eq!(column_of("名称"), Some("name"));
        assert_eq!(column_of("uscc"), Some("uscc"));
        assert_eq!(column_of("统一社会信用代码"), Some("uscc"));
        assert_eq!(column_of("nonsense"), None);
    }
}
