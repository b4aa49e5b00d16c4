//! Venture philanthropy and support funds (公益创投, 扶持专项基金, SPEC §3.9, DOMAIN §8): programmes
//! and their rounds (budget, domains, per-project cap, dates, eligibility rules, rubric, tranche
//! plan, public-notice length), proposals with budget lines, preliminary review, expert review
//! with conflict detection from the registry (`crate::people`), per-expert z-score
//! normalisation, ranking, allocation within the budget, 公示 and objections, and what follows
//! the award (agreement, tranches, reports, evaluations, audit, beneficiaries).
//!
//! **Allocation rule.** Passed proposals are taken in rank order and each is funded in full
//! while it fits in what is left of the budget. The first proposal that does not fit is offered
//! the remainder as a partial grant when the remainder is at least the round's
//! `partial_min_permille` share of its request; otherwise it is skipped. After that, lower-ranked
//! proposals are still funded in full when they fit (a smaller project can use the gap), but no
//! second partial grant is offered. Staff may then include, exclude or change an amount with a
//! recorded reason; no change may take the funded total over the budget.
//!
//! **Ranking.** Each expert's weighted total is Σ weight × score / max over the criteria
//! (0–100). A proposal's raw mean is the mean of its experts' totals; its normalised mean is the
//! mean of the experts' z-scores (each expert's totals standardised over everything that expert
//! scored in the round), which evens out lenient and harsh experts. The round says which of the
//! two ranks (`rank_by`); ties go to the other measure, then to the earlier submission.
//!
//! **Tranches.** A tranche is due when its condition holds (signing, mid-term passed, final
//! evaluation passed). A failed mid-term withholds every later tranche until a later mid-term
//! passes.

pub mod award;
pub mod demo;
pub mod expert;
pub mod pages;
pub mod store;

use crate::error::{FieldErrors, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};

/// Database id of a funding round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct RoundId(pub i64);

impl From<RoundId> for crate::db::Arg {
    fn from(id: RoundId) -> Self {
        crate::db::Arg::Int(id.0)
    }
}

/// Database id of a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ProposalId(pub i64);

impl From<ProposalId> for crate::db::Arg {
    fn from(id: ProposalId) -> Self {
        crate::db::Arg::Int(id.0)
    }
}

/// Kinds of programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgrammeKind {
    /// 公益创投.
    Venture,
    /// 扶持专项基金.
    SupportFund,
    /// 政府购买服务.
    Purchase,
    /// 中央财政支持社会组织参与社会服务项目, with matching funds.
    CentralFinance,
}

impl ProgrammeKind {
    /// Every kind.
    pub const ALL: [ProgrammeKind; 4] = [
        ProgrammeKind::Venture,
        ProgrammeKind::SupportFund,
        ProgrammeKind::Purchase,
        ProgrammeKind::CentralFinance,
    ];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProgrammeKind::Venture => "venture",
            ProgrammeKind::SupportFund => "support_fund",
            ProgrammeKind::Purchase => "purchase",
            ProgrammeKind::CentralFinance => "central_finance",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<ProgrammeKind> {
        ProgrammeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
    }
}

/// When a tranche may be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrancheCondition {
    /// On signing the agreement.
    Signing,
    /// After a passed mid-term evaluation.
    MidtermPassed,
    /// After a passed final evaluation.
    FinalPassed,
}

impl TrancheCondition {
    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            TrancheCondition::Signing => "signing",
            TrancheCondition::MidtermPassed => "midterm_passed",
            TrancheCondition::FinalPassed => "final_passed",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<TrancheCondition> {
        [
            TrancheCondition::Signing,
            TrancheCondition::MidtermPassed,
            TrancheCondition::FinalPassed,
        ]
        .into_iter()
        .find(|c| c.as_str() == s.trim())
    }
}

/// A rubric criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    /// Id (0 before it is stored).
    pub id: i64,
    /// Name.
    pub name: String,
    /// Weight; the round's weights sum to 100.
    pub weight: i64,
    /// Highest score.
    pub max_score: i64,
}

/// A tranche of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tranche {
    /// Share of the grant in percent; the plan's shares sum to 100.
    pub percent: i64,
    /// When it may be paid.
    pub condition: TrancheCondition,
}

/// A checked round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundDraft {
    /// Programme name (found or created).
    pub programme: String,
    /// Programme kind.
    pub kind: ProgrammeKind,
    /// Title.
    pub title: String,
    /// Year.
    pub year: i32,
    /// Budget (fen).
    pub budget_fen: i64,
    /// Per-project cap (fen).
    pub cap_fen: i64,
    /// Call published.
    pub call_on: NaiveDate,
    /// Submission deadline.
    pub deadline_on: NaiveDate,
    /// Expert review.
    pub review_on: NaiveDate,
    /// Results published.
    pub notice_on: NaiveDate,
    /// Length of 公示 in days.
    pub notice_days: i64,
    /// Years an organization is banned after a breach.
    pub ban_years: i64,
    /// Refuse organizations funded in the previous round of the programme.
    pub no_double_funding: bool,
    /// The partial-grant share (‰ of the request).
    pub partial_min_permille: i64,
    /// Rank by raw means (false) or normalised means (true).
    pub rank_by_z: bool,
    /// Domains.
    pub domains: Vec<String>,
    /// Rubric.
    pub criteria: Vec<Criterion>,
    /// Tranche plan.
    pub tranches: Vec<Tranche>,
}

/// The round form (lists one item a line; rubric `name|weight|max`, tranches `percent|condition`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RoundForm {
    /// Programme name.
    #[serde(default)]
    pub programme: String,
    /// Programme kind.
    #[serde(default)]
    pub kind: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Year.
    #[serde(default)]
    pub year: String,
    /// Budget (yuan).
    #[serde(default)]
    pub budget: String,
    /// Cap (yuan).
    #[serde(default)]
    pub cap: String,
    /// Call date.
    #[serde(default)]
    pub call_on: String,
    /// Deadline.
    #[serde(default)]
    pub deadline_on: String,
    /// Review date.
    #[serde(default)]
    pub review_on: String,
    /// Notice date.
    #[serde(default)]
    pub notice_on: String,
    /// 公示 days.
    #[serde(default)]
    pub notice_days: String,
    /// Ban years.
    #[serde(default)]
    pub ban_years: String,
    /// "on" to refuse double funding.
    #[serde(default)]
    pub no_double_funding: String,
    /// Partial-grant share, percent.
    #[serde(default)]
    pub partial_min_percent: String,
    /// "raw" or "z".
    #[serde(default)]
    pub rank_by: String,
    /// Domains, one a line.
    #[serde(default)]
    pub domains: String,
    /// Rubric, `name|weight|max` a line.
    #[serde(default)]
    pub rubric: String,
    /// Tranches, `percent|condition` a line.
    #[serde(default)]
    pub tranches: String,
}

/// Parses whole yuan (or yuan with up to two decimals) into fen.
pub fn parse_yuan(v: &str) -> Option<i64> {
    let v = v.trim().replace([',', '，'], "");
    let (whole, frac) = v.split_once('.').unwrap_or((&v, ""));
    if whole.is_empty() || frac.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fen = format!("{frac:0<2}").parse::<i64>().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(fen)
}

fn parse_date(errors: &mut FieldErrors, field: &'static str, v: &str) -> NaiveDate {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").unwrap_or_else(|_| {
        errors.add(field, Msg::new("error.field.date"));
        NaiveDate::MIN
    })
}

fn parse_count(errors: &mut FieldErrors, field: &'static str, v: &str, max: i64) -> i64 {
    match v.trim().parse::<i64>() {
        Ok(n) if (0..=max).contains(&n) => n,
        _ => {
            errors.add(field, Msg::new("error.field.count"));
            0
        }
    }
}

fn lines(v: &str) -> impl Iterator<Item = &str> {
    v.lines().map(str::trim).filter(|l| !l.is_empty())
}

impl RoundForm {
    /// Checks the form.
    pub fn parse(&self) -> Result<RoundDraft> {
        let mut e = FieldErrors::new();
        let programme = e.required_text("programme", &self.programme, 100);
        let kind = ProgrammeKind::parse(&self.kind).unwrap_or_else(|| {
            e.add("kind", Msg::new("error.field.choice"));
            ProgrammeKind::Venture
        });
        let title = e.required_text("title", &self.title, 100);
        let year = parse_count(&mut e, "year", &self.year, 2100) as i32;
        let money = |e: &mut FieldErrors, field: &'static str, v: &str| match parse_yuan(v) {
            Some(f) if f > 0 => f,
            _ => {
                e.add(field, Msg::new("funding.error.amount"));
                0
            }
        };
        let budget_fen = money(&mut e, "budget", &self.budget);
        let cap_fen = money(&mut e, "cap", &self.cap);
        if cap_fen > budget_fen {
            e.add("cap", Msg::new("funding.error.cap_over_budget"));
        }
        let call_on = parse_date(&mut e, "call_on", &self.call_on);
        let deadline_on = parse_date(&mut e, "deadline_on", &self.deadline_on);
        let review_on = parse_date(&mut e, "review_on", &self.review_on);
        let notice_on = parse_date(&mut e, "notice_on", &self.notice_on);
        if !(call_on <= deadline_on && deadline_on <= review_on && review_on <= notice_on) {
            e.add("deadline_on", Msg::new("funding.error.date_order"));
        }
        let notice_days = parse_count(&mut e, "notice_days", &self.notice_days, 60);
        let ban_years = parse_count(&mut e, "ban_years", &self.ban_years, 10);
        let partial_min_permille = parse_count(
            &mut e,
            "partial_min_percent",
            &self.partial_min_percent,
            100,
        ) * 10;
        let domains: Vec<String> = lines(&self.domains).map(str::to_owned).collect();
        if domains.is_empty() {
            e.add("domains", Msg::new("error.field.required"));
        }
        let mut criteria = Vec::new();
        for (i, l) in lines(&self.rubric).enumerate() {
            let parts: Vec<&str> = l.split('|').map(str::trim).collect();
            match parts.as_slice() {
                [name, w, m] if !name.is_empty() => match (w.parse::<i64>(), m.parse::<i64>()) {
                    (Ok(weight), Ok(max_score)) if weight > 0 && max_score > 0 => {
                        criteria.push(Criterion {
                            id: 0,
                            name: (*name).to_owned(),
                            weight,
                            max_score,
                        })
                    }
                    _ => e.add(
                        "rubric",
                        Msg::new("funding.error.rubric_line").with("line", i + 1),
                    ),
                },
                _ => e.add(
                    "rubric",
                    Msg::new("funding.error.rubric_line").with("line", i + 1),
                ),
            }
        }
        if criteria.iter().map(|c| c.weight).sum::<i64>() != 100 {
            e.add("rubric", Msg::new("funding.error.weights"));
        }
        let mut tranches = Vec::new();
        for (i, l) in lines(&self.tranches).enumerate() {
            let parsed = l.split_once('|').and_then(|(p, c)| {
                Some(Tranche {
                    percent: p.trim().parse::<i64>().ok().filter(|p| *p > 0)?,
                    condition: TrancheCondition::parse(c)?,
                })
            });
            match parsed {
                Some(t) => tranches.push(t),
                None => e.add(
                    "tranches",
                    Msg::new("funding.error.tranche_line").with("line", i + 1),
                ),
            }
        }
        if tranches.iter().map(|t| t.percent).sum::<i64>() != 100 {
            e.add("tranches", Msg::new("funding.error.percentages"));
        }
        e.into_result(RoundDraft {
            programme,
            kind,
            title,
            year,
            budget_fen,
            cap_fen,
            call_on,
            deadline_on,
            review_on,
            notice_on,
            notice_days,
            ban_years,
            no_double_funding: matches!(self.no_double_funding.as_str(), "on" | "true" | "1"),
            partial_min_permille,
            rank_by_z: self.rank_by.trim() == "z",
            domains,
            criteria,
            tranches,
        })
    }
}

/// A budget line of a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetLine {
    /// What the money is for.
    pub item: String,
    /// Amount (fen).
    pub amount_fen: i64,
}

/// A checked proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProposal {
    /// Title.
    pub title: String,
    /// The round's domain (id).
    pub domain_id: i64,
    /// Requested (fen).
    pub requested_fen: i64,
    /// Own matching funds (fen).
    pub matching_fen: i64,
    /// Target beneficiaries.
    pub beneficiaries: String,
    /// How many people it means to reach.
    pub target_count: i64,
    /// Plan.
    pub plan: String,
    /// Team.
    pub team: String,
    /// Budget lines.
    pub lines: Vec<BudgetLine>,
}

/// The proposal form (budget lines `item|yuan` one a line).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ProposalForm {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Domain id.
    #[serde(default)]
    pub domain: String,
    /// Requested yuan.
    #[serde(default)]
    pub requested: String,
    /// Matching yuan.
    #[serde(default)]
    pub matching: String,
    /// Target beneficiaries.
    #[serde(default)]
    pub beneficiaries: String,
    /// Target count.
    #[serde(default)]
    pub target_count: String,
    /// Plan.
    #[serde(default)]
    pub plan: String,
    /// Team.
    #[serde(default)]
    pub team: String,
    /// Budget lines.
    #[serde(default)]
    pub budget_lines: String,
}

impl ProposalForm {
    /// Checks the form against the round's domains and cap.
    pub fn parse(&self, domains: &[i64], cap_fen: i64) -> Result<NewProposal> {
        let mut e = FieldErrors::new();
        let title = e.required_text("title", &self.title, 100);
        let domain_id = match self.domain.trim().parse::<i64>() {
            Ok(d) if domains.contains(&d) => d,
            _ => {
                e.add("domain", Msg::new("error.field.choice"));
                0
            }
        };
        let requested_fen = match parse_yuan(&self.requested) {
            Some(f) if f > 0 => f,
            _ => {
                e.add("requested", Msg::new("funding.error.amount"));
                0
            }
        };
        if requested_fen > cap_fen {
            e.add(
                "requested",
                Msg::new("funding.error.over_cap").with("cap", crate::web::yuan(cap_fen)),
            );
        }
        let matching_fen = if self.matching.trim().is_empty() {
            0
        } else {
            parse_yuan(&self.matching).unwrap_or_else(|| {
                e.add("matching", Msg::new("funding.error.amount"));
                0
            })
        };
        let beneficiaries = e.required_text("beneficiaries", &self.beneficiaries, 200);
        let target_count = parse_count(&mut e, "target_count", &self.target_count, 10_000_000);
        let plan = e.required_text("plan", &self.plan, 5000);
        let team = e.required_text("team", &self.team, 1000);
        let mut budget = Vec::new();
        for (i, l) in lines(&self.budget_lines).enumerate() {
            let parsed = l.rsplit_once('|').and_then(|(item, amount)| {
                let item = item.trim();
                let fen = parse_yuan(amount).filter(|f| *f > 0)?;
                (!item.is_empty()).then(|| BudgetLine {
                    item: item.to_owned(),
                    amount_fen: fen,
                })
            });
            match parsed {
                Some(b) => budget.push(b),
                None => e.add(
                    "budget_lines",
                    Msg::new("funding.error.budget_line")
                        .with("line", i + 1)
                        .with("text", l),
                ),
            }
        }
        if budget.is_empty() {
            e.add("budget_lines", Msg::new("error.field.required"));
        } else if let Err(msg) = check_budget_lines(&budget, requested_fen) {
            e.add("budget_lines", msg);
        }
        e.into_result(NewProposal {
            title,
            domain_id,
            requested_fen,
            matching_fen,
            beneficiaries,
            target_count,
            plan,
            team,
            lines: budget,
        })
    }
}

/// The lines must add up to the request; the refusal names the last line, where the running
/// total first goes over the request, or the shortfall.
pub fn check_budget_lines(lines: &[BudgetLine], requested_fen: i64) -> Result<(), Msg> {
    let mut total = 0;
    for (i, l) in lines.iter().enumerate() {
        total += l.amount_fen;
        if total > requested_fen {
            return Err(Msg::new("funding.error.line_over")
                .with("line", i + 1)
                .with("item", &l.item)
                .with("total", crate::web::yuan(total))
                .with("requested", crate::web::yuan(requested_fen)));
        }
    }
    if total != requested_fen {
        return Err(Msg::new("funding.error.lines_short")
            .with("total", crate::web::yuan(total))
            .with("requested", crate::web::yuan(requested_fen)));
    }
    Ok(())
}

/// What the eligibility rules read about an applicant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityFacts {
    /// Registry status.
    pub status: String,
    /// The credit list it is on now, if any ("abnormal" or "serious").
    pub credit_list: Option<String>,
    /// Funded in the previous round of the same programme.
    pub funded_previous_round: bool,
    /// The last breach (a failed final evaluation or audit) and when.
    pub last_breach_on: Option<NaiveDate>,
}

/// Every reason why an applicant may not apply on `on` (empty: eligible).
pub fn eligibility_reasons(
    f: &EligibilityFacts,
    no_double_funding: bool,
    ban_years: i64,
    on: NaiveDate,
) -> Vec<Msg> {
    let mut out = Vec::new();
    if f.status != "active" {
        out.push(Msg::new("funding.ineligible.status"));
    }
    if let Some(list) = &f.credit_list {
        out.push(
            Msg::new("funding.ineligible.credit").with_key("list", format!("funding.list.{list}")),
        );
    }
    if no_double_funding && f.funded_previous_round {
        out.push(Msg::new("funding.ineligible.double"));
    }
    if let Some(breach) = f.last_breach_on {
        let until = breach
            .checked_add_months(chrono::Months::new(12 * ban_years.max(0) as u32))
            .unwrap_or(NaiveDate::MAX);
        if on < until {
            out.push(Msg::new("funding.ineligible.banned").with("until", until));
        }
    }
    out
}

/// Checks one expert's scores against the rubric: one score per criterion within 0..=max; the
/// refusal names the criterion.
pub fn check_scores(
    criteria: &[Criterion],
    scores: &HashMap<i64, String>,
) -> Result<Vec<(i64, i64)>> {
    let mut e = FieldErrors::new();
    let mut out = Vec::new();
    for c in criteria {
        let raw = scores.get(&c.id).map(|s| s.trim()).unwrap_or("");
        match raw.parse::<i64>() {
            Ok(s) if (0..=c.max_score).contains(&s) => out.push((c.id, s)),
            _ => e.add(
                "scores",
                Msg::new("funding.error.score")
                    .with("criterion", &c.name)
                    .with("max", c.max_score),
            ),
        }
    }
    e.into_result(out)
}

/// An expert's weighted total on the 0–100 scale.
pub fn weighted_total(criteria: &[Criterion], scores: &[(i64, i64)]) -> f64 {
    criteria
        .iter()
        .map(|c| {
            let s = scores
                .iter()
                .find(|(id, _)| *id == c.id)
                .map_or(0, |(_, s)| *s);
            c.weight as f64 * s as f64 / c.max_score.max(1) as f64
        })
        .sum()
}

/// A proposal's standing after review.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// The proposal.
    pub proposal: i64,
    /// Mean of the experts' weighted totals.
    pub raw_mean: f64,
    /// Mean of the experts' z-scores.
    pub z_mean: f64,
    /// Experts who scored it.
    pub experts: usize,
}

/// Raw and normalised means per proposal from `(expert, proposal, weighted total)` triples;
/// an expert with one score or identical scores gives z = 0 (nothing to normalise against).
pub fn standings(totals: &[(i64, i64, f64)]) -> Vec<Standing> {
    let mut by_expert: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (e, _, t) in totals {
        by_expert.entry(*e).or_default().push(*t);
    }
    let stats: BTreeMap<i64, (f64, f64)> = by_expert
        .into_iter()
        .map(|(e, ts)| {
            let n = ts.len() as f64;
            let mean = ts.iter().sum::<f64>() / n;
            let var = ts.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / n;
            (e, (mean, var.sqrt()))
        })
        .collect();
    let mut per: BTreeMap<i64, (f64, f64, usize)> = BTreeMap::new();
    for (e, p, t) in totals {
        let (mean, sd) = stats[e];
        let z = if sd > 1e-9 { (t - mean) / sd } else { 0.0 };
        let entry = per.entry(*p).or_default();
        entry.0 += t;
        entry.1 += z;
        entry.2 += 1;
    }
    per.into_iter()
        .map(|(p, (raw, z, n))| Standing {
            proposal: p,
            raw_mean: raw / n as f64,
            z_mean: z / n as f64,
            experts: n,
        })
        .collect()
}

/// Sorts standings best first by the chosen measure, then the other, then proposal id.
pub fn rank(standings: &mut [Standing], by_z: bool) {
    standings.sort_by(|a, b| {
        let (a1, a2, b1, b2) = if by_z {
            (a.z_mean, a.raw_mean, b.z_mean, b.raw_mean)
        } else {
            (a.raw_mean, a.z_mean, b.raw_mean, b.z_mean)
        };
        b1.total_cmp(&a1)
            .then(b2.total_cmp(&a2))
            .then(a.proposal.cmp(&b.proposal))
    });
}

/// The funded set proposed by the allocation rule (see the module doc): `(proposal, grant)`
/// for `ranked` = `(proposal, request)` best first. The grants never add up to more than
/// `budget_fen`.
pub fn allocate(
    budget_fen: i64,
    ranked: &[(i64, i64)],
    partial_min_permille: i64,
) -> Vec<(i64, i64)> {
    let mut left = budget_fen.max(0);
    let mut partial_offered = false;
    let mut out = Vec::new();
    for &(id, request) in ranked {
        if request <= 0 {
            continue;
        }
        if request <= left {
            out.push((id, request));
            left -= request;
        } else if !partial_offered {
            partial_offered = true;
            // i128: a share of a large request must not overflow.
            if left > 0 && (left as i128) * 1000 >= (request as i128) * partial_min_permille as i128
            {
                out.push((id, left));
                left = 0;
            }
        }
    }
    out
}

/// Where a tranche stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrancheState {
    /// Paid.
    Paid,
    /// Its condition holds: it may be paid.
    Due,
    /// Its condition does not hold yet.
    Waiting,
    /// A failed mid-term evaluation holds it back.
    Withheld,
}

impl TrancheState {
    /// The catalogue key.
    pub fn key(self) -> &'static str {
        match self {
            TrancheState::Paid => "funding.tranche.paid",
            TrancheState::Due => "funding.tranche.due",
            TrancheState::Waiting => "funding.tranche.waiting",
            TrancheState::Withheld => "funding.tranche.withheld",
        }
    }
}

/// The state of each tranche of `plan`, given the agreement, the latest mid-term and final
/// evaluations (`Some(passed)`), and the tranche positions already paid. A failed latest
/// mid-term withholds every unpaid tranche after the first.
pub fn tranche_states(
    plan: &[Tranche],
    signed: bool,
    midterm: Option<bool>,
    final_eval: Option<bool>,
    paid: &[usize],
) -> Vec<TrancheState> {
    plan.iter()
        .enumerate()
        .map(|(i, t)| {
            if paid.contains(&i) {
                return TrancheState::Paid;
            }
            if i > 0 && midterm == Some(false) {
                return TrancheState::Withheld;
            }
            let ok = match t.condition {
                TrancheCondition::Signing => signed,
                TrancheCondition::MidtermPassed => signed && midterm == Some(true),
                TrancheCondition::FinalPassed => signed && final_eval == Some(true),
            };
            // Tranches are paid in order.
            let earlier_paid = (0..i).all(|j| paid.contains(&j));
            if ok && earlier_paid {
                TrancheState::Due
            } else {
                TrancheState::Waiting
            }
        })
        .collect()
}

/// The amount of tranche `i` of a grant: its percentage, the last taking the rounding rest.
pub fn tranche_amount(plan: &[Tranche], i: usize, granted_fen: i64) -> i64 {
    let parts: Vec<i64> = plan.iter().map(|t| granted_fen * t.percent / 100).collect();
    if i + 1 == plan.len() {
        granted_fen - parts[..i].iter().sum::<i64>()
    } else {
        parts.get(i).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_follows_the_stated_rule() {
        // Fits, fits, does not fit (remainder 30 < 50% of 100): skipped; 20 fits in full.
        assert_eq!(
            allocate(150, &[(1, 60), (2, 60), (3, 100), (4, 20), (5, 10)], 500),
            vec![(1, 60), (2, 60), (4, 20), (5, 10)]
        );
        // Remainder 30 ≥ 50% of 40: partial grant, nothing left.
        assert_eq!(
            allocate(150, &[(1, 60), (2, 60), (3, 40), (4, 20)], 500),
            vec![(1, 60), (2, 60), (3, 30)]
        );
        // Only one partial offer per round.
        assert_eq!(
            allocate(100, &[(1, 90), (2, 50), (3, 15)], 900),
            vec![(1, 90)]
        );
    }

    #[test]
    fn z_scores_even_out_a_harsh_expert() {
        let s = standings(&[(1, 10, 90.0), (1, 11, 80.0), (2, 10, 50.0), (2, 11, 40.0)]);
        assert_eq!(s[0].raw_mean, 70.0);
        assert!((s[0].z_mean - 1.0).abs() < 1e-9);
        assert!((s[1].z_mean + 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_failed_midterm_withholds_the_next_tranche() {
        let plan = [
            Tranche {
                percent: 50,
                condition: TrancheCondition::Signing,
            },
            Tranche {
                percent: 30,
                condition: TrancheCondition::MidtermPassed,
            },
            Tranche {
                percent: 20,
                condition: TrancheCondition::FinalPassed,
            },
        ];
        use TrancheState::*;
        assert_eq!(
            tranche_states(&plan, true, None, None, &[]),
            [Due, Waiting, Waiting]
        );
        assert_eq!(
            tranche_states(&plan, true, Some(true), None, &[0]),
            [Paid, Due, Waiting]
        );
        assert_eq!(
            tranche_states(&plan, true, Some(false), None, &[0]),
            [Paid, Withheld, Withheld]
        );
        assert_eq!(tranche_amount(&plan, 2, 100_001), 100_001 - 50_000 - 30_000);
    }

    #[test]
    fn budget_lines_must_add_up() {
        let l = |item: &str, f| BudgetLine {
            item: item.into(),
            amount_fen: f,
        };
        assert!(check_budget_lines(&[l("a", 60), l("b", 40)], 100).is_ok());
        let err = check_budget_lines(&[l("a", 60), l("b", 50)], 100).unwrap_err();
        assert!(err.render(crate::i18n::Lang::En).contains('b'));
        assert!(check_budget_lines(&[l("a", 60)], 100).is_err());
        assert_eq!(parse_yuan("1,000.5"), Some(100_050));
        assert_eq!(parse_yuan("x"), None);
    }
}
