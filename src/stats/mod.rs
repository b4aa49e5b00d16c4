//! The figures of SPEC §4 as one summary (`GET /api/v1/stats/summary?area=&year=`, SPEC §7):
//! every key is computed on request by the module that owns the records — nothing is stored,
//! so nothing can drift from a recount.
//!
//! What "at the end of `year`" means per figure:
//! - the registry counts are **as of** the last instant of the year (China time), replayed from
//!   the registry's history, so entering 2015 records does not move the 2014 figures;
//! - party organizations, instructors, federations, liaison points and incubation stays count the
//!   records in force now (their own histories are not replayed yet), and the party funding is
//!   the year's budget computed by the funding rule;
//! - inspection rates are those of the year's annual reports; organizations evaluated count the
//!   distinct organizations given a final grade in rounds up to the year;
//! - social workers and professionals are those in post on the year's last day;
//! - the venture-philanthropy figures are those of the year's venture round(s), which belong to
//!   the district: a street's summary shows the same round figures;
//! - volunteer hours (verified only) and donations raised are cumulative over every record.

use crate::areas::AreaId;
use crate::auth::Scope;
use crate::db::{Conn, Sql};
use crate::error::Result;
use chrono::NaiveDate;

pub mod catalogue;
pub mod dashboard;
pub mod drill;
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
/// counted from the [`snapshot`] (the same rows the drill-down lists).
pub(crate) async fn registry_as_of(
    conn: &mut Conn<'_>,
    area: AreaId,
    year: i32,
) -> Result<(Vec<(String, i64)>, i64)> {
    let live: Vec<snapshot::OrgThen> = snapshot::snapshot(conn, &Scope::All, area, year)
        .await?
        .into_iter()
        .filter(snapshot::OrgThen::live)
        .collect();
    let mut kinds: Vec<(String, i64)> = Vec::new();
    for org in &live {
        match kinds.iter_mut().find(|(k, _)| *k == org.kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((org.kind.clone(), 1)),
        }
    }
    let direct = live.iter().filter(|o| o.direct).count() as i64;
    Ok((kinds, direct))
}

/// The summary for `area` (and everything below it) and `year`.
pub async fn summary(
    conn: &mut Conn<'_>,
    area: &crate::areas::store::AreaRow,
    year: i32,
) -> Result<Summary> {
    let id = area.area_id();
    let year_end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX);
    let today = crate::clock::today(conn).await?;
    let mut s = Summary::default();

    let (kinds, direct) = registry_as_of(conn, id, year).await?;
    let kind = |k: &str| kinds.iter().find(|(x, _)| x == k).map_or(0, |(_, n)| *n);
    s.social_groups = kind("social_group");
    s.private_non_enterprise_units = kind("private_non_enterprise");
    s.foundations = kind("foundation");
    s.filed_community_orgs = kind("community");
    s.registered_total = s.social_groups + s.private_non_enterprise_units + s.foundations;
    s.organizations_total = s.registered_total + s.filed_community_orgs;
    s.direct_registrations = direct;

    let party = crate::party::coverage::summary(conn, &Scope::All, Some(id)).await?;
    s.party_orgs_independent = party.independent;
    s.party_branches_joint = party.joint;
    s.party_instructors = party.instructors;
    let funding = crate::party::funding::funding(conn, &Scope::All, Some(id), year).await?;
    s.party_funding_yuan = funding.total.budget_fen() as f64 / 100.0;

    let network = crate::hubs::store::figures(conn, id).await?;
    s.federations = network.federations;
    s.communities_total = network.communities;
    s.communities_with_liaison_point = network.with_liaison_point;

    let rules = crate::inspection::Rules::load(conn).await?;
    let lines = crate::inspection::store::calendar(
        conn,
        &Scope::All,
        i64::from(year),
        Some(id),
        None,
        &rules,
        today,
    )
    .await?;
    let inspection = crate::inspection::store::Figures::of(&lines);
    s.inspection_rate = fraction(inspection.inspection_rate_permille);
    s.inspection_pass_rate = fraction(inspection.pass_rate_permille);

    let mut evaluated = Sql::new("select count(distinct a.org_id) from evaluation_applications a join evaluation_rounds r on r.id = a.round_id join organizations o on o.id = a.org_id where a.state = 'final' and a.final_grade is not null and r.year <= $1 and ")
        .arg(i64::from(year));
    crate::areas::store::subtree_predicate(&mut evaluated, "o.area_id", &[id]);
    s.organizations_evaluated = evaluated.fetch_i64(conn).await?;

    let load = crate::settings::store::current(conn, "social_worker_load")
        .await?
        .parse()
        .unwrap_or(30);
    let talent = crate::talent::store::ratio(conn, id, year_end, load).await?;
    s.social_workers = talent.social_workers;
    s.professionals = talent.professionals;

    let incubation = crate::incubation::figures::figures(conn, &Scope::All, area).await?;
    s.incubated_graduated = incubation.graduated;
    s.incubating = incubation.incubating;

    // Rounds belong to the district: every area shows the year's venture rounds.
    for round in crate::funding::award::figures(conn, year)
        .await?
        .iter()
        .filter(|r| r.kind == "venture")
    {
        s.venture_budget_yuan += round.budget_yuan as f64;
        s.venture_domains = s.venture_domains.max(round.domains);
        s.venture_proposals += round.proposals;
        s.venture_funded += round.funded;
    }

    let volunteers = crate::volunteers::store::figures(conn, &Scope::All, Some(id), None).await?;
    s.volunteer_hours = volunteers.verified_tenths as f64 / 10.0;
    s.donations_yuan = volunteers.received_fen as f64 / 100.0;
    Ok(s)
}

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
    use chrono::Datelike;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let year = match q.year.trim() {
        "" => today.year() - 1,
        y => y
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2100).contains(y))
            .ok_or_else(|| Error::field("year", Msg::new("error.field.choice")))?,
    };
    let area = match q.area.trim() {
        "" => crate::areas::store::root(&mut c).await?,
        code => crate::areas::store::find_by_code(&mut c, code).await?,
    }
    .ok_or_else(|| Error::field("area", Msg::new("error.field.choice")))?;
    Ok(axum::Json(summary(&mut c, &area, year).await?))
}
