//! Party organizations, the organizations they cover, cadres, the activity log and the
//! mechanism checklist in the database (instructors and coverage: `coverage.rs`; funding and
//! payments: `funding.rs`). Every read takes the caller's scope (a party organization is in
//! scope when one of the organizations it covers is); every write appends its audit entry inside
//! the caller's transaction, and recording coverage closes the organization's party task there.

use super::{Form, Level, MECHANISMS, NewActivity, NewCadre, NewPartyOrg, PartyOrgId};
use crate::areas::AreaId;
use crate::areas::store::subtree_predicate;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::Scope;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;

/// A party organization as stored, with the organization it sits in.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PartyOrgRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Machine name of [`Form`].
    pub form: String,
    /// Machine name of [`Level`].
    pub level: String,
    /// The organization it sits in (a joint branch's lead).
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Its area.
    pub area_id: i64,
    /// The area's name.
    pub area_name: String,
    /// Approving superior organization.
    pub approved_by: String,
    /// Date set up.
    pub established_on: NaiveDate,
    /// Secretary.
    pub secretary: String,
    /// Committee, one per line.
    pub committee: String,
    /// Full members.
    pub full_members: i64,
    /// Probationary members.
    pub probationary_members: i64,
    /// Term start.
    pub term_started_on: Option<NaiveDate>,
    /// Next re-election.
    pub next_election_on: Option<NaiveDate>,
    /// 党建入章.
    pub charter_clause: bool,
    /// Dissolved on.
    pub dissolved_on: Option<NaiveDate>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Organizations covered.
    pub covered: i64,
}

impl PartyOrgRow {
    /// Its form.
    pub fn form(&self) -> Form {
        Form::parse(&self.form).unwrap_or(Form::Independent)
    }

    /// Its declared level.
    pub fn level(&self) -> Level {
        Level::parse(&self.level).unwrap_or(Level::Branch)
    }

    /// Full and probationary members.
    pub fn members(&self) -> i64 {
        self.full_members + self.probationary_members
    }

    /// True when the member count does not fit the declared level (flagged on every page).
    pub fn level_mismatch(&self) -> bool {
        !self.level().fits(self.members())
    }
}

const COLUMNS: &str = "select p.id, p.name, p.form, p.level, p.org_id, o.name as org_name, o.area_id, a.name as area_name, p.approved_by, p.established_on, p.secretary, p.committee, p.full_members, p.probationary_members, p.term_started_on, p.next_election_on, p.charter_clause, p.dissolved_on, p.version, (select count(*) from party_org_orgs x where x.party_org_id = p.id) as covered";

const FROM: &str = " from party_orgs p join organizations o on o.id = p.org_id join areas a on a.id = o.area_id where 1 = 1";

/// `select` (trusted columns of `p`, `o` and `a`) over every party organization.
fn select(columns: &str) -> Sql {
    let mut sql = Sql::new(columns);
    sql.push(FROM);
    sql
}

/// Appends the scope of party records: a party organization is visible when one of the
/// organizations it covers is; the public sees no party record at all.
pub(super) fn restrict(sql: &mut Sql, scope: &Scope) {
    match scope {
        Scope::All => {}
        Scope::Public => {
            sql.push(" and 1 = 0");
        }
        Scope::Limited { .. } => {
            sql.push(" and exists (select 1 from party_org_orgs vx join organizations vo on vo.id = vx.org_id where vx.party_org_id = p.id");
            scope.restrict_orgs(sql, "vo");
            sql.push(")");
        }
    }
}

/// Appends "the organization `o` lies in `area` or below" when an area is chosen.
pub(super) fn in_area(sql: &mut Sql, area: Option<AreaId>) {
    if let Some(area) = area {
        sql.push(" and ");
        subtree_predicate(sql, "o.area_id", &[area]);
    }
}

/// Appends "party organization `p` was in force at the end of `on`": set up by then and not
/// dissolved by then (one dissolved on a day no longer exists at that day's end); with no day,
/// "not dissolved" (now).
pub(crate) fn in_force(sql: &mut Sql, on: Option<NaiveDate>) {
    match on {
        None => {
            sql.push(" and p.dissolved_on is null");
        }
        Some(day) => {
            sql.push(" and p.established_on <= ")
                .push_arg(day)
                .push(" and (p.dissolved_on is null or p.dissolved_on > ")
                .push_arg(day)
                .push(")");
        }
    }
}

/// The party organizations (of `form` when given) sitting in an organization under `area`,
/// within `scope`, in force at the end of `on` (now when none), as `columns` of `p`, `o` and
/// `a` — `count(*)` for a figure, row columns for its list, so the two cannot disagree.
pub fn in_force_sql(
    columns: &str,
    scope: &Scope,
    area: Option<AreaId>,
    form: Option<Form>,
    on: Option<NaiveDate>,
) -> Sql {
    let mut sql = select(columns);
    if let Some(form) = form {
        sql.push(" and p.form = ").push_arg(form.as_str());
    }
    in_force(&mut sql, on);
    in_area(&mut sql, area);
    restrict(&mut sql, scope);
    sql
}

/// The rows of [`in_force_sql`], by area code and name.
pub async fn in_force_list(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: Option<AreaId>,
    form: Option<Form>,
    on: Option<NaiveDate>,
) -> Result<Vec<PartyOrgRow>> {
    let mut sql = in_force_sql(COLUMNS, scope, area, form, on);
    sql.push(" order by a.code, p.name, p.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Filters of the party-organization list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this form.
    pub form: Option<Form>,
    /// Only this declared level.
    pub level: Option<Level>,
    /// Only in this area (by the organization it sits in).
    pub area: Option<AreaId>,
    /// Only those whose member count does not fit their level.
    pub flagged: bool,
}

/// Party organizations in scope matching `filter`, by name.
pub async fn list(conn: &mut Conn<'_>, scope: &Scope, filter: &Filter) -> Result<Vec<PartyOrgRow>> {
    let mut sql = select(COLUMNS);
    if let Some(form) = filter.form {
        sql.push(" and p.form = ").push_arg(form.as_str());
    }
    if let Some(level) = filter.level {
        sql.push(" and p.level = ").push_arg(level.as_str());
    }
    in_area(&mut sql, filter.area);
    restrict(&mut sql, scope);
    sql.push(" order by p.name, p.id");
    let rows: Vec<PartyOrgRow> = sql.fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .filter(|r| !filter.flagged || r.level_mismatch())
        .collect())
}

/// Party organization `id` if `scope` reaches it.
pub async fn get(conn: &mut Conn<'_>, scope: &Scope, id: PartyOrgId) -> Result<PartyOrgRow> {
    let mut sql = select(COLUMNS);
    sql.push(" and p.id = ").push_arg(id);
    restrict(&mut sql, scope);
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// An organization a party record points at.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrgLine {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Credit code.
    pub uscc: Option<String>,
    /// Area name.
    pub area_name: String,
}

/// The organizations party organization `id` covers (the caller has checked scope).
pub async fn covered_orgs(conn: &mut Conn<'_>, id: PartyOrgId) -> Result<Vec<OrgLine>> {
    Ok(Sql::new("select o.id, o.name, o.uscc, a.name as area_name from party_org_orgs x join organizations o on o.id = x.org_id join areas a on a.id = o.area_id where x.party_org_id = $1 order by x.id")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

#[derive(sqlx::FromRow)]
struct Resolved {
    id: i64,
    name: String,
    status: String,
}

/// Finds a live organization by id or credit code for field `field`, refusing one that is
/// unknown, deregistered or (with `not_covered`) already covered by a party organization.
pub(super) async fn resolve_org(
    conn: &mut Conn<'_>,
    field: &'static str,
    token: &str,
    not_covered: bool,
) -> Result<(i64, String)> {
    let token = token.trim();
    let mut sql = Sql::new("select id, name, status from organizations where ");
    match token.parse::<i64>() {
        Ok(id) if token.len() < 18 => sql.push("id = ").push_arg(id),
        _ => sql.push("uscc = ").push_arg(token.to_uppercase()),
    };
    let org: Resolved = sql.fetch_optional(conn).await?.ok_or_else(|| {
        Error::field(
            field,
            Msg::new("party.error.unknown_org").with("value", token),
        )
    })?;
    if !matches!(org.status.as_str(), "active" | "abnormal") {
        return Err(Error::field(
            field,
            Msg::new("party.error.org_not_live").with("name", &org.name),
        ));
    }
    if not_covered {
        let existing: Option<(String,)> = Sql::new("select p.name from party_org_orgs x join party_orgs p on p.id = x.party_org_id where x.org_id = $1")
            .arg(org.id)
            .fetch_optional(conn)
            .await?;
        if let Some((party,)) = existing {
            return Err(Error::field(
                field,
                Msg::new("party.error.already_covered")
                    .with("name", &org.name)
                    .with("party", party),
            ));
        }
    }
    Ok((org.id, org.name))
}

/// Closes the organization's open party-coverage task (opened by the approvals flow).
pub(super) async fn close_task(conn: &mut Conn<'_>, org: i64, at: Timestamp) -> Result<()> {
    Sql::new("update party_tasks set closed_at = $1 where org_id = $2 and closed_at is null")
        .arg(at)
        .arg(org)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a party organization with the organizations it covers (the first is the one it sits
/// in), closing their coverage tasks. Nothing is written when an organization is refused.
pub async fn create(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    new: &NewPartyOrg,
) -> Result<PartyOrgId> {
    let mut orgs: Vec<(i64, String)> = Vec::new();
    for token in &new.orgs {
        let org = resolve_org(conn, "orgs", token, true).await?;
        if orgs.iter().any(|(id, _)| *id == org.0) {
            return Err(Error::field(
                "orgs",
                Msg::new("party.error.duplicate_org").with("name", &org.1),
            ));
        }
        orgs.push(org);
    }
    let lead = orgs.first().map(|(id, _)| *id).ok_or_else(|| {
        Error::field(
            "orgs",
            Msg::new("party.error.orgs_too_few").with("min", new.form.min_orgs()),
        )
    })?;
    let id = Sql::new("insert into party_orgs (name, form, level, org_id, approved_by, established_on, secretary, committee, full_members, probationary_members, term_started_on, next_election_on, charter_clause, dissolved_on, version, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, null, 1, $14, $14) returning id")
        .arg(new.name.as_str())
        .arg(new.form.as_str())
        .arg(new.level.as_str())
        .arg(lead)
        .arg(new.approved_by.as_str())
        .arg(new.established_on)
        .arg(new.secretary.as_str())
        .arg(new.committee.as_str())
        .arg(new.full_members)
        .arg(new.probationary_members)
        .arg(new.term_started_on)
        .arg(new.next_election_on)
        .arg(new.charter_clause)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    for (org, _) in &orgs {
        insert_covered(conn, id, *org, new.established_on, at).await?;
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "party_org", Some(id), &new.name),
    )
    .await?;
    Ok(PartyOrgId(id))
}

async fn insert_covered(
    conn: &mut Conn<'_>,
    party: i64,
    org: i64,
    on: NaiveDate,
    at: Timestamp,
) -> Result<()> {
    Sql::new("insert into party_org_orgs (party_org_id, org_id, joined_on) values ($1, $2, $3)")
        .arg(party)
        .arg(org)
        .arg(on)
        .execute(conn)
        .await?;
    close_task(conn, org, at).await
}

/// Adds an organization to party organization `id` (a joint branch takes at most five),
/// closing its coverage task.
pub async fn add_covered_org(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: PartyOrgId,
    token: &str,
    joined_on: NaiveDate,
) -> Result<()> {
    let row = get(conn, &Scope::All, id).await?;
    if row.dissolved_on.is_some() {
        return Err(Error::Conflict(Msg::new("party.error.dissolved")));
    }
    if let Some(max) = row.form().max_orgs()
        && row.covered >= max as i64
    {
        return Err(Error::field(
            "org",
            Msg::new("party.error.orgs_too_many").with("max", max),
        ));
    }
    if token.trim().is_empty() {
        return Err(Error::field("org", Msg::new("error.field.required")));
    }
    let (org, name) = resolve_org(conn, "org", token, true).await?;
    insert_covered(conn, id.0, org, joined_on, at).await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("cover", "party_org", Some(id.0), &name),
    )
    .await?;
    Ok(())
}

/// Changes party organization `id` at `version` (covered organizations are kept).
pub async fn update(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: PartyOrgId,
    version: i64,
    new: &NewPartyOrg,
) -> Result<()> {
    let row = get(conn, &Scope::All, id).await?;
    if let Some(max) = new.form.max_orgs().filter(|max| row.covered > *max as i64) {
        return Err(Error::field(
            "form",
            Msg::new("party.error.orgs_too_many").with("max", max),
        ));
    }
    let changed = Sql::new("update party_orgs set name = $1, form = $2, level = $3, approved_by = $4, established_on = $5, secretary = $6, committee = $7, full_members = $8, probationary_members = $9, term_started_on = $10, next_election_on = $11, charter_clause = $12, version = version + 1, updated_at = $13 where id = $14 and version = $15")
        .arg(new.name.as_str())
        .arg(new.form.as_str())
        .arg(new.level.as_str())
        .arg(new.approved_by.as_str())
        .arg(new.established_on)
        .arg(new.secretary.as_str())
        .arg(new.committee.as_str())
        .arg(new.full_members)
        .arg(new.probationary_members)
        .arg(new.term_started_on)
        .arg(new.next_election_on)
        .arg(new.charter_clause)
        .arg(at)
        .arg(id)
        .arg(version)
        .execute(conn)
        .await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("party.error.stale")));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("update", "party_org", Some(id.0), &new.name),
    )
    .await?;
    Ok(())
}

/// A party-affairs cadre as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CadreRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Post.
    pub post: String,
    /// First day.
    pub started_on: NaiveDate,
    /// Last day.
    pub ended_on: Option<NaiveDate>,
}

/// Adds a cadre to party organization `id`.
pub async fn add_cadre(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: PartyOrgId,
    new: &NewCadre,
) -> Result<i64> {
    get(conn, &Scope::All, id).await?;
    let cadre = Sql::new("insert into party_cadres (party_org_id, name, post, started_on, ended_on, created_at) values ($1, $2, $3, $4, $5, $6) returning id")
        .arg(id)
        .arg(new.name.as_str())
        .arg(new.post.as_str())
        .arg(new.started_on)
        .arg(new.ended_on)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("add_cadre", "party_org", Some(id.0), &new.name),
    )
    .await?;
    Ok(cadre)
}

/// The cadres of party organization `id`, by start.
pub async fn cadres(conn: &mut Conn<'_>, id: PartyOrgId) -> Result<Vec<CadreRow>> {
    Ok(Sql::new("select id, name, post, started_on, ended_on from party_cadres where party_org_id = $1 order by started_on, id")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// An activity-log entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActivityRow {
    /// Id.
    pub id: i64,
    /// Date held.
    pub held_on: NaiveDate,
    /// Kind (machine name).
    pub kind: String,
    /// Title.
    pub title: String,
    /// Attendance.
    pub attendance: i64,
}

/// Logs an activity of party organization `id`.
pub async fn add_activity(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: PartyOrgId,
    new: &NewActivity,
) -> Result<i64> {
    get(conn, &Scope::All, id).await?;
    let activity = Sql::new("insert into party_activities (party_org_id, held_on, kind, title, attendance, created_at) values ($1, $2, $3, $4, $5, $6) returning id")
        .arg(id)
        .arg(new.held_on)
        .arg(new.kind)
        .arg(new.title.as_str())
        .arg(new.attendance)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("log_activity", "party_org", Some(id.0), &new.title),
    )
    .await?;
    Ok(activity)
}

/// The activity log of party organization `id`, newest first.
pub async fn activities(conn: &mut Conn<'_>, id: PartyOrgId) -> Result<Vec<ActivityRow>> {
    Ok(Sql::new("select id, held_on, kind, title, attendance from party_activities where party_org_id = $1 order by held_on desc, id desc")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// Records which of the eight mechanisms are in place at party organization `id` on `today`.
pub async fn save_mechanisms(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: PartyOrgId,
    in_place: &[String],
    today: NaiveDate,
) -> Result<()> {
    get(conn, &Scope::All, id).await?;
    if let Some(bad) = in_place.iter().find(|m| !MECHANISMS.contains(&m.as_str())) {
        return Err(Error::field(
            "mechanism",
            Msg::new("party.error.unknown_mechanism").with("name", bad),
        ));
    }
    for m in MECHANISMS {
        Sql::new("insert into party_mechanisms (party_org_id, mechanism, in_place, checked_on) values ($1, $2, $3, $4) on conflict (party_org_id, mechanism) do update set in_place = excluded.in_place, checked_on = excluded.checked_on")
            .arg(id)
            .arg(m)
            .arg(in_place.iter().any(|x| x == m))
            .arg(today)
            .execute(conn)
            .await?;
    }
    let summary = in_place.join(",");
    append(
        conn,
        at,
        actor,
        NewEntry::of("mechanisms", "party_org", Some(id.0), &summary),
    )
    .await?;
    Ok(())
}

/// The mechanisms of party organization `id` with whether each is in place and when checked.
pub async fn mechanisms(
    conn: &mut Conn<'_>,
    id: PartyOrgId,
) -> Result<Vec<(&'static str, bool, Option<NaiveDate>)>> {
    let rows: Vec<(String, bool, NaiveDate)> = Sql::new(
        "select mechanism, in_place, checked_on from party_mechanisms where party_org_id = $1",
    )
    .arg(id)
    .fetch_all(conn)
    .await?;
    Ok(MECHANISMS
        .into_iter()
        .map(|m| {
            let row = rows.iter().find(|r| r.0 == m);
            (m, row.is_some_and(|r| r.1), row.map(|r| r.2))
        })
        .collect())
}

/// Checks the day something ended: not after `today`, not before `start`.
pub(super) fn check_end(on: NaiveDate, start: NaiveDate, today: NaiveDate) -> Result<()> {
    if on > today {
        return Err(Error::field("on", Msg::new("party.error.future")));
    }
    if on < start {
        return Err(Error::field(
            "on",
            Msg::new("party.error.end_before_start_on").with("date", start.to_string()),
        ));
    }
    Ok(())
}

/// Opens a coverage task again for live organization `org` when nothing covers it any more (no
/// live party organization, no instructor) and none is open: the task list stays the list of
/// organizations that party work has still to reach.
pub(super) async fn reopen_task_if_uncovered(
    conn: &mut Conn<'_>,
    org: i64,
    at: Timestamp,
) -> Result<bool> {
    let uncovered = Sql::new("select count(*) from organizations o where o.id = $1 and o.status in ('active', 'abnormal') and not exists (select 1 from party_org_orgs x join party_orgs p on p.id = x.party_org_id where x.org_id = o.id and p.dissolved_on is null) and not exists (select 1 from party_instructor_orgs i where i.org_id = o.id) and not exists (select 1 from party_tasks t where t.org_id = o.id and t.closed_at is null)")
        .arg(org)
        .fetch_i64(conn)
        .await?;
    if uncovered == 0 {
        return Ok(false);
    }
    Sql::new("insert into party_tasks (org_id, application_id, opened_at, closed_at) values ($1, null, $2, null)")
        .arg(org)
        .arg(at)
        .execute(conn)
        .await?;
    Ok(true)
}

/// Moves the link of `org` to party organization `party` into the history, ended `on`.
async fn end_link(conn: &mut Conn<'_>, party: i64, org: i64, on: NaiveDate) -> Result<()> {
    Sql::new("insert into party_org_orgs_ended (party_org_id, org_id, joined_on, left_on) select party_org_id, org_id, joined_on, $1 from party_org_orgs where party_org_id = $2 and org_id = $3")
        .arg(on)
        .arg(party)
        .arg(org)
        .execute(conn)
        .await?;
    Sql::new("delete from party_org_orgs where party_org_id = $1 and org_id = $2")
        .arg(party)
        .arg(org)
        .execute(conn)
        .await?;
    Ok(())
}

/// Dissolves party organization `id` (at `version`) on `on`: the organizations it covered are
/// released into the history (each uncovered one gets a coverage task again), its cadres' posts
/// end that day, and its allowance stops by the rule of [`super::counted_months`] (paid for the
/// months it existed in full). Refused when already dissolved, for a day before it was set up
/// or after `today`.
pub async fn dissolve(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: PartyOrgId,
    version: i64,
    on: NaiveDate,
    today: NaiveDate,
) -> Result<()> {
    let row = get(conn, &Scope::All, id).await?;
    if row.dissolved_on.is_some() {
        return Err(Error::Conflict(Msg::new("party.error.dissolved")));
    }
    check_end(on, row.established_on, today)?;
    let changed = Sql::new("update party_orgs set dissolved_on = $1, version = version + 1, updated_at = $2 where id = $3 and version = $4 and dissolved_on is null")
        .arg(on)
        .arg(at)
        .arg(id)
        .arg(version)
        .execute(conn)
        .await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("party.error.stale")));
    }
    Sql::new("update party_cadres set ended_on = case when started_on > $1 then started_on else $1 end where party_org_id = $2 and (ended_on is null or ended_on > $1)")
        .arg(on)
        .arg(id)
        .execute(conn)
        .await?;
    let orgs = covered_orgs(conn, id).await?;
    for org in &orgs {
        end_link(conn, id.0, org.id, on).await?;
        reopen_task_if_uncovered(conn, org.id, at).await?;
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "dissolve",
            "party_org",
            Some(id.0),
            &format!("{} {on}", row.name),
        ),
    )
    .await?;
    Ok(())
}

/// Removes organization `org` from party organization `id` on `on` (a joint branch keeps at
/// least two; the last organization of any party organization leaves only by dissolving it).
/// When the lead organization leaves, the earliest remaining one becomes the lead. The
/// organization gets a coverage task again when nothing else covers it.
pub async fn remove_covered_org(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: PartyOrgId,
    org: i64,
    on: NaiveDate,
    today: NaiveDate,
) -> Result<()> {
    let row = get(conn, &Scope::All, id).await?;
    if row.dissolved_on.is_some() {
        return Err(Error::Conflict(Msg::new("party.error.dissolved")));
    }
    let link: Option<(NaiveDate, String)> = Sql::new("select x.joined_on, o.name from party_org_orgs x join organizations o on o.id = x.org_id where x.party_org_id = $1 and x.org_id = $2")
        .arg(id)
        .arg(org)
        .fetch_optional(conn)
        .await?;
    let (joined_on, name) = link.ok_or(Error::NotFound)?;
    let min = row.form().min_orgs() as i64;
    if row.covered - 1 < min {
        return Err(Error::field(
            "org",
            Msg::new("party.error.leave_too_few").with("min", min),
        ));
    }
    check_end(on, joined_on, today)?;
    end_link(conn, id.0, org, on).await?;
    if row.org_id == org {
        Sql::new("update party_orgs set org_id = (select x.org_id from party_org_orgs x where x.party_org_id = $1 order by x.id limit 1), version = version + 1, updated_at = $2 where id = $1")
            .arg(id)
            .arg(at)
            .execute(conn)
            .await?;
    }
    reopen_task_if_uncovered(conn, org, at).await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("uncover", "party_org", Some(id.0), &format!("{name} {on}")),
    )
    .await?;
    Ok(())
}

/// Ends the service of cadre `cadre` of party organization `id` on `on` (the allowance stops by
/// the rule of [`super::counted_months`]); refused when already ended.
pub async fn end_cadre(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: PartyOrgId,
    cadre: i64,
    on: NaiveDate,
    today: NaiveDate,
) -> Result<()> {
    get(conn, &Scope::All, id).await?;
    let found: Option<CadreRow> = Sql::new("select id, name, post, started_on, ended_on from party_cadres where id = $1 and party_org_id = $2")
        .arg(cadre)
        .arg(id)
        .fetch_optional(conn)
        .await?;
    let c = found.ok_or(Error::NotFound)?;
    if c.ended_on.is_some() {
        return Err(Error::Conflict(Msg::new("party.error.already_ended")));
    }
    check_end(on, c.started_on, today)?;
    Sql::new("update party_cadres set ended_on = $1 where id = $2 and ended_on is null")
        .arg(on)
        .arg(cadre)
        .execute(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "end_cadre",
            "party_org",
            Some(id.0),
            &format!("{} {on}", c.name),
        ),
    )
    .await?;
    Ok(())
}

/// An organization that left a party organization.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EndedLine {
    /// Organization id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Joined on.
    pub joined_on: NaiveDate,
    /// Left on.
    pub left_on: NaiveDate,
}

/// The organizations that left party organization `id`, latest first.
pub async fn ended_orgs(conn: &mut Conn<'_>, id: PartyOrgId) -> Result<Vec<EndedLine>> {
    Ok(Sql::new("select o.id, o.name, x.joined_on, x.left_on from party_org_orgs_ended x join organizations o on o.id = x.org_id where x.party_org_id = $1 order by x.left_on desc, x.id desc")
        .arg(id)
        .fetch_all(conn)
        .await?)
}
