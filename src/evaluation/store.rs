//! Queries of the classified evaluation: templates, rounds, applications, scores, recusal,
//! 公示, 复核 and the final grade. Reads of organizations go through the caller's view (staff,
//! the organization's own scope, or an expert's assignments); every write appends an audit entry
//! in the caller's transaction; the grade reaches the registry through `registry::store::update`.

use super::{
    ApplicationId, ApplicationState, Bands, EligibilityFacts, IndicatorNode, ReportFact,
    RoundDraft, RoundId, check_eligibility, check_tree, default_template,
    employment_requires_recusal, grade_expiry, leaves, parse_scores, review_changes_grade,
};
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::{Scope, UserId};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::Msg;
use crate::registry::store as registry;
use crate::registry::{Grade, OrgForm, OrgId, OrgKind};
use chrono::NaiveDate;
use std::collections::HashMap;

/// A template (评估指标模板) row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TemplateRow {
    /// Id.
    pub id: i64,
    /// Organization kind.
    pub kind: String,
    /// Scale (1,000).
    pub total_points: i64,
    /// Incremented by every edit (a stale form is a conflict).
    pub version: i64,
}

/// An indicator row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct IndicatorRow {
    /// Id.
    pub id: i64,
    /// Parent.
    pub parent_id: Option<i64>,
    /// Order among siblings.
    pub position: i64,
    /// Name.
    pub name: String,
    /// 标准分.
    pub max_points: i64,
    /// 加分项.
    pub bonus: bool,
}

impl IndicatorRow {
    /// As the pure rules see it.
    pub fn node(&self) -> IndicatorNode {
        IndicatorNode {
            id: self.id,
            parent_id: self.parent_id,
            name: self.name.clone(),
            max_points: self.max_points,
            bonus: self.bonus,
        }
    }
}

/// A round (评估活动).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RoundRow {
    /// Id.
    pub id: i64,
    /// 活动名称.
    pub title: String,
    /// 评估年度.
    pub year: i64,
    /// Kinds covered, comma-separated.
    pub kinds: String,
    /// First day to apply.
    pub apply_from: NaiveDate,
    /// Last day to apply.
    pub apply_until: NaiveDate,
    /// 公示 length.
    pub publicity_days: i64,
    /// Bands as stored.
    pub bands: String,
    /// 公示 first day.
    pub publicity_from: Option<NaiveDate>,
    /// 公示 last day.
    pub publicity_until: Option<NaiveDate>,
    /// When the results were made final.
    pub finalized_on: Option<NaiveDate>,
}

impl RoundRow {
    /// Typed id.
    pub fn round_id(&self) -> RoundId {
        RoundId(self.id)
    }

    /// Kinds covered.
    pub fn kinds(&self) -> Vec<OrgKind> {
        self.kinds.split(',').filter_map(OrgKind::parse).collect()
    }

    /// Grade bands.
    pub fn bands(&self) -> Bands {
        Bands::from_text(&self.bands)
    }

    /// True on the days applications are taken.
    pub fn is_open(&self, today: NaiveDate) -> bool {
        self.apply_from <= today && today <= self.apply_until && self.finalized_on.is_none()
    }
}

/// An application with its organization and round.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApplicationRow {
    /// Id.
    pub id: i64,
    /// Round.
    pub round_id: i64,
    /// Round title.
    pub round_title: String,
    /// Round year.
    pub round_year: i64,
    /// Organization.
    pub org_id: i64,
    /// Organization name.
    pub org_name: String,
    /// Organization credit code.
    pub org_uscc: Option<String>,
    /// Organization kind.
    pub org_kind: String,
    /// State (machine name).
    pub state: String,
    /// 申请日期.
    pub applied_on: NaiveDate,
    /// 自评总分.
    pub self_total: i64,
    /// Mean of the experts' totals.
    pub expert_total: Option<i64>,
    /// Committee adjustment (points, may be negative).
    pub adjustment: Option<i64>,
    /// Why the committee adjusted.
    pub adjustment_reason: Option<String>,
    /// Expert mean plus adjustment.
    pub final_score: Option<i64>,
    /// 拟定等级.
    pub proposed_grade: Option<String>,
    /// 最终等级.
    pub final_grade: Option<String>,
    /// Last valid day of the final grade.
    pub grade_expires_on: Option<NaiveDate>,
    /// 终评日期.
    pub decided_on: Option<NaiveDate>,
    /// Round 公示 first day.
    pub publicity_from: Option<NaiveDate>,
    /// Round 公示 last day.
    pub publicity_until: Option<NaiveDate>,
    /// Version.
    pub version: i64,
}

impl ApplicationRow {
    /// Typed id.
    pub fn application_id(&self) -> ApplicationId {
        ApplicationId(self.id)
    }

    /// Typed state.
    pub fn state(&self) -> ApplicationState {
        ApplicationState::parse(&self.state).unwrap_or(ApplicationState::Applied)
    }

    /// Typed kind.
    pub fn kind(&self) -> OrgKind {
        OrgKind::parse(&self.org_kind).unwrap_or(OrgKind::SocialGroup)
    }
}

const APPLICATION_SELECT: &str = "select a.id, a.round_id, r.title as round_title, r.year as round_year, a.org_id, o.name as org_name, o.uscc as org_uscc, o.kind as org_kind, a.state, a.applied_on, a.self_total, a.expert_total, a.adjustment, a.adjustment_reason, a.final_score, a.proposed_grade, a.final_grade, a.grade_expires_on, a.decided_on, r.publicity_from, r.publicity_until, a.version from evaluation_applications a join evaluation_rounds r on r.id = a.round_id join organizations o on o.id = a.org_id where 1 = 1";

const ROUND_SELECT: &str = "select id, title, year, kinds, apply_from, apply_until, publicity_days, bands, publicity_from, publicity_until, finalized_on from evaluation_rounds";

/// Who is reading applications: what each sees is applied in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// Evaluation staff (管理): every application.
    Staff,
    /// An organization's account: its own organizations' applications.
    Org(Scope),
    /// An expert: only the applications assigned to them.
    Expert(UserId),
}

impl Viewer {
    fn restrict(&self, sql: &mut Sql) {
        match self {
            Viewer::Staff => {}
            Viewer::Org(scope) => scope.restrict_orgs(sql, "o"),
            Viewer::Expert(user) => {
                sql.push(" and exists (select 1 from evaluation_assignments x where x.application_id = a.id and x.expert_user_id = ")
                    .push_arg(*user)
                    .push(")");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Templates

/// Creates the shipped template of every evaluated kind that has none yet.
pub async fn ensure_templates(conn: &mut Conn<'_>, actor: &Actor, at: Timestamp) -> Result<()> {
    for kind in super::EVALUATED_KINDS {
        let exists: Option<(i64,)> =
            Sql::new("select id from evaluation_templates where kind = $1")
                .arg(kind.as_str())
                .fetch_optional(conn)
                .await?;
        if exists.is_some() {
            continue;
        }
        let id = Sql::new("insert into evaluation_templates (kind, total_points, version, updated_at) values ($1, $2, 1, $3) returning id")
            .arg(kind.as_str())
            .arg(super::DEFAULT_TOTAL)
            .arg(at)
            .fetch_i64(conn)
            .await?;
        for (pos, d) in default_template(kind).into_iter().enumerate() {
            insert_default(conn, id, None, pos as i64, d).await?;
        }
        let summary = format!("{} default template", kind.as_str());
        append(
            conn,
            at,
            actor,
            NewEntry::of("create", "evaluation_template", Some(id), &summary),
        )
        .await?;
    }
    Ok(())
}

async fn insert_default(
    conn: &mut Conn<'_>,
    template: i64,
    parent: Option<i64>,
    position: i64,
    d: &super::DefaultIndicator,
) -> Result<()> {
    // An explicit stack instead of recursion: async recursion would need boxing.
    let mut stack = vec![(parent, position, d)];
    while let Some((parent, position, d)) = stack.pop() {
        let id = Sql::new("insert into evaluation_indicators (template_id, parent_id, position, name, max_points, bonus) values ($1, $2, $3, $4, $5, $6) returning id")
            .arg(template)
            .arg(parent)
            .arg(position)
            .arg(d.name)
            .arg(d.max)
            .arg(d.bonus)
            .fetch_i64(conn)
            .await?;
        for (pos, c) in d.children.iter().enumerate().rev() {
            stack.push((Some(id), pos as i64, c));
        }
    }
    Ok(())
}

/// The template of `kind` with its indicators in tree order (parents before children, siblings
/// by position).
pub async fn template(
    conn: &mut Conn<'_>,
    kind: OrgKind,
) -> Result<Option<(TemplateRow, Vec<IndicatorRow>)>> {
    let Some(t) = Sql::new(
        "select id, kind, total_points, version from evaluation_templates where kind = $1",
    )
    .arg(kind.as_str())
    .fetch_optional::<TemplateRow>(conn)
    .await?
    else {
        return Ok(None);
    };
    let rows: Vec<IndicatorRow> = Sql::new("select id, parent_id, position, name, max_points, bonus from evaluation_indicators where template_id = $1 order by position, id")
        .arg(t.id)
        .fetch_all(conn)
        .await?;
    Ok(Some((t, tree_order(rows))))
}

/// Rows in depth-first order.
fn tree_order(rows: Vec<IndicatorRow>) -> Vec<IndicatorRow> {
    let mut out = Vec::with_capacity(rows.len());
    let mut stack: Vec<&IndicatorRow> = rows
        .iter()
        .filter(|r| r.parent_id.is_none())
        .rev()
        .collect();
    while let Some(r) = stack.pop() {
        out.push(r.clone());
        stack.extend(rows.iter().filter(|c| c.parent_id == Some(r.id)).rev());
    }
    out
}

/// Depth of each indicator (1 = 一级指标), by id.
pub fn depths(rows: &[IndicatorRow]) -> HashMap<i64, usize> {
    let mut out = HashMap::new();
    for r in rows {
        let d = r.parent_id.and_then(|p| out.get(&p).copied()).unwrap_or(0) + 1;
        out.insert(r.id, d);
    }
    out
}

/// An edit of a template: new names and maxima by indicator id, and optionally a new
/// indicator under a parent (or at the first level).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateEdit {
    /// (id, name, max points) of existing indicators.
    pub changes: Vec<(i64, String, i64)>,
    /// (parent, name, max points) of a new indicator.
    pub add: Option<(Option<i64>, String, i64)>,
}

/// Saves a template edit if the whole resulting tree is consistent (children sum to their
/// parent, first level to the scale); otherwise nothing is written and the rule broken is
/// named. A stale `version` is a conflict.
pub async fn save_template(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    kind: OrgKind,
    version: i64,
    edit: &TemplateEdit,
) -> Result<()> {
    let (t, rows) = template(conn, kind).await?.ok_or(Error::NotFound)?;
    if t.version != version {
        return Err(Error::Conflict(Msg::new("registry.error.stale")));
    }
    let mut nodes: Vec<IndicatorNode> = rows.iter().map(IndicatorRow::node).collect();
    for (id, name, max) in &edit.changes {
        let n = nodes
            .iter_mut()
            .find(|n| n.id == *id)
            .ok_or(Error::NotFound)?;
        n.name = name.trim().to_owned();
        n.max_points = *max;
    }
    if let Some((parent, name, max)) = &edit.add {
        if let Some(p) = parent
            && !nodes.iter().any(|n| n.id == *p)
        {
            return Err(Error::field("parent", Msg::new("error.field.choice")));
        }
        if parent.is_some_and(|p| leaves(&nodes).iter().any(|l| l.id == p))
            && scored_anywhere(conn, parent.unwrap_or_default()).await?
        {
            return Err(Error::field(
                "parent",
                Msg::new("evaluation.error.leaf_scored"),
            ));
        }
        nodes.push(IndicatorNode {
            id: -1,
            parent_id: *parent,
            name: name.trim().to_owned(),
            max_points: *max,
            bonus: parent
                .and_then(|p| nodes.iter().find(|n| n.id == p))
                .is_some_and(|n| n.bonus),
        });
    }
    check_tree(&nodes, t.total_points).map_err(|m| Error::field("indicators", m))?;
    let mut changed = Vec::new();
    for (id, name, max) in &edit.changes {
        let before = rows.iter().find(|r| r.id == *id).ok_or(Error::NotFound)?;
        if before.name != name.trim() || before.max_points != *max {
            Sql::new("update evaluation_indicators set name = $1, max_points = $2 where id = $3")
                .arg(name.trim())
                .arg(*max)
                .arg(*id)
                .execute(conn)
                .await?;
            changed.push(format!("{}→{} {max}", before.name, name.trim()));
        }
    }
    if let Some((parent, name, max)) = &edit.add {
        let position = rows.iter().filter(|r| r.parent_id == *parent).count() as i64;
        let bonus = nodes.last().is_some_and(|n| n.bonus);
        Sql::new("insert into evaluation_indicators (template_id, parent_id, position, name, max_points, bonus) values ($1, $2, $3, $4, $5, $6)")
            .arg(t.id)
            .arg(*parent)
            .arg(position)
            .arg(name.trim())
            .arg(*max)
            .arg(bonus)
            .execute(conn)
            .await?;
        changed.push(format!("+{} {max}", name.trim()));
    }
    if changed.is_empty() {
        return Ok(());
    }
    Sql::new(
        "update evaluation_templates set version = version + 1, updated_at = $1 where id = $2",
    )
    .arg(at)
    .arg(t.id)
    .execute(conn)
    .await?;
    let summary = format!("{}: {}", kind.as_str(), changed.join("; "));
    append(
        conn,
        at,
        actor,
        NewEntry::of("update", "evaluation_template", Some(t.id), &summary),
    )
    .await?;
    Ok(())
}

/// True when some application already holds scores for the indicator (it cannot become a
/// parent: its scores would be lost from the totals).
async fn scored_anywhere(conn: &mut Conn<'_>, indicator: i64) -> Result<bool> {
    Ok(
        Sql::new("select count(*) from evaluation_scores where indicator_id = $1")
            .arg(indicator)
            .fetch_i64(conn)
            .await?
            > 0,
    )
}

// ---------------------------------------------------------------------------------------------
// Rounds

/// Creates a round with its review committee (and the shipped templates if none exist yet).
pub async fn create_round(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    draft: &RoundDraft,
) -> Result<RoundId> {
    ensure_templates(conn, actor, at).await?;
    let kinds: Vec<&str> = draft.kinds.iter().map(|k| k.as_str()).collect();
    let id = Sql::new("insert into evaluation_rounds (title, year, kinds, apply_from, apply_until, publicity_days, bands, publicity_from, publicity_until, finalized_on, created_at, created_by) values ($1, $2, $3, $4, $5, $6, $7, null, null, null, $8, $9) returning id")
        .arg(draft.title.as_str())
        .arg(i64::from(draft.year))
        .arg(kinds.join(","))
        .arg(draft.apply_from)
        .arg(draft.apply_until)
        .arg(draft.publicity_days)
        .arg(draft.bands.to_text())
        .arg(at)
        .arg(actor.name.as_str())
        .fetch_i64(conn)
        .await?;
    for name in &draft.committee {
        Sql::new("insert into evaluation_committee_members (round_id, name) values ($1, $2)")
            .arg(id)
            .arg(name.as_str())
            .execute(conn)
            .await?;
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "evaluation_round", Some(id), &draft.title),
    )
    .await?;
    Ok(RoundId(id))
}

/// Every round, newest first.
pub async fn list_rounds(conn: &mut Conn<'_>) -> Result<Vec<RoundRow>> {
    Ok(
        Sql::new(&format!("{ROUND_SELECT} order by year desc, id desc"))
            .fetch_all(conn)
            .await?,
    )
}

/// One round.
pub async fn find_round(conn: &mut Conn<'_>, id: RoundId) -> Result<Option<RoundRow>> {
    Ok(Sql::new(&format!("{ROUND_SELECT} where id = $1"))
        .arg(id)
        .fetch_optional(conn)
        .await?)
}

/// The review committee of a round: (member id, name).
pub async fn committee(conn: &mut Conn<'_>, round: RoundId) -> Result<Vec<(i64, String)>> {
    Ok(Sql::new(
        "select id, name from evaluation_committee_members where round_id = $1 order by id",
    )
    .arg(round)
    .fetch_all(conn)
    .await?)
}

// ---------------------------------------------------------------------------------------------
// Eligibility

/// What the records say about an organization for a round of `year` (none if the
/// organization is not in `scope`).
pub async fn eligibility_facts(
    conn: &mut Conn<'_>,
    scope: &Scope,
    org: OrgId,
    year: i32,
) -> Result<Option<EligibilityFacts>> {
    let Some(row) = registry::find(conn, scope, org).await? else {
        return Ok(None);
    };
    let report = |y: i32| {
        Sql::new("select state, result from annual_reports where org_id = $1 and year = $2 and state in ('submitted', 'reviewed')")
            .arg(org)
            .arg(i64::from(y))
    };
    let last: Option<(String, Option<String>)> = report(year - 1).fetch_optional(conn).await?;
    let before: Option<(String, Option<String>)> = report(year - 2).fetch_optional(conn).await?;
    let listed =
        Sql::new("select count(*) from credit_listings where org_id = $1 and removed_on is null")
            .arg(org)
            .fetch_i64(conn)
            .await?
            > 0;
    let fact = |r: &Option<(String, Option<String>)>| {
        ReportFact::of(r.as_ref().map(|(s, res)| (s.as_str(), res.as_deref())))
    };
    Ok(Some(EligibilityFacts {
        kind: row.kind(),
        status: row.status(),
        registered_on: row.registered_on,
        grade: row.grade.clone().map(|g| (g, row.grade_expires_on)),
        last_year: fact(&last),
        year_before: fact(&before),
        listed,
    }))
}

// ---------------------------------------------------------------------------------------------
// Applications

/// Files an application with its self-evaluation for an organization in `scope` (the
/// organization's own account): refused with the rule's reason when the organization is not
/// eligible, outside the application window, already applied, or a self-score is out of range;
/// nothing is written then. `recuse` names experts (usernames) the organization asks to recuse.
#[expect(
    clippy::too_many_arguments,
    reason = "one write, every input it needs; no hidden state"
)]
pub async fn apply(
    conn: &mut Conn<'_>,
    scope: &Scope,
    actor: &Actor,
    at: Timestamp,
    today: NaiveDate,
    round: RoundId,
    org: OrgId,
    form: &HashMap<String, String>,
    recuse: &[String],
) -> Result<ApplicationId> {
    let r = find_round(conn, round).await?.ok_or(Error::NotFound)?;
    let facts = eligibility_facts(conn, scope, org, r.year as i32)
        .await?
        .ok_or(Error::NotFound)?;
    if !r.is_open(today) {
        return Err(Error::field(
            "round",
            Msg::new("evaluation.error.closed")
                .with("from", r.apply_from)
                .with("until", r.apply_until),
        ));
    }
    check_eligibility(r.year as i32, &r.kinds(), &facts).map_err(|m| Error::field("org", m))?;
    let existing = Sql::new(
        "select count(*) from evaluation_applications where round_id = $1 and org_id = $2",
    )
    .arg(round)
    .arg(org)
    .fetch_i64(conn)
    .await?;
    if existing > 0 {
        return Err(Error::field(
            "round",
            Msg::new("evaluation.error.already_applied"),
        ));
    }
    let (_, rows) = template(conn, facts.kind).await?.ok_or(Error::NotFound)?;
    let nodes: Vec<IndicatorNode> = rows.iter().map(IndicatorRow::node).collect();
    let scores = parse_scores(&leaves(&nodes), form).map_err(Error::Invalid)?;
    let mut recused = Vec::new();
    for name in recuse.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match find_expert(conn, name).await? {
            Some((id, _, _)) => recused.push((id, name)),
            None => {
                return Err(Error::field(
                    "recuse",
                    Msg::new("evaluation.error.unknown_expert").with("name", name),
                ));
            }
        }
    }
    let total: i64 = scores.iter().map(|(_, p)| p).sum();
    let id = Sql::new("insert into evaluation_applications (round_id, org_id, state, applied_on, applied_by, self_total, expert_total, adjustment, adjustment_reason, final_score, proposed_grade, final_grade, grade_expires_on, decided_on, version, created_at) values ($1, $2, 'applied', $3, $4, $5, null, null, null, null, null, null, null, null, 1, $6) returning id")
        .arg(round)
        .arg(org)
        .arg(today)
        .arg(actor.name.as_str())
        .arg(total)
        .arg(at)
        .fetch_i64(conn)
        .await?;
    insert_scores(conn, id, None, &scores).await?;
    for (expert, _) in &recused {
        Sql::new("insert into evaluation_recusals (application_id, expert_user_id, source, reason, created_at) values ($1, $2, 'requested', $3, $4)")
            .arg(id)
            .arg(*expert)
            .arg("organization's request")
            .arg(at)
            .execute(conn)
            .await?;
    }
    let summary = format!("{} · {} · self {total}", r.title, org.0);
    append(
        conn,
        at,
        actor,
        NewEntry::of("apply", "evaluation_application", Some(id), &summary),
    )
    .await?;
    Ok(ApplicationId(id))
}

async fn insert_scores(
    conn: &mut Conn<'_>,
    application: i64,
    expert: Option<i64>,
    scores: &[(i64, i64)],
) -> Result<()> {
    for (indicator, points) in scores {
        Sql::new("insert into evaluation_scores (application_id, indicator_id, expert_user_id, points) values ($1, $2, $3, $4)")
            .arg(application)
            .arg(*indicator)
            .arg(expert)
            .arg(*points)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// An expert account by username: (id, username, display name).
pub async fn find_expert(
    conn: &mut Conn<'_>,
    username: &str,
) -> Result<Option<(i64, String, String)>> {
    Ok(Sql::new("select u.id, u.username, u.display_name from users u where u.username = $1 and u.active and exists (select 1 from user_roles r where r.user_id = u.id and r.role = 'expert')")
        .arg(username.trim())
        .fetch_optional(conn)
        .await?)
}

/// Every active expert account: (id, username, display name).
pub async fn list_experts(conn: &mut Conn<'_>) -> Result<Vec<(i64, String, String)>> {
    Ok(Sql::new("select u.id, u.username, u.display_name from users u where u.active and exists (select 1 from user_roles r where r.user_id = u.id and r.role = 'expert') order by u.username")
        .fetch_all(conn)
        .await?)
}

/// One application the viewer may see.
pub async fn find_application(
    conn: &mut Conn<'_>,
    viewer: &Viewer,
    id: ApplicationId,
) -> Result<Option<ApplicationRow>> {
    let mut sql = Sql::new(APPLICATION_SELECT);
    sql.push(" and a.id = ").push_arg(id);
    viewer.restrict(&mut sql);
    Ok(sql.fetch_optional(conn).await?)
}

/// The applications the viewer may see, of one round or all, by organization name.
pub async fn list_applications(
    conn: &mut Conn<'_>,
    viewer: &Viewer,
    round: Option<RoundId>,
) -> Result<Vec<ApplicationRow>> {
    let mut sql = Sql::new(APPLICATION_SELECT);
    if let Some(r) = round {
        sql.push(" and a.round_id = ").push_arg(r);
    }
    viewer.restrict(&mut sql);
    sql.push(" order by r.year desc, a.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Scores of an application: the self-evaluation (`None`) or one expert's, by indicator id.
pub async fn scores(
    conn: &mut Conn<'_>,
    application: ApplicationId,
    expert: Option<UserId>,
) -> Result<HashMap<i64, i64>> {
    let mut sql =
        Sql::new("select indicator_id, points from evaluation_scores where application_id = $1")
            .arg(application);
    match expert {
        Some(u) => {
            sql.push(" and expert_user_id = ").push_arg(u);
        }
        None => {
            sql.push(" and expert_user_id is null");
        }
    }
    let rows: Vec<(i64, i64)> = sql.fetch_all(conn).await?;
    Ok(rows.into_iter().collect())
}

/// An expert assigned to an application.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AssignmentRow {
    /// Expert's user id.
    pub expert_user_id: i64,
    /// Username.
    pub username: String,
    /// Name shown.
    pub display_name: String,
    /// When their scores were submitted.
    pub submitted_at: Option<Timestamp>,
    /// Their total, once submitted.
    pub total: Option<i64>,
}

/// The experts assigned to an application, with their totals.
pub async fn assignments(
    conn: &mut Conn<'_>,
    application: ApplicationId,
) -> Result<Vec<AssignmentRow>> {
    Ok(Sql::new("select x.expert_user_id, u.username, u.display_name, x.submitted_at, cast((select sum(s.points) from evaluation_scores s where s.application_id = x.application_id and s.expert_user_id = x.expert_user_id) as bigint) as total from evaluation_assignments x join users u on u.id = x.expert_user_id where x.application_id = $1 order by u.username")
        .arg(application)
        .fetch_all(conn)
        .await?)
}

/// A recusal recorded on an application: (expert username, source, reason).
pub async fn recusals(
    conn: &mut Conn<'_>,
    application: ApplicationId,
) -> Result<Vec<(String, String, String)>> {
    Ok(Sql::new("select u.username, x.source, x.reason from evaluation_recusals x join users u on u.id = x.expert_user_id where x.application_id = $1 order by x.id")
        .arg(application)
        .fetch_all(conn)
        .await?)
}

/// Why `expert` must not evaluate the organization of `application`, if they must not: they
/// worked there within two years of `today`, declared a conflict, or the organization asked.
pub async fn recusal_reason(
    conn: &mut Conn<'_>,
    application: &ApplicationRow,
    expert: UserId,
    today: NaiveDate,
) -> Result<Option<Msg>> {
    let jobs: Vec<(NaiveDate, Option<NaiveDate>)> = Sql::new(
        "select started_on, ended_on from expert_employments where expert_user_id = $1 and org_id = $2 and started_on <= $3",
    )
    .arg(expert)
    .arg(application.org_id)
    .arg(today)
    .fetch_all(conn)
    .await?;
    if let Some((_, ended)) = jobs
        .iter()
        .find(|(_, ended)| employment_requires_recusal(*ended, today))
    {
        let msg = match ended {
            Some(d) => Msg::new("evaluation.recused.employment").with("date", d),
            None => Msg::new("evaluation.recused.employed"),
        };
        return Ok(Some(msg.with("org", &application.org_name)));
    }
    let sources: Vec<(String,)> = Sql::new(
        "select source from evaluation_recusals where application_id = $1 and expert_user_id = $2",
    )
    .arg(application.application_id())
    .arg(expert)
    .fetch_all(conn)
    .await?;
    Ok(sources.first().map(|(s,)| {
        Msg::new(if s == "declared" {
            "evaluation.recused.declared"
        } else {
            "evaluation.recused.requested"
        })
        .with("org", &application.org_name)
    }))
}

/// Assigns an expert (by username) to an application; refused, naming the reason, when they
/// must recuse, are no expert, or already assigned. Nothing is written then.
pub async fn assign(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    today: NaiveDate,
    id: ApplicationId,
    username: &str,
) -> Result<()> {
    let app = find_application(conn, &Viewer::Staff, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !matches!(
        app.state(),
        ApplicationState::Applied | ApplicationState::Scoring
    ) {
        return Err(Error::Conflict(Msg::new("evaluation.error.state")));
    }
    let Some((expert, name, _)) = find_expert(conn, username).await? else {
        return Err(Error::field(
            "expert",
            Msg::new("evaluation.error.unknown_expert").with("name", username.trim()),
        ));
    };
    if let Some(reason) = recusal_reason(conn, &app, UserId(expert), today).await? {
        return Err(Error::field("expert", reason));
    }
    let already = Sql::new("select count(*) from evaluation_assignments where application_id = $1 and expert_user_id = $2")
        .arg(id)
        .arg(expert)
        .fetch_i64(conn)
        .await?;
    if already > 0 {
        return Err(Error::field(
            "expert",
            Msg::new("evaluation.error.already_assigned").with("name", &name),
        ));
    }
    Sql::new("insert into evaluation_assignments (application_id, expert_user_id, assigned_on, assigned_by, submitted_at) values ($1, $2, $3, $4, null)")
        .arg(id)
        .arg(expert)
        .arg(today)
        .arg(actor.name.as_str())
        .execute(conn)
        .await?;
    set_state(conn, id, ApplicationState::Scoring).await?;
    let summary = format!("{} ← {name}", app.org_name);
    append(
        conn,
        at,
        actor,
        NewEntry::of("assign", "evaluation_application", Some(id.0), &summary),
    )
    .await?;
    Ok(())
}

async fn set_state(conn: &mut Conn<'_>, id: ApplicationId, state: ApplicationState) -> Result<()> {
    Sql::new("update evaluation_applications set state = $1, version = version + 1 where id = $2")
        .arg(state.as_str())
        .arg(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// What an expert may do with an application.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpertAccess {
    /// Assigned and free of conflicts.
    Allowed(Box<ApplicationRow>),
    /// Must recuse, for this reason.
    Recused(Msg),
}

/// Whether `expert` may open and score `id` (`NotFound` when it is not assigned to them).
pub async fn expert_access(
    conn: &mut Conn<'_>,
    expert: UserId,
    today: NaiveDate,
    id: ApplicationId,
) -> Result<ExpertAccess> {
    let app = find_application(conn, &Viewer::Expert(expert), id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(match recusal_reason(conn, &app, expert, today).await? {
        Some(reason) => ExpertAccess::Recused(reason),
        None => ExpertAccess::Allowed(Box::new(app)),
    })
}

/// Records an assigned expert's scores (replacing earlier ones). Refused with `Forbidden` when
/// the expert must recuse, and naming the indicator when a score is negative or above its
/// maximum; nothing is written then.
pub async fn score(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    today: NaiveDate,
    expert: UserId,
    id: ApplicationId,
    form: &HashMap<String, String>,
) -> Result<i64> {
    let app = match expert_access(conn, expert, today, id).await? {
        ExpertAccess::Allowed(app) => app,
        ExpertAccess::Recused(_) => return Err(Error::Forbidden),
    };
    if app.state() != ApplicationState::Scoring {
        return Err(Error::Conflict(Msg::new("evaluation.error.state")));
    }
    let (_, rows) = template(conn, app.kind()).await?.ok_or(Error::NotFound)?;
    let nodes: Vec<IndicatorNode> = rows.iter().map(IndicatorRow::node).collect();
    let scores = parse_scores(&leaves(&nodes), form).map_err(Error::Invalid)?;
    Sql::new("delete from evaluation_scores where application_id = $1 and expert_user_id = $2")
        .arg(id)
        .arg(expert)
        .execute(conn)
        .await?;
    insert_scores(conn, id.0, Some(expert.0), &scores).await?;
    Sql::new("update evaluation_assignments set submitted_at = $1 where application_id = $2 and expert_user_id = $3")
        .arg(at)
        .arg(id)
        .arg(expert)
        .execute(conn)
        .await?;
    let total: i64 = scores.iter().map(|(_, p)| p).sum();
    let summary = format!("{} · {total}", app.org_name);
    append(
        conn,
        at,
        actor,
        NewEntry::of("score", "evaluation_application", Some(id.0), &summary),
    )
    .await?;
    Ok(total)
}

/// An assigned expert declares a conflict of interest: the assignment and any scores of theirs
/// are withdrawn, and they can no longer be assigned to it.
pub async fn declare_conflict(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    expert: UserId,
    id: ApplicationId,
    reason: &str,
) -> Result<()> {
    let app = find_application(conn, &Viewer::Expert(expert), id)
        .await?
        .ok_or(Error::NotFound)?;
    if !matches!(
        app.state(),
        ApplicationState::Applied | ApplicationState::Scoring
    ) {
        return Err(Error::Conflict(Msg::new("evaluation.error.state")));
    }
    let mut e = FieldErrors::new();
    let reason = e.required_text("reason", reason, 500);
    e.into_result(())?;
    Sql::new("insert into evaluation_recusals (application_id, expert_user_id, source, reason, created_at) values ($1, $2, 'declared', $3, $4)")
        .arg(id)
        .arg(expert)
        .arg(reason.as_str())
        .arg(at)
        .execute(conn)
        .await?;
    for table in ["evaluation_scores", "evaluation_assignments"] {
        Sql::new(&format!(
            "delete from {table} where application_id = $1 and expert_user_id = $2"
        ))
        .arg(id)
        .arg(expert)
        .execute(conn)
        .await?;
    }
    let left = Sql::new("select count(*) from evaluation_assignments where application_id = $1")
        .arg(id)
        .fetch_i64(conn)
        .await?;
    if left == 0 {
        set_state(conn, id, ApplicationState::Applied).await?;
    }
    let summary = format!("{} · {reason}", app.org_name);
    append(
        conn,
        at,
        actor,
        NewEntry::of("recuse", "evaluation_application", Some(id.0), &summary),
    )
    .await?;
    Ok(())
}

/// The committee's proposal: the experts' mean total plus an adjustment (a reason is required
/// for any adjustment), mapped to a grade by the round's bands. Every assigned expert must have
/// submitted.
pub async fn propose(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: ApplicationId,
    adjustment: i64,
    reason: &str,
) -> Result<Option<Grade>> {
    let app = find_application(conn, &Viewer::Staff, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !matches!(
        app.state(),
        ApplicationState::Scoring | ApplicationState::Proposed
    ) {
        return Err(Error::Conflict(Msg::new("evaluation.error.state")));
    }
    let experts = assignments(conn, id).await?;
    if experts.is_empty() || experts.iter().any(|x| x.submitted_at.is_none()) {
        return Err(Error::Conflict(Msg::new("evaluation.error.scores_pending")));
    }
    let reason = reason.trim();
    let mut e = FieldErrors::new();
    if !(-100..=100).contains(&adjustment) {
        e.add(
            "adjustment",
            Msg::new("error.field.range")
                .with("min", -100)
                .with("max", 100),
        );
    }
    if adjustment != 0 && reason.is_empty() {
        e.add(
            "adjustment_reason",
            Msg::new("evaluation.error.adjustment_reason"),
        );
    }
    if reason.chars().count() > 1000 {
        e.add(
            "adjustment_reason",
            Msg::new("error.field.too_long").with("max", 1000),
        );
    }
    e.into_result(())?;
    let sum: i64 = experts.iter().filter_map(|x| x.total).sum();
    let n = experts.len() as i64;
    // Rounded half up, in whole points.
    let mean = (2 * sum + n) / (2 * n);
    let score = (mean + adjustment).max(0);
    let round = find_round(conn, RoundId(app.round_id))
        .await?
        .ok_or(Error::NotFound)?;
    let grade = round.bands().grade_for(score);
    Sql::new("update evaluation_applications set state = 'proposed', expert_total = $1, adjustment = $2, adjustment_reason = $3, final_score = $4, proposed_grade = $5, version = version + 1 where id = $6")
        .arg(mean)
        .arg(adjustment)
        .arg(Some(reason).filter(|r| !r.is_empty()))
        .arg(score)
        .arg(grade.map(|g| g.as_str()))
        .arg(id)
        .execute(conn)
        .await?;
    let summary = format!(
        "{} · {mean}{adjustment:+} = {score} → {}",
        app.org_name,
        grade.map_or("-", |g| g.as_str())
    );
    append(
        conn,
        at,
        actor,
        NewEntry::of("propose", "evaluation_application", Some(id.0), &summary),
    )
    .await?;
    Ok(grade)
}

/// Starts the round's 公示 on `start` for every application with a proposed grade; the period
/// lasts the round's `publicity_days`.
pub async fn start_publicity(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    round: RoundId,
    start: NaiveDate,
) -> Result<u64> {
    let r = find_round(conn, round).await?.ok_or(Error::NotFound)?;
    if r.publicity_from.is_some() || r.finalized_on.is_some() {
        return Err(Error::Conflict(Msg::new(
            "evaluation.error.publicity_started",
        )));
    }
    let open = Sql::new("select count(*) from evaluation_applications where round_id = $1 and state in ('applied', 'scoring')")
        .arg(round)
        .fetch_i64(conn)
        .await?;
    let proposed = Sql::new(
        "select count(*) from evaluation_applications where round_id = $1 and state = 'proposed'",
    )
    .arg(round)
    .fetch_i64(conn)
    .await?;
    if open > 0 || proposed == 0 {
        return Err(Error::Conflict(
            Msg::new("evaluation.error.not_ready").with("open", open),
        ));
    }
    let until = start + chrono::Duration::days(r.publicity_days - 1);
    Sql::new(
        "update evaluation_rounds set publicity_from = $1, publicity_until = $2 where id = $3",
    )
    .arg(start)
    .arg(until)
    .arg(round)
    .execute(conn)
    .await?;
    let n = Sql::new("update evaluation_applications set state = 'publicity', version = version + 1 where round_id = $1 and state = 'proposed'")
        .arg(round)
        .execute(conn)
        .await?;
    let summary = format!("{} · {start} – {until} · {n}", r.title);
    append(
        conn,
        at,
        actor,
        NewEntry::of("publicity", "evaluation_round", Some(round.0), &summary),
    )
    .await?;
    Ok(n)
}

/// A 复核 request.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReviewRow {
    /// Id.
    pub id: i64,
    /// Application.
    pub application_id: i64,
    /// Filed on.
    pub filed_on: NaiveDate,
    /// Grounds.
    pub grounds: String,
    /// `open`, `upheld`, `changed`.
    pub state: String,
    /// The grade the organization asks for.
    pub requested_grade: Option<String>,
    /// Decided on.
    pub decided_on: Option<NaiveDate>,
    /// The written decision.
    pub decision: Option<String>,
}

/// The reviews of an application, oldest first.
pub async fn reviews(conn: &mut Conn<'_>, application: ApplicationId) -> Result<Vec<ReviewRow>> {
    Ok(Sql::new("select id, application_id, filed_on, grounds, state, requested_grade, decided_on, decision from evaluation_reviews where application_id = $1 order by id")
        .arg(application)
        .fetch_all(conn)
        .await?)
}

/// The recorded votes of a review: (member name, vote).
pub async fn votes(conn: &mut Conn<'_>, review: i64) -> Result<Vec<(String, String)>> {
    Ok(Sql::new("select m.name, v.vote from evaluation_review_votes v join evaluation_committee_members m on m.id = v.member_id where v.review_id = $1 order by m.id")
        .arg(review)
        .fetch_all(conn)
        .await?)
}

/// The organization asks for a 复核 in writing during the 公示 period (one open request at a
/// time).
#[expect(
    clippy::too_many_arguments,
    reason = "one write, every input it needs; no hidden state"
)]
pub async fn request_review(
    conn: &mut Conn<'_>,
    scope: &Scope,
    actor: &Actor,
    at: Timestamp,
    today: NaiveDate,
    id: ApplicationId,
    grounds: &str,
    requested: Option<Grade>,
) -> Result<i64> {
    let app = find_application(conn, &Viewer::Org(scope.clone()), id)
        .await?
        .ok_or(Error::NotFound)?;
    let in_period = app.state() == ApplicationState::Publicity
        && app.publicity_from.is_some_and(|f| f <= today)
        && app.publicity_until.is_some_and(|u| today <= u);
    if !in_period {
        return Err(Error::Conflict(Msg::new(
            "evaluation.error.not_in_publicity",
        )));
    }
    let mut e = FieldErrors::new();
    let grounds = e.required_text("grounds", grounds, 4000);
    e.into_result(())?;
    let open = Sql::new(
        "select count(*) from evaluation_reviews where application_id = $1 and state = 'open'",
    )
    .arg(id)
    .fetch_i64(conn)
    .await?;
    if open > 0 {
        return Err(Error::Conflict(Msg::new("evaluation.error.review_open")));
    }
    let rid = Sql::new("insert into evaluation_reviews (application_id, filed_on, filed_by, grounds, state, requested_grade, decided_on, decided_by, decision) values ($1, $2, $3, $4, 'open', $5, null, null, null) returning id")
        .arg(id)
        .arg(today)
        .arg(actor.name.as_str())
        .arg(grounds.as_str())
        .arg(requested.map(|g| g.as_str()))
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "request_review",
            "evaluation_application",
            Some(id.0),
            &app.org_name,
        ),
    )
    .await?;
    Ok(rid)
}

/// The review committee's decision on the open 复核 of an application: every member's vote is
/// recorded (`change`, `keep` or `absent`); the grade changes to `new_grade` only when more than
/// half of all members vote for it. Returns true when the grade changed.
#[expect(
    clippy::too_many_arguments,
    reason = "one write, every input it needs; no hidden state"
)]
pub async fn decide_review(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    today: NaiveDate,
    id: ApplicationId,
    votes: &HashMap<i64, String>,
    new_grade: Option<Grade>,
    decision: &str,
) -> Result<bool> {
    let app = find_application(conn, &Viewer::Staff, id)
        .await?
        .ok_or(Error::NotFound)?;
    let open: Option<(i64,)> =
        Sql::new("select id from evaluation_reviews where application_id = $1 and state = 'open'")
            .arg(id)
            .fetch_optional(conn)
            .await?;
    let Some((review,)) = open else {
        return Err(Error::Conflict(Msg::new("evaluation.error.no_open_review")));
    };
    let members = committee(conn, RoundId(app.round_id)).await?;
    let mut e = FieldErrors::new();
    let mut change = 0;
    for (member, name) in &members {
        match votes.get(member).map(String::as_str) {
            Some("change") => change += 1,
            Some("keep" | "absent") => {}
            _ => e.add(
                "votes",
                Msg::new("evaluation.error.vote_missing").with("name", name),
            ),
        }
    }
    let changes = review_changes_grade(change, members.len());
    if changes && new_grade.is_none() {
        e.add("new_grade", Msg::new("error.field.required"));
    }
    let decision = e.required_text("decision", decision, 4000);
    e.into_result(())?;
    for (member, _) in &members {
        Sql::new(
            "insert into evaluation_review_votes (review_id, member_id, vote) values ($1, $2, $3)",
        )
        .arg(review)
        .arg(*member)
        .arg(votes.get(member).cloned().unwrap_or_default())
        .execute(conn)
        .await?;
    }
    Sql::new("update evaluation_reviews set state = $1, decided_on = $2, decided_by = $3, decision = $4 where id = $5")
        .arg(if changes { "changed" } else { "upheld" })
        .arg(today)
        .arg(actor.name.as_str())
        .arg(decision.as_str())
        .arg(review)
        .execute(conn)
        .await?;
    if changes {
        Sql::new("update evaluation_applications set proposed_grade = $1, version = version + 1 where id = $2")
            .arg(new_grade.map(|g| g.as_str()))
            .arg(id)
            .execute(conn)
            .await?;
    }
    let summary = format!(
        "{} · {change}/{} · {}",
        app.org_name,
        members.len(),
        if changes { "changed" } else { "upheld" }
    );
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "decide_review",
            "evaluation_application",
            Some(id.0),
            &summary,
        ),
    )
    .await?;
    Ok(changes)
}

/// Makes a round's results final once its 公示 has ended and no 复核 is open: each grade is
/// written to the registry record with five years' validity from `today`, through the
/// registry's own update (history, audit, search index). Returns how many organizations
/// received a grade.
pub async fn finalize(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    today: NaiveDate,
    round: RoundId,
) -> Result<usize> {
    let r = find_round(conn, round).await?.ok_or(Error::NotFound)?;
    let Some(until) = r.publicity_until.filter(|_| r.finalized_on.is_none()) else {
        return Err(Error::Conflict(Msg::new("evaluation.error.state")));
    };
    if today <= until {
        return Err(Error::Conflict(
            Msg::new("evaluation.error.publicity_running").with("date", until),
        ));
    }
    let open = Sql::new("select count(*) from evaluation_reviews v join evaluation_applications a on a.id = v.application_id where a.round_id = $1 and v.state = 'open'")
        .arg(round)
        .fetch_i64(conn)
        .await?;
    if open > 0 {
        return Err(Error::Conflict(Msg::new("evaluation.error.review_open")));
    }
    let apps: Vec<ApplicationRow> = list_applications(conn, &Viewer::Staff, Some(round))
        .await?
        .into_iter()
        .filter(|a| a.state() == ApplicationState::Publicity)
        .collect();
    let expires = grade_expiry(today);
    let mut graded = 0;
    for app in &apps {
        let grade = app.proposed_grade.as_deref().and_then(Grade::parse);
        Sql::new("update evaluation_applications set state = 'final', final_grade = $1, grade_expires_on = $2, decided_on = $3, version = version + 1 where id = $4")
            .arg(grade.map(|g| g.as_str()))
            .arg(grade.map(|_| expires))
            .arg(today)
            .arg(app.id)
            .execute(conn)
            .await?;
        if let Some(g) = grade {
            write_grade(conn, actor, at, OrgId(app.org_id), g, expires, &r.title).await?;
            graded += 1;
        }
    }
    Sql::new("update evaluation_rounds set finalized_on = $1 where id = $2")
        .arg(today)
        .arg(round)
        .execute(conn)
        .await?;
    let summary = format!("{} · {graded}", r.title);
    append(
        conn,
        at,
        actor,
        NewEntry::of("finalize", "evaluation_round", Some(round.0), &summary),
    )
    .await?;
    Ok(graded)
}

/// Writes a grade and its validity to the registry record through the registry's update path,
/// so the field history, audit log, search index and facet counts follow.
async fn write_grade(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    org: OrgId,
    grade: Grade,
    expires: NaiveDate,
    round_title: &str,
) -> Result<()> {
    let current = registry::find(conn, &Scope::All, org)
        .await?
        .ok_or(Error::NotFound)?;
    let mut form = OrgForm::from_row(&current);
    form.grade = grade.as_str().to_owned();
    form.grade_expires_on = expires.to_string();
    let draft = form.parse().map_err(Error::Invalid)?;
    registry::update(
        conn,
        &Scope::All,
        actor,
        at,
        org,
        current.version,
        &draft,
        Some(round_title),
    )
    .await?;
    Ok(())
}

/// Organizations whose grade is valid on `today`, counted from the registry records (the
/// seed's "121 organizations evaluated").
pub async fn count_graded(conn: &mut Conn<'_>, today: NaiveDate) -> Result<i64> {
    Ok(Sql::new("select count(*) from organizations where grade is not null and (grade_expires_on is null or grade_expires_on >= $1) and status in ('active', 'abnormal')")
        .arg(today)
        .fetch_i64(conn)
        .await?)
}

/// Applications shown publicly on `today`: those in a running 公示 (proposed grades) and final
/// results with a grade.
pub async fn public_results(conn: &mut Conn<'_>, today: NaiveDate) -> Result<Vec<ApplicationRow>> {
    let mut sql = Sql::new(APPLICATION_SELECT);
    sql.push(" and ((a.state = 'publicity' and r.publicity_from <= ")
        .push_arg(today)
        .push(") or (a.state = 'final' and a.final_grade is not null)) order by r.year desc, a.final_score desc, a.id");
    Ok(sql.fetch_all(conn).await?)
}

// ---------------------------------------------------------------------------------------------
// Experts' past employers

/// A past (or current) employment of an expert.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EmploymentRow {
    /// Id.
    pub id: i64,
    /// Expert username.
    pub username: String,
    /// Organization name.
    pub org_name: String,
    /// From.
    pub started_on: NaiveDate,
    /// Until (none: still there).
    pub ended_on: Option<NaiveDate>,
}

/// Every recorded employment of experts.
pub async fn list_employments(conn: &mut Conn<'_>) -> Result<Vec<EmploymentRow>> {
    Ok(Sql::new("select e.id, u.username, o.name as org_name, e.started_on, e.ended_on from expert_employments e join users u on u.id = e.expert_user_id join organizations o on o.id = e.org_id order by u.username, e.started_on")
        .fetch_all(conn)
        .await?)
}

/// Records where an expert worked (the organization by credit code or exact name).
#[expect(
    clippy::too_many_arguments,
    reason = "one write, every input it needs; no hidden state"
)]
pub async fn add_employment(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    username: &str,
    org_key: &str,
    started_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<i64> {
    let mut e = FieldErrors::new();
    let expert = find_expert(conn, username).await?;
    if expert.is_none() {
        e.add(
            "expert",
            Msg::new("evaluation.error.unknown_expert").with("name", username.trim()),
        );
    }
    let key = org_key.trim();
    let org = match crate::registry::api::find_by_key(conn, &Scope::All, key).await? {
        Some(o) => Some(o),
        None => registry::find_by_name(conn, &Scope::All, key).await?,
    };
    if org.is_none() {
        e.add("org", Msg::new("evaluation.error.unknown_org"));
    }
    if started_on.is_none() {
        e.add("started_on", Msg::new("error.field.date"));
    }
    if let (Some(s), Some(end)) = (started_on, ended_on)
        && (end < s || end > today)
    {
        e.add("ended_on", Msg::new("evaluation.error.employment_dates"));
    }
    e.into_result(())?;
    let (Some((expert, name, _)), Some(org), Some(started)) = (expert, org, started_on) else {
        return Err(Error::NotFound);
    };
    let id = Sql::new("insert into expert_employments (expert_user_id, org_id, started_on, ended_on, created_at, created_by) values ($1, $2, $3, $4, $5, $6) returning id")
        .arg(expert)
        .arg(org.id)
        .arg(started)
        .arg(ended_on)
        .arg(at)
        .arg(actor.name.as_str())
        .fetch_i64(conn)
        .await?;
    let summary = format!("{name} @ {}", org.name);
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "expert_employment", Some(id), &summary),
    )
    .await?;
    Ok(id)
}
