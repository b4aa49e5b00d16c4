//! Stays as stored: their services, end and registration link, the applicant's own stays, and
//! an organization's incubation history. Writes are a few statements each plus their audit
//! entry, inside the caller's transaction.

use super::restrict;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::Scope;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use crate::incubation::{EndStay, NewService, Outcome};
use chrono::NaiveDate;

/// A stay, with its incubator, its organization (when registered) and its subsidies.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StayRow {
    /// Id.
    pub id: i64,
    /// The incubator.
    pub incubator_id: i64,
    /// The incubator's name.
    pub incubator_name: String,
    /// The incubator's level.
    pub incubator_level: String,
    /// The organization, once registered (or from the start).
    pub org_id: Option<i64>,
    /// Its current name.
    pub org_name: Option<String>,
    /// The group's name at entry.
    pub group_name: String,
    /// Domain code.
    pub domain: String,
    /// 入孵日期.
    pub entered_on: NaiveDate,
    /// 计划出壳日期.
    pub planned_end_on: NaiveDate,
    /// 出壳/退出日期.
    pub ended_on: Option<NaiveDate>,
    /// `graduated` or `exited`.
    pub outcome: Option<String>,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// The establishment (or filing) application chosen as the group's registration.
    pub registration_application_id: Option<i64>,
    /// Micro-subsidies given, in fen.
    pub subsidy_fen: i64,
}

impl StayRow {
    /// How it ended, if it has.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome.as_deref().and_then(Outcome::parse)
    }
}

const STAY: &str = "select s.id, s.incubator_id, i.name as incubator_name, i.level as incubator_level, s.org_id, o.name as org_name, s.group_name, s.domain, s.entered_on, s.planned_end_on, s.ended_on, s.outcome, s.end_reason, s.registration_application_id, cast(coalesce((select sum(v.amount_fen) from incubation_services v where v.stay_id = s.id), 0) as bigint) as subsidy_fen from incubation_stays s join incubators i on i.id = s.incubator_id left join organizations o on o.id = s.org_id where 1 = 1";

/// The stays of incubator `id`, open ones first.
pub async fn stays_at(conn: &mut Conn<'_>, incubator_id: i64) -> Result<Vec<StayRow>> {
    let mut sql = Sql::new(STAY);
    sql.push(" and s.incubator_id = ")
        .push_arg(incubator_id)
        .push(" order by case when s.ended_on is null then 0 else 1 end, s.entered_on desc, s.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Stay `id`, if `scope` reaches its incubator.
pub async fn stay(conn: &mut Conn<'_>, scope: &Scope, id: i64) -> Result<StayRow> {
    let mut sql = Sql::new(STAY);
    sql.push(" and s.id = ").push_arg(id);
    restrict(&mut sql, scope, "i");
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// Stay `id`, if it came from an application filed by account `user` (the applicant's own).
pub async fn stay_of_applicant(
    conn: &mut Conn<'_>,
    user: crate::auth::UserId,
    id: i64,
) -> Result<StayRow> {
    let mut sql = Sql::new(STAY);
    sql.push(" and s.id = ")
        .push_arg(id)
        .push(" and s.application_id in (select x.id from incubation_applications x where x.applicant_user_id = ")
        .push_arg(user)
        .push(")");
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// The registration applications (preparation, establishment, filing; not rejected or
/// withdrawn) account `user` filed: (number, name), for linking its group's stay.
pub async fn registration_applications_of(
    conn: &mut Conn<'_>,
    user: crate::auth::UserId,
) -> Result<Vec<(i64, String)>> {
    Ok(Sql::new("select id, org_name from applications where applicant_user_id = $1 and kind in ('preparation', 'establishment', 'filing') and state not in ('rejected', 'withdrawn') order by id desc")
        .arg(user)
        .fetch_all(conn)
        .await?)
}

/// The stays of organization `org` (its incubation history, public), oldest first.
pub async fn stays_of_org(
    conn: &mut Conn<'_>,
    org: crate::registry::OrgId,
) -> Result<Vec<StayRow>> {
    let mut sql = Sql::new(STAY);
    sql.push(" and s.org_id = ")
        .push_arg(org)
        .push(" order by s.entered_on, s.id");
    Ok(sql.fetch_all(conn).await?)
}

/// A service given during a stay.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceRow {
    /// Id.
    pub id: i64,
    /// The stay.
    pub stay_id: i64,
    /// Kind (machine name).
    pub kind: String,
    /// 日期.
    pub given_on: NaiveDate,
    /// 内容.
    pub description: String,
    /// Amount in fen, for a subsidy.
    pub amount_fen: Option<i64>,
}

/// The services of stays `ids`, by date.
pub async fn services(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<ServiceRow>> {
    let mut sql = Sql::new(
        "select id, stay_id, kind, given_on, description, amount_fen from incubation_services where stay_id in (",
    );
    sql.push_list(ids).push(") order by given_on, id");
    Ok(sql.fetch_all(conn).await?)
}

/// Records a service given during `stay`: dated within the stay and not after `today`.
pub async fn add_service(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    today: NaiveDate,
    stay: &StayRow,
    new: &NewService,
) -> Result<i64> {
    let last = stay.ended_on.unwrap_or(today).min(today);
    if new.given_on < stay.entered_on || new.given_on > last {
        return Err(Error::field(
            "given_on",
            Msg::new("incubation.error.outside_stay")
                .with("from", stay.entered_on)
                .with("to", last),
        ));
    }
    let id = Sql::new("insert into incubation_services (stay_id, kind, given_on, description, amount_fen, created_at) values ($1, $2, $3, $4, $5, $6) returning id")
        .arg(stay.id)
        .arg(new.kind.as_str())
        .arg(new.given_on)
        .arg(new.description.as_str())
        .arg(new.amount_fen)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    Sql::new("update incubation_stays set updated_at = $1 where id = $2")
        .arg(at)
        .arg(stay.id)
        .execute(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "service",
            "incubation_stay",
            Some(stay.id),
            &format!("{}: {}", new.kind.as_str(), new.description),
        ),
    )
    .await?;
    Ok(id)
}

/// Ends an open stay by graduation or exit, dated after its entry and not after `today`.
pub async fn end_stay(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    today: NaiveDate,
    stay: &StayRow,
    end: &EndStay,
) -> Result<()> {
    if end.ended_on < stay.entered_on {
        return Err(Error::field(
            "ended_on",
            Msg::new("incubation.error.ended_before_entry").with("entered_on", stay.entered_on),
        ));
    }
    if end.ended_on > today {
        return Err(Error::field(
            "ended_on",
            Msg::new("incubation.error.future"),
        ));
    }
    let changed = Sql::new("update incubation_stays set ended_on = $1, outcome = $2, end_reason = $3, updated_at = $4 where id = $5 and ended_on is null")
        .arg(end.ended_on)
        .arg(end.outcome.as_str())
        .arg(end.reason.as_str())
        .arg(at)
        .arg(stay.id)
        .execute(conn)
        .await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("incubation.error.ended")));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            end.outcome.as_str(),
            "incubation_stay",
            Some(stay.id),
            &format!("{}: {}", stay.group_name, end.reason),
        ),
    )
    .await?;
    Ok(())
}

/// Links the stay of a group not yet registered to the application that registers it
/// (establishment, preparation or filing; chosen explicitly by staff): when that application is
/// already approved the stay passes to its organization at once, otherwise at approval
/// ([`link_registered`]).
pub async fn link_registration(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    stay: &StayRow,
    application_id: i64,
) -> Result<()> {
    if stay.org_id.is_some() {
        return Err(Error::field(
            "application",
            Msg::new("incubation.error.already_registered"),
        ));
    }
    let found: Option<(String, String, Option<i64>)> =
        Sql::new("select kind, state, org_id from applications where id = $1")
            .arg(application_id)
            .fetch_optional(conn)
            .await?;
    let org =
        match found {
            Some((kind, state, org))
                if matches!(kind.as_str(), "preparation" | "establishment" | "filing")
                    && !matches!(state.as_str(), "rejected" | "withdrawn") =>
            {
                if state == "approved" { org } else { None }
            }
            _ => {
                return Err(Error::field(
                    "application",
                    Msg::new("incubation.error.not_registration"),
                ));
            }
        };
    Sql::new("update incubation_stays set registration_application_id = $1, org_id = $2, updated_at = $3 where id = $4")
        .arg(application_id)
        .arg(org)
        .arg(at)
        .arg(stay.id)
        .execute(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "link",
            "incubation_stay",
            Some(stay.id),
            &format!("application #{application_id}"),
        ),
    )
    .await?;
    Ok(())
}

/// Called by the approvals flow when application `application_id` is approved, in its
/// transaction: the stays linked to it pass to the organization it registered.
pub async fn link_registered(
    conn: &mut Conn<'_>,
    at: Timestamp,
    application_id: i64,
    org: crate::registry::OrgId,
) -> Result<u64> {
    Ok(Sql::new("update incubation_stays set org_id = $1, updated_at = $2 where registration_application_id = $3 and org_id is null")
        .arg(org)
        .arg(at)
        .arg(application_id)
        .execute(conn)
        .await?)
}
