//! What follows the award: the agreement, tranches paid on their conditions, progress and final
//! reports, mid-term and final evaluations, audits, actual beneficiaries and counted outputs,
//! and the published rounds' figures. Every write appends its audit entry inside the caller's
//! transaction.

use super::store::{ProposalRow, Viewer, get_proposal, get_round, tranche_plan};
use super::{ProposalId, RoundId, Tranche, TrancheState};
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;

/// Kinds of post-award record.
pub const MILESTONE_KINDS: [&str; 5] = [
    "progress_report",
    "final_report",
    "midterm",
    "final_evaluation",
    "audit",
];

/// A post-award record.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MilestoneRow {
    /// Kind.
    pub kind: String,
    /// Date.
    pub happened_on: NaiveDate,
    /// Passed (evaluations and audits).
    pub passed: Option<bool>,
    /// Note.
    pub note: String,
}

/// Signs the agreement of a funded project (after 公示 has started).
pub async fn sign_agreement(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: ProposalId,
    on: NaiveDate,
) -> Result<()> {
    let p = get_proposal(conn, &Viewer::Staff, id).await?;
    let round = get_round(conn, RoundId(p.round_id)).await?;
    if p.granted_fen.is_none() || round.notice_started_on.is_none() {
        return Err(Error::Conflict(Msg::new("funding.error.not_awarded")));
    }
    Sql::new("update funding_proposals set agreement_on = $1 where id = $2")
        .arg(on)
        .arg(id)
        .execute(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("sign", "funding_proposal", Some(id.0), "agreement"),
    )
    .await?;
    Ok(())
}

/// Records a report, evaluation or audit of a funded project; a final report may give the
/// actual beneficiaries.
#[expect(clippy::too_many_arguments, reason = "one record, each field named")]
pub async fn record_milestone(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: ProposalId,
    kind: &str,
    on: NaiveDate,
    passed: Option<bool>,
    note: &str,
    beneficiaries: Option<i64>,
) -> Result<()> {
    let p = get_proposal(conn, &Viewer::Staff, id).await?;
    if p.agreement_on.is_none() {
        return Err(Error::Conflict(Msg::new("funding.error.no_agreement")));
    }
    if !MILESTONE_KINDS.contains(&kind) {
        return Err(Error::field("kind", Msg::new("error.field.choice")));
    }
    let graded = matches!(kind, "midterm" | "final_evaluation" | "audit");
    if graded && passed.is_none() {
        return Err(Error::field("passed", Msg::new("error.field.required")));
    }
    // Reports carry no verdict: their `passed` stays null.
    let mut sql = Sql::new(
        "insert into funding_milestones (proposal_id, kind, happened_on, passed, note, recorded_by, created_at) values (",
    );
    sql.push_arg(id)
        .push(", ")
        .push_arg(kind)
        .push(", ")
        .push_arg(on)
        .push(", ");
    match passed.filter(|_| graded) {
        Some(v) => sql.push_arg(v),
        None => sql.push("null"),
    };
    sql.push(", ")
        .push_arg(note)
        .push(", ")
        .push_arg(&actor.name)
        .push(", ")
        .push_arg(at)
        .push(")");
    sql.execute(conn).await?;
    if let Some(b) = beneficiaries {
        Sql::new("update funding_proposals set actual_beneficiaries = $1 where id = $2")
            .arg(b)
            .arg(id)
            .execute(conn)
            .await?;
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of(kind, "funding_proposal", Some(id.0), note),
    )
    .await?;
    Ok(())
}

/// The project's post-award records, in order.
pub async fn milestones(conn: &mut Conn<'_>, id: ProposalId) -> Result<Vec<MilestoneRow>> {
    Ok(Sql::new("select kind, happened_on, passed, note from funding_milestones where proposal_id = $1 order by happened_on, id")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// Each tranche of the project: (percent, condition, amount fen, state).
pub async fn tranches(
    conn: &mut Conn<'_>,
    p: &ProposalRow,
) -> Result<Vec<(Tranche, i64, TrancheState)>> {
    let plan = tranche_plan(conn, RoundId(p.round_id)).await?;
    let ms = milestones(conn, ProposalId(p.id)).await?;
    let latest = |kind: &str| {
        ms.iter()
            .rev()
            .find(|m| m.kind == kind)
            .and_then(|m| m.passed)
    };
    let paid: Vec<usize> = Sql::new("select position from funding_payments where proposal_id = $1")
        .arg(p.id)
        .fetch_all::<(i64,)>(conn)
        .await?
        .into_iter()
        .map(|(i,)| i as usize)
        .collect();
    let states = super::tranche_states(
        &plan,
        p.agreement_on.is_some(),
        latest("midterm"),
        latest("final_evaluation"),
        &paid,
    );
    let granted = p.granted_fen.unwrap_or(0);
    Ok(plan
        .iter()
        .zip(states)
        .enumerate()
        .map(|(i, (t, s))| (*t, super::tranche_amount(&plan, i, granted), s))
        .collect())
}

/// Pays tranche `position` of project `id` on `on`; refused unless it is due (a failed mid-term
/// withholds it).
pub async fn pay_tranche(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: ProposalId,
    position: usize,
    on: NaiveDate,
) -> Result<i64> {
    let p = get_proposal(conn, &Viewer::Staff, id).await?;
    let all = tranches(conn, &p).await?;
    let (_, amount, state) = all
        .get(position)
        .copied()
        .ok_or_else(|| Error::field("tranche", Msg::new("error.field.choice")))?;
    match state {
        TrancheState::Due => {}
        TrancheState::Withheld => return Err(Error::Conflict(Msg::new("funding.error.withheld"))),
        _ => return Err(Error::Conflict(Msg::new("funding.error.not_due"))),
    }
    Sql::new("insert into funding_payments (proposal_id, position, amount_fen, paid_on, paid_by) values ($1, $2, $3, $4, $5)")
        .arg(id)
        .arg(position as i64)
        .arg(amount)
        .arg(on)
        .arg(&actor.name)
        .execute(conn)
        .await?;
    let summary = format!("tranche {} {amount}", position + 1);
    append(
        conn,
        at,
        actor,
        NewEntry::of("pay", "funding_proposal", Some(id.0), &summary),
    )
    .await?;
    Ok(amount)
}

/// Records a counted output of a project (target figures the project reports).
pub async fn add_output(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: ProposalId,
    indicator: &str,
    quantity: i64,
) -> Result<()> {
    Sql::new("insert into funding_outputs (proposal_id, indicator, quantity) values ($1, $2, $3)")
        .arg(id)
        .arg(indicator)
        .arg(quantity)
        .execute(conn)
        .await?;
    let summary = format!("{indicator} {quantity}");
    append(
        conn,
        at,
        actor,
        NewEntry::of("output", "funding_proposal", Some(id.0), &summary),
    )
    .await?;
    Ok(())
}

/// The project's outputs: (indicator, quantity).
pub async fn outputs(conn: &mut Conn<'_>, id: ProposalId) -> Result<Vec<(String, i64)>> {
    Ok(Sql::new(
        "select indicator, quantity from funding_outputs where proposal_id = $1 order by id",
    )
    .arg(id)
    .fetch_all(conn)
    .await?)
}

/// A round's figures for the summary endpoint, counted from the records.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RoundFigures {
    /// Round id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Programme kind.
    pub kind: String,
    /// Budget (yuan).
    pub budget_yuan: i64,
    /// Domains.
    pub domains: i64,
    /// Proposals submitted.
    pub proposals: i64,
    /// Passed the preliminary review.
    pub passed: i64,
    /// Funded.
    pub funded: i64,
    /// Granted (yuan).
    pub granted_yuan: i64,
    /// Matching funds of funded projects (yuan).
    pub matching_yuan: i64,
    /// Paid so far (yuan).
    pub paid_yuan: i64,
    /// Actual beneficiaries reported.
    pub beneficiaries: i64,
    /// Outputs of funded projects summed by indicator.
    pub outputs: std::collections::BTreeMap<String, i64>,
}

/// Appends "round `r` of programme `g` is of `year` (and of `kind` when given) and its results
/// are public (公示 started)": the rounds the figures count.
fn public_rounds_of(sql: &mut Sql, year: i32, kind: Option<&str>) {
    sql.push(" r.notice_started_on is not null and r.year = ")
        .push_arg(i64::from(year));
    if let Some(kind) = kind {
        sql.push(" and g.kind = ").push_arg(kind);
    }
}

/// The rounds of `year` (of programme `kind` when given) whose results are public, as
/// `columns` of the round `r` and its programme `g`.
pub fn rounds_sql(columns: &str, year: i32, kind: Option<&str>) -> Sql {
    let mut sql = Sql::new(columns);
    sql.push(" from funding_rounds r join funding_programmes g on g.id = r.programme_id where");
    public_rounds_of(&mut sql, year, kind);
    sql
}

/// The domains (领域) of the rounds of [`rounds_sql`], as `columns` of the domain `d`, the
/// round `r` and its programme `g`.
pub fn domains_sql(columns: &str, year: i32, kind: Option<&str>) -> Sql {
    let mut sql = Sql::new(columns);
    sql.push(" from funding_domains d join funding_rounds r on r.id = d.round_id join funding_programmes g on g.id = r.programme_id where");
    public_rounds_of(&mut sql, year, kind);
    sql
}

/// The proposals to the rounds of [`rounds_sql`] (only those granted funds when `funded`) of
/// organizations within `scope`, as `columns` of the proposal `p`, its domain `d`, its
/// organization `o`, the round `r` and its programme `g`.
pub fn proposals_sql(
    columns: &str,
    scope: &crate::auth::Scope,
    year: i32,
    kind: Option<&str>,
    funded: bool,
) -> Sql {
    let mut sql = Sql::new(columns);
    sql.push(" from funding_proposals p join funding_domains d on d.id = p.domain_id join organizations o on o.id = p.org_id join funding_rounds r on r.id = p.round_id join funding_programmes g on g.id = r.programme_id where");
    public_rounds_of(&mut sql, year, kind);
    if funded {
        sql.push(" and p.granted_fen is not null");
    }
    scope.restrict_orgs(&mut sql, "o");
    sql
}

/// Figures of every round of `year` whose results are public (公示 started).
pub async fn figures(conn: &mut Conn<'_>, year: i32) -> Result<Vec<RoundFigures>> {
    let mut sql = rounds_sql("select r.id, r.title, g.kind, r.budget_fen", year, None);
    sql.push(" order by r.id");
    let rounds: Vec<(i64, String, String, i64)> = sql.fetch_all(conn).await?;
    let mut out = Vec::new();
    for (id, title, kind, budget) in rounds {
        let count = |sql: &str| Sql::new(sql).arg(id);
        let domains = count("select count(*) from funding_domains where round_id = $1")
            .fetch_i64(conn)
            .await?;
        let proposals = count("select count(*) from funding_proposals where round_id = $1")
            .fetch_i64(conn)
            .await?;
        let passed = count(
            "select count(*) from funding_proposals where round_id = $1 and state = 'passed'",
        )
        .fetch_i64(conn)
        .await?;
        let funded = count("select count(*) from funding_proposals where round_id = $1 and granted_fen is not null").fetch_i64(conn).await?;
        let granted = count("select cast(coalesce(sum(granted_fen), 0) as bigint) from funding_proposals where round_id = $1").fetch_i64(conn).await?;
        let matching = count("select cast(coalesce(sum(matching_fen), 0) as bigint) from funding_proposals where round_id = $1 and granted_fen is not null").fetch_i64(conn).await?;
        let paid = count("select cast(coalesce(sum(x.amount_fen), 0) as bigint) from funding_payments x join funding_proposals p on p.id = x.proposal_id where p.round_id = $1").fetch_i64(conn).await?;
        let beneficiaries = count("select cast(coalesce(sum(actual_beneficiaries), 0) as bigint) from funding_proposals where round_id = $1 and granted_fen is not null").fetch_i64(conn).await?;
        let outs: Vec<(String, i64)> = count("select o.indicator, cast(sum(o.quantity) as bigint) from funding_outputs o join funding_proposals p on p.id = o.proposal_id where p.round_id = $1 and p.granted_fen is not null group by o.indicator order by o.indicator")
            .fetch_all(conn)
            .await?;
        out.push(RoundFigures {
            id,
            title,
            kind,
            budget_yuan: budget / 100,
            domains,
            proposals,
            passed,
            funded,
            granted_yuan: granted / 100,
            matching_yuan: matching / 100,
            paid_yuan: paid / 100,
            beneficiaries,
            outputs: outs.into_iter().collect(),
        });
    }
    Ok(out)
}
