//! The expert's side of the review (`/expert/funding`): the queue, the declaration of interests
//! before a proposal opens, and scoring on the rubric. A proposal not assigned to the expert
//! answers 404 and one they are recused from 403, both audited.

use super::pages::{ProposalView, view_of};
use super::store::{self, Viewer};
use super::{ProposalId, RoundId};
use crate::app::AppState;
use crate::audit::store::{NewEntry, append};
use crate::auth::{CurrentUser, Permission, require};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use crate::web::{Layout, PageCtx, page, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use serde::Deserialize;
use std::collections::HashMap;

/// The expert's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/expert/funding", get(expert_queue))
        .route("/expert/funding/{id}", get(expert_proposal))
        .route("/expert/funding/{id}/declare", post(declare))
        .route("/expert/funding/{id}/scores", post(score))
}

#[derive(Template)]
#[template(path = "funding/expert_queue.html")]
struct ExpertQueue {
    layout: Layout,
    items: Vec<(i64, String, String, &'static str)>,
}

async fn expert_queue(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    require(&app, &user, Permission::ScoreProposals).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let items = store::expert_queue(&mut conn.conn(), user.id)
        .await?
        .into_iter()
        .map(|(a, title, round)| {
            let state = match (a.declaration.as_deref(), a.scored) {
                (None, _) => "funding.expert.declare",
                (Some("conflict"), _) => "funding.expert.recused",
                (_, 0) => "funding.expert.to_score",
                _ => "funding.expert.scored",
            };
            (a.proposal_id, title, round, lang.t(state))
        })
        .collect();
    let layout = ctx.layout("funding.expert.title");
    page(
        &ExpertQueue {
            layout: layout.clone(),
            items,
        },
        &layout,
    )
}

/// Expert `user`'s assignment to proposal `id`: 404 when not assigned, 403 when recused — both
/// audited as denied — unless `allow_undeclared`, the assignment must be declared "none".
async fn expert_assignment(
    app: &AppState,
    user: &CurrentUser,
    id: i64,
    allow_undeclared: bool,
) -> Result<store::AssignmentRow> {
    require(app, user, Permission::ScoreProposals).await?;
    let mut conn = app.db.acquire().await?;
    let a = store::assignment_of(&mut conn.conn(), user.id, ProposalId(id)).await?;
    drop(conn);
    let refuse = |err: Error| async move {
        let mut tx = app.db.begin().await?;
        let entry = NewEntry::of("denied", "funding_proposal", Some(id), "expert");
        append(&mut tx.conn(), Utc::now(), &user.actor(), entry).await?;
        tx.commit().await?;
        Err::<store::AssignmentRow, Error>(err)
    };
    match a {
        None => refuse(Error::NotFound).await,
        Some(a) if a.declaration.as_deref() == Some("conflict") => refuse(Error::Forbidden).await,
        // Scoring needs a "no conflict" declaration; the handler checks it.
        Some(a) if !allow_undeclared && a.declaration.is_none() => Ok(a),
        Some(a) => Ok(a),
    }
}

#[derive(Template)]
#[template(path = "funding/expert_proposal.html")]
struct ExpertPage {
    layout: Layout,
    id: i64,
    declared: bool,
    p: Option<ProposalView>,
    criteria: Vec<(i64, String, i64, i64, String)>,
}

async fn expert_proposal(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let a = expert_assignment(&app, &user, id, true).await?;
    let mut conn = app.db.acquire().await?;
    let c = &mut conn.conn();
    let (title, round_id): (String, i64) =
        crate::db::Sql::new("select title, round_id from funding_proposals where id = $1")
            .arg(id)
            .fetch_one(c)
            .await?;
    let declared = a.declaration.is_some();
    let (p, criteria) = if declared {
        let p = store::get_proposal(c, &Viewer::Expert(user.id), ProposalId(id)).await?;
        let scores = store::scores_of(c, a.id).await?;
        let criteria = store::criteria(c, RoundId(round_id))
            .await?
            .into_iter()
            .map(|k| {
                let s = scores.get(&k.id).map_or(String::new(), |s| s.to_string());
                (k.id, k.name, k.weight, k.max_score, s)
            })
            .collect();
        (Some(view_of(c, &p, ctx.lang).await?), criteria)
    } else {
        (None, Vec::new())
    };
    let layout = ctx.layout_titled(title.clone());
    page(
        &ExpertPage {
            layout: layout.clone(),
            id,
            declared,
            p,
            criteria,
        },
        &layout,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeclareForm {
    conflict: String,
    note: String,
}

async fn declare(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DeclareForm>,
) -> Result<Response> {
    let a = expert_assignment(&app, &user, id, true).await?;
    if a.declaration.is_some() {
        return Err(Error::Conflict(Msg::new("funding.error.declared")));
    }
    let conflict = match form.conflict.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(Error::field("conflict", Msg::new("error.field.choice"))),
    };
    if conflict && form.note.trim().is_empty() {
        return Err(Error::field("note", Msg::new("error.field.required")));
    }
    let mut tx = app.db.begin().await?;
    store::declare(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        a.id,
        conflict,
        form.note.trim(),
    )
    .await?;
    tx.commit().await?;
    let to = if conflict {
        "/expert/funding".to_owned()
    } else {
        format!("/expert/funding/{id}")
    };
    Ok(redirect_with_flash(&to, "flash.funding_saved"))
}

async fn score(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    let a = expert_assignment(&app, &user, id, false).await?;
    if a.declaration.as_deref() != Some("none") {
        return Err(Error::Conflict(Msg::new("funding.error.declare_first")));
    }
    let mut tx = app.db.begin().await?;
    let (round_id,): (i64,) =
        crate::db::Sql::new("select round_id from funding_proposals where id = $1")
            .arg(id)
            .fetch_one(&mut tx.conn())
            .await?;
    let round = store::get_round(&mut tx.conn(), RoundId(round_id)).await?;
    // Scores may be corrected (and the allocation run again) until 公示 starts.
    if round.notice_started_on.is_some() {
        return Err(Error::Conflict(Msg::new("funding.error.published")));
    }
    let criteria = store::criteria(&mut tx.conn(), RoundId(round_id)).await?;
    let given: HashMap<i64, String> = form
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix('c')?.parse().ok()?, v.clone())))
        .collect();
    let scores = super::check_scores(&criteria, &given)?;
    store::save_scores(&mut tx.conn(), &user.actor(), Utc::now(), a.id, &scores).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/expert/funding/{id}"),
        "flash.funding_saved",
    ))
}
