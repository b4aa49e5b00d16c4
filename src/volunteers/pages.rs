//! The volunteer desk (`/admin/volunteers`): figures, service records awaiting the caller's
//! step, the volunteers in scope and their registration; a volunteer's page with the chain of
//! each service record and the printable certificate; donations, service bases and brand
//! organizations; the public aggregate figures (`/api/v1/volunteers/summary`); and the brand
//! figures and disclosed donations an organization's public profile shows.

use super::store::{
    self, BaseRow, CertificateLine, DonationRow, FigureValue, Figures, ServiceRow, TotalLine,
    TotalsBy, VolunteerRow,
};
use super::{
    BASE_KINDS, BaseForm, DonationForm, FigureForm, MEASURES, SERVICE_DOMAINS, ServiceForm,
    ServiceState, StarLevels, Step, VolunteerForm, hours, mask_name, mask_phone,
};
use crate::api::ApiError;
use crate::app::AppState;
use crate::areas::AreaId;
use crate::auth::{CurrentUser, Permission, Scope, deny, require};
use crate::db::Conn;
use crate::error::{Error, Result};
use crate::i18n::{Lang, Msg};
use crate::registry::OrgId;
use crate::web::{Layout, PageCtx, Paging, money, page, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/volunteers", get(desk).post(register))
        .route("/admin/volunteers/{id}", get(show))
        .route("/admin/volunteers/{id}/services", post(record_service))
        .route("/admin/volunteers/{id}/certificate", get(certificate))
        .route("/admin/volunteer-services/{id}", post(take_step))
        .route("/admin/donations", get(donations).post(record_donation))
        .route("/admin/service-bases", get(bases).post(create_base))
        .route("/admin/brands", get(brands))
        .route("/admin/brands/{id}", post(save_reasons))
        .route("/admin/brands/{id}/figures", post(add_figure))
        .route("/api/v1/volunteers/summary", get(api_summary))
}

/// True when `scope` reaches organization `org_id` one by one or as a whole (the registering
/// organization's own account and district staff; not area offices).
fn reaches_org(scope: &Scope, org_id: i64) -> bool {
    match scope {
        Scope::All => true,
        Scope::Limited { orgs, .. } => orgs.contains(&OrgId(org_id)),
        Scope::Public => false,
    }
}

/// The star levels in force.
async fn star_levels(c: &mut Conn<'_>) -> Result<StarLevels> {
    let v = crate::settings::store::current(c, "volunteer_star_hours").await?;
    Ok(StarLevels::parse(&v).unwrap_or_else(|| StarLevels(vec![100, 300, 600, 1000, 1500])))
}

fn stars(n: usize) -> String {
    "★".repeat(n)
}

fn domain_label(lang: Lang, d: &str) -> &'static str {
    lang.t(&format!("volunteers.domain.{d}"))
}

fn year_of(value: &str) -> Result<Option<i32>> {
    match value.trim() {
        "" => Ok(None),
        y => y
            .parse::<i32>()
            .ok()
            .filter(|y| crate::clock::QUERY_YEARS.contains(y))
            .map(Some)
            .ok_or_else(|| Error::field("year", Msg::new("error.field.choice"))),
    }
}

async fn area_of(c: &mut Conn<'_>, code: &str) -> Result<Option<AreaId>> {
    if code.trim().is_empty() {
        return Ok(None);
    }
    crate::areas::store::find_by_code(c, code.trim())
        .await?
        .map(|a| Some(a.area_id()))
        .ok_or_else(|| Error::field("area", Msg::new("error.field.choice")))
}

/// The figures formatted for a page.
pub struct FigureLines {
    /// Volunteers registered.
    pub volunteers: i64,
    /// Volunteers with verified hours.
    pub active: i64,
    /// Verified hours.
    pub verified: String,
    /// Hours not yet verified.
    pub pending: String,
    /// Domains with verified hours.
    pub domains: i64,
    /// Received.
    pub received: String,
    /// Given.
    pub given: String,
    /// Beneficiaries.
    pub beneficiaries: i64,
    /// Service bases.
    pub bases: i64,
}

impl FigureLines {
    fn of(f: &Figures, lang: Lang) -> FigureLines {
        FigureLines {
            volunteers: f.volunteers,
            active: f.active_volunteers,
            verified: hours(f.verified_tenths),
            pending: hours(f.pending_tenths),
            domains: f.domains,
            received: money(f.received_fen, lang),
            given: money(f.given_fen, lang),
            beneficiaries: f.beneficiaries,
            bases: f.service_bases,
        }
    }
}

/// A service record formatted for a table.
pub struct ServiceLine {
    /// The record.
    pub row: ServiceRow,
    /// Domain in words.
    pub domain: &'static str,
    /// State in words.
    pub state: &'static str,
    /// Hours.
    pub hours: String,
    /// Chain: who did what when.
    pub chain: Vec<String>,
    /// Steps the caller may take.
    pub steps: Vec<(&'static str, &'static str)>,
}

impl ServiceLine {
    fn of(row: ServiceRow, lang: Lang, user: &CurrentUser) -> ServiceLine {
        let mut chain = vec![format!(
            "{} {} {}",
            lang.t("volunteers.state.recorded"),
            row.recorded_by,
            crate::web::china_time(row.recorded_at)
        )];
        for (key, by, at) in [
            (
                "volunteers.state.confirmed",
                &row.confirmed_by,
                row.confirmed_at,
            ),
            (
                "volunteers.state.verified",
                &row.verified_by,
                row.verified_at,
            ),
            (
                "volunteers.state.rejected",
                &row.rejected_by,
                row.rejected_at,
            ),
        ] {
            if let (Some(by), Some(at)) = (by, at) {
                chain.push(format!(
                    "{} {by} {}",
                    lang.t(key),
                    crate::web::china_time(at)
                ));
            }
        }
        if let Some(r) = &row.reject_reason {
            chain.push(format!("{}: {r}", lang.t("volunteers.field.reason")));
        }
        let manage = reaches_org(&user.scope(Permission::ManageVolunteers), row.org_id);
        let verify = user.can(Permission::VerifyVolunteerHours);
        let mut steps = Vec::new();
        match row.state() {
            ServiceState::Recorded if manage => {
                steps.push(("confirm", lang.t("volunteers.step.confirm")));
                steps.push(("reject", lang.t("volunteers.step.reject")));
            }
            ServiceState::Confirmed if verify => {
                steps.push(("verify", lang.t("volunteers.step.verify")));
                steps.push(("reject", lang.t("volunteers.step.reject")));
            }
            _ => {}
        }
        ServiceLine {
            domain: domain_label(lang, &row.domain),
            state: lang.t(&format!("volunteers.state.{}", row.state)),
            hours: hours(row.tenth_hours),
            chain,
            steps,
            row,
        }
    }
}

/// A volunteer formatted for a list or page.
pub struct VolunteerLine {
    /// The record.
    pub row: VolunteerRow,
    /// Phone: in full for the registering organization, masked for everyone else.
    pub phone: String,
    /// Gender in words.
    pub gender: &'static str,
    /// Verified hours.
    pub verified: String,
    /// Pending hours.
    pub pending: String,
    /// Star level.
    pub stars: usize,
    /// Stars drawn.
    pub star_text: String,
}

impl VolunteerLine {
    fn of(row: VolunteerRow, lang: Lang, manage: &Scope, levels: &StarLevels) -> VolunteerLine {
        let phone = match &row.phone {
            Some(p) if reaches_org(manage, row.org_id) => p.clone(),
            Some(p) => mask_phone(p),
            None => String::new(),
        };
        let n = levels.stars(row.verified_tenths);
        VolunteerLine {
            phone,
            gender: match row.gender.as_deref() {
                Some(g) => lang.t(&format!("volunteers.gender.{g}")),
                None => "",
            },
            verified: hours(row.verified_tenths),
            pending: hours(row.pending_tenths),
            stars: n,
            star_text: stars(n),
            row,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeskQuery {
    name: String,
    area: String,
    year: String,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "volunteers/desk.html")]
struct DeskPage {
    layout: Layout,
    q: DeskQuery,
    figures: FigureLines,
    by_domain: Vec<(&'static str, String)>,
    to_confirm: Vec<ServiceLine>,
    to_verify: Vec<ServiceLine>,
    volunteers: Vec<VolunteerLine>,
    total: i64,
    page: i64,
    pages: i64,
    can_register: bool,
    orgs: Vec<(i64, String)>,
    today: String,
}

async fn desk(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<DeskQuery>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ViewVolunteers).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let area = area_of(&mut c, &q.area).await?;
    let year = year_of(&q.year)?;
    let figures = store::figures(&mut c, &scope, area, year).await?;
    let by_domain = store::hours_by_domain(&mut c, &scope, area, year)
        .await?
        .into_iter()
        .map(|(d, t)| (domain_label(lang, &d), hours(t)))
        .collect();
    let manage = user.scope(Permission::ManageVolunteers);
    let to_confirm = if user.can(Permission::ManageVolunteers) {
        store::awaiting(&mut c, &manage, ServiceState::Recorded, 50).await?
    } else {
        Vec::new()
    };
    let to_verify = if user.can(Permission::VerifyVolunteerHours) {
        let verify = user.scope(Permission::VerifyVolunteerHours);
        store::awaiting(&mut c, &verify, ServiceState::Confirmed, 50).await?
    } else {
        Vec::new()
    };
    let paging = Paging::new(q.page, Some(50));
    let (rows, total) =
        store::list_volunteers(&mut c, &scope, &q.name, paging.per_page, paging.offset()).await?;
    let levels = star_levels(&mut c).await?;
    let orgs = match &manage {
        Scope::Limited { orgs, .. } if user.can(Permission::ManageVolunteers) => {
            let mut named = Vec::new();
            // An organization no longer in operation simply drops out of the choice.
            for o in orgs {
                if let Ok((id, name, _)) = store::org_in_scope(&mut c, &manage, o.0).await {
                    named.push((id, name));
                }
            }
            named
        }
        _ => Vec::new(),
    };
    let today = crate::clock::today(&mut c).await?;
    let view = DeskPage {
        layout: ctx.layout("volunteers.title"),
        figures: FigureLines::of(&figures, lang),
        by_domain,
        to_confirm: to_confirm
            .into_iter()
            .map(|r| ServiceLine::of(r, lang, &user))
            .collect(),
        to_verify: to_verify
            .into_iter()
            .map(|r| ServiceLine::of(r, lang, &user))
            .collect(),
        volunteers: rows
            .into_iter()
            .map(|r| VolunteerLine::of(r, lang, &manage, &levels))
            .collect(),
        total,
        page: paging.page,
        pages: paging.pages(total),
        can_register: user.can(Permission::ManageVolunteers),
        orgs,
        today: today.to_string(),
        q,
    };
    page(&view, &view.layout)
}

/// The organization a write is for: the form's `org` (an id) within `scope`, or the caller's
/// only organization when the form leaves it empty.
async fn target_org(c: &mut Conn<'_>, scope: &Scope, org: &str) -> Result<(i64, String, i64)> {
    let id = match (org.trim(), scope) {
        ("", Scope::Limited { orgs, .. }) if orgs.len() == 1 => orgs[0].0,
        (v, _) => v
            .parse::<i64>()
            .map_err(|_| Error::field("org", Msg::new("error.field.choice")))?,
    };
    store::org_in_scope(c, scope, id)
        .await
        .map_err(|e| match e {
            Error::NotFound => Error::field("org", Msg::new("error.field.choice")),
            e => e,
        })
}

async fn register(
    State(app): State<AppState>,
    user: CurrentUser,
    Form(form): Form<VolunteerForm>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ManageVolunteers).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let today = crate::clock::today(&mut c).await?;
    let new = form.parse(today);
    let org = target_org(&mut c, &scope, &form.org).await;
    let (new, (org_id, _, area_id)) = match (new, org) {
        (Ok(n), Ok(o)) => (n, o),
        (Err(mut e), Err(Error::Invalid(o))) => {
            e.0.extend(o.0);
            return Err(Error::Invalid(e));
        }
        (Err(e), _) => return Err(Error::Invalid(e)),
        (_, Err(e)) => return Err(e),
    };
    let at = crate::clock::now(&mut c).await?;
    let id = store::create_volunteer(&mut c, &user.actor(), at, org_id, area_id, &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/volunteers/{id}"),
        "flash.volunteers_saved",
    ))
}

#[derive(Template)]
#[template(path = "volunteers/show.html")]
struct ShowPage {
    layout: Layout,
    v: VolunteerLine,
    services: Vec<ServiceLine>,
    can_record: bool,
    domains: Vec<(&'static str, &'static str)>,
    today: String,
}

async fn show(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ViewVolunteers).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let row = store::volunteer(&mut c, &scope, id).await?;
    let services = store::services_of(&mut c, id).await?;
    let levels = star_levels(&mut c).await?;
    let manage = user.scope(Permission::ManageVolunteers);
    let today = crate::clock::today(&mut c).await?;
    let view = ShowPage {
        layout: ctx.layout_titled(row.name.clone()),
        can_record: reaches_org(&manage, row.org_id) && user.can(Permission::ManageVolunteers),
        v: VolunteerLine::of(row, lang, &manage, &levels),
        services: services
            .into_iter()
            .map(|r| ServiceLine::of(r, lang, &user))
            .collect(),
        domains: SERVICE_DOMAINS
            .iter()
            .map(|d| (*d, domain_label(lang, d)))
            .collect(),
        today: today.to_string(),
    };
    page(&view, &view.layout)
}

async fn record_service(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ServiceForm>,
) -> Result<Response> {
    let view = require(&app, &user, Permission::ViewVolunteers).await?;
    // Outside the caller's view a volunteer does not exist; inside it, only the registering
    // organization (and district staff) record. Checked before the write transaction, since a
    // refusal is audited in a transaction of its own.
    let volunteer = store::volunteer(&mut app.db.acquire().await?.conn(), &view, id).await?;
    let manage = require(&app, &user, Permission::ManageVolunteers).await?;
    if !reaches_org(&manage, volunteer.org_id) {
        return Err(deny(&app, &user, "volunteer", Some(id), "record service").await);
    }
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let today = crate::clock::today(&mut c).await?;
    let new = form.parse(today).map_err(Error::Invalid)?;
    let at = crate::clock::now(&mut c).await?;
    store::record_service(&mut c, &user.actor(), at, &volunteer, &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/volunteers/{id}"),
        "flash.volunteers_saved",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StepForm {
    action: String,
    reason: String,
}

async fn take_step(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response> {
    let view = require(&app, &user, Permission::ViewVolunteers).await?;
    let row = store::service(&mut app.db.acquire().await?.conn(), &view, id).await?;
    let step = Step::parse(&form.action)
        .ok_or_else(|| Error::field("action", Msg::new("error.field.choice")))?;
    // The recording organization confirms (谁记录谁证明) or sends back what it recorded; the
    // area office verifies or sends back what the organization confirmed.
    let by_area_office =
        step == Step::Verify || (step == Step::Reject && row.state() == ServiceState::Confirmed);
    let allowed = if by_area_office {
        let scope = require(&app, &user, Permission::VerifyVolunteerHours).await?;
        store::service(&mut app.db.acquire().await?.conn(), &scope, id)
            .await
            .is_ok()
    } else {
        let scope = require(&app, &user, Permission::ManageVolunteers).await?;
        reaches_org(&scope, row.org_id)
    };
    if !allowed {
        return Err(deny(&app, &user, "volunteer_service", Some(id), step.as_str()).await);
    }
    // The step applies only from the state read above (checked again in the update).
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let at = crate::clock::now(&mut c).await?;
    store::take_step(&mut c, &user.actor(), at, &row, step, &form.reason).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/volunteers/{}", row.volunteer_id),
        "flash.volunteers_saved",
    ))
}

#[derive(Template)]
#[template(path = "volunteers/certificate.html")]
struct CertificatePage {
    layout: Layout,
    v: VolunteerLine,
    lines: Vec<(CertificateLine, &'static str, String)>,
    total: String,
    issued_on: String,
}

async fn certificate(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ViewVolunteers).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let row = store::volunteer(&mut c, &scope, id).await?;
    let lines = store::certificate_lines(&mut c, id, row.org_id).await?;
    let total: i64 = lines.iter().map(|l| l.tenths).sum();
    let levels = star_levels(&mut c).await?;
    let today = crate::clock::today(&mut c).await?;
    let manage = user.scope(Permission::ManageVolunteers);
    let view = CertificatePage {
        layout: ctx.layout("volunteers.certificate.title"),
        v: VolunteerLine::of(row, lang, &manage, &levels),
        lines: lines
            .into_iter()
            .map(|l| {
                let d = domain_label(lang, &l.domain);
                let h = hours(l.tenths);
                (l, d, h)
            })
            .collect(),
        total: hours(total),
        issued_on: today.to_string(),
    };
    page(&view, &view.layout)
}

/// A donation formatted for the list.
pub struct DonationLine {
    /// The record.
    pub row: DonationRow,
    /// Direction in words.
    pub direction: &'static str,
    /// Amount.
    pub amount: String,
    /// Donor or recipient as shown (individuals masked in public).
    pub counterpart: String,
}

impl DonationLine {
    fn of(row: DonationRow, lang: Lang, public: bool) -> DonationLine {
        DonationLine {
            direction: lang.t(&format!("volunteers.direction.{}", row.direction)),
            amount: money(row.amount_fen, lang),
            counterpart: if public && row.counterpart_kind == "individual" {
                mask_name(&row.counterpart)
            } else {
                row.counterpart.clone()
            },
            row,
        }
    }
}

/// A totals line formatted.
pub struct TotalText {
    /// Group name.
    pub name: String,
    /// Records.
    pub records: i64,
    /// Received.
    pub received: String,
    /// Given.
    pub given: String,
}

fn totals(lines: Vec<TotalLine>, lang: Lang) -> Vec<TotalText> {
    lines
        .into_iter()
        .map(|l| TotalText {
            name: l.name,
            records: l.records,
            received: money(l.received_fen, lang),
            given: money(l.given_fen, lang),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "volunteers/donations.html")]
struct DonationsPage {
    layout: Layout,
    by_org: Vec<TotalText>,
    by_project: Vec<TotalText>,
    by_area: Vec<TotalText>,
    latest: Vec<DonationLine>,
    can_record: bool,
    orgs: Vec<(i64, String)>,
    today: String,
}

async fn donations(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ViewVolunteers).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let manage = user.scope(Permission::ManageVolunteers);
    let mut orgs = Vec::new();
    if let Scope::Limited { orgs: ids, .. } = &manage {
        for o in ids {
            if let Ok((id, name, _)) = store::org_in_scope(&mut c, &manage, o.0).await {
                orgs.push((id, name));
            }
        }
    }
    let today = crate::clock::today(&mut c).await?;
    let view = DonationsPage {
        layout: ctx.layout("volunteers.donations.title"),
        by_org: totals(
            store::donation_totals(&mut c, &scope, TotalsBy::Organization, 20).await?,
            lang,
        ),
        by_project: totals(
            store::donation_totals(&mut c, &scope, TotalsBy::Project, 20).await?,
            lang,
        ),
        by_area: totals(
            store::donation_totals(&mut c, &scope, TotalsBy::Area, 40).await?,
            lang,
        ),
        latest: store::donations(&mut c, &scope, None, 0, 50)
            .await?
            .into_iter()
            .map(|r| DonationLine::of(r, lang, false))
            .collect(),
        can_record: user.can(Permission::ManageVolunteers),
        orgs,
        today: today.to_string(),
    };
    page(&view, &view.layout)
}

async fn record_donation(
    State(app): State<AppState>,
    user: CurrentUser,
    Form(form): Form<DonationForm>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ManageVolunteers).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let today = crate::clock::today(&mut c).await?;
    let new = form.parse(today);
    let org = target_org(&mut c, &scope, &form.org).await;
    let (new, (org_id, _, _)) = match (new, org) {
        (Ok(n), Ok(o)) => (n, o),
        (Err(mut e), Err(Error::Invalid(o))) => {
            e.0.extend(o.0);
            return Err(Error::Invalid(e));
        }
        (Err(e), _) => return Err(Error::Invalid(e)),
        (_, Err(e)) => return Err(e),
    };
    let at = crate::clock::now(&mut c).await?;
    store::record_donation(&mut c, &user.actor(), at, org_id, &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/admin/donations",
        "flash.volunteers_saved",
    ))
}

#[derive(Template)]
#[template(path = "volunteers/bases.html")]
struct BasesPage {
    layout: Layout,
    bases: Vec<(BaseRow, &'static str)>,
    can_create: bool,
    kinds: Vec<(&'static str, &'static str)>,
}

async fn bases(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    let scope = require(&app, &user, Permission::ViewVolunteers).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let rows = store::bases(&mut conn.conn(), &scope).await?;
    let view = BasesPage {
        layout: ctx.layout("volunteers.bases.title"),
        bases: rows
            .into_iter()
            .map(|b| {
                let k = lang.t(&format!("volunteers.base.{}", b.kind));
                (b, k)
            })
            .collect(),
        can_create: user.can(Permission::ManageBrands),
        kinds: BASE_KINDS
            .iter()
            .map(|k| (*k, lang.t(&format!("volunteers.base.{k}"))))
            .collect(),
    };
    page(&view, &view.layout)
}

async fn create_base(
    State(app): State<AppState>,
    user: CurrentUser,
    Form(form): Form<BaseForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageBrands).await?;
    let new = form.parse().map_err(Error::Invalid)?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let area = area_of(&mut c, &form.area_code)
        .await
        .map_err(|_| Error::field("area_code", Msg::new("error.field.choice")))?
        .ok_or_else(|| Error::field("area_code", Msg::new("error.field.required")))?;
    let org = match form.org.trim() {
        "" => None,
        name => Some(
            crate::registry::store::find_by_name(&mut c, &Scope::All, name)
                .await?
                .ok_or_else(|| Error::field("org", Msg::new("error.field.choice")))?
                .id,
        ),
    };
    let at = crate::clock::now(&mut c).await?;
    store::create_base(&mut c, &user.actor(), at, area.0, &new, org).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/admin/service-bases",
        "flash.volunteers_saved",
    ))
}

/// A brand organization with its reasons and figures.
pub struct BrandLine {
    /// Organization id.
    pub org_id: i64,
    /// Name.
    pub name: String,
    /// Reasons.
    pub reasons: String,
    /// Figures.
    pub figures: Vec<FigureValue>,
}

#[derive(Template)]
#[template(path = "volunteers/brands.html")]
struct BrandsPage {
    layout: Layout,
    brands: Vec<BrandLine>,
    measures: Vec<(&'static str, &'static str)>,
}

async fn brands(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    require(&app, &user, Permission::ManageBrands).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let mut lines = Vec::new();
    for b in store::brands(&mut c).await? {
        lines.push(BrandLine {
            figures: store::figures_of(&mut c, b.org_id).await?,
            org_id: b.org_id,
            name: b.name,
            reasons: b.reasons.unwrap_or_default(),
        });
    }
    let view = BrandsPage {
        layout: ctx.layout("volunteers.brands.title"),
        brands: lines,
        measures: MEASURES
            .iter()
            .map(|m| (*m, lang.t(&format!("volunteers.measure.{m}"))))
            .collect(),
    };
    page(&view, &view.layout)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReasonsForm {
    reasons: String,
}

async fn save_reasons(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ReasonsForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageBrands).await?;
    let mut e = crate::error::FieldErrors::new();
    let reasons = e.required_text("reasons", &form.reasons, 500);
    e.into_result(())?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let at = crate::clock::now(&mut c).await?;
    store::set_brand_reasons(&mut c, &user.actor(), at, id, &reasons).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/admin/brands",
        "flash.volunteers_saved",
    ))
}

async fn add_figure(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<FigureForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageBrands).await?;
    let new = form.parse().map_err(Error::Invalid)?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    if !store::brands(&mut c).await?.iter().any(|b| b.org_id == id) {
        return Err(Error::NotFound);
    }
    let at = crate::clock::now(&mut c).await?;
    store::add_figure(&mut c, &user.actor(), at, id, &new).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/admin/brands",
        "flash.volunteers_saved",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SummaryQuery {
    area: String,
    year: String,
}

/// The public aggregate figures: verified hours, volunteers, donations, beneficiaries — no
/// names, no personal data.
async fn api_summary(
    State(app): State<AppState>,
    Query(q): Query<SummaryQuery>,
) -> Result<Response, ApiError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let area = area_of(&mut c, &q.area).await?;
    let year = year_of(&q.year)?;
    let f = store::figures(&mut c, &Scope::All, area, year).await?;
    let by_domain: serde_json::Map<String, serde_json::Value> =
        store::hours_by_domain(&mut c, &Scope::All, area, year)
            .await?
            .into_iter()
            .map(|(d, t)| (d, serde_json::Value::from(t / 10)))
            .collect();
    Ok(Json(serde_json::json!({
        "area": q.area.trim(),
        "year": year,
        "volunteers": f.volunteers,
        "active_volunteers": f.active_volunteers,
        "verified_records": f.verified_records,
        "volunteer_hours": f.verified_tenths / 10,
        "unverified_hours": f.pending_tenths / 10,
        "domains": f.domains,
        "hours_by_domain": by_domain,
        "donations_yuan": f.received_fen / 100,
        "donations_received_yuan": f.received_fen / 100,
        "donations_given_yuan": f.given_fen / 100,
        "donations": f.donations,
        "beneficiaries": f.beneficiaries,
        "service_bases": f.service_bases,
    }))
    .into_response())
}

/// What an organization's public profile shows from this module: its brand reasons and
/// figures, and its donation totals and larger donations when they reach the disclosure
/// threshold (individual donors masked).
pub struct PublicFigures {
    /// Brand reasons (empty when none).
    pub reasons: String,
    /// Brand figures.
    pub figures: Vec<(String, String, String)>,
    /// Received total, when disclosed.
    pub received: Option<String>,
    /// Given total, when disclosed.
    pub given: Option<String>,
    /// Donations at or above the threshold.
    pub donations: Vec<DonationLine>,
    /// The threshold.
    pub threshold: String,
}

impl PublicFigures {
    /// Loads them for organization `org_id` (the profile's organization, public anyway).
    pub async fn load(c: &mut Conn<'_>, org_id: i64, lang: Lang) -> Result<PublicFigures> {
        let reasons = store::brand_reasons(c, org_id).await?;
        let figures = store::figures_of(c, org_id)
            .await?
            .into_iter()
            .map(|f| {
                let year = f.year.map(|y| y.to_string()).unwrap_or_default();
                (
                    f.label,
                    format!("{} {}", group_thousands(f.value), f.unit),
                    year,
                )
            })
            .collect();
        let threshold: i64 = crate::settings::store::current(c, "donation_disclosure_yuan")
            .await?
            .parse()
            .unwrap_or(10_000);
        let threshold_fen = threshold.saturating_mul(100);
        let (received, given) = store::donation_totals_of(c, org_id).await?;
        let shown = |fen: i64| (fen >= threshold_fen && fen > 0).then(|| money(fen, lang));
        let donations = store::donations(c, &Scope::All, Some(org_id), threshold_fen.max(1), 20)
            .await?
            .into_iter()
            .map(|r| DonationLine::of(r, lang, true))
            .collect();
        Ok(PublicFigures {
            reasons,
            figures,
            received: shown(received),
            given: shown(given),
            donations,
            threshold: money(threshold_fen, lang),
        })
    }

    /// True when there is anything to show.
    pub fn is_empty(&self) -> bool {
        self.reasons.is_empty()
            && self.figures.is_empty()
            && self.received.is_none()
            && self.given.is_none()
    }
}

/// 1234567 → "1,234,567".
fn group_thousands(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::group_thousands(1_134), "1,134");
        assert_eq!(super::group_thousands(42), "42");
        assert_eq!(super::group_thousands(720_000), "720,000");
    }
}
