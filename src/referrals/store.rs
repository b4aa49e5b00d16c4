//! Referrals in the database. A referral is visible to its sender, its recipient, and anyone
//! whose registry scope covers the organization it concerns.

use super::{ReferralDraft, Status};
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::{Scope, UserId};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use crate::registry::OrgId;
use chrono::NaiveDate;

/// A referral as stored, with names resolved.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReferralRow {
    /// Id.
    pub id: i64,
    /// The organization concerned.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// 事由.
    pub subject: String,
    /// 详情.
    pub details: String,
    /// Sender.
    pub from_user_id: i64,
    /// Sender's account name.
    pub from_name: String,
    /// Recipient (owner of the task).
    pub to_user_id: i64,
    /// Recipient's account name.
    pub to_name: String,
    /// 办理期限.
    pub due_on: NaiveDate,
    /// Status (machine name).
    pub status: String,
    /// Sent at.
    pub created_at: Timestamp,
    /// Closed at.
    pub closed_at: Option<Timestamp>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

impl ReferralRow {
    /// The typed status.
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Open)
    }
}

const SELECT: &str = "select r.id, r.org_id, o.name as org_name, r.subject, r.details, r.from_user_id, f.username as from_name, r.to_user_id, t.username as to_name, r.due_on, r.status, r.created_at, r.closed_at, r.version from referrals r join organizations o on o.id = r.org_id join users f on f.id = r.from_user_id join users t on t.id = r.to_user_id where 1 = 1";

/// Restricts referrals to those `user` sent or received, or whose organization lies in `scope`.
fn visible(sql: &mut Sql, user: UserId, scope: &Scope) {
    sql.push(" and (r.from_user_id = ")
        .push_arg(user)
        .push(" or r.to_user_id = ")
        .push_arg(user);
    match scope {
        Scope::All => {
            sql.push(" or 1 = 1");
        }
        Scope::Limited { .. } => {
            sql.push(" or (1 = 1");
            scope.restrict_orgs(sql, "o");
            sql.push(")");
        }
        Scope::Public => {}
    }
    sql.push(")");
}

/// Sends a referral about an organization the sender can see, to an existing active user.
pub async fn create(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    from: UserId,
    scope: &Scope,
    org: OrgId,
    draft: &ReferralDraft,
) -> Result<i64> {
    crate::registry::store::find(conn, scope, org)
        .await?
        .ok_or(Error::NotFound)?;
    let to = crate::auth::store::find_user_by_name(conn, &draft.to)
        .await?
        .filter(|u| u.active);
    let Some(to) = to else {
        return Err(Error::field(
            "to",
            Msg::new("application.error.unknown_staff"),
        ));
    };
    let id = Sql::new("insert into referrals (org_id, subject, details, from_user_id, to_user_id, due_on, status, created_at, closed_at, version) values ($1, $2, $3, $4, $5, $6, 'open', $7, null, 1) returning id")
        .arg(org)
        .arg(draft.subject.as_str())
        .arg(draft.details.as_str())
        .arg(from)
        .arg(to.id)
        .arg(draft.due_on)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "referral", Some(id), &draft.subject),
    )
    .await?;
    Ok(id)
}

/// Referrals the user may see; `org` narrows them to one organization. Open ones by due date
/// first, then the rest, newest first.
pub async fn list(
    conn: &mut Conn<'_>,
    user: UserId,
    scope: &Scope,
    org: Option<OrgId>,
) -> Result<Vec<ReferralRow>> {
    let mut sql = Sql::new(SELECT);
    visible(&mut sql, user, scope);
    if let Some(org) = org {
        sql.push(" and r.org_id = ").push_arg(org);
    }
    sql.push(" order by r.id desc limit 500");
    let mut rows: Vec<ReferralRow> = sql.fetch_all(conn).await?;
    rows.sort_by_key(|r| {
        (
            r.status() == Status::Closed,
            if r.status() == Status::Closed {
                NaiveDate::MAX
            } else {
                r.due_on
            },
        )
    });
    Ok(rows)
}

/// One referral, if the user may see it.
pub async fn find(
    conn: &mut Conn<'_>,
    user: UserId,
    scope: &Scope,
    id: i64,
) -> Result<Option<ReferralRow>> {
    let mut sql = Sql::new(SELECT);
    sql.push(" and r.id = ").push_arg(id);
    visible(&mut sql, user, scope);
    Ok(sql.fetch_optional(conn).await?)
}

/// One reply.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReplyRow {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub username: String,
    /// What.
    pub body: String,
}

/// The replies to a referral, oldest first (the caller has checked it may see it).
pub async fn replies(conn: &mut Conn<'_>, id: i64) -> Result<Vec<ReplyRow>> {
    Ok(Sql::new("select p.at, u.username, p.body from referral_replies p join users u on u.id = p.user_id where p.referral_id = $1 order by p.id")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// The recipient (or the sender) replies; a reply by the recipient marks it replied. Closing is
/// for the sender or the recipient. A closed referral takes nothing more.
#[expect(clippy::too_many_arguments, reason = "one write, every input it needs")]
pub async fn respond(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    user: UserId,
    scope: &Scope,
    id: i64,
    body: Option<&str>,
    close: bool,
) -> Result<()> {
    let row = find(conn, user, scope, id).await?.ok_or(Error::NotFound)?;
    let party = row.to_user_id == user.0 || row.from_user_id == user.0;
    if !party {
        return Err(Error::Forbidden);
    }
    if row.status() == Status::Closed {
        return Err(Error::Conflict(Msg::new("referral.error.closed")));
    }
    if let Some(body) = body {
        Sql::new(
            "insert into referral_replies (referral_id, at, user_id, body) values ($1, $2, $3, $4)",
        )
        .arg(id)
        .arg(at)
        .arg(user)
        .arg(body)
        .execute(conn)
        .await?;
    }
    let status = if close {
        Status::Closed
    } else if body.is_some() && row.to_user_id == user.0 {
        Status::Replied
    } else {
        row.status()
    };
    let changed = Sql::new("update referrals set status = $1, closed_at = $2, version = version + 1 where id = $3 and version = $4")
        .arg(status.as_str())
        .arg(close.then_some(at))
        .arg(id)
        .arg(row.version)
        .execute(conn)
        .await?;
    if changed == 0 {
        return Err(Error::Conflict(Msg::new("application.error.stale")));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            if close { "close" } else { "reply" },
            "referral",
            Some(id),
            status.as_str(),
        ),
    )
    .await?;
    Ok(())
}
