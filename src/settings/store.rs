//! Reads and writes of settings: every change is a new row with its effective date.

use super::SettingDef;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use chrono::NaiveDate;

/// One value of a setting, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SettingRow {
    /// Row id.
    pub id: i64,
    /// Setting key.
    pub key: String,
    /// The value.
    pub value: String,
    /// Applies from this day on (until a later row's day).
    pub effective_from: NaiveDate,
    /// Who set it.
    pub changed_by: String,
    /// When.
    pub changed_at: Timestamp,
}

/// The value of `key` that applies on `date` (the shipped default if none was set by then).
pub async fn value_on(conn: &mut Conn<'_>, def: &SettingDef, date: NaiveDate) -> Result<String> {
    let row: Option<(String,)> = Sql::new(
        "select value from settings_history where key = $1 and effective_from <= $2 order by effective_from desc, id desc limit 1",
    )
    .arg(def.key)
    .arg(date)
    .fetch_optional(conn)
    .await?;
    Ok(row.map_or_else(|| def.default.to_owned(), |(v,)| v))
}

/// The value of `key` that applies today (China time).
pub async fn current(conn: &mut Conn<'_>, key: &str) -> Result<String> {
    // An unknown key is a mistake in the code, not a missing record.
    let def =
        SettingDef::find(key).ok_or_else(|| Error::Other(format!("unknown setting {key}")))?;
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    value_on(conn, def, today).await
}

/// The values of `keys` that apply today (China time), in the order asked, read in one
/// statement (a page that needs several settings pays one round trip, not one each).
pub async fn current_many(conn: &mut Conn<'_>, keys: &[&str]) -> Result<Vec<String>> {
    let defs = keys
        .iter()
        .map(|key| {
            SettingDef::find(key).ok_or_else(|| Error::Other(format!("unknown setting {key}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let mut sql = Sql::new("select key, value from settings_history where key in (");
    sql.push_list(keys)
        .push(") and effective_from <= ")
        .push_arg(today)
        .push(" order by effective_from desc, id desc");
    let rows: Vec<(String, String)> = sql.fetch_all(conn).await?;
    Ok(defs
        .iter()
        .map(|def| {
            // The newest row of each key comes first.
            rows.iter()
                .find(|(k, _)| k == def.key)
                .map_or_else(|| def.default.to_owned(), |(_, v)| v.clone())
        })
        .collect())
}

/// Every recorded value, newest first.
pub async fn history(conn: &mut Conn<'_>) -> Result<Vec<SettingRow>> {
    Ok(Sql::new("select id, key, value, effective_from, changed_by, changed_at from settings_history order by effective_from desc, id desc")
        .fetch_all(conn)
        .await?)
}

/// Records a new value (already checked) from `effective_from`, with its audit entry.
pub async fn set(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    def: &SettingDef,
    value: &str,
    effective_from: NaiveDate,
) -> Result<i64> {
    let id = Sql::new("insert into settings_history (key, value, effective_from, changed_by, changed_at) values ($1, $2, $3, $4, $5) returning id")
        .arg(def.key)
        .arg(value)
        .arg(effective_from)
        .arg(actor.name.as_str())
        .arg(at)
        .fetch_i64(conn)
        .await?;
    let summary = format!("{} = {value} ({effective_from})", def.key);
    append(
        conn,
        at,
        actor,
        NewEntry::of("set", "setting", Some(id), &summary),
    )
    .await?;
    Ok(id)
}
