//! Annual reports in the database, the compliance calendar and the inspection figures. Every
//! read takes the caller's scope; every write is one statement plus its audit entry, inside the
//! caller's transaction.

use super::{Filing, Report, ReportResult, ReportState, Rules};
use crate::areas::AreaId;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::Scope;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::Msg;
use crate::registry::{OrgKind, OrgStatus};
use chrono::{Datelike, NaiveDate};

/// An annual report as stored, with its organization's name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReportRow {
    /// Id.
    pub id: i64,
    /// The organization.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Its kind (machine name).
    pub org_kind: String,
    /// The year reported on.
    pub year: i64,
    /// Machine name of [`ReportState`].
    pub state: String,
    /// 捐赠收入 (fen).
    pub income_donations_fen: i64,
    /// 政府补助及购买服务收入.
    pub income_government_fen: i64,
    /// 提供服务收入.
    pub income_services_fen: i64,
    /// 会费收入.
    pub income_dues_fen: i64,
    /// 其他收入.
    pub income_other_fen: i64,
    /// 收入合计.
    pub income_total_fen: i64,
    /// 公益事业支出.
    pub expenditure_programmes_fen: i64,
    /// 费用总额.
    pub expenditure_total_fen: i64,
    /// 资产总额.
    pub assets_fen: i64,
    /// 负债总额.
    pub liabilities_fen: i64,
    /// 净资产.
    pub net_assets_fen: i64,
    /// 专职工作人员.
    pub staff: i64,
    /// 会员／理事.
    pub members: i64,
    /// 志愿者.
    pub volunteers: i64,
    /// 党员.
    pub party_members: i64,
    /// 业务活动.
    pub activities: String,
    /// 人员变动.
    pub officers: String,
    /// 变更情况.
    pub changes: String,
    /// 捐赠与资助.
    pub donations_and_grants: String,
    /// 表彰与评估.
    pub awards: String,
    /// 党建工作.
    pub party_building: String,
    /// 整改报告.
    pub rectification: String,
    /// When submitted (the last time, after a return).
    pub submitted_at: Option<Timestamp>,
    /// Who submitted it.
    pub submitted_by: Option<String>,
    /// 业务主管单位初审意见, as the reviewer recorded it.
    pub supervisor_opinion: Option<String>,
    /// Machine name of [`ReportResult`], once reviewed.
    pub result: Option<String>,
    /// Why (a return's reasons, or the result's).
    pub reasons: Option<String>,
    /// When reviewed.
    pub reviewed_at: Option<Timestamp>,
    /// Who reviewed it.
    pub reviewed_by: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

impl ReportRow {
    /// Its state.
    pub fn state(&self) -> ReportState {
        ReportState::parse(&self.state).unwrap_or(ReportState::Draft)
    }

    /// Its result, once reviewed.
    pub fn result(&self) -> Option<ReportResult> {
        self.result.as_deref().and_then(ReportResult::parse)
    }

    /// The day (China time) it was submitted.
    pub fn submitted_on(&self) -> Option<NaiveDate> {
        self.submitted_at.map(china_date)
    }

    /// The organization may still change it.
    pub fn editable(&self) -> bool {
        matches!(self.state(), ReportState::Draft | ReportState::Returned)
    }
}

/// The calendar day in China of an instant.
pub fn china_date(t: Timestamp) -> NaiveDate {
    (t + chrono::Duration::hours(8)).date_naive()
}

const SELECT: &str = "select r.id, r.org_id, o.name as org_name, o.kind as org_kind, r.year, r.state, r.income_donations_fen, r.income_government_fen, r.income_services_fen, r.income_dues_fen, r.income_other_fen, r.income_total_fen, r.expenditure_programmes_fen, r.expenditure_total_fen, r.assets_fen, r.liabilities_fen, r.net_assets_fen, r.staff, r.members, r.volunteers, r.party_members, r.activities, r.officers, r.changes, r.donations_and_grants, r.awards, r.party_building, r.rectification, r.submitted_at, r.submitted_by, r.supervisor_opinion, r.result, r.reasons, r.reviewed_at, r.reviewed_by, r.version from annual_reports r join organizations o on o.id = r.org_id where 1 = 1";

/// The report of `org_id` for `year`, if one was started (the caller has checked scope).
pub async fn find(conn: &mut Conn<'_>, org_id: i64, year: i64) -> Result<Option<ReportRow>> {
    let mut sql = Sql::new(SELECT);
    sql.push(" and r.org_id = ")
        .push_arg(org_id)
        .push(" and r.year = ")
        .push_arg(year);
    Ok(sql.fetch_optional(conn).await?)
}

/// Report `id` if `scope` reaches its organization.
pub async fn get(conn: &mut Conn<'_>, scope: &Scope, id: i64) -> Result<ReportRow> {
    let mut sql = Sql::new(SELECT);
    sql.push(" and r.id = ").push_arg(id);
    scope.restrict_orgs(&mut sql, "o");
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// Whether the registry kept reports for `year`: at least one was filed for it.
pub async fn tracked_year(conn: &mut Conn<'_>, year: i64) -> Result<bool> {
    Ok(
        Sql::new(
            "select count(*) from annual_reports where year = $1 and submitted_at is not null",
        )
        .arg(year)
        .fetch_i64(conn)
        .await?
            > 0,
    )
}

/// Every report of one organization, newest year first (the caller has checked scope).
pub async fn for_org(conn: &mut Conn<'_>, org_id: i64) -> Result<Vec<ReportRow>> {
    let mut sql = Sql::new(SELECT);
    sql.push(" and r.org_id = ")
        .push_arg(org_id)
        .push(" order by r.year desc");
    Ok(sql.fetch_all(conn).await?)
}

fn stale() -> Error {
    Error::Conflict(Msg::new("inspection.error.stale"))
}

/// Saves the organization's draft for `year` (creating it, or changing a draft or a returned
/// report at `version`). Returns the report's id.
pub async fn save(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    org_id: i64,
    year: i64,
    report: &Report,
    version: Option<i64>,
) -> Result<i64> {
    let existing = find(conn, org_id, year).await?;
    let id = match existing {
        None => {
            let sql = with_report(Sql::new("insert into annual_reports (org_id, year, state, income_donations_fen, income_government_fen, income_services_fen, income_dues_fen, income_other_fen, income_total_fen, expenditure_programmes_fen, expenditure_total_fen, assets_fen, liabilities_fen, net_assets_fen, staff, members, volunteers, party_members, activities, officers, changes, donations_and_grants, awards, party_building, rectification, version, created_at, updated_at) values ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, 1, $25, $25) returning id")
                .arg(org_id)
                .arg(year), report)
                .arg(at);
            sql.fetch_i64(conn).await?
        }
        Some(row) => {
            if !row.editable() {
                return Err(Error::Conflict(Msg::new("inspection.error.not_editable")));
            }
            let sql = with_report(Sql::new("update annual_reports set income_donations_fen = $1, income_government_fen = $2, income_services_fen = $3, income_dues_fen = $4, income_other_fen = $5, income_total_fen = $6, expenditure_programmes_fen = $7, expenditure_total_fen = $8, assets_fen = $9, liabilities_fen = $10, net_assets_fen = $11, staff = $12, members = $13, volunteers = $14, party_members = $15, activities = $16, officers = $17, changes = $18, donations_and_grants = $19, awards = $20, party_building = $21, rectification = $22, version = version + 1, updated_at = $23 where id = $24 and version = $25"), report)
                .arg(at)
                .arg(row.id)
                .arg(version.unwrap_or(row.version));
            if sql.execute(conn).await? != 1 {
                return Err(stale());
            }
            row.id
        }
    };
    append(
        conn,
        at,
        actor,
        NewEntry::of("save", "annual_report", Some(id), &format!("{year}")),
    )
    .await?;
    Ok(id)
}

/// Binds a report's values in column order.
fn with_report(sql: Sql, r: &Report) -> Sql {
    sql.arg(r.income_donations_fen)
        .arg(r.income_government_fen)
        .arg(r.income_services_fen)
        .arg(r.income_dues_fen)
        .arg(r.income_other_fen)
        .arg(r.income_total_fen)
        .arg(r.expenditure_programmes_fen)
        .arg(r.expenditure_total_fen)
        .arg(r.assets_fen)
        .arg(r.liabilities_fen)
        .arg(r.net_assets_fen)
        .arg(r.staff)
        .arg(r.members)
        .arg(r.volunteers)
        .arg(r.party_members)
        .arg(r.activities.as_str())
        .arg(r.officers.as_str())
        .arg(r.changes.as_str())
        .arg(r.donations_and_grants.as_str())
        .arg(r.awards.as_str())
        .arg(r.party_building.as_str())
        .arg(r.rectification.as_str())
}

/// Moves a report from one state to another at `version`, setting the given columns.
async fn transition(
    conn: &mut Conn<'_>,
    id: i64,
    version: i64,
    from: &[ReportState],
    set: &str,
    args: Vec<crate::db::Arg>,
) -> Result<()> {
    let mut sql = Sql::new("update annual_reports set ");
    sql.push(set).push(", version = version + 1 where id = ");
    let mut sql = sql.args(args);
    sql.push_arg(id)
        .push(" and version = ")
        .push_arg(version)
        .push(" and state in (")
        .push_list(&from.iter().map(|s| s.as_str()).collect::<Vec<_>>())
        .push(")");
    if sql.execute(conn).await? != 1 {
        return Err(stale());
    }
    Ok(())
}

/// Submits a report for review; `rectification_required` from last year's outcome.
pub async fn submit(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    row: &ReportRow,
    rectification_required: bool,
) -> Result<()> {
    if rectification_required && row.rectification.trim().is_empty() {
        return Err(Error::field(
            "rectification",
            Msg::new("inspection.error.rectification_required"),
        ));
    }
    if row.activities.trim().is_empty() || row.party_building.trim().is_empty() {
        return Err(Error::Conflict(Msg::new("inspection.error.incomplete")));
    }
    transition(
        conn,
        row.id,
        row.version,
        &[ReportState::Draft, ReportState::Returned],
        "state = 'submitted', submitted_at = $1, submitted_by = $2, updated_at = $1",
        vec![at.into(), actor.name.clone().into()],
    )
    .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "submit",
            "annual_report",
            Some(row.id),
            &row.year.to_string(),
        ),
    )
    .await?;
    Ok(())
}

/// A reviewer's decision on a submitted report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Record the inspection result (reasons required unless it passed).
    Result(ReportResult),
    /// Send it back to the organization to correct (reasons required).
    Return,
}

/// A review as the reviewer writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review<'a> {
    /// The decision.
    pub decision: Decision,
    /// Why (required for anything but a pass).
    pub reasons: &'a str,
    /// The supervisory unit's preliminary opinion, if it gave one.
    pub supervisor_opinion: &'a str,
}

/// Records a review of a submitted report at `version`.
pub async fn review(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    row: &ReportRow,
    version: i64,
    review: Review<'_>,
) -> Result<()> {
    let Review {
        decision,
        reasons,
        supervisor_opinion,
    } = review;
    let reasons = reasons.trim();
    let needs_reasons = !matches!(decision, Decision::Result(ReportResult::Pass));
    if needs_reasons && reasons.is_empty() {
        return Err(Error::field(
            "reasons",
            Msg::new("inspection.error.reasons"),
        ));
    }
    let mut errors = FieldErrors::new();
    if reasons.chars().count() > 2000 {
        errors.add(
            "reasons",
            Msg::new("error.field.too_long").with("max", 2000),
        );
    }
    if supervisor_opinion.trim().chars().count() > 2000 {
        errors.add(
            "supervisor_opinion",
            Msg::new("error.field.too_long").with("max", 2000),
        );
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let opinion = Some(supervisor_opinion.trim()).filter(|s| !s.is_empty());
    let (set, action, args): (&str, &str, Vec<crate::db::Arg>) = match decision {
        Decision::Result(result) => (
            "state = 'reviewed', result = $1, reasons = $2, reviewed_at = $3, reviewed_by = $4, supervisor_opinion = $5, updated_at = $3",
            result.as_str(),
            vec![
                result.as_str().into(),
                reasons.to_owned().into(),
                at.into(),
                actor.name.clone().into(),
                opinion.map(str::to_owned).into(),
            ],
        ),
        Decision::Return => (
            "state = 'returned', reasons = $1, supervisor_opinion = $2, updated_at = $3",
            "return",
            vec![
                reasons.to_owned().into(),
                opinion.map(str::to_owned).into(),
                at.into(),
            ],
        ),
    };
    transition(conn, row.id, version, &[ReportState::Submitted], set, args).await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of(action, "annual_report", Some(row.id), &row.year.to_string()),
    )
    .await?;
    Ok(())
}

/// An organization as the calendar needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CalendarRow {
    /// Organization id.
    pub org_id: i64,
    /// Name.
    pub name: String,
    /// Credit code.
    pub uscc: Option<String>,
    /// Kind (machine name).
    pub kind: String,
    /// Status (machine name).
    pub status: String,
    /// Registration date.
    pub registered_on: Option<NaiveDate>,
    /// Its area's name.
    pub area_name: String,
    /// The year's report, if started.
    pub report_id: Option<i64>,
    /// Its state.
    pub report_state: Option<String>,
    /// Its result.
    pub result: Option<String>,
    /// When it was submitted.
    pub submitted_at: Option<Timestamp>,
}

/// One organization's standing for one year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarLine {
    /// The facts.
    pub row: CalendarRow,
    /// The deadline for that year.
    pub deadline: NaiveDate,
    /// The filing status.
    pub filing: Filing,
}

impl CalendarLine {
    /// The report's state, when one was started.
    pub fn state(&self) -> Option<ReportState> {
        self.row
            .report_state
            .as_deref()
            .and_then(ReportState::parse)
    }

    /// The result, once reviewed.
    pub fn result(&self) -> Option<ReportResult> {
        self.row.result.as_deref().and_then(ReportResult::parse)
    }
}

/// The columns of a [`CalendarRow`], over `organizations o`, `areas a` and `annual_reports r`.
const CALENDAR_COLUMNS: &str = "o.id as org_id, o.name, o.uscc, o.kind, o.status, o.registered_on, a.name as area_name, r.id as report_id, r.state as report_state, r.result, r.submitted_at";

/// Filing statuses for `year` of the registered organizations `scope` reaches (within `area`
/// when given), by name. A draft does not count as filed.
pub async fn calendar(
    conn: &mut Conn<'_>,
    scope: &Scope,
    year: i64,
    area: Option<AreaId>,
    org: Option<i64>,
    rules: &Rules,
    today: NaiveDate,
) -> Result<Vec<CalendarLine>> {
    calendar_as_of(conn, scope, year, area, org, rules, today, None).await
}

/// [`calendar`] with each organization's kind and status as the registry history had them at
/// `registry_at` (the end of the report year, for figures that must not move when later
/// changes are entered); organizations that did not exist then are left out. `None` takes
/// them as they are now.
#[expect(
    clippy::too_many_arguments,
    reason = "the calendar's inputs and the instant the registry is read at"
)]
pub async fn calendar_as_of(
    conn: &mut Conn<'_>,
    scope: &Scope,
    year: i64,
    area: Option<AreaId>,
    org: Option<i64>,
    rules: &Rules,
    today: NaiveDate,
    registry_at: Option<Timestamp>,
) -> Result<Vec<CalendarLine>> {
    let mut sql = Sql::new("select ");
    sql.push(CALENDAR_COLUMNS).push(" from ");
    match registry_at {
        None => {
            sql.push("organizations");
        }
        // The registry as it stood then (already within the scope and the area's subtree).
        Some(at) => {
            let root = match area {
                Some(area) => area,
                None => crate::areas::store::root(conn)
                    .await?
                    .ok_or(crate::error::Error::NotFound)?
                    .area_id(),
            };
            crate::stats::snapshot::push_snapshot(&mut sql, scope, root, at);
        }
    }
    sql.push(" o join areas a on a.id = o.area_id left join annual_reports r on r.org_id = o.id and r.year = ");
    sql.push_arg(year).push(" where o.kind <> 'community'");
    if registry_at.is_none() {
        scope.restrict_orgs(&mut sql, "o");
        if let Some(area) = area {
            sql.push(" and ");
            crate::areas::store::subtree_predicate(&mut sql, "o.area_id", &[area]);
        }
    }
    if let Some(org) = org {
        sql.push(" and o.id = ").push_arg(org);
    }
    sql.push(" order by o.name");
    let rows: Vec<CalendarRow> = sql.fetch_all(conn).await?;
    Ok(CalendarLine::all_of(rows, year, rules, today))
}

/// The credit sweep's candidates for `year`, a page at a time: up to `limit` organizations with
/// ids above `after`, by id, that have not filed that year's report and were never listed for
/// missing it. Only the unfiled are read, so a large registry is never held whole in memory.
pub async fn unfiled_unlisted(
    conn: &mut Conn<'_>,
    year: i64,
    after: i64,
    limit: i64,
    rules: &Rules,
    today: NaiveDate,
) -> Result<Vec<CalendarLine>> {
    let mut sql = Sql::new("select ");
    sql.push(CALENDAR_COLUMNS)
        .push(" from organizations o join areas a on a.id = o.area_id left join annual_reports r on r.org_id = o.id and r.year = ")
        .push_arg(year)
        .push(" where o.kind <> 'community' and o.status in ('active', 'abnormal') and o.id > ")
        .push_arg(after)
        // Not filed: no report, a draft, or never submitted (as `CalendarLine::of` judges it).
        .push(" and (r.submitted_at is null or r.state not in ('submitted', 'reviewed', 'returned'))")
        .push(" and not exists (select 1 from credit_listings l where l.org_id = o.id and l.reason = 'annual_report_missing' and l.subject_year = ")
        .push_arg(year)
        .push(") order by o.id limit ")
        .push_arg(limit);
    let rows: Vec<CalendarRow> = sql.fetch_all(conn).await?;
    Ok(CalendarLine::all_of(rows, year, rules, today))
}

/// One organization's calendar lines for several `years`, in the order given, read in one
/// statement (the public record shows the recent years on every profile and API record, so
/// this is on the hot path). Community liaison points have none.
pub async fn org_calendar(
    conn: &mut Conn<'_>,
    org: i64,
    years: &[i32],
    rules: &Rules,
    today: NaiveDate,
) -> Result<Vec<(i32, CalendarLine)>> {
    /// A calendar row with the year it was read for.
    #[derive(sqlx::FromRow)]
    struct YearRow {
        year: i64,
        #[sqlx(flatten)]
        row: CalendarRow,
    }
    if years.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new("select y.year, ");
    sql.push(CALENDAR_COLUMNS)
        .push(" from organizations o join areas a on a.id = o.area_id join (");
    for (i, year) in years.iter().enumerate() {
        sql.push(if i == 0 {
            "select "
        } else {
            " union all select "
        });
        sql.push_arg(i64::from(*year)).push(" as year");
    }
    sql.push(") y on 1 = 1 left join annual_reports r on r.org_id = o.id and r.year = y.year where o.kind <> 'community' and o.id = ")
        .push_arg(org);
    let rows: Vec<YearRow> = sql.fetch_all(conn).await?;
    let mut lines: Vec<(i32, CalendarLine)> = rows
        .into_iter()
        .map(|r| {
            let year = i32::try_from(r.year).unwrap_or(i32::MAX - 1);
            (year, CalendarLine::of(r.row, year, rules, today))
        })
        .collect();
    lines.sort_by_key(|(year, _)| years.iter().position(|y| y == year));
    Ok(lines)
}

impl CalendarLine {
    /// [`CalendarLine::of`] for every row read for `year`.
    fn all_of(rows: Vec<CalendarRow>, year: i64, rules: &Rules, today: NaiveDate) -> Vec<Self> {
        let year = i32::try_from(year).unwrap_or(i32::MAX - 1);
        rows.into_iter()
            .map(|row| CalendarLine::of(row, year, rules, today))
            .collect()
    }

    /// The standing of `row` for `year` under `rules`, judged on the business date `today`.
    fn of(row: CalendarRow, year: i32, rules: &Rules, today: NaiveDate) -> CalendarLine {
        let kind = OrgKind::parse(&row.kind).unwrap_or(OrgKind::SocialGroup);
        let status = OrgStatus::parse(&row.status).unwrap_or(OrgStatus::Active);
        let due = rules.is_due(kind, status, row.registered_on, year);
        let deadline = rules.deadline(kind, year);
        let filed = match row.report_state.as_deref() {
            Some("submitted" | "reviewed") => row.submitted_at.map(china_date),
            // A returned report was filed once; its first filing date is the one on record.
            Some("returned") => row.submitted_at.map(china_date),
            _ => None,
        };
        // A year's report is filed the year after: nothing is due while the year runs.
        let filing = if today.year() <= year {
            Filing::NotDue
        } else {
            Filing::of(due, deadline, filed, today)
        };
        CalendarLine {
            row,
            deadline,
            filing,
        }
    }
}

/// The inspection figures of one year over a set of calendar lines (SPEC §3.4): the rate is
/// reported ÷ due, the pass rate passed ÷ reviewed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Figures {
    /// Organizations that had to report.
    pub due: i64,
    /// Of them, reports filed (on time or late).
    pub reported: i64,
    /// Filed by the deadline.
    pub on_time: i64,
    /// Filed after it.
    pub late: i64,
    /// Not filed, deadline passed.
    pub overdue: i64,
    /// Not filed, deadline still ahead.
    pub pending: i64,
    /// Reviewed: 合格.
    pub pass: i64,
    /// Reviewed: 基本合格.
    pub basic_pass: i64,
    /// Reviewed: 不合格.
    pub fail: i64,
    /// Filed, waiting for review.
    pub awaiting_review: i64,
    /// reported ÷ due, in per mille (1000 = 100 %), when anything was due.
    pub inspection_rate_permille: Option<i64>,
    /// pass ÷ reviewed, in per mille.
    pub pass_rate_permille: Option<i64>,
}

impl Figures {
    /// Counts the lines.
    pub fn of(lines: &[CalendarLine]) -> Figures {
        let mut f = Figures::default();
        for line in lines {
            f.add(line.filing, line.state(), line.result(), 1);
        }
        f.rated()
    }

    /// Adds `n` organizations in one standing.
    fn add(
        &mut self,
        filing: Filing,
        state: Option<ReportState>,
        result: Option<ReportResult>,
        n: i64,
    ) {
        match filing {
            Filing::NotDue => return,
            Filing::OnTime => self.on_time += n,
            Filing::Late { .. } => self.late += n,
            Filing::Overdue { .. } => self.overdue += n,
            Filing::Due { .. } => self.pending += n,
        }
        self.due += n;
        match (state, result) {
            (Some(ReportState::Reviewed), Some(ReportResult::Pass)) => self.pass += n,
            (Some(ReportState::Reviewed), Some(ReportResult::BasicPass)) => self.basic_pass += n,
            (Some(ReportState::Reviewed), Some(ReportResult::Fail)) => self.fail += n,
            (Some(ReportState::Submitted | ReportState::Returned), _) => self.awaiting_review += n,
            _ => {}
        }
    }

    /// The totals and rates over what was added.
    fn rated(mut self) -> Figures {
        self.reported = self.on_time + self.late;
        let reviewed = self.pass + self.basic_pass + self.fail;
        self.inspection_rate_permille = permille(self.reported, self.due);
        self.pass_rate_permille = permille(self.pass, reviewed);
        self
    }

    /// The figures of `year` for `area`'s registered organizations within `scope`, due as the
    /// registry stood at `registry_at`: the same as [`Figures::of`] the calendar of
    /// [`calendar_as_of`], counted in the database (a national registry's calendar is
    /// millions of lines; its figures are a few dozen groups).
    pub async fn as_of(
        conn: &mut Conn<'_>,
        scope: &Scope,
        year: i32,
        area: AreaId,
        rules: &Rules,
        today: NaiveDate,
        registry_at: Timestamp,
    ) -> Result<Figures> {
        // A year's report is filed the year after: nothing is due while the year runs.
        if today.year() <= year {
            return Ok(Figures::default().rated());
        }
        let deadline_end =
            |kind| crate::registry::store::end_of_day_china(rules.deadline(kind, year));
        let mut sql = Sql::new(
            "select o.kind, r.state, r.result, case when r.state in ('submitted', 'reviewed', 'returned') and r.submitted_at is not null then (case when o.kind = 'foundation' then r.submitted_at <= ",
        );
        sql.push_arg(deadline_end(OrgKind::Foundation))
            .push(" else r.submitted_at <= ")
            .push_arg(deadline_end(OrgKind::SocialGroup))
            .push(" end) end as on_time, count(*) as n from ");
        crate::stats::snapshot::push_snapshot(&mut sql, scope, area, registry_at);
        sql.push(" o left join annual_reports r on r.org_id = o.id and r.year = ")
            .push_arg(i64::from(year))
            .push(" where o.kind <> 'community' and o.status in ('active', 'abnormal') and o.registered_on <= ")
            .push_arg(rules.registered_by(year))
            .push(" group by o.kind, r.state, r.result, on_time");
        /// Organizations of one kind in one standing.
        #[derive(sqlx::FromRow)]
        struct Group {
            kind: String,
            state: Option<String>,
            result: Option<String>,
            on_time: Option<bool>,
            n: i64,
        }
        let groups: Vec<Group> = sql.fetch_all(conn).await?;
        let mut f = Figures::default();
        for Group {
            kind,
            state,
            result,
            on_time,
            n,
        } in groups
        {
            let kind = OrgKind::parse(&kind).unwrap_or(OrgKind::SocialGroup);
            let deadline = rules.deadline(kind, year);
            // Only the kind of standing counts here, not its days.
            let filing = match on_time {
                Some(true) => Filing::OnTime,
                Some(false) => Filing::Late { days: 1 },
                None if today <= deadline => Filing::Due { days_left: 0 },
                None => Filing::Overdue { days: 1 },
            };
            f.add(
                filing,
                state.as_deref().and_then(ReportState::parse),
                result.as_deref().and_then(ReportResult::parse),
                n,
            );
        }
        Ok(f.rated())
    }
}

/// `part ÷ whole` in per mille, rounded half up; `None` when there is nothing to divide.
pub fn permille(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 1000 + whole / 2) / whole)
}

/// Formats a per-mille rate as a percentage ("100.0%"), or "—".
pub fn percent(permille: Option<i64>) -> String {
    permille.map_or_else(|| "—".to_owned(), |p| format!("{}.{}%", p / 10, p % 10))
}
