//! `POST /admin/orgs/{id}/referrals` (send), `/admin/referrals` (sent, received and in scope),
//! `/admin/referrals/{id}` (read, reply, close).

use super::store::{self, ReferralRow};
use super::{ReferralForm, is_overdue};
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission, require};
use crate::error::{Error, Result};
use crate::i18n::{Lang, Msg};
use crate::registry::OrgId;
use crate::web::{Layout, PageCtx, china_time, page, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/orgs/{id}/referrals", post(send))
        .route("/admin/referrals", get(list))
        .route("/admin/referrals/{id}", get(show))
        .route("/admin/referrals/{id}/reply", post(reply))
}

/// Today in China.
fn today() -> chrono::NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// A referral in a list, formatted.
pub struct Line {
    /// Id.
    pub id: i64,
    /// Organization name.
    pub org_name: String,
    /// 事由.
    pub subject: String,
    /// From.
    pub from: String,
    /// To.
    pub to: String,
    /// Due date.
    pub due_on: String,
    /// Status label.
    pub status: &'static str,
    /// Past due and not closed.
    pub overdue: bool,
}

impl Line {
    /// Formats a row.
    pub fn of(r: &ReferralRow, lang: Lang) -> Line {
        Line {
            id: r.id,
            org_name: r.org_name.clone(),
            subject: r.subject.clone(),
            from: r.from_name.clone(),
            to: r.to_name.clone(),
            due_on: r.due_on.to_string(),
            status: r.status().label(lang),
            overdue: is_overdue(r.status(), r.due_on, today()),
        }
    }
}

async fn send(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ReferralForm>,
) -> Result<Response> {
    require(&app, &user, Permission::Refer).await?;
    let scope = user.scope(Permission::ViewRegistry);
    let draft = form.parse(today()).map_err(Error::Invalid)?;
    let mut tx = app.db.begin().await?;
    let rid = store::create(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        user.id,
        &scope,
        OrgId(id),
        &draft,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/referrals/{rid}"),
        "flash.referral_sent",
    ))
}

#[derive(Template)]
#[template(path = "referrals/list.html")]
struct ListPage {
    layout: Layout,
    lines: Vec<Line>,
}

async fn list(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let rows = store::list(
        &mut conn.conn(),
        user.id,
        &user.scope(Permission::ViewRegistry),
        None,
    )
    .await?;
    let view = ListPage {
        layout: ctx.layout("referral.list.title"),
        lines: rows.iter().map(|r| Line::of(r, ctx.lang)).collect(),
    };
    page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "referrals/show.html")]
struct ShowPage {
    layout: Layout,
    line: Line,
    org_id: i64,
    details: String,
    created: String,
    replies: Vec<(String, String, String)>,
    /// Sender or recipient of an open referral.
    can_respond: bool,
}

async fn show(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let scope = user.scope(Permission::ViewRegistry);
    let row = store::find(&mut conn.conn(), user.id, &scope, id)
        .await?
        .ok_or(Error::NotFound)?;
    let replies = store::replies(&mut conn.conn(), id).await?;
    let view = ShowPage {
        layout: ctx.layout_titled(row.subject.clone()),
        line: Line::of(&row, ctx.lang),
        org_id: row.org_id,
        details: row.details.clone(),
        created: china_time(row.created_at),
        replies: replies
            .into_iter()
            .map(|r| (china_time(r.at), r.username, r.body))
            .collect(),
        can_respond: (row.to_user_id == user.id.0 || row.from_user_id == user.id.0)
            && row.status() != super::Status::Closed,
    };
    page(&view, &view.layout)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReplyForm {
    body: String,
    close: Option<String>,
}

async fn reply(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ReplyForm>,
) -> Result<Response> {
    let body = Some(form.body.trim()).filter(|b| !b.is_empty());
    let close = form.close.is_some();
    if body.is_none() && !close {
        return Err(Error::field("body", Msg::new("error.field.required")));
    }
    if body.is_some_and(|b| b.chars().count() > 4000) {
        return Err(Error::field(
            "body",
            Msg::new("error.field.too_long").with("max", 4000),
        ));
    }
    let scope = user.scope(Permission::ViewRegistry);
    let mut tx = app.db.begin().await?;
    store::respond(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        user.id,
        &scope,
        id,
        body,
        close,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/referrals/{id}"),
        "flash.referral_updated",
    ))
}
