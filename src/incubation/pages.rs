//! The staff overview (`/admin/incubation`), incubators (`/admin/incubators`), calls for entry
//! (`/admin/incubation-calls`), the public aggregate (`/api/v1/incubation/summary`) and the
//! incubation history shown on an organization's profile and admin page.
//! Selection and stays are in `stays.rs`.

use super::figures::{self, Figures};
use super::store::{self, IncubatorRow};
use super::{CallForm, IncubatorForm, IncubatorLevel, ServiceKind};
use crate::app::AppState;
use crate::areas::store::{self as areas, AreaRow};
use crate::auth::{CurrentUser, Permission, Scope, require};
use crate::db::Conn;
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use crate::web::{Layout, PageCtx, field_error, money, page_with_errors, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/incubation", get(overview))
        .route("/admin/incubators", post(create_incubator))
        .route(
            "/admin/incubators/{id}",
            get(show_incubator).post(update_incubator),
        )
        .route("/admin/incubation-calls", post(create_call))
        .route("/api/v1/incubation/summary", get(api_summary))
        .merge(super::stays::routes())
}

/// The incubation records `user` may manage: district-wide, or an area officer's subtree;
/// refused (and audited) otherwise.
pub async fn manage_scope(app: &AppState, user: &CurrentUser) -> Result<Scope> {
    require(app, user, Permission::ManageIncubation).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AreaQuery {
    area: String,
}

/// The area a query names (unknown: not found), or the root of the caller's reach.
async fn area_of(c: &mut Conn<'_>, scope: &Scope, code: &str) -> Result<AreaRow> {
    let code = code.trim();
    let area = if !code.is_empty() {
        areas::find_by_code(c, code).await?.ok_or(Error::NotFound)?
    } else {
        match scope {
            Scope::Limited { areas: roots, .. } if !roots.is_empty() => {
                areas::find(c, roots[0]).await?.ok_or(Error::NotFound)?
            }
            _ => areas::root(c).await?.ok_or(Error::NotFound)?,
        }
    };
    // An area outside the caller's reach answers as if it did not exist.
    if let Scope::Limited { areas: roots, .. } = scope {
        let path = areas::path(c, area.area_id()).await?;
        if !path.iter().any(|a| roots.contains(&a.area_id())) {
            return Err(Error::NotFound);
        }
    }
    Ok(area)
}

/// The domain names of a stored focus list.
pub fn focus_names(
    focus: &str,
    domains: &[crate::registry::store::DomainRow],
    lang: Lang,
) -> String {
    focus
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| {
            domains.iter().find(|d| d.code == c).map_or(c, |d| {
                if lang == Lang::En {
                    d.name_en.as_str()
                } else {
                    d.name_zh.as_str()
                }
            })
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// One line of a figures table, formatted.
pub struct FigureLine {
    /// Link target (area code), empty for a level line.
    code: String,
    /// Level or area name.
    name: String,
    incubators: i64,
    capacity: String,
    incubating: i64,
    graduated: i64,
}

/// An incubator line of the overview.
pub struct IncubatorLine {
    id: i64,
    name: String,
    level: &'static str,
    area: String,
    focus: String,
    places: String,
}

fn incubator_line(
    i: &IncubatorRow,
    domains: &[crate::registry::store::DomainRow],
    lang: Lang,
) -> IncubatorLine {
    IncubatorLine {
        id: i.id,
        name: i.name.clone(),
        level: i.level().label(lang),
        area: i.area_name.clone(),
        focus: focus_names(&i.focus, domains, lang),
        places: format!("{} / {}", i.hosting, i.capacity),
    }
}

#[derive(Template)]
#[template(path = "incubation/overview.html")]
struct OverviewPage {
    layout: Layout,
    area: AreaRow,
    f: Figures,
    subsidies: String,
    levels: Vec<FigureLine>,
    by_area: Vec<FigureLine>,
    incubators: Vec<IncubatorLine>,
    level_options: Vec<(&'static str, &'static str)>,
    form: IncubatorForm,
    errors: Vec<(String, String)>,
}

impl OverviewPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

async fn overview_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    code: &str,
    form: IncubatorForm,
    errors: &FieldErrors,
) -> Result<Response> {
    let scope = manage_scope(app, user).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let area = area_of(&mut c, &scope, code).await?;
    let f = figures::figures(&mut c, &scope, &area).await?;
    let domains = crate::registry::store::list_domains(&mut c).await?;
    let list = store::incubators(&mut c, &scope, Some(area.area_id())).await?;
    let view = OverviewPage {
        layout: ctx.layout_titled(format!("{} · {}", lang.t("incubation.title"), area.name)),
        subsidies: money(f.subsidies_fen, lang),
        levels: f
            .by_level
            .iter()
            .map(|l| FigureLine {
                code: String::new(),
                name: IncubatorLevel::parse(&l.level)
                    .map_or("", |x| x.label(lang))
                    .to_owned(),
                incubators: l.incubators,
                capacity: l.capacity.to_string(),
                incubating: l.incubating,
                graduated: l.graduated,
            })
            .collect(),
        by_area: f
            .by_area
            .iter()
            .map(|a| FigureLine {
                code: a.code.clone(),
                name: a.name.clone(),
                incubators: a.incubators,
                capacity: String::new(),
                incubating: a.incubating,
                graduated: a.graduated,
            })
            .collect(),
        incubators: list
            .iter()
            .map(|i| incubator_line(i, &domains, lang))
            .collect(),
        level_options: IncubatorLevel::ALL
            .iter()
            .map(|l| (l.as_str(), l.label(lang)))
            .collect(),
        form,
        errors: errors.render(lang),
        f,
        area,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn overview(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<AreaQuery>,
) -> Result<Response> {
    overview_page(
        &app,
        &ctx,
        &user,
        &q.area,
        IncubatorForm::default(),
        &FieldErrors::new(),
    )
    .await
}

async fn create_incubator(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<IncubatorForm>,
) -> Result<Response> {
    let scope = manage_scope(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let outcome = match form.parse() {
        Ok(new) => match area_of(&mut c, &scope, &form.area_code).await {
            Ok(area) => {
                let at = crate::clock::now(&mut c).await?;
                store::create_incubator(&mut c, &user.actor(), at, &area, &new).await
            }
            Err(Error::NotFound) => Err(Error::field("area_code", Msg::new("error.field.choice"))),
            Err(e) => Err(e),
        },
        Err(e) => Err(Error::Invalid(e)),
    };
    match outcome {
        Ok(id) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/incubators/{id}"),
                "flash.incubation_saved",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            overview_page(&app, &ctx, &user, "", form, &errors).await
        }
        Err(e) => Err(e),
    }
}

/// A call line of the incubator page.
pub struct CallLine {
    id: i64,
    title: String,
    dates: String,
    places: String,
}

/// An application line of the incubator page.
pub struct ApplicationLine {
    id: i64,
    call: String,
    name: String,
    registered: bool,
    contact: String,
    domain: String,
    plan: String,
    pending: bool,
    state: &'static str,
    reason: String,
    stay_id: Option<i64>,
}

/// A stay line.
pub struct StayLine {
    id: i64,
    name: String,
    entered_on: String,
    planned_end_on: String,
    state: String,
    subsidy: String,
}

/// The state of a stay for a reader: in incubation, or graduated / exited on a date.
pub fn stay_state(s: &store::stays::StayRow, lang: Lang) -> String {
    match (s.outcome(), s.ended_on) {
        (Some(o), Some(d)) => format!(
            "{} {d}",
            lang.t(&format!("incubation.outcome.{}", o.as_str()))
        ),
        _ => lang.t("incubation.incubating").to_owned(),
    }
}

/// A stay as a line of a table.
pub fn stay_line(s: &store::stays::StayRow, lang: Lang) -> StayLine {
    StayLine {
        id: s.id,
        name: s.org_name.clone().unwrap_or_else(|| s.group_name.clone()),
        entered_on: s.entered_on.to_string(),
        planned_end_on: s.planned_end_on.to_string(),
        state: stay_state(s, lang),
        subsidy: money(s.subsidy_fen, lang),
    }
}

#[derive(Template)]
#[template(path = "incubation/incubator.html")]
struct IncubatorPage {
    layout: Layout,
    inc: IncubatorRow,
    level: &'static str,
    focus: String,
    calls: Vec<CallLine>,
    applications: Vec<ApplicationLine>,
    stays: Vec<StayLine>,
    domains: Vec<(String, String)>,
    form: IncubatorForm,
    call: CallForm,
    errors: Vec<(String, String)>,
    today: String,
    planned: String,
}

impl IncubatorPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

/// Which of the incubator page's forms to refill after an error.
#[derive(Default)]
pub struct Refill {
    /// The incubator's own form.
    pub incubator: Option<IncubatorForm>,
    /// The new-call form.
    pub call: Option<CallForm>,
}

/// Renders incubator `id`'s page (calls, applications and their selection, stays), with the
/// errors of a form just posted.
pub async fn incubator_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: i64,
    refill: Refill,
    errors: &FieldErrors,
) -> Result<Response> {
    let scope = manage_scope(app, user).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let inc = store::incubator(&mut c, &scope, id).await?;
    let domains = crate::registry::store::list_domains(&mut c).await?;
    let domain_name = |code: &str| focus_names(code, &domains, lang);
    let calls = store::calls_of(&mut c, id)
        .await?
        .into_iter()
        .map(|k| CallLine {
            id: k.id,
            title: k.title,
            dates: format!("{} — {}", k.opens_on, k.closes_on),
            places: format!("{} / {}", k.accepted, k.places),
        })
        .collect();
    let applications = store::applications_to(&mut c, id)
        .await?
        .into_iter()
        .map(|a| ApplicationLine {
            id: a.id,
            call: a.call_title,
            registered: a.org_id.is_some(),
            name: a.group_name,
            contact: a.contact,
            domain: domain_name(&a.domain),
            plan: a.plan,
            pending: a.state == "pending",
            state: lang.t(&format!("incubation.state.{}", a.state)),
            reason: a.reason.unwrap_or_default(),
            stay_id: a.stay_id,
        })
        .collect();
    let stays = store::stays::stays_at(&mut c, id)
        .await?
        .iter()
        .map(|s| stay_line(s, lang))
        .collect();
    let today = crate::clock::today(&mut c).await?;
    let view = IncubatorPage {
        layout: ctx.layout_titled(inc.name.clone()),
        level: inc.level().label(lang),
        focus: focus_names(&inc.focus, &domains, lang),
        calls,
        applications,
        stays,
        form: refill.incubator.unwrap_or_else(|| IncubatorForm {
            name: inc.name.clone(),
            level: inc.level.clone(),
            area_code: inc.area_code.clone(),
            focus: inc.focus.clone(),
            capacity: inc.capacity.to_string(),
            address: inc.address.clone(),
            operator: inc.operator.clone(),
        }),
        call: refill.call.unwrap_or_default(),
        domains: domains
            .iter()
            .filter(|d| d.active)
            .map(|d| {
                (
                    d.code.clone(),
                    if lang == Lang::En {
                        d.name_en.clone()
                    } else {
                        d.name_zh.clone()
                    },
                )
            })
            .collect(),
        errors: errors.render(lang),
        today: today.to_string(),
        planned: (today + chrono::Duration::days(365)).to_string(),
        inc,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn show_incubator(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    incubator_page(
        &app,
        &ctx,
        &user,
        id,
        Refill::default(),
        &FieldErrors::new(),
    )
    .await
}

#[derive(Deserialize)]
struct UpdateForm {
    #[serde(default)]
    version: i64,
    #[serde(flatten)]
    inc: IncubatorForm,
}

async fn update_incubator(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<UpdateForm>,
) -> Result<Response> {
    let scope = manage_scope(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let current = store::incubator(&mut c, &scope, id).await?;
    // Level and area stay as they are; the form shows them for reference.
    let typed = IncubatorForm {
        level: current.level.clone(),
        area_code: current.area_code.clone(),
        ..form.inc.clone()
    };
    let outcome = match typed.parse() {
        Ok(new) => {
            let at = crate::clock::now(&mut c).await?;
            store::update_incubator(&mut c, &user.actor(), at, &current, form.version, &new).await
        }
        Err(e) => Err(Error::Invalid(e)),
    };
    match outcome {
        Ok(()) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/incubators/{id}"),
                "flash.incubation_saved",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            let refill = Refill {
                incubator: Some(typed),
                call: None,
            };
            incubator_page(&app, &ctx, &user, id, refill, &errors).await
        }
        Err(e) => Err(e),
    }
}

async fn create_call(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<CallForm>,
) -> Result<Response> {
    let scope = manage_scope(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    // An incubator that does not exist, or lies outside the caller's area, is a bad field.
    let incubator = match form.incubator.trim().parse::<i64>() {
        Ok(id) => match store::incubator(&mut c, &scope, id).await {
            Ok(i) => Some(i),
            Err(Error::NotFound) => None,
            Err(e) => return Err(e),
        },
        Err(_) => None,
    };
    let Some(incubator) = incubator else {
        let mut errors = FieldErrors::new();
        errors.add("incubator", Msg::new("incubation.error.unknown_incubator"));
        if let Err(e) = form.parse() {
            errors.0.extend(e.0);
        }
        return Err(Error::Invalid(errors));
    };
    let outcome = match form.parse() {
        Ok(new) => {
            let at = crate::clock::now(&mut c).await?;
            store::create_call(&mut c, &user.actor(), at, &incubator, &new).await
        }
        Err(e) => Err(Error::Invalid(e)),
    };
    match outcome {
        Ok(_) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/incubators/{}", incubator.id),
                "flash.incubation_saved",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            let refill = Refill {
                incubator: None,
                call: Some(form),
            };
            incubator_page(&app, &ctx, &user, incubator.id, refill, &errors).await
        }
        Err(e) => Err(e),
    }
}

/// `GET /api/v1/incubation/summary?area=`: the published incubation figures of an area —
/// incubators and places, graduated, in incubation and exited, micro-subsidies in yuan and fen,
/// by level and by child area. No names of groups or people.
async fn api_summary(State(app): State<AppState>, Query(q): Query<AreaQuery>) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let area = area_of(&mut c, &Scope::Public, &q.area).await?;
    let f = figures::figures(&mut c, &Scope::Public, &area).await?;
    Ok(Json(serde_json::json!({
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "incubators": f.incubators,
        "capacity": f.capacity,
        "graduated": f.graduated,
        "incubating": f.incubating,
        "exited": f.exited,
        "subsidies_fen": f.subsidies_fen,
        "subsidies_yuan": f.subsidies_fen as f64 / 100.0,
        "by_level": f.by_level,
        "by_area": f.by_area,
    }))
    .into_response())
}

/// One stay of an organization's incubation history, as the profile shows it.
pub struct HistoryLine {
    /// The incubator's name.
    pub incubator: String,
    /// Its level.
    pub level: &'static str,
    /// 入孵日期.
    pub entered_on: String,
    /// In incubation, or graduated / exited with the date.
    pub state: String,
    /// (kind, date, what, amount) of each service.
    pub services: Vec<(&'static str, String, String, String)>,
    /// Micro-subsidies in all.
    pub subsidy: String,
}

/// The incubation history of organization `org` (public: incubators, dates, outcome, services
/// and subsidies; no reasons, no contacts).
pub async fn history(
    c: &mut Conn<'_>,
    org: crate::registry::OrgId,
    lang: Lang,
) -> Result<Vec<HistoryLine>> {
    let stays = store::stays::stays_of_org(c, org).await?;
    let ids: Vec<i64> = stays.iter().map(|s| s.id).collect();
    let services = store::stays::services(c, &ids).await?;
    Ok(stays
        .iter()
        .map(|s| HistoryLine {
            incubator: s.incubator_name.clone(),
            level: IncubatorLevel::parse(&s.incubator_level).map_or("", |l| l.label(lang)),
            entered_on: s.entered_on.to_string(),
            state: stay_state(s, lang),
            services: services
                .iter()
                .filter(|v| v.stay_id == s.id)
                .map(|v| {
                    (
                        ServiceKind::parse(&v.kind).map_or("", |k| k.label(lang)),
                        v.given_on.to_string(),
                        v.description.clone(),
                        v.amount_fen.map(|f| money(f, lang)).unwrap_or_default(),
                    )
                })
                .collect(),
            subsidy: money(s.subsidy_fen, lang),
        })
        .collect())
}
