//! The party-building desk (`/admin/party`), a party organization's page and its forms, the
//! instructors (`/admin/party/instructors`), an instructor's own organizations
//! (`/admin/party/mine`), and the public aggregate counts (`/api/v1/party/summary`).

use super::assessment_pages::AssessmentLine;
use super::coverage::{self, AssignmentLine, CoverageLine, InstructorRow, Summary};
use super::funding::{self, Funding, FundingLine, PaymentRow};
use super::store::{self, ActivityRow, CadreRow, EndedLine, Filter, OrgLine, PartyOrgRow};
use super::{
    ACTIVITY_KINDS, ActivityForm, CadreForm, Form, InstructorForm, InstructorId, Level,
    PartyOrgForm, PartyOrgId, PaymentForm,
};
use crate::api::ApiError;
use crate::app::AppState;
use crate::areas::AreaId;
use crate::auth::{CurrentUser, Permission, Role, Scope, require};
use crate::error::{Error, Result};
use crate::i18n::{Lang, Msg};
use crate::web::{Layout, PageCtx, money, page, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form as PostForm, Json, Router};
use chrono::Datelike;
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/party", get(desk).post(create_party_org))
        .route("/admin/party/mine", get(mine))
        .route(
            "/admin/party/instructors",
            get(instructors).post(create_instructor),
        )
        .route(
            "/admin/party/instructors/{id}/orgs",
            post(assign_instructor),
        )
        .route("/admin/party/payments", post(record_payment))
        .route("/admin/party/{id}", get(show).post(update_party_org))
        .route("/admin/party/{id}/orgs", post(add_org))
        .route("/admin/party/{id}/cadres", post(add_cadre))
        .route("/admin/party/{id}/activities", post(add_activity))
        .route("/admin/party/{id}/mechanisms", post(save_mechanisms))
        .route("/admin/party/{id}/dissolve", post(dissolve))
        .route("/admin/party/{id}/orgs/{org}/end", post(remove_org))
        .route("/admin/party/{id}/cadres/{cadre}/end", post(end_cadre))
        .route(
            "/admin/party/instructors/{id}/orgs/{org}/end",
            post(end_assignment),
        )
        .route("/api/v1/party/summary", get(api_summary))
        .merge(super::assessment_pages::routes())
}

/// The party records `user` may see in detail: district-wide for the party committee and
/// administrators; an instructor's granted and assigned organizations; otherwise refused.
pub(super) async fn view_scope(app: &AppState, user: &CurrentUser) -> Result<Scope> {
    let scope = user.scope(Permission::ViewParty);
    if scope == Scope::All {
        return Ok(Scope::All);
    }
    if !user.can(Permission::ViewParty) {
        return require(app, user, Permission::ViewParty).await;
    }
    let mut orgs = match scope {
        Scope::Limited { orgs, .. } => orgs,
        _ => Vec::new(),
    };
    let mut conn = app.db.acquire().await?;
    orgs.extend(coverage::instructor_org_ids(&mut conn.conn(), user.id).await?);
    orgs.sort();
    orgs.dedup();
    Ok(Scope::orgs(orgs))
}

/// The actor of a party write, after checking ManageParty (audited when refused).
pub(super) async fn manager(app: &AppState, user: &CurrentUser) -> Result<crate::audit::Actor> {
    require(app, user, Permission::ManageParty).await?;
    Ok(user.actor())
}

pub(super) async fn area_of(c: &mut crate::db::Conn<'_>, code: &str) -> Result<Option<AreaId>> {
    if code.trim().is_empty() {
        return Ok(None);
    }
    crate::areas::store::find_by_code(c, code.trim())
        .await?
        .map(|a| Some(a.area_id()))
        .ok_or_else(|| Error::field("area", Msg::new("error.field.choice")))
}

/// A party organization, formatted for the list.
pub struct PartyLine {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Form in words.
    pub form: &'static str,
    /// Level in words.
    pub level: &'static str,
    /// Full + probationary.
    pub members: i64,
    /// The level does not fit the member count.
    pub flagged: bool,
    /// Organizations covered.
    pub covered: i64,
    /// Area of the organization it sits in.
    pub area: String,
    /// Dissolved.
    pub dissolved: bool,
}

impl PartyLine {
    fn of(r: &PartyOrgRow, lang: Lang) -> PartyLine {
        PartyLine {
            id: r.id,
            name: r.name.clone(),
            form: r.form().label(lang),
            level: r.level().label(lang),
            members: r.members(),
            flagged: r.level_mismatch(),
            covered: r.covered,
            area: r.area_name.clone(),
            dissolved: r.dissolved_on.is_some(),
        }
    }
}

/// A funding line, formatted.
pub struct MoneyLine {
    /// Area ("total" line: the catalogue's word).
    pub area: String,
    /// Party organizations funded.
    pub party_orgs: i64,
    /// Cadres funded.
    pub cadres: i64,
    /// Organizations' allowances.
    pub orgs: String,
    /// Cadres' allowances.
    pub cadres_money: String,
    /// Budget.
    pub budget: String,
    /// Paid.
    pub paid: String,
}

impl MoneyLine {
    fn of(l: &FundingLine, area: String, lang: Lang) -> MoneyLine {
        MoneyLine {
            area,
            party_orgs: l.party_orgs,
            cadres: l.cadres,
            orgs: money(l.orgs_fen, lang),
            cadres_money: money(l.cadres_fen, lang),
            budget: money(l.budget_fen(), lang),
            paid: money(l.paid_fen, lang),
        }
    }

    fn table(f: &Funding, lang: Lang) -> Vec<MoneyLine> {
        let mut lines: Vec<MoneyLine> = f
            .lines
            .iter()
            .map(|l| MoneyLine::of(l, l.area_name.clone(), lang))
            .collect();
        lines.push(MoneyLine::of(
            &f.total,
            lang.t("party.funding.total").to_owned(),
            lang,
        ));
        lines
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeskQuery {
    form: String,
    level: String,
    area: String,
    flagged: String,
    year: String,
}

#[derive(Template)]
#[template(path = "party/desk.html")]
struct DeskPage {
    layout: Layout,
    details: bool,
    can_manage: bool,
    q: DeskQuery,
    year: i32,
    summary: Summary,
    lines: Vec<PartyLine>,
    uncovered: Vec<CoverageLine>,
    funding: Vec<MoneyLine>,
    forms: Vec<(&'static str, &'static str)>,
    levels: Vec<(&'static str, &'static str)>,
}

async fn desk(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<DeskQuery>,
) -> Result<Response> {
    let (scope, details) = if user.can(Permission::ViewParty) {
        (view_scope(&app, &user).await?, true)
    } else {
        (
            require(&app, &user, Permission::ViewPartyFigures).await?,
            false,
        )
    };
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let area = area_of(&mut c, &q.area).await?;
    let year = crate::clock::report_year(&q.year, today)?;
    let summary = coverage::summary(&mut c, &scope, area).await?;
    let funding = funding::funding(&mut c, &scope, area, year).await?;
    let (lines, uncovered) = if details {
        let filter = Filter {
            form: Form::parse(&q.form),
            level: Level::parse(&q.level),
            area,
            flagged: !q.flagged.is_empty(),
        };
        let rows = store::list(&mut c, &scope, &filter).await?;
        (
            rows.iter().map(|r| PartyLine::of(r, lang)).collect(),
            coverage::uncovered(&mut c, &scope, area, 200).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let template = DeskPage {
        layout: ctx.layout("party.title"),
        details,
        can_manage: user.can(Permission::ManageParty),
        q,
        year,
        summary,
        lines,
        uncovered,
        funding: MoneyLine::table(&funding, lang),
        forms: Form::ALL
            .iter()
            .map(|f| (f.as_str(), f.label(lang)))
            .collect(),
        levels: Level::ALL
            .iter()
            .map(|l| (l.as_str(), l.label(lang)))
            .collect(),
    };
    page(&template, &template.layout)
}

async fn create_party_org(
    State(app): State<AppState>,
    user: CurrentUser,
    PostForm(form): PostForm<PartyOrgForm>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let new = form.parse(true).map_err(Error::Invalid)?;
    let mut tx = app.db.begin().await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    let id = store::create(&mut tx.conn(), &actor, at, &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/party/{}", id.0),
        "flash.party_saved",
    ))
}

#[derive(Template)]
#[template(path = "party/show.html")]
struct ShowPage {
    layout: Layout,
    can_manage: bool,
    row: PartyOrgRow,
    form: &'static str,
    level: &'static str,
    derived: &'static str,
    flagged: bool,
    orgs: Vec<OrgLine>,
    cadres: Vec<CadreRow>,
    activities: Vec<ActivityRow>,
    mechanisms: Vec<(&'static str, bool, String)>,
    payments: Vec<PaymentRow>,
    ended: Vec<EndedLine>,
    assessments: Vec<AssessmentLine>,
    assess_year: i32,
    forms: Vec<(&'static str, &'static str)>,
    levels: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    today: String,
}

impl ShowPage {
    fn kind_label(&self, kind: &str) -> &'static str {
        self.layout.t(&format!("party.activity.{kind}"))
    }

    fn mechanism_label(&self, m: &str) -> &'static str {
        self.layout.t(&format!("party.mechanism.{m}"))
    }

    fn yuan(&self, fen: &i64) -> String {
        crate::web::yuan(*fen)
    }
}

async fn show(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let scope = view_scope(&app, &user).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let id = PartyOrgId(id);
    let row = store::get(&mut c, &scope, id).await?;
    let today = crate::clock::today(&mut c).await?;
    let orgs = store::covered_orgs(&mut c, id).await?;
    let cadres = store::cadres(&mut c, id).await?;
    let activities = store::activities(&mut c, id).await?;
    let mechanisms = store::mechanisms(&mut c, id)
        .await?
        .into_iter()
        .map(|(m, ok, on)| (m, ok, on.map(|d| d.to_string()).unwrap_or_default()))
        .collect();
    let payments = funding::payments(&mut c, &scope, i64::from(today.year() - 1), Some(id)).await?;
    let ended = store::ended_orgs(&mut c, id).await?;
    let assessments =
        super::assessment::list(&mut c, &scope, &super::assessment::Filter::default())
            .await?
            .into_iter()
            .filter(|a| a.party_org_id == id.0)
            .map(|a| AssessmentLine::of(a, lang))
            .collect();
    let template = ShowPage {
        layout: ctx.layout_titled(row.name.clone()),
        can_manage: user.can(Permission::ManageParty),
        form: row.form().label(lang),
        level: row.level().label(lang),
        derived: Level::derived(row.members())
            .map_or_else(|| lang.t("party.level.none"), |l| l.label(lang)),
        flagged: row.level_mismatch(),
        row,
        orgs,
        cadres,
        activities,
        mechanisms,
        payments,
        ended,
        assessments,
        assess_year: today.year() - 1,
        forms: Form::ALL
            .iter()
            .map(|f| (f.as_str(), f.label(lang)))
            .collect(),
        levels: Level::ALL
            .iter()
            .map(|l| (l.as_str(), l.label(lang)))
            .collect(),
        kinds: ACTIVITY_KINDS
            .iter()
            .map(|k| (*k, lang.t(&format!("party.activity.{k}"))))
            .collect(),
        today: today.to_string(),
    };
    page(&template, &template.layout)
}

async fn update_party_org(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    PostForm(form): PostForm<PartyOrgForm>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let new = form.parse(false).map_err(Error::Invalid)?;
    let version = form
        .version
        .trim()
        .parse()
        .map_err(|_| Error::Conflict(Msg::new("party.error.stale")))?;
    let mut tx = app.db.begin().await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    store::update(&mut tx.conn(), &actor, at, PartyOrgId(id), version, &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/party/{id}"),
        "flash.party_saved",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OrgPost {
    org: String,
    on: String,
}

async fn add_org(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    PostForm(form): PostForm<OrgPost>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let on = date_or_today(&form.on, today)?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    store::add_covered_org(&mut tx.conn(), &actor, at, PartyOrgId(id), &form.org, on).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/party/{id}"),
        "flash.party_saved",
    ))
}

pub(super) fn date_or_today(value: &str, today: chrono::NaiveDate) -> Result<chrono::NaiveDate> {
    match value.trim() {
        "" => Ok(today),
        v => v
            .parse()
            .map_err(|_| Error::field("on", Msg::new("error.field.date"))),
    }
}

async fn add_cadre(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    PostForm(form): PostForm<CadreForm>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let new = form.parse().map_err(Error::Invalid)?;
    let mut tx = app.db.begin().await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    store::add_cadre(&mut tx.conn(), &actor, at, PartyOrgId(id), &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/party/{id}"),
        "flash.party_saved",
    ))
}

async fn add_activity(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    PostForm(form): PostForm<ActivityForm>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let new = form.parse(today).map_err(Error::Invalid)?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    store::add_activity(&mut tx.conn(), &actor, at, PartyOrgId(id), &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/party/{id}"),
        "flash.party_saved",
    ))
}

async fn save_mechanisms(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    PostForm(fields): PostForm<Vec<(String, String)>>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let in_place: Vec<String> = fields
        .into_iter()
        .filter(|(k, _)| k == "mechanism")
        .map(|(_, v)| v)
        .collect();
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    store::save_mechanisms(&mut tx.conn(), &actor, at, PartyOrgId(id), &in_place, today).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/party/{id}"),
        "flash.party_saved",
    ))
}

async fn record_payment(
    State(app): State<AppState>,
    user: CurrentUser,
    PostForm(form): PostForm<PaymentForm>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let new = form.parse().map_err(Error::Invalid)?;
    let mut tx = app.db.begin().await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    funding::record_payment(&mut tx.conn(), &actor, at, &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/party/{}", new.party_org.0),
        "flash.party_saved",
    ))
}

#[derive(Template)]
#[template(path = "party/instructors.html")]
struct InstructorsPage {
    layout: Layout,
    can_manage: bool,
    instructors: Vec<InstructorRow>,
    assignments: Vec<AssignmentLine>,
    today: String,
}

impl InstructorsPage {
    fn instructor_name(&self, id: &i64) -> &str {
        self.instructors
            .iter()
            .find(|i| i.id == *id)
            .map_or("", |i| i.name.as_str())
    }
}

async fn instructors(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    crate::auth::require_district(&app, &user, Permission::ViewParty).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let template = InstructorsPage {
        layout: ctx.layout("party.instructors.title"),
        can_manage: user.can(Permission::ManageParty),
        instructors: coverage::instructors(&mut c).await?,
        assignments: coverage::assignments(&mut c).await?,
        today: today.to_string(),
    };
    page(&template, &template.layout)
}

async fn create_instructor(
    State(app): State<AppState>,
    user: CurrentUser,
    PostForm(form): PostForm<InstructorForm>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let new = form.parse().map_err(Error::Invalid)?;
    let mut tx = app.db.begin().await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    coverage::create_instructor(&mut tx.conn(), &actor, at, &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/admin/party/instructors",
        "flash.party_saved",
    ))
}

async fn assign_instructor(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    PostForm(form): PostForm<OrgPost>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let on = date_or_today(&form.on, today)?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    coverage::assign_instructor(&mut tx.conn(), &actor, at, InstructorId(id), &form.org, on)
        .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/admin/party/instructors",
        "flash.party_saved",
    ))
}

#[derive(Template)]
#[template(path = "party/mine.html")]
struct MinePage {
    layout: Layout,
    orgs: Vec<(CoverageLine, &'static str)>,
    parties: Vec<PartyLine>,
}

async fn mine(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    if !user.has_role(Role::Instructor) {
        let scope = view_scope(&app, &user).await?;
        if scope == Scope::All {
            return Ok(Redirect::to("/admin/party").into_response());
        }
    }
    let scope = view_scope(&app, &user).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let orgs = coverage::coverage_lines(&mut c, &scope)
        .await?
        .into_iter()
        .map(|l| {
            let label = l.coverage().label(lang);
            (l, label)
        })
        .collect();
    let parties = store::list(&mut c, &scope, &Filter::default())
        .await?
        .iter()
        .map(|r| PartyLine::of(r, lang))
        .collect();
    let template = MinePage {
        layout: ctx.layout("party.mine.title"),
        orgs,
        parties,
    };
    page(&template, &template.layout)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SummaryQuery {
    area: String,
    year: String,
}

/// The public aggregate counts: party organizations by form, instructors, coverage and the
/// year's funding — no names, no details.
async fn api_summary(
    State(app): State<AppState>,
    Query(q): Query<SummaryQuery>,
) -> Result<Response, ApiError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let area = area_of(&mut c, &q.area).await?;
    let year = crate::clock::report_year(&q.year, today)?;
    let summary = coverage::summary(&mut c, &Scope::All, area).await?;
    let funding = funding::funding(&mut c, &Scope::All, area, year).await?;
    let bands = super::assessment::band_counts(&mut c, &Scope::All, area, i64::from(year)).await?;
    Ok(Json(serde_json::json!({
        "area": q.area.trim(),
        "year": year,
        "independent": summary.independent,
        "joint": summary.joint,
        "affiliated": summary.affiliated,
        "dispatched": summary.dispatched,
        "instructors": summary.instructors,
        "organizations": summary.organizations,
        "covered_own": summary.covered_own,
        "covered_joint": summary.covered_joint,
        "covered_instructor": summary.covered_instructor,
        "uncovered": summary.uncovered,
        "funding": {
            "party_orgs": funding.total.party_orgs,
            "cadres": funding.total.cadres,
            "orgs_yuan": crate::web::yuan(funding.total.orgs_fen),
            "cadres_yuan": crate::web::yuan(funding.total.cadres_fen),
            "budget_yuan": crate::web::yuan(funding.total.budget_fen()),
            "paid_yuan": crate::web::yuan(funding.total.paid_fen),
            "budget_fen": funding.total.budget_fen(),
            "paid_fen": funding.total.paid_fen,
        },
        "assessment": {
            "assessed": bands.assessed(),
            "excellent": bands.excellent,
            "good": bands.good,
            "pass": bands.pass,
            "fail": bands.fail,
        },
    }))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EndPost {
    on: String,
    version: String,
}

/// The end date of an ending form (required: the day matters for funding and coverage).
fn end_date(value: &str) -> Result<chrono::NaiveDate> {
    super::required_date_of("on", value)
}

async fn dissolve(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    PostForm(form): PostForm<EndPost>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let on = end_date(&form.on)?;
    let version = form
        .version
        .trim()
        .parse()
        .map_err(|_| Error::Conflict(Msg::new("party.error.stale")))?;
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    store::dissolve(
        &mut tx.conn(),
        &actor,
        at,
        PartyOrgId(id),
        version,
        on,
        today,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/party/{id}"),
        "flash.party_saved",
    ))
}

async fn remove_org(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, org)): Path<(i64, i64)>,
    PostForm(form): PostForm<EndPost>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let on = end_date(&form.on)?;
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    store::remove_covered_org(&mut tx.conn(), &actor, at, PartyOrgId(id), org, on, today).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/party/{id}"),
        "flash.party_saved",
    ))
}

async fn end_cadre(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, cadre)): Path<(i64, i64)>,
    PostForm(form): PostForm<EndPost>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let on = end_date(&form.on)?;
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    store::end_cadre(&mut tx.conn(), &actor, at, PartyOrgId(id), cadre, on, today).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/party/{id}"),
        "flash.party_saved",
    ))
}

async fn end_assignment(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, org)): Path<(i64, i64)>,
    PostForm(form): PostForm<EndPost>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let on = end_date(&form.on)?;
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    coverage::end_assignment(&mut tx.conn(), &actor, at, InstructorId(id), org, on, today).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/admin/party/instructors",
        "flash.party_saved",
    ))
}
