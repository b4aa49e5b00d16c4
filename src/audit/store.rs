//! Writes and reads of the organization history and the audit log. Writers call these inside
//! their own transaction, so a change, its history and its audit entry commit or vanish together.

use super::{Actor, AuditEntry, ChangeAction, ChangeEvent, FieldChange};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::Result;
use crate::registry::OrgId;
use chrono::SubsecRound;

/// The newest audit sequence number (a primary-key lookup). Sequence numbers are handed out
/// under the log's lock inside the writing transaction, so every number up to the newest one
/// seen is committed: a reader that remembers what it computed at a number knows nothing
/// changed while the number stays the same.
pub async fn newest_seq(conn: &mut Conn<'_>) -> Result<i64> {
    Ok(Sql::new("select coalesce(max(seq), 0) from audit_log")
        .fetch_i64(conn)
        .await?)
}

/// Records one write to an organization and the fields it changed.
pub async fn record_org_change(
    conn: &mut Conn<'_>,
    org: OrgId,
    at: Timestamp,
    actor: &str,
    action: ChangeAction,
    reason: Option<&str>,
    fields: &[FieldChange],
) -> Result<i64> {
    let change_id = Sql::new(
        "insert into org_changes (org_id, changed_at, actor, action, reason) values ($1, $2, $3, $4, $5) returning id",
    )
    .arg(org)
    .arg(at)
    .arg(actor)
    .arg(action.as_str())
    .arg(reason)
    .fetch_i64(conn)
    .await?;
    // One statement for all fields of the event: a creation writes ~20 rows.
    if !fields.is_empty() {
        let mut sql = Sql::new(
            "insert into org_change_fields (change_id, field, before_value, after_value) values ",
        );
        for (i, f) in fields.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" })
                .push_arg(change_id)
                .push(", ")
                .push_arg(f.field.as_str())
                .push(", ")
                .push_arg(f.before_value.clone())
                .push(", ")
                .push_arg(f.after_value.clone())
                .push(")");
        }
        sql.execute(conn).await?;
    }
    Ok(change_id)
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    changed_at: Timestamp,
    actor: String,
    action: String,
    reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct FieldRow {
    change_id: i64,
    field: String,
    before_value: Option<String>,
    after_value: Option<String>,
}

/// The change events of an organization up to `until` (inclusive; `None`: all), oldest first.
/// The caller has already checked that the organization is in its scope.
pub async fn org_history(
    conn: &mut Conn<'_>,
    org: OrgId,
    until: Option<Timestamp>,
) -> Result<Vec<ChangeEvent>> {
    let mut sql =
        Sql::new("select id, changed_at, actor, action, reason from org_changes where org_id = $1")
            .arg(org);
    if let Some(t) = until {
        sql.push(" and changed_at <= ").push_arg(t);
    }
    sql.push(" order by changed_at, id");
    let events: Vec<EventRow> = sql.fetch_all(conn).await?;
    let mut sql = Sql::new(
        "select f.change_id, f.field, f.before_value, f.after_value from org_change_fields f join org_changes c on c.id = f.change_id where c.org_id = $1",
    )
    .arg(org);
    if let Some(t) = until {
        sql.push(" and c.changed_at <= ").push_arg(t);
    }
    let mut by_event: std::collections::HashMap<i64, Vec<FieldChange>> = Default::default();
    for f in sql.fetch_all::<FieldRow>(conn).await? {
        by_event.entry(f.change_id).or_default().push(FieldChange {
            field: f.field,
            before_value: f.before_value,
            after_value: f.after_value,
        });
    }
    Ok(events
        .into_iter()
        .map(|e| ChangeEvent {
            fields: by_event.remove(&e.id).unwrap_or_default(),
            id: e.id,
            changed_at: e.changed_at,
            actor: e.actor,
            action: e.action,
            reason: e.reason,
        })
        .collect())
}

/// What an audit entry says (the chain fields are added by [`append`]).
#[derive(Debug, Clone, Default)]
pub struct NewEntry<'a> {
    /// What (`create`, `update`, `login`, …).
    pub action: &'a str,
    /// On what kind of thing.
    pub entity: &'a str,
    /// Which one.
    pub entity_id: Option<i64>,
    /// A short description.
    pub summary: &'a str,
    /// Changed fields with before and after.
    pub changes: Option<&'a [FieldChange]>,
}

impl<'a> NewEntry<'a> {
    /// An entry without field changes.
    pub fn of(action: &'a str, entity: &'a str, entity_id: Option<i64>, summary: &'a str) -> Self {
        NewEntry {
            action,
            entity,
            entity_id,
            summary,
            changes: None,
        }
    }
}

/// Appends one entry to the audit log, linked to the one before it. The head row is updated
/// first, which locks it until the caller's transaction ends: appenders queue, so the chain
/// never forks and `seq` has no gaps (a rolled-back append rolls the head back too).
pub async fn append(
    conn: &mut Conn<'_>,
    at: Timestamp,
    actor: &Actor,
    entry: NewEntry<'_>,
) -> Result<i64> {
    let (seq, prev_hash): (i64, String) = Sql::new(
        "update audit_head set last_seq = last_seq + 1 where id = 1 returning last_seq, last_hash",
    )
    .fetch_one(conn)
    .await?;
    let mut e = AuditEntry {
        seq,
        // Both databases keep microseconds; hash exactly what will be read back.
        at: at.trunc_subsecs(6),
        actor: actor.name.clone(),
        actor_user_id: actor.user_id,
        action: entry.action.to_owned(),
        entity: entry.entity.to_owned(),
        entity_id: entry.entity_id,
        summary: entry.summary.to_owned(),
        changes: entry
            .changes
            .filter(|c| !c.is_empty())
            .and_then(|c| serde_json::to_string(c).ok()),
        ip: actor.ip.clone(),
        prev_hash,
        hash: String::new(),
    };
    e.hash = e.compute_hash();
    Sql::new(
        "insert into audit_log (seq, at, actor, actor_user_id, action, entity, entity_id, summary, changes, ip, prev_hash, hash) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .arg(e.seq)
    .arg(e.at)
    .arg(e.actor.as_str())
    .arg(e.actor_user_id)
    .arg(e.action.as_str())
    .arg(e.entity.as_str())
    .arg(e.entity_id)
    .arg(e.summary.as_str())
    .arg(e.changes.clone())
    .arg(e.ip.clone())
    .arg(e.prev_hash.as_str())
    .arg(e.hash.as_str())
    .execute(conn)
    .await?;
    Sql::new("update audit_head set last_hash = $1 where id = 1")
        .arg(e.hash.as_str())
        .execute(conn)
        .await?;
    Ok(seq)
}

const ENTRY_SELECT: &str = "select seq, at, actor, actor_user_id, action, entity, entity_id, summary, changes, ip, prev_hash, hash from audit_log";

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainCheck {
    /// Every entry links to the one before and hashes to what it says; the count checked.
    Intact(i64),
    /// The first entry (by `seq`) that does not.
    BrokenAt(i64),
}

/// Walks the whole audit log in pages and checks every link, then that the head agrees.
pub async fn verify(conn: &mut Conn<'_>) -> Result<ChainCheck> {
    const PAGE: i64 = 5000;
    let (mut prev_seq, mut prev_hash) = (0_i64, String::new());
    loop {
        let page: Vec<AuditEntry> = Sql::new(&format!(
            "{ENTRY_SELECT} where seq > $1 order by seq limit $2"
        ))
        .arg(prev_seq)
        .arg(PAGE)
        .fetch_all(conn)
        .await?;
        if let Some(seq) = super::first_broken(&page, prev_hash.clone(), prev_seq) {
            return Ok(ChainCheck::BrokenAt(seq));
        }
        let Some(last) = page.last() else { break };
        prev_seq = last.seq;
        prev_hash = last.hash.clone();
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    let (head_seq, head_hash): (i64, String) =
        Sql::new("select last_seq, last_hash from audit_head where id = 1")
            .fetch_one(conn)
            .await?;
    if head_seq != prev_seq || head_hash != prev_hash {
        // Entries were deleted from the end.
        return Ok(ChainCheck::BrokenAt(prev_seq + 1));
    }
    Ok(ChainCheck::Intact(prev_seq))
}

/// Filters of the audit log page.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Actor name (exact).
    pub actor: Option<String>,
    /// Action (exact).
    pub action: Option<String>,
    /// Entity kind (exact).
    pub entity: Option<String>,
    /// From this instant.
    pub from: Option<Timestamp>,
    /// Until this instant.
    pub until: Option<Timestamp>,
}

/// Audit entries matching `filter`, newest first, with the total.
pub async fn search(
    conn: &mut Conn<'_>,
    filter: &AuditFilter,
    paging: crate::web::Paging,
) -> Result<(Vec<AuditEntry>, i64)> {
    let apply = |sql: &mut Sql| {
        sql.push(" where 1 = 1");
        if let Some(a) = &filter.actor {
            sql.push(" and actor = ").push_arg(a.as_str());
        }
        if let Some(a) = &filter.action {
            sql.push(" and action = ").push_arg(a.as_str());
        }
        if let Some(e) = &filter.entity {
            sql.push(" and entity = ").push_arg(e.as_str());
        }
        if let Some(t) = filter.from {
            sql.push(" and at >= ").push_arg(t);
        }
        if let Some(t) = filter.until {
            sql.push(" and at <= ").push_arg(t);
        }
    };
    let mut count = Sql::new("select count(*) from audit_log");
    apply(&mut count);
    let total = count.fetch_i64(conn).await?;
    let mut sql = Sql::new(ENTRY_SELECT);
    apply(&mut sql);
    sql.push(" order by seq desc limit ")
        .push_arg(paging.per_page)
        .push(" offset ")
        .push_arg(paging.offset());
    Ok((sql.fetch_all(conn).await?, total))
}
