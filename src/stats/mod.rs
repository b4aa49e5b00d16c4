//! The figures of SPEC §4 as one summary (`GET /api/v1/stats/summary?area=&year=`, SPEC §7):
//! every key is computed on request by the module that owns the records — nothing is stored,
//! so nothing can drift from a recount.
//!
//! Every figure is taken **as of the end of `year`** (31 December, China time), so "at the end
//! of 2014" reads the same after 2015 is entered. A count and its drill-down list
//! ([`drill`]) are read from the same statement or the same rows, so they cannot disagree.
//! The rule per figure:
//! - `organizations_total` … `filed_community_orgs`, `direct_registrations`: the registry
//!   replayed from its history (`org_change_fields`) to the last instant of the year
//!   ([`snapshot`]): organizations existing then whose status then was active or abnormal, by
//!   their kind and direct-registration flag then (area: as now);
//! - `party_orgs_independent`, `party_branches_joint`: party organizations with
//!   `established_on` ≤ the day and no `dissolved_on` on or before it, counted in the area of
//!   the organization they sit in (as now);
//! - `party_instructors`: instructors with an assignment in force that day to an organization
//!   of the area — `assigned_on` ≤ the day, and either still current or ended
//!   (`party_instructor_orgs_ended.ended_on`) after it;
//! - `party_funding_yuan`: the year's budget by the funding rule (the allowances in force that
//!   year — 2,000 a year per party organization, 200 a month per cadre — for the months of the
//!   year each existed, see `party::counted_months`), which reads that year's dates only;
//! - `federations`: founded (`founded_on`, or when entered — `created_at` — where no founding
//!   date is recorded) by the day; no federation ever ends in the records;
//! - `communities_total`: divisions of level community valid that day (`valid_from`/`valid_to`
//!   when recorded — the shipped division list records none, so every community counts);
//!   `communities_with_liaison_point`: of them, those whose liaison point was set up
//!   (`established_on`, else `created_at`) by the day. Liaison points have no closing date and
//!   their edits keep no history: a point's date changed later counts as changed;
//! - `inspection_rate`, `inspection_pass_rate`: the annual reports *for* the year (filed the
//!   next spring, so they are read as recorded now), due from the registered organizations as
//!   the registry stood at the year's end (kind and status replayed); the rate is reported ÷
//!   due, the pass rate pass ÷ reviewed;
//! - `organizations_evaluated`: distinct organizations given a final grade in rounds up to the
//!   year, decided (`decided_on`, else the round's `finalized_on`) by the day;
//! - `social_workers`, `professionals`: in post that day (`started_on` ≤ day ≤ `ended_on`);
//! - `incubated_graduated`: stays ended by graduation (`ended_on`) by the day; `incubating`:
//!   stays entered by the day and not ended by then (counted at the incubator's area);
//! - `venture_*`: the year's venture-philanthropy round(s) whose results are public (公示
//!   started); they belong to the district, so a street shows the same round figures;
//!   `venture_domains` counts the distinct domain names of those rounds;
//! - `volunteer_hours`: verified service records served on or before the day and verified
//!   (`verified_at`) by its end;
//! - `donations_yuan`: donations received on or before the day (`donated_on`), money and goods
//!   at their recorded value.

use crate::areas::AreaId;
use crate::auth::Scope;
use crate::db::{Conn, Sql};
use crate::error::Result;
use chrono::NaiveDate;

pub mod catalogue;
pub mod dashboard;
pub mod drill;
pub mod memo;
pub mod reports;
pub mod snapshot;

/// The summary of SPEC §7, keys in its order. Rates are fractions 0–1, money in yuan.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    /// 社会组织总数.
    pub organizations_total: i64,
    /// 登记注册的.
    pub registered_total: i64,
    /// 社会团体.
    pub social_groups: i64,
    /// 民办非企业单位.
    pub private_non_enterprise_units: i64,
    /// 基金会.
    pub foundations: i64,
    /// 备案的社区社会组织.
    pub filed_community_orgs: i64,
    /// 独立党组织.
    pub party_orgs_independent: i64,
    /// 联合党支部.
    pub party_branches_joint: i64,
    /// 党建指导员.
    pub party_instructors: i64,
    /// 党建经费.
    pub party_funding_yuan: f64,
    /// 街道(乡镇)社会组织联合会.
    pub federations: i64,
    /// 村(居).
    pub communities_total: i64,
    /// 设立联络点的村(居).
    pub communities_with_liaison_point: i64,
    /// 直接登记.
    pub direct_registrations: i64,
    /// 年检率.
    pub inspection_rate: f64,
    /// 年检合格率.
    pub inspection_pass_rate: f64,
    /// 参加评估的组织.
    pub organizations_evaluated: i64,
    /// 社会工作者.
    pub social_workers: i64,
    /// 专业人才.
    pub professionals: i64,
    /// 出壳.
    pub incubated_graduated: i64,
    /// 正在孵化.
    pub incubating: i64,
    /// 公益创投预算.
    pub venture_budget_yuan: f64,
    /// 公益创投领域.
    pub venture_domains: i64,
    /// 公益创投申报项目.
    pub venture_proposals: i64,
    /// 公益创投资助项目.
    pub venture_funded: i64,
    /// 志愿服务时长 (verified).
    pub volunteer_hours: f64,
    /// 募集捐款.
    pub donations_yuan: f64,
}

/// A per-mille rate as a fraction (0 when nothing was due).
fn fraction(permille: Option<i64>) -> f64 {
    permille.map_or(0.0, |p| p as f64 / 1000.0)
}

/// Organizations of `area` live at the end of `year`, by kind, with the direct registrations,
/// counted in the database over the [`snapshot`] (the same rows the drill-down lists).
pub(crate) async fn registry_as_of(
    conn: &mut Conn<'_>,
    area: AreaId,
    year: i32,
) -> Result<(Vec<(String, i64)>, i64)> {
    let mut sql = Sql::new("select s.kind, s.direct, count(*) from ");
    snapshot::push_snapshot(&mut sql, &Scope::All, area, snapshot::year_end(year));
    sql.push(" s where s.status in ('active', 'abnormal') group by s.kind, s.direct");
    let groups: Vec<(String, bool, i64)> = sql.fetch_all(conn).await?;
    let mut kinds: Vec<(String, i64)> = Vec::new();
    let mut direct = 0;
    for (kind, is_direct, n) in groups {
        if is_direct {
            direct += n;
        }
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, total)) => *total += n,
            None => kinds.push((kind, n)),
        }
    }
    Ok((kinds, direct))
}

/// Organizations live at the end of `year` under each direct child of `area`, as
/// `(child area id, kind, count)`: the children's [`registry_as_of`] in one pass, remembered
/// in `memo`.
pub(crate) async fn registry_by_child(
    memo: &memo::StatsMemo,
    conn: &mut Conn<'_>,
    area: AreaId,
    year: i32,
) -> Result<memo::ChildCounts> {
    let seq = crate::audit::store::newest_seq(conn).await?;
    let key = (area.0, year);
    if let Some(counts) = memo.by_child.registry_figure(conn, seq, key).await? {
        return Ok(counts);
    }
    let mut sql = Sql::new("select cl.ancestor_id, s.kind, count(*) from ");
    snapshot::push_snapshot(&mut sql, &Scope::All, area, snapshot::year_end(year));
    sql.push(" s join area_closure cl on cl.descendant_id = s.area_id join areas ch on ch.id = cl.ancestor_id where ch.parent_id = ")
        .push_arg(area)
        .push(" and s.status in ('active', 'abnormal') group by cl.ancestor_id, s.kind");
    let counts: memo::ChildCounts = sql.fetch_all(conn).await?;
    memo.by_child.put(key, seq, counts.clone());
    Ok(counts)
}

/// The last day of `year`, the day every figure is taken at.
pub fn year_end_day(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// The organizations under `area` within `scope` given a final grade (评估等级) decided on or
/// before the end of `year`, selected by `head` (`select count(*)` for the figure, row
/// columns of `o` and its area `a` for its list), one row per organization.
pub(crate) fn evaluated_sql(head: Sql, scope: &Scope, area: AreaId, year: i32) -> Sql {
    let mut sql = head;
    sql.push(" from organizations o join areas a on a.id = o.area_id where exists (select 1 from evaluation_applications e join evaluation_rounds r on r.id = e.round_id where e.org_id = o.id and ");
    push_graded_by(&mut sql, year);
    sql.push(") and ");
    crate::areas::store::subtree_predicate(&mut sql, "o.area_id", &[area]);
    scope.restrict_orgs(&mut sql, "o");
    sql
}

/// Appends "application `e` of round `r` ended with a final grade decided by the end of
/// `year`".
pub(crate) fn push_graded_by(sql: &mut Sql, year: i32) {
    sql.push("e.state = 'final' and e.final_grade is not null and r.year <= ")
        .push_arg(i64::from(year))
        .push(" and coalesce(e.decided_on, r.finalized_on) <= ")
        .push_arg(year_end_day(year));
}

/// The summary for `area` (and everything below it) and `year`, every figure as of the end of
/// the year (see the module documentation for the rule of each), counted now.
pub async fn summary(
    conn: &mut Conn<'_>,
    area: &crate::areas::store::AreaRow,
    year: i32,
) -> Result<Summary> {
    count_summary(None, conn, area, year).await
}

/// [`summary`] as remembered in `memo` while nothing has been written since (see [`memo`]).
pub async fn summary_remembered(
    memo: &memo::StatsMemo,
    conn: &mut Conn<'_>,
    area: &crate::areas::store::AreaRow,
    year: i32,
) -> Result<Summary> {
    let seq = crate::audit::store::newest_seq(conn).await?;
    let key = (area.id, year, crate::clock::today(conn).await?);
    if let Some((at, summary)) = memo.summaries.get(&key)
        && at == seq
    {
        return Ok(summary);
    }
    let summary = count_summary(Some(memo), conn, area, year).await?;
    memo.summaries.put(key, seq, summary.clone());
    Ok(summary)
}

/// [`registry_as_of`], remembered in `memo`: kept across later writes that cannot move it (see
/// [`memo`]).
pub(crate) async fn registry_remembered(
    memo: &memo::StatsMemo,
    conn: &mut Conn<'_>,
    area: AreaId,
    year: i32,
) -> Result<memo::RegistryCounts> {
    let seq = crate::audit::store::newest_seq(conn).await?;
    let key = (area.0, year);
    if let Some(counts) = memo.registry.registry_figure(conn, seq, key).await? {
        return Ok(counts);
    }
    let counts = registry_as_of(conn, area, year).await?;
    memo.registry.put(key, seq, counts.clone());
    Ok(counts)
}

/// The summary, with the registry counts taken from `memo` when given.
async fn count_summary(
    memo: Option<&memo::StatsMemo>,
    conn: &mut Conn<'_>,
    area: &crate::areas::store::AreaRow,
    year: i32,
) -> Result<Summary> {
    use crate::party::Form;
    let id = area.area_id();
    let day = year_end_day(year);
    let today = crate::clock::today(conn).await?;
    let all = &Scope::All;
    let mut s = Summary::default();

    let (kinds, direct) = match memo {
        Some(memo) => registry_remembered(memo, conn, id, year).await?,
        None => registry_as_of(conn, id, year).await?,
    };
    let kind = |k: &str| kinds.iter().find(|(x, _)| x == k).map_or(0, |(_, n)| *n);
    s.social_groups = kind("social_group");
    s.private_non_enterprise_units = kind("private_non_enterprise");
    s.foundations = kind("foundation");
    s.filed_community_orgs = kind("community");
    s.registered_total = s.social_groups + s.private_non_enterprise_units + s.foundations;
    s.organizations_total = s.registered_total + s.filed_community_orgs;
    s.direct_registrations = direct;

    let party = |form| {
        crate::party::store::in_force_sql("select count(*)", all, Some(id), Some(form), Some(day))
    };
    s.party_orgs_independent = party(Form::Independent).fetch_i64(conn).await?;
    s.party_branches_joint = party(Form::Joint).fetch_i64(conn).await?;
    s.party_instructors =
        crate::party::coverage::instructors_sql("select count(*)", all, Some(id), Some(day))
            .fetch_i64(conn)
            .await?;
    let funding = crate::party::funding::funding(conn, all, Some(id), year).await?;
    s.party_funding_yuan = funding.total.budget_fen() as f64 / 100.0;

    s.federations = crate::hubs::store::federations_sql("select count(*)", id, Some(day))
        .fetch_i64(conn)
        .await?;
    (s.communities_total, s.communities_with_liaison_point) =
        crate::hubs::store::communities_sql("select count(*), count(p.id)", id, Some(day))
            .fetch_one(conn)
            .await?;

    let rules = crate::inspection::Rules::load(conn).await?;
    let inspection = crate::inspection::store::Figures::as_of(
        conn,
        all,
        year,
        id,
        &rules,
        today,
        snapshot::year_end(year),
    )
    .await?;
    s.inspection_rate = fraction(inspection.inspection_rate_permille);
    s.inspection_pass_rate = fraction(inspection.pass_rate_permille);

    s.organizations_evaluated = evaluated_sql(Sql::new("select count(*)"), all, id, year)
        .fetch_i64(conn)
        .await?;

    let workers = |kind| crate::talent::store::in_post_sql("select count(*)", id, kind, day);
    s.social_workers = workers(crate::talent::PractitionerKind::SocialWorker)
        .fetch_i64(conn)
        .await?;
    s.professionals = workers(crate::talent::PractitionerKind::Professional)
        .fetch_i64(conn)
        .await?;

    let stays = |state| {
        crate::incubation::figures::stays_sql("select count(*)", all, area, state, Some(day))
    };
    s.incubated_graduated = stays(crate::incubation::figures::StayState::Graduated)
        .fetch_i64(conn)
        .await?;
    s.incubating = stays(crate::incubation::figures::StayState::Incubating)
        .fetch_i64(conn)
        .await?;

    // Rounds belong to the district: every area shows the year's venture rounds.
    use crate::funding::award::{domains_sql, proposals_sql, rounds_sql};
    let venture = Some(VENTURE);
    s.venture_budget_yuan = rounds_sql(
        "select cast(coalesce(sum(r.budget_fen), 0) as bigint)",
        year,
        venture,
    )
    .fetch_i64(conn)
    .await? as f64
        / 100.0;
    s.venture_domains = domains_sql("select count(distinct d.name)", year, venture)
        .fetch_i64(conn)
        .await?;
    s.venture_proposals = proposals_sql("select count(*)", all, year, venture, false)
        .fetch_i64(conn)
        .await?;
    s.venture_funded = proposals_sql("select count(*)", all, year, venture, true)
        .fetch_i64(conn)
        .await?;

    let tenths = crate::volunteers::store::verified_sql(
        "select cast(coalesce(sum(s.tenth_hours), 0) as bigint)",
        all,
        Some(id),
        Some(day),
    )
    .fetch_i64(conn)
    .await?;
    s.volunteer_hours = tenths as f64 / 10.0;
    let fen = crate::volunteers::store::donations_sql(
        "select cast(coalesce(sum(d.amount_fen), 0) as bigint)",
        all,
        Some(id),
        Some(RECEIVED),
        Some(day),
    )
    .fetch_i64(conn)
    .await?;
    s.donations_yuan = fen as f64 / 100.0;
    Ok(s)
}

/// The programme kind of venture philanthropy (公益创投).
pub(crate) const VENTURE: &str = "venture";
/// The direction of donations raised (募集).
pub(crate) const RECEIVED: &str = "received";

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct SummaryQuery {
    area: String,
    year: String,
}

/// Every route of this module.
pub fn routes() -> axum::Router<crate::app::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/api/v1/stats/summary", get(api_summary))
        .route("/admin/stats", get(dashboard::dashboard))
        .route("/admin/stats/drill/{key}", get(dashboard::drill))
        .route("/admin/stats/reports/{name}", get(dashboard::report))
}

/// `GET /api/v1/stats/summary?area=&year=`: the summary of an area (default: the district)
/// for a year (default: the last full year before the business date). Aggregates only.
async fn api_summary(
    axum::extract::State(app): axum::extract::State<crate::app::AppState>,
    axum::extract::Query(q): axum::extract::Query<SummaryQuery>,
) -> std::result::Result<axum::Json<Summary>, crate::api::ApiError> {
    use crate::error::Error;
    use crate::i18n::Msg;
    let mut conn = app.read_db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let year = crate::clock::report_year(&q.year, today)?;
    let area = match q.area.trim() {
        "" => crate::areas::store::root(&mut c).await?,
        code => crate::areas::store::find_by_code(&mut c, code).await?,
    }
    .ok_or_else(|| Error::field("area", Msg::new("error.field.choice")))?;
    Ok(axum::Json(
        summary_remembered(&app.stats, &mut c, &area, year).await?,
    ))
}
