//! Exact totals and facet counts without scanning the database (SPEC §5.4): the facet values
//! of every organization (kind, domain, area, status, grade) held in memory as columns, counted
//! in one pass — a record that fails exactly one filter still counts towards that filter's
//! facet. A GROUP BY over a million rows costs 150–200 ms per facet; a pass over the columns
//! costs a few milliseconds.
//!
//! The columns follow the registry through the audit log: before each use, one primary-key
//! lookup of the newest sequence number tells whether anything changed; if it did, only the
//! organizations named by the new entries are re-read. Sequence numbers are handed out under
//! the audit log's lock inside the writing transaction, so every number up to the newest seen
//! is committed and nothing is skipped. Each app server keeps its own copy, so several servers
//! behind a load balancer agree with the database, not with each other's memory. The index
//! serves the district-wide scopes (the public, district staff); narrower scopes count in SQL.
//! With `--read-database` the public pages refresh it from a streaming replica and the staff
//! pages from the primary: it keeps the newest state either has shown it, never an older one.

use super::search::{RELEVANCE_CATEGORY, SearchMatches};
use super::store::{OrgFilter, OrgOrder};
use super::{Grade, OrgKind, OrgStatus};
use crate::areas::AreaId;
use crate::db::{Conn, Sql};
use crate::error::Result;
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

/// "No value" in a column (an organization without a grade).
const NONE: u16 = u16::MAX;

/// The facets the index counts.
pub const FACETS: [&str; 5] = ["kind", "domain", "area", "status", "grade"];

/// Area tree as indexes: each area's chain of ancestors from the root to itself.
#[derive(Debug, Default, Clone)]
struct AreaTable {
    index_of: HashMap<i64, u32>,
    code: Vec<String>,
    /// Root first, the area itself last.
    chain: Vec<Vec<u32>>,
}

/// The columns, one entry per organization.
#[derive(Debug, Default)]
struct Columns {
    /// The newest audit sequence number applied.
    seq: i64,
    /// Row of each organization id (`u32::MAX`: none); ids are dense, so a vector beats a hash
    /// map when tens of thousands of search matches are looked up per request.
    row_by_id: Vec<u32>,
    /// Each row's organization id.
    id: Vec<i64>,
    /// Rows in id order (rows are appended as changes arrive, which is not always id order
    /// when two writers commit out of id order).
    by_id: Vec<u32>,
    /// Registration date as days from the common era (`i32::MIN`: none).
    registered: Vec<i32>,
    /// Rows newest registration first (then highest id), kept sorted as changes arrive.
    by_newest: Vec<u32>,
    /// Full pinyin of the name (as in `org_search`), for pinyin order without a database sort.
    /// (A search's relevance comes with its matches: see `search::SearchMatches`.)
    pinyin: TextColumn,
    /// Rows by pinyin (then id), kept sorted as changes arrive.
    by_pinyin: Vec<u32>,
    /// The rows located in each area (by area index), so that an area filter visits only its
    /// subtree.
    rows_in_area: Vec<Vec<u32>>,
    /// False while a build appends rows unsorted; `build` sorts once at the end.
    building: bool,
    kind: Vec<u16>,
    domain: Vec<u16>,
    area: Vec<u32>,
    status: Vec<u16>,
    grade: Vec<u16>,
    areas: AreaTable,
    domain_index: HashMap<i64, u16>,
    domain_codes: Vec<String>,
}

/// One text per row, all in one buffer: a million texts cost their bytes plus eight bytes
/// each, not a heap allocation (and its header) apiece.
#[derive(Debug, Default)]
struct TextColumn {
    bytes: String,
    /// Start and length of each row's text in `bytes`.
    spans: Vec<(u32, u32)>,
}

impl TextColumn {
    /// The text of row `i`.
    fn get(&self, i: usize) -> &str {
        let (start, len) = self.spans[i];
        &self.bytes[start as usize..(start + len) as usize]
    }

    /// Appends `text` to the buffer and returns its span.
    fn store(&mut self, text: &str) -> (u32, u32) {
        // Offsets are u32: the buffer would pass 4 GB only at tens of millions of rows, far
        // beyond one server's memory; saturate rather than wrap if it ever does.
        let start = u32::try_from(self.bytes.len()).unwrap_or(u32::MAX);
        self.bytes.push_str(text);
        (start, u32::try_from(text.len()).unwrap_or(0))
    }

    /// Adds row text at the end.
    fn push(&mut self, text: &str) {
        let span = self.store(text);
        self.spans.push(span);
    }

    /// Replaces row `i`'s text. An unchanged text stays in place; a changed one is appended
    /// (the old bytes stay until the next rebuild, a few bytes per edit).
    fn set(&mut self, i: usize, text: &str) {
        if self.get(i) != text {
            self.spans[i] = self.store(text);
        }
    }
}

/// The in-memory facet index of one app server.
#[derive(Debug, Default)]
pub struct FacetIndex {
    columns: RwLock<Option<Columns>>,
    /// One refresher at a time; readers never wait for the database.
    refreshing: tokio::sync::Mutex<()>,
    /// Answers already computed at the current sequence number (popular searches and the
    /// landing page), dropped as soon as anything changes.
    answers: std::sync::Mutex<Answers>,
}

/// Remembered answers, valid for one sequence number.
#[derive(Debug, Default)]
struct Answers {
    seq: i64,
    counts: HashMap<String, Counts>,
    matches: HashMap<String, std::sync::Arc<SearchMatches>>,
    /// Ids in the order a narrowed page asked for.
    orders: HashMap<String, std::sync::Arc<Vec<i64>>>,
    /// Ids held in `matches` and `orders` together.
    ids_held: usize,
}

impl Answers {
    /// Makes room for a list of `len` ids: forgets every list when there are already
    /// [`MAX_ANSWERS`] of one kind or when the ids held would pass [`MAX_REMEMBERED_IDS`]
    /// (searches matching hundreds of thousands of organizations would otherwise pin
    /// gigabytes).
    fn make_room(&mut self, entries: usize, len: usize) {
        if entries >= MAX_ANSWERS || self.ids_held + len > MAX_REMEMBERED_IDS {
            self.matches.clear();
            self.orders.clear();
            self.ids_held = 0;
        }
        self.ids_held += len;
    }
}

/// Answers kept per kind before the memory is cleared.
const MAX_ANSWERS: usize = 256;

/// Ids kept in remembered search matches and orders together (32 MB of ids).
const MAX_REMEMBERED_IDS: usize = 4_000_000;

/// Exact counts: the total under every filter, and each facet under the other filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counts {
    /// Organizations matching every filter.
    pub total: i64,
    /// Facet → value (code) → count.
    pub facets: BTreeMap<&'static str, BTreeMap<String, i64>>,
}

fn position<T: PartialEq>(all: &[T], value: &T) -> u16 {
    all.iter()
        .position(|v| v == value)
        .map_or(NONE, |p| p as u16)
}

/// What putting a row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Put {
    /// Nothing: the row names an area or domain the columns do not know.
    Unknown,
    /// Values overwritten where they stand (each order unchanged).
    InPlace,
    /// Added, or moved in an order or an area's list (a pass over that order's rows).
    Moved,
}

#[derive(sqlx::FromRow)]
struct FacetRow {
    id: i64,
    kind: String,
    domain_id: i64,
    area_id: i64,
    status: String,
    grade: Option<String>,
    registered_on: Option<chrono::NaiveDate>,
    pinyin: Option<String>,
}

impl Columns {
    /// Appends or overwrites one organization: [`Put::Unknown`] when it refers to an area or
    /// domain the tables do not know (the caller then rebuilds everything).
    fn put(&mut self, r: &FacetRow) -> Put {
        let (Some(&area), Some(&domain)) = (
            self.areas.index_of.get(&r.area_id),
            self.domain_index.get(&r.domain_id),
        ) else {
            return Put::Unknown;
        };
        let kind = OrgKind::parse(&r.kind).map_or(NONE, |k| position(OrgKind::ALL, &k));
        let status = OrgStatus::parse(&r.status).map_or(NONE, |s| position(OrgStatus::ALL, &s));
        let grade = r
            .grade
            .as_deref()
            .and_then(Grade::parse)
            .map_or(NONE, |g| position(Grade::ALL, &g));
        let registered = r
            .registered_on
            .map_or(i32::MIN, |d| chrono::Datelike::num_days_from_ce(&d));
        let pinyin = r.pinyin.as_deref().unwrap_or_default();
        match self.row(r.id) {
            Some(i) => {
                let moved = self.registered[i as usize] != registered
                    || self.pinyin.get(i as usize) != pinyin
                    || self.area[i as usize] != area;
                if self.registered[i as usize] != registered {
                    self.by_newest.retain(|&p| p != i);
                    self.registered[i as usize] = registered;
                    self.insert_newest(i);
                }
                if self.pinyin.get(i as usize) != pinyin {
                    self.by_pinyin.retain(|&p| p != i);
                    self.pinyin.set(i as usize, pinyin);
                    self.insert_pinyin(i);
                }
                if self.area[i as usize] != area {
                    self.rows_in_area[self.area[i as usize] as usize].retain(|&p| p != i);
                    self.rows_in_area[area as usize].push(i);
                }
                let i = i as usize;
                self.kind[i] = kind;
                self.domain[i] = domain;
                self.area[i] = area;
                self.status[i] = status;
                self.grade[i] = grade;
                if moved { Put::Moved } else { Put::InPlace }
            }
            None => {
                let row = self.kind.len() as u32;
                let slot = usize::try_from(r.id).unwrap_or(0);
                if self.row_by_id.len() <= slot {
                    self.row_by_id.resize(slot + 1, u32::MAX);
                }
                self.row_by_id[slot] = row;
                match self.by_id.last().map(|&p| self.id[p as usize]) {
                    Some(last) if last > r.id => {
                        let at = self.by_id.partition_point(|&p| self.id[p as usize] < r.id);
                        self.by_id.insert(at, row);
                    }
                    _ => self.by_id.push(row),
                }
                self.id.push(r.id);
                self.kind.push(kind);
                self.domain.push(domain);
                self.area.push(area);
                self.status.push(status);
                self.grade.push(grade);
                self.registered.push(registered);
                self.rows_in_area[area as usize].push(row);
                self.pinyin.push(pinyin);
                if self.building {
                    self.by_newest.push(row);
                    self.by_pinyin.push(row);
                } else {
                    self.insert_newest(row);
                    self.insert_pinyin(row);
                }
                Put::Moved
            }
        }
    }

    /// The sort key of the newest-first order (smaller first).
    fn newest_key(&self, row: u32) -> (std::cmp::Reverse<i32>, std::cmp::Reverse<i64>) {
        (
            std::cmp::Reverse(self.registered[row as usize]),
            std::cmp::Reverse(self.id[row as usize]),
        )
    }

    /// The row of organization `id`, if it has one.
    fn row(&self, id: i64) -> Option<u32> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.row_by_id.get(i).copied())
            .filter(|r| *r != u32::MAX)
    }

    /// The rows in the subtree of area index `area`, or `None` for no area filter.
    fn subtree_rows(&self, area: Option<u32>) -> Option<Vec<u32>> {
        let area = area?;
        Some(
            self.areas
                .chain
                .iter()
                .enumerate()
                .filter(|(_, chain)| chain.contains(&area))
                .flat_map(|(a, _)| self.rows_in_area[a].iter().copied())
                .collect(),
        )
    }

    /// The sort key of pinyin order.
    fn pinyin_key(&self, row: u32) -> (&str, i64) {
        (self.pinyin.get(row as usize), self.id[row as usize])
    }

    fn insert_pinyin(&mut self, row: u32) {
        let at = self
            .by_pinyin
            .partition_point(|&p| self.pinyin_key(p) < self.pinyin_key(row));
        self.by_pinyin.insert(at, row);
    }

    /// Gives back the spare capacity the vectors grew while appending.
    fn shrink_to_fit(&mut self) {
        self.row_by_id.shrink_to_fit();
        self.id.shrink_to_fit();
        self.by_id.shrink_to_fit();
        self.registered.shrink_to_fit();
        self.by_newest.shrink_to_fit();
        self.by_pinyin.shrink_to_fit();
        self.pinyin.bytes.shrink_to_fit();
        self.pinyin.spans.shrink_to_fit();
        for rows in &mut self.rows_in_area {
            rows.shrink_to_fit();
        }
        self.kind.shrink_to_fit();
        self.domain.shrink_to_fit();
        self.area.shrink_to_fit();
        self.status.shrink_to_fit();
        self.grade.shrink_to_fit();
    }

    fn insert_newest(&mut self, row: u32) {
        let key = self.newest_key(row);
        let at = self
            .by_newest
            .partition_point(|&p| self.newest_key(p) < key);
        self.by_newest.insert(at, row);
    }
}

/// Filter bits: which filters a row fails.
const KIND: u8 = 1;
const DOMAIN: u8 = 2;
const AREA: u8 = 4;
const STATUS: u8 = 8;
const GRADE: u8 = 16;

/// A filter turned into column values (NONE / MAX: no such value, so nothing matches).
struct Matcher {
    kind: Option<u16>,
    domain: Option<u16>,
    area: Option<u32>,
    status: Option<u16>,
    grade: Option<u16>,
}

impl Matcher {
    fn new(c: &Columns, filter: &OrgFilter) -> Matcher {
        Matcher {
            kind: filter.kind.map(|k| position(OrgKind::ALL, &k)),
            domain: filter.domain.as_ref().map(|d| position(&c.domain_codes, d)),
            area: filter
                .area
                .map(|a| c.areas.index_of.get(&a.0).copied().unwrap_or(u32::MAX)),
            status: filter.status.map(|s| position(OrgStatus::ALL, &s)),
            grade: filter.grade.map(|g| position(Grade::ALL, &g)),
        }
    }

    /// The filters row `i` fails, as bits (0: it matches).
    fn failed(&self, c: &Columns, i: usize) -> u8 {
        let mut failed = 0u8;
        if self.kind.is_some_and(|w| c.kind[i] != w) {
            failed |= KIND;
        }
        if self.domain.is_some_and(|w| c.domain[i] != w) {
            failed |= DOMAIN;
        }
        if let Some(w) = self.area
            && !c.areas.chain[c.area[i] as usize].contains(&w)
        {
            failed |= AREA;
        }
        if self.status.is_some_and(|w| c.status[i] != w) {
            failed |= STATUS;
        }
        if self.grade.is_some_and(|w| c.grade[i] != w) {
            failed |= GRADE;
        }
        failed
    }
}

/// The columns' select list.
const FACET_SELECT: &str = "select o.id, o.kind, o.domain_id, o.area_id, o.status, o.grade, o.registered_on, s.pinyin from organizations o left join org_search s on s.org_id = o.id";

/// Organizations read per statement while building.
const BUILD_SLICE: usize = 20_000;

/// Rows a resync may move in the orders before it gives up for a build from scratch.
const RESYNC_MAX_MOVES: usize = 10_000;

/// The next [`BUILD_SLICE`] organizations after id `after`, in id order.
async fn slice_after(conn: &mut Conn<'_>, after: i64) -> Result<Vec<FacetRow>> {
    Ok(Sql::new(&format!(
        "{FACET_SELECT} where o.id > $1 order by o.id limit {BUILD_SLICE}"
    ))
    .arg(after)
    .fetch_all(conn)
    .await?)
}

async fn build(conn: &mut Conn<'_>) -> Result<Columns> {
    // The sequence number first: whatever is committed after it is picked up next time.
    let seq = crate::audit::store::newest_seq(conn).await?;
    let areas: Vec<(i64, String, Option<i64>, i64)> =
        Sql::new("select id, code, parent_id, depth from areas order by depth, id")
            .fetch_all(conn)
            .await?;
    let mut table = AreaTable::default();
    for (id, code, parent, _) in &areas {
        let index = table.code.len() as u32;
        let mut chain = parent
            .and_then(|p| table.index_of.get(&p))
            .map(|p| table.chain[*p as usize].clone())
            .unwrap_or_default();
        chain.push(index);
        table.index_of.insert(*id, index);
        table.code.push(code.clone());
        table.chain.push(chain);
    }
    let domains: Vec<(i64, String)> = Sql::new("select id, code from domains order by id")
        .fetch_all(conn)
        .await?;
    let mut columns = Columns {
        seq,
        rows_in_area: vec![Vec::new(); table.code.len()],
        areas: table,
        domain_index: domains
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, i as u16))
            .collect(),
        domain_codes: domains.into_iter().map(|(_, code)| code).collect(),
        building: true,
        ..Columns::default()
    };
    // Read in slices of ids, so that the rows in flight at any moment are one slice, not the
    // whole registry (at a million organizations the rows as fetched would be several hundred
    // megabytes the allocator might keep for the life of the server).
    let mut after = i64::MIN;
    loop {
        let rows = slice_after(conn, after).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for r in &rows {
            columns.put(r);
        }
    }
    let mut newest = std::mem::take(&mut columns.by_newest);
    newest.sort_unstable_by_key(|&p| columns.newest_key(p));
    columns.by_newest = newest;
    let mut by_pinyin = std::mem::take(&mut columns.by_pinyin);
    by_pinyin.sort_unstable_by(|&a, &b| columns.pinyin_key(a).cmp(&columns.pinyin_key(b)));
    columns.by_pinyin = by_pinyin;
    columns.building = false;
    columns.shrink_to_fit();
    Ok(columns)
}

impl FacetIndex {
    /// Brings the columns up to the newest change committed in `conn`'s database, and returns
    /// that database's newest sequence number. The index never moves backwards: read from a
    /// streaming replica that lags what the index already holds (the staff pages refresh it
    /// from the primary; a load balancer may spread reads over replicas at different points),
    /// it keeps the newer columns — so the returned number may be below the index's.
    pub async fn refresh(&self, conn: &mut Conn<'_>) -> Result<i64> {
        let newest = crate::audit::store::newest_seq(conn).await?;
        if self.read_seq().is_some_and(|seq| seq >= newest) {
            return Ok(newest);
        }
        let _guard = self.refreshing.lock().await;
        let Some(seq) = self.read_seq() else {
            let built = build(conn).await?;
            self.install(built);
            return Ok(newest);
        };
        if seq >= newest {
            return Ok(newest);
        }
        let ids: Vec<(i64,)> = Sql::new(
            "select distinct entity_id from audit_log where entity = 'organization' and entity_id is not null and seq > $1 and seq <= $2",
        )
        .arg(seq)
        .arg(newest)
        .fetch_all(conn)
        .await?;
        let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
        let mut rows = Vec::new();
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new(FACET_SELECT);
            sql.push(" where o.id in (").push_list(chunk).push(")");
            rows.extend(sql.fetch_all::<FacetRow>(conn).await?);
        }
        let complete = {
            let mut guard = self.columns.write().unwrap_or_else(|e| e.into_inner());
            let columns = guard.get_or_insert_with(Columns::default);
            let all_known = rows.iter().all(|r| columns.put(r) != Put::Unknown);
            columns.seq = newest;
            all_known
        };
        if !complete {
            // A new area or domain: rebuild from scratch (rare: dictionaries change seldom).
            let built = build(conn).await?;
            self.install(built);
        }
        Ok(newest)
    }

    /// Puts freshly built columns in place, unless the index already holds a newer state (a
    /// build read from a lagging replica).
    fn install(&self, built: Columns) {
        let mut guard = self.columns.write().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(current) if current.seq > built.seq => {
                tracing::debug!(
                    index = current.seq,
                    read = built.seq,
                    "facet rebuild read an older state; kept the newer index"
                );
            }
            _ => *guard = Some(built),
        }
    }

    /// Builds the columns, or reads every organization into them again. The server does this
    /// at start and then every few minutes as a safety net for changes made to `organizations`
    /// outside shezu (which bypass the audit log). Once built, the columns are read again in
    /// place, slice by slice (see [`FacetIndex::resync`]); a second copy of the columns for the
    /// seconds a build takes would double the index's memory (hundreds of megabytes at three
    /// million organizations). Nothing is read while `conn` reads a replica behind the index.
    pub async fn rebuild(&self, conn: &mut Conn<'_>) -> Result<()> {
        let _guard = self.refreshing.lock().await;
        let source = crate::audit::store::newest_seq(conn).await?;
        match self.read_seq() {
            Some(seq) if seq > source => return Ok(()),
            Some(_) if self.resync(conn).await? => return Ok(()),
            _ => {}
        }
        let built = build(conn).await?;
        self.install(built);
        Ok(())
    }

    /// Reads every organization into the built columns, one slice at a time under the write
    /// lock (readers wait for one slice, never for the whole pass). The sequence number stays:
    /// rows read here are at least as new as it, and the next refresh re-reads whatever
    /// changed after it. Rows no longer in the database stay (shezu never deletes an
    /// organization). False — the caller builds from scratch — when a row names an area or
    /// domain the columns do not know, or when more than [`RESYNC_MAX_MOVES`] rows move in an
    /// order (each move is a pass over that order; a build sorts once).
    async fn resync(&self, conn: &mut Conn<'_>) -> Result<bool> {
        let mut moved = 0usize;
        let mut after = i64::MIN;
        loop {
            let rows = slice_after(conn, after).await?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.id;
            let mut guard = self.columns.write().unwrap_or_else(|e| e.into_inner());
            let Some(columns) = guard.as_mut() else {
                return Ok(false);
            };
            for r in &rows {
                match columns.put(r) {
                    Put::Unknown => return Ok(false),
                    Put::Moved if moved == RESYNC_MAX_MOVES => return Ok(false),
                    Put::Moved => moved += 1,
                    Put::InPlace => {}
                }
            }
        }
        if moved > 0 {
            tracing::warn!(
                moved,
                "facet index: organizations changed outside shezu were read again"
            );
        }
        Ok(true)
    }

    /// Rebuilds every `minutes` for the life of the server.
    pub async fn rebuild_every(self: std::sync::Arc<Self>, db: crate::db::Db, minutes: u64) {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(minutes * 60)).await;
            let result = match db.acquire().await {
                Ok(mut conn) => self.rebuild(&mut conn.conn()).await,
                Err(e) => Err(e.into()),
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "facet index rebuild failed");
            }
        }
    }

    /// The ids of one page of organizations matching `filter` (and among `candidates`, when
    /// searching) in `order`; `None` before the first build. Relevance is the candidates' own,
    /// with the ids whose credit code equals the first term (`exact`) first; without a search
    /// it means pinyin order.
    pub fn page(
        &self,
        filter: &OrgFilter,
        candidates: Option<&SearchMatches>,
        order: OrgOrder,
        (offset, limit): (usize, usize),
        exact: &[i64],
        as_of: i64,
    ) -> Option<Vec<i64>> {
        let guard = self.columns.read().unwrap_or_else(|e| e.into_inner());
        let c = guard.as_ref()?;
        let matcher = Matcher::new(c, filter);
        let matching = |row: &u32| matcher.failed(c, *row as usize) == 0;
        let take = |rows: &mut dyn Iterator<Item = u32>| -> Vec<i64> {
            rows.filter(|r| matching(r))
                .skip(offset)
                .take(limit)
                .map(|r| c.id[r as usize])
                .collect()
        };
        // A search, or an area, narrows the rows to look at; they are then sorted once and the
        // order remembered until the registry changes (popular searches, paging through one).
        if candidates.is_none() && matcher.area.is_none() {
            return Some(match order {
                OrgOrder::Id => take(&mut c.by_id.iter().copied()),
                OrgOrder::LatestRecord => take(&mut c.by_id.iter().rev().copied()),
                OrgOrder::Newest => take(&mut c.by_newest.iter().copied()),
                OrgOrder::Relevance | OrgOrder::Name => take(&mut c.by_pinyin.iter().copied()),
            });
        }
        let key = format!("{filter:?}|{order:?}|{exact:?}");
        let ordered = match self.answers(c.seq, |a| a.orders.get(&key).cloned()) {
            Some(hit) => hit,
            None => {
                // Filter first, then sort only what matched.
                let mut rows: Vec<u32> = match candidates {
                    Some(found) => {
                        let mut rows = Vec::new();
                        let mut relevance = Vec::new();
                        for (id, rank) in found.ids.iter().zip(&found.relevance) {
                            if let Some(row) = c.row(*id).filter(|r| matching(r)) {
                                rows.push(row);
                                // A credit code typed in full ranks like an exact name.
                                relevance.push(if exact.contains(id) {
                                    rank % RELEVANCE_CATEGORY
                                } else {
                                    *rank
                                });
                            }
                        }
                        if order == OrgOrder::Relevance {
                            let mut ranked: Vec<(u32, i64, u32)> = rows
                                .iter()
                                .zip(relevance)
                                .map(|(&r, rank)| (rank, c.id[r as usize], r))
                                .collect();
                            ranked.sort_unstable();
                            rows = ranked.into_iter().map(|(_, _, r)| r).collect();
                        }
                        rows
                    }
                    None => c
                        .subtree_rows(matcher.area)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|r| matching(r))
                        .collect(),
                };
                match order {
                    OrgOrder::Relevance if candidates.is_some() => {}
                    OrgOrder::Relevance | OrgOrder::Name => {
                        rows.sort_unstable_by(|&a, &b| c.pinyin_key(a).cmp(&c.pinyin_key(b)))
                    }
                    OrgOrder::Newest => rows.sort_unstable_by_key(|&r| c.newest_key(r)),
                    OrgOrder::LatestRecord => {
                        rows.sort_unstable_by_key(|&r| std::cmp::Reverse(c.id[r as usize]))
                    }
                    OrgOrder::Id => rows.sort_unstable_by_key(|&r| c.id[r as usize]),
                }
                let ordered: std::sync::Arc<Vec<i64>> =
                    std::sync::Arc::new(rows.into_iter().map(|r| c.id[r as usize]).collect());
                // Search matches read from a database behind the index (a lagging replica)
                // are not remembered: they would outlive the lag.
                if as_of >= c.seq {
                    self.answers(c.seq, |a| {
                        a.make_room(a.orders.len(), ordered.len());
                        a.orders.insert(key, ordered.clone());
                    });
                }
                ordered
            }
        };
        Some(ordered.iter().skip(offset).take(limit).copied().collect())
    }

    /// The counts for `key` (filter and facets, as the caller spells them) at the current
    /// sequence number, computing them with `compute` if they are not remembered. `as_of` is
    /// the sequence number the search matches among the inputs reflect (`i64::MAX` without a
    /// search): answers from matches older than the index are computed but not remembered.
    pub fn counts_cached(
        &self,
        key: String,
        as_of: i64,
        compute: impl FnOnce() -> Counts,
    ) -> Counts {
        let seq = self.read_seq().unwrap_or(-1);
        if let Some(hit) = self.answers(seq, |a| a.counts.get(&key).cloned()) {
            return hit;
        }
        let counts = compute();
        if as_of >= seq {
            self.answers(seq, |a| {
                if a.counts.len() >= MAX_ANSWERS {
                    a.counts.clear();
                }
                a.counts.insert(key, counts.clone());
            });
        }
        counts
    }

    /// The search matches remembered for `terms`, with the sequence number they hold for.
    pub fn matches_cached(&self, terms: &[String]) -> Option<(std::sync::Arc<SearchMatches>, i64)> {
        let seq = self.read_seq().unwrap_or(-1);
        self.answers(seq, |a| a.matches.get(&terms.join(" ")).cloned())
            .map(|ids| (ids, seq))
    }

    /// Remembers the search matches for `terms`, read from a database whose newest sequence
    /// number was `as_of` — only if that is the index's: matches read from a lagging replica,
    /// or before another request moved the index on, would otherwise be served as current
    /// until the next write.
    pub fn remember_matches(
        &self,
        terms: &[String],
        as_of: i64,
        found: std::sync::Arc<SearchMatches>,
    ) {
        let seq = self.read_seq().unwrap_or(-1);
        if as_of != seq {
            return;
        }
        self.answers(seq, |a| {
            a.make_room(a.matches.len(), found.ids.len());
            a.matches.insert(terms.join(" "), found);
        });
    }

    /// Runs `f` on the remembered answers, first forgetting them if they belong to another
    /// sequence number.
    fn answers<T>(&self, seq: i64, f: impl FnOnce(&mut Answers) -> T) -> T {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        if answers.seq != seq {
            *answers = Answers {
                seq,
                ..Answers::default()
            };
        }
        f(&mut answers)
    }

    fn read_seq(&self) -> Option<i64> {
        self.columns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.seq)
    }

    /// Counts under `filter` (its search terms excepted: `candidates` are the ids the search
    /// matched, `None` for no search). `area_parent` is the area whose children the area facet
    /// counts (the filtered area, or the root). Call [`FacetIndex::refresh`] first.
    pub fn count(
        &self,
        filter: &OrgFilter,
        candidates: Option<&[i64]>,
        area_parent: Option<AreaId>,
        facets: &[&'static str],
    ) -> Counts {
        let guard = self.columns.read().unwrap_or_else(|e| e.into_inner());
        let Some(c) = guard.as_ref() else {
            return Counts::default();
        };
        let matcher = Matcher::new(c, filter);
        let parent = area_parent
            .and_then(|a| c.areas.index_of.get(&a.0).copied())
            .or_else(|| c.areas.chain.first().map(|chain| chain[0]));
        let parent_depth = parent.map(|p| c.areas.chain[p as usize].len());

        let mut total = 0i64;
        let mut kind_counts = vec![0i64; OrgKind::ALL.len()];
        let mut status_counts = vec![0i64; OrgStatus::ALL.len()];
        let mut grade_counts = vec![0i64; Grade::ALL.len()];
        let mut domain_counts = vec![0i64; c.domain_codes.len()];
        let mut area_counts = vec![0i64; c.areas.code.len()];
        // Only the facets asked for are counted (the total always is).
        let wants = |facet: &str| facets.contains(&facet);
        let (want_kind, want_status, want_grade, want_domain, want_area) = (
            wants("kind"),
            wants("status"),
            wants("grade"),
            wants("domain"),
            wants("area"),
        );
        let mut visit = |i: usize| {
            let chain = &c.areas.chain[c.area[i] as usize];
            let failed = matcher.failed(c, i);
            // Counted in the total and every facet, or only in the one facet it fails.
            let counts_for = |facet: u8| failed == 0 || failed == facet;
            if failed == 0 {
                total += 1;
            }
            if want_kind && counts_for(KIND) && c.kind[i] != NONE {
                kind_counts[c.kind[i] as usize] += 1;
            }
            if want_status && counts_for(STATUS) && c.status[i] != NONE {
                status_counts[c.status[i] as usize] += 1;
            }
            if want_grade && counts_for(GRADE) && c.grade[i] != NONE {
                grade_counts[c.grade[i] as usize] += 1;
            }
            if want_domain && counts_for(DOMAIN) {
                domain_counts[c.domain[i] as usize] += 1;
            }
            if want_area
                && counts_for(AREA)
                && let (Some(p), Some(depth)) = (parent, parent_depth)
                && chain.get(depth - 1) == Some(&p)
                && let Some(child) = chain.get(depth)
            {
                area_counts[*child as usize] += 1;
            }
        };
        match candidates {
            Some(ids) => {
                for id in ids {
                    if let Some(i) = c.row(*id) {
                        visit(i as usize);
                    }
                }
            }
            // Rows outside a filtered area count towards nothing (the area facet counts the
            // filtered area's children), so an area filter visits only its subtree.
            None => match c.subtree_rows(matcher.area) {
                Some(rows) => rows.into_iter().for_each(|r| visit(r as usize)),
                None => (0..c.kind.len()).for_each(&mut visit),
            },
        }
        let named = |counts: Vec<i64>, name: &dyn Fn(usize) -> String| {
            counts
                .into_iter()
                .enumerate()
                .filter(|(_, n)| *n > 0)
                .map(|(i, n)| (name(i), n))
                .collect::<BTreeMap<String, i64>>()
        };
        let mut out = BTreeMap::new();
        for facet in facets {
            let counts = match *facet {
                "kind" => named(kind_counts.clone(), &|i| {
                    OrgKind::ALL[i].as_str().to_owned()
                }),
                "status" => named(status_counts.clone(), &|i| {
                    OrgStatus::ALL[i].as_str().to_owned()
                }),
                "grade" => named(grade_counts.clone(), &|i| Grade::ALL[i].as_str().to_owned()),
                "domain" => named(domain_counts.clone(), &|i| c.domain_codes[i].clone()),
                "area" => named(area_counts.clone(), &|i| c.areas.code[i].clone()),
                _ => continue,
            };
            out.insert(*facet, counts);
        }
        Counts { total, facets: out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_remembered_until_the_sequence_moves() {
        let index = FacetIndex::default();
        *index.columns.write().unwrap() = Some(Columns::default());
        let mut computed = 0;
        for _ in 0..3 {
            index.counts_cached("k".into(), i64::MAX, || {
                computed += 1;
                Counts::default()
            });
        }
        assert_eq!(computed, 1);
        index.columns.write().unwrap().as_mut().unwrap().seq = 7;
        index.counts_cached("k".into(), i64::MAX, || {
            computed += 1;
            Counts::default()
        });
        assert_eq!(computed, 2, "a new sequence number forgets old answers");
    }
}
