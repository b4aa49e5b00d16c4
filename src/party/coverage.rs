//! Instructors (党建指导员) and their organizations, coverage of every organization, the
//! aggregate figures, and the "party organization required" query. Recording coverage closes
//! the organization's party task in the caller's transaction.

use super::store::{close_task, in_area, resolve_org};
use super::{Coverage, Form, InstructorId, NewInstructor};
use crate::areas::AreaId;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::{Scope, UserId};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use crate::registry::OrgId;
use chrono::{Datelike, NaiveDate};

/// An instructor with the number of organizations assigned.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InstructorRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// The account, if any.
    pub username: Option<String>,
    /// Date appointed.
    pub appointed_on: NaiveDate,
    /// Organizations assigned.
    pub orgs: i64,
}

/// Records an instructor; a given account must exist and hold the `instructor` role.
pub async fn create_instructor(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    new: &NewInstructor,
) -> Result<InstructorId> {
    let user = match &new.username {
        None => None,
        Some(name) => {
            let found: Option<(i64,)> = Sql::new("select u.id from users u where u.username = $1 and exists (select 1 from user_roles r where r.user_id = u.id and r.role = 'instructor')")
                .arg(name.as_str())
                .fetch_optional(conn)
                .await?;
            let (id,) = found.ok_or_else(|| {
                Error::field(
                    "username",
                    Msg::new("party.error.not_instructor").with("name", name),
                )
            })?;
            let taken: i64 = Sql::new("select count(*) from party_instructors where user_id = $1")
                .arg(id)
                .fetch_i64(conn)
                .await?;
            if taken > 0 {
                return Err(Error::field("username", Msg::new("error.field.duplicate")));
            }
            Some(id)
        }
    };
    let id = Sql::new("insert into party_instructors (name, phone, user_id, appointed_on, created_at) values ($1, $2, $3, $4, $5) returning id")
        .arg(new.name.as_str())
        .arg(new.phone.as_str())
        .arg(user)
        .arg(new.appointed_on)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "party_instructor", Some(id), &new.name),
    )
    .await?;
    Ok(InstructorId(id))
}

/// Every instructor, by name.
pub async fn instructors(conn: &mut Conn<'_>) -> Result<Vec<InstructorRow>> {
    Ok(Sql::new("select i.id, i.name, i.phone, u.username, i.appointed_on, (select count(*) from party_instructor_orgs x where x.instructor_id = i.id) as orgs from party_instructors i left join users u on u.id = i.user_id order by i.id")
        .fetch_all(conn)
        .await?)
}

/// Assigns an organization to an instructor, closing its coverage task.
pub async fn assign_instructor(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    instructor: InstructorId,
    token: &str,
    assigned_on: NaiveDate,
) -> Result<()> {
    let known: i64 = Sql::new("select count(*) from party_instructors where id = $1")
        .arg(instructor)
        .fetch_i64(conn)
        .await?;
    if known == 0 {
        return Err(Error::NotFound);
    }
    if token.trim().is_empty() {
        return Err(Error::field("org", Msg::new("error.field.required")));
    }
    let (org, name) = resolve_org(conn, "org", token, false).await?;
    let assigned: i64 = Sql::new("select count(*) from party_instructor_orgs where org_id = $1")
        .arg(org)
        .fetch_i64(conn)
        .await?;
    if assigned > 0 {
        return Err(Error::field(
            "org",
            Msg::new("party.error.already_assigned").with("name", &name),
        ));
    }
    Sql::new("insert into party_instructor_orgs (instructor_id, org_id, assigned_on) values ($1, $2, $3)")
        .arg(instructor)
        .arg(org)
        .arg(assigned_on)
        .execute(conn)
        .await?;
    close_task(conn, org, at).await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("assign", "party_instructor", Some(instructor.0), &name),
    )
    .await?;
    Ok(())
}

/// The organizations assigned to the instructor record of account `user`.
pub async fn instructor_org_ids(conn: &mut Conn<'_>, user: UserId) -> Result<Vec<OrgId>> {
    let rows: Vec<(i64,)> = Sql::new("select x.org_id from party_instructor_orgs x join party_instructors i on i.id = x.instructor_id where i.user_id = $1 order by x.org_id")
        .arg(user)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(id,)| OrgId(id)).collect())
}

/// An organization with its coverage.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CoverageLine {
    /// Id.
    pub org_id: i64,
    /// Name.
    pub name: String,
    /// Area name.
    pub area_name: String,
    /// Covering party organization, if any.
    pub party_org_id: Option<i64>,
    /// Its form.
    pub party_form: Option<String>,
    /// Assigned instructor's name, if any.
    pub instructor: Option<String>,
    /// An open coverage task.
    pub task_open: bool,
}

impl CoverageLine {
    /// How it is covered.
    pub fn coverage(&self) -> Coverage {
        match (self.party_form.as_deref(), &self.instructor) {
            (Some("joint"), _) => Coverage::Joint,
            (Some(_), _) => Coverage::Own,
            (None, Some(_)) => Coverage::Instructor,
            (None, None) => Coverage::None,
        }
    }
}

/// The organizations counted for coverage: registered or filed, and live.
const COVERAGE_FROM: &str = "from organizations o join areas a on a.id = o.area_id left join party_org_orgs x on x.org_id = o.id left join party_orgs p on p.id = x.party_org_id and p.dissolved_on is null left join party_instructor_orgs io on io.org_id = o.id left join party_instructors i on i.id = io.instructor_id where o.status in ('active', 'abnormal')";

fn coverage_lines_sql(scope: &Scope, area: Option<AreaId>) -> Sql {
    let mut sql = Sql::new(
        "select o.id as org_id, o.name, a.name as area_name, p.id as party_org_id, p.form as party_form, i.name as instructor, exists (select 1 from party_tasks t where t.org_id = o.id and t.closed_at is null) as task_open ",
    );
    sql.push(COVERAGE_FROM);
    in_area(&mut sql, area);
    scope.restrict_orgs(&mut sql, "o");
    sql
}

/// Organizations in scope (and `area`) not covered at all, by area and name; at most `limit`.
pub async fn uncovered(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: Option<AreaId>,
    limit: i64,
) -> Result<Vec<CoverageLine>> {
    let mut sql = coverage_lines_sql(scope, area);
    sql.push(" and p.id is null and i.id is null order by a.code, o.name, o.id limit ")
        .push_arg(limit);
    Ok(sql.fetch_all(conn).await?)
}

/// Organizations in scope with their coverage (for an instructor's own view).
pub async fn coverage_lines(conn: &mut Conn<'_>, scope: &Scope) -> Result<Vec<CoverageLine>> {
    let mut sql = coverage_lines_sql(scope, None);
    sql.push(" order by o.name, o.id");
    Ok(sql.fetch_all(conn).await?)
}

/// How organization `org` is covered.
pub async fn coverage_of(conn: &mut Conn<'_>, org: OrgId) -> Result<Coverage> {
    let mut sql = coverage_lines_sql(&Scope::All, None);
    sql.push(" and o.id = ").push_arg(org);
    let line: Option<CoverageLine> = sql.fetch_optional(conn).await?;
    Ok(line.map_or(Coverage::None, |l| l.coverage()))
}

/// Aggregate figures: counts only, fit for area officers and the public.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Independent party organizations (单独组建).
    pub independent: i64,
    /// Joint branches (联合党支部).
    pub joint: i64,
    /// Affiliated or regional ones.
    pub affiliated: i64,
    /// Dispatched ones.
    pub dispatched: i64,
    /// Party-building instructors.
    pub instructors: i64,
    /// Registered or filed live organizations.
    pub organizations: i64,
    /// Covered by their own party organization.
    pub covered_own: i64,
    /// Covered by a joint branch.
    pub covered_joint: i64,
    /// Covered by an instructor only.
    pub covered_instructor: i64,
    /// Not covered.
    pub uncovered: i64,
}

/// The aggregate figures for `scope` and `area`, counted from the records.
pub async fn summary(conn: &mut Conn<'_>, scope: &Scope, area: Option<AreaId>) -> Result<Summary> {
    let mut s = Summary::default();
    let mut sql = super::store::in_force_sql("select p.form, count(*)", scope, area, None, None);
    sql.push(" group by p.form");
    let forms: Vec<(String, i64)> = sql.fetch_all(conn).await?;
    for (form, n) in forms {
        match Form::parse(&form) {
            Some(Form::Independent) => s.independent = n,
            Some(Form::Joint) => s.joint = n,
            Some(Form::Affiliated) => s.affiliated = n,
            Some(Form::Dispatched) => s.dispatched = n,
            None => {}
        }
    }
    s.instructors = if area.is_none() && *scope == Scope::All {
        Sql::new("select count(*) from party_instructors")
            .fetch_i64(conn)
            .await?
    } else {
        instructors_sql("select count(*)", scope, area, None)
            .fetch_i64(conn)
            .await?
    };
    let mut sql = Sql::new(
        "select count(*), coalesce(sum(case when p.id is not null and p.form <> 'joint' then 1 else 0 end), 0), coalesce(sum(case when p.form = 'joint' then 1 else 0 end), 0), coalesce(sum(case when p.id is null and i.id is not null then 1 else 0 end), 0) ",
    );
    sql.push(COVERAGE_FROM);
    in_area(&mut sql, area);
    scope.restrict_orgs(&mut sql, "o");
    let (total, own, joint, instructor): (i64, i64, i64, i64) = sql.fetch_one(conn).await?;
    s.organizations = total;
    s.covered_own = own;
    s.covered_joint = joint;
    s.covered_instructor = instructor;
    s.uncovered = total - own - joint - instructor;
    Ok(s)
}

/// The instructors (党建指导员) with an assignment in force at the end of `on` (now when none)
/// to an organization under `area` within `scope`, as `columns` of `i` (`party_instructors`):
/// `count(*)` for the figure, row columns for its list. An assignment is in force from the day
/// it was made until the day it ended (on which it no longer is).
pub fn instructors_sql(
    columns: &str,
    scope: &Scope,
    area: Option<AreaId>,
    on: Option<NaiveDate>,
) -> Sql {
    let mut sql = Sql::new(columns);
    sql.push(" from party_instructors i where (exists (select 1 from party_instructor_orgs x join organizations o on o.id = x.org_id where x.instructor_id = i.id");
    if let Some(day) = on {
        sql.push(" and x.assigned_on <= ").push_arg(day);
    }
    in_area(&mut sql, area);
    scope.restrict_orgs(&mut sql, "o");
    sql.push(")");
    if let Some(day) = on {
        // Assignments ended since are kept in their own table.
        sql.push(" or exists (select 1 from party_instructor_orgs_ended x join organizations o on o.id = x.org_id where x.instructor_id = i.id and x.assigned_on <= ")
            .push_arg(day)
            .push(" and x.ended_on > ")
            .push_arg(day);
        in_area(&mut sql, area);
        scope.restrict_orgs(&mut sql, "o");
        sql.push(")");
    }
    sql.push(")");
    sql
}

/// The full party members that require a party organization of one's own (DOMAIN §6: three;
/// the setting `party_org_required_members` in force on `on`).
pub async fn required_members(conn: &mut Conn<'_>, on: NaiveDate) -> Result<i64> {
    let def = crate::settings::SettingDef::find("party_org_required_members")
        .ok_or_else(|| Error::Other("unknown setting party_org_required_members".into()))?;
    Ok(crate::settings::store::value_on(conn, def, on)
        .await?
        .parse()
        .unwrap_or(3))
}

/// The SQL condition "organization `o` has a party organization of its own": a live
/// (not dissolved) independent or dispatched one covering it. A joint branch or a regional
/// (affiliated) one is for organizations with fewer than three members (DOMAIN §6), so it does
/// not count here.
const HAS_OWN: &str = "exists (select 1 from party_org_orgs x join party_orgs p on p.id = x.party_org_id where x.org_id = o.id and p.dissolved_on is null and p.form in ('independent', 'dispatched'))";

/// True when organization `org` has a party organization of its own (see [`HAS_OWN`]).
pub async fn has_own_party_org(conn: &mut Conn<'_>, org: i64) -> Result<bool> {
    let mut sql = Sql::new("select count(*) from organizations o where o.id = ");
    sql.push_arg(org).push(" and ").push(HAS_OWN);
    Ok(sql.fetch_i64(conn).await? > 0)
}

/// An organization that needs a party organization of its own and has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Required {
    /// The organization.
    pub org_id: i64,
    /// Full party members per its report.
    pub members: i64,
    /// The report's year.
    pub year: i64,
}

/// Live organizations whose latest reviewed annual report (of a year before `today`'s) shows
/// `min_members` or more party members and that have no party organization of their own —
/// the "no party organization where required" trigger of the abnormal list (DOMAIN §6). The
/// report's party members are taken as full members: the form asks for 党员人数 and the
/// probationary ones are few.
///
/// Read a page at a time for the credit sweep: up to `limit` organizations with ids above
/// `after`, by id, leaving out those already listed for that report year.
pub async fn requiring_party_org_without_one(
    conn: &mut Conn<'_>,
    today: NaiveDate,
    min_members: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<Required>> {
    let mut sql = Sql::new(
        "select o.id as org_id, r.party_members as members, r.year from organizations o join annual_reports r on r.org_id = o.id where o.status in ('active', 'abnormal') and o.id > ",
    );
    sql.push_arg(after)
        .push(" and r.state = 'reviewed' and r.party_members >= ")
        .push_arg(min_members)
        .push(" and r.year = (select max(r2.year) from annual_reports r2 where r2.org_id = o.id and r2.state = 'reviewed' and r2.year < ")
        .push_arg(i64::from(today.year()))
        .push(") and not ")
        .push(HAS_OWN)
        .push(" and not exists (select 1 from credit_listings l where l.org_id = o.id and l.reason = 'no_party_organization' and l.subject_year = r.year) order by o.id limit ")
        .push_arg(limit);
    Ok(sql.fetch_all(conn).await?)
}

/// An organization assigned to an instructor.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AssignmentLine {
    /// Instructor.
    pub instructor_id: i64,
    /// Organization.
    pub org_id: i64,
    /// Its name.
    pub name: String,
    /// Assigned on.
    pub assigned_on: NaiveDate,
}

/// The current assignments of every instructor, by instructor and organization name.
pub async fn assignments(conn: &mut Conn<'_>) -> Result<Vec<AssignmentLine>> {
    Ok(Sql::new("select x.instructor_id, x.org_id, o.name, x.assigned_on from party_instructor_orgs x join organizations o on o.id = x.org_id order by x.instructor_id, o.name, o.id")
        .fetch_all(conn)
        .await?)
}

/// Ends the assignment of organization `org` to `instructor` on `on`, keeping it in the
/// history; the organization gets a coverage task again when nothing else covers it.
pub async fn end_assignment(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    instructor: InstructorId,
    org: i64,
    on: NaiveDate,
    today: NaiveDate,
) -> Result<()> {
    let found: Option<(NaiveDate, String)> = Sql::new("select x.assigned_on, o.name from party_instructor_orgs x join organizations o on o.id = x.org_id where x.instructor_id = $1 and x.org_id = $2")
        .arg(instructor)
        .arg(org)
        .fetch_optional(conn)
        .await?;
    let (assigned_on, name) = found.ok_or(Error::NotFound)?;
    super::store::check_end(on, assigned_on, today)?;
    Sql::new("insert into party_instructor_orgs_ended (instructor_id, org_id, assigned_on, ended_on) values ($1, $2, $3, $4)")
        .arg(instructor)
        .arg(org)
        .arg(assigned_on)
        .arg(on)
        .execute(conn)
        .await?;
    Sql::new("delete from party_instructor_orgs where instructor_id = $1 and org_id = $2")
        .arg(instructor)
        .arg(org)
        .execute(conn)
        .await?;
    super::store::reopen_task_if_uncovered(conn, org, at).await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "unassign",
            "party_instructor",
            Some(instructor.0),
            &format!("{name} {on}"),
        ),
    )
    .await?;
    Ok(())
}
