//! Funding rounds, proposals, review, allocation, 公示 and awards. Reads of proposals take the
//! caller's [`Viewer`] (staff: all; an organization account: its own organizations; an expert:
//! only proposals assigned to them and not recused); every write appends its audit entry inside
//! the caller's transaction.

use super::{
    Criterion, EligibilityFacts, NewProposal, ProposalId, RoundDraft, RoundId, Standing, Tranche,
    TrancheCondition,
};
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::{Scope, UserId};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;
use std::collections::HashMap;

/// Who is reading proposals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// Funding staff: every proposal.
    Staff,
    /// An organization account: its organizations' proposals.
    Org(Scope),
    /// An expert: proposals assigned to them on which they have declared no conflict.
    Expert(UserId),
}

impl Viewer {
    fn restrict(&self, sql: &mut Sql) {
        match self {
            Viewer::Staff => {}
            Viewer::Org(scope) => {
                if matches!(scope, Scope::Public) {
                    sql.push(" and 1 = 0");
                } else {
                    scope.restrict_orgs(sql, "o");
                }
            }
            Viewer::Expert(user) => {
                sql.push(" and exists (select 1 from funding_assignments va where va.proposal_id = p.id and va.declaration = 'none' and va.expert_user_id = ")
                    .push_arg(*user)
                    .push(")");
            }
        }
    }
}

/// A round as stored, with its programme.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoundRow {
    /// Id.
    pub id: i64,
    /// Programme id.
    pub programme_id: i64,
    /// Programme name.
    pub programme: String,
    /// Programme kind machine name.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Year.
    pub year: i64,
    /// Budget (fen).
    pub budget_fen: i64,
    /// Cap (fen).
    pub cap_fen: i64,
    /// Call.
    pub call_on: NaiveDate,
    /// Deadline.
    pub deadline_on: NaiveDate,
    /// Review.
    pub review_on: NaiveDate,
    /// Notice.
    pub notice_on: NaiveDate,
    /// 公示 days.
    pub notice_days: i64,
    /// Ban years after a breach.
    pub ban_years: i64,
    /// No double funding.
    pub no_double_funding: bool,
    /// Partial-grant share (‰).
    pub partial_min_permille: i64,
    /// "raw" or "z".
    pub rank_by: String,
    /// When the allocation last ran.
    pub allocated_at: Option<Timestamp>,
    /// First day of 公示.
    pub notice_started_on: Option<NaiveDate>,
}

impl RoundRow {
    /// The last day of 公示, once started.
    pub fn notice_ends_on(&self) -> Option<NaiveDate> {
        self.notice_started_on
            .map(|d| d + chrono::Days::new(self.notice_days.max(1) as u64 - 1))
    }

    /// True when `on` falls within 公示.
    pub fn in_notice(&self, on: NaiveDate) -> bool {
        matches!((self.notice_started_on, self.notice_ends_on()), (Some(s), Some(e)) if s <= on && on <= e)
    }
}

const ROUND: &str = "select r.id, r.programme_id, g.name as programme, g.kind, r.title, r.year, r.budget_fen, r.cap_fen, r.call_on, r.deadline_on, r.review_on, r.notice_on, r.notice_days, r.ban_years, r.no_double_funding, r.partial_min_permille, r.rank_by, r.allocated_at, r.notice_started_on from funding_rounds r join funding_programmes g on g.id = r.programme_id";

/// Creates a round (and its programme when new) with domains, rubric and tranche plan.
pub async fn create_round(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    d: &RoundDraft,
) -> Result<RoundId> {
    let existing: Option<(i64,)> =
        Sql::new("select id from funding_programmes where name = $1 and kind = $2")
            .arg(&d.programme)
            .arg(d.kind.as_str())
            .fetch_optional(conn)
            .await?;
    let programme = match existing {
        Some((id,)) => id,
        None => {
            Sql::new("insert into funding_programmes (name, kind, created_at) values ($1, $2, $3) returning id")
                .arg(&d.programme)
                .arg(d.kind.as_str())
                .arg(at)
                .fetch_i64(conn)
                .await?
        }
    };
    let id = Sql::new("insert into funding_rounds (programme_id, title, year, budget_fen, cap_fen, call_on, deadline_on, review_on, notice_on, notice_days, ban_years, no_double_funding, partial_min_permille, rank_by, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) returning id")
        .arg(programme)
        .arg(&d.title)
        .arg(i64::from(d.year))
        .arg(d.budget_fen)
        .arg(d.cap_fen)
        .arg(d.call_on)
        .arg(d.deadline_on)
        .arg(d.review_on)
        .arg(d.notice_on)
        .arg(d.notice_days)
        .arg(d.ban_years)
        .arg(d.no_double_funding)
        .arg(d.partial_min_permille)
        .arg(if d.rank_by_z { "z" } else { "raw" })
        .arg(at)
        .fetch_i64(conn)
        .await?;
    for name in &d.domains {
        Sql::new("insert into funding_domains (round_id, name) values ($1, $2)")
            .arg(id)
            .arg(name)
            .execute(conn)
            .await?;
    }
    for (i, c) in d.criteria.iter().enumerate() {
        Sql::new("insert into funding_criteria (round_id, position, name, weight, max_score) values ($1, $2, $3, $4, $5)")
            .arg(id)
            .arg(i as i64)
            .arg(&c.name)
            .arg(c.weight)
            .arg(c.max_score)
            .execute(conn)
            .await?;
    }
    for (i, t) in d.tranches.iter().enumerate() {
        Sql::new("insert into funding_tranche_plan (round_id, position, percent, condition) values ($1, $2, $3, $4)")
            .arg(id)
            .arg(i as i64)
            .arg(t.percent)
            .arg(t.condition.as_str())
            .execute(conn)
            .await?;
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "funding_round", Some(id), &d.title),
    )
    .await?;
    Ok(RoundId(id))
}

/// Every round, latest first (rounds are public information).
pub async fn list_rounds(conn: &mut Conn<'_>) -> Result<Vec<RoundRow>> {
    Ok(
        Sql::new(&format!("{ROUND} order by r.year desc, r.id desc"))
            .fetch_all(conn)
            .await?,
    )
}

/// Round `id`.
pub async fn get_round(conn: &mut Conn<'_>, id: RoundId) -> Result<RoundRow> {
    Sql::new(&format!("{ROUND} where r.id = $1"))
        .arg(id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// The round's domains: (id, name).
pub async fn domains(conn: &mut Conn<'_>, round: RoundId) -> Result<Vec<(i64, String)>> {
    Ok(
        Sql::new("select id, name from funding_domains where round_id = $1 order by id")
            .arg(round)
            .fetch_all(conn)
            .await?,
    )
}

/// The round's rubric.
pub async fn criteria(conn: &mut Conn<'_>, round: RoundId) -> Result<Vec<Criterion>> {
    let rows: Vec<(i64, String, i64, i64)> = Sql::new("select id, name, weight, max_score from funding_criteria where round_id = $1 order by position")
        .arg(round)
        .fetch_all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, weight, max_score)| Criterion {
            id,
            name,
            weight,
            max_score,
        })
        .collect())
}

/// The round's tranche plan.
pub async fn tranche_plan(conn: &mut Conn<'_>, round: RoundId) -> Result<Vec<Tranche>> {
    let rows: Vec<(i64, String)> = Sql::new(
        "select percent, condition from funding_tranche_plan where round_id = $1 order by position",
    )
    .arg(round)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(percent, c)| Tranche {
            percent,
            condition: TrancheCondition::parse(&c).unwrap_or(TrancheCondition::FinalPassed),
        })
        .collect())
}

/// What the eligibility rules read about organization `org` for `round` on `on`.
pub async fn eligibility_facts(
    conn: &mut Conn<'_>,
    org: i64,
    round: &RoundRow,
    on: NaiveDate,
) -> Result<EligibilityFacts> {
    let (status,): (String,) = Sql::new("select status from organizations where id = $1")
        .arg(org)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::field("org", Msg::new("error.field.choice")))?;
    let credit: Option<(String,)> = Sql::new("select list from credit_listings where org_id = $1 and removed_on is null and listed_on <= $2 order by list desc limit 1")
        .arg(org)
        .arg(on)
        .fetch_optional(conn)
        .await?;
    // The previous round: the latest earlier-year round of the same programme.
    let funded_previous_round = Sql::new("select count(*) from funding_proposals p where p.org_id = $1 and p.granted_fen is not null and p.round_id = (select r2.id from funding_rounds r2 where r2.programme_id = $2 and r2.year < $3 order by r2.year desc, r2.id desc limit 1)")
        .arg(org)
        .arg(round.programme_id)
        .arg(round.year)
        .fetch_i64(conn)
        .await?
        > 0;
    let breach: Option<(NaiveDate,)> = Sql::new("select m.happened_on from funding_milestones m join funding_proposals p on p.id = m.proposal_id where p.org_id = $1 and m.kind in ('final_evaluation', 'audit') and m.passed = $2 order by m.happened_on desc limit 1")
        .arg(org)
        .arg(false)
        .fetch_optional(conn)
        .await?;
    Ok(EligibilityFacts {
        status,
        credit_list: credit.map(|(l,)| l),
        funded_previous_round,
        last_breach_on: breach.map(|(d,)| d),
    })
}

/// Submits a proposal of organization `org` to `round` on `on`: refused (nothing written) when
/// the round is not open, the domain or cap is wrong, or the organization is ineligible — each
/// reason named.
pub async fn submit_proposal(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    round: &RoundRow,
    org: i64,
    new: &NewProposal,
    on: NaiveDate,
) -> Result<ProposalId> {
    if on < round.call_on || on > round.deadline_on {
        return Err(Error::Conflict(Msg::new("funding.error.closed")));
    }
    if new.requested_fen > round.cap_fen {
        return Err(Error::field(
            "requested",
            Msg::new("funding.error.over_cap").with("cap", crate::web::yuan(round.cap_fen)),
        ));
    }
    let facts = eligibility_facts(conn, org, round, on).await?;
    let reasons = super::eligibility_reasons(&facts, round.no_double_funding, round.ban_years, on);
    if !reasons.is_empty() {
        let mut e = FieldErrors::new();
        for r in reasons {
            e.add("org", r);
        }
        return Err(Error::Invalid(e));
    }
    let id = Sql::new("insert into funding_proposals (round_id, org_id, title, domain_id, requested_fen, matching_fen, beneficiaries, target_count, plan, team, state, submitted_at, created_by) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'submitted', $11, $12) returning id")
        .arg(round.id)
        .arg(org)
        .arg(&new.title)
        .arg(new.domain_id)
        .arg(new.requested_fen)
        .arg(new.matching_fen)
        .arg(&new.beneficiaries)
        .arg(new.target_count)
        .arg(&new.plan)
        .arg(&new.team)
        .arg(at)
        .arg(&actor.name)
        .fetch_i64(conn)
        .await?;
    for (i, l) in new.lines.iter().enumerate() {
        Sql::new("insert into funding_budget_lines (proposal_id, position, item, amount_fen) values ($1, $2, $3, $4)")
            .arg(id)
            .arg(i as i64)
            .arg(&l.item)
            .arg(l.amount_fen)
            .execute(conn)
            .await?;
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("submit", "funding_proposal", Some(id), &new.title),
    )
    .await?;
    Ok(ProposalId(id))
}

/// A proposal as stored, with its organization, domain and round.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProposalRow {
    /// Id.
    pub id: i64,
    /// Round.
    pub round_id: i64,
    /// Round title.
    pub round_title: String,
    /// Applicant.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Title.
    pub title: String,
    /// Domain name.
    pub domain: String,
    /// Requested (fen).
    pub requested_fen: i64,
    /// Matching funds (fen).
    pub matching_fen: i64,
    /// Target beneficiaries.
    pub beneficiaries: String,
    /// Target count.
    pub target_count: i64,
    /// Plan.
    pub plan: String,
    /// Team.
    pub team: String,
    /// submitted / passed / rejected.
    pub state: String,
    /// Preliminary-review reason.
    pub screen_reason: Option<String>,
    /// Grant (fen), once allocated.
    pub granted_fen: Option<i64>,
    /// Agreement signed on.
    pub agreement_on: Option<NaiveDate>,
    /// Actual beneficiaries.
    pub actual_beneficiaries: Option<i64>,
    /// Paid so far (fen).
    pub paid_fen: i64,
}

const PROPOSAL: &str = "select p.id, p.round_id, r.title as round_title, p.org_id, o.name as org_name, p.title, d.name as domain, p.requested_fen, p.matching_fen, p.beneficiaries, p.target_count, p.plan, p.team, p.state, p.screen_reason, p.granted_fen, p.agreement_on, p.actual_beneficiaries, cast(coalesce((select sum(x.amount_fen) from funding_payments x where x.proposal_id = p.id), 0) as bigint) as paid_fen from funding_proposals p join funding_rounds r on r.id = p.round_id join organizations o on o.id = p.org_id join funding_domains d on d.id = p.domain_id where 1 = 1";

/// The proposals of `round` (all rounds: `None`) `viewer` may see, by id.
pub async fn list_proposals(
    conn: &mut Conn<'_>,
    viewer: &Viewer,
    round: Option<RoundId>,
) -> Result<Vec<ProposalRow>> {
    let mut sql = Sql::new(PROPOSAL);
    if let Some(r) = round {
        sql.push(" and p.round_id = ").push_arg(r);
    }
    viewer.restrict(&mut sql);
    sql.push(" order by p.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Proposal `id` if `viewer` may see it (otherwise it does not exist for them).
pub async fn get_proposal(
    conn: &mut Conn<'_>,
    viewer: &Viewer,
    id: ProposalId,
) -> Result<ProposalRow> {
    let mut sql = Sql::new(PROPOSAL);
    sql.push(" and p.id = ").push_arg(id);
    viewer.restrict(&mut sql);
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// A funded project whose results are public (公示 started), for the accountability page.
pub async fn public_project(conn: &mut Conn<'_>, id: ProposalId) -> Result<ProposalRow> {
    let mut sql = Sql::new(PROPOSAL);
    sql.push(" and p.granted_fen is not null and r.notice_started_on is not null and p.id = ")
        .push_arg(id);
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// The public funded projects of organization `org`: (id, title, round title, grant).
pub async fn public_projects_of(
    conn: &mut Conn<'_>,
    org: i64,
) -> Result<Vec<(i64, String, String, i64)>> {
    Ok(Sql::new("select p.id, p.title, r.title, p.granted_fen from funding_proposals p join funding_rounds r on r.id = p.round_id where p.org_id = $1 and p.granted_fen is not null and r.notice_started_on is not null order by r.year desc, p.id")
        .arg(org)
        .fetch_all(conn)
        .await?)
}

/// The proposal's budget lines: (item, fen).
pub async fn budget_lines(conn: &mut Conn<'_>, id: ProposalId) -> Result<Vec<(String, i64)>> {
    Ok(Sql::new("select item, amount_fen from funding_budget_lines where proposal_id = $1 order by position")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// Records the preliminary (formal) review.
pub async fn screen(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: ProposalId,
    passed: bool,
    reason: &str,
) -> Result<()> {
    let n = Sql::new("update funding_proposals set state = $1, screen_reason = $2 where id = $3 and state in ('submitted', 'passed', 'rejected')")
        .arg(if passed { "passed" } else { "rejected" })
        .arg(reason)
        .arg(id)
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    let summary = format!("{} {reason}", if passed { "passed" } else { "rejected" });
    append(
        conn,
        at,
        actor,
        NewEntry::of("screen", "funding_proposal", Some(id.0), &summary),
    )
    .await?;
    Ok(())
}

/// An assignment with the expert's name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AssignmentRow {
    /// Id.
    pub id: i64,
    /// Proposal.
    pub proposal_id: i64,
    /// Expert account.
    pub expert_user_id: i64,
    /// Their display name.
    pub expert_name: String,
    /// none / conflict / not yet.
    pub declaration: Option<String>,
    /// What they declared.
    pub declaration_note: Option<String>,
    /// Criteria scored.
    pub scored: i64,
}

const ASSIGNMENT: &str = "select a.id, a.proposal_id, a.expert_user_id, u.display_name as expert_name, a.declaration, a.declaration_note, (select count(*) from funding_scores s where s.assignment_id = a.id) as scored from funding_assignments a join users u on u.id = a.expert_user_id";

/// The experts assigned to proposal `id`.
pub async fn assignments(conn: &mut Conn<'_>, id: ProposalId) -> Result<Vec<AssignmentRow>> {
    Ok(Sql::new(&format!(
        "{ASSIGNMENT} where a.proposal_id = $1 order by a.id"
    ))
    .arg(id)
    .fetch_all(conn)
    .await?)
}

/// Expert `user`'s assignment to proposal `id`, if any.
pub async fn assignment_of(
    conn: &mut Conn<'_>,
    user: UserId,
    id: ProposalId,
) -> Result<Option<AssignmentRow>> {
    Ok(Sql::new(&format!(
        "{ASSIGNMENT} where a.proposal_id = $1 and a.expert_user_id = $2"
    ))
    .arg(id)
    .arg(user)
    .fetch_optional(conn)
    .await?)
}

/// Expert `user`'s assignments with each proposal's title and round: (assignment, title, round).
pub async fn expert_queue(
    conn: &mut Conn<'_>,
    user: UserId,
) -> Result<Vec<(AssignmentRow, String, String)>> {
    let rows: Vec<AssignmentRow> = Sql::new(&format!(
        "{ASSIGNMENT} where a.expert_user_id = $1 order by a.id"
    ))
    .arg(user)
    .fetch_all(conn)
    .await?;
    let mut out = Vec::new();
    for a in rows {
        // Only the title and round before the declaration: enough to recognise a conflict.
        let (title, round): (String, String) = Sql::new("select p.title, r.title from funding_proposals p join funding_rounds r on r.id = p.round_id where p.id = $1")
            .arg(a.proposal_id)
            .fetch_one(conn)
            .await?;
        out.push((a, title, round));
    }
    Ok(out)
}

/// Assigns expert `expert` to proposal `id` on `on`, refused with the reasons when the registry
/// shows a conflict of interest (field `expert`).
pub async fn assign_expert(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: ProposalId,
    expert: UserId,
    on: NaiveDate,
) -> Result<i64> {
    let p = get_proposal(conn, &Viewer::Staff, id).await?;
    if p.state != "passed" {
        return Err(Error::Conflict(Msg::new("funding.error.not_passed")));
    }
    let conflicts = crate::people::store::conflicts(conn, expert, p.org_id, on).await?;
    if !conflicts.is_empty() {
        let mut e = FieldErrors::new();
        for c in &conflicts {
            e.add("expert", c.reason());
        }
        return Err(Error::Invalid(e));
    }
    let res = Sql::new("insert into funding_assignments (proposal_id, expert_user_id, assigned_at, assigned_by) values ($1, $2, $3, $4) returning id")
        .arg(id)
        .arg(expert)
        .arg(at)
        .arg(&actor.name)
        .fetch_i64(conn)
        .await;
    let aid = match res {
        Err(e) if crate::db::is_unique_violation(&e) => {
            return Err(Error::field(
                "expert",
                Msg::new("funding.error.already_assigned"),
            ));
        }
        r => r?,
    };
    let summary = format!("proposal {} expert {}", id.0, expert.0);
    append(
        conn,
        at,
        actor,
        NewEntry::of("assign", "funding_assignment", Some(aid), &summary),
    )
    .await?;
    Ok(aid)
}

/// Records the expert's declaration: no conflict, or a conflict (which recuses them).
pub async fn declare(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    assignment: i64,
    conflict: bool,
    note: &str,
) -> Result<()> {
    Sql::new("update funding_assignments set declaration = $1, declaration_note = $2, declared_at = $3 where id = $4 and declaration is null")
        .arg(if conflict { "conflict" } else { "none" })
        .arg(note)
        .arg(at)
        .arg(assignment)
        .execute(conn)
        .await?;
    let summary = if conflict { "conflict" } else { "none" };
    append(
        conn,
        at,
        actor,
        NewEntry::of("declare", "funding_assignment", Some(assignment), summary),
    )
    .await?;
    Ok(())
}

/// Saves an expert's scores (already checked against the rubric), replacing earlier ones.
pub async fn save_scores(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    assignment: i64,
    scores: &[(i64, i64)],
) -> Result<()> {
    Sql::new("delete from funding_scores where assignment_id = $1")
        .arg(assignment)
        .execute(conn)
        .await?;
    for (criterion, score) in scores {
        Sql::new(
            "insert into funding_scores (assignment_id, criterion_id, score) values ($1, $2, $3)",
        )
        .arg(assignment)
        .arg(*criterion)
        .arg(*score)
        .execute(conn)
        .await?;
    }
    let summary = scores
        .iter()
        .map(|(c, s)| format!("{c}={s}"))
        .collect::<Vec<_>>()
        .join(" ");
    append(
        conn,
        at,
        actor,
        NewEntry::of("score", "funding_assignment", Some(assignment), &summary),
    )
    .await?;
    Ok(())
}

/// Expert `assignment`'s scores by criterion.
pub async fn scores_of(conn: &mut Conn<'_>, assignment: i64) -> Result<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> =
        Sql::new("select criterion_id, score from funding_scores where assignment_id = $1")
            .arg(assignment)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Raw and normalised standings of the round's passed proposals, ranked by the round's
/// measure; only complete score sheets of experts who declared no conflict count.
pub async fn standings(conn: &mut Conn<'_>, round: &RoundRow) -> Result<Vec<Standing>> {
    let criteria = criteria(conn, RoundId(round.id)).await?;
    let rows: Vec<(i64, i64, i64, i64, i64)> = Sql::new("select a.id, a.expert_user_id, a.proposal_id, s.criterion_id, s.score from funding_scores s join funding_assignments a on a.id = s.assignment_id join funding_proposals p on p.id = a.proposal_id where p.round_id = $1 and p.state = 'passed' and a.declaration = 'none' order by a.id")
        .arg(round.id)
        .fetch_all(conn)
        .await?;
    // Per assignment: (expert, proposal, (criterion, score) pairs).
    type Sheet = (i64, i64, Vec<(i64, i64)>);
    let mut sheets: std::collections::BTreeMap<i64, Sheet> = Default::default();
    for (a, e, p, c, s) in rows {
        sheets.entry(a).or_insert((e, p, Vec::new())).2.push((c, s));
    }
    let totals: Vec<(i64, i64, f64)> = sheets
        .into_values()
        .filter(|(_, _, s)| s.len() == criteria.len())
        .map(|(e, p, s)| (e, p, super::weighted_total(&criteria, &s)))
        .collect();
    let mut st = super::standings(&totals);
    super::rank(&mut st, round.rank_by == "z");
    Ok(st)
}

/// Runs the allocation rule over the ranked proposals and records the proposed grants
/// (replacing earlier ones); returns the funded count.
pub async fn run_allocation(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    round: &RoundRow,
) -> Result<usize> {
    if round.notice_started_on.is_some() {
        return Err(Error::Conflict(Msg::new("funding.error.published")));
    }
    let ranked = standings(conn, round).await?;
    let requests: HashMap<i64, i64> =
        Sql::new("select id, requested_fen from funding_proposals where round_id = $1")
            .arg(round.id)
            .fetch_all::<(i64, i64)>(conn)
            .await?
            .into_iter()
            .collect();
    let order: Vec<(i64, i64)> = ranked
        .iter()
        .map(|s| (s.proposal, requests.get(&s.proposal).copied().unwrap_or(0)))
        .collect();
    let funded = super::allocate(round.budget_fen, &order, round.partial_min_permille);
    Sql::new("update funding_proposals set granted_fen = null where round_id = $1")
        .arg(round.id)
        .execute(conn)
        .await?;
    for (p, g) in &funded {
        Sql::new("update funding_proposals set granted_fen = $1 where id = $2")
            .arg(*g)
            .arg(*p)
            .execute(conn)
            .await?;
    }
    Sql::new("update funding_rounds set allocated_at = $1 where id = $2")
        .arg(at)
        .arg(round.id)
        .execute(conn)
        .await?;
    let total: i64 = funded.iter().map(|(_, g)| g).sum();
    let summary = format!("{} funded, {} fen", funded.len(), total);
    append(
        conn,
        at,
        actor,
        NewEntry::of("allocate", "funding_round", Some(round.id), &summary),
    )
    .await?;
    Ok(funded.len())
}

/// Total granted in round `id` (fen).
pub async fn funded_total(conn: &mut Conn<'_>, round: i64) -> Result<i64> {
    Ok(Sql::new("select cast(coalesce(sum(granted_fen), 0) as bigint) from funding_proposals where round_id = $1")
        .arg(round)
        .fetch_i64(conn)
        .await?)
}

/// A staff adjustment of the proposed funded set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjustment {
    /// Fund it in full.
    Include,
    /// Do not fund it.
    Exclude,
    /// Fund it with this amount (fen).
    Amount(i64),
}

/// Adjusts proposal `id`'s grant with a reason; refused when the funded total would pass the
/// budget, the amount passes the request, or 公示 has started.
pub async fn adjust(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: ProposalId,
    change: Adjustment,
    reason: &str,
) -> Result<()> {
    let p = get_proposal(conn, &Viewer::Staff, id).await?;
    let round = get_round(conn, RoundId(p.round_id)).await?;
    if round.notice_started_on.is_some() {
        return Err(Error::Conflict(Msg::new("funding.error.published")));
    }
    if p.state != "passed" && change != Adjustment::Exclude {
        return Err(Error::Conflict(Msg::new("funding.error.not_passed")));
    }
    let (action, grant) = match change {
        Adjustment::Include => ("include", Some(p.requested_fen)),
        Adjustment::Exclude => ("exclude", None),
        Adjustment::Amount(f) => ("amount", Some(f)),
    };
    if let Some(g) = grant {
        if g <= 0 || g > p.requested_fen {
            return Err(Error::field(
                "amount",
                Msg::new("funding.error.over_request"),
            ));
        }
        let others = funded_total(conn, p.round_id).await? - p.granted_fen.unwrap_or(0);
        if others + g > round.budget_fen {
            return Err(Error::field(
                "amount",
                Msg::new("funding.error.over_budget")
                    .with("left", crate::web::yuan(round.budget_fen - others)),
            ));
        }
    }
    Sql::new("update funding_proposals set granted_fen = $1 where id = $2")
        .arg(grant)
        .arg(id)
        .execute(conn)
        .await?;
    Sql::new("insert into funding_adjustments (proposal_id, action, amount_fen, reason, adjusted_by, adjusted_at) values ($1, $2, $3, $4, $5, $6)")
        .arg(id)
        .arg(action)
        .arg(grant)
        .arg(reason)
        .arg(&actor.name)
        .arg(at)
        .execute(conn)
        .await?;
    let summary = format!("{action} {} {reason}", grant.unwrap_or(0));
    append(
        conn,
        at,
        actor,
        NewEntry::of("adjust", "funding_proposal", Some(id.0), &summary),
    )
    .await?;
    Ok(())
}

/// The adjustments of proposal `id`: (action, amount, reason, by).
pub async fn adjustments(
    conn: &mut Conn<'_>,
    id: ProposalId,
) -> Result<Vec<(String, Option<i64>, String, String)>> {
    Ok(Sql::new("select action, amount_fen, reason, adjusted_by from funding_adjustments where proposal_id = $1 order by id")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// Starts 公示 of the round's results on `on` (after an allocation).
pub async fn start_notice(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    round: &RoundRow,
    on: NaiveDate,
) -> Result<()> {
    if round.allocated_at.is_none() {
        return Err(Error::Conflict(Msg::new("funding.error.not_allocated")));
    }
    if round.notice_started_on.is_some() {
        return Err(Error::Conflict(Msg::new("funding.error.published")));
    }
    Sql::new("update funding_rounds set notice_started_on = $1 where id = $2")
        .arg(on)
        .arg(round.id)
        .execute(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("publish", "funding_round", Some(round.id), &round.title),
    )
    .await?;
    Ok(())
}

/// Files an objection to the round's results during 公示.
pub async fn file_objection(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    round: &RoundRow,
    proposal: Option<ProposalId>,
    grounds: &str,
    on: NaiveDate,
) -> Result<i64> {
    if !round.in_notice(on) {
        return Err(Error::Conflict(Msg::new("funding.error.not_in_notice")));
    }
    if let Some(p) = proposal {
        let (n,): (i64,) =
            Sql::new("select count(*) from funding_proposals where id = $1 and round_id = $2")
                .arg(p)
                .arg(round.id)
                .fetch_one(conn)
                .await?;
        if n == 0 {
            return Err(Error::field("proposal", Msg::new("error.field.choice")));
        }
    }
    let id = Sql::new("insert into funding_objections (round_id, proposal_id, filed_by, grounds, filed_on, state) values ($1, $2, $3, $4, $5, 'open') returning id")
        .arg(round.id)
        .arg(proposal.map(|p| p.0))
        .arg(&actor.name)
        .arg(grounds)
        .arg(on)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("object", "funding_round", Some(round.id), grounds),
    )
    .await?;
    Ok(id)
}

/// An objection.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ObjectionRow {
    /// Id.
    pub id: i64,
    /// Proposal it is about.
    pub proposal_id: Option<i64>,
    /// Filed by.
    pub filed_by: String,
    /// Grounds.
    pub grounds: String,
    /// Filed on.
    pub filed_on: NaiveDate,
    /// open / upheld / dismissed.
    pub state: String,
    /// Decision.
    pub decision: Option<String>,
}

/// The round's objections.
pub async fn objections(conn: &mut Conn<'_>, round: i64) -> Result<Vec<ObjectionRow>> {
    Ok(Sql::new("select id, proposal_id, filed_by, grounds, filed_on, state, decision from funding_objections where round_id = $1 order by id")
        .arg(round)
        .fetch_all(conn)
        .await?)
}

/// Decides an open objection.
pub async fn decide_objection(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: i64,
    upheld: bool,
    decision: &str,
) -> Result<()> {
    let n = Sql::new("update funding_objections set state = $1, decision = $2, decided_by = $3 where id = $4 and state = 'open'")
        .arg(if upheld { "upheld" } else { "dismissed" })
        .arg(decision)
        .arg(&actor.name)
        .arg(id)
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("decide", "funding_objection", Some(id), decision),
    )
    .await?;
    Ok(())
}
