//! Bulk import of records that belong to organizations (批量导入业务记录): annual reports,
//! volunteer service records and donations, with the machinery the registry import uses
//! (`registry::import`): CSV or the first sheet of an Excel workbook, read as a stream twice —
//! a validation pass that reports every bad row and field before anything is written, then one
//! transaction that writes each row through the module's own store functions (so history,
//! audit and the module's rules apply as if typed in) — and a key per row, so running the same
//! file again changes nothing.
//!
//! Each kind of record is a [`RecordKind`]: its columns, how a row is checked, the key it is
//! matched on, and how it is written. Every row names its organization by USCC (or, for a
//! filed community organization without one, by its exact name); the organization must be in
//! the importer's scope.

pub mod annual_reports;
pub mod donations;
pub mod template;
pub mod volunteer_services;

use crate::audit::Actor;
use crate::auth::{Permission, Scope};
use crate::db::{Conn, Db, Sql, Timestamp};
use crate::error::{Error, FieldErrors};
use crate::i18n::{Lang, Msg};
use crate::registry::OrgKind;
use crate::registry::import::{
    ByteCount, ImportError, ImportSummary, PROGRESS_EVERY, Progress, RowError, cell,
    is_error_column, progress_at,
};
use crate::registry::records::Records;
use std::collections::HashMap;
use std::future::Future;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::time::Instant;

/// The kinds of record the import takes (besides organizations), by their command-line name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// 年度工作报告 (`annual-reports`).
    AnnualReports,
    /// 志愿服务记录 (`volunteer-services`).
    VolunteerServices,
    /// 捐赠记录 (`donations`).
    Donations,
}

impl ImportKind {
    /// Every kind, in menu order.
    pub const ALL: [ImportKind; 3] = [
        ImportKind::AnnualReports,
        ImportKind::VolunteerServices,
        ImportKind::Donations,
    ];

    /// The name on the command line and in addresses.
    pub fn slug(self) -> &'static str {
        match self {
            ImportKind::AnnualReports => "annual-reports",
            ImportKind::VolunteerServices => "volunteer-services",
            ImportKind::Donations => "donations",
        }
    }

    /// The kind named `slug`.
    pub fn from_slug(slug: &str) -> Option<ImportKind> {
        ImportKind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// Catalogue key of the kind's name (年度工作报告, …).
    pub fn title_key(self) -> &'static str {
        match self {
            ImportKind::AnnualReports => "imports.kind.annual_reports",
            ImportKind::VolunteerServices => "imports.kind.volunteer_services",
            ImportKind::Donations => "imports.kind.donations",
        }
    }

    /// The kind's columns, in template order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            ImportKind::AnnualReports => annual_reports::COLUMNS,
            ImportKind::VolunteerServices => volunteer_services::COLUMNS,
            ImportKind::Donations => donations::COLUMNS,
        }
    }

    /// What a person needs to import this kind (the importer's scope is that permission's).
    pub fn permission(self) -> Permission {
        match self {
            ImportKind::AnnualReports => Permission::ReviewAnnualReports,
            ImportKind::VolunteerServices | ImportKind::Donations => Permission::ManageVolunteers,
        }
    }

    /// The back-office page listing what an import of this kind wrote.
    pub fn records_path(self) -> &'static str {
        match self {
            ImportKind::AnnualReports => "/admin/reports",
            ImportKind::VolunteerServices => "/admin/volunteers",
            ImportKind::Donations => "/admin/donations",
        }
    }

    /// Imports `input` as this kind of record for `importer`; every write carries `at`.
    pub async fn import<R: Read + Seek>(
        self,
        db: &Db,
        importer: &Importer<'_>,
        input: R,
        progress: &mut (dyn FnMut(Progress) + Send),
        at: Timestamp,
    ) -> Result<ImportSummary, ImportError> {
        let run = Run {
            db,
            actor: importer.actor,
            scope: importer.scope,
            at,
        };
        match self {
            ImportKind::AnnualReports => {
                run.import(&annual_reports::AnnualReports, input, progress)
                    .await
            }
            ImportKind::VolunteerServices => {
                let kind = volunteer_services::VolunteerServices::new(importer.verify_hours);
                run.import(&kind, input, progress).await
            }
            ImportKind::Donations => run.import(&donations::Donations, input, progress).await,
        }
    }
}

/// Who imports.
#[derive(Debug, Clone, Copy)]
pub struct Importer<'a> {
    /// Whom the writes are audited under.
    pub actor: &'a Actor,
    /// The organizations they reach (rows naming any other are refused).
    pub scope: &'a Scope,
    /// Whether they may verify volunteer hours (rows saying 已核实 need it).
    pub verify_hours: bool,
}

/// One column of an import file.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Machine name, also the form field its errors are reported on.
    pub key: &'static str,
    /// Catalogue key of its header (the Chinese or English text is accepted as well as `key`).
    pub label: &'static str,
    /// Whether the header must have it.
    pub required: bool,
    /// The values it takes, when it is a choice, and the catalogue prefix of their labels
    /// (`prefix.value`); empty when free.
    pub choices: (&'static str, &'static [&'static str]),
}

impl Column {
    /// A free column.
    pub const fn free(key: &'static str, label: &'static str, required: bool) -> Column {
        Column {
            key,
            label,
            required,
            choices: ("", &[]),
        }
    }

    /// A column that takes one of `values` (labelled `prefix.value`).
    pub const fn choice(
        key: &'static str,
        label: &'static str,
        required: bool,
        prefix: &'static str,
        values: &'static [&'static str],
    ) -> Column {
        Column {
            key,
            label,
            required,
            choices: (prefix, values),
        }
    }

    /// Whether `header` names this column (machine name, Chinese or English header).
    fn named(&self, header: &str) -> bool {
        let h = header.trim().trim_start_matches('\u{feff}').trim();
        h == self.key || h == Lang::Zh.t(self.label) || h == Lang::En.t(self.label)
    }

    /// The label of choice `value` in `lang`.
    pub fn choice_label(&self, value: &str, lang: Lang) -> &'static str {
        lang.t(&format!("{}.{value}", self.choices.0))
    }
}

/// Catalogue key an error about a whole row is reported under (整行).
const ROW: &str = "imports.row";

/// The column naming the organization a record belongs to; every kind starts with it.
pub const ORG_COLUMN: Column = Column::free("org", "imports.column.org", true);

/// The cells of one data row, by column.
pub struct Cells<'a> {
    columns: &'static [Column],
    /// For each of `columns`, the index of its cell in the row (absent: the file lacks it).
    at: &'a [Option<usize>],
    record: &'a [String],
}

impl Cells<'_> {
    /// The cell of column `key` as typed (trimmed, the export's formula guard removed); empty
    /// when the file has no such column.
    pub fn get(&self, key: &str) -> String {
        self.columns
            .iter()
            .position(|c| c.key == key)
            .and_then(|i| self.at[i])
            .and_then(|i| self.record.get(i))
            .map(|raw| cell(raw).to_owned())
            .unwrap_or_default()
    }

    /// The machine value of choice column `key`, typed as the value, its Chinese or its English
    /// label; empty when blank. An unknown value is reported on `errors` and comes back empty.
    pub fn choice(&self, key: &'static str, errors: &mut FieldErrors) -> String {
        let value = self.get(key);
        if value.is_empty() {
            return value;
        }
        let Some(column) = self.columns.iter().find(|c| c.key == key) else {
            return value;
        };
        let (_, values) = column.choices;
        match values.iter().find(|v| {
            **v == value
                || column.choice_label(v, Lang::Zh) == value
                || column.choice_label(v, Lang::En) == value
        }) {
            Some(v) => (*v).to_owned(),
            None => {
                errors.add(key, Msg::new("error.field.choice"));
                String::new()
            }
        }
    }
}

/// A data row and the line it starts on.
struct Row<'a> {
    cells: Cells<'a>,
    line: u64,
}

/// The organization a row names, as found.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrgRef {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Kind (machine name).
    pub kind: String,
    /// Status (machine name).
    pub status: String,
    /// Its area's id.
    pub area_id: i64,
}

impl OrgRef {
    /// Its kind.
    pub fn kind(&self) -> Option<OrgKind> {
        OrgKind::parse(&self.kind)
    }
}

/// What writing one row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// A new record.
    Created,
    /// An existing record changed.
    Updated,
    /// The record already said this.
    Unchanged,
}

/// One kind of record an import file can hold.
pub trait RecordKind: Sync {
    /// A checked row, ready to write.
    type Row: Send + Sync;

    /// The columns, the organization first, in template order.
    fn columns(&self) -> &'static [Column];

    /// Checks a row of organization `org`: every bad field on `errors` (by column key), or the
    /// row. `today` is the business date (China time).
    fn parse(
        &self,
        org: &OrgRef,
        cells: &Cells<'_>,
        today: chrono::NaiveDate,
        errors: &mut FieldErrors,
    ) -> Option<Self::Row>;

    /// The key of the record `row` writes: two rows with one key in a file are a mistake.
    fn key(&self, org: &OrgRef, row: &Self::Row) -> String;

    /// Writes `row` in the import's transaction: creates the record, brings it up to date, or
    /// finds it already so. A refusal (`Error::Invalid`, `Error::Conflict`) is reported on the
    /// row; any other error ends the import.
    fn write(
        &self,
        conn: &mut Conn<'_>,
        actor: &Actor,
        at: Timestamp,
        org: &OrgRef,
        row: &Self::Row,
    ) -> impl Future<Output = Result<Written, Error>> + Send;
}

/// Who imports, what they see, and the instant every write carries.
struct Run<'a> {
    db: &'a Db,
    actor: &'a Actor,
    scope: &'a Scope,
    at: Timestamp,
}

/// Organizations looked up by the text of the organization cell; cleared when it grows past
/// this many, so memory stays bounded whatever the file holds.
const ORG_CACHE: usize = 100_000;

impl Run<'_> {
    async fn import<K: RecordKind, R: Read + Seek>(
        &self,
        kind: &K,
        mut input: R,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<ImportSummary, ImportError> {
        let total = input.seek(SeekFrom::End(0))?;
        input.seek(SeekFrom::Start(0))?;
        let bytes = ByteCount::new(total);
        let mut input = BufReader::with_capacity(1 << 16, bytes.reader(input));
        let columns = kind.columns();
        // The business date the forms check against (the demo district's is fixed).
        let today = {
            let mut conn = self.db.acquire().await?;
            crate::clock::today(&mut conn.conn()).await?
        };
        let mut orgs: HashMap<String, Result<OrgRef, Msg>> = HashMap::new();

        // Validation pass: every row checked (reading the registry, writing nothing).
        let mut errors = Vec::new();
        let (at, rows) = {
            let mut conn = self.db.acquire().await?;
            let mut records = Records::open(&mut input)?;
            let Some((_, header)) = records.next_record()? else {
                return Err(ImportError::Invalid(vec![RowError {
                    line: 1,
                    field: "import.header".into(),
                    msg: Msg::new("import.error.empty"),
                }]));
            };
            let at = header_columns(columns, &header, &mut errors);
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
                let row = Row {
                    cells: Cells {
                        columns,
                        at: &at,
                        record: &record,
                    },
                    line,
                };
                let checked = self
                    .check(&mut conn.conn(), kind, &row, today, &mut orgs, &mut errors)
                    .await?;
                if let Some((org, row)) = checked {
                    let key = crate::registry::bulk::key_hash(&[&kind.key(&org, &row)]);
                    if let Some(first) = keys.insert(key, line) {
                        errors.push(RowError {
                            line,
                            field: ROW.into(),
                            msg: Msg::new("imports.error.duplicate_row").with("line", first),
                        });
                    }
                }
                if rows.is_multiple_of(PROGRESS_EVERY) {
                    progress(progress_at(false, rows, started, &bytes));
                }
            }
            (at, rows)
        };
        if !errors.is_empty() {
            return Err(ImportError::Invalid(errors));
        }

        // Writing pass: one transaction, so a refused row, a crash or a kill leaves everything
        // as it was.
        input.seek(SeekFrom::Start(0))?;
        let mut records = Records::open(&mut input)?;
        records.next_record()?;
        let mut tx = self.db.begin().await?;
        let mut summary = ImportSummary {
            rows,
            ..ImportSummary::default()
        };
        let started = Instant::now();
        let mut done = 0u64;
        while let Some((line, record)) = records.next_record()? {
            done += 1;
            let row = Row {
                cells: Cells {
                    columns,
                    at: &at,
                    record: &record,
                },
                line,
            };
            let checked = self
                .check(&mut tx.conn(), kind, &row, today, &mut orgs, &mut errors)
                .await?;
            let Some((org, row)) = checked else {
                continue;
            };
            match kind
                .write(&mut tx.conn(), self.actor, self.at, &org, &row)
                .await
            {
                Ok(Written::Created) => summary.created += 1,
                Ok(Written::Updated) => summary.updated += 1,
                Ok(Written::Unchanged) => summary.unchanged += 1,
                Err(Error::Invalid(fields)) => row_errors(columns, line, fields, &mut errors),
                Err(Error::Conflict(msg)) => errors.push(RowError {
                    line,
                    field: ROW.into(),
                    msg,
                }),
                Err(e) => return Err(e.into()),
            }
            if done.is_multiple_of(PROGRESS_EVERY) {
                progress(progress_at(true, done, started, &bytes));
            }
        }
        if !errors.is_empty() {
            tx.rollback().await?;
            return Err(ImportError::Invalid(errors));
        }
        tx.commit().await?;
        Ok(summary)
    }

    /// One data row checked: its organization found in scope, its cells by the kind's rules.
    /// Problems go on `errors`.
    async fn check<K: RecordKind>(
        &self,
        conn: &mut Conn<'_>,
        kind: &K,
        row: &Row<'_>,
        today: chrono::NaiveDate,
        orgs: &mut HashMap<String, Result<OrgRef, Msg>>,
        errors: &mut Vec<RowError>,
    ) -> Result<Option<(OrgRef, K::Row)>, Error> {
        let org = match self.org(conn, orgs, &row.cells.get(ORG_COLUMN.key)).await? {
            Ok(org) => org,
            Err(msg) => {
                errors.push(RowError {
                    line: row.line,
                    field: ORG_COLUMN.label.into(),
                    msg,
                });
                return Ok(None);
            }
        };
        let mut fields = FieldErrors::new();
        let parsed = kind.parse(&org, &row.cells, today, &mut fields);
        row_errors(row.cells.columns, row.line, fields, errors);
        Ok(parsed.map(|parsed| (org, parsed)))
    }

    /// The organization `text` names (a USCC, or the exact name of one without a code), if it
    /// is in the importer's scope; otherwise why not.
    async fn org(
        &self,
        conn: &mut Conn<'_>,
        cache: &mut HashMap<String, Result<OrgRef, Msg>>,
        text: &str,
    ) -> Result<Result<OrgRef, Msg>, Error> {
        if let Some(hit) = cache.get(text) {
            return Ok(hit.clone());
        }
        let found = self.find_org(conn, text).await?;
        if cache.len() >= ORG_CACHE {
            cache.clear();
        }
        cache.insert(text.to_owned(), found.clone());
        Ok(found)
    }

    async fn find_org(
        &self,
        conn: &mut Conn<'_>,
        text: &str,
    ) -> Result<Result<OrgRef, Msg>, Error> {
        const SELECT: &str =
            "select o.id, o.name, o.kind, o.status, o.area_id from organizations o where ";
        if text.is_empty() {
            return Ok(Err(Msg::new("error.field.required")));
        }
        let code = text.to_ascii_uppercase();
        let looks_like_code = code.len() == 18 && code.chars().all(|c| c.is_ascii_alphanumeric());
        let found: Vec<OrgRef> = if looks_like_code {
            let mut sql = Sql::new(SELECT);
            sql.push("o.uscc = ").push_arg(code.as_str());
            sql.fetch_all(conn).await?
        } else {
            let mut sql = Sql::new(SELECT);
            sql.push("o.name = ")
                .push_arg(text)
                .push(" and o.status in ('preparing', 'active', 'abnormal') limit 2");
            sql.fetch_all(conn).await?
        };
        let org = match found.as_slice() {
            [] if looks_like_code => return Ok(Err(Msg::new("imports.error.unknown_code"))),
            [] => return Ok(Err(Msg::new("imports.error.unknown_org"))),
            [org] => org.clone(),
            _ => return Ok(Err(Msg::new("imports.error.ambiguous_org"))),
        };
        if let Scope::Limited { .. } | Scope::Public = self.scope {
            let mut sql = Sql::new("select count(*) from organizations o where o.id = ");
            sql.push_arg(org.id);
            self.scope.restrict_orgs(&mut sql, "o");
            let visible = !matches!(self.scope, Scope::Public) && sql.fetch_i64(conn).await? > 0;
            if !visible {
                return Ok(Err(Msg::new("imports.error.out_of_scope")));
            }
        }
        Ok(Ok(org))
    }
}

/// Maps the header onto `columns`: for each, the index of its cell. Unknown, repeated and
/// missing required columns are errors on line 1.
fn header_columns(
    columns: &'static [Column],
    header: &[String],
    errors: &mut Vec<RowError>,
) -> Vec<Option<usize>> {
    let mut at = vec![None; columns.len()];
    for (i, h) in header.iter().enumerate() {
        match columns.iter().position(|c| c.named(h)) {
            Some(c) if at[c].is_some() => errors.push(RowError {
                line: 1,
                field: columns[c].label.into(),
                msg: Msg::new("import.error.repeated_column"),
            }),
            Some(c) => at[c] = Some(i),
            None if is_error_column(h) || h.trim().is_empty() => {}
            None => errors.push(RowError {
                line: 1,
                field: "import.header".into(),
                msg: Msg::new("import.error.unknown_column").with("column", h.trim()),
            }),
        }
    }
    for (column, found) in columns.iter().zip(&at) {
        if column.required && found.is_none() {
            errors.push(RowError {
                line: 1,
                field: column.label.into(),
                msg: Msg::new("imports.error.missing_column"),
            });
        }
    }
    at
}

/// Adds a row's field errors, each named by its column's header.
fn row_errors(columns: &[Column], line: u64, fields: FieldErrors, errors: &mut Vec<RowError>) {
    for (field, msg) in fields.0 {
        let label = columns
            .iter()
            .find(|c| c.key == field)
            .map_or(ROW, |c| c.label);
        errors.push(RowError {
            line,
            field: label.into(),
            msg,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_names_its_organization_first_and_keys_are_unique() {
        for kind in ImportKind::ALL {
            let columns = kind.columns();
            assert_eq!(columns[0].key, ORG_COLUMN.key, "{kind:?}");
            let mut keys: Vec<_> = columns.iter().map(|c| c.key).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), columns.len(), "{kind:?} repeats a column");
            assert_eq!(ImportKind::from_slug(kind.slug()), Some(kind));
        }
    }

    #[test]
    fn headers_are_matched_in_either_language_and_missing_ones_reported() {
        let columns = donations::COLUMNS;
        let header: Vec<String> = vec![
            Lang::Zh.t(ORG_COLUMN.label).into(),
            "direction".into(),
            Lang::En.t("volunteers.field.counterpart").into(),
            "nonsense".into(),
        ];
        let mut errors = Vec::new();
        let at = header_columns(columns, &header, &mut errors);
        assert_eq!(at[0], Some(0));
        assert_eq!(at[1], Some(1));
        assert_eq!(at[2], Some(2));
        assert!(
            errors
                .iter()
                .any(|e| e.msg.key == "import.error.unknown_column")
        );
        assert!(
            errors
                .iter()
                .any(|e| e.msg.key == "imports.error.missing_column"
                    && e.field == "volunteers.field.amount_yuan")
        );
    }

    #[test]
    fn choices_take_values_and_labels() {
        let columns = donations::COLUMNS;
        let at: Vec<Option<usize>> = columns.iter().map(|_| None).collect();
        let mut at = at;
        let direction = columns.iter().position(|c| c.key == "direction").unwrap();
        at[direction] = Some(0);
        for (typed, expected) in [
            ("received", "received"),
            ("募集", "received"),
            ("捐出", "given"),
        ] {
            let record = vec![typed.to_owned()];
            let cells = Cells {
                columns,
                at: &at,
                record: &record,
            };
            let mut errors = FieldErrors::new();
            assert_eq!(cells.choice("direction", &mut errors), expected);
            assert!(errors.is_empty());
        }
        let record = vec!["sideways".to_owned()];
        let cells = Cells {
            columns,
            at: &at,
            record: &record,
        };
        let mut errors = FieldErrors::new();
        assert_eq!(cells.choice("direction", &mut errors), "");
        assert!(errors.get("direction").is_some());
    }
}
