//! The funding desk (`/admin/funding`: rounds, proposals, review, allocation, 公示, awards), an
//! organization's proposals (`/funding`), the public notice and accountability pages, and the
//! public figures (`/api/v1/funding/summary`).

use super::award;
use super::store::{self, Adjustment, ProposalRow, RoundRow, Viewer};
use super::{ProposalForm, ProposalId, RoundForm, RoundId};
use crate::api::ApiError;
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission, UserId, require};
use crate::error::{Error, Result};
use crate::i18n::{Lang, Msg};
use crate::web::{Layout, PageCtx, money, page, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::Utc;
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/funding", get(desk).post(create_round))
        .route("/admin/funding/{id}", get(round_page))
        .route("/admin/funding/{id}/allocate", post(allocate))
        .route("/admin/funding/{id}/notice", post(start_notice))
        .route("/admin/funding/objections/{id}", post(decide_objection))
        .route("/admin/funding/proposals/{id}", get(proposal_page))
        .route("/admin/funding/proposals/{id}/screen", post(screen))
        .route("/admin/funding/proposals/{id}/assign", post(assign))
        .route("/admin/funding/proposals/{id}/adjust", post(adjust))
        .route("/admin/funding/proposals/{id}/award", post(award))
        .route("/funding", get(org_home))
        .route("/funding/rounds/{id}/apply", get(apply_page).post(apply))
        .route("/funding/proposals/{id}", get(own_proposal))
        .route("/funding/proposals/{id}/report", post(report))
        .route("/funding/notices/{id}", get(notice_page).post(object))
        .route("/funding/projects/{id}", get(project_page))
        .route("/api/v1/funding/summary", get(api_summary))
        .merge(super::expert::routes())
}

async fn staff(app: &AppState, user: &CurrentUser) -> Result<crate::audit::Actor> {
    require(app, user, Permission::ManageFunding).await?;
    Ok(user.actor())
}

fn kind_label(lang: Lang, kind: &str) -> &'static str {
    lang.t(&format!("funding.kind.{kind}"))
}

fn state_label(lang: Lang, state: &str) -> &'static str {
    lang.t(&format!("funding.state.{state}"))
}

/// A round, formatted.
pub struct RoundLine {
    id: i64,
    title: String,
    kind: &'static str,
    year: i64,
    budget: String,
    cap: String,
    dates: String,
    notice: String,
}

impl RoundLine {
    fn of(r: &RoundRow, lang: Lang) -> RoundLine {
        RoundLine {
            id: r.id,
            title: r.title.clone(),
            kind: kind_label(lang, &r.kind),
            year: r.year,
            budget: money(r.budget_fen, lang),
            cap: money(r.cap_fen, lang),
            dates: format!(
                "{} / {} / {} / {}",
                r.call_on, r.deadline_on, r.review_on, r.notice_on
            ),
            notice: match (r.notice_started_on, r.notice_ends_on()) {
                (Some(s), Some(e)) => format!("{s} – {e}"),
                _ => String::new(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "funding/desk.html")]
struct DeskPage {
    layout: Layout,
    rounds: Vec<RoundLine>,
    kinds: Vec<(&'static str, &'static str)>,
}

async fn desk(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    staff(&app, &user).await?;
    let mut conn = app.db.acquire().await?;
    let rounds = store::list_rounds(&mut conn.conn()).await?;
    let lang = ctx.lang;
    page(
        &DeskPage {
            layout: ctx.layout("funding.title"),
            rounds: rounds.iter().map(|r| RoundLine::of(r, lang)).collect(),
            kinds: super::ProgrammeKind::ALL
                .iter()
                .map(|k| (k.as_str(), kind_label(lang, k.as_str())))
                .collect(),
        },
        &ctx.layout("funding.title"),
    )
}

async fn create_round(
    State(app): State<AppState>,
    user: CurrentUser,
    Form(form): Form<RoundForm>,
) -> Result<Response> {
    let actor = staff(&app, &user).await?;
    let draft = form.parse()?;
    let mut tx = app.db.begin().await?;
    let id = store::create_round(&mut tx.conn(), &actor, Utc::now(), &draft).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/funding/{}", id.0),
        "flash.funding_saved",
    ))
}

/// A proposal line on the round page.
pub struct ProposalLine {
    id: i64,
    rank: String,
    title: String,
    org: String,
    domain: String,
    requested: String,
    state: &'static str,
    raw: String,
    z: String,
    experts: usize,
    granted: String,
}

#[derive(Template)]
#[template(path = "funding/round.html")]
struct RoundPage {
    layout: Layout,
    round: RoundLine,
    rank_by: &'static str,
    partial: String,
    domains: Vec<String>,
    criteria: Vec<String>,
    tranches: Vec<String>,
    lines: Vec<ProposalLine>,
    funded: usize,
    funded_total: String,
    published: bool,
    objections: Vec<store::ObjectionRow>,
}

async fn round_page(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    staff(&app, &user).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let c = &mut conn.conn();
    let round = store::get_round(c, RoundId(id)).await?;
    let standings = store::standings(c, &round).await?;
    let proposals = store::list_proposals(c, &Viewer::Staff, Some(RoundId(id))).await?;
    let mut lines: Vec<ProposalLine> = Vec::new();
    let line = |p: &ProposalRow, rank: String, s: Option<&super::Standing>| ProposalLine {
        id: p.id,
        rank,
        title: p.title.clone(),
        org: p.org_name.clone(),
        domain: p.domain.clone(),
        requested: money(p.requested_fen, lang),
        state: state_label(lang, &p.state),
        raw: s.map_or(String::new(), |s| format!("{:.2}", s.raw_mean)),
        z: s.map_or(String::new(), |s| format!("{:+.3}", s.z_mean)),
        experts: s.map_or(0, |s| s.experts),
        granted: p.granted_fen.map_or(String::new(), |g| money(g, lang)),
    };
    for (i, s) in standings.iter().enumerate() {
        if let Some(p) = proposals.iter().find(|p| p.id == s.proposal) {
            lines.push(line(p, (i + 1).to_string(), Some(s)));
        }
    }
    for p in &proposals {
        if !standings.iter().any(|s| s.proposal == p.id) {
            lines.push(line(p, String::new(), None));
        }
    }
    let funded = proposals.iter().filter(|p| p.granted_fen.is_some()).count();
    let total: i64 = proposals.iter().filter_map(|p| p.granted_fen).sum();
    let domains = store::domains(c, RoundId(id)).await?;
    let criteria = store::criteria(c, RoundId(id)).await?;
    let tranches = store::tranche_plan(c, RoundId(id)).await?;
    let objections = store::objections(c, id).await?;
    let layout = ctx.layout_titled(round.title.clone());
    page(
        &RoundPage {
            layout: layout.clone(),
            rank_by: lang.t(&format!("funding.rank_by.{}", round.rank_by)),
            partial: format!("{}%", round.partial_min_permille as f64 / 10.0),
            round: RoundLine::of(&round, lang),
            domains: domains.into_iter().map(|(_, n)| n).collect(),
            criteria: criteria
                .iter()
                .map(|c| format!("{} ({} / {})", c.name, c.weight, c.max_score))
                .collect(),
            tranches: tranches
                .iter()
                .map(|t| {
                    format!(
                        "{}% {}",
                        t.percent,
                        lang.t(&format!("funding.condition.{}", t.condition.as_str()))
                    )
                })
                .collect(),
            lines,
            funded,
            funded_total: money(total, lang),
            published: round.notice_started_on.is_some(),
            objections,
        },
        &layout,
    )
}

async fn allocate(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let actor = staff(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let round = store::get_round(&mut tx.conn(), RoundId(id)).await?;
    store::run_allocation(&mut tx.conn(), &actor, Utc::now(), &round).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/funding/{id}"),
        "flash.funding_saved",
    ))
}

async fn start_notice(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let actor = staff(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let round = store::get_round(&mut tx.conn(), RoundId(id)).await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    store::start_notice(&mut tx.conn(), &actor, Utc::now(), &round, today).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/funding/{id}"),
        "flash.funding_saved",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DecisionForm {
    outcome: String,
    reason: String,
    amount: String,
    action: String,
    expert: String,
    kind: String,
    passed: String,
    note: String,
    on: String,
    beneficiaries: String,
    tranche: String,
}

fn reason_of(form: &DecisionForm) -> Result<String> {
    let mut e = crate::error::FieldErrors::new();
    let reason = e.required_text("reason", &form.reason, 1000);
    e.into_result(reason)
}

async fn decide_objection(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response> {
    let actor = staff(&app, &user).await?;
    let reason = reason_of(&form)?;
    let upheld = match form.outcome.as_str() {
        "upheld" => true,
        "dismissed" => false,
        _ => return Err(Error::field("outcome", Msg::new("error.field.choice"))),
    };
    let mut tx = app.db.begin().await?;
    let round: Option<(i64,)> =
        crate::db::Sql::new("select round_id from funding_objections where id = $1")
            .arg(id)
            .fetch_optional(&mut tx.conn())
            .await?;
    let (round,) = round.ok_or(Error::NotFound)?;
    store::decide_objection(&mut tx.conn(), &actor, Utc::now(), id, upheld, &reason).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/funding/{round}"),
        "flash.funding_saved",
    ))
}

/// A proposal's details, formatted for every page that shows one.
pub struct ProposalView {
    pub(super) id: i64,
    pub(super) round_id: i64,
    pub(super) round: String,
    pub(super) title: String,
    pub(super) org_id: i64,
    pub(super) org: String,
    pub(super) domain: String,
    pub(super) requested: String,
    pub(super) matching: String,
    pub(super) beneficiaries: String,
    pub(super) target_count: i64,
    pub(super) plan: String,
    pub(super) team: String,
    pub(super) state: &'static str,
    pub(super) screen_reason: String,
    pub(super) granted: String,
    pub(super) agreement_on: String,
    pub(super) actual_beneficiaries: String,
    pub(super) paid: String,
    pub(super) lines: Vec<(String, String)>,
    pub(super) tranches: Vec<(String, String, &'static str, usize)>,
    pub(super) milestones: Vec<(&'static str, String, &'static str, String)>,
    pub(super) outputs: Vec<(&'static str, i64)>,
}

pub(super) async fn view_of(
    c: &mut crate::db::Conn<'_>,
    p: &ProposalRow,
    lang: Lang,
) -> Result<ProposalView> {
    let lines = store::budget_lines(c, ProposalId(p.id)).await?;
    let tranches = award::tranches(c, p).await?;
    let ms = award::milestones(c, ProposalId(p.id)).await?;
    let outs = award::outputs(c, ProposalId(p.id)).await?;
    Ok(ProposalView {
        id: p.id,
        round_id: p.round_id,
        round: p.round_title.clone(),
        title: p.title.clone(),
        org_id: p.org_id,
        org: p.org_name.clone(),
        domain: p.domain.clone(),
        requested: money(p.requested_fen, lang),
        matching: money(p.matching_fen, lang),
        beneficiaries: p.beneficiaries.clone(),
        target_count: p.target_count,
        plan: p.plan.clone(),
        team: p.team.clone(),
        state: state_label(lang, &p.state),
        screen_reason: p.screen_reason.clone().unwrap_or_default(),
        granted: p.granted_fen.map_or(String::new(), |g| money(g, lang)),
        agreement_on: p.agreement_on.map_or(String::new(), |d| d.to_string()),
        actual_beneficiaries: p
            .actual_beneficiaries
            .map_or(String::new(), |b| b.to_string()),
        paid: money(p.paid_fen, lang),
        lines: lines
            .into_iter()
            .map(|(i, f)| (i, money(f, lang)))
            .collect(),
        tranches: tranches
            .iter()
            .enumerate()
            .map(|(i, (t, amount, s))| {
                (
                    format!(
                        "{}% {}",
                        t.percent,
                        lang.t(&format!("funding.condition.{}", t.condition.as_str()))
                    ),
                    money(*amount, lang),
                    lang.t(s.key()),
                    i,
                )
            })
            .collect(),
        milestones: ms
            .iter()
            .map(|m| {
                (
                    lang.t(&format!("funding.milestone.{}", m.kind)),
                    m.happened_on.to_string(),
                    match m.passed {
                        Some(true) => lang.t("funding.passed"),
                        Some(false) => lang.t("funding.failed"),
                        None => "",
                    },
                    m.note.clone(),
                )
            })
            .collect(),
        outputs: outs
            .into_iter()
            .map(|(k, n)| (lang.t(&format!("funding.output.{k}")), n))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "funding/proposal.html")]
struct ProposalPage {
    layout: Layout,
    p: ProposalView,
    assignments: Vec<store::AssignmentRow>,
    experts: Vec<(i64, String, String)>,
    adjustments: Vec<(String, String, String, String)>,
    milestone_kinds: Vec<(&'static str, &'static str)>,
}

async fn proposal_page(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    staff(&app, &user).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let c = &mut conn.conn();
    let p = store::get_proposal(c, &Viewer::Staff, ProposalId(id)).await?;
    let view = view_of(c, &p, lang).await?;
    let assignments = store::assignments(c, ProposalId(id)).await?;
    let experts = crate::evaluation::store::list_experts(c).await?;
    let adjustments = store::adjustments(c, ProposalId(id))
        .await?
        .into_iter()
        .map(|(a, f, r, by)| {
            (
                lang.t(&format!("funding.adjust.{a}")).to_owned(),
                f.map_or(String::new(), |f| money(f, lang)),
                r,
                by,
            )
        })
        .collect();
    let layout = ctx.layout_titled(p.title.clone());
    page(
        &ProposalPage {
            layout: layout.clone(),
            p: view,
            assignments,
            experts,
            adjustments,
            milestone_kinds: award::MILESTONE_KINDS
                .iter()
                .map(|k| (*k, lang.t(&format!("funding.milestone.{k}"))))
                .collect(),
        },
        &layout,
    )
}

async fn screen(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response> {
    let actor = staff(&app, &user).await?;
    let passed = match form.outcome.as_str() {
        "passed" => true,
        "rejected" => false,
        _ => return Err(Error::field("outcome", Msg::new("error.field.choice"))),
    };
    let reason = reason_of(&form)?;
    let mut tx = app.db.begin().await?;
    store::screen(
        &mut tx.conn(),
        &actor,
        Utc::now(),
        ProposalId(id),
        passed,
        &reason,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/funding/proposals/{id}"),
        "flash.funding_saved",
    ))
}

async fn assign(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response> {
    let actor = staff(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let expert = crate::evaluation::store::find_expert(&mut tx.conn(), &form.expert)
        .await?
        .ok_or_else(|| Error::field("expert", Msg::new("error.field.choice")))?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    store::assign_expert(
        &mut tx.conn(),
        &actor,
        Utc::now(),
        ProposalId(id),
        UserId(expert.0),
        today,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/funding/proposals/{id}"),
        "flash.funding_saved",
    ))
}

async fn adjust(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response> {
    let actor = staff(&app, &user).await?;
    let change = match form.action.as_str() {
        "include" => Adjustment::Include,
        "exclude" => Adjustment::Exclude,
        "amount" => Adjustment::Amount(
            super::parse_yuan(&form.amount)
                .ok_or_else(|| Error::field("amount", Msg::new("funding.error.amount")))?,
        ),
        _ => return Err(Error::field("action", Msg::new("error.field.choice"))),
    };
    let reason = reason_of(&form)?;
    let mut tx = app.db.begin().await?;
    store::adjust(
        &mut tx.conn(),
        &actor,
        Utc::now(),
        ProposalId(id),
        change,
        &reason,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/funding/proposals/{id}"),
        "flash.funding_saved",
    ))
}

async fn award(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response> {
    let actor = staff(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let on = if form.on.trim().is_empty() {
        today
    } else {
        chrono::NaiveDate::parse_from_str(form.on.trim(), "%Y-%m-%d")
            .map_err(|_| Error::field("on", Msg::new("error.field.date")))?
    };
    let c = &mut tx.conn();
    let pid = ProposalId(id);
    match form.action.as_str() {
        "sign" => award::sign_agreement(c, &actor, Utc::now(), pid, on).await?,
        "milestone" => {
            let passed = match form.passed.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            };
            let beneficiaries =
                match form.beneficiaries.trim() {
                    "" => None,
                    b => Some(b.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                        Error::field("beneficiaries", Msg::new("error.field.count"))
                    })?),
                };
            award::record_milestone(
                c,
                &actor,
                Utc::now(),
                pid,
                &form.kind,
                on,
                passed,
                form.note.trim(),
                beneficiaries,
            )
            .await?;
        }
        "pay" => {
            let position = form
                .tranche
                .trim()
                .parse::<usize>()
                .map_err(|_| Error::field("tranche", Msg::new("error.field.choice")))?;
            award::pay_tranche(c, &actor, Utc::now(), pid, position, on).await?;
        }
        _ => return Err(Error::field("action", Msg::new("error.field.choice"))),
    }
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/funding/proposals/{id}"),
        "flash.funding_saved",
    ))
}

#[derive(Template)]
#[template(path = "funding/org_home.html")]
struct OrgHome {
    layout: Layout,
    open: Vec<RoundLine>,
    mine: Vec<(i64, String, String, &'static str, String)>,
}

fn org_viewer(user: &CurrentUser) -> Viewer {
    Viewer::Org(user.scope(Permission::ApplyFunding))
}

async fn org_home(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    require(&app, &user, Permission::ApplyFunding).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let c = &mut conn.conn();
    let today = crate::clock::today(c).await?;
    let open = store::list_rounds(c)
        .await?
        .iter()
        .filter(|r| r.call_on <= today && today <= r.deadline_on)
        .map(|r| RoundLine::of(r, lang))
        .collect();
    let mine = store::list_proposals(c, &org_viewer(&user), None)
        .await?
        .into_iter()
        .map(|p| {
            (
                p.id,
                p.title,
                p.round_title,
                state_label(lang, &p.state),
                p.granted_fen.map_or(String::new(), |g| money(g, lang)),
            )
        })
        .collect();
    let layout = ctx.layout("funding.mine");
    page(
        &OrgHome {
            layout: layout.clone(),
            open,
            mine,
        },
        &layout,
    )
}

#[derive(Template)]
#[template(path = "funding/apply.html")]
struct ApplyPage {
    layout: Layout,
    round: RoundLine,
    domains: Vec<(i64, String)>,
}

async fn apply_page(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require(&app, &user, Permission::ApplyFunding).await?;
    let mut conn = app.db.acquire().await?;
    let round = store::get_round(&mut conn.conn(), RoundId(id)).await?;
    let domains = store::domains(&mut conn.conn(), RoundId(id)).await?;
    let layout = ctx.layout_titled(round.title.clone());
    page(
        &ApplyPage {
            layout: layout.clone(),
            round: RoundLine::of(&round, ctx.lang),
            domains,
        },
        &layout,
    )
}

async fn apply(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ProposalForm>,
) -> Result<Response> {
    let (_, org) = crate::auth::require_own_org(&app, &user, Permission::ApplyFunding).await?;
    let mut tx = app.db.begin().await?;
    let round = store::get_round(&mut tx.conn(), RoundId(id)).await?;
    let domains: Vec<i64> = store::domains(&mut tx.conn(), RoundId(id))
        .await?
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    let new = form.parse(&domains, round.cap_fen)?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let pid = store::submit_proposal(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        &round,
        org.0,
        &new,
        today,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/funding/proposals/{}", pid.0),
        "flash.funding_saved",
    ))
}

#[derive(Template)]
#[template(path = "funding/own.html")]
struct OwnPage {
    layout: Layout,
    p: ProposalView,
}

async fn own_proposal(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require(&app, &user, Permission::ApplyFunding).await?;
    let mut conn = app.db.acquire().await?;
    let c = &mut conn.conn();
    let p = store::get_proposal(c, &org_viewer(&user), ProposalId(id)).await?;
    let view = view_of(c, &p, ctx.lang).await?;
    let layout = ctx.layout_titled(p.title.clone());
    page(
        &OwnPage {
            layout: layout.clone(),
            p: view,
        },
        &layout,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReportForm {
    kind: String,
    note: String,
    beneficiaries: String,
}

/// An organization's progress or final report on its funded project (a final report may give
/// the actual beneficiaries).
async fn report(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ReportForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ApplyFunding).await?;
    let mut e = crate::error::FieldErrors::new();
    let kind = match form.kind.as_str() {
        k @ ("progress_report" | "final_report") => k,
        _ => {
            e.add("kind", Msg::new("error.field.choice"));
            ""
        }
    };
    let note = e.required_text("note", &form.note, 2000);
    let beneficiaries = match form.beneficiaries.trim() {
        "" => None,
        b => b.parse::<i64>().ok().filter(|n| *n >= 0).or_else(|| {
            e.add("beneficiaries", Msg::new("error.field.count"));
            None
        }),
    };
    e.into_result(())?;
    let mut tx = app.db.begin().await?;
    let p = store::get_proposal(&mut tx.conn(), &org_viewer(&user), ProposalId(id)).await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let beneficiaries = beneficiaries.filter(|_| kind == "final_report");
    award::record_milestone(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        ProposalId(p.id),
        kind,
        today,
        None,
        &note,
        beneficiaries,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/funding/proposals/{id}"),
        "flash.funding_saved",
    ))
}

#[derive(Template)]
#[template(path = "funding/notice.html")]
struct NoticePage {
    layout: Layout,
    round: RoundLine,
    funded: Vec<(i64, String, String, String, String)>,
    open: bool,
    signed_in: bool,
}

async fn notice_page(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: Option<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response> {
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let c = &mut conn.conn();
    let round = store::get_round(c, RoundId(id)).await?;
    if round.notice_started_on.is_none() {
        return Err(Error::NotFound);
    }
    let today = crate::clock::today(c).await?;
    let funded = store::list_proposals(c, &Viewer::Staff, Some(RoundId(id)))
        .await?
        .into_iter()
        .filter(|p| p.granted_fen.is_some())
        .map(|p| {
            (
                p.id,
                p.title,
                p.org_name,
                p.domain,
                p.granted_fen.map_or(String::new(), |g| money(g, lang)),
            )
        })
        .collect();
    let layout = ctx.layout_titled(round.title.clone());
    page(
        &NoticePage {
            layout: layout.clone(),
            open: round.in_notice(today),
            round: RoundLine::of(&round, lang),
            funded,
            signed_in: user.is_some(),
        },
        &layout,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ObjectionForm {
    proposal: String,
    grounds: String,
}

async fn object(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ObjectionForm>,
) -> Result<Response> {
    let mut e = crate::error::FieldErrors::new();
    let grounds = e.required_text("grounds", &form.grounds, 2000);
    let proposal = match form.proposal.trim() {
        "" => None,
        p => Some(ProposalId(p.parse().map_err(|_| {
            Error::field("proposal", Msg::new("error.field.choice"))
        })?)),
    };
    e.into_result(())?;
    let mut tx = app.db.begin().await?;
    let round = store::get_round(&mut tx.conn(), RoundId(id)).await?;
    if round.notice_started_on.is_none() {
        return Err(Error::NotFound);
    }
    let today = crate::clock::today(&mut tx.conn()).await?;
    store::file_objection(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        &round,
        proposal,
        &grounds,
        today,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/funding/notices/{id}"),
        "flash.funding_saved",
    ))
}

#[derive(Template)]
#[template(path = "funding/project.html")]
struct ProjectPage {
    layout: Layout,
    p: ProposalView,
}

async fn project_page(
    State(app): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<i64>,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let c = &mut conn.conn();
    let p = store::public_project(c, ProposalId(id)).await?;
    let view = view_of(c, &p, ctx.lang).await?;
    let layout = ctx.layout_titled(p.title.clone());
    page(
        &ProjectPage {
            layout: layout.clone(),
            p: view,
        },
        &layout,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SummaryQuery {
    year: String,
}

/// `GET /api/v1/funding/summary?year=`: every published round of the year with its figures
/// counted from the records (no applicant names).
async fn api_summary(
    State(app): State<AppState>,
    Query(q): Query<SummaryQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut conn = app.db.acquire().await.map_err(Error::from)?;
    let today = crate::clock::today(&mut conn.conn()).await?;
    let year = crate::clock::report_year(&q.year, today)?;
    let rounds = award::figures(&mut conn.conn(), year).await?;
    let venture = rounds
        .iter()
        .find(|r| r.kind == "venture")
        .cloned()
        .unwrap_or_default();
    Ok(Json(serde_json::json!({
        "year": year,
        "venture": {
            "budget_yuan": venture.budget_yuan,
            "domains": venture.domains,
            "proposals": venture.proposals,
            "funded": venture.funded,
            "granted_yuan": venture.granted_yuan,
        },
        "rounds": rounds,
    })))
}
