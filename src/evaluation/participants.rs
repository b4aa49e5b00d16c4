//! The organization's evaluation pages (`/evaluation…`: open rounds, eligibility, the
//! self-evaluation, its applications and 复核 requests) and the experts' (`/expert/evaluations…`:
//! assigned applications, scoring, declaring a conflict). An expert who must recuse gets a 403
//! page saying why, and nothing is written.

use super::pages::{AppLine, IndicatorLine, ReviewLine, grade_choices, review_lines, sheet};
use super::store::{self, ExpertAccess, Viewer};
use super::{ApplicationId, ApplicationState, RoundId, check_eligibility};
use crate::app::AppState as App;
use crate::auth::{CurrentUser, Permission, require, require_own_org};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use crate::registry::Grade;
use crate::web::{Layout, PageCtx, page, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use std::collections::HashMap;

/// The organization's and the experts' routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/evaluation", get(org_home))
        .route("/evaluation/rounds/{id}", get(apply_form).post(apply))
        .route("/evaluation/applications/{id}", get(org_application))
        .route("/evaluation/applications/{id}/review", post(request_review))
        .route("/expert/evaluations", get(expert_home))
        .route("/expert/evaluations/{id}", get(score_form).post(score))
        .route("/expert/evaluations/{id}/conflict", post(declare_conflict))
}

/// A round offered to the organization, with its eligibility.
struct OfferLine {
    id: i64,
    title: String,
    window: String,
    eligible: bool,
    reason: String,
    applied: bool,
}

#[derive(Template)]
#[template(path = "evaluation/org.html")]
struct OrgHome {
    layout: Layout,
    offers: Vec<OfferLine>,
    lines: Vec<AppLine>,
}

async fn org_home(State(app): State<App>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    let (scope, org) = require_own_org(&app, &user, Permission::ApplyEvaluation).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let mine = store::list_applications(&mut c, &Viewer::Org(scope.clone()), None).await?;
    let mut offers = Vec::new();
    for r in store::list_rounds(&mut c).await? {
        if !r.is_open(today) {
            continue;
        }
        let facts = store::eligibility_facts(&mut c, &scope, org, r.year as i32).await?;
        let verdict = match facts {
            Some(f) => check_eligibility(r.year as i32, &r.kinds(), &f),
            None => Err(Msg::new("error.not_found")),
        };
        offers.push(OfferLine {
            id: r.id,
            title: r.title.clone(),
            window: format!("{} – {}", r.apply_from, r.apply_until),
            eligible: verdict.is_ok(),
            reason: verdict
                .err()
                .map(|m| m.render(ctx.lang))
                .unwrap_or_default(),
            applied: mine.iter().any(|a| a.round_id == r.id),
        });
    }
    let view = OrgHome {
        layout: ctx.layout("evaluation.org.title"),
        offers,
        lines: mine.iter().map(|a| AppLine::of(a, ctx.lang)).collect(),
    };
    page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "evaluation/apply.html")]
struct ApplyPage {
    layout: Layout,
    round_id: i64,
    org_name: String,
    eligible: bool,
    reason: String,
    total: i64,
    lines: Vec<IndicatorLine>,
    experts: Vec<(String, String)>,
}

async fn apply_form(
    State(app): State<App>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (scope, org) = require_own_org(&app, &user, Permission::ApplyEvaluation).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let today = crate::clock::today(&mut c).await?;
    let r = store::find_round(&mut c, RoundId(id))
        .await?
        .filter(|r| r.is_open(today))
        .ok_or(Error::NotFound)?;
    let facts = store::eligibility_facts(&mut c, &scope, org, r.year as i32)
        .await?
        .ok_or(Error::NotFound)?;
    let verdict = check_eligibility(r.year as i32, &r.kinds(), &facts);
    let org_row = crate::registry::store::find(&mut c, &scope, org)
        .await?
        .ok_or(Error::NotFound)?;
    let rows = match store::template(&mut c, facts.kind).await? {
        Some((_, rows)) => rows,
        None => Vec::new(),
    };
    let experts = store::list_experts(&mut c).await?;
    tx.commit().await?;
    let view = ApplyPage {
        layout: ctx.layout_titled(r.title.clone()),
        round_id: r.id,
        org_name: org_row.name,
        eligible: verdict.is_ok(),
        reason: verdict
            .err()
            .map(|m| m.render(ctx.lang))
            .unwrap_or_default(),
        total: rows
            .iter()
            .filter(|r| r.parent_id.is_none() && !r.bonus)
            .map(|r| r.max_points)
            .sum(),
        lines: sheet(&rows, &[]),
        experts: experts.into_iter().map(|(_, u, n)| (u, n)).collect(),
    };
    page(&view, &view.layout)
}

async fn apply(
    State(app): State<App>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let (scope, org) = require_own_org(&app, &user, Permission::ApplyEvaluation).await?;
    let recuse: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "recuse")
        .map(|(_, v)| v.clone())
        .collect();
    let fields: HashMap<String, String> = form.into_iter().collect();
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let aid = store::apply(
        &mut tx.conn(),
        &scope,
        &user.actor(),
        Utc::now(),
        today,
        RoundId(id),
        org,
        &fields,
        &recuse,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/evaluation/applications/{}", aid.0),
        "flash.evaluation_saved",
    ))
}

#[derive(Template)]
#[template(path = "evaluation/org_application.html")]
struct OrgApplicationPage {
    layout: Layout,
    line: AppLine,
    headers: Vec<String>,
    lines: Vec<IndicatorLine>,
    reviews: Vec<ReviewLine>,
    can_request_review: bool,
    grades: Vec<(&'static str, String)>,
}

async fn org_application(
    State(app): State<App>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ApplyEvaluation).await?;
    let id = ApplicationId(id);
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let a = store::find_application(&mut c, &Viewer::Org(scope), id)
        .await?
        .ok_or(Error::NotFound)?;
    let (_, rows) = store::template(&mut c, a.kind())
        .await?
        .ok_or(Error::NotFound)?;
    let own = store::scores(&mut c, id, None).await?;
    let reviews = review_lines(&mut c, id, ctx.lang).await?;
    let view = OrgApplicationPage {
        layout: ctx.layout_titled(format!("{} · {}", a.org_name, a.round_title)),
        line: AppLine::of(&a, ctx.lang),
        headers: vec![ctx.lang.t("evaluation.self_score").to_owned()],
        lines: sheet(&rows, &[own]),
        can_request_review: a.state() == ApplicationState::Publicity
            && a.publicity_from.is_some_and(|f| f <= today)
            && a.publicity_until.is_some_and(|u| today <= u)
            && !reviews.iter().any(|r| r.open),
        reviews,
        grades: grade_choices(ctx.lang),
    };
    page(&view, &view.layout)
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct ReviewForm {
    grounds: String,
    requested_grade: String,
}

async fn request_review(
    State(app): State<App>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ReviewForm>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ApplyEvaluation).await?;
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    store::request_review(
        &mut tx.conn(),
        &scope,
        &user.actor(),
        Utc::now(),
        today,
        ApplicationId(id),
        &form.grounds,
        Grade::parse(&form.requested_grade),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/evaluation/applications/{id}"),
        "flash.evaluation_saved",
    ))
}

#[derive(Template)]
#[template(path = "evaluation/expert_list.html")]
struct ExpertHome {
    layout: Layout,
    lines: Vec<AppLine>,
}

async fn expert_home(State(app): State<App>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    require(&app, &user, Permission::ScoreEvaluations).await?;
    let mut conn = app.db.acquire().await?;
    let rows = store::list_applications(&mut conn.conn(), &Viewer::Expert(user.id), None).await?;
    let view = ExpertHome {
        layout: ctx.layout("evaluation.expert.title"),
        lines: rows.iter().map(|a| AppLine::of(a, ctx.lang)).collect(),
    };
    page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "evaluation/refused.html")]
struct RefusedPage {
    layout: Layout,
    reason: String,
}

/// The 403 answer to an expert who must recuse, saying why.
fn refused(ctx: &PageCtx, reason: &Msg) -> Result<Response> {
    let view = RefusedPage {
        layout: ctx.layout("evaluation.recused.title"),
        reason: reason.render(ctx.lang),
    };
    let mut response = page(&view, &view.layout)?;
    *response.status_mut() = StatusCode::FORBIDDEN;
    Ok(response.into_response())
}

#[derive(Template)]
#[template(path = "evaluation/score.html")]
struct ScorePage {
    layout: Layout,
    id: i64,
    line: AppLine,
    editable: bool,
    headers: Vec<String>,
    lines: Vec<IndicatorLine>,
    mine: HashMap<i64, i64>,
}

impl ScorePage {
    fn value(&self, id: &i64) -> String {
        self.mine.get(id).map(|v| v.to_string()).unwrap_or_default()
    }
}

async fn score_form(
    State(app): State<App>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require(&app, &user, Permission::ScoreEvaluations).await?;
    let id = ApplicationId(id);
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let a = match store::expert_access(&mut c, user.id, today, id).await? {
        ExpertAccess::Allowed(a) => a,
        ExpertAccess::Recused(reason) => return refused(&ctx, &reason),
    };
    let (_, rows) = store::template(&mut c, a.kind())
        .await?
        .ok_or(Error::NotFound)?;
    let own = store::scores(&mut c, id, None).await?;
    let mine = store::scores(&mut c, id, Some(user.id)).await?;
    let view = ScorePage {
        layout: ctx.layout_titled(format!("{} · {}", a.org_name, a.round_title)),
        id: id.0,
        line: AppLine::of(&a, ctx.lang),
        editable: a.state() == ApplicationState::Scoring,
        headers: vec![ctx.lang.t("evaluation.self_score").to_owned()],
        lines: sheet(&rows, &[own]),
        mine,
    };
    page(&view, &view.layout)
}

async fn score(
    State(app): State<App>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    require(&app, &user, Permission::ScoreEvaluations).await?;
    let id = ApplicationId(id);
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    if let ExpertAccess::Recused(reason) =
        store::expert_access(&mut tx.conn(), user.id, today, id).await?
    {
        return refused(&ctx, &reason);
    }
    store::score(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        today,
        user.id,
        id,
        &form,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/expert/evaluations/{}", id.0),
        "flash.evaluation_saved",
    ))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct ConflictForm {
    reason: String,
}

async fn declare_conflict(
    State(app): State<App>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ConflictForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ScoreEvaluations).await?;
    let mut tx = app.db.begin().await?;
    store::declare_conflict(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        user.id,
        ApplicationId(id),
        &form.reason,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/expert/evaluations",
        "flash.evaluation_saved",
    ))
}
