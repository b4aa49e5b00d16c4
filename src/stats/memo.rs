//! Figures remembered between requests. A national registry's summary reads every organization
//! (tens of seconds at 3 million), so each server keeps what it computed with the audit
//! sequence number it read *before* computing ([`crate::audit::store::newest_seq`]): while the
//! number stays the same nothing was written, and the remembered figure is the recount.
//!
//! Registry counts at the end of a past year need less: a write can only move them if it is an
//! organization change recorded at or before that year's end (the history's `changed_at` is
//! the audit entry's `at`, one instant per transaction), so they are kept across later writes
//! after one look at the entries added since. Several servers each keep their own memory and
//! each checks the database, so they agree with it, not with each other.

use crate::db::{Conn, Sql, Timestamp};
use crate::error::Result;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Entries kept per kind of figure before the oldest are forgotten (areas × years viewed).
const CAPACITY: usize = 512;

/// Values remembered with the audit sequence number they are current at.
#[derive(Debug)]
pub struct Memo<K, V> {
    entries: Mutex<HashMap<K, (i64, V)>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    /// The value for `key` with the sequence number it was computed at.
    pub fn get(&self, key: &K) -> Option<(i64, V)> {
        self.lock().get(key).cloned()
    }

    /// Remembers `value` for `key` as current at `seq` (never replacing a newer one).
    pub fn put(&self, key: K, seq: i64, value: V) {
        let mut entries = self.lock();
        if entries.get(&key).is_some_and(|(newer, _)| *newer > seq) {
            return;
        }
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            // Forget the stalest half: what is viewed again is recomputed once.
            let mut seqs: Vec<i64> = entries.values().map(|(s, _)| *s).collect();
            seqs.sort_unstable();
            let cut = seqs[seqs.len() / 2];
            entries.retain(|_, (s, _)| *s > cut);
        }
        entries.insert(key, (seq, value));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (i64, V)>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Memo<K, V> {
    /// The value remembered for `key`, a figure counted from the registry alone, if no
    /// organization change recorded at or before `until` (any, with `None`) was committed
    /// since it was counted — writes elsewhere (reports, volunteers, approvals) cannot move
    /// it. It is then current at `seq`, the newest sequence number read before this call.
    pub async fn unless_registry_changed(
        &self,
        conn: &mut Conn<'_>,
        seq: i64,
        key: K,
        until: Option<Timestamp>,
    ) -> Result<Option<V>> {
        let Some((at, value)) = self.get(&key) else {
            return Ok(None);
        };
        if at != seq && registry_changed_by(conn, at, until).await? {
            return Ok(None);
        }
        self.put(key, seq, value.clone());
        Ok(Some(value))
    }
}

impl<V: Clone> Memo<(i64, i32), V> {
    /// The registry figure remembered for (area id, year) if no write since moved it (a
    /// change recorded after the year's end cannot).
    pub async fn registry_figure(
        &self,
        conn: &mut Conn<'_>,
        seq: i64,
        key: (i64, i32),
    ) -> Result<Option<V>> {
        let until = super::snapshot::year_end(key.1);
        self.unless_registry_changed(conn, seq, key, Some(until))
            .await
    }
}

/// Organizations live at a year's end by kind, and the direct registrations among them.
pub type RegistryCounts = (Vec<(String, i64)>, i64);

/// Organizations live at a year's end per child area and kind: (child area id, kind, count).
pub type ChildCounts = Vec<(i64, String, i64)>;

/// The figures a server remembers.
#[derive(Debug, Default)]
pub struct StatsMemo {
    /// Summaries by (area id, year, business date).
    pub summaries: Memo<(i64, i32, chrono::NaiveDate), super::Summary>,
    /// Registry counts by (area id, year).
    pub registry: Memo<(i64, i32), RegistryCounts>,
    /// Registry counts of an area's children by (area id, year).
    pub by_child: Memo<(i64, i32), ChildCounts>,
    /// The public statistics page's counts by area id (the root when `None`).
    pub public: Memo<Option<i64>, std::sync::Arc<crate::portal::stats::PublicCounts>>,
}

/// Counts and remembers the root area's summary for the last full year and the public
/// statistics page's counts (what `/stats` and the summary API show by default). A failure is
/// logged: the figures are then counted on first request, as without this.
pub async fn warm(memo: std::sync::Arc<StatsMemo>, db: crate::db::Db) {
    let started = std::time::Instant::now();
    let result = async {
        let mut conn = db.acquire().await?;
        let mut c = conn.conn();
        let today = crate::clock::today(&mut c).await?;
        let year = crate::clock::report_year("", today)?;
        if let Some(root) = crate::areas::store::root(&mut c).await? {
            super::summary_remembered(&memo, &mut c, &root, year).await?;
            crate::portal::stats::PublicCounts::remembered(&memo, &mut c, Some(root.area_id()))
                .await?;
        }
        Ok::<_, crate::error::Error>(year)
    }
    .await;
    match result {
        Ok(year) => tracing::info!(
            year,
            seconds = started.elapsed().as_secs_f64(),
            "statistics counted"
        ),
        Err(e) => tracing::warn!(error = %e, "statistics not counted ahead"),
    }
}

/// Whether an organization change recorded at or before `until` (any, with `None`) was
/// committed after sequence number `since` (a range read over the entries since, by primary
/// key).
async fn registry_changed_by(
    conn: &mut Conn<'_>,
    since: i64,
    until: Option<Timestamp>,
) -> Result<bool> {
    let mut sql = Sql::new("select count(*) from (select 1 from audit_log where seq > ");
    sql.push_arg(since).push(" and entity = 'organization'");
    if let Some(until) = until {
        sql.push(" and at <= ").push_arg(until);
    }
    let n = sql.push(" limit 1) t").fetch_i64(conn).await?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_kept_with_its_sequence_number_and_never_replaced_by_an_older_one() {
        let memo: Memo<i32, &str> = Memo::default();
        assert_eq!(memo.get(&1), None);
        memo.put(1, 5, "five");
        memo.put(1, 4, "four");
        assert_eq!(memo.get(&1), Some((5, "five")));
        memo.put(1, 6, "six");
        assert_eq!(memo.get(&1), Some((6, "six")));
    }

    #[test]
    fn a_full_memo_forgets_its_stalest_half() {
        let memo: Memo<usize, usize> = Memo::default();
        for i in 0..CAPACITY {
            memo.put(i, i as i64, i);
        }
        memo.put(CAPACITY, CAPACITY as i64, CAPACITY);
        assert_eq!(memo.get(&0), None);
        assert_eq!(memo.get(&CAPACITY), Some((CAPACITY as i64, CAPACITY)));
        assert!(memo.lock().len() <= CAPACITY / 2 + 1);
    }
}
