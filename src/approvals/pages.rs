//! Applicants' pages (`/applications`: file, save a draft, submit, correct, withdraw) and the
//! staff queue (`/admin/applications`: accept, review, return, approve, reject, hand over).

use super::documents::{DocType, check_upload, clean_filename};
use super::store::{self, ApplicationRow, NewApplication, Queue, Viewer, china_date};
use super::{Action, Actor, ApplicationId, ApplicationKind, State};
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission, Role, UserId, deny, require};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use crate::registry::pages::{Choice, domain_choices, grade_choices, kind_choices, status_choices};
use crate::registry::{OrgForm, OrgId};
use crate::web::{Layout, PageCtx, china_time, page, page_with_errors, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, Query, State as AxumState};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications", get(my_applications).post(create))
        .route("/applications/new", get(new_form))
        .route("/applications/{id}", get(show))
        .route("/applications/{id}/edit", get(edit_form).post(save_edit))
        .route(
            "/applications/{id}/documents",
            // Room for the largest document we accept plus the multipart envelope; the check
            // that names the limit to the applicant is in `documents::check_upload`.
            post(upload).layer(axum::extract::DefaultBodyLimit::max(
                super::documents::MAX_UPLOAD_BYTES + 64 * 1024,
            )),
        )
        .route("/applications/{id}/documents/{doc}", get(download))
        .route("/applications/{id}/action", post(act))
        .route("/admin/applications", get(queue))
        .route("/admin/applications/{id}/handover", post(hand_over))
}

/// An application in a list, formatted.
pub struct Line {
    id: i64,
    kind: &'static str,
    state: &'static str,
    org_name: String,
    area: String,
    owner: String,
    submitted: String,
    deadline: String,
    /// Days left (negative: overdue), when the clock runs.
    days_left: Option<i64>,
    /// The count-down as words ("剩余 12 天", "已超期 3 天").
    clock: String,
}

impl Line {
    fn of(row: &ApplicationRow, lang: Lang, calendar: &super::Calendar) -> Line {
        let today = china_date(Utc::now());
        let running = row.state().clock_runs();
        let days_left = row
            .deadline(calendar)
            .filter(|_| running)
            .map(|d| super::days_left(d, today));
        let clock = match days_left {
            Some(d) if d < 0 => lang.tf("application.overdue_days", &[("days", &(-d).to_string())]),
            Some(d) => lang.tf("application.days_left", &[("days", &d.to_string())]),
            None => String::new(),
        };
        Line {
            clock,
            id: row.id,
            kind: row.kind().label(lang),
            state: row.state().label(lang),
            org_name: row.org_name.clone(),
            area: row.area_name.clone(),
            owner: row.owner.clone().unwrap_or_default(),
            submitted: row.submitted_at.map(china_time).unwrap_or_default(),
            deadline: row
                .deadline(calendar)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            days_left,
        }
    }

    fn overdue(&self) -> bool {
        self.days_left.is_some_and(|d| d < 0)
    }
}

#[derive(Template)]
#[template(path = "approvals/mine.html")]
struct MinePage {
    layout: Layout,
    lines: Vec<Line>,
    /// The organization account's own organization (for change and deregistration).
    has_org: bool,
}

async fn my_applications(
    AxumState(app): AxumState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    require(&app, &user, Permission::Apply).await?;
    let mut conn = app.db.acquire().await?;
    let calendar = store::calendar(&mut conn.conn()).await?;
    let rows = store::list(
        &mut conn.conn(),
        &Viewer::Applicant(user.id),
        Queue::All,
        &calendar,
    )
    .await?;
    let view = MinePage {
        layout: ctx.layout("application.mine.title"),
        lines: rows
            .iter()
            .map(|r| Line::of(r, ctx.lang, &calendar))
            .collect(),
        has_org: own_org(&user).is_some(),
    };
    page(&view, &view.layout)
}

/// The organization an organization account speaks for, if its account is tied to one.
fn own_org(user: &CurrentUser) -> Option<OrgId> {
    user.grants
        .iter()
        .find(|g| g.role == Role::Org)
        .and_then(|g| g.org)
}

/// The account's own organization, for what only an organization can ask (a change, its
/// deregistration); anyone else is refused, and the refusal audited.
async fn require_own_org(app: &AppState, user: &CurrentUser) -> Result<OrgId> {
    match own_org(user) {
        Some(org) => Ok(org),
        None => Err(deny(app, user, "permission", None, "Apply (own)").await),
    }
}

#[derive(Template)]
#[template(path = "approvals/form.html")]
struct FormPage {
    layout: Layout,
    /// The application being corrected (None: a new one).
    edit_id: Option<i64>,
    /// Its version, for optimistic concurrency.
    version: i64,
    kind: &'static str,
    kind_label: &'static str,
    form: OrgForm,
    consent_unit: String,
    errors: Vec<(String, String)>,
    kinds: Vec<Choice>,
    domains: Vec<Choice>,
    statuses: Vec<Choice>,
    grades: Vec<Choice>,
    area_options: Vec<(String, String)>,
    /// The shared fields template hides status and grade on applications.
    application: bool,
    /// Deregistration: the facts are the registry's, nothing to edit.
    limited: bool,
    /// The charter declared to carry the party-building clause.
    charter_clause: bool,
}

impl FormPage {
    /// The error shown under `field` (used by the shared fields template).
    fn error(&self, field: &str) -> &str {
        crate::web::field_error(&self.errors, field)
    }

    fn direct_checked(&self) -> bool {
        self.form.direct_registration.is_some()
    }

    fn brand_checked(&self) -> bool {
        self.form.brand.is_some()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NewQuery {
    kind: String,
}

/// Which application a form page edits, if any: (id, version).
type Editing = Option<(i64, i64)>;

async fn form_page(
    app: &AppState,
    ctx: &PageCtx,
    kind: ApplicationKind,
    editing: Editing,
    form: OrgForm,
    (consent_unit, charter_clause): (String, bool),
    errors: &FieldErrors,
) -> Result<Response> {
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let domains = crate::registry::store::list_domains(&mut c).await?;
    let areas = crate::areas::store::list_all(&mut c).await?;
    let view = FormPage {
        layout: ctx.layout("application.new.title"),
        edit_id: editing.map(|(id, _)| id),
        version: editing.map_or(0, |(_, v)| v),
        kind: kind.as_str(),
        kind_label: kind.label(lang),
        kinds: kind_choices(lang, &form.kind),
        domains: domain_choices(&domains, lang, &form.domain),
        statuses: status_choices(lang, "active"),
        grades: grade_choices(lang, ""),
        area_options: areas.into_iter().map(|a| (a.code, a.name)).collect(),
        errors: errors.render(lang),
        limited: kind == ApplicationKind::Deregistration,
        charter_clause,
        application: true,
        consent_unit,
        form,
    };
    page_with_errors(&view, &view.layout, errors)
}

/// The account's own organization if it is a social group in preparation (筹备中).
async fn preparing_org(app: &AppState, user: &CurrentUser) -> Result<Option<OrgId>> {
    let Some(org) = own_org(user) else {
        return Ok(None);
    };
    let mut conn = app.db.acquire().await?;
    let row =
        crate::registry::store::find(&mut conn.conn(), &user.scope(Permission::ViewRegistry), org)
            .await?;
    Ok(row
        .filter(|r| r.status() == crate::registry::OrgStatus::Preparing)
        .map(|r| r.org_id()))
}

/// The form an organization account starts a change or deregistration from: its record.
async fn own_form(app: &AppState, user: &CurrentUser) -> Result<OrgForm> {
    let org = require_own_org(app, user).await?;
    let mut conn = app.db.acquire().await?;
    let row =
        crate::registry::store::find(&mut conn.conn(), &user.scope(Permission::ViewRegistry), org)
            .await?
            .ok_or(Error::NotFound)?;
    Ok(OrgForm::from_row(&row))
}

async fn new_form(
    AxumState(app): AxumState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<NewQuery>,
) -> Result<Response> {
    require(&app, &user, Permission::Apply).await?;
    let kind = ApplicationKind::parse(&q.kind).unwrap_or(ApplicationKind::Establishment);
    let form = match kind {
        ApplicationKind::Change | ApplicationKind::Deregistration => own_form(&app, &user).await?,
        ApplicationKind::Filing => OrgForm {
            kind: "community".into(),
            ..OrgForm::default()
        },
        // A social group in preparation continues from its record.
        ApplicationKind::Establishment => match preparing_org(&app, &user).await? {
            Some(_) => own_form(&app, &user).await?,
            None => OrgForm::default(),
        },
        ApplicationKind::Preparation => OrgForm {
            kind: "social_group".into(),
            ..OrgForm::default()
        },
    };
    form_page(
        &app,
        &ctx,
        kind,
        None,
        form,
        (String::new(), false),
        &FieldErrors::new(),
    )
    .await
}

/// What the application form adds to the organization's fields (both are read from the same
/// posted body: serde's `flatten` does not mix with optional checkbox fields).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApplicationForm {
    application_kind: String,
    /// "on" when the applicant declares the charter carries the party-building clause.
    charter_party_clause: Option<String>,
    consent_unit: String,
}

async fn create(
    AxumState(app): AxumState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    body: axum::body::Bytes,
) -> Result<Response> {
    require(&app, &user, Permission::Apply).await?;
    let bad_body = |_| Error::Invalid(FieldErrors::new());
    let posted: ApplicationForm = serde_urlencoded::from_bytes(&body).map_err(bad_body)?;
    let org: OrgForm = serde_urlencoded::from_bytes(&body).map_err(bad_body)?;
    let kind = ApplicationKind::parse(&posted.application_kind).ok_or(Error::NotFound)?;
    let target = match kind {
        ApplicationKind::Change | ApplicationKind::Deregistration => {
            Some(require_own_org(&app, &user).await?)
        }
        ApplicationKind::Establishment => preparing_org(&app, &user).await?,
        _ => None,
    };
    let mut form = org;
    if kind == ApplicationKind::Deregistration {
        // Deregistration asks to end the record as it stands; nothing else is taken from the post.
        form = own_form(&app, &user).await?;
    }
    let new = NewApplication {
        kind,
        form: form.clone(),
        consent_unit: Some(posted.consent_unit.clone()),
        target,
        charter_party_clause: posted.charter_party_clause.is_some(),
    };
    let now = Utc::now();
    let mut tx = app.db.begin().await?;
    let created = store::create_draft(&mut tx.conn(), &user.actor(), user.id, now, &new).await;
    let id = match created {
        Ok(id) => id,
        Err(Error::Invalid(errors)) => {
            drop(tx);
            return form_page(
                &app,
                &ctx,
                kind,
                None,
                form,
                (posted.consent_unit, posted.charter_party_clause.is_some()),
                &errors,
            )
            .await;
        }
        Err(e) => return Err(e),
    };
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/applications/{}", id.0),
        "flash.application_saved",
    ))
}

async fn edit_form(
    AxumState(app): AxumState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require(&app, &user, Permission::Apply).await?;
    let mut conn = app.db.acquire().await?;
    let row = store::find(
        &mut conn.conn(),
        &Viewer::Applicant(user.id),
        ApplicationId(id),
    )
    .await?
    .ok_or(Error::NotFound)?;
    drop(conn);
    let consent = row.consent_unit.clone().unwrap_or_default();
    form_page(
        &app,
        &ctx,
        row.kind(),
        Some((row.id, row.version)),
        row.form(),
        (consent, row.charter_party_clause),
        &FieldErrors::new(),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EditExtras {
    consent_unit: String,
    charter_party_clause: Option<String>,
    version: String,
}

async fn save_edit(
    AxumState(app): AxumState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response> {
    require(&app, &user, Permission::Apply).await?;
    let bad_body = |_| Error::Invalid(FieldErrors::new());
    let extras: EditExtras = serde_urlencoded::from_bytes(&body).map_err(bad_body)?;
    let form: OrgForm = serde_urlencoded::from_bytes(&body).map_err(bad_body)?;
    let version: i64 = extras
        .version
        .trim()
        .parse()
        .map_err(|_| Error::Conflict(Msg::new("application.error.stale")))?;
    let mut tx = app.db.begin().await?;
    let row = store::find(
        &mut tx.conn(),
        &Viewer::Applicant(user.id),
        ApplicationId(id),
    )
    .await?
    .ok_or(Error::NotFound)?;
    let new = NewApplication {
        kind: row.kind(),
        form: form.clone(),
        consent_unit: Some(extras.consent_unit.clone()),
        target: row.org_id.map(OrgId),
        charter_party_clause: extras.charter_party_clause.is_some(),
    };
    match store::update_form(
        &mut tx.conn(),
        &user.actor(),
        user.id,
        Utc::now(),
        ApplicationId(id),
        version,
        &new,
    )
    .await
    {
        Ok(()) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/applications/{id}"),
                "flash.application_saved",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            form_page(
                &app,
                &ctx,
                row.kind(),
                Some((id, version)),
                form,
                (extras.consent_unit, extras.charter_party_clause.is_some()),
                &errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// A transition of the application, formatted.
pub struct EventLine {
    at: String,
    actor: String,
    action: String,
    to_state: &'static str,
    reason: String,
}

#[derive(Template)]
#[template(path = "approvals/show.html")]
struct ShowPage {
    layout: Layout,
    line: Line,
    version: i64,
    facts: Vec<(&'static str, String)>,
    consent_unit: String,
    events: Vec<EventLine>,
    /// The actions this viewer may take now.
    actions: Vec<(&'static str, &'static str, bool)>,
    /// Staff may hand the item over.
    staff: bool,
    /// The applicant may still edit the form (draft, or returned for correction).
    editable: bool,
    /// The documents attached.
    documents: Vec<DocumentLine>,
    /// Required documents not yet attached.
    missing: Vec<&'static str>,
    /// Document types an applicant may upload.
    doc_types: Vec<(&'static str, &'static str)>,
    /// Staff see this when an establishment's charter is not declared to carry the
    /// party-building clause.
    charter_flag: bool,
    org_id: Option<i64>,
}

/// How the viewer acts on this application, and the viewer to read it with: staff first (in
/// their scope), else the applicant.
async fn viewer_for(
    app: &AppState,
    user: &CurrentUser,
    id: ApplicationId,
) -> Result<(Viewer, ApplicationRow, Actor)> {
    let mut conn = app.db.acquire().await?;
    if user.can(Permission::HandleApplications) {
        let viewer = Viewer::Staff(user.scope(Permission::HandleApplications));
        if let Some(row) = store::find(&mut conn.conn(), &viewer, id).await?
            && row.applicant_user_id != user.id.0
        {
            let actor = if user.has_role(Role::Registrar) || user.has_role(Role::Admin) {
                Actor::Registrar
            } else if user.has_role(Role::AreaOfficer) {
                Actor::AreaOfficer
            } else {
                Actor::Window
            };
            return Ok((viewer, row, actor));
        }
    }
    let viewer = Viewer::Applicant(user.id);
    let row = store::find(&mut conn.conn(), &viewer, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((viewer, row, Actor::Applicant))
}

async fn show(
    AxumState(app): AxumState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let lang = ctx.lang;
    let (_, row, who) = viewer_for(&app, &user, ApplicationId(id)).await?;
    let mut conn = app.db.acquire().await?;
    let events = store::events(&mut conn.conn(), ApplicationId(id)).await?;
    let documents = store::attachments(&mut conn.conn(), ApplicationId(id)).await?;
    let missing = store::missing_documents(&mut conn.conn(), &row).await?;
    let calendar = store::calendar(&mut conn.conn()).await?;
    let form = row.form();
    let domain = crate::registry::store::list_domains(&mut conn.conn())
        .await?
        .into_iter()
        .find(|d| d.code == form.domain)
        .map_or(form.domain.clone(), |d| d.name(lang).to_owned());
    let facts = vec![
        (lang.t("org.field.name"), form.name.clone()),
        (
            lang.t("org.field.kind"),
            crate::registry::OrgKind::parse(&form.kind)
                .map_or(form.kind.clone(), |k| k.label(lang).to_owned()),
        ),
        (lang.t("org.field.domain"), domain),
        (
            lang.t("org.field.area_code"),
            format!("{}（{}）", row.area_name, row.area_code),
        ),
        (
            lang.t("org.field.legal_representative"),
            form.legal_representative.clone(),
        ),
        (lang.t("org.field.address"), form.address.clone()),
        (
            lang.t("org.field.business_scope"),
            form.business_scope.clone(),
        ),
        (lang.t("application.applicant"), row.applicant.clone()),
    ];
    let state = row.state();
    let actions = Action::ALL
        .iter()
        .filter(|a| {
            super::transition(row.kind(), state, **a, who, row.accepted_at.is_some()).is_ok()
        })
        .map(|a| {
            (
                a.as_str(),
                lang.t(&format!("application.action.{}", a.as_str())),
                a.needs_reason(),
            )
        })
        .collect();
    let view = ShowPage {
        layout: ctx.layout_titled(format!("{} · {}", row.kind().label(lang), row.org_name)),
        line: Line::of(&row, lang, &calendar),
        version: row.version,
        facts,
        consent_unit: row.consent_unit.clone().unwrap_or_default(),
        events: events
            .into_iter()
            .map(|e| EventLine {
                at: china_time(e.at),
                actor: e.actor,
                to_state: State::parse(&e.to_state).map_or("", |s| s.label(lang)),
                action: Action::parse(&e.action).map_or_else(
                    || lang.t("application.action.handover").to_owned(),
                    |a| {
                        lang.t(&format!("application.action.{}", a.as_str()))
                            .to_owned()
                    },
                ),
                reason: e.reason.unwrap_or_default(),
            })
            .collect(),
        actions,
        staff: who != Actor::Applicant,
        editable: who == Actor::Applicant && matches!(state, State::Draft | State::Returned),
        documents: documents
            .into_iter()
            .map(|d| DocumentLine {
                id: d.id,
                label: DocType::parse(&d.doc_type).map_or("", |t| t.label(lang)),
                filename: d.filename,
                size_kb: (d.size + 1023) / 1024,
                sha256: d.sha256,
            })
            .collect(),
        missing: missing.iter().map(|d| d.label(lang)).collect(),
        doc_types: DocType::ALL
            .iter()
            .map(|d| (d.as_str(), d.label(lang)))
            .collect(),
        charter_flag: who != Actor::Applicant
            && row.kind() == ApplicationKind::Establishment
            && !row.charter_party_clause,
        org_id: row.org_id,
    };
    page(&view, &view.layout)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActionForm {
    action: String,
    reason: String,
    version: String,
}

async fn act(
    AxumState(app): AxumState<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> Result<Response> {
    let id = ApplicationId(id);
    let (viewer, _, who) = viewer_for(&app, &user, id).await?;
    let action = Action::parse(&form.action)
        .ok_or_else(|| Error::field("action", Msg::new("error.field.choice")))?;
    let version = form
        .version
        .trim()
        .parse()
        .map_err(|_| Error::Conflict(Msg::new("application.error.stale")))?;
    let mut tx = app.db.begin().await?;
    store::act(
        &mut tx.conn(),
        &viewer,
        who,
        &user.actor(),
        Utc::now(),
        id,
        version,
        action,
        Some(&form.reason),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/applications/{}", id.0),
        "flash.application_moved",
    ))
}

#[derive(Template)]
#[template(path = "approvals/queue.html")]
struct QueuePage {
    layout: Layout,
    lines: Vec<Line>,
    queue: String,
    figures: Vec<FigureLine>,
}

/// Processing-time figures of one kind and month, formatted.
pub struct FigureLine {
    kind: &'static str,
    month: String,
    decided: usize,
    median: String,
    p90: i64,
    within: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct QueueQuery {
    queue: String,
}

async fn queue(
    AxumState(app): AxumState<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<QueueQuery>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::HandleApplications).await?;
    let which = match q.queue.as_str() {
        "unowned" => Queue::Unowned,
        "open" => Queue::Open,
        "all" => Queue::All,
        _ => Queue::Mine(user.id),
    };
    let mut conn = app.db.acquire().await?;
    let viewer = Viewer::Staff(scope);
    let calendar = store::calendar(&mut conn.conn()).await?;
    let rows = store::list(&mut conn.conn(), &viewer, which, &calendar).await?;
    let figures = store::processing_figures(&mut conn.conn(), &viewer, &calendar).await?;
    let view = QueuePage {
        figures: figures
            .into_iter()
            .rev()
            .map(|f| FigureLine {
                kind: f.kind.label(ctx.lang),
                month: f.month,
                decided: f.decided,
                median: format!("{:.1}", f.median_days),
                p90: f.p90_days,
                within: format!("{:.0}%", f.within_limit * 100.0),
            })
            .collect(),
        layout: ctx.layout("application.queue.title"),
        lines: rows
            .iter()
            .map(|r| Line::of(r, ctx.lang, &calendar))
            .collect(),
        queue: if q.queue.is_empty() {
            "mine".into()
        } else {
            q.queue
        },
    };
    page(&view, &view.layout)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HandoverForm {
    username: String,
    reason: String,
}

async fn hand_over(
    AxumState(app): AxumState<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<HandoverForm>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::HandleApplications).await?;
    let mut tx = app.db.begin().await?;
    let target =
        crate::auth::store::find_user_by_name(&mut tx.conn(), form.username.trim()).await?;
    let mut errors = FieldErrors::new();
    if form.reason.trim().is_empty() {
        errors.add("reason", Msg::new("application.error.reason_required"));
    }
    let to = match target {
        Some(u) => UserId(u.id),
        None => {
            errors.add("username", Msg::new("application.error.unknown_staff"));
            return Err(Error::Invalid(errors));
        }
    };
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    store::hand_over(
        &mut tx.conn(),
        &Viewer::Staff(scope),
        &user.actor(),
        Utc::now(),
        ApplicationId(id),
        to,
        form.reason.trim(),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/applications/{id}"),
        "flash.application_moved",
    ))
}

/// A document on the application page.
pub struct DocumentLine {
    id: i64,
    label: &'static str,
    filename: String,
    size_kb: i64,
    sha256: String,
}

/// Uploads one document (multipart: `doc_type` and `file`); the CSRF token rides in the query
/// string because the session guard does not read multipart bodies.
async fn upload(
    AxumState(app): AxumState<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response> {
    require(&app, &user, Permission::Apply).await?;
    let too_large = || {
        Msg::new("document.error.too_large")
            .with("max_mb", super::documents::MAX_UPLOAD_BYTES / 1024 / 1024)
    };
    // A body cut short or not multipart is refused as such, not as too large.
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        Error::field(
            "file",
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                Msg::new("upload.error.malformed")
            },
        )
    };
    let mut doc_type = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(unreadable(e)),
        };
        match field.name() {
            Some("doc_type") => doc_type = DocType::parse(&field.text().await.unwrap_or_default()),
            Some("file") => {
                let name = clean_filename(field.file_name().unwrap_or(""));
                let bytes = field.bytes().await.map_err(unreadable)?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let doc_type =
        doc_type.ok_or_else(|| Error::field("doc_type", Msg::new("error.field.choice")))?;
    let (filename, bytes) =
        file.ok_or_else(|| Error::field("file", Msg::new("document.error.empty")))?;
    let content_type = check_upload(&bytes).map_err(|m| Error::field("file", m))?;
    let scanned = bytes.clone();
    tokio::task::spawn_blocking(move || super::documents::scan(&scanned))
        .await
        .map_err(|e| Error::Other(e.to_string()))?
        .map_err(|m| Error::field("file", m))?;
    let mut tx = app.db.begin().await?;
    store::attach(
        &mut tx.conn(),
        &app.settings.document_store(),
        &user.actor(),
        user.id,
        Utc::now(),
        ApplicationId(id),
        doc_type,
        &filename,
        content_type,
        bytes,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/applications/{id}"),
        "flash.document_added",
    ))
}

/// Downloads a document, for whoever may see its application.
async fn download(
    AxumState(app): AxumState<AppState>,
    user: CurrentUser,
    Path((id, doc)): Path<(i64, i64)>,
) -> Result<Response> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let (viewer, _, _) = viewer_for(&app, &user, ApplicationId(id)).await?;
    let mut conn = app.db.acquire().await?;
    let (filename, content_type, data) = store::attachment_data(
        &mut conn.conn(),
        &app.settings.document_store(),
        &viewer,
        ApplicationId(id),
        doc,
    )
    .await?
    .ok_or(Error::NotFound)?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        crate::web::percent_encode(&filename)
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        data,
    )
        .into_response())
}
