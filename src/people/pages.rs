//! People and their roles in organizations (`/admin/people`), kept by the funding desk for the
//! conflict-of-interest check.

use super::store as people;
use super::{OrgRoleForm, PersonForm, PersonId};
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission, UserId, require};
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

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/people", get(people_page).post(create_person))
        .route("/admin/people/{id}", get(person_page))
        .route("/admin/people/{id}/roles", post(add_role))
        .route("/admin/people/{id}/account", post(link_account))
}

/// The actor of a people write (or read), after checking ManageFunding (audited when refused).
async fn staff(app: &AppState, user: &CurrentUser) -> Result<crate::audit::Actor> {
    require(app, user, Permission::ManageFunding).await?;
    Ok(user.actor())
}

#[derive(Template)]
#[template(path = "people/list.html")]
struct PeoplePage {
    layout: Layout,
    people: Vec<people::PersonRow>,
}

async fn people_page(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    staff(&app, &user).await?;
    let mut conn = app.db.acquire().await?;
    let list = people::list(&mut conn.conn()).await?;
    let layout = ctx.layout("people.title");
    page(
        &PeoplePage {
            layout: layout.clone(),
            people: list,
        },
        &layout,
    )
}

async fn create_person(
    State(app): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PersonForm>,
) -> Result<Response> {
    let actor = staff(&app, &user).await?;
    let new = form.parse()?;
    let mut tx = app.db.begin().await?;
    let id = people::create_person(&mut tx.conn(), &actor, Utc::now(), &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/people/{}", id.0),
        "flash.funding_saved",
    ))
}

#[derive(Template)]
#[template(path = "people/show.html")]
struct PersonPage {
    layout: Layout,
    person: people::PersonRow,
    roles: Vec<(String, &'static str, String, String)>,
    role_kinds: Vec<(&'static str, &'static str)>,
}

async fn person_page(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    staff(&app, &user).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let person = people::get(&mut conn.conn(), PersonId(id)).await?;
    let roles = people::roles_of(&mut conn.conn(), PersonId(id))
        .await?
        .into_iter()
        .map(|r| {
            (
                r.org_name.clone(),
                lang.t(&r.role().key()),
                r.started_on.to_string(),
                r.ended_on.map_or(String::new(), |d| d.to_string()),
            )
        })
        .collect();
    let layout = ctx.layout_titled(person.name.clone());
    page(
        &PersonPage {
            layout: layout.clone(),
            person,
            roles,
            role_kinds: crate::people::OrgRole::ALL
                .iter()
                .map(|r| (r.as_str(), lang.t(&r.key())))
                .collect(),
        },
        &layout,
    )
}

async fn add_role(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<OrgRoleForm>,
) -> Result<Response> {
    let actor = staff(&app, &user).await?;
    let new = form.parse()?;
    let mut tx = app.db.begin().await?;
    people::get(&mut tx.conn(), PersonId(id)).await?;
    people::add_role(&mut tx.conn(), &actor, Utc::now(), PersonId(id), &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/people/{id}"),
        "flash.funding_saved",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccountForm {
    username: String,
}

async fn link_account(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<AccountForm>,
) -> Result<Response> {
    let actor = staff(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    people::get(&mut tx.conn(), PersonId(id)).await?;
    let account: Option<(i64,)> = crate::db::Sql::new("select id from users where username = $1")
        .arg(form.username.trim())
        .fetch_optional(&mut tx.conn())
        .await?;
    let (uid,) = account.ok_or_else(|| Error::field("username", Msg::new("error.field.choice")))?;
    people::link_account(
        &mut tx.conn(),
        &actor,
        Utc::now(),
        PersonId(id),
        UserId(uid),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/people/{id}"),
        "flash.funding_saved",
    ))
}
