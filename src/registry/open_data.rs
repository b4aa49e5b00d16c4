//! Open data beyond the paged API: streamed CSV/JSON/XLSX export of any directory query
//! (`/api/v1/export/organizations`), the change feed that lets others mirror the registry
//! incrementally (`/api/v1/changes?since=`), and the rows both the export and the daily dump
//! write.

use super::INTERNAL_FIELDS;
use super::api::{ListQuery, ListRequest, parse_filter};
use super::store::{self, OrgFilter, OrgRow};
use crate::api::{ApiCaller, ApiResult};
use crate::app::AppState;
use crate::audit::{self, ChangeEvent};
use crate::auth::Scope;
use crate::db::{Db, Sql, Timestamp};
use crate::error::{Error, FieldErrors};
use crate::export::xlsx::XlsxWriter;
use crate::export::{Cell, Column, ColumnKind};
use crate::i18n::{Lang, Msg};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/export/organizations", get(export))
        .route("/api/v1/changes", get(changes))
}

/// Rows read per database round trip while streaming.
const BATCH: i64 = 1_000;

/// The columns of an exported organization, in file order (machine names; the data
/// dictionary gives the Chinese names).
pub const EXPORT_COLUMNS: [&str; 19] = [
    "id",
    "uscc",
    "name",
    "kind",
    "domain",
    "area_code",
    "area_name",
    "status",
    "registered_on",
    "grade",
    "grade_expires_on",
    "legal_representative",
    "address",
    "scope",
    "supervisory_unit",
    "direct_registration",
    "founded_on",
    "registered_capital_yuan",
    "brand",
];

/// The catalogue key naming an export column (for the data dictionary and the open-data page).
pub fn column_key(column: &str) -> String {
    match column {
        "id" => "dump.column.id".to_owned(),
        "area_name" => "dump.column.area_name".to_owned(),
        "scope" => "org.field.business_scope".to_owned(),
        "registered_capital_yuan" => "dump.column.registered_capital_yuan".to_owned(),
        other => format!("org.field.{other}"),
    }
}

/// One organization as exported: public fields only, codes as machine names.
#[derive(Debug, Clone, Serialize)]
pub struct ExportRow {
    id: i64,
    uscc: Option<String>,
    name: String,
    kind: String,
    domain: String,
    area_code: String,
    area_name: String,
    status: String,
    registered_on: Option<NaiveDate>,
    grade: Option<String>,
    grade_expires_on: Option<NaiveDate>,
    legal_representative: Option<String>,
    address: Option<String>,
    scope: Option<String>,
    supervisory_unit: Option<String>,
    direct_registration: bool,
    founded_on: Option<NaiveDate>,
    registered_capital_yuan: Option<String>,
    brand: bool,
}

impl ExportRow {
    /// The public export of a registry row.
    pub fn of(r: &OrgRow) -> ExportRow {
        ExportRow {
            id: r.id,
            uscc: r.uscc.clone(),
            name: r.name.clone(),
            kind: r.kind.clone(),
            domain: r.domain_code.clone(),
            area_code: r.area_code.clone(),
            area_name: r.area_name.clone(),
            status: r.status.clone(),
            registered_on: r.registered_on,
            grade: r.grade.clone(),
            grade_expires_on: r.grade_expires_on,
            legal_representative: r.legal_representative.clone(),
            address: r.address.clone(),
            scope: r.business_scope.clone(),
            supervisory_unit: r.supervisory_unit.clone(),
            direct_registration: r.direct_registration,
            founded_on: r.founded_on,
            registered_capital_yuan: r
                .registered_capital_fen
                .map(|f| format!("{}.{:02}", f / 100, f % 100)),
            brand: r.brand,
        }
    }

    /// The row's values in `EXPORT_COLUMNS` order.
    fn values(&self) -> [String; 19] {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let d = |v: &Option<NaiveDate>| v.map(|d| d.to_string()).unwrap_or_default();
        [
            self.id.to_string(),
            s(&self.uscc),
            self.name.clone(),
            self.kind.clone(),
            self.domain.clone(),
            self.area_code.clone(),
            self.area_name.clone(),
            self.status.clone(),
            d(&self.registered_on),
            s(&self.grade),
            d(&self.grade_expires_on),
            s(&self.legal_representative),
            s(&self.address),
            s(&self.scope),
            s(&self.supervisory_unit),
            self.direct_registration.to_string(),
            d(&self.founded_on),
            s(&self.registered_capital_yuan),
            self.brand.to_string(),
        ]
    }

    /// The row as one CSV line (RFC 4180, CRLF).
    pub fn csv_line(&self) -> String {
        csv_line(self.values().iter().map(String::as_str))
    }
}

/// First characters that make a spreadsheet read a cell as a formula (a tab or carriage
/// return first is skipped by some, so the formula after it would run).
pub(crate) const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One CSV line of `fields`: quoted where needed; a field that a spreadsheet would take for a
/// formula (see [`FORMULA_STARTS`]) is prefixed with `'` so that opening the file runs nothing.
pub fn csv_line<'a>(fields: impl Iterator<Item = &'a str>) -> String {
    let mut line = String::new();
    for (i, field) in fields.enumerate() {
        if i > 0 {
            line.push(',');
        }
        let guarded;
        let field = if field.starts_with(FORMULA_STARTS) && field.parse::<f64>().is_err() {
            guarded = format!("'{field}");
            guarded.as_str()
        } else {
            field
        };
        if field.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&field.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(field);
        }
    }
    line.push_str("\r\n");
    line
}

/// The header line of a CSV export (after a UTF-8 byte-order mark, which Excel needs to read
/// Chinese).
pub fn csv_header() -> String {
    format!("\u{feff}{}", csv_line(EXPORT_COLUMNS.iter().copied()))
}

/// A file format of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values.
    Csv,
    /// A JSON array.
    Json,
    /// An Excel workbook (.xlsx), written by the streaming [`XlsxWriter`].
    Xlsx,
}

/// Every organization in a scope matching a filter, in id order, one batch per call: exports
/// and dumps walk the registry with it in constant memory, without holding a cursor open.
#[derive(Debug)]
pub struct BatchWalk {
    scope: Scope,
    filter: OrgFilter,
    after: i64,
    done: bool,
}

impl BatchWalk {
    /// A walk over `filter` within `scope`.
    pub fn new(scope: Scope, filter: OrgFilter) -> BatchWalk {
        BatchWalk {
            scope,
            filter,
            after: 0,
            done: false,
        }
    }

    /// The next batch, or `None` at the end.
    pub async fn next(&mut self, db: &Db) -> Result<Option<Vec<OrgRow>>, Error> {
        if self.done {
            return Ok(None);
        }
        let rows = {
            let mut conn = db.acquire().await?;
            store::list_after(
                &mut conn.conn(),
                &self.scope,
                &self.filter,
                self.after,
                BATCH,
            )
            .await?
        };
        self.done = (rows.len() as i64) < BATCH;
        match rows.last() {
            Some(last) => {
                self.after = last.id;
                Ok(Some(rows))
            }
            None => Ok(None),
        }
    }
}

/// The bytes of one batch in `format`; `first` is true for the file's first batch.
fn encode_batch(rows: &[OrgRow], format: ExportFormat, first: bool) -> String {
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let row = ExportRow::of(r);
        match format {
            ExportFormat::Csv => out.push_str(&row.csv_line()),
            ExportFormat::Json => {
                if !(first && i == 0) {
                    out.push_str(",\n");
                }
                out.push_str(&serde_json::to_string(&row).unwrap_or_default());
            }
            // Workbooks are not text: they go through `write_xlsx`.
            ExportFormat::Xlsx => {}
        }
    }
    out
}

/// Query of the export: the directory's filters plus `format`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExportQuery {
    format: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

/// `GET /api/v1/export/organizations?format=csv|json|xlsx&…filters`: every matching
/// organization, streamed batch by batch (constant memory whatever the size).
async fn export(
    State(app): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    let format = match query.format.as_deref().unwrap_or("csv") {
        "csv" => ExportFormat::Csv,
        "json" => ExportFormat::Json,
        "xlsx" => ExportFormat::Xlsx,
        _ => return Err(Error::field("format", Msg::new("error.field.choice")).into()),
    };
    let (filter, today) = {
        let mut conn = app.read_db.acquire().await?;
        let ListRequest { filter, .. } = parse_filter(&mut conn.conn(), &query.list).await?;
        (filter, crate::clock::today(&mut conn.conn()).await?)
    };
    let db = app.read_db.clone();
    let mut walk = BatchWalk::new(caller.scope(), filter);
    if format == ExportFormat::Xlsx {
        let note = xlsx_note(&query.list, today);
        return Ok(download(format, xlsx_body(db, walk, note)));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let head = match format {
        ExportFormat::Csv => csv_header(),
        ExportFormat::Json => "[\n".to_owned(),
        // Returned above.
        ExportFormat::Xlsx => String::new(),
    };
    // A small channel between the walk and the body: a slow reader slows the walk down instead
    // of filling memory.
    tokio::spawn(async move {
        if tx.send(Ok(Bytes::from(head))).await.is_err() {
            return;
        }
        let mut first = true;
        loop {
            match walk.next(&db).await {
                Ok(Some(rows)) => {
                    let chunk = encode_batch(&rows, format, first);
                    first = false;
                    if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    e.log();
                    // Failing the body tells the client the file is incomplete.
                    let _ = tx
                        .send(Err(std::io::Error::other("export interrupted")))
                        .await;
                    return;
                }
            }
        }
        if format == ExportFormat::Json {
            let _ = tx.send(Ok(Bytes::from_static(b"\n]\n"))).await;
        }
    });
    Ok(download(format, body_of(rx)))
}

/// A response body streaming what arrives on `rx`; an error ends the body abruptly, which
/// tells the client the file is incomplete.
fn body_of(rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>) -> Body {
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// The export's response: `body` with the content type and file name of `format`.
fn download(format: ExportFormat, body: Body) -> Response {
    let (content_type, name) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "organizations.csv"),
        ExportFormat::Json => ("application/json", "organizations.json"),
        ExportFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "organizations.xlsx",
        ),
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Bytes of the workbook handed to the body at a time.
const XLSX_CHUNK: usize = 64 * 1024;

/// The columns of the Excel export: `EXPORT_COLUMNS` under their Chinese names (中文表头);
/// the id is a plain number, the registered capital money, everything else text as in the CSV.
/// (The public export has no count column.)
pub fn xlsx_columns() -> Vec<Column> {
    EXPORT_COLUMNS
        .iter()
        .map(|c| {
            let kind = match *c {
                "id" => ColumnKind::General,
                "registered_capital_yuan" => ColumnKind::Money,
                _ => ColumnKind::Text,
            };
            Column::new(Lang::Zh.t(&column_key(c)), "", kind)
        })
        .collect()
}

impl ExportRow {
    /// The row's cells under [`xlsx_columns`]: the CSV's values, numbers as numbers, blanks
    /// empty. No formula guard is needed: cells are written as inline strings, never formulas.
    fn xlsx_cells(&self) -> Vec<Cell> {
        let mut cells: Vec<Cell> = self
            .values()
            .into_iter()
            .map(|v| {
                if v.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(v)
                }
            })
            .collect();
        cells[0] = Cell::Int(self.id);
        if let Some(yuan) = self
            .registered_capital_yuan
            .as_deref()
            .and_then(|y| y.parse::<f64>().ok())
        {
            cells[17] = Cell::Number(yuan);
        }
        cells
    }
}

/// The note under the workbook's title (说明): the filters given and the export date.
fn xlsx_note(list: &ListQuery, today: NaiveDate) -> String {
    let filters = list.given_filters();
    let filters = if filters.is_empty() {
        Lang::Zh.t("export.orgs.no_filter").to_owned()
    } else {
        filters
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("，")
    };
    Lang::Zh.tf(
        "export.orgs.note",
        &[("filters", &filters), ("date", &today.to_string())],
    )
}

/// The body of an Excel export of `walk`.
///
/// The writer is blocking, so it runs in `spawn_blocking`; its output goes to the body in
/// chunks through a bounded channel. The batches come from an async task through a second
/// bounded channel rather than `Handle::block_on` inside the blocking task: that keeps every
/// database future on the runtime's own workers (on a current-thread runtime, as in tests,
/// `Handle::block_on` from another thread cannot drive IO), and both channels being bounded,
/// a slow client slows the walk down and memory stays at a few batches and chunks. A client
/// that goes away closes the body channel: the writer's next send fails, the blocking task
/// ends and drops the batch receiver, and the walk's next send fails and stops it.
fn xlsx_body(db: Db, mut walk: BatchWalk, note: String) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let (batch_tx, batch_rx) = tokio::sync::mpsc::channel::<Option<Vec<OrgRow>>>(2);
    tokio::spawn(async move {
        loop {
            let batch = match walk.next(&db).await {
                Ok(Some(rows)) => Some(rows),
                Ok(None) => return,
                Err(e) => {
                    e.log();
                    // `None` tells the writer the walk failed (the end is the channel closing).
                    None
                }
            };
            let failed = batch.is_none();
            if batch_tx.send(batch).await.is_err() || failed {
                return;
            }
        }
    });
    let failed = tx.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = write_xlsx(batch_rx, ChunkSender::new(tx), &note) {
            // Fails too when the client is gone, which is fine: nobody is left to tell.
            let _ = failed.blocking_send(Err(e));
        }
    });
    body_of(rx)
}

/// Writes the workbook of the batches arriving on `batches` onto `out`: one sheet, continued
/// on another (社会组织名录(2), …) when Excel's last row is reached.
fn write_xlsx(
    mut batches: tokio::sync::mpsc::Receiver<Option<Vec<OrgRow>>>,
    out: ChunkSender,
    note: &str,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let title = Lang::Zh.t("export.orgs.title");
    let columns = xlsx_columns();
    let mut writer = XlsxWriter::new(out);
    writer.start_sheet(title, note, &columns)?;
    while let Some(batch) = batches.blocking_recv() {
        let rows = batch.ok_or_else(|| std::io::Error::other("export interrupted"))?;
        for r in &rows {
            if writer.rows_left() == 0 {
                writer.start_sheet(title, note, &columns)?;
            }
            writer.row(&ExportRow::of(r).xlsx_cells())?;
        }
    }
    writer.finish()?.flush()
}

/// A blocking `Write` that hands its bytes to an async body in chunks of [`XLSX_CHUNK`]
/// through a bounded channel; once the receiver is gone every write fails.
struct ChunkSender {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChunkSender {
    fn new(tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>) -> ChunkSender {
        ChunkSender {
            tx,
            buf: Vec::with_capacity(XLSX_CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(XLSX_CHUNK));
        self.tx
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

impl std::io::Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= XLSX_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Query of the change feed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChangesQuery {
    since: Option<String>,
    limit: Option<String>,
}

/// One entry of the change feed.
#[derive(Debug, Serialize)]
struct Change {
    /// Position in the feed (the audit log's sequence number): ask for `since=` this next time.
    seq: i64,
    at: Timestamp,
    /// `create` or `update`.
    action: String,
    /// The organization's id at the source.
    id: i64,
    /// Its public record as this change left it (history field names, values as stored:
    /// codes, dates, fen); a mirror applying entries in order replays the source's history.
    record: BTreeMap<String, Option<String>>,
}

#[derive(Debug, Serialize)]
struct ChangePage {
    changes: Vec<Change>,
    /// The `since` to ask for next.
    next_since: i64,
    /// True when more entries follow.
    more: bool,
}

/// `GET /api/v1/changes?since=SEQ&limit=N`: registry changes after `since`, oldest first.
/// Sequence numbers are handed out under the audit log's lock inside the writing transaction,
/// so they follow commit order and a mirror never skips an entry committed late.
async fn changes(
    State(app): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ChangesQuery>,
) -> ApiResult<Json<ChangePage>> {
    let mut e = FieldErrors::new();
    let since = match query.since.as_deref().map(str::trim).unwrap_or("0") {
        "" => 0,
        v => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .unwrap_or_else(|| {
                e.add("since", Msg::new("error.field.count"));
                0
            }),
    };
    let limit = match query.limit.as_deref().map(str::trim).unwrap_or("") {
        "" => 100,
        v => match v.parse::<i64>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                e.add(
                    "limit",
                    Msg::new("error.field.range")
                        .with("min", 1)
                        .with("max", 500),
                );
                100
            }
        },
    };
    e.into_result(())?;
    let scope = caller.scope();
    let mut conn = app.read_db.acquire().await?;
    let mut c = conn.conn();
    let entries: Vec<(i64, Timestamp, String, i64)> = Sql::new(
        "select seq, at, action, entity_id from audit_log where entity = 'organization' and entity_id is not null and seq > $1 order by seq limit $2",
    )
    .arg(since)
    .arg(limit + 1)
    .fetch_all(&mut c)
    .await?;
    let more = entries.len() as i64 > limit;
    let entries = &entries[..entries.len().min(limit as usize)];
    let mut ids: Vec<i64> = entries.iter().map(|(_, _, _, id)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    // Only organizations the caller may see; each one's history is read once.
    let visible = store::find_many(&mut c, &scope, &ids).await?;
    let mut histories: HashMap<i64, Vec<ChangeEvent>> = HashMap::new();
    for row in &visible {
        histories.insert(
            row.id,
            audit::store::org_history(&mut c, row.org_id(), None).await?,
        );
    }
    let mut out = Vec::new();
    for (seq, at, action, id) in entries {
        let Some(events) = histories.get(id) else {
            continue;
        };
        let upto: Vec<ChangeEvent> = events
            .iter()
            .filter(|e| e.changed_at <= *at)
            .cloned()
            .collect();
        let mut record = audit::replay(&upto);
        record.retain(|field, _| !INTERNAL_FIELDS.contains(&field.as_str()));
        out.push(Change {
            seq: *seq,
            at: *at,
            action: action.clone(),
            id: *id,
            record,
        });
    }
    Ok(Json(ChangePage {
        next_since: entries.last().map_or(since, |(seq, ..)| *seq),
        more,
        changes: out,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_is_named_in_both_languages() {
        for column in EXPORT_COLUMNS {
            let key = column_key(column);
            for lang in [crate::i18n::Lang::Zh, crate::i18n::Lang::En] {
                assert_ne!(lang.t(&key), key, "missing catalogue entry {key}");
            }
        }
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_defuses_formulas() {
        assert_eq!(
            csv_line(["a", "b,c", "d\"e"].into_iter()),
            "a,\"b,c\",\"d\"\"e\"\r\n"
        );
        assert_eq!(
            csv_line(["=1+1", "-5", "@x"].into_iter()),
            "'=1+1,-5,'@x\r\n"
        );
        assert_eq!(
            csv_line(["\t=1+1", "\r=2"].into_iter()),
            "'\t=1+1,\"'\r=2\"\r\n"
        );
        assert!(csv_header().starts_with('\u{feff}'));
        assert_eq!(
            csv_header().trim_end().split(',').count(),
            EXPORT_COLUMNS.len()
        );
    }
}
