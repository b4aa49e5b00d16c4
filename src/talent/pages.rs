//! The talent desk (`/admin/talent`: the 1:30 ratio report and training figures), the
//! practitioners (`/admin/practitioners`), training sessions for staff (`/admin/trainings`)
//! and for organizations (`/trainings`, with sign-up), and the public aggregate
//! (`/api/v1/talent/summary`).

use super::store::{self, PlacementRow, PractitionerFilter, PractitionerRow, RatioFigures};
use super::{
    EmployerKind, PractitionerForm, PractitionerKind, Qualification, TrainingForm, hours_text,
    parse_attendees, ratio_text,
};
use crate::api::ApiError;
use crate::app::AppState;
use crate::areas::store::{self as areas, AreaRow};
use crate::auth::{CurrentUser, Permission, Scope, require};
use crate::db::Conn;
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use crate::web::{Layout, PageCtx, field_error, page_with_errors, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/talent", get(desk))
        .route(
            "/admin/practitioners",
            get(practitioners).post(create_practitioner),
        )
        .route(
            "/admin/practitioners/{id}",
            get(show_practitioner).post(update_practitioner),
        )
        .route("/admin/practitioners/{id}/placements", post(place))
        .route(
            "/admin/practitioners/{id}/placements/{placement}/end",
            post(end_placement),
        )
        .route(
            "/admin/trainings",
            get(admin_trainings).post(create_training),
        )
        .route(
            "/admin/trainings/{id}",
            get(show_training).post(update_training),
        )
        .route("/admin/trainings/{id}/attendance", post(record_attendance))
        .route("/trainings", get(public_trainings))
        .route("/trainings/{id}/signups", post(sign_up))
        .route("/api/v1/talent/summary", get(api_summary))
}

/// The organizations per social worker the ratio asks for (setting `social_worker_load`).
async fn load(c: &mut Conn<'_>) -> Result<i64> {
    Ok(crate::settings::store::current(c, "social_worker_load")
        .await?
        .parse()
        .unwrap_or(30))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeskQuery {
    area: String,
    year: String,
}

/// One line of the ratio table.
pub struct RatioLine {
    code: String,
    name: String,
    drill: bool,
    f: RatioFigures,
    ratio: String,
    short: bool,
}

impl RatioLine {
    fn of(area: &AreaRow, f: RatioFigures, lang: Lang) -> RatioLine {
        RatioLine {
            code: area.code.clone(),
            name: area.name.clone(),
            drill: area.level() != crate::areas::AreaLevel::Community,
            ratio: ratio_text(f.organizations, f.social_workers, lang),
            short: f.social_workers < f.needed,
            f,
        }
    }
}

#[derive(Template)]
#[template(path = "talent/desk.html")]
struct DeskPage {
    layout: Layout,
    crumbs: Vec<(String, String)>,
    area: AreaRow,
    year: i32,
    load: i64,
    total: RatioLine,
    lines: Vec<RatioLine>,
    without: Vec<(i64, String, String)>,
    over: Vec<(i64, String, String, i64)>,
    training: store::TrainingFigures,
    training_hours: String,
    trained: Vec<(i64, String, i64, String)>,
    can_manage: bool,
}

/// How many organizations without a social worker the desk lists by name.
const LISTED: i64 = 100;

async fn desk(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<DeskQuery>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ViewTalent).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let year = crate::clock::report_year(&q.year, today)?;
    let area = areas::reachable(&mut c, &scope, &q.area).await?;
    let load = load(&mut c).await?;
    let lang = ctx.lang;
    let total = RatioLine::of(
        &area,
        store::ratio(&mut c, area.area_id(), today, load).await?,
        lang,
    );
    let mut lines = Vec::new();
    for child in areas::children(&mut c, area.area_id()).await? {
        let f = store::ratio(&mut c, child.area_id(), today, load).await?;
        lines.push(RatioLine::of(&child, f, lang));
    }
    let training = store::training_figures(&mut c, area.area_id(), year).await?;
    let view = DeskPage {
        layout: ctx.layout_titled(format!("{} · {}", lang.t("talent.desk.title"), area.name)),
        crumbs: areas::path(&mut c, area.area_id())
            .await?
            .into_iter()
            .map(|a| (a.code, a.name))
            .collect(),
        year,
        load,
        without: store::organizations_without_worker(&mut c, area.area_id(), today, LISTED).await?,
        over: store::workers_over_load(&mut c, area.area_id(), today, load).await?,
        training_hours: hours_text(training.minutes),
        trained: store::training_by_organization(&mut c, area.area_id(), year, 20)
            .await?
            .into_iter()
            .map(|(id, name, people, minutes)| (id, name, people, hours_text(minutes)))
            .collect(),
        training,
        can_manage: user.can(Permission::ManageTalent),
        total,
        lines,
        area,
    };
    page_with_errors(&view, &view.layout, &FieldErrors::new())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    kind: String,
    area: String,
    former: String,
}

/// A practitioner, formatted for a list.
pub struct PractitionerLine {
    id: i64,
    name: String,
    kind: &'static str,
    qualification: &'static str,
    employer: String,
    role: String,
    area: String,
    load: i64,
    over: bool,
    left: String,
}

impl PractitionerLine {
    fn of(r: &PractitionerRow, load: i64, lang: Lang) -> PractitionerLine {
        PractitionerLine {
            id: r.id,
            name: r.name.clone(),
            kind: r.kind().label(lang),
            qualification: Qualification::parse(&r.qualification).map_or("", |q| q.label(lang)),
            employer: r.employer_name.clone(),
            role: r.role.clone(),
            area: r.area_name.clone(),
            load: r.load,
            over: r.kind() == PractitionerKind::SocialWorker && r.load > load,
            left: r.ended_on.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

/// The choices of the practitioner form.
pub struct Choices {
    kinds: Vec<(&'static str, &'static str)>,
    qualifications: Vec<(&'static str, &'static str)>,
    employers: Vec<(&'static str, &'static str)>,
    areas: Vec<(String, String)>,
}

impl Choices {
    async fn load(c: &mut Conn<'_>, scope: &Scope, lang: Lang) -> Result<Choices> {
        let mut all = areas::list_all(c).await?;
        all.retain(|a| a.level() != crate::areas::AreaLevel::Community);
        if let Scope::Limited { areas: roots, .. } = scope {
            let mut kept = Vec::new();
            for a in all {
                let path = areas::path(c, a.area_id()).await?;
                if path.iter().any(|p| roots.contains(&p.area_id())) {
                    kept.push(a);
                }
            }
            all = kept;
        }
        Ok(Choices {
            kinds: PractitionerKind::ALL
                .iter()
                .map(|k| (k.as_str(), k.label(lang)))
                .collect(),
            qualifications: Qualification::ALL
                .iter()
                .map(|k| (k.as_str(), k.label(lang)))
                .collect(),
            employers: EmployerKind::ALL
                .iter()
                .map(|k| (k.as_str(), k.label(lang)))
                .collect(),
            areas: all.into_iter().map(|a| (a.code, a.name)).collect(),
        })
    }
}

#[derive(Template)]
#[template(path = "talent/practitioners.html")]
struct PractitionersPage {
    layout: Layout,
    lines: Vec<PractitionerLine>,
    query_kind: String,
    query_area: String,
    former: bool,
    choices: Choices,
    can_manage: bool,
    form: PractitionerForm,
    errors: Vec<(String, String)>,
}

impl PractitionersPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

async fn practitioners_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    q: &ListQuery,
    form: PractitionerForm,
    errors: &FieldErrors,
) -> Result<Response> {
    let scope = require(app, user, Permission::ViewTalent).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let load = load(&mut c).await?;
    let area = match q.area.trim() {
        "" => None,
        code => Some(areas::reachable(&mut c, &scope, code).await?.area_id()),
    };
    let filter = PractitionerFilter {
        kind: PractitionerKind::parse(&q.kind),
        area,
        former: !q.former.is_empty(),
    };
    let rows = store::practitioners(&mut c, &scope, &filter, today).await?;
    let lang = ctx.lang;
    let view = PractitionersPage {
        layout: ctx.layout("talent.practitioners.title"),
        lines: rows
            .iter()
            .map(|r| PractitionerLine::of(r, load, lang))
            .collect(),
        query_kind: q.kind.trim().to_owned(),
        query_area: q.area.trim().to_owned(),
        former: filter.former,
        choices: Choices::load(&mut c, &scope, lang).await?,
        can_manage: user.can(Permission::ManageTalent),
        form,
        errors: errors.render(lang),
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn practitioners(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    let form = PractitionerForm {
        kind: PractitionerKind::SocialWorker.as_str().into(),
        ..PractitionerForm::default()
    };
    practitioners_page(&app, &ctx, &user, &q, form, &FieldErrors::new()).await
}

/// The area a practitioner form names, checked against the manager's reach.
async fn form_area(c: &mut Conn<'_>, code: &str) -> Result<AreaRow> {
    areas::find_by_code(c, code.trim())
        .await?
        .ok_or_else(|| Error::field("area_code", Msg::new("error.field.choice")))
}

async fn create_practitioner(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<PractitionerForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageTalent).await?;
    let outcome = async {
        let p = form.parse().map_err(Error::Invalid)?;
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let area = form_area(&mut c, &form.area_code).await?;
        let at = crate::clock::now(&mut c).await?;
        let id = store::create_practitioner(&mut c, &user.actor(), at, &area, &p).await?;
        tx.commit().await?;
        Ok::<i64, Error>(id)
    }
    .await;
    match outcome {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/admin/practitioners/{id}"),
            "flash.practitioner_saved",
        )),
        Err(Error::Invalid(errors)) => {
            practitioners_page(&app, &ctx, &user, &ListQuery::default(), form, &errors).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "talent/practitioner.html")]
struct PractitionerPage {
    layout: Layout,
    p: PractitionerLine,
    row: PractitionerRow,
    placements: Vec<(PlacementRow, bool)>,
    placeable: Vec<(i64, String)>,
    choices: Choices,
    can_manage: bool,
    form: PractitionerForm,
    placement_form: PlacementForm,
    errors: Vec<(String, String)>,
    today: String,
}

impl PractitionerPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }

    fn social_worker(&self) -> bool {
        self.row.kind() == PractitionerKind::SocialWorker
    }
}

/// A placement as typed: the organization and the first day.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PlacementForm {
    org_id: String,
    started_on: String,
}

/// The end of a placement as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EndForm {
    ended_on: String,
}

async fn practitioner_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: i64,
    forms: (Option<PractitionerForm>, PlacementForm),
    errors: &FieldErrors,
) -> Result<Response> {
    let scope = require(app, user, Permission::ViewTalent).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let load = load(&mut c).await?;
    let row = store::practitioner(&mut c, &scope, id, today).await?;
    let lang = ctx.lang;
    let placements = store::placements(&mut c, id)
        .await?
        .into_iter()
        .map(|p| {
            let open = p.ended_on.is_none_or(|d| d >= today);
            (p, open)
        })
        .collect();
    let can_manage = user.can(Permission::ManageTalent);
    let (form, placement_form) = forms;
    let view = PractitionerPage {
        layout: ctx.layout_titled(row.name.clone()),
        p: PractitionerLine::of(&row, load, lang),
        placements,
        placeable: if can_manage && row.kind() == PractitionerKind::SocialWorker {
            store::placeable(&mut c, &row, today).await?
        } else {
            Vec::new()
        },
        choices: Choices::load(&mut c, &scope, lang).await?,
        can_manage,
        form: form.unwrap_or_else(|| PractitionerForm {
            kind: row.kind.clone(),
            name: row.name.clone(),
            qualification: row.qualification.clone(),
            employer_kind: row.employer_kind.clone(),
            employer_name: row.employer_name.clone(),
            role: row.role.clone(),
            area_code: row.area_code.clone(),
            phone: row.phone.clone(),
            started_on: row.started_on.to_string(),
            ended_on: row.ended_on.map(|d| d.to_string()).unwrap_or_default(),
            version: row.version.to_string(),
        }),
        placement_form,
        errors: errors.render(lang),
        today: today.to_string(),
        row,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn show_practitioner(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    practitioner_page(
        &app,
        &ctx,
        &user,
        id,
        (None, PlacementForm::default()),
        &FieldErrors::new(),
    )
    .await
}

/// Practitioner `id` for a manager's write inside `c`'s transaction, with the business date
/// and the time to record.
async fn for_write(
    c: &mut Conn<'_>,
    id: i64,
) -> Result<(PractitionerRow, NaiveDate, crate::db::Timestamp)> {
    let today = crate::clock::today(c).await?;
    let at = crate::clock::now(c).await?;
    let row = store::practitioner(c, &Scope::All, id, today).await?;
    Ok((row, today, at))
}

/// After a write on practitioner `id`: back to their page with `flash`, or the page again with
/// the forms as typed when the write was refused.
async fn after_write(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: i64,
    forms: (Option<PractitionerForm>, PlacementForm),
    flash: &'static str,
    outcome: Result<()>,
) -> Result<Response> {
    match outcome {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/admin/practitioners/{id}"),
            flash,
        )),
        Err(Error::Invalid(errors)) => practitioner_page(app, ctx, user, id, forms, &errors).await,
        Err(e) => Err(e),
    }
}

async fn update_practitioner(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<PractitionerForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageTalent).await?;
    let outcome = async {
        let p = form.parse().map_err(Error::Invalid)?;
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let (row, _, at) = for_write(&mut c, id).await?;
        let area = form_area(&mut c, &form.area_code).await?;
        let version = form.version.trim().parse().unwrap_or(-1);
        store::update_practitioner(&mut c, &user.actor(), at, &row, version, &area, &p).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    let forms = (Some(form), PlacementForm::default());
    after_write(
        &app,
        &ctx,
        &user,
        id,
        forms,
        "flash.practitioner_saved",
        outcome,
    )
    .await
}

async fn place(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<PlacementForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageTalent).await?;
    let outcome = async {
        let mut e = FieldErrors::new();
        let org = form.org_id.trim().parse::<i64>().unwrap_or_else(|_| {
            e.add("org_id", Msg::new("error.field.choice"));
            0
        });
        let started_on = e.required_date("started_on", &form.started_on);
        e.into_result(())?;
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let (row, _, at) = for_write(&mut c, id).await?;
        store::place(&mut c, &user.actor(), at, &row, org, started_on).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    let forms = (None, form);
    after_write(
        &app,
        &ctx,
        &user,
        id,
        forms,
        "flash.placement_saved",
        outcome,
    )
    .await
}

async fn end_placement(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path((id, placement)): Path<(i64, i64)>,
    Form(form): Form<EndForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageTalent).await?;
    let outcome = async {
        let mut e = FieldErrors::new();
        let ended_on = e.required_date("ended_on", &form.ended_on);
        e.into_result(())?;
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let (row, _, at) = for_write(&mut c, id).await?;
        store::end_placement(&mut c, &user.actor(), at, &row, placement, ended_on).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    let forms = (None, PlacementForm::default());
    after_write(
        &app,
        &ctx,
        &user,
        id,
        forms,
        "flash.placement_ended",
        outcome,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct YearQuery {
    year: String,
}

/// A training session, formatted for a list.
pub struct TrainingLine {
    id: i64,
    series: String,
    topic: String,
    speaker: String,
    held_on: String,
    hours: String,
    place: String,
    capacity: i64,
    signed_up: i64,
    attended: i64,
    seats_left: i64,
    open: bool,
}

impl TrainingLine {
    fn of(t: &store::TrainingRow, today: NaiveDate) -> TrainingLine {
        TrainingLine {
            id: t.id,
            series: t.series.clone(),
            topic: t.topic.clone(),
            speaker: t.speaker.clone(),
            held_on: t.held_on.to_string(),
            hours: t.hours(),
            place: t.place.clone(),
            capacity: t.capacity,
            signed_up: t.signed_up,
            attended: t.attended,
            seats_left: t.seats_left(),
            open: t.held_on >= today,
        }
    }
}

#[derive(Template)]
#[template(path = "talent/trainings.html")]
struct TrainingsPage {
    layout: Layout,
    year: i32,
    years: Vec<i32>,
    lines: Vec<TrainingLine>,
    can_manage: bool,
    form: TrainingForm,
    errors: Vec<(String, String)>,
}

impl TrainingsPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

async fn trainings_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    year: &str,
    form: TrainingForm,
    errors: &FieldErrors,
) -> Result<Response> {
    require(app, user, Permission::ViewTalent).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let year = match year.trim() {
        "" => today.year(),
        y => crate::clock::report_year(y, today)?,
    };
    let lines = store::trainings(&mut c, Some(year))
        .await?
        .iter()
        .map(|t| TrainingLine::of(t, today))
        .collect();
    let view = TrainingsPage {
        layout: ctx.layout("talent.trainings.title"),
        years: (today.year() - 4..=today.year()).rev().collect(),
        year,
        lines,
        can_manage: user.can(Permission::ManageTalent),
        form,
        errors: errors.render(ctx.lang),
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn admin_trainings(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<YearQuery>,
) -> Result<Response> {
    let form = TrainingForm {
        series: ctx.lang.t("talent.series.lecture").to_owned(),
        hours: "2".into(),
        capacity: "100".into(),
        ..TrainingForm::default()
    };
    trainings_page(&app, &ctx, &user, &q.year, form, &FieldErrors::new()).await
}

async fn create_training(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<TrainingForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageTalent).await?;
    let outcome = async {
        let t = form.parse().map_err(Error::Invalid)?;
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let at = crate::clock::now(&mut c).await?;
        let id = store::create_training(&mut c, &user.actor(), at, &t).await?;
        tx.commit().await?;
        Ok::<i64, Error>(id)
    }
    .await;
    match outcome {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/admin/trainings/{id}"),
            "flash.training_saved",
        )),
        Err(Error::Invalid(errors)) => trainings_page(&app, &ctx, &user, "", form, &errors).await,
        Err(e) => Err(e),
    }
}

/// A training form together with the version it was loaded at.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TrainingEdit {
    #[serde(flatten)]
    form: TrainingForm,
    version: String,
}

#[derive(Template)]
#[template(path = "talent/training.html")]
struct TrainingPage {
    layout: Layout,
    t: TrainingLine,
    version: i64,
    signups: Vec<store::SignupRow>,
    held: bool,
    can_manage: bool,
    form: TrainingForm,
    errors: Vec<(String, String)>,
}

impl TrainingPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

async fn training_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: i64,
    form: Option<TrainingForm>,
    errors: &FieldErrors,
) -> Result<Response> {
    let scope = require(app, user, Permission::ViewTalent).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let t = store::training(&mut c, id).await?;
    let view = TrainingPage {
        layout: ctx.layout_titled(t.topic.clone()),
        signups: store::signups(&mut c, &scope, id).await?,
        held: t.held_on <= today,
        can_manage: user.can(Permission::ManageTalent),
        version: t.version,
        form: form.unwrap_or_else(|| TrainingForm {
            series: t.series.clone(),
            topic: t.topic.clone(),
            speaker: t.speaker.clone(),
            held_on: t.held_on.to_string(),
            hours: t.hours(),
            place: t.place.clone(),
            capacity: t.capacity.to_string(),
        }),
        t: TrainingLine::of(&t, today),
        errors: errors.render(ctx.lang),
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn show_training(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    training_page(&app, &ctx, &user, id, None, &FieldErrors::new()).await
}

async fn update_training(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(edit): Form<TrainingEdit>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageTalent).await?;
    let outcome = async {
        let t = edit.form.parse().map_err(Error::Invalid)?;
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let at = crate::clock::now(&mut c).await?;
        let current = store::training(&mut c, id).await?;
        let version = edit.version.trim().parse().unwrap_or(-1);
        store::update_training(&mut c, &user.actor(), at, &current, version, &t).await?;
        tx.commit().await?;
        Ok::<(), Error>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/admin/trainings/{id}"),
            "flash.training_saved",
        )),
        Err(Error::Invalid(errors)) => {
            training_page(&app, &ctx, &user, id, Some(edit.form), &errors).await
        }
        Err(e) => Err(e),
    }
}

async fn record_attendance(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageTalent).await?;
    let present: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "attended")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let outcome = async {
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let today = crate::clock::today(&mut c).await?;
        let at = crate::clock::now(&mut c).await?;
        let t = store::training(&mut c, id).await?;
        store::record_attendance(&mut c, &user.actor(), at, &t, &present, today).await?;
        tx.commit().await?;
        Ok::<(), Error>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/admin/trainings/{id}"),
            "flash.attendance_saved",
        )),
        Err(Error::Invalid(errors)) => training_page(&app, &ctx, &user, id, None, &errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "talent/public_trainings.html")]
struct PublicTrainingsPage {
    layout: Layout,
    upcoming: Vec<TrainingLine>,
    past: Vec<TrainingLine>,
    /// The organizations the reader may sign people up for.
    orgs: Vec<(i64, String)>,
    /// Their sign-ups: (session topic, date, people, attended, hours received).
    mine: Vec<(String, String, i64, i64, String)>,
    sign_up_for: i64,
    errors: Vec<(String, String)>,
    attendees: String,
}

/// The organizations `user` may sign people up for: (id, name).
async fn signing_orgs(c: &mut Conn<'_>, user: Option<&CurrentUser>) -> Result<Vec<(i64, String)>> {
    let Some(user) = user else {
        return Ok(Vec::new());
    };
    let scope = user.scope(Permission::SignUpTraining);
    let Scope::Limited { orgs, .. } = &scope else {
        return Ok(Vec::new());
    };
    let ids: Vec<i64> = orgs.iter().map(|o| o.0).collect();
    Ok(crate::registry::store::find_many(c, &scope, &ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

async fn public_page(
    app: &AppState,
    ctx: &PageCtx,
    user: Option<&CurrentUser>,
    failed: Option<(i64, String, &FieldErrors)>,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let all = store::trainings(&mut c, None).await?;
    let (mut upcoming, past): (Vec<_>, Vec<_>) = all
        .iter()
        .map(|t| TrainingLine::of(t, today))
        .partition(|t| t.open);
    upcoming.reverse();
    let orgs = signing_orgs(&mut c, user).await?;
    let mut mine = Vec::new();
    for (org_id, _) in &orgs {
        for (t, people, attended) in store::org_trainings(&mut c, *org_id).await? {
            mine.push((
                t.topic.clone(),
                t.held_on.to_string(),
                people,
                attended,
                hours_text(attended * t.minutes),
            ));
        }
    }
    let none = FieldErrors::new();
    let (sign_up_for, attendees, errors) = match failed {
        Some((id, text, errors)) => (id, text, errors),
        None => (0, String::new(), &none),
    };
    let view = PublicTrainingsPage {
        layout: ctx.layout("talent.public.title"),
        upcoming,
        past: past.into_iter().take(30).collect(),
        orgs,
        mine,
        sign_up_for,
        attendees,
        errors: errors.render(ctx.lang),
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn public_trainings(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: Option<CurrentUser>,
) -> Result<Response> {
    public_page(&app, &ctx, user.as_ref(), None).await
}

/// People to sign up, as typed: one name per line, for one organization.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignupForm {
    org_id: String,
    attendees: String,
}

async fn sign_up(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<SignupForm>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::SignUpTraining).await?;
    let outcome = async {
        let mut e = FieldErrors::new();
        let org_id = form.org_id.trim().parse::<i64>().unwrap_or(0);
        let allowed =
            matches!(&scope, Scope::Limited { orgs, .. } if orgs.iter().any(|o| o.0 == org_id));
        if !allowed {
            e.add("org_id", Msg::new("error.field.choice"));
        }
        let names = parse_attendees(&form.attendees).unwrap_or_else(|errors| {
            e.0.extend(errors.0);
            Vec::new()
        });
        e.into_result(())?;
        let mut tx = app.db.begin().await?;
        let mut c = tx.conn();
        let today = crate::clock::today(&mut c).await?;
        let at = crate::clock::now(&mut c).await?;
        let t = store::training(&mut c, id).await?;
        store::sign_up(&mut c, &user.actor(), at, &t, org_id, &names, today).await?;
        tx.commit().await?;
        Ok::<(), Error>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(redirect_with_flash("/trainings", "flash.signed_up")),
        Err(Error::Invalid(errors)) => {
            public_page(&app, &ctx, Some(&user), Some((id, form.attendees, &errors))).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SummaryQuery {
    area: String,
    year: String,
}

/// `GET /api/v1/talent/summary?area=&year=`: the ratio figures on the business date and the
/// training figures of the year, counted from the records (aggregates only, public).
async fn api_summary(
    State(app): State<AppState>,
    Query(q): Query<SummaryQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let year = crate::clock::report_year(&q.year, today)?;
    let area = areas::reachable(&mut c, &Scope::All, &q.area).await?;
    let load = load(&mut c).await?;
    let ratio = store::ratio(&mut c, area.area_id(), today, load).await?;
    let training = store::training_figures(&mut c, area.area_id(), year).await?;
    Ok(Json(serde_json::json!({
        "area": area.code,
        "as_of": today,
        "year": year,
        "organizations_per_social_worker": load,
        "organizations": ratio.organizations,
        "social_workers": ratio.social_workers,
        "professionals": ratio.professionals,
        "social_workers_needed": ratio.needed,
        "organizations_without_social_worker": ratio.without_social_worker,
        "social_workers_over_load": ratio.over_load,
        "training_sessions": training.sessions,
        "training_attendances": training.attendances,
        "organizations_trained": training.organizations_trained,
        "training_hours": training.minutes as f64 / 60.0,
    })))
}
