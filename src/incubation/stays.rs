//! Applications and selection (`/admin/incubation-calls/{id}/applications`,
//! `/admin/incubation-applications/{id}/decide`), incubation stays with their services, end
//! and registration link (`/admin/incubation-stays/{id}…`), and the applicant's own page
//! (`/incubation`), where an organization's account applies for its organization and an
//! applicant account for its group not yet registered.

use super::pages::{Refill, focus_names, incubator_page, manage_scope, stay_state};
use super::store::{self, stays::StayRow};
use super::{ApplicationForm, DecisionForm, EndForm, ServiceForm, ServiceKind};
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission, Role, Scope, require};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use crate::registry::OrgId;
use crate::web::{Layout, PageCtx, field_error, money, page_with_errors, redirect_with_flash};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

/// The routes of selection, stays and applying.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/incubation-calls/{id}/applications",
            post(enter_application),
        )
        .route("/admin/incubation-applications/{id}/decide", post(decide))
        .route("/admin/incubation-stays/{id}", get(show_stay))
        .route("/admin/incubation-stays/{id}/services", post(add_service))
        .route("/admin/incubation-stays/{id}/end", post(end_stay))
        .route("/admin/incubation-stays/{id}/link", post(link))
        .route("/incubation", get(mine))
        .route("/incubation/calls/{id}/apply", post(apply))
        .route("/incubation/stays/{id}/link", post(link_own))
}

/// Staff enter an application received on paper: by a registered organization (`org`: credit
/// code, id or exact name, within the caller's reach) or by a group.
async fn enter_application(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ApplicationForm>,
) -> Result<Response> {
    let scope = manage_scope(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let call = store::call(&mut c, &scope, id).await?;
    let key = form.org.trim();
    let org = if key.is_empty() {
        None
    } else {
        let found = match crate::registry::api::find_by_key(&mut c, &Scope::All, key).await? {
            Some(o) => Some(o),
            None => crate::registry::store::find_by_name(&mut c, &Scope::All, key).await?,
        };
        match found {
            Some(o) => Some(o),
            None => {
                drop(tx);
                let mut errors = FieldErrors::new();
                errors.add("org", Msg::new("credit.error.org"));
                return incubator_page(
                    &app,
                    &ctx,
                    &user,
                    call.incubator_id,
                    Refill::default(),
                    &errors,
                )
                .await;
            }
        }
    };
    let outcome = match form.parse(org.is_some()) {
        Ok(new) => {
            let at = crate::clock::now(&mut c).await?;
            let today = crate::clock::today(&mut c).await?;
            store::file_application(
                &mut c,
                &user.actor(),
                at,
                today,
                &call,
                org.as_ref(),
                None,
                &new,
            )
            .await
        }
        Err(e) => Err(Error::Invalid(e)),
    };
    match outcome {
        Ok(_) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/incubators/{}", call.incubator_id),
                "flash.incubation_saved",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            incubator_page(
                &app,
                &ctx,
                &user,
                call.incubator_id,
                Refill::default(),
                &errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Selection: accept (opening the stay) or reject, with a reason either way.
async fn decide(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response> {
    let scope = manage_scope(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let row = store::application(&mut c, &scope, id).await?;
    let outcome = match form.parse() {
        Ok(d) => {
            let at = crate::clock::now(&mut c).await?;
            store::decide(&mut c, &user.actor(), at, &row, &d).await
        }
        Err(e) => Err(Error::Invalid(e)),
    };
    match outcome {
        Ok(stay) => {
            tx.commit().await?;
            let to = match stay {
                Some(s) => format!("/admin/incubation-stays/{s}"),
                None => format!("/admin/incubators/{}", row.incubator_id),
            };
            Ok(redirect_with_flash(&to, "flash.incubation_saved"))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            incubator_page(
                &app,
                &ctx,
                &user,
                row.incubator_id,
                Refill::default(),
                &errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "incubation/stay.html")]
struct StayPage {
    layout: Layout,
    stay: StayRow,
    name: String,
    domain: String,
    state: String,
    open: bool,
    subsidy: String,
    /// (kind, date, what, amount).
    services: Vec<(&'static str, String, String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    org_href: String,
    link: String,
    service: ServiceForm,
    end: EndForm,
    errors: Vec<(String, String)>,
    today: String,
}

impl StayPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

async fn stay_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: i64,
    service: ServiceForm,
    end: EndForm,
    errors: &FieldErrors,
) -> Result<Response> {
    let scope = manage_scope(app, user).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let stay = store::stays::stay(&mut c, &scope, id).await?;
    let domains = crate::registry::store::list_domains(&mut c).await?;
    let services = store::stays::services(&mut c, &[id])
        .await?
        .into_iter()
        .map(|v| {
            (
                ServiceKind::parse(&v.kind).map_or("", |k| k.label(lang)),
                v.given_on.to_string(),
                v.description,
                v.amount_fen.map(|f| money(f, lang)).unwrap_or_default(),
            )
        })
        .collect();
    let today = crate::clock::today(&mut c).await?;
    let view = StayPage {
        layout: ctx.layout_titled(format!(
            "{} · {}",
            stay.org_name
                .clone()
                .unwrap_or_else(|| stay.group_name.clone()),
            stay.incubator_name
        )),
        name: stay.group_name.clone(),
        domain: focus_names(&stay.domain, &domains, lang),
        state: stay_state(&stay, lang),
        open: stay.ended_on.is_none(),
        subsidy: money(stay.subsidy_fen, lang),
        services,
        kinds: ServiceKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label(lang)))
            .collect(),
        org_href: stay
            .org_id
            .map(|o| format!("/admin/orgs/{o}"))
            .unwrap_or_default(),
        link: stay
            .registration_application_id
            .map(|a| a.to_string())
            .unwrap_or_default(),
        service,
        end,
        errors: errors.render(lang),
        today: today.to_string(),
        stay,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn show_stay(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    stay_page(
        &app,
        &ctx,
        &user,
        id,
        ServiceForm::default(),
        EndForm::default(),
        &FieldErrors::new(),
    )
    .await
}

async fn add_service(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ServiceForm>,
) -> Result<Response> {
    let scope = manage_scope(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let stay = store::stays::stay(&mut c, &scope, id).await?;
    let outcome = match form.parse() {
        Ok(new) => {
            let at = crate::clock::now(&mut c).await?;
            let today = crate::clock::today(&mut c).await?;
            store::stays::add_service(&mut c, &user.actor(), at, today, &stay, &new).await
        }
        Err(e) => Err(Error::Invalid(e)),
    };
    match outcome {
        Ok(_) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/incubation-stays/{id}"),
                "flash.incubation_saved",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            stay_page(&app, &ctx, &user, id, form, EndForm::default(), &errors).await
        }
        Err(e) => Err(e),
    }
}

async fn end_stay(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<EndForm>,
) -> Result<Response> {
    let scope = manage_scope(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let stay = store::stays::stay(&mut c, &scope, id).await?;
    let outcome = match form.parse() {
        Ok(end) => {
            let at = crate::clock::now(&mut c).await?;
            let today = crate::clock::today(&mut c).await?;
            store::stays::end_stay(&mut c, &user.actor(), at, today, &stay, &end).await
        }
        Err(e) => Err(Error::Invalid(e)),
    };
    match outcome {
        Ok(()) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/incubation-stays/{id}"),
                "flash.incubation_saved",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            stay_page(&app, &ctx, &user, id, ServiceForm::default(), form, &errors).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LinkForm {
    /// The registration application's number.
    application: String,
}

/// Links a group's stay to the application that registers it (chosen by staff).
async fn link(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<LinkForm>,
) -> Result<Response> {
    let scope = manage_scope(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let stay = store::stays::stay(&mut c, &scope, id).await?;
    let outcome = match form
        .application
        .trim()
        .trim_start_matches('#')
        .parse::<i64>()
    {
        Ok(application) => {
            let at = crate::clock::now(&mut c).await?;
            store::stays::link_registration(&mut c, &user.actor(), at, &stay, application).await
        }
        Err(_) => Err(Error::field(
            "application",
            Msg::new("incubation.error.not_registration"),
        )),
    };
    match outcome {
        Ok(()) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/incubation-stays/{id}"),
                "flash.incubation_saved",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            stay_page(
                &app,
                &ctx,
                &user,
                id,
                ServiceForm::default(),
                EndForm::default(),
                &errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The organizations an account applies for (an organization's own account).
fn own_orgs(user: &CurrentUser) -> Vec<OrgId> {
    user.grants
        .iter()
        .filter(|g| g.role == Role::Org)
        .filter_map(|g| g.org)
        .collect()
}

/// An open call, for applicants.
pub struct OpenCall {
    id: i64,
    title: String,
    incubator: String,
    dates: String,
    places: i64,
}

/// One of the applicant's applications.
pub struct MyApplication {
    call: String,
    incubator: String,
    name: String,
    state: &'static str,
    reason: String,
    /// The stay of a selected group not yet linked to an organization, which the applicant
    /// may link to its registration application.
    linkable: Option<i64>,
    /// The registration application it is linked to.
    linked: String,
}

#[derive(Template)]
#[template(path = "incubation/apply.html")]
struct ApplyPage {
    layout: Layout,
    calls: Vec<OpenCall>,
    mine: Vec<MyApplication>,
    /// The applicant's registration applications (number, name).
    registrations: Vec<(i64, String)>,
    /// The organization applying, when the account is an organization's.
    org_name: String,
    domains: Vec<(String, String)>,
    form: ApplicationForm,
    errors: Vec<(String, String)>,
}

impl ApplyPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

async fn apply_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    form: ApplicationForm,
    errors: &FieldErrors,
) -> Result<Response> {
    require(app, user, Permission::Apply).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let orgs = own_orgs(user);
    let org_name = match orgs.first() {
        Some(o) => crate::registry::store::find(&mut c, &Scope::All, *o)
            .await?
            .map(|r| r.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let domains = crate::registry::store::list_domains(&mut c).await?;
    let mut mine = Vec::new();
    for a in store::applications_of(&mut c, user.id, &orgs).await? {
        let stay = match a.stay_id {
            Some(s) if a.applicant_user_id == Some(user.id.0) => {
                store::stays::stay_of_applicant(&mut c, user.id, s)
                    .await
                    .ok()
            }
            _ => None,
        };
        mine.push(MyApplication {
            call: a.call_title,
            incubator: a.incubator_name,
            name: a.group_name,
            state: lang.t(&format!("incubation.state.{}", a.state)),
            reason: a.reason.unwrap_or_default(),
            linkable: stay.as_ref().filter(|s| s.org_id.is_none()).map(|s| s.id),
            linked: stay
                .and_then(|s| s.registration_application_id)
                .map(|n| n.to_string())
                .unwrap_or_default(),
        });
    }
    let view = ApplyPage {
        layout: ctx.layout("incubation.apply.title"),
        calls: store::open_calls(&mut c, today)
            .await?
            .into_iter()
            .map(|k| OpenCall {
                id: k.id,
                title: k.title,
                incubator: k.incubator_name,
                dates: format!("{} — {}", k.opens_on, k.closes_on),
                places: k.places,
            })
            .collect(),
        mine,
        registrations: store::stays::registration_applications_of(&mut c, user.id).await?,
        org_name,
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
        form,
        errors: errors.render(lang),
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn mine(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    apply_page(
        &app,
        &ctx,
        &user,
        ApplicationForm::default(),
        &FieldErrors::new(),
    )
    .await
}

/// An applicant applies to an open call: for its organization, or for its group.
async fn apply(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ApplicationForm>,
) -> Result<Response> {
    require(&app, &user, Permission::Apply).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    // Any call may be applied to; whether it is open is checked with the other fields.
    let call = store::call(&mut c, &Scope::All, id).await?;
    let org = match own_orgs(&user).first() {
        Some(o) => crate::registry::store::find(&mut c, &Scope::All, *o).await?,
        None => None,
    };
    let outcome = match form.parse(org.is_some()) {
        Ok(new) => {
            let at = crate::clock::now(&mut c).await?;
            let today = crate::clock::today(&mut c).await?;
            store::file_application(
                &mut c,
                &user.actor(),
                at,
                today,
                &call,
                org.as_ref(),
                Some(user.id),
                &new,
            )
            .await
        }
        Err(e) => Err(Error::Invalid(e)),
    };
    match outcome {
        Ok(_) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                "/incubation",
                "flash.incubation_applied",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            apply_page(&app, &ctx, &user, form, &errors).await
        }
        Err(e) => Err(e),
    }
}

/// The applicant links its own group's stay to its own registration application.
async fn link_own(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<LinkForm>,
) -> Result<Response> {
    require(&app, &user, Permission::Apply).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let stay = store::stays::stay_of_applicant(&mut c, user.id, id).await?;
    let own = store::stays::registration_applications_of(&mut c, user.id).await?;
    let chosen = form
        .application
        .trim()
        .trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|n| own.iter().any(|(id, _)| id == n));
    let outcome = match chosen {
        Some(application) => {
            let at = crate::clock::now(&mut c).await?;
            store::stays::link_registration(&mut c, &user.actor(), at, &stay, application).await
        }
        None => Err(Error::field(
            "application",
            Msg::new("incubation.error.not_registration"),
        )),
    };
    match outcome {
        Ok(()) => {
            tx.commit().await?;
            Ok(redirect_with_flash("/incubation", "flash.incubation_saved"))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            apply_page(&app, &ctx, &user, ApplicationForm::default(), &errors).await
        }
        Err(e) => Err(e),
    }
}
