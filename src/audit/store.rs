//! Writes and reads of the organization history and the audit log. Writers call these inside
//! their own transaction, so a change and its history commit or vanish together.

use super::{ChangeAction, ChangeEvent, FieldChange};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::Result;
use crate::registry::OrgId;

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
    let fields: Vec<FieldRow> = sql.fetch_all(conn).await?;
    Ok(events
        .into_iter()
        .map(|e| ChangeEvent {
            fields: fields
                .iter()
                .filter(|f| f.change_id == e.id)
                .map(|f| FieldChange {
                    field: f.field.clone(),
                    before_value: f.before_value.clone(),
                    after_value: f.after_value.clone(),
                })
                .collect(),
            id: e.id,
            changed_at: e.changed_at,
            actor: e.actor,
            action: e.action,
            reason: e.reason,
        })
        .collect())
}

/// Appends one entry to the audit log.
pub async fn log(
    conn: &mut Conn<'_>,
    at: Timestamp,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    summary: &str,
) -> Result<()> {
    Sql::new(
        "insert into audit_log (at, actor, action, entity, entity_id, summary) values ($1, $2, $3, $4, $5, $6)",
    )
    .arg(at)
    .arg(actor)
    .arg(action)
    .arg(entity)
    .arg(entity_id)
    .arg(summary)
    .execute(conn)
    .await?;
    Ok(())
}
