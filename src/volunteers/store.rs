//! Volunteers, service records, donations, service bases, brand figures and beneficiaries in
//! the database. Every read a handler reaches takes the caller's scope, applied through the
//! organization that registered the volunteer, keeps the books or runs the base.

use super::{
    NewBase, NewDonation, NewFigure, NewService, NewVolunteer, ServiceState, Step, id_number_hash,
    mask_id_number,
};
use crate::areas::AreaId;
use crate::areas::store::subtree_predicate;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::Scope;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;

/// The salt ID numbers are hashed with: the installation's one, kept by the people register.
pub async fn salt(conn: &mut Conn<'_>) -> Result<String> {
    crate::people::store::salt(conn).await
}

/// The live organization `id` if `scope` reaches it: (id, name, area id).
pub async fn org_in_scope(
    conn: &mut Conn<'_>,
    scope: &Scope,
    id: i64,
) -> Result<(i64, String, i64)> {
    let mut sql = Sql::new("select o.id, o.name, o.area_id from organizations o where o.id = ");
    sql.push_arg(id)
        .push(" and o.status in ('preparing', 'active', 'abnormal')");
    scope.restrict_orgs(&mut sql, "o");
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// A volunteer as the back office shows them (the ID number only masked).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VolunteerRow {
    /// Id.
    pub id: i64,
    /// Registering organization.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Area name.
    pub area_name: String,
    /// 姓名.
    pub name: String,
    /// 性别.
    pub gender: Option<String>,
    /// 身份证号, masked.
    pub id_masked: String,
    /// 联系电话 (shown in full only to the registering organization).
    pub phone: Option<String>,
    /// 注册日期.
    pub registered_on: NaiveDate,
    /// Verified hours, in tenths.
    pub verified_tenths: i64,
    /// Hours recorded or confirmed but not yet verified, in tenths.
    pub pending_tenths: i64,
}

const VOLUNTEER: &str = "select v.id, v.org_id, o.name as org_name, a.name as area_name, v.name, v.gender, v.id_masked, v.phone, v.registered_on, \
    cast(coalesce((select sum(s.tenth_hours) from volunteer_services s where s.volunteer_id = v.id and s.state = 'verified'), 0) as bigint) as verified_tenths, \
    cast(coalesce((select sum(s.tenth_hours) from volunteer_services s where s.volunteer_id = v.id and s.state in ('recorded', 'confirmed')), 0) as bigint) as pending_tenths \
    from volunteers v join organizations o on o.id = v.org_id join areas a on a.id = v.area_id where 1 = 1";

/// Registers a volunteer with organization `org_id` located in `area_id`: the ID number is kept
/// only hashed (for spotting a second registration) and masked.
pub async fn create_volunteer(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    org_id: i64,
    area_id: i64,
    v: &NewVolunteer,
) -> Result<i64> {
    let hash = id_number_hash(&salt(conn).await?, &v.id_number);
    let taken = Sql::new("select count(*) from volunteers where org_id = $1 and id_hash = $2")
        .arg(org_id)
        .arg(hash.as_str())
        .fetch_i64(conn)
        .await?;
    if taken > 0 {
        return Err(Error::field(
            "id_number",
            Msg::new("volunteers.error.registered"),
        ));
    }
    let id = Sql::new("insert into volunteers (org_id, area_id, name, gender, id_hash, id_masked, phone, registered_on, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id")
        .arg(org_id)
        .arg(area_id)
        .arg(v.name.as_str())
        .arg(v.gender)
        .arg(hash)
        .arg(mask_id_number(&v.id_number))
        .arg(v.phone.clone())
        .arg(v.registered_on)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "volunteer", Some(id), &org_id.to_string()),
    )
    .await?;
    Ok(id)
}

/// Volunteer `id`, if `scope` reaches their organization.
pub async fn volunteer(conn: &mut Conn<'_>, scope: &Scope, id: i64) -> Result<VolunteerRow> {
    let mut sql = Sql::new(VOLUNTEER);
    sql.push(" and v.id = ").push_arg(id);
    scope.restrict_orgs(&mut sql, "o");
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// A page of the volunteers in scope whose name contains `name`, by name; and how many match.
pub async fn list_volunteers(
    conn: &mut Conn<'_>,
    scope: &Scope,
    name: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<VolunteerRow>, i64)> {
    let filter = |sql: &mut Sql| {
        if !name.trim().is_empty() {
            sql.push(" and v.name like ")
                .push_arg(format!("%{}%", name.trim()));
        }
        scope.restrict_orgs(sql, "o");
    };
    let mut count = Sql::new(
        "select count(*) from volunteers v join organizations o on o.id = v.org_id where 1 = 1",
    );
    filter(&mut count);
    let total = count.fetch_i64(conn).await?;
    let mut sql = Sql::new(VOLUNTEER);
    filter(&mut sql);
    sql.push(" order by v.name, v.id limit ")
        .push_arg(limit)
        .push(" offset ")
        .push_arg(offset);
    Ok((sql.fetch_all(conn).await?, total))
}

/// A service record with its chain.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceRow {
    /// Id.
    pub id: i64,
    /// The volunteer.
    pub volunteer_id: i64,
    /// Their name.
    pub volunteer_name: String,
    /// The recording organization.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// 服务项目.
    pub project: String,
    /// 服务领域.
    pub domain: String,
    /// 服务日期.
    pub served_on: NaiveDate,
    /// Hours in tenths.
    pub tenth_hours: i64,
    /// Chain state.
    pub state: String,
    /// Recorded by.
    pub recorded_by: String,
    /// Recorded at.
    pub recorded_at: Timestamp,
    /// Confirmed by.
    pub confirmed_by: Option<String>,
    /// Confirmed at.
    pub confirmed_at: Option<Timestamp>,
    /// Verified by.
    pub verified_by: Option<String>,
    /// Verified at.
    pub verified_at: Option<Timestamp>,
    /// Rejected by.
    pub rejected_by: Option<String>,
    /// Rejected at.
    pub rejected_at: Option<Timestamp>,
    /// Why.
    pub reject_reason: Option<String>,
}

impl ServiceRow {
    /// The chain state.
    pub fn state(&self) -> ServiceState {
        ServiceState::parse(&self.state).unwrap_or(ServiceState::Rejected)
    }
}

const SERVICE: &str = "select s.id, s.volunteer_id, v.name as volunteer_name, s.org_id, o.name as org_name, s.project, s.domain, s.served_on, s.tenth_hours, s.state, \
    s.recorded_by, s.recorded_at, s.confirmed_by, s.confirmed_at, s.verified_by, s.verified_at, s.rejected_by, s.rejected_at, s.reject_reason \
    from volunteer_services s join volunteers v on v.id = s.volunteer_id join organizations o on o.id = s.org_id where 1 = 1";

/// Records a service of `volunteer` by their organization, refusing a day whose hours would
/// pass 24 (records sent back do not count).
pub async fn record_service(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    volunteer: &VolunteerRow,
    s: &NewService,
) -> Result<i64> {
    let day = Sql::new("select cast(coalesce(sum(tenth_hours), 0) as bigint) from volunteer_services where volunteer_id = $1 and served_on = $2 and state <> 'rejected'")
        .arg(volunteer.id)
        .arg(s.served_on)
        .fetch_i64(conn)
        .await?;
    if day + s.tenth_hours > 240 {
        return Err(Error::field(
            "hours",
            Msg::new("volunteers.error.hours_day_total").with("recorded", super::hours(day)),
        ));
    }
    let id = Sql::new("insert into volunteer_services (volunteer_id, org_id, project, domain, served_on, tenth_hours, state, recorded_by, recorded_at) values ($1, $2, $3, $4, $5, $6, 'recorded', $7, $8) returning id")
        .arg(volunteer.id)
        .arg(volunteer.org_id)
        .arg(s.project.as_str())
        .arg(s.domain)
        .arg(s.served_on)
        .arg(s.tenth_hours)
        .arg(actor.name.as_str())
        .arg(at)
        .fetch_i64(conn)
        .await?;
    let summary = format!(
        "{} {} {}h",
        volunteer.id,
        s.served_on,
        super::hours(s.tenth_hours)
    );
    append(
        conn,
        at,
        actor,
        NewEntry::of("record", "volunteer_service", Some(id), &summary),
    )
    .await?;
    Ok(id)
}

/// The service records of volunteer `id`, newest first.
pub async fn services_of(conn: &mut Conn<'_>, volunteer_id: i64) -> Result<Vec<ServiceRow>> {
    let mut sql = Sql::new(SERVICE);
    sql.push(" and s.volunteer_id = ")
        .push_arg(volunteer_id)
        .push(" order by s.served_on desc, s.id desc limit 500");
    Ok(sql.fetch_all(conn).await?)
}

/// Service record `id`, if `scope` reaches the recording organization.
pub async fn service(conn: &mut Conn<'_>, scope: &Scope, id: i64) -> Result<ServiceRow> {
    let mut sql = Sql::new(SERVICE);
    sql.push(" and s.id = ").push_arg(id);
    scope.restrict_orgs(&mut sql, "o");
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// Records in `state` within `scope`, oldest first: what awaits the caller's step.
pub async fn awaiting(
    conn: &mut Conn<'_>,
    scope: &Scope,
    state: ServiceState,
    limit: i64,
) -> Result<Vec<ServiceRow>> {
    let mut sql = Sql::new(SERVICE);
    sql.push(" and s.state = ").push_arg(state.as_str());
    scope.restrict_orgs(&mut sql, "o");
    sql.push(" order by s.served_on, s.id limit ")
        .push_arg(limit);
    Ok(sql.fetch_all(conn).await?)
}

/// Takes `step` on a service record: only from the state the step starts from (a second
/// click, or a step out of order, changes nothing and says so); audited with who and when.
pub async fn take_step(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    row: &ServiceRow,
    step: Step,
    reason: &str,
) -> Result<()> {
    let Some(next) = step.next(row.state()) else {
        return Err(Error::Conflict(Msg::new("volunteers.error.step")));
    };
    let reason = reason.trim();
    if step == Step::Reject && reason.is_empty() {
        return Err(Error::field("reason", Msg::new("error.field.required")));
    }
    let set = match step {
        Step::Confirm => "confirmed_by = $1, confirmed_at = $2",
        Step::Verify => "verified_by = $1, verified_at = $2",
        Step::Reject => "rejected_by = $1, rejected_at = $2",
    };
    let mut sql = Sql::new(&format!("update volunteer_services set {set}, state = $3"));
    let mut sql_args = vec![
        crate::db::Arg::from(actor.name.as_str()),
        crate::db::Arg::from(at),
        crate::db::Arg::from(next.as_str()),
    ];
    if step == Step::Reject {
        sql.push(", reject_reason = $4 where id = $5 and state = $6");
        sql_args.push(reason.into());
    } else {
        sql.push(" where id = $4 and state = $5");
    }
    sql_args.push(row.id.into());
    sql_args.push(row.state.as_str().into());
    let changed = sql.args(sql_args).execute(conn).await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("volunteers.error.step")));
    }
    let summary = if reason.is_empty() {
        format!("{} → {}", row.state, next.as_str())
    } else {
        format!("{} → {}: {reason}", row.state, next.as_str())
    };
    append(
        conn,
        at,
        actor,
        NewEntry::of(step.as_str(), "volunteer_service", Some(row.id), &summary),
    )
    .await?;
    Ok(())
}

/// A line of a certificate: the verified hours of one project and domain.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CertificateLine {
    /// 服务项目.
    pub project: String,
    /// 服务领域.
    pub domain: String,
    /// First day.
    pub first_on: NaiveDate,
    /// Last day.
    pub last_on: NaiveDate,
    /// Records.
    pub records: i64,
    /// Verified hours, tenths.
    pub tenths: i64,
}

/// The verified service of `volunteer_id` recorded by `org_id`, per project and domain.
pub async fn certificate_lines(
    conn: &mut Conn<'_>,
    volunteer_id: i64,
    org_id: i64,
) -> Result<Vec<CertificateLine>> {
    Ok(Sql::new("select project, domain, min(served_on) as first_on, max(served_on) as last_on, count(*) as records, cast(sum(tenth_hours) as bigint) as tenths from volunteer_services where volunteer_id = $1 and org_id = $2 and state = 'verified' group by project, domain order by min(served_on), project, domain")
        .arg(volunteer_id)
        .arg(org_id)
        .fetch_all(conn)
        .await?)
}

/// Figures counted from the records of the organizations in scope (and `area`, `year`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Figures {
    /// Volunteers registered.
    pub volunteers: i64,
    /// Volunteers with verified hours (in the year).
    pub active_volunteers: i64,
    /// Service records verified.
    pub verified_records: i64,
    /// Verified hours, tenths.
    pub verified_tenths: i64,
    /// Hours recorded or confirmed, not yet verified, tenths.
    pub pending_tenths: i64,
    /// Service domains with verified hours.
    pub domains: i64,
    /// Donations received, fen.
    pub received_fen: i64,
    /// Donations given, fen.
    pub given_fen: i64,
    /// Donation records.
    pub donations: i64,
    /// Beneficiaries enrolled.
    pub beneficiaries: i64,
    /// Service bases.
    pub service_bases: i64,
}

/// `and` the organization aliased `o` is in scope and under `area`.
fn where_org(sql: &mut Sql, scope: &Scope, area: Option<AreaId>) {
    scope.restrict_orgs(sql, "o");
    if let Some(area) = area {
        sql.push(" and ");
        subtree_predicate(sql, "o.area_id", &[area]);
    }
}

/// `and` `column` (a date) falls in `year`.
fn in_year(sql: &mut Sql, column: &str, year: Option<i32>) {
    if let Some(y) = year {
        let first = NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or_default();
        let next = NaiveDate::from_ymd_opt(y + 1, 1, 1).unwrap_or_default();
        sql.push(" and ")
            .push(column)
            .push(" >= ")
            .push_arg(first)
            .push(" and ")
            .push(column)
            .push(" < ")
            .push_arg(next);
    }
}

/// Verified service records (志愿服务记录, 已核实) of organizations under `area` within
/// `scope`, as `columns` of the record `s` and its organization `o`. With a day, only service
/// given on or before it and verified by its end (when the verification time is recorded):
/// the hours as they stood then.
pub fn verified_sql(
    columns: &str,
    scope: &Scope,
    area: Option<AreaId>,
    by: Option<NaiveDate>,
) -> Sql {
    let mut sql = Sql::new(columns);
    sql.push(" from volunteer_services s join organizations o on o.id = s.org_id where s.state = 'verified'");
    where_org(&mut sql, scope, area);
    if let Some(day) = by {
        sql.push(" and s.served_on <= ")
            .push_arg(day)
            .push(" and (s.verified_at is null or s.verified_at <= ")
            .push_arg(crate::registry::store::end_of_day_china(day))
            .push(")");
    }
    sql
}

/// Donations (捐赠) in the books of organizations under `area` within `scope` — only those
/// `direction` (`received` or `given`) when given, only those made on or before `by` when
/// given — as `columns` of the donation `d` and its organization `o`.
pub fn donations_sql(
    columns: &str,
    scope: &Scope,
    area: Option<AreaId>,
    direction: Option<&str>,
    by: Option<NaiveDate>,
) -> Sql {
    let mut sql = Sql::new(columns);
    sql.push(" from donations d join organizations o on o.id = d.org_id where 1 = 1");
    where_org(&mut sql, scope, area);
    if let Some(direction) = direction {
        sql.push(" and d.direction = ").push_arg(direction);
    }
    if let Some(day) = by {
        sql.push(" and d.donated_on <= ").push_arg(day);
    }
    sql
}

/// Counts the figures; `year` limits service, donations and enrolments to that year.
pub async fn figures(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: Option<AreaId>,
    year: Option<i32>,
) -> Result<Figures> {
    let mut f = Figures::default();
    let mut sql = Sql::new(
        "select count(*) from volunteers v join organizations o on o.id = v.org_id where 1 = 1",
    );
    where_org(&mut sql, scope, area);
    f.volunteers = sql.fetch_i64(conn).await?;
    let mut sql = verified_sql(
        "select count(*), cast(coalesce(sum(s.tenth_hours), 0) as bigint), count(distinct s.volunteer_id), count(distinct s.domain)",
        scope,
        area,
        None,
    );
    in_year(&mut sql, "s.served_on", year);
    let (records, tenths, active, domains): (i64, i64, i64, i64) = sql.fetch_one(conn).await?;
    (f.verified_records, f.verified_tenths) = (records, tenths);
    (f.active_volunteers, f.domains) = (active, domains);
    let mut sql = Sql::new(
        "select cast(coalesce(sum(s.tenth_hours), 0) as bigint) from volunteer_services s join organizations o on o.id = s.org_id where s.state in ('recorded', 'confirmed')",
    );
    where_org(&mut sql, scope, area);
    in_year(&mut sql, "s.served_on", year);
    f.pending_tenths = sql.fetch_i64(conn).await?;
    let mut sql = donations_sql(
        "select count(*), cast(coalesce(sum(case when d.direction = 'received' then d.amount_fen else 0 end), 0) as bigint), cast(coalesce(sum(case when d.direction = 'given' then d.amount_fen else 0 end), 0) as bigint)",
        scope,
        area,
        None,
        None,
    );
    in_year(&mut sql, "d.donated_on", year);
    (f.donations, f.received_fen, f.given_fen) = sql.fetch_one(conn).await?;
    let mut sql = Sql::new(
        "select count(*) from beneficiaries b join beneficiary_groups g on g.id = b.group_id join organizations o on o.id = g.org_id where 1 = 1",
    );
    where_org(&mut sql, scope, area);
    in_year(&mut sql, "b.enrolled_on", year);
    f.beneficiaries = sql.fetch_i64(conn).await?;
    let mut sql = Sql::new("select count(*) from service_bases b where 1 = 1");
    if let Some(area) = area {
        sql.push(" and ");
        subtree_predicate(&mut sql, "b.area_id", &[area]);
    }
    if let Scope::Limited { areas, orgs } = scope {
        sql.push(" and (");
        subtree_predicate(&mut sql, "b.area_id", areas);
        sql.push(" or b.id in (select bo.base_id from service_base_orgs bo where bo.org_id in (")
            .push_list(orgs)
            .push(")))");
    }
    f.service_bases = sql.fetch_i64(conn).await?;
    Ok(f)
}

/// Verified hours per service domain (tenths), in scope.
pub async fn hours_by_domain(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: Option<AreaId>,
    year: Option<i32>,
) -> Result<Vec<(String, i64)>> {
    let mut sql = Sql::new(
        "select s.domain, cast(sum(s.tenth_hours) as bigint) from volunteer_services s join organizations o on o.id = s.org_id where s.state = 'verified'",
    );
    where_org(&mut sql, scope, area);
    in_year(&mut sql, "s.served_on", year);
    sql.push(" group by s.domain order by sum(s.tenth_hours) desc");
    Ok(sql.fetch_all(conn).await?)
}

/// Records a donation in the books of organization `org_id`.
pub async fn record_donation(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    org_id: i64,
    d: &NewDonation,
) -> Result<i64> {
    let id = Sql::new("insert into donations (org_id, direction, counterpart, counterpart_kind, project, kind, goods, amount_fen, donated_on, purpose, recorded_by, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id")
        .arg(org_id)
        .arg(d.direction)
        .arg(d.counterpart.as_str())
        .arg(d.counterpart_kind)
        .arg(d.project.as_str())
        .arg(d.kind)
        .arg(d.goods.clone())
        .arg(d.amount_fen)
        .arg(d.donated_on)
        .arg(d.purpose.as_str())
        .arg(actor.name.as_str())
        .arg(at)
        .fetch_i64(conn)
        .await?;
    let summary = format!("{} {} {}", org_id, d.direction, d.amount_fen);
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "donation", Some(id), &summary),
    )
    .await?;
    Ok(id)
}

/// A donation as listed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DonationRow {
    /// Id.
    pub id: i64,
    /// The organization.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// `received` or `given`.
    pub direction: String,
    /// Donor or recipient.
    pub counterpart: String,
    /// `individual` or `organization`.
    pub counterpart_kind: String,
    /// 项目.
    pub project: String,
    /// `money` or `goods`.
    pub kind: String,
    /// Goods.
    pub goods: Option<String>,
    /// Fen.
    pub amount_fen: i64,
    /// 日期.
    pub donated_on: NaiveDate,
    /// 用途.
    pub purpose: String,
}

const DONATION: &str = "select d.id, d.org_id, o.name as org_name, d.direction, d.counterpart, d.counterpart_kind, d.project, d.kind, d.goods, d.amount_fen, d.donated_on, d.purpose from donations d join organizations o on o.id = d.org_id where 1 = 1";

/// The latest donations in scope (of `org_id` when given).
pub async fn donations(
    conn: &mut Conn<'_>,
    scope: &Scope,
    org_id: Option<i64>,
    min_fen: i64,
    limit: i64,
) -> Result<Vec<DonationRow>> {
    let mut sql = Sql::new(DONATION);
    if let Some(org) = org_id {
        sql.push(" and d.org_id = ").push_arg(org);
    }
    sql.push(" and d.amount_fen >= ").push_arg(min_fen);
    scope.restrict_orgs(&mut sql, "o");
    sql.push(" order by d.donated_on desc, d.id desc limit ")
        .push_arg(limit);
    Ok(sql.fetch_all(conn).await?)
}

/// What organization `org_id` received and gave in all, in fen.
pub async fn donation_totals_of(conn: &mut Conn<'_>, org_id: i64) -> Result<(i64, i64)> {
    Ok(Sql::new("select cast(coalesce(sum(case when direction = 'received' then amount_fen else 0 end), 0) as bigint), cast(coalesce(sum(case when direction = 'given' then amount_fen else 0 end), 0) as bigint) from donations where org_id = $1")
        .arg(org_id)
        .fetch_one(conn)
        .await?)
}

/// Donation totals of one group (organization, project or area).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TotalLine {
    /// What the line is (organization, project or area name).
    pub name: String,
    /// Records.
    pub records: i64,
    /// Received, fen.
    pub received_fen: i64,
    /// Given, fen.
    pub given_fen: i64,
}

/// What donation totals are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalsBy {
    /// 按组织.
    Organization,
    /// 按项目.
    Project,
    /// 按街镇: the street or town the organization is in (or its own area above them).
    Area,
}

/// Donation totals in scope grouped `by`, largest received first.
pub async fn donation_totals(
    conn: &mut Conn<'_>,
    scope: &Scope,
    by: TotalsBy,
    limit: i64,
) -> Result<Vec<TotalLine>> {
    let name = match by {
        TotalsBy::Organization => "o.name",
        TotalsBy::Project => "d.project",
        TotalsBy::Area => "coalesce(st.name, a.name)",
    };
    let mut sql = Sql::new(&format!(
        "select {name} as name, count(*) as records, cast(coalesce(sum(case when d.direction = 'received' then d.amount_fen else 0 end), 0) as bigint) as received_fen, cast(coalesce(sum(case when d.direction = 'given' then d.amount_fen else 0 end), 0) as bigint) as given_fen from donations d join organizations o on o.id = d.org_id join areas a on a.id = o.area_id left join area_closure ac on ac.descendant_id = o.area_id and ac.ancestor_id in (select x.id from areas x where x.level = 'street') left join areas st on st.id = ac.ancestor_id where 1 = 1"
    ));
    scope.restrict_orgs(&mut sql, "o");
    if by == TotalsBy::Project {
        sql.push(" and d.project <> ''");
    }
    sql.push(&format!(" group by {name}"));
    if by == TotalsBy::Organization {
        sql.push(", o.id");
    }
    sql.push(" order by 3 desc, 1 limit ").push_arg(limit);
    Ok(sql.fetch_all(conn).await?)
}

/// Creates a service base in `area_id`, linked to `org_id` when given.
pub async fn create_base(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    area_id: i64,
    b: &NewBase,
    org_id: Option<i64>,
) -> Result<i64> {
    let id = Sql::new("insert into service_bases (name, kind, address, area_id, created_at) values ($1, $2, $3, $4, $5) returning id")
        .arg(b.name.as_str())
        .arg(b.kind)
        .arg(b.address.as_str())
        .arg(area_id)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    if let Some(org) = org_id {
        Sql::new("insert into service_base_orgs (base_id, org_id) values ($1, $2)")
            .arg(id)
            .arg(org)
            .execute(conn)
            .await?;
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "service_base", Some(id), &b.name),
    )
    .await?;
    Ok(id)
}

/// A service base as listed, with its organizations' names.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BaseRow {
    /// Id.
    pub id: i64,
    /// 名称.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// 地址.
    pub address: String,
    /// Area.
    pub area_name: String,
    /// Linked organizations, `、`-separated.
    pub orgs: Option<String>,
}

/// The service bases in `area_id`'s subtree or of the organizations in scope.
pub async fn bases(conn: &mut Conn<'_>, scope: &Scope) -> Result<Vec<BaseRow>> {
    let mut sql = Sql::new(
        "select b.id, b.name, b.kind, b.address, a.name as area_name, null as orgs from service_bases b join areas a on a.id = b.area_id where 1 = 1",
    );
    if let Scope::Limited { areas, orgs } = scope {
        sql.push(" and (");
        subtree_predicate(&mut sql, "b.area_id", areas);
        sql.push(" or b.id in (select bo.base_id from service_base_orgs bo where bo.org_id in (")
            .push_list(orgs)
            .push(")))");
    }
    sql.push(" order by a.name, b.name limit 500");
    let mut rows: Vec<BaseRow> = sql.fetch_all(conn).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    if !ids.is_empty() {
        let mut links = Sql::new(
            "select bo.base_id, o.name from service_base_orgs bo join organizations o on o.id = bo.org_id where bo.base_id in (",
        );
        links.push_list(&ids).push(") order by o.name");
        let links: Vec<(i64, String)> = links.fetch_all(conn).await?;
        for r in &mut rows {
            let names: Vec<&str> = links
                .iter()
                .filter(|(b, _)| *b == r.id)
                .map(|(_, n)| n.as_str())
                .collect();
            r.orgs = Some(names.join("、")).filter(|s| !s.is_empty());
        }
    }
    Ok(rows)
}

/// A brand organization with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BrandRow {
    /// Organization id.
    pub org_id: i64,
    /// Name.
    pub name: String,
    /// Why it is a brand (empty until written).
    pub reasons: Option<String>,
}

/// The organizations flagged as brands, by name.
pub async fn brands(conn: &mut Conn<'_>) -> Result<Vec<BrandRow>> {
    Ok(Sql::new("select o.id as org_id, o.name, p.reasons from organizations o left join brand_profiles p on p.org_id = o.id where o.brand and o.status in ('preparing', 'active', 'abnormal') order by o.name")
        .fetch_all(conn)
        .await?)
}

/// The reasons organization `org_id` is a brand (empty when none were written).
pub async fn brand_reasons(conn: &mut Conn<'_>, org_id: i64) -> Result<String> {
    let row: Option<(String,)> = Sql::new("select reasons from brand_profiles where org_id = $1")
        .arg(org_id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(r,)| r).unwrap_or_default())
}

/// Writes why a brand organization is one (it must carry the brand flag).
pub async fn set_brand_reasons(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    org_id: i64,
    reasons: &str,
) -> Result<()> {
    let brand = Sql::new("select count(*) from organizations where id = $1 and brand")
        .arg(org_id)
        .fetch_i64(conn)
        .await?;
    if brand == 0 {
        return Err(Error::NotFound);
    }
    Sql::new("insert into brand_profiles (org_id, reasons, updated_by, updated_at) values ($1, $2, $3, $4) on conflict (org_id) do update set reasons = excluded.reasons, updated_by = excluded.updated_by, updated_at = excluded.updated_at")
        .arg(org_id)
        .arg(reasons)
        .arg(actor.name.as_str())
        .arg(at)
        .execute(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("update", "brand", Some(org_id), reasons),
    )
    .await?;
    Ok(())
}

/// Adds a figure to a brand organization's profile.
pub async fn add_figure(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    org_id: i64,
    f: &NewFigure,
) -> Result<i64> {
    let id = Sql::new("insert into brand_figures (org_id, label, value, measure, project, unit, year) values ($1, $2, $3, $4, $5, $6, $7) returning id")
        .arg(org_id)
        .arg(f.label.as_str())
        .arg(f.value)
        .arg(f.measure)
        .arg(f.project.clone())
        .arg(f.unit.as_str())
        .arg(f.year)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "brand_figure", Some(id), &f.label),
    )
    .await?;
    Ok(id)
}

/// A brand figure with its value: reported, or counted now from the records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FigureValue {
    /// 名称.
    pub label: String,
    /// The value.
    pub value: i64,
    /// 单位.
    pub unit: String,
    /// 年度.
    pub year: Option<i64>,
    /// True when counted from records rather than reported.
    pub counted: bool,
}

/// The figures of organization `org_id`, counted where they name a measure.
pub async fn figures_of(conn: &mut Conn<'_>, org_id: i64) -> Result<Vec<FigureValue>> {
    type Raw = (
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        String,
        Option<i64>,
    );
    let rows: Vec<Raw> = Sql::new("select label, value, measure, project, unit, year from brand_figures where org_id = $1 order by id")
        .arg(org_id)
        .fetch_all(conn)
        .await?;
    let mut out = Vec::new();
    for (label, value, measure, project, unit, year) in rows {
        let counted = match measure.as_deref() {
            Some(m) => Some(measure_value(conn, org_id, m, project.as_deref(), year).await?),
            None => None,
        };
        out.push(FigureValue {
            label,
            value: counted.or(value).unwrap_or_default(),
            unit,
            year,
            counted: counted.is_some(),
        });
    }
    Ok(out)
}

/// Counts `measure` for organization `org_id` (in `project` and `year` when given).
pub async fn measure_value(
    conn: &mut Conn<'_>,
    org_id: i64,
    measure: &str,
    project: Option<&str>,
    year: Option<i64>,
) -> Result<i64> {
    let year = year.and_then(|y| i32::try_from(y).ok());
    let (mut sql, project_col, date_col) = match measure {
        "classes" => (
            Sql::new(
                "select count(*) from beneficiary_groups g where g.kind = 'class' and g.org_id = ",
            ),
            "g.project",
            None,
        ),
        "students" => (
            Sql::new(
                "select count(*) from beneficiaries b join beneficiary_groups g on g.id = b.group_id where g.kind = 'class' and g.org_id = ",
            ),
            "g.project",
            None,
        ),
        "beneficiaries" => (
            Sql::new(
                "select count(*) from beneficiaries b join beneficiary_groups g on g.id = b.group_id where g.org_id = ",
            ),
            "g.project",
            Some("b.enrolled_on"),
        ),
        "verified_hours" => (
            Sql::new(
                "select cast(coalesce(sum(s.tenth_hours), 0) as bigint) / 10 from volunteer_services s where s.state = 'verified' and s.org_id = ",
            ),
            "s.project",
            Some("s.served_on"),
        ),
        "donations_yuan" => (
            Sql::new(
                "select cast(coalesce(sum(d.amount_fen), 0) as bigint) / 100 from donations d where d.direction = 'received' and d.org_id = ",
            ),
            "d.project",
            Some("d.donated_on"),
        ),
        _ => (
            Sql::new("select count(*) from volunteers v where v.org_id = "),
            "''",
            None,
        ),
    };
    sql.push_arg(org_id);
    if let Some(p) = project.filter(|_| project_col != "''") {
        sql.push(" and ").push(project_col).push(" = ").push_arg(p);
    }
    match (date_col, year) {
        (Some(col), y @ Some(_)) => in_year(&mut sql, col, y),
        (None, Some(y)) if measure != "volunteers" => {
            sql.push(" and g.year = ").push_arg(i64::from(y));
        }
        _ => {}
    }
    Ok(sql.fetch_i64(conn).await?)
}

/// Opens a beneficiary group (a class, a service group) of organization `org_id`.
pub async fn create_group(
    conn: &mut Conn<'_>,
    org_id: i64,
    project: &str,
    name: &str,
    kind: &str,
    year: i64,
) -> Result<i64> {
    Ok(Sql::new("insert into beneficiary_groups (org_id, project, name, kind, year) values ($1, $2, $3, $4, $5) returning id")
        .arg(org_id)
        .arg(project)
        .arg(name)
        .arg(kind)
        .arg(year)
        .fetch_i64(conn)
        .await?)
}

/// Enrols a beneficiary (named only by a masked label) in group `group_id`.
pub async fn enrol(
    conn: &mut Conn<'_>,
    group_id: i64,
    label: &str,
    category: &str,
    on: NaiveDate,
) -> Result<i64> {
    Ok(Sql::new("insert into beneficiaries (group_id, label, category, enrolled_on) values ($1, $2, $3, $4) returning id")
        .arg(group_id)
        .arg(label)
        .arg(category)
        .arg(on)
        .fetch_i64(conn)
        .await?)
}

/// Beneficiaries per organization and project in scope, most first.
pub async fn beneficiaries_by_project(
    conn: &mut Conn<'_>,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<(String, String, i64, i64)>> {
    let mut sql = Sql::new(
        "select o.name, g.project, count(distinct g.id), count(b.id) from beneficiary_groups g join organizations o on o.id = g.org_id left join beneficiaries b on b.group_id = g.id where 1 = 1",
    );
    scope.restrict_orgs(&mut sql, "o");
    sql.push(" group by o.id, o.name, g.project order by 4 desc limit ")
        .push_arg(limit);
    Ok(sql.fetch_all(conn).await?)
}
