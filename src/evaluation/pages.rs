//! Staff pages of the classified evaluation (`/admin/evaluations…`: rounds, templates,
//! applications, experts' past employers) and the public ones (`/evaluations`: 公示 and
//! results, certificates). The organization's and the experts' pages are in `participants.rs`.

use super::store::{self, ApplicationRow, IndicatorRow, TemplateEdit, Viewer};
use super::{ApplicationId, ApplicationState, GRADES_DESC, RoundForm, RoundId};
use crate::app::AppState as App;
use crate::auth::{CurrentUser, Permission, UserId, require};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use crate::registry::{Grade, OrgKind};
use crate::web::{Layout, PageCtx, page, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{NaiveDate, Utc};
use std::collections::HashMap;

/// Every route of the evaluation module.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/evaluations", get(rounds).post(create_round))
        .route("/admin/evaluations/{id}", get(round))
        .route("/admin/evaluations/{id}/publicity", post(start_publicity))
        .route("/admin/evaluations/{id}/finalize", post(finalize))
        .route(
            "/admin/evaluation-templates/{kind}",
            get(template).post(save_template),
        )
        .route("/admin/evaluation-applications/{id}", get(application))
        .route("/admin/evaluation-applications/{id}/assign", post(assign))
        .route("/admin/evaluation-applications/{id}/propose", post(propose))
        .route(
            "/admin/evaluation-applications/{id}/review",
            post(decide_review),
        )
        .route(
            "/admin/evaluation-experts",
            get(experts).post(add_employment),
        )
        .route("/evaluations", get(public_results))
        .route("/evaluations/certificates/{id}", get(certificate))
        .merge(super::participants::routes())
}

/// One indicator as a row of a score sheet.
pub struct IndicatorLine {
    /// Id (form fields are `s{id}`).
    pub id: i64,
    /// Name.
    pub name: String,
    /// 标准分.
    pub max: i64,
    /// 1 = 一级指标.
    pub depth: usize,
    /// Scored (no children).
    pub leaf: bool,
    /// 加分项.
    pub bonus: bool,
    /// Score columns shown (self, experts…), already formatted.
    pub columns: Vec<String>,
}

/// The score sheet of a template with one column per score set (sums shown on inner
/// indicators).
pub fn sheet(rows: &[IndicatorRow], sets: &[HashMap<i64, i64>]) -> Vec<IndicatorLine> {
    let depths = store::depths(rows);
    let children = |id: i64| rows.iter().any(|r| r.parent_id == Some(id));
    rows.iter()
        .map(|r| IndicatorLine {
            id: r.id,
            name: r.name.clone(),
            max: r.max_points,
            depth: depths.get(&r.id).copied().unwrap_or(1),
            leaf: !children(r.id),
            bonus: r.bonus,
            columns: sets
                .iter()
                .map(|s| subtotal(rows, s, r.id).map_or(String::new(), |v| v.to_string()))
                .collect(),
        })
        .collect()
}

/// The points of an indicator: its own score, or the sum of its descendants' scores.
fn subtotal(rows: &[IndicatorRow], scores: &HashMap<i64, i64>, id: i64) -> Option<i64> {
    if let Some(p) = scores.get(&id) {
        return Some(*p);
    }
    let kids: Vec<_> = rows.iter().filter(|r| r.parent_id == Some(id)).collect();
    if kids.is_empty() {
        return None;
    }
    let parts: Vec<i64> = kids
        .iter()
        .filter_map(|k| subtotal(rows, scores, k.id))
        .collect();
    (!parts.is_empty()).then(|| parts.iter().sum())
}

/// An application in a list, formatted.
pub struct AppLine {
    /// Id.
    pub id: i64,
    /// Round.
    pub round: String,
    /// Organization.
    pub org_name: String,
    /// Public profile key.
    pub org_key: String,
    /// Kind label.
    pub kind: &'static str,
    /// State label.
    pub state: &'static str,
    /// Self total.
    pub self_total: i64,
    /// Final score ("" before the proposal).
    pub score: String,
    /// Proposed or final grade label ("" if none).
    pub grade: String,
    /// Last valid day of the final grade.
    pub valid_until: String,
    /// 公示 period.
    pub publicity: String,
    /// Certificate available.
    pub certificate: bool,
}

impl AppLine {
    /// Formats a row.
    pub fn of(a: &ApplicationRow, lang: Lang) -> AppLine {
        let grade = a
            .final_grade
            .as_deref()
            .or(a
                .proposed_grade
                .as_deref()
                .filter(|_| a.state() != ApplicationState::Final))
            .and_then(Grade::parse);
        AppLine {
            id: a.id,
            round: a.round_title.clone(),
            org_name: a.org_name.clone(),
            org_key: a.org_uscc.clone().unwrap_or_else(|| a.org_id.to_string()),
            kind: a.kind().label(lang),
            state: lang.t(a.state().label_key()),
            self_total: a.self_total,
            score: a.final_score.map(|s| s.to_string()).unwrap_or_default(),
            grade: grade.map(|g| g.label(lang).to_owned()).unwrap_or_default(),
            valid_until: a
                .grade_expires_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
            publicity: match (a.publicity_from, a.publicity_until) {
                (Some(f), Some(u)) => format!("{f} – {u}"),
                _ => String::new(),
            },
            certificate: a.state() == ApplicationState::Final && a.final_grade.is_some(),
        }
    }
}

/// A round in a list, formatted.
pub struct RoundLine {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Year.
    pub year: i64,
    /// Kinds covered, labelled.
    pub kinds: String,
    /// Application window.
    pub window: String,
    /// 公示 period or "".
    pub publicity: String,
    /// Bands, e.g. "5A ≥ 951 · 4A ≥ 901 …".
    pub bands: String,
    /// Final.
    pub finalized: String,
}

impl RoundLine {
    /// Formats a row.
    pub fn of(r: &store::RoundRow, lang: Lang) -> RoundLine {
        RoundLine {
            id: r.id,
            title: r.title.clone(),
            year: r.year,
            kinds: r
                .kinds()
                .iter()
                .map(|k| k.label(lang))
                .collect::<Vec<_>>()
                .join("、"),
            window: format!("{} – {}", r.apply_from, r.apply_until),
            publicity: match (r.publicity_from, r.publicity_until) {
                (Some(f), Some(u)) => format!("{f} – {u}"),
                _ => String::new(),
            },
            bands: r
                .bands()
                .0
                .iter()
                .map(|(g, m)| format!("{} ≥ {m}", g.as_str()))
                .collect::<Vec<_>>()
                .join(" · "),
            finalized: r.finalized_on.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "evaluation/rounds.html")]
struct RoundsPage {
    layout: Layout,
    rounds: Vec<RoundLine>,
    form: RoundForm,
    errors: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
}

impl RoundsPage {
    fn error(&self, field: &str) -> &str {
        crate::web::field_error(&self.errors, field)
    }
}

fn kind_links(lang: Lang) -> Vec<(&'static str, &'static str)> {
    super::EVALUATED_KINDS
        .iter()
        .map(|k| (k.as_str(), k.label(lang)))
        .collect()
}

async fn rounds(State(app): State<App>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let rows = store::list_rounds(&mut c).await?;
    use chrono::Datelike;
    let view = RoundsPage {
        layout: ctx.layout("evaluation.rounds.title"),
        rounds: rows.iter().map(|r| RoundLine::of(r, ctx.lang)).collect(),
        form: RoundForm::defaults(today.year()),
        errors: Vec::new(),
        kinds: kind_links(ctx.lang),
    };
    page(&view, &view.layout)
}

async fn create_round(
    State(app): State<App>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<RoundForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let draft = match form.parse() {
        Ok(d) => d,
        Err(errors) => {
            let mut conn = app.db.acquire().await?;
            let rows = store::list_rounds(&mut conn.conn()).await?;
            let view = RoundsPage {
                layout: ctx.layout("evaluation.rounds.title"),
                rounds: rows.iter().map(|r| RoundLine::of(r, ctx.lang)).collect(),
                form,
                errors: errors.render(ctx.lang),
                kinds: kind_links(ctx.lang),
            };
            return crate::web::invalid_page(&view, &view.layout);
        }
    };
    let mut tx = app.db.begin().await?;
    let id = store::create_round(&mut tx.conn(), &user.actor(), Utc::now(), &draft).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/evaluations/{}", id.0),
        "flash.evaluation_saved",
    ))
}

#[derive(Template)]
#[template(path = "evaluation/round.html")]
struct RoundPage {
    layout: Layout,
    round: RoundLine,
    committee: Vec<String>,
    lines: Vec<AppLine>,
    today: String,
    can_publicize: bool,
    can_finalize: bool,
}

async fn round(
    State(app): State<App>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let r = store::find_round(&mut c, RoundId(id))
        .await?
        .ok_or(Error::NotFound)?;
    let apps = store::list_applications(&mut c, &Viewer::Staff, Some(RoundId(id))).await?;
    let committee = store::committee(&mut c, RoundId(id)).await?;
    let view = RoundPage {
        layout: ctx.layout_titled(r.title.clone()),
        can_publicize: r.publicity_from.is_none()
            && apps.iter().any(|a| a.state() == ApplicationState::Proposed),
        can_finalize: r.finalized_on.is_none() && r.publicity_until.is_some_and(|u| today > u),
        round: RoundLine::of(&r, ctx.lang),
        committee: committee.into_iter().map(|(_, n)| n).collect(),
        lines: apps.iter().map(|a| AppLine::of(a, ctx.lang)).collect(),
        today: today.to_string(),
    };
    page(&view, &view.layout)
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct PublicityForm {
    start: String,
}

async fn start_publicity(
    State(app): State<App>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<PublicityForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let start = NaiveDate::parse_from_str(form.start.trim(), "%Y-%m-%d")
        .map_err(|_| Error::field("start", Msg::new("error.field.date")))?;
    let mut tx = app.db.begin().await?;
    store::start_publicity(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        RoundId(id),
        start,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/evaluations/{id}"),
        "flash.evaluation_saved",
    ))
}

async fn finalize(
    State(app): State<App>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    store::finalize(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        today,
        RoundId(id),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/evaluations/{id}"),
        "flash.evaluation_saved",
    ))
}

#[derive(Template)]
#[template(path = "evaluation/template.html")]
struct TemplatePage {
    layout: Layout,
    kind: &'static str,
    kind_label: &'static str,
    kinds: Vec<(&'static str, &'static str)>,
    version: i64,
    total: i64,
    lines: Vec<IndicatorLine>,
}

async fn template(
    State(app): State<App>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(kind): Path<String>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let kind = evaluated_kind(&kind)?;
    let mut tx = app.db.begin().await?;
    // The shipped templates are created on first sight, so the page is never empty.
    store::ensure_templates(&mut tx.conn(), &user.actor(), Utc::now()).await?;
    let (t, rows) = store::template(&mut tx.conn(), kind)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    let view = TemplatePage {
        layout: ctx.layout_titled(format!(
            "{} · {}",
            ctx.lang.t("evaluation.template.title"),
            kind.label(ctx.lang)
        )),
        kind: kind.as_str(),
        kind_label: kind.label(ctx.lang),
        kinds: kind_links(ctx.lang),
        version: t.version,
        total: t.total_points,
        lines: sheet(&rows, &[]),
    };
    page(&view, &view.layout)
}

fn evaluated_kind(s: &str) -> Result<OrgKind> {
    OrgKind::parse(s)
        .filter(|k| super::EVALUATED_KINDS.contains(k))
        .ok_or(Error::NotFound)
}

async fn save_template(
    State(app): State<App>,
    user: CurrentUser,
    Path(kind): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let kind = evaluated_kind(&kind)?;
    let mut errors = FieldErrors::new();
    let number = |errors: &mut FieldErrors, field: &'static str, v: &str| match v.trim().parse() {
        Ok(n) => n,
        Err(_) => {
            errors.add(field, Msg::new("error.field.positive"));
            0
        }
    };
    let mut edit = TemplateEdit::default();
    for (k, v) in &form {
        if let Some(id) = k.strip_prefix("name_").and_then(|i| i.parse::<i64>().ok()) {
            let max = number(
                &mut errors,
                "max_points",
                form.get(&format!("max_{id}")).map_or("", String::as_str),
            );
            edit.changes.push((id, v.clone(), max));
        }
    }
    edit.changes.sort_by_key(|(id, _, _)| *id);
    let new_name = form.get("new_name").map_or("", |s| s.trim());
    if !new_name.is_empty() {
        let parent = match form.get("new_parent").map_or("", |s| s.trim()) {
            "" => None,
            p => Some(number(&mut errors, "parent", p)),
        };
        let max = number(
            &mut errors,
            "new_max",
            form.get("new_max").map_or("", String::as_str),
        );
        edit.add = Some((parent, new_name.to_owned(), max));
    }
    let version = number(
        &mut errors,
        "version",
        form.get("version").map_or("", String::as_str),
    );
    errors.into_result(())?;
    let mut tx = app.db.begin().await?;
    store::save_template(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        kind,
        version,
        &edit,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/evaluation-templates/{}", kind.as_str()),
        "flash.evaluation_saved",
    ))
}

/// A review as shown.
pub struct ReviewLine {
    /// Filed on.
    pub filed_on: String,
    /// Grounds.
    pub grounds: String,
    /// Requested grade label.
    pub requested: String,
    /// State label.
    pub state: &'static str,
    /// Open.
    pub open: bool,
    /// Decision text.
    pub decision: String,
    /// (member, vote label).
    pub votes: Vec<(String, &'static str)>,
}

/// The reviews of an application, formatted.
pub async fn review_lines(
    conn: &mut crate::db::Conn<'_>,
    id: ApplicationId,
    lang: Lang,
) -> Result<Vec<ReviewLine>> {
    let mut out = Vec::new();
    for r in store::reviews(conn, id).await? {
        let votes = store::votes(conn, r.id).await?;
        out.push(ReviewLine {
            filed_on: r.filed_on.to_string(),
            grounds: r.grounds.clone(),
            requested: r
                .requested_grade
                .as_deref()
                .and_then(Grade::parse)
                .map(|g| g.label(lang).to_owned())
                .unwrap_or_default(),
            state: lang.t(match r.state.as_str() {
                "open" => "evaluation.review.open",
                "changed" => "evaluation.review.changed",
                _ => "evaluation.review.upheld",
            }),
            open: r.state == "open",
            decision: r.decision.clone().unwrap_or_default(),
            votes: votes
                .into_iter()
                .map(|(m, v)| {
                    let label = lang.t(match v.as_str() {
                        "change" => "evaluation.vote.change",
                        "keep" => "evaluation.vote.keep",
                        _ => "evaluation.vote.absent",
                    });
                    (m, label)
                })
                .collect(),
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "evaluation/application.html")]
struct ApplicationPage {
    layout: Layout,
    line: AppLine,
    state: String,
    adjustment: String,
    adjustment_reason: String,
    expert_total: String,
    headers: Vec<String>,
    lines: Vec<IndicatorLine>,
    assigned: Vec<(String, String, String)>,
    recusals: Vec<(String, &'static str, String)>,
    experts: Vec<(String, String)>,
    reviews: Vec<ReviewLine>,
    committee: Vec<(i64, String)>,
    grades: Vec<(&'static str, String)>,
    can_assign: bool,
    can_propose: bool,
}

async fn application(
    State(app): State<App>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let lang = ctx.lang;
    let id = ApplicationId(id);
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let a = store::find_application(&mut c, &Viewer::Staff, id)
        .await?
        .ok_or(Error::NotFound)?;
    let (_, rows) = store::template(&mut c, a.kind())
        .await?
        .ok_or(Error::NotFound)?;
    let assigned = store::assignments(&mut c, id).await?;
    let mut headers = vec![lang.t("evaluation.self_score").to_owned()];
    let mut sets = vec![store::scores(&mut c, id, None).await?];
    for x in &assigned {
        headers.push(x.display_name.clone());
        sets.push(store::scores(&mut c, id, Some(UserId(x.expert_user_id))).await?);
    }
    let recusals = store::recusals(&mut c, id).await?;
    let experts = store::list_experts(&mut c).await?;
    let reviews = review_lines(&mut c, id, lang).await?;
    let committee = store::committee(&mut c, RoundId(a.round_id)).await?;
    let view = ApplicationPage {
        layout: ctx.layout_titled(format!("{} · {}", a.org_name, a.round_title)),
        line: AppLine::of(&a, lang),
        state: a.state.clone(),
        adjustment: a.adjustment.map(|v| v.to_string()).unwrap_or_default(),
        adjustment_reason: a.adjustment_reason.clone().unwrap_or_default(),
        expert_total: a.expert_total.map(|v| v.to_string()).unwrap_or_default(),
        headers,
        lines: sheet(&rows, &sets),
        assigned: assigned
            .iter()
            .map(|x| {
                (
                    x.display_name.clone(),
                    x.total.map(|t| t.to_string()).unwrap_or_default(),
                    x.submitted_at
                        .map(crate::web::china_time)
                        .unwrap_or_else(|| lang.t("evaluation.not_submitted").to_owned()),
                )
            })
            .collect(),
        recusals: recusals
            .into_iter()
            .map(|(u, s, r)| {
                let label = lang.t(if s == "declared" {
                    "evaluation.recusal.declared"
                } else {
                    "evaluation.recusal.requested"
                });
                (u, label, r)
            })
            .collect(),
        experts: experts.into_iter().map(|(_, u, n)| (u, n)).collect(),
        reviews,
        committee,
        grades: grade_choices(lang),
        can_assign: matches!(
            a.state(),
            ApplicationState::Applied | ApplicationState::Scoring
        ),
        can_propose: matches!(
            a.state(),
            ApplicationState::Scoring | ApplicationState::Proposed
        ),
    };
    page(&view, &view.layout)
}

/// The grades, best first, as (value, label).
pub fn grade_choices(lang: Lang) -> Vec<(&'static str, String)> {
    GRADES_DESC
        .iter()
        .map(|g| (g.as_str(), g.label(lang).to_owned()))
        .collect()
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct AssignForm {
    expert: String,
}

async fn assign(
    State(app): State<App>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<AssignForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    store::assign(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        today,
        ApplicationId(id),
        &form.expert,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/evaluation-applications/{id}"),
        "flash.evaluation_saved",
    ))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct ProposeForm {
    adjustment: String,
    adjustment_reason: String,
}

async fn propose(
    State(app): State<App>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ProposeForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let adjustment = match form.adjustment.trim() {
        "" => 0,
        v => v.parse::<i64>().map_err(|_| {
            Error::field(
                "adjustment",
                Msg::new("error.field.range")
                    .with("min", -100)
                    .with("max", 100),
            )
        })?,
    };
    let mut tx = app.db.begin().await?;
    store::propose(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        ApplicationId(id),
        adjustment,
        &form.adjustment_reason,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/evaluation-applications/{id}"),
        "flash.evaluation_saved",
    ))
}

async fn decide_review(
    State(app): State<App>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let votes: HashMap<i64, String> = form
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("vote_")?.parse().ok()?, v.clone())))
        .collect();
    let new_grade = form.get("new_grade").and_then(|g| Grade::parse(g));
    let decision = form.get("decision").map_or("", String::as_str);
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    store::decide_review(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        today,
        ApplicationId(id),
        &votes,
        new_grade,
        decision,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/evaluation-applications/{id}"),
        "flash.evaluation_saved",
    ))
}

#[derive(Template)]
#[template(path = "evaluation/experts.html")]
struct ExpertsPage {
    layout: Layout,
    experts: Vec<(String, String)>,
    employments: Vec<(String, String, String, String)>,
}

async fn experts(State(app): State<App>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let experts = store::list_experts(&mut c).await?;
    let jobs = store::list_employments(&mut c).await?;
    let view = ExpertsPage {
        layout: ctx.layout("evaluation.experts.title"),
        experts: experts.into_iter().map(|(_, u, n)| (u, n)).collect(),
        employments: jobs
            .into_iter()
            .map(|j| {
                (
                    j.username,
                    j.org_name,
                    j.started_on.to_string(),
                    j.ended_on.map(|d| d.to_string()).unwrap_or_default(),
                )
            })
            .collect(),
    };
    page(&view, &view.layout)
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct EmploymentForm {
    expert: String,
    org: String,
    started_on: String,
    ended_on: String,
}

async fn add_employment(
    State(app): State<App>,
    user: CurrentUser,
    Form(form): Form<EmploymentForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageEvaluations).await?;
    let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    if !form.ended_on.trim().is_empty() && date(&form.ended_on).is_none() {
        return Err(Error::field("ended_on", Msg::new("error.field.date")));
    }
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    store::add_employment(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        &form.expert,
        &form.org,
        date(&form.started_on),
        date(&form.ended_on),
        today,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/admin/evaluation-experts",
        "flash.evaluation_saved",
    ))
}

#[derive(Template)]
#[template(path = "evaluation/public.html")]
struct PublicPage {
    layout: Layout,
    publicity: Vec<AppLine>,
    results: Vec<AppLine>,
}

async fn public_results(State(app): State<App>, ctx: PageCtx) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let rows = store::public_results(&mut c, today).await?;
    let (publicity, results): (Vec<_>, Vec<_>) = rows
        .iter()
        .partition(|a| a.state() == ApplicationState::Publicity);
    let view = PublicPage {
        layout: ctx.layout("evaluation.public.title"),
        publicity: publicity.iter().map(|a| AppLine::of(a, ctx.lang)).collect(),
        // A result whose grade has since expired is history, not a grade to show.
        results: results
            .iter()
            .filter(|a| a.grade_expires_on.is_some_and(|d| d >= today))
            .map(|a| AppLine::of(a, ctx.lang))
            .collect(),
    };
    page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "evaluation/certificate.html")]
struct CertificatePage {
    layout: Layout,
    org_name: String,
    uscc: String,
    grade: String,
    round: String,
    score: String,
    decided_on: String,
    valid_until: String,
    expired: bool,
    authority: String,
}

/// `GET /evaluations/certificates/{id}`: the printable grade certificate (评估等级证书) of a
/// final result. Grades are public information.
async fn certificate(
    State(app): State<App>,
    ctx: PageCtx,
    Path(id): Path<i64>,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let a = store::find_application(&mut c, &Viewer::Staff, ApplicationId(id))
        .await?
        .filter(|a| a.state() == ApplicationState::Final)
        .ok_or(Error::NotFound)?;
    let grade = a
        .final_grade
        .as_deref()
        .and_then(Grade::parse)
        .ok_or(Error::NotFound)?;
    let today = crate::clock::today(&mut c).await?;
    let district = crate::settings::store::current(&mut c, "district_name").await?;
    let view = CertificatePage {
        layout: ctx.layout("evaluation.certificate.title"),
        org_name: a.org_name.clone(),
        uscc: a.org_uscc.clone().unwrap_or_default(),
        grade: grade.label(ctx.lang).to_owned(),
        round: a.round_title.clone(),
        score: a.final_score.map(|s| s.to_string()).unwrap_or_default(),
        decided_on: a.decided_on.map(|d| d.to_string()).unwrap_or_default(),
        valid_until: a
            .grade_expires_on
            .map(|d| d.to_string())
            .unwrap_or_default(),
        expired: a.grade_expires_on.is_some_and(|d| d < today),
        authority: district,
    };
    page(&view, &view.layout)
}
