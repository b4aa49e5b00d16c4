//! Practitioners, placements, training sessions and sign-ups in the database, and the ratio and
//! training figures counted from them. Writes are a few statements plus their audit entry,
//! inside the caller's transaction.

use super::{Practitioner, PractitionerKind, Training, workers_needed};
use crate::areas::AreaId;
use crate::areas::store::{AreaRow, subtree_predicate};
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::Scope;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;

/// Statuses of organizations that count for the ratio (still working, listed or not).
const LIVE: &str = "o.status in ('active', 'abnormal')";

/// Appends ` and (…)` keeping rows whose `column` (an area id) lies in the scope's areas.
/// Organization-only scopes see no practitioner.
fn restrict_area(sql: &mut Sql, scope: &Scope, column: &str) {
    if let Scope::Limited { areas, .. } = scope {
        sql.push(" and ");
        if areas.is_empty() {
            sql.push("1 = 0");
        } else {
            subtree_predicate(sql, column, areas);
        }
    }
}

/// A practitioner as stored, with the area served and their open placements.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PractitionerRow {
    /// Id.
    pub id: i64,
    /// [`PractitionerKind`] machine name.
    pub kind: String,
    /// 姓名.
    pub name: String,
    /// Qualification machine name.
    pub qualification: String,
    /// Employer kind machine name.
    pub employer_kind: String,
    /// 用人单位.
    pub employer_name: String,
    /// 岗位.
    pub role: String,
    /// The area served.
    pub area_id: i64,
    /// Its code.
    pub area_code: String,
    /// Its name.
    pub area_name: String,
    /// 联系电话.
    pub phone: String,
    /// 到岗日期.
    pub started_on: NaiveDate,
    /// 离岗日期.
    pub ended_on: Option<NaiveDate>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Placements open today.
    pub load: i64,
}

impl PractitionerRow {
    /// The typed kind.
    pub fn kind(&self) -> PractitionerKind {
        PractitionerKind::parse(&self.kind).unwrap_or(PractitionerKind::SocialWorker)
    }
}

/// Selects practitioners with their load on the date bound as `$1`.
const PRACTITIONER: &str = "select w.id, w.kind, w.name, w.qualification, w.employer_kind, w.employer_name, w.role, w.area_id, a.code as area_code, a.name as area_name, w.phone, w.started_on, w.ended_on, w.version, (select count(*) from placements p where p.practitioner_id = w.id and p.started_on <= $1 and (p.ended_on is null or p.ended_on >= $1)) as load from practitioners w join areas a on a.id = w.area_id where 1 = 1";

/// What the practitioner list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct PractitionerFilter {
    /// Only this kind.
    pub kind: Option<PractitionerKind>,
    /// Only those serving in this area or below.
    pub area: Option<AreaId>,
    /// Also those who have left.
    pub former: bool,
}

/// The practitioners `scope` reaches, as of `today`, by area and name.
pub async fn practitioners(
    conn: &mut Conn<'_>,
    scope: &Scope,
    filter: &PractitionerFilter,
    today: NaiveDate,
) -> Result<Vec<PractitionerRow>> {
    let mut sql = Sql::new(PRACTITIONER).arg(today);
    restrict_area(&mut sql, scope, "w.area_id");
    if let Some(kind) = filter.kind {
        sql.push(" and w.kind = ").push_arg(kind.as_str());
    }
    if let Some(area) = filter.area {
        sql.push(" and ");
        subtree_predicate(&mut sql, "w.area_id", &[area]);
    }
    if !filter.former {
        sql.push(" and (w.ended_on is null or w.ended_on >= ")
            .push_arg(today)
            .push(")");
    }
    sql.push(" order by a.code, w.kind, w.name, w.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Practitioner `id` as of `today`, if `scope` reaches them.
pub async fn practitioner(
    conn: &mut Conn<'_>,
    scope: &Scope,
    id: i64,
    today: NaiveDate,
) -> Result<PractitionerRow> {
    let mut sql = Sql::new(PRACTITIONER).arg(today);
    sql.push(" and w.id = ").push_arg(id);
    restrict_area(&mut sql, scope, "w.area_id");
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// Enters a practitioner serving `area`.
pub async fn create_practitioner(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    area: &AreaRow,
    p: &Practitioner,
) -> Result<i64> {
    let id = Sql::new("insert into practitioners (kind, name, qualification, employer_kind, employer_name, role, area_id, phone, started_on, ended_on, version, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) returning id")
        .arg(p.kind.as_str())
        .arg(p.name.as_str())
        .arg(p.qualification.as_str())
        .arg(p.employer_kind.as_str())
        .arg(p.employer_name.as_str())
        .arg(p.role.as_str())
        .arg(area.id)
        .arg(p.phone.as_str())
        .arg(p.started_on)
        .arg(p.ended_on)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "practitioner", Some(id), &p.name),
    )
    .await?;
    Ok(id)
}

/// Changes a practitioner's particulars at `version`. Leaving ends their open placements on
/// the same day, so nobody keeps organizations they no longer serve.
pub async fn update_practitioner(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    current: &PractitionerRow,
    version: i64,
    area: &AreaRow,
    p: &Practitioner,
) -> Result<()> {
    if p.kind != current.kind() && current.load > 0 {
        return Err(Error::field(
            "kind",
            Msg::new("talent.error.kind_has_placements"),
        ));
    }
    let changed = Sql::new("update practitioners set kind = $1, name = $2, qualification = $3, employer_kind = $4, employer_name = $5, role = $6, area_id = $7, phone = $8, started_on = $9, ended_on = $10, version = version + 1, updated_at = $11 where id = $12 and version = $13")
        .arg(p.kind.as_str())
        .arg(p.name.as_str())
        .arg(p.qualification.as_str())
        .arg(p.employer_kind.as_str())
        .arg(p.employer_name.as_str())
        .arg(p.role.as_str())
        .arg(area.id)
        .arg(p.phone.as_str())
        .arg(p.started_on)
        .arg(p.ended_on)
        .arg(at)
        .arg(current.id)
        .arg(version)
        .execute(conn)
        .await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("talent.error.stale")));
    }
    if let Some(left) = p.ended_on {
        let early = Sql::new(
            "select count(*) from placements where practitioner_id = $1 and started_on > $2",
        )
        .arg(current.id)
        .arg(left)
        .fetch_i64(conn)
        .await?;
        if early > 0 {
            return Err(Error::field(
                "ended_on",
                Msg::new("talent.error.left_before_placement"),
            ));
        }
        Sql::new("update placements set ended_on = $1 where practitioner_id = $2 and (ended_on is null or ended_on > $1)")
            .arg(left)
            .arg(current.id)
            .execute(conn)
            .await?;
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("update", "practitioner", Some(current.id), &p.name),
    )
    .await?;
    Ok(())
}

/// A placement with the organization served.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PlacementRow {
    /// Id.
    pub id: i64,
    /// The practitioner.
    pub practitioner_id: i64,
    /// The organization.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Its kind (machine name).
    pub org_kind: String,
    /// From.
    pub started_on: NaiveDate,
    /// Until.
    pub ended_on: Option<NaiveDate>,
}

/// Every placement of practitioner `id`, open ones first.
pub async fn placements(conn: &mut Conn<'_>, id: i64) -> Result<Vec<PlacementRow>> {
    Ok(Sql::new("select p.id, p.practitioner_id, p.org_id, o.name as org_name, o.kind as org_kind, p.started_on, p.ended_on from placements p join organizations o on o.id = p.org_id where p.practitioner_id = $1 order by case when p.ended_on is null then 0 else 1 end, o.name, p.id")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// The live organizations located in the area a social worker serves that they are not placed
/// with today: the choices for a new placement.
pub async fn placeable(
    conn: &mut Conn<'_>,
    worker: &PractitionerRow,
    today: NaiveDate,
) -> Result<Vec<(i64, String)>> {
    let mut sql = Sql::new("select o.id, o.name from organizations o where ");
    sql.push(LIVE).push(" and ");
    subtree_predicate(&mut sql, "o.area_id", &[AreaId(worker.area_id)]);
    sql.push(" and not exists (select 1 from placements p where p.org_id = o.id and p.practitioner_id = ")
        .push_arg(worker.id)
        .push(" and (p.ended_on is null or p.ended_on >= ")
        .push_arg(today)
        .push(")) order by o.name_key, o.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Places social worker `worker` with organization `org_id` from `started_on`: the
/// organization must be live and located in the area the worker serves, within the worker's
/// time in post, and not already served by them.
pub async fn place(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    worker: &PractitionerRow,
    org_id: i64,
    started_on: NaiveDate,
) -> Result<i64> {
    if worker.kind() != PractitionerKind::SocialWorker {
        return Err(Error::field(
            "org_id",
            Msg::new("talent.error.not_social_worker"),
        ));
    }
    let mut sql = Sql::new("select o.name from organizations o where o.id = ");
    sql.push_arg(org_id).push(" and ").push(LIVE).push(" and ");
    subtree_predicate(&mut sql, "o.area_id", &[AreaId(worker.area_id)]);
    let org: Option<(String,)> = sql.fetch_optional(conn).await?;
    let Some((org_name,)) = org else {
        return Err(Error::field(
            "org_id",
            Msg::new("talent.error.outside_area"),
        ));
    };
    if started_on < worker.started_on || worker.ended_on.is_some_and(|left| started_on > left) {
        return Err(Error::field(
            "started_on",
            Msg::new("talent.error.outside_service"),
        ));
    }
    let open = Sql::new("select count(*) from placements where practitioner_id = $1 and org_id = $2 and (ended_on is null or ended_on >= $3)")
        .arg(worker.id)
        .arg(org_id)
        .arg(started_on)
        .fetch_i64(conn)
        .await?;
    if open > 0 {
        return Err(Error::field(
            "org_id",
            Msg::new("talent.error.already_placed"),
        ));
    }
    let id = Sql::new("insert into placements (practitioner_id, org_id, started_on, ended_on) values ($1, $2, $3, $4) returning id")
        .arg(worker.id)
        .arg(org_id)
        .arg(started_on)
        .arg(worker.ended_on)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "place",
            "practitioner",
            Some(worker.id),
            &format!("{} → {org_name}", worker.name),
        ),
    )
    .await?;
    Ok(id)
}

/// Ends placement `id` of `worker` on `ended_on` (not before it started).
pub async fn end_placement(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    worker: &PractitionerRow,
    id: i64,
    ended_on: NaiveDate,
) -> Result<()> {
    let placement = placements(conn, worker.id)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(Error::NotFound)?;
    if ended_on < placement.started_on {
        return Err(Error::field(
            "ended_on",
            Msg::new("talent.error.ends_before_start"),
        ));
    }
    if placement.ended_on.is_some_and(|d| d <= ended_on) {
        return Err(Error::field(
            "ended_on",
            Msg::new("talent.error.already_ended"),
        ));
    }
    Sql::new("update placements set ended_on = $1 where id = $2")
        .arg(ended_on)
        .arg(id)
        .execute(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "unplace",
            "practitioner",
            Some(worker.id),
            &format!("{} ↛ {}", worker.name, placement.org_name),
        ),
    )
    .await?;
    Ok(())
}

/// The ratio figures of one area as of a day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RatioFigures {
    /// Live organizations located there.
    pub organizations: i64,
    /// Social workers in post serving it.
    pub social_workers: i64,
    /// Professionals in post there.
    pub professionals: i64,
    /// Social workers the ratio asks for.
    pub needed: i64,
    /// Live organizations with no social worker placed with them.
    pub without_social_worker: i64,
    /// Social workers serving more organizations than the load.
    pub over_load: i64,
}

/// Counts practitioners of `kind` in post on `today` in `area`'s subtree.
async fn in_post(
    conn: &mut Conn<'_>,
    area: AreaId,
    kind: PractitionerKind,
    today: NaiveDate,
) -> Result<i64> {
    Ok(in_post_sql("select count(*)", area, kind, today)
        .fetch_i64(conn)
        .await?)
}

/// The practitioners of `kind` in post on `day` (from their start to their last day, both
/// included) in `area`'s subtree, as `columns` of `w`: `count(*)` for the figure, row columns
/// for its list.
pub fn in_post_sql(columns: &str, area: AreaId, kind: PractitionerKind, day: NaiveDate) -> Sql {
    let mut sql = Sql::new(columns);
    sql.push(" from practitioners w where w.kind = ")
        .push_arg(kind.as_str())
        .push(" and w.started_on <= ")
        .push_arg(day)
        .push(" and (w.ended_on is null or w.ended_on >= ")
        .push_arg(day)
        .push(") and ");
    subtree_predicate(&mut sql, "w.area_id", &[area]);
    sql
}

/// The live organizations of `area` with no open placement on `today`: `count(*)` or their
/// ids and names.
fn without_worker_sql(select: &str, area: AreaId, today: NaiveDate) -> Sql {
    let mut sql = Sql::new(select);
    sql.push(" from organizations o join areas a on a.id = o.area_id where ")
        .push(LIVE)
        .push(" and ");
    subtree_predicate(&mut sql, "o.area_id", &[area]);
    sql.push(
        " and not exists (select 1 from placements p where p.org_id = o.id and p.started_on <= ",
    )
    .push_arg(today)
    .push(" and (p.ended_on is null or p.ended_on >= ")
    .push_arg(today)
    .push("))");
    sql
}

/// Social workers of `area` whose open placements on `today` exceed `load`: `count(*)` or
/// their ids, names and loads.
fn over_load_sql(select: &str, area: AreaId, today: NaiveDate, load: i64) -> Sql {
    let mut sql = Sql::new(select);
    sql.push(" from practitioners w join (select p.practitioner_id, count(*) as load from placements p where p.started_on <= ")
        .push_arg(today)
        .push(" and (p.ended_on is null or p.ended_on >= ")
        .push_arg(today)
        .push(") group by p.practitioner_id) l on l.practitioner_id = w.id where w.kind = 'social_worker' and l.load > ")
        .push_arg(load)
        .push(" and ");
    subtree_predicate(&mut sql, "w.area_id", &[area]);
    sql
}

/// The ratio figures of `area` (and everything below it) on `today` at `load` organizations
/// per social worker.
pub async fn ratio(
    conn: &mut Conn<'_>,
    area: AreaId,
    today: NaiveDate,
    load: i64,
) -> Result<RatioFigures> {
    let mut orgs = Sql::new("select count(*) from organizations o where ");
    orgs.push(LIVE).push(" and ");
    subtree_predicate(&mut orgs, "o.area_id", &[area]);
    let organizations = orgs.fetch_i64(conn).await?;
    Ok(RatioFigures {
        organizations,
        social_workers: in_post(conn, area, PractitionerKind::SocialWorker, today).await?,
        professionals: in_post(conn, area, PractitionerKind::Professional, today).await?,
        needed: workers_needed(organizations, load),
        without_social_worker: without_worker_sql("select count(*)", area, today)
            .fetch_i64(conn)
            .await?,
        over_load: over_load_sql("select count(*)", area, today, load)
            .fetch_i64(conn)
            .await?,
    })
}

/// Up to `limit` live organizations of `area` without a social worker on `today`:
/// (id, name, area name).
pub async fn organizations_without_worker(
    conn: &mut Conn<'_>,
    area: AreaId,
    today: NaiveDate,
    limit: i64,
) -> Result<Vec<(i64, String, String)>> {
    let mut sql = without_worker_sql("select o.id, o.name, a.name", area, today);
    sql.push(" order by a.code, o.name_key, o.id limit ")
        .push_arg(limit);
    Ok(sql.fetch_all(conn).await?)
}

/// The social workers of `area` over `load` on `today`: (id, name, area name, load).
pub async fn workers_over_load(
    conn: &mut Conn<'_>,
    area: AreaId,
    today: NaiveDate,
    load: i64,
) -> Result<Vec<(i64, String, String, i64)>> {
    let mut sql = over_load_sql(
        "select w.id, w.name, (select name from areas where id = w.area_id), l.load",
        area,
        today,
        load,
    );
    sql.push(" order by l.load desc, w.name, w.id");
    Ok(sql.fetch_all(conn).await?)
}

/// A training session with its sign-up and attendance counts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TrainingRow {
    /// Id.
    pub id: i64,
    /// 系列.
    pub series: String,
    /// 主题.
    pub topic: String,
    /// 主讲人.
    pub speaker: String,
    /// 日期.
    pub held_on: NaiveDate,
    /// Length in minutes.
    pub minutes: i64,
    /// 地点.
    pub place: String,
    /// 名额.
    pub capacity: i64,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// People signed up.
    pub signed_up: i64,
    /// People who attended.
    pub attended: i64,
}

impl TrainingRow {
    /// Places still free.
    pub fn seats_left(&self) -> i64 {
        (self.capacity - self.signed_up).max(0)
    }

    /// Length in hours, as printed.
    pub fn hours(&self) -> String {
        super::hours_text(self.minutes)
    }
}

const TRAINING: &str = "select t.id, t.series, t.topic, t.speaker, t.held_on, t.minutes, t.place, t.capacity, t.version, (select count(*) from training_signups s where s.training_id = t.id) as signed_up, (select count(*) from training_signups s where s.training_id = t.id and s.attended = true) as attended from trainings t where 1 = 1";

/// The sessions held in `year` (every year when `None`), latest first.
pub async fn trainings(conn: &mut Conn<'_>, year: Option<i32>) -> Result<Vec<TrainingRow>> {
    let mut sql = Sql::new(TRAINING);
    if let Some(year) = year {
        let (first, last) = year_bounds(year);
        sql.push(" and t.held_on between ")
            .push_arg(first)
            .push(" and ")
            .push_arg(last);
    }
    sql.push(" order by t.held_on desc, t.id desc");
    Ok(sql.fetch_all(conn).await?)
}

/// The first and last day of `year`.
fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}

/// Session `id`.
pub async fn training(conn: &mut Conn<'_>, id: i64) -> Result<TrainingRow> {
    let mut sql = Sql::new(TRAINING);
    sql.push(" and t.id = ").push_arg(id);
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// Announces a session.
pub async fn create_training(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    t: &Training,
) -> Result<i64> {
    let id = Sql::new("insert into trainings (series, topic, speaker, held_on, minutes, place, capacity, version, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) returning id")
        .arg(t.series.as_str())
        .arg(t.topic.as_str())
        .arg(t.speaker.as_str())
        .arg(t.held_on)
        .arg(t.minutes)
        .arg(t.place.as_str())
        .arg(t.capacity)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "training", Some(id), &t.topic),
    )
    .await?;
    Ok(id)
}

/// Changes a session at `version`; the capacity cannot drop below the people signed up.
pub async fn update_training(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    current: &TrainingRow,
    version: i64,
    t: &Training,
) -> Result<()> {
    if t.capacity < current.signed_up {
        return Err(Error::field(
            "capacity",
            Msg::new("talent.error.capacity_below_signups").with("count", current.signed_up),
        ));
    }
    let changed = Sql::new("update trainings set series = $1, topic = $2, speaker = $3, held_on = $4, minutes = $5, place = $6, capacity = $7, version = version + 1, updated_at = $8 where id = $9 and version = $10")
        .arg(t.series.as_str())
        .arg(t.topic.as_str())
        .arg(t.speaker.as_str())
        .arg(t.held_on)
        .arg(t.minutes)
        .arg(t.place.as_str())
        .arg(t.capacity)
        .arg(at)
        .arg(current.id)
        .arg(version)
        .execute(conn)
        .await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("talent.error.stale")));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("update", "training", Some(current.id), &t.topic),
    )
    .await?;
    Ok(())
}

/// One person signed up for a session.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SignupRow {
    /// Id.
    pub id: i64,
    /// The organization.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// The person.
    pub attendee: String,
    /// Recorded attendance (`None` before it is recorded).
    pub attended: Option<bool>,
}

/// The sign-ups of session `id` from organizations `scope` reaches.
pub async fn signups(conn: &mut Conn<'_>, scope: &Scope, id: i64) -> Result<Vec<SignupRow>> {
    let mut sql = Sql::new(
        "select s.id, s.org_id, o.name as org_name, s.attendee, s.attended from training_signups s join organizations o on o.id = s.org_id where s.training_id = ",
    );
    sql.push_arg(id);
    scope.restrict_orgs(&mut sql, "o");
    sql.push(" order by o.name_key, s.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Signs `names` of organization `org_id` up for `training`: only before the day it is held,
/// within the places left, and nobody twice for the same organization. All or nothing.
pub async fn sign_up(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    training: &TrainingRow,
    org_id: i64,
    names: &[String],
    today: NaiveDate,
) -> Result<()> {
    if training.held_on < today {
        return Err(Error::field("attendees", Msg::new("talent.error.closed")));
    }
    if names.len() as i64 > training.seats_left() {
        return Err(Error::field(
            "attendees",
            Msg::new("talent.error.full").with("left", training.seats_left()),
        ));
    }
    let mut already = Sql::new("select attendee from training_signups where training_id = $1 and org_id = $2 and attendee in (")
        .arg(training.id)
        .arg(org_id);
    already.push_list(names).push(")");
    let already: Vec<(String,)> = already.fetch_all(conn).await?;
    if let Some((name,)) = already.first() {
        return Err(Error::field(
            "attendees",
            Msg::new("talent.error.attendee_twice").with("name", name),
        ));
    }
    for name in names {
        Sql::new("insert into training_signups (training_id, org_id, attendee, attended, signed_up_at, signed_up_by) values ($1, $2, $3, null, $4, $5)")
            .arg(training.id)
            .arg(org_id)
            .arg(name.as_str())
            .arg(at)
            .arg(actor.name.as_str())
            .execute(conn)
            .await?;
    }
    // Two organizations signing up at once must not overfill the room: recount inside the
    // transaction and give the places back if they did.
    let signed = Sql::new("select count(*) from training_signups where training_id = $1")
        .arg(training.id)
        .fetch_i64(conn)
        .await?;
    if signed > training.capacity {
        return Err(Error::Conflict(
            Msg::new("talent.error.full").with("left", 0),
        ));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "sign_up",
            "training",
            Some(training.id),
            &format!("{} × {}", training.topic, names.len()),
        ),
    )
    .await?;
    Ok(())
}

/// Records who of the people signed up for `training` attended: those in `present` did, the
/// others did not. Only once the session has been held.
pub async fn record_attendance(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    training: &TrainingRow,
    present: &[i64],
    today: NaiveDate,
) -> Result<()> {
    if training.held_on > today {
        return Err(Error::field(
            "attended",
            Msg::new("talent.error.not_yet_held"),
        ));
    }
    let known: Vec<(i64,)> = Sql::new("select id from training_signups where training_id = $1")
        .arg(training.id)
        .fetch_all(conn)
        .await?;
    if let Some(stray) = present.iter().find(|id| !known.iter().any(|(k,)| k == *id)) {
        return Err(Error::field(
            "attended",
            Msg::new("talent.error.unknown_signup").with("id", stray),
        ));
    }
    Sql::new("update training_signups set attended = false where training_id = $1")
        .arg(training.id)
        .execute(conn)
        .await?;
    if !present.is_empty() {
        let mut sql = Sql::new(
            "update training_signups set attended = true where training_id = $1 and id in (",
        )
        .arg(training.id);
        sql.push_list(present).push(")");
        sql.execute(conn).await?;
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "attendance",
            "training",
            Some(training.id),
            &format!("{}: {}/{}", training.topic, present.len(), known.len()),
        ),
    )
    .await?;
    Ok(())
}

/// Training figures of one area for one year, counted from attendance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TrainingFigures {
    /// Sessions held in the year (district-wide: sessions are open to every area).
    pub sessions: i64,
    /// People from the area's organizations who attended.
    pub attendances: i64,
    /// Organizations of the area that sent someone who attended.
    pub organizations_trained: i64,
    /// Minutes of training received by the area's organizations' people.
    pub minutes: i64,
}

/// Attendance joined to its session and organization, for sessions of `year` and
/// organizations under `area`.
fn attended_sql(select: &str, area: AreaId, year: i32) -> Sql {
    let (first, last) = year_bounds(year);
    let mut sql = Sql::new(select);
    sql.push(" from training_signups s join trainings t on t.id = s.training_id join organizations o on o.id = s.org_id where s.attended = true and t.held_on between ")
        .push_arg(first)
        .push(" and ")
        .push_arg(last)
        .push(" and ");
    subtree_predicate(&mut sql, "o.area_id", &[area]);
    sql
}

/// The training figures of `area` in `year`.
pub async fn training_figures(
    conn: &mut Conn<'_>,
    area: AreaId,
    year: i32,
) -> Result<TrainingFigures> {
    let (first, last) = year_bounds(year);
    let sessions = Sql::new("select count(*) from trainings where held_on between $1 and $2")
        .arg(first)
        .arg(last)
        .fetch_i64(conn)
        .await?;
    let (attendances, organizations_trained, minutes): (i64, i64, i64) = attended_sql(
        "select count(*), count(distinct s.org_id), cast(coalesce(sum(t.minutes), 0) as bigint)",
        area,
        year,
    )
    .fetch_one(conn)
    .await?;
    Ok(TrainingFigures {
        sessions,
        attendances,
        organizations_trained,
        minutes,
    })
}

/// The organizations under `area` that received the most training in `year`:
/// (id, name, people who attended, minutes), at most `limit`.
pub async fn training_by_organization(
    conn: &mut Conn<'_>,
    area: AreaId,
    year: i32,
    limit: i64,
) -> Result<Vec<(i64, String, i64, i64)>> {
    let mut sql = attended_sql(
        "select o.id, o.name, count(*), cast(sum(t.minutes) as bigint)",
        area,
        year,
    );
    sql.push(" group by o.id, o.name order by 4 desc, o.name limit ")
        .push_arg(limit);
    Ok(sql.fetch_all(conn).await?)
}

/// The sessions organization `org_id` signed people up for: (session, people, attended).
pub async fn org_trainings(
    conn: &mut Conn<'_>,
    org_id: i64,
) -> Result<Vec<(TrainingRow, i64, i64)>> {
    let mut out = Vec::new();
    let rows: Vec<(i64, i64, i64)> = Sql::new("select s.training_id, count(*), cast(sum(case when s.attended = true then 1 else 0 end) as bigint) from training_signups s where s.org_id = $1 group by s.training_id")
        .arg(org_id)
        .fetch_all(conn)
        .await?;
    for (id, people, attended) in rows {
        out.push((training(conn, id).await?, people, attended));
    }
    out.sort_by_key(|(t, _, _)| std::cmp::Reverse(t.held_on));
    Ok(out)
}
