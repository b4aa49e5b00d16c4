//! Consultations in the database.

use super::Question;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::UserId;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use crate::i18n::Msg;

/// A consultation as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsultationRow {
    /// Id.
    pub id: i64,
    /// When asked.
    pub asked_at: Timestamp,
    /// 称呼.
    pub name: String,
    /// 联系方式 (staff only).
    pub contact: String,
    /// 咨询内容.
    pub question: String,
    /// First-inquiry owner.
    pub owner_user_id: Option<i64>,
    /// Their account name.
    pub owner: Option<String>,
    /// 答复.
    pub answer: Option<String>,
    /// When answered.
    pub answered_at: Option<Timestamp>,
    /// Shown in the public FAQ.
    pub published: bool,
    /// Optimistic-concurrency version.
    pub version: i64,
}

const SELECT: &str = "select c.id, c.asked_at, c.name, c.contact, c.question, c.owner_user_id, u.username as owner, c.answer, c.answered_at, c.published, c.version from consultations c left join users u on u.id = c.owner_user_id";

/// Questions asked from `ip` since `since` (for the rate limit).
pub async fn asked_from(conn: &mut Conn<'_>, ip: &str, since: Timestamp) -> Result<i64> {
    Ok(
        Sql::new("select count(*) from consultations where ip = $1 and asked_at >= $2")
            .arg(ip)
            .arg(since)
            .fetch_i64(conn)
            .await?,
    )
}

/// Records a question.
pub async fn ask(
    conn: &mut Conn<'_>,
    at: Timestamp,
    ip: Option<&str>,
    q: &Question,
) -> Result<i64> {
    let id = Sql::new("insert into consultations (asked_at, name, contact, question, ip, owner_user_id, answer, answered_at, published, version) values ($1, $2, $3, $4, $5, null, null, null, false, 1) returning id")
        .arg(at)
        .arg(q.name.as_str())
        .arg(q.contact.as_str())
        .arg(q.question.as_str())
        .arg(ip)
        .fetch_i64(conn)
        .await?;
    let actor = Actor {
        name: "public".into(),
        user_id: None,
        ip: ip.map(str::to_owned),
    };
    append(
        conn,
        at,
        &actor,
        NewEntry::of("ask", "consultation", Some(id), "question"),
    )
    .await?;
    Ok(id)
}

/// Every consultation, unanswered first (oldest first), then answered (newest first).
pub async fn list(conn: &mut Conn<'_>) -> Result<Vec<ConsultationRow>> {
    let mut rows: Vec<ConsultationRow> =
        Sql::new(&format!("{SELECT} order by c.id desc limit 500"))
            .fetch_all(conn)
            .await?;
    rows.sort_by_key(|r| {
        (
            r.answered_at.is_some(),
            if r.answered_at.is_some() { -r.id } else { r.id },
        )
    });
    Ok(rows)
}

/// One consultation.
pub async fn find(conn: &mut Conn<'_>, id: i64) -> Result<Option<ConsultationRow>> {
    Ok(Sql::new(&format!("{SELECT} where c.id = $1"))
        .arg(id)
        .fetch_optional(conn)
        .await?)
}

/// The published questions and answers, newest first.
pub async fn faq(conn: &mut Conn<'_>) -> Result<Vec<ConsultationRow>> {
    Ok(Sql::new(&format!("{SELECT} where c.published = true and c.answer is not null order by c.answered_at desc limit 200"))
        .fetch_all(conn)
        .await?)
}

/// Takes a consultation as its first-inquiry owner (if nobody owns it yet).
pub async fn claim(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: i64,
    user: UserId,
) -> Result<()> {
    let row = find(conn, id).await?.ok_or(Error::NotFound)?;
    if row.owner_user_id.is_some_and(|o| o != user.0) {
        return Err(Error::Conflict(Msg::new("consult.error.owned")));
    }
    Sql::new("update consultations set owner_user_id = $1, version = version + 1 where id = $2 and (owner_user_id is null or owner_user_id = $1)")
        .arg(user)
        .arg(id)
        .execute(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("claim", "consultation", Some(id), "owner"),
    )
    .await?;
    Ok(())
}

/// Answers a consultation at the version the staff member saw; the first to act owns it, and
/// someone else's item needs a handover first.
#[expect(clippy::too_many_arguments, reason = "one write, every input it needs")]
pub async fn answer(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: i64,
    user: UserId,
    version: i64,
    text: &str,
    publish: bool,
) -> Result<()> {
    let row = find(conn, id).await?.ok_or(Error::NotFound)?;
    if row.owner_user_id.is_some_and(|o| o != user.0) {
        return Err(Error::Conflict(Msg::new("consult.error.owned")));
    }
    let answered_at = row.answered_at.unwrap_or(at);
    let changed = Sql::new("update consultations set owner_user_id = $1, answer = $2, answered_at = $3, published = $4, version = version + 1 where id = $5 and version = $6")
        .arg(user)
        .arg(text)
        .arg(answered_at)
        .arg(publish)
        .arg(id)
        .arg(version)
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
            "answer",
            "consultation",
            Some(id),
            if publish { "published" } else { "answered" },
        ),
    )
    .await?;
    Ok(())
}

/// A consultation of the past, as the demo brings it in.
#[derive(Debug, Clone)]
pub struct PastConsultation {
    /// When asked.
    pub asked_at: Timestamp,
    /// The question.
    pub question: Question,
    /// Answer, when, by whom, and whether published.
    pub answered: Option<(String, Timestamp, UserId, bool)>,
}

/// Records a past consultation as it happened.
pub async fn insert_past(conn: &mut Conn<'_>, past: &PastConsultation) -> Result<i64> {
    let (answer, answered_at, owner, published) = match &past.answered {
        Some((a, at, owner, published)) => (Some(a.clone()), Some(*at), Some(owner.0), *published),
        None => (None, None, None, false),
    };
    Ok(Sql::new("insert into consultations (asked_at, name, contact, question, ip, owner_user_id, answer, answered_at, published, version) values ($1, $2, $3, $4, null, $5, $6, $7, $8, 1) returning id")
        .arg(past.asked_at)
        .arg(past.question.name.as_str())
        .arg(past.question.contact.as_str())
        .arg(past.question.question.as_str())
        .arg(owner)
        .arg(answer)
        .arg(answered_at)
        .arg(published)
        .fetch_i64(conn)
        .await?)
}
