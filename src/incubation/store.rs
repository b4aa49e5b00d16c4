//! Incubators, calls, applications, stays and services in the database, and the incubation
//! figures. Writes are a few statements each plus their audit entry, inside the caller's
//! transaction; every read a handler reaches takes the caller's `Scope` (an incubator is located
//! in its area, and so are its calls, applications and stays).

use super::{Decision, IncubatorLevel, NewApplication, NewCall, NewIncubator, NewStay};
use crate::areas::AreaId;
use crate::areas::store::{AreaRow, subtree_predicate};
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::Scope;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;

pub mod stays;

/// Appends ` and …` restricting the incubator aliased `alias` to what `scope` reaches: district
/// callers and the public everything, area officers their subtree, organization-tied accounts
/// nothing (they see their own applications through [`applications_of`]).
pub fn restrict(sql: &mut Sql, scope: &Scope, alias: &str) {
    match scope {
        Scope::All | Scope::Public => {}
        Scope::Limited { areas, .. } => {
            sql.push(" and ");
            subtree_predicate(sql, &format!("{alias}.area_id"), areas);
        }
    }
}

/// An incubator as stored, with its area and how many groups it hosts now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IncubatorRow {
    /// Id.
    pub id: i64,
    /// 名称.
    pub name: String,
    /// Level (machine name).
    pub level: String,
    /// Its area.
    pub area_id: i64,
    /// The area's code.
    pub area_code: String,
    /// The area's name.
    pub area_name: String,
    /// Focus domains (codes, comma-separated).
    pub focus: String,
    /// Places.
    pub capacity: i64,
    /// 地址.
    pub address: String,
    /// 运营方.
    pub operator: String,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Stays open now.
    pub hosting: i64,
}

impl IncubatorRow {
    /// The level.
    pub fn level(&self) -> IncubatorLevel {
        IncubatorLevel::parse(&self.level).unwrap_or(IncubatorLevel::Street)
    }

    /// Its area's id.
    pub fn area(&self) -> AreaId {
        AreaId(self.area_id)
    }
}

const INCUBATOR: &str = "select i.id, i.name, i.level, i.area_id, a.code as area_code, a.name as area_name, i.focus, i.capacity, i.address, i.operator, i.version, (select count(*) from incubation_stays s where s.incubator_id = i.id and s.ended_on is null) as hosting from incubators i join areas a on a.id = i.area_id where 1 = 1";

/// The incubators `scope` reaches, within `area`'s subtree when given, park first.
pub async fn incubators(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: Option<AreaId>,
) -> Result<Vec<IncubatorRow>> {
    let mut sql = Sql::new(INCUBATOR);
    restrict(&mut sql, scope, "i");
    if let Some(area) = area {
        sql.push(" and ");
        subtree_predicate(&mut sql, "i.area_id", &[area]);
    }
    sql.push(" order by case i.level when 'district' then 0 when 'functional' then 1 else 2 end, a.code, i.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Incubator `id`, if `scope` reaches it.
pub async fn incubator(conn: &mut Conn<'_>, scope: &Scope, id: i64) -> Result<IncubatorRow> {
    let mut sql = Sql::new(INCUBATOR);
    sql.push(" and i.id = ").push_arg(id);
    restrict(&mut sql, scope, "i");
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// Resolves focus words (domain codes or Chinese or English names) to domain codes.
async fn focus_codes(conn: &mut Conn<'_>, words: &[String]) -> Result<String> {
    let domains = crate::registry::store::list_domains(conn).await?;
    let mut codes: Vec<String> = Vec::new();
    for w in words {
        let Some(d) = domains
            .iter()
            .find(|d| d.code == *w || d.name_zh == *w || d.name_en.eq_ignore_ascii_case(w))
        else {
            return Err(Error::field(
                "focus",
                Msg::new("incubation.error.unknown_domain").with("value", w),
            ));
        };
        if !codes.contains(&d.code) {
            codes.push(d.code.clone());
        }
    }
    Ok(codes.join(","))
}

/// Checks that an incubator of `level` may serve `area`.
fn check_area(level: IncubatorLevel, area: &AreaRow) -> Result<()> {
    if area.level() == level.area_level() {
        Ok(())
    } else {
        Err(Error::field(
            "area_code",
            Msg::new("incubation.error.area_level"),
        ))
    }
}

/// Sets up an incubator serving `area`.
pub async fn create_incubator(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    area: &AreaRow,
    new: &NewIncubator,
) -> Result<i64> {
    check_area(new.level, area)?;
    let focus = focus_codes(conn, &new.focus).await?;
    let id = Sql::new("insert into incubators (name, level, area_id, focus, capacity, address, operator, version, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) returning id")
        .arg(new.name.as_str())
        .arg(new.level.as_str())
        .arg(area.id)
        .arg(focus)
        .arg(new.capacity)
        .arg(new.address.as_str())
        .arg(new.operator.as_str())
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "incubator", Some(id), &new.name),
    )
    .await?;
    Ok(id)
}

/// Changes an incubator at `version` (its level and area stay): the capacity may not fall below
/// the groups it hosts now.
pub async fn update_incubator(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    current: &IncubatorRow,
    version: i64,
    new: &NewIncubator,
) -> Result<()> {
    if new.capacity < current.hosting {
        return Err(Error::field(
            "capacity",
            Msg::new("incubation.error.capacity_below_hosting").with("hosting", current.hosting),
        ));
    }
    let focus = focus_codes(conn, &new.focus).await?;
    let changed = Sql::new("update incubators set name = $1, focus = $2, capacity = $3, address = $4, operator = $5, version = version + 1, updated_at = $6 where id = $7 and version = $8")
        .arg(new.name.as_str())
        .arg(focus)
        .arg(new.capacity)
        .arg(new.address.as_str())
        .arg(new.operator.as_str())
        .arg(at)
        .arg(current.id)
        .arg(version)
        .execute(conn)
        .await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("incubation.error.stale")));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("update", "incubator", Some(current.id), &new.name),
    )
    .await?;
    Ok(())
}

/// A call for entry, with its incubator and how many it has selected.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CallRow {
    /// Id.
    pub id: i64,
    /// Its incubator.
    pub incubator_id: i64,
    /// The incubator's name.
    pub incubator_name: String,
    /// 标题.
    pub title: String,
    /// 征集开始.
    pub opens_on: NaiveDate,
    /// 征集截止.
    pub closes_on: NaiveDate,
    /// 提供席位.
    pub places: i64,
    /// Applications accepted.
    pub accepted: i64,
}

const CALL: &str = "select c.id, c.incubator_id, i.name as incubator_name, c.title, c.opens_on, c.closes_on, c.places, (select count(*) from incubation_applications x where x.call_id = c.id and x.state = 'accepted') as accepted from incubation_calls c join incubators i on i.id = c.incubator_id where 1 = 1";

/// The calls of incubator `id`, newest first.
pub async fn calls_of(conn: &mut Conn<'_>, incubator_id: i64) -> Result<Vec<CallRow>> {
    let mut sql = Sql::new(CALL);
    sql.push(" and c.incubator_id = ")
        .push_arg(incubator_id)
        .push(" order by c.opens_on desc, c.id desc");
    Ok(sql.fetch_all(conn).await?)
}

/// Call `id`, if `scope` reaches its incubator.
pub async fn call(conn: &mut Conn<'_>, scope: &Scope, id: i64) -> Result<CallRow> {
    let mut sql = Sql::new(CALL);
    sql.push(" and c.id = ").push_arg(id);
    restrict(&mut sql, scope, "i");
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// Calls open on `on` (anyone may apply to them), closing soonest first.
pub async fn open_calls(conn: &mut Conn<'_>, on: NaiveDate) -> Result<Vec<CallRow>> {
    let mut sql = Sql::new(CALL);
    sql.push(" and c.opens_on <= ")
        .push_arg(on)
        .push(" and c.closes_on >= ")
        .push_arg(on)
        .push(" order by c.closes_on, c.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Opens a call for entry: it never offers more places than the incubator has.
pub async fn create_call(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    incubator: &IncubatorRow,
    new: &NewCall,
) -> Result<i64> {
    if new.places > incubator.capacity {
        return Err(Error::field(
            "places",
            Msg::new("incubation.error.places_over_capacity").with("capacity", incubator.capacity),
        ));
    }
    let id = Sql::new("insert into incubation_calls (incubator_id, title, opens_on, closes_on, places, created_at) values ($1, $2, $3, $4, $5, $6) returning id")
        .arg(incubator.id)
        .arg(new.title.as_str())
        .arg(new.opens_on)
        .arg(new.closes_on)
        .arg(new.places)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "incubation_call", Some(id), &new.title),
    )
    .await?;
    Ok(id)
}

/// An application to a call, with its call and (when selected) its stay.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApplicationRow {
    /// Id.
    pub id: i64,
    /// The call.
    pub call_id: i64,
    /// The call's title.
    pub call_title: String,
    /// The incubator.
    pub incubator_id: i64,
    /// The incubator's name.
    pub incubator_name: String,
    /// The registered organization applying, if it is one.
    pub org_id: Option<i64>,
    /// The group's (or organization's) name.
    pub group_name: String,
    /// 联系人及电话.
    pub contact: String,
    /// Domain code.
    pub domain: String,
    /// 孵化计划.
    pub plan: String,
    /// The account that applied, when not entered by staff.
    pub applicant_user_id: Option<i64>,
    /// `pending`, `accepted` or `rejected`.
    pub state: String,
    /// The reason of the decision.
    pub reason: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// The stay that selection opened.
    pub stay_id: Option<i64>,
}

const APPLICATION: &str = "select x.id, x.call_id, c.title as call_title, c.incubator_id, i.name as incubator_name, x.org_id, x.group_name, x.contact, x.domain, x.plan, x.applicant_user_id, x.state, x.reason, x.decided_by, (select min(s.id) from incubation_stays s where s.application_id = x.id) as stay_id from incubation_applications x join incubation_calls c on c.id = x.call_id join incubators i on i.id = c.incubator_id where 1 = 1";

/// The applications to incubator `id`'s calls, pending first.
pub async fn applications_to(
    conn: &mut Conn<'_>,
    incubator_id: i64,
) -> Result<Vec<ApplicationRow>> {
    let mut sql = Sql::new(APPLICATION);
    sql.push(" and c.incubator_id = ")
        .push_arg(incubator_id)
        .push(" order by case x.state when 'pending' then 0 else 1 end, x.id desc");
    Ok(sql.fetch_all(conn).await?)
}

/// Application `id`, if `scope` reaches its incubator.
pub async fn application(conn: &mut Conn<'_>, scope: &Scope, id: i64) -> Result<ApplicationRow> {
    let mut sql = Sql::new(APPLICATION);
    sql.push(" and x.id = ").push_arg(id);
    restrict(&mut sql, scope, "i");
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// The applications an account filed, or filed for its organizations, newest first.
pub async fn applications_of(
    conn: &mut Conn<'_>,
    user: crate::auth::UserId,
    orgs: &[crate::registry::OrgId],
) -> Result<Vec<ApplicationRow>> {
    let mut sql = Sql::new(APPLICATION);
    sql.push(" and (x.applicant_user_id = ")
        .push_arg(user)
        .push(" or x.org_id in (")
        .push_list(orgs)
        .push(")) order by x.id desc");
    Ok(sql.fetch_all(conn).await?)
}

/// True when `code` is a domain of the dictionary.
async fn known_domain(conn: &mut Conn<'_>, code: &str) -> Result<bool> {
    Ok(crate::registry::store::find_domain(conn, code)
        .await?
        .is_some())
}

/// Files an application to `call` on `on` (which must fall within the call's dates): by the
/// organization `org` (its name is used), or by a group; `applicant` is the account that filed
/// it (none when staff entered it). One open application per name and call.
#[expect(clippy::too_many_arguments, reason = "one write, every input it needs")]
pub async fn file_application(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    on: NaiveDate,
    call: &CallRow,
    org: Option<&crate::registry::store::OrgRow>,
    applicant: Option<crate::auth::UserId>,
    new: &NewApplication,
) -> Result<i64> {
    let mut e = FieldErrors::new();
    if on < call.opens_on || on > call.closes_on {
        e.add("call", Msg::new("incubation.error.call_closed"));
    }
    if !known_domain(conn, &new.domain).await? {
        e.add("domain", Msg::new("error.field.choice"));
    }
    let name = org.map_or(new.group_name.clone(), |o| o.name.clone());
    let same = Sql::new("select count(*) from incubation_applications where call_id = $1 and group_name = $2 and state <> 'rejected'")
        .arg(call.id)
        .arg(name.as_str())
        .fetch_i64(conn)
        .await?;
    if same > 0 {
        e.add(
            if org.is_some() { "org" } else { "group_name" },
            Msg::new("incubation.error.already_applied"),
        );
    }
    if !e.is_empty() {
        return Err(Error::Invalid(e));
    }
    let id = Sql::new("insert into incubation_applications (call_id, org_id, group_name, contact, domain, plan, applicant_user_id, state, reason, decided_by, decided_at, created_at) values ($1, $2, $3, $4, $5, $6, $7, 'pending', null, null, null, $8) returning id")
        .arg(call.id)
        .arg(org.map(|o| o.id))
        .arg(name.as_str())
        .arg(new.contact.as_str())
        .arg(new.domain.as_str())
        .arg(new.plan.as_str())
        .arg(applicant.map(|u| u.0))
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("apply", "incubation_application", Some(id), &name),
    )
    .await?;
    Ok(id)
}

/// Refuses a new stay at a full incubator.
async fn check_room(conn: &mut Conn<'_>, incubator_id: i64, field: &'static str) -> Result<()> {
    let (capacity, hosting): (i64, i64) = Sql::new("select i.capacity, (select count(*) from incubation_stays s where s.incubator_id = i.id and s.ended_on is null) from incubators i where i.id = $1")
        .arg(incubator_id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)?;
    if hosting >= capacity {
        return Err(Error::field(
            field,
            Msg::new("incubation.error.incubator_full").with("capacity", capacity),
        ));
    }
    Ok(())
}

/// Decides a pending application: a rejection records its reason; a selection records its
/// reason and opens the stay, within the call's places and the incubator's capacity.
pub async fn decide(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    app: &ApplicationRow,
    decision: &Decision,
) -> Result<Option<i64>> {
    if app.state != "pending" {
        return Err(Error::Conflict(Msg::new("incubation.error.decided")));
    }
    let (state, reason) = match decision {
        Decision::Accept { reason, .. } => ("accepted", reason),
        Decision::Reject { reason } => ("rejected", reason),
    };
    let mut stay = None;
    if let Decision::Accept {
        entered_on,
        planned_end_on,
        ..
    } = decision
    {
        let (places, accepted): (i64, i64) = Sql::new("select c.places, (select count(*) from incubation_applications x where x.call_id = c.id and x.state = 'accepted') from incubation_calls c where c.id = $1")
            .arg(app.call_id)
            .fetch_one(conn)
            .await?;
        if accepted >= places {
            return Err(Error::field(
                "decision",
                Msg::new("incubation.error.call_full").with("places", places),
            ));
        }
        check_room(conn, app.incubator_id, "decision").await?;
        stay = Some(NewStay {
            application_id: Some(app.id),
            org_id: app.org_id,
            group_name: app.group_name.clone(),
            domain: app.domain.clone(),
            entered_on: *entered_on,
            planned_end_on: *planned_end_on,
        });
    }
    let changed = Sql::new("update incubation_applications set state = $1, reason = $2, decided_by = $3, decided_at = $4 where id = $5 and state = 'pending'")
        .arg(state)
        .arg(reason.as_str())
        .arg(actor.name.as_str())
        .arg(at)
        .arg(app.id)
        .execute(conn)
        .await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("incubation.error.decided")));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            state,
            "incubation_application",
            Some(app.id),
            &format!("{}: {reason}", app.group_name),
        ),
    )
    .await?;
    match stay {
        Some(new) => Ok(Some(
            create_stay(conn, actor, at, app.incubator_id, &new).await?,
        )),
        None => Ok(None),
    }
}

/// Opens a stay at incubator `incubator_id`, if it has room.
pub async fn create_stay(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    incubator_id: i64,
    new: &NewStay,
) -> Result<i64> {
    if new.planned_end_on <= new.entered_on {
        return Err(Error::field(
            "planned_end_on",
            Msg::new("incubation.error.end_before_entry"),
        ));
    }
    check_room(conn, incubator_id, "incubator").await?;
    let id = Sql::new("insert into incubation_stays (incubator_id, application_id, org_id, group_name, domain, entered_on, planned_end_on, ended_on, outcome, end_reason, registration_application_id, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, null, null, null, null, $8, $8) returning id")
        .arg(incubator_id)
        .arg(new.application_id)
        .arg(new.org_id)
        .arg(new.group_name.as_str())
        .arg(new.domain.as_str())
        .arg(new.entered_on)
        .arg(new.planned_end_on)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("enter", "incubation_stay", Some(id), &new.group_name),
    )
    .await?;
    Ok(id)
}
