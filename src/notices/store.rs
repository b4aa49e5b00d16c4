//! Notices in the database. Every write is audited; drafts are never visible to the public.

use super::{NoticeDraft, NoticeKind};
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use crate::web::Paging;

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NoticeRow {
    /// Id.
    pub id: i64,
    /// Kind (stored name).
    pub kind: String,
    /// 标题.
    pub title: String,
    /// Markdown body.
    pub body: String,
    /// When published; `None` while a draft.
    pub published_at: Option<Timestamp>,
    /// Created at.
    pub created_at: Timestamp,
    /// Last changed at.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: i64,
}

impl NoticeRow {
    /// The typed kind.
    pub fn kind(&self) -> NoticeKind {
        NoticeKind::parse(&self.kind).unwrap_or(NoticeKind::Notice)
    }
}

const SELECT: &str = "select id, kind, title, body, published_at, created_at, updated_at, version from notices where 1 = 1";

/// Published notices, newest first, optionally of one kind, with the total.
pub async fn list_published(
    conn: &mut Conn<'_>,
    kind: Option<NoticeKind>,
    paging: Paging,
) -> Result<(Vec<NoticeRow>, i64)> {
    let filter = |sql: &mut Sql| {
        sql.push(" and published_at is not null");
        if let Some(k) = kind {
            sql.push(" and kind = ").push_arg(k.as_str());
        }
    };
    let mut count = Sql::new("select count(*) from notices where 1 = 1");
    filter(&mut count);
    let total = count.fetch_i64(conn).await?;
    let mut sql = Sql::new(SELECT);
    filter(&mut sql);
    sql.push(" order by published_at desc, id desc limit ")
        .push_arg(paging.per_page)
        .push(" offset ")
        .push_arg(paging.offset());
    Ok((sql.fetch_all(conn).await?, total))
}

/// Every notice, drafts first, then newest (the staff list).
pub async fn list_all(conn: &mut Conn<'_>) -> Result<Vec<NoticeRow>> {
    let mut sql = Sql::new(SELECT);
    sql.push(" order by case when published_at is null then 0 else 1 end, updated_at desc, id desc limit 500");
    Ok(sql.fetch_all(conn).await?)
}

/// One notice; drafts only when `drafts` (staff).
pub async fn find(conn: &mut Conn<'_>, id: i64, drafts: bool) -> Result<Option<NoticeRow>> {
    let mut sql = Sql::new(SELECT);
    sql.push(" and id = ").push_arg(id);
    if !drafts {
        sql.push(" and published_at is not null");
    }
    Ok(sql.fetch_optional(conn).await?)
}

/// Creates a notice, published at once when `publish`.
pub async fn create(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    draft: &NoticeDraft,
    publish: bool,
) -> Result<i64> {
    let id = Sql::new(
        "insert into notices (kind, title, body, published_at, author_user_id, created_at, updated_at, version) values ($1, $2, $3, $4, $5, $6, $6, 1) returning id",
    )
    .arg(draft.kind.as_str())
    .arg(draft.title.as_str())
    .arg(draft.body.as_str())
    .arg(publish.then_some(at))
    .arg(actor.user_id)
    .arg(at)
    .fetch_i64(conn)
    .await?;
    let action = if publish { "publish" } else { "create" };
    append(
        conn,
        at,
        actor,
        NewEntry::of(action, "notice", Some(id), &draft.title),
    )
    .await?;
    Ok(id)
}

/// Edits a notice if `version` is still current.
pub async fn update(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: i64,
    version: i64,
    draft: &NoticeDraft,
) -> Result<()> {
    let changed = Sql::new(
        "update notices set kind = $1, title = $2, body = $3, updated_at = $4, version = version + 1 where id = $5 and version = $6",
    )
    .arg(draft.kind.as_str())
    .arg(draft.title.as_str())
    .arg(draft.body.as_str())
    .arg(at)
    .arg(id)
    .arg(version)
    .execute(conn)
    .await?;
    if changed == 0 {
        return match find(conn, id, true).await? {
            Some(_) => Err(Error::Conflict(Msg::new("notice.error.stale"))),
            None => Err(Error::NotFound),
        };
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("update", "notice", Some(id), &draft.title),
    )
    .await?;
    Ok(())
}

/// Publishes a draft or withdraws a published notice.
pub async fn set_published(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: i64,
    publish: bool,
) -> Result<()> {
    let row = find(conn, id, true).await?.ok_or(Error::NotFound)?;
    if row.published_at.is_some() == publish {
        return Ok(());
    }
    Sql::new(
        "update notices set published_at = $1, updated_at = $2, version = version + 1 where id = $3",
    )
    .arg(publish.then_some(at))
    .arg(at)
    .arg(id)
    .execute(conn)
    .await?;
    let action = if publish { "publish" } else { "withdraw" };
    append(
        conn,
        at,
        actor,
        NewEntry::of(action, "notice", Some(id), &row.title),
    )
    .await?;
    Ok(())
}
