//! The network view (`/admin/network`), federations (`/admin/federations`), liaison points
//! (`/admin/liaison-points`) and the public aggregate (`/api/v1/network`).

use super::store::{self, FederationRow, NodeFigures};
use super::{FederationForm, LiaisonForm, share};
use crate::app::AppState;
use crate::areas::AreaLevel;
use crate::areas::store::{self as areas, AreaRow};
use crate::auth::{CurrentUser, Permission, Scope, require};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::Msg;
use crate::web::{Layout, PageCtx, field_error, page_with_errors, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/network", get(network))
        .route("/admin/federations", post(create_federation))
        .route(
            "/admin/federations/{id}",
            get(show_federation).post(update_federation),
        )
        .route("/admin/federations/{id}/members", post(admit))
        .route(
            "/admin/federations/{id}/members/{member}/leave",
            post(leave),
        )
        .route(
            "/admin/liaison-points",
            get(liaison_points).post(save_liaison_point),
        )
        .route("/api/v1/network", get(api_network))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AreaQuery {
    area: String,
}

/// The area a query names: the given code, or the root of the caller's reach.
async fn area_of(c: &mut crate::db::Conn<'_>, scope: &Scope, code: &str) -> Result<AreaRow> {
    let code = code.trim();
    if !code.is_empty() {
        return areas::find_by_code(c, code).await?.ok_or(Error::NotFound);
    }
    match scope {
        Scope::Limited { areas: roots, .. } if !roots.is_empty() => {
            let path = areas::path(c, roots[0]).await?;
            path.into_iter().last().ok_or(Error::NotFound)
        }
        _ => areas::list_all(c)
            .await?
            .into_iter()
            .find(|a| a.parent_id.is_none())
            .ok_or(Error::NotFound),
    }
}

/// Refuses an area outside the caller's reach (as if it did not exist); accounts tied to
/// organizations only have no area to look at.
async fn check_reach(c: &mut crate::db::Conn<'_>, scope: &Scope, area: &AreaRow) -> Result<()> {
    match scope {
        Scope::All | Scope::Public => Ok(()),
        Scope::Limited { areas: roots, .. } if roots.is_empty() => Err(Error::Forbidden),
        Scope::Limited { areas: roots, .. } => {
            let path = areas::path(c, area.area_id()).await?;
            if path.iter().any(|a| roots.contains(&a.area_id())) {
                Ok(())
            } else {
                Err(Error::NotFound)
            }
        }
    }
}

/// One line of the network table.
pub struct NodeLine {
    /// Division code (empty for the "located here" line).
    code: String,
    /// Name.
    name: String,
    /// Has children to drill into.
    drill: bool,
    /// Its figures.
    f: NodeFigures,
    /// Liaison coverage as a percentage.
    coverage: String,
    /// Party coverage as a percentage.
    party: String,
    /// Its federation, for a street.
    federation: Option<(i64, String)>,
}

#[derive(Template)]
#[template(path = "hubs/network.html")]
struct NetworkPage {
    layout: Layout,
    crumbs: Vec<(String, String)>,
    area: AreaRow,
    total: NodeLine,
    lines: Vec<NodeLine>,
    directly: i64,
    can_edit: bool,
    street: bool,
    errors: Vec<(String, String)>,
    form: FederationForm,
}

impl NetworkPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

async fn node_line(
    c: &mut crate::db::Conn<'_>,
    a: &AreaRow,
    federations: &[FederationRow],
) -> Result<NodeLine> {
    let f = store::figures(c, a.area_id()).await?;
    Ok(NodeLine {
        code: a.code.clone(),
        name: a.name.clone(),
        drill: a.level() != AreaLevel::Community,
        coverage: share(f.with_liaison_point, f.communities),
        party: share(f.party_covered, f.organizations),
        federation: federations
            .iter()
            .find(|x| x.area_id == a.id)
            .map(|x| (x.id, x.name.clone())),
        f,
    })
}

async fn network_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    code: &str,
    form: FederationForm,
    errors: &FieldErrors,
) -> Result<Response> {
    let scope = require(app, user, Permission::ViewRegistry).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let area = area_of(&mut c, &scope, code).await?;
    check_reach(&mut c, &scope, &area).await?;
    let federations = store::federations_under(&mut c, area.area_id()).await?;
    let total = node_line(&mut c, &area, &federations).await?;
    let mut lines = Vec::new();
    for child in areas::children(&mut c, area.area_id()).await? {
        lines.push(node_line(&mut c, &child, &federations).await?);
    }
    let crumbs = areas::path(&mut c, area.area_id())
        .await?
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect();
    let view = NetworkPage {
        layout: ctx.layout_titled(format!(
            "{} · {}",
            ctx.lang.t("hubs.network.title"),
            area.name
        )),
        crumbs,
        directly: store::located_directly(&mut c, area.area_id()).await?,
        can_edit: user.can(Permission::EditRegistry),
        street: area.level() == AreaLevel::Street,
        total,
        lines,
        errors: errors.render(ctx.lang),
        form,
        area,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn network(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<AreaQuery>,
) -> Result<Response> {
    network_page(
        &app,
        &ctx,
        &user,
        &q.area,
        FederationForm::default(),
        &FieldErrors::new(),
    )
    .await
}

/// Federation `id`, if the caller may change it (they edit the registry in its street).
async fn editable_federation(
    c: &mut crate::db::Conn<'_>,
    user: &CurrentUser,
    id: i64,
) -> Result<FederationRow> {
    let fed = store::federation(c, id).await?;
    let street = areas::find_by_code(c, &fed.area_code)
        .await?
        .ok_or(Error::NotFound)?;
    require_edit(c, user, &street).await?;
    Ok(fed)
}

/// The caller may change hub records of `area` (staff who edit the registry there).
///
/// The handlers that write have already passed `require` (which audits a refusal); this only
/// narrows to the area, so pages can also ask it to decide whether to show their forms without
/// filling the audit log with refusals.
async fn require_edit(
    c: &mut crate::db::Conn<'_>,
    user: &CurrentUser,
    area: &AreaRow,
) -> Result<()> {
    let scope = user.scope(Permission::EditRegistry);
    if scope.is_empty() {
        return Err(Error::Forbidden);
    }
    check_reach(c, &scope, area).await
}

async fn create_federation(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<FederationForm>,
) -> Result<Response> {
    require(&app, &user, Permission::EditRegistry).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let street = areas::find_by_code(&mut c, form.area_code.trim())
        .await?
        .ok_or_else(|| Error::field("area_code", Msg::new("error.field.choice")))?;
    require_edit(&mut c, &user, &street).await?;
    let outcome = match form.parse() {
        Ok(f) => {
            let at = crate::clock::now(&mut c).await?;
            store::create_federation(&mut c, &user.actor(), at, &street, &f).await
        }
        Err(e) => Err(Error::Invalid(e)),
    };
    match outcome {
        Ok(id) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/federations/{id}"),
                "flash.federation_saved",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            network_page(&app, &ctx, &user, &street.code, form, &errors).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "hubs/federation.html")]
struct FederationPage {
    layout: Layout,
    fed: FederationRow,
    members: Vec<(i64, String, &'static str, String, String)>,
    current: usize,
    can_edit: bool,
    form: FederationForm,
    errors: Vec<(String, String)>,
    today: String,
}

impl FederationPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

async fn federation_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: i64,
    form: Option<FederationForm>,
    errors: &FieldErrors,
) -> Result<Response> {
    let scope = require(app, user, Permission::ViewRegistry).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let fed = store::federation(&mut c, id).await?;
    let street = areas::find_by_code(&mut c, &fed.area_code)
        .await?
        .ok_or(Error::NotFound)?;
    check_reach(&mut c, &scope, &street).await?;
    let rows = store::members(&mut c, id).await?;
    let lang = ctx.lang;
    let view = FederationPage {
        layout: ctx.layout_titled(fed.name.clone()),
        current: rows.iter().filter(|m| m.left_on.is_none()).count(),
        members: rows
            .iter()
            .map(|m| {
                let kind =
                    crate::registry::OrgKind::parse(&m.org_kind).map_or("", |k| k.label(lang));
                (
                    m.id,
                    m.org_name.clone(),
                    kind,
                    m.joined_on.to_string(),
                    m.left_on.map(|d| d.to_string()).unwrap_or_default(),
                )
            })
            .collect(),
        can_edit: require_edit(&mut c, user, &street).await.is_ok(),
        form: form.unwrap_or_else(|| FederationForm {
            area_code: fed.area_code.clone(),
            name: fed.name.clone(),
            founded_on: fed.founded_on.map(|d| d.to_string()).unwrap_or_default(),
            chair: fed.chair.clone(),
            secretary_general: fed.secretary_general.clone(),
            contact_phone: fed.contact_phone.clone(),
        }),
        errors: errors.render(lang),
        today: crate::clock::today(&mut c).await?.to_string(),
        fed,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn show_federation(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    federation_page(&app, &ctx, &user, id, None, &FieldErrors::new()).await
}

#[derive(Deserialize)]
struct UpdateForm {
    #[serde(default)]
    version: i64,
    #[serde(flatten)]
    fed: FederationForm,
}

async fn update_federation(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<UpdateForm>,
) -> Result<Response> {
    require(&app, &user, Permission::EditRegistry).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    editable_federation(&mut c, &user, id).await?;
    let parsed = match form.fed.parse() {
        Ok(f) => f,
        Err(errors) => {
            drop(tx);
            return federation_page(&app, &ctx, &user, id, Some(form.fed), &errors).await;
        }
    };
    let at = crate::clock::now(&mut c).await?;
    store::update_federation(&mut c, &user.actor(), at, id, form.version, &parsed).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/federations/{id}"),
        "flash.federation_saved",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AdmitForm {
    org: String,
    joined_on: String,
}

async fn admit(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<AdmitForm>,
) -> Result<Response> {
    require(&app, &user, Permission::EditRegistry).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let fed = editable_federation(&mut c, &user, id).await?;
    let today = crate::clock::today(&mut c).await?;
    let key = form.org.trim();
    let org = match crate::registry::api::find_by_key(&mut c, &Scope::All, key).await? {
        Some(o) => Some(o),
        None if !key.is_empty() => {
            crate::registry::store::find_by_name(&mut c, &Scope::All, key).await?
        }
        None => None,
    };
    let mut errors = FieldErrors::new();
    if org.is_none() {
        errors.add("org", Msg::new("credit.error.org"));
    }
    let joined_on = match form.joined_on.trim() {
        "" => Some(today),
        s => s
            .parse::<NaiveDate>()
            .ok()
            .filter(|d| *d <= today)
            .or_else(|| {
                errors.add("joined_on", Msg::new("hubs.error.joined_on"));
                None
            }),
    };
    if let (Some(org), Some(joined_on), true) = (org, joined_on, errors.is_empty()) {
        let at = crate::clock::now(&mut c).await?;
        match store::admit(&mut c, &user.actor(), at, &fed, org.id, joined_on).await {
            Ok(_) => {
                tx.commit().await?;
                return Ok(redirect_with_flash(
                    &format!("/admin/federations/{id}"),
                    "flash.member_admitted",
                ));
            }
            Err(Error::Invalid(e)) => errors = e,
            Err(e) => return Err(e),
        }
    }
    drop(tx);
    federation_page(&app, &ctx, &user, id, None, &errors).await
}

async fn leave(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, member)): Path<(i64, i64)>,
) -> Result<Response> {
    require(&app, &user, Permission::EditRegistry).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    editable_federation(&mut c, &user, id).await?;
    let today = crate::clock::today(&mut c).await?;
    let at = crate::clock::now(&mut c).await?;
    store::leave(&mut c, &user.actor(), at, id, member, today).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/federations/{id}"),
        "flash.member_left",
    ))
}

#[derive(Template)]
#[template(path = "hubs/liaison.html")]
struct LiaisonPage {
    layout: Layout,
    street: AreaRow,
    /// (community code, name, its point if any).
    communities: Vec<(String, String, Option<store::LiaisonRow>)>,
    covered: usize,
    can_edit: bool,
    form: LiaisonForm,
    errors: Vec<(String, String)>,
}

impl LiaisonPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

async fn liaison_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    code: &str,
    form: LiaisonForm,
    errors: &FieldErrors,
) -> Result<Response> {
    let scope = require(app, user, Permission::ViewRegistry).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let area = area_of(&mut c, &scope, code).await?;
    check_reach(&mut c, &scope, &area).await?;
    // A community's page is its street's list.
    let street = if area.level() == AreaLevel::Community {
        let path = areas::path(&mut c, area.area_id()).await?;
        path.into_iter().rev().nth(1).unwrap_or(area)
    } else {
        area
    };
    let points = store::liaison_points_under(&mut c, street.area_id()).await?;
    let mut communities = Vec::new();
    for child in areas::children(&mut c, street.area_id()).await? {
        if child.level() == AreaLevel::Community {
            let point = points.iter().find(|p| p.area_id == child.id).cloned();
            communities.push((child.code, child.name, point));
        }
    }
    let view = LiaisonPage {
        layout: ctx.layout_titled(format!(
            "{} · {}",
            ctx.lang.t("hubs.liaison.title"),
            street.name
        )),
        covered: communities.iter().filter(|(_, _, p)| p.is_some()).count(),
        communities,
        can_edit: require_edit(&mut c, user, &street).await.is_ok(),
        form,
        errors: errors.render(ctx.lang),
        street,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn liaison_points(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<AreaQuery>,
) -> Result<Response> {
    liaison_page(
        &app,
        &ctx,
        &user,
        &q.area,
        LiaisonForm::default(),
        &FieldErrors::new(),
    )
    .await
}

async fn save_liaison_point(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<LiaisonForm>,
) -> Result<Response> {
    require(&app, &user, Permission::EditRegistry).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let community = areas::find_by_code(&mut c, form.area_code.trim())
        .await?
        .ok_or_else(|| Error::field("area_code", Msg::new("error.field.choice")))?;
    require_edit(&mut c, &user, &community).await?;
    let outcome = match form.parse() {
        Ok(p) => {
            let at = crate::clock::now(&mut c).await?;
            store::save_liaison_point(&mut c, &user.actor(), at, &community, &p).await
        }
        Err(e) => Err(Error::Invalid(e)),
    };
    match outcome {
        Ok(_) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/liaison-points?area={}", community.code),
                "flash.liaison_saved",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            liaison_page(&app, &ctx, &user, &community.code, form, &errors).await
        }
        Err(e) => Err(e),
    }
}

/// `GET /api/v1/network?area=`: the published aggregates of an area and each child area
/// (organizations by kind, federations and their members, liaison coverage); no names of
/// people, no telephone numbers.
async fn api_network(State(app): State<AppState>, Query(q): Query<AreaQuery>) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let area = area_of(&mut c, &Scope::All, &q.area).await?;
    let figures = store::figures(&mut c, area.area_id()).await?;
    let mut children = Vec::new();
    for child in areas::children(&mut c, area.area_id()).await? {
        let f = store::figures(&mut c, child.area_id()).await?;
        children.push(serde_json::json!({ "code": child.code, "name": child.name, "level": child.level, "figures": f }));
    }
    Ok(Json(serde_json::json!({
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "figures": figures,
        "located_directly": store::located_directly(&mut c, area.area_id()).await?,
        "children": children,
    }))
    .into_response())
}
