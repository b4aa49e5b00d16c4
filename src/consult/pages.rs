//! `/consult` (ask, and the public FAQ) and `/admin/consultations` (the window's queue).

use super::store::{self, ConsultationRow};
use super::{MAX_QUESTIONS_PER_HOUR, QuestionForm, median_hours};
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission, require_district};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::Msg;
use crate::web::{
    Layout, PageCtx, PeerIp, china_time, page, page_with_errors, redirect_with_flash,
};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use chrono::{Duration, Utc};
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/consult", get(consult).post(ask))
        .route("/admin/consultations", get(queue))
        .route("/admin/consultations/{id}", get(show))
        .route("/admin/consultations/{id}/claim", post(claim))
        .route("/admin/consultations/{id}/answer", post(answer))
}

/// A question and its answer, formatted.
pub struct Entry {
    id: i64,
    asked: String,
    name: String,
    question: String,
    answer: String,
    answered: String,
    owner: String,
    published: bool,
}

impl Entry {
    fn of(r: ConsultationRow) -> Entry {
        Entry {
            id: r.id,
            asked: china_time(r.asked_at),
            name: r.name,
            question: r.question,
            answer: r.answer.unwrap_or_default(),
            answered: r.answered_at.map(china_time).unwrap_or_default(),
            owner: r.owner.unwrap_or_default(),
            published: r.published,
        }
    }
}

#[derive(Template)]
#[template(path = "consult/consult.html")]
struct ConsultPage {
    layout: Layout,
    form: QuestionForm,
    errors: Vec<(String, String)>,
    faq: Vec<Entry>,
}

async fn consult_page(
    app: &AppState,
    ctx: &PageCtx,
    form: QuestionForm,
    errors: &FieldErrors,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let faq = store::faq(&mut conn.conn())
        .await?
        .into_iter()
        .map(Entry::of)
        .collect();
    let view = ConsultPage {
        layout: ctx.layout("consult.title"),
        form,
        errors: errors.render(ctx.lang),
        faq,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn consult(State(app): State<AppState>, ctx: PageCtx) -> Result<Response> {
    consult_page(&app, &ctx, QuestionForm::default(), &FieldErrors::new()).await
}

async fn ask(
    State(app): State<AppState>,
    ctx: PageCtx,
    Extension(PeerIp(ip)): Extension<PeerIp>,
    Form(form): Form<QuestionForm>,
) -> Result<Response> {
    let question = match form.parse() {
        Ok(q) => q,
        Err(errors) => return consult_page(&app, &ctx, form, &errors).await,
    };
    let now = Utc::now();
    let mut tx = app.db.begin().await?;
    if let Some(ip) = &ip
        && store::asked_from(&mut tx.conn(), ip, now - Duration::hours(1)).await?
            >= MAX_QUESTIONS_PER_HOUR
    {
        drop(tx);
        let mut errors = FieldErrors::new();
        errors.add("question", Msg::new("consult.error.too_many"));
        return consult_page(&app, &ctx, form, &errors).await;
    }
    store::ask(&mut tx.conn(), now, ip.as_deref(), &question).await?;
    tx.commit().await?;
    Ok(redirect_with_flash("/consult", "flash.question_asked"))
}

/// Consultations are answered at the district's one-stop window: district-wide staff only.
async fn require_window(app: &AppState, user: &CurrentUser) -> Result<()> {
    require_district(app, user, Permission::HandleApplications).await
}

#[derive(Template)]
#[template(path = "consult/queue.html")]
struct QueuePage {
    layout: Layout,
    entries: Vec<Entry>,
    unanswered: usize,
    median_hours: String,
}

async fn queue(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    require_window(&app, &user).await?;
    let mut conn = app.db.acquire().await?;
    let rows = store::list(&mut conn.conn()).await?;
    // Response time, counted from the records each time.
    let hours: Vec<f64> = rows
        .iter()
        .filter_map(|r| {
            r.answered_at
                .map(|a| (a - r.asked_at).num_minutes() as f64 / 60.0)
        })
        .collect();
    let view = QueuePage {
        layout: ctx.layout("consult.queue.title"),
        unanswered: rows.iter().filter(|r| r.answered_at.is_none()).count(),
        median_hours: format!("{:.1}", median_hours(hours)),
        entries: rows.into_iter().map(Entry::of).collect(),
    };
    page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "consult/show.html")]
struct ShowPage {
    layout: Layout,
    entry: Entry,
    contact: String,
    version: i64,
    mine_or_free: bool,
}

async fn show(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require_window(&app, &user).await?;
    let mut conn = app.db.acquire().await?;
    let row = store::find(&mut conn.conn(), id)
        .await?
        .ok_or(Error::NotFound)?;
    let view = ShowPage {
        layout: ctx.layout("consult.show.title"),
        contact: row.contact.clone(),
        version: row.version,
        mine_or_free: row.owner_user_id.is_none_or(|o| o == user.id.0),
        entry: Entry::of(row),
    };
    page(&view, &view.layout)
}

async fn claim(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require_window(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    store::claim(&mut tx.conn(), &user.actor(), Utc::now(), id, user.id).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/consultations/{id}"),
        "flash.application_moved",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AnswerForm {
    answer: String,
    publish: Option<String>,
    version: String,
}

async fn answer(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<AnswerForm>,
) -> Result<Response> {
    require_window(&app, &user).await?;
    let text = form.answer.trim();
    if text.is_empty() || text.chars().count() > 4000 {
        return Err(Error::field(
            "answer",
            if text.is_empty() {
                Msg::new("error.field.required")
            } else {
                Msg::new("error.field.too_long").with("max", 4000)
            },
        ));
    }
    let version = form
        .version
        .trim()
        .parse()
        .map_err(|_| Error::Conflict(Msg::new("application.error.stale")))?;
    let mut tx = app.db.begin().await?;
    store::answer(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        id,
        user.id,
        version,
        text,
        form.publish.is_some(),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/consultations/{id}"),
        "flash.question_answered",
    ))
}
