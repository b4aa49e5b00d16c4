//! The back office for the registry: organization list with filters, create, edit, and the
//! profile with its timeline and "as of" view; the domain dictionary.

use super::api::{ListQuery, ListRequest, page_and_counts, parse_filter};
use super::store::{self, DomainDraft, DomainRow, OrgOrder, Updated};
use super::{Grade, HISTORY_FIELDS, OrgForm, OrgId, OrgKind, OrgStatus};
use crate::app::AppState;
use crate::areas::store::{self as areas, AreaRow};
use crate::auth::{CurrentUser, Permission, Scope, require};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use crate::web::{
    Layout, PageCtx, china_time, invalid_page, money, page, page_with_errors, percent_encode,
    redirect_with_flash,
};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use std::collections::HashMap;

/// Every route of this module.
pub fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/admin/orgs", get(list).post(create))
        .route("/admin/orgs/new", get(new_form))
        .route("/admin/orgs/{id}", get(show).post(update))
        .route("/admin/orgs/{id}/edit", get(edit_form))
        .route("/admin/orgs/{id}/certificate", get(certificate))
        .route("/admin/domains", get(domains).post(create_domain))
        .route("/admin/domains/{id}", post(update_domain))
}

/// A choice in a `<select>`.
pub struct Choice {
    /// The submitted value.
    pub value: String,
    /// What the reader sees.
    pub label: String,
    /// Pre-selected.
    pub selected: bool,
}

fn choices<'a>(items: impl Iterator<Item = (&'a str, String)>, current: &str) -> Vec<Choice> {
    items
        .map(|(value, label)| Choice {
            selected: value == current,
            value: value.to_owned(),
            label,
        })
        .collect()
}

/// The organization kinds as choices.
pub fn kind_choices(lang: Lang, current: &str) -> Vec<Choice> {
    choices(
        OrgKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label(lang).to_owned())),
        current,
    )
}

/// The statuses as choices.
pub fn status_choices(lang: Lang, current: &str) -> Vec<Choice> {
    choices(
        OrgStatus::ALL
            .iter()
            .map(|k| (k.as_str(), k.label(lang).to_owned())),
        current,
    )
}

/// The grades as choices.
pub fn grade_choices(lang: Lang, current: &str) -> Vec<Choice> {
    choices(
        Grade::ALL
            .iter()
            .map(|k| (k.as_str(), k.label(lang).to_owned())),
        current,
    )
}

/// The active domains (and the current one) as choices.
pub fn domain_choices(domains: &[DomainRow], lang: Lang, current: &str) -> Vec<Choice> {
    choices(
        domains
            .iter()
            .filter(|d| d.active || d.code == current)
            .map(|d| (d.code.as_str(), d.name(lang).to_owned())),
        current,
    )
}

/// The areas a list filter offers, indented by depth: for district-wide staff everything down
/// to street level; for an area-bound account only its own areas and everything below them
/// (communities included: one street's list is short), since nothing else can match.
fn area_choices(all: &[AreaRow], scope: &Scope, current: &str) -> Vec<Choice> {
    let mut upper: Vec<&AreaRow> = match scope {
        Scope::Limited { areas: roots, .. } => {
            let parent: HashMap<i64, Option<i64>> =
                all.iter().map(|a| (a.id, a.parent_id)).collect();
            all.iter()
                .filter(|a| {
                    let mut at = Some(a.id);
                    while let Some(id) = at {
                        if roots.iter().any(|r| r.0 == id) {
                            return true;
                        }
                        at = parent.get(&id).copied().flatten();
                    }
                    false
                })
                .collect()
        }
        Scope::All | Scope::Public => all
            .iter()
            .filter(|a| a.level() != crate::areas::AreaLevel::Community)
            .collect(),
    };
    // Keys computed once each, parents found by code: a national tree has thousands of areas.
    let by_code: HashMap<&str, &AreaRow> = all.iter().map(|a| (a.code.as_str(), a)).collect();
    upper.sort_by_cached_key(|a| sort_key(&by_code, a));
    choices(
        upper.into_iter().map(|a| {
            (
                a.code.as_str(),
                format!("{}{}", "　".repeat(a.depth as usize), a.name),
            )
        }),
        current,
    )
}

/// Orders areas as a tree (each parent followed by its children).
fn sort_key(by_code: &HashMap<&str, &AreaRow>, a: &AreaRow) -> Vec<String> {
    let mut key = vec![a.code.clone()];
    let mut parent = a.parent_code.clone();
    while let Some(code) = parent {
        parent = by_code
            .get(code.as_str())
            .and_then(|x| x.parent_code.clone());
        key.insert(0, code);
    }
    key
}

/// A row of the organization list, formatted.
pub struct OrgListRow {
    id: i64,
    name: String,
    uscc: String,
    kind: &'static str,
    domain: String,
    area: String,
    status: &'static str,
    registered_on: String,
    grade: String,
}

#[derive(Template)]
#[template(path = "registry/list.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<OrgListRow>,
    total: i64,
    page: i64,
    pages: i64,
    q: String,
    kinds: Vec<Choice>,
    domains: Vec<Choice>,
    areas: Vec<Choice>,
    statuses: Vec<Choice>,
    /// The current filters as a query string, without `page`, for the pager links.
    filter_query: String,
}

async fn list(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response> {
    let lang = ctx.lang;
    let scope = require(&app, &user, Permission::ViewRegistry).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let ListRequest { filter, paging, .. } = parse_filter(&mut c, &query).await?;
    let (rows, counted) = page_and_counts(
        &app,
        &mut c,
        &scope,
        &filter,
        paging,
        OrgOrder::LatestRecord,
        &[],
    )
    .await?;
    let total = counted.total;
    let domains = store::list_domains(&mut c).await?;
    let all_areas = areas::list_all(&mut c).await?;
    let get = |k: &str| {
        raw.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let filter_query = ["q", "kind", "domain", "area", "status"]
        .iter()
        .filter(|k| !get(k).is_empty())
        .map(|k| format!("{k}={}&", percent_encode(get(k))))
        .collect::<String>();
    let view = ListPage {
        layout: ctx.layout("registry.list.title"),
        rows: rows
            .iter()
            .map(|r| OrgListRow {
                id: r.id,
                name: r.name.clone(),
                uscc: r.uscc.clone().unwrap_or_default(),
                kind: r.kind().label(lang),
                domain: r.domain_name(lang).to_owned(),
                area: r.area_name.clone(),
                status: r.status().label(lang),
                registered_on: r.registered_on.map(|d| d.to_string()).unwrap_or_default(),
                grade: r.grade.clone().unwrap_or_default(),
            })
            .collect(),
        total,
        page: paging.page,
        pages: paging.pages(total),
        q: get("q").to_owned(),
        kinds: kind_choices(lang, get("kind")),
        domains: domain_choices(&domains, lang, get("domain")),
        areas: area_choices(&all_areas, &scope, get("area")),
        statuses: status_choices(lang, get("status")),
        filter_query,
    };
    page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "registry/form.html")]
struct FormPage {
    layout: Layout,
    /// Always false here: the shared fields template hides status and grade on applications.
    application: bool,
    /// An organization's own account: only its contact fields are open.
    limited: bool,
    /// `None` when creating.
    id: Option<i64>,
    form: OrgForm,
    errors: Vec<(String, String)>,
    kinds: Vec<Choice>,
    domains: Vec<Choice>,
    statuses: Vec<Choice>,
    grades: Vec<Choice>,
    area_options: Vec<(String, String)>,
}

impl FormPage {
    /// The error shown under `field`, if any (used by the template).
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

async fn form_page(
    app: &AppState,
    ctx: &PageCtx,
    id: Option<i64>,
    form: OrgForm,
    errors: &FieldErrors,
    limited: bool,
) -> Result<FormPage> {
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let domains = store::list_domains(&mut c).await?;
    let all_areas = areas::list_all(&mut c).await?;
    Ok(FormPage {
        application: false,
        limited,
        layout: ctx.layout(if id.is_some() {
            "registry.edit.title"
        } else {
            "registry.new.title"
        }),
        id,
        kinds: kind_choices(lang, &form.kind),
        domains: domain_choices(&domains, lang, &form.domain),
        statuses: status_choices(
            lang,
            if form.status.is_empty() {
                "active"
            } else {
                &form.status
            },
        ),
        grades: grade_choices(lang, &form.grade),
        area_options: all_areas.into_iter().map(|a| (a.code, a.name)).collect(),
        errors: errors.render(lang),
        form,
    })
}

async fn new_form(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    require(&app, &user, Permission::CreateOrganization).await?;
    let view = form_page(
        &app,
        &ctx,
        None,
        OrgForm::default(),
        &FieldErrors::new(),
        false,
    )
    .await?;
    page(&view, &view.layout)
}

async fn create(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<OrgForm>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::CreateOrganization).await?;
    let draft = match form.parse() {
        Ok(d) => d,
        Err(errors) => return rerender(&app, &ctx, None, form, &errors, false).await,
    };
    let mut tx = app.db.begin().await?;
    let division = crate::settings::store::current(&mut tx.conn(), "division_code").await?;
    let result = store::create(
        &mut tx.conn(),
        &scope,
        &user.actor(),
        Utc::now(),
        &draft,
        &division,
    )
    .await;
    match result {
        Ok(row) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/orgs/{}", row.id),
                "flash.org_created",
            ))
        }
        Err(Error::Invalid(errors)) => rerender(&app, &ctx, None, form, &errors, false).await,
        Err(e) => Err(e),
    }
}

async fn rerender(
    app: &AppState,
    ctx: &PageCtx,
    id: Option<i64>,
    form: OrgForm,
    errors: &FieldErrors,
    limited: bool,
) -> Result<Response> {
    let view = form_page(app, ctx, id, form, errors, limited).await?;
    invalid_page(&view, &view.layout)
}

/// The scope for editing and whether only the organization's own fields are open: full edit
/// for registry staff, the contact fields for an organization's own account.
async fn edit_scope(app: &AppState, user: &CurrentUser) -> Result<(Scope, bool)> {
    if user.can(Permission::EditRegistry) {
        Ok((require(app, user, Permission::EditRegistry).await?, false))
    } else {
        Ok((
            require(app, user, Permission::EditOwnOrganization).await?,
            true,
        ))
    }
}

async fn edit_form(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (scope, limited) = edit_scope(&app, &user).await?;
    let row = {
        let mut conn = app.db.acquire().await?;
        store::find(&mut conn.conn(), &scope, OrgId(id))
            .await?
            .ok_or(Error::NotFound)?
    };
    let view = form_page(
        &app,
        &ctx,
        Some(id),
        OrgForm::from_row(&row),
        &FieldErrors::new(),
        limited,
    )
    .await?;
    page(&view, &view.layout)
}

async fn update(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(submitted): Form<OrgForm>,
) -> Result<Response> {
    let (scope, limited) = edit_scope(&app, &user).await?;
    let form = if limited {
        // Whatever else was posted, an organization changes only its contact fields here;
        // registration facts change through a change application.
        let mut conn = app.db.acquire().await?;
        let row = store::find(&mut conn.conn(), &scope, OrgId(id))
            .await?
            .ok_or(Error::NotFound)?;
        OrgForm {
            contact_person: submitted.contact_person,
            contact_phone: submitted.contact_phone,
            version: submitted.version,
            reason: submitted.reason,
            ..OrgForm::from_row(&row)
        }
    } else {
        submitted
    };
    let draft = match form.parse() {
        Ok(d) => d,
        Err(errors) => return rerender(&app, &ctx, Some(id), form, &errors, limited).await,
    };
    let Ok(version) = form.version.trim().parse::<i64>() else {
        return Err(Error::Conflict(Msg::new("registry.error.stale")));
    };
    let reason = Some(form.reason.trim()).filter(|r| !r.is_empty());
    let mut tx = app.db.begin().await?;
    let result = store::update(
        &mut tx.conn(),
        &scope,
        &user.actor(),
        Utc::now(),
        OrgId(id),
        version,
        &draft,
        reason,
    )
    .await;
    match result {
        Ok(Updated::Changed(_)) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/orgs/{id}"),
                "flash.org_updated",
            ))
        }
        Ok(Updated::Unchanged) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/orgs/{id}"),
                "flash.org_unchanged",
            ))
        }
        Err(Error::Invalid(errors)) => rerender(&app, &ctx, Some(id), form, &errors, limited).await,
        Err(e) => Err(e),
    }
}

/// A labelled value on the profile.
pub struct Fact {
    label: &'static str,
    value: String,
}

/// One event of the timeline, formatted.
pub struct TimelineEntry {
    at: String,
    actor: String,
    action: &'static str,
    reason: String,
    changes: Vec<TimelineChange>,
}

/// One field change of a timeline event, formatted.
pub struct TimelineChange {
    field: &'static str,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "registry/show.html")]
struct ShowPage {
    layout: Layout,
    id: i64,
    /// Referrals about this organization the viewer may see (its timeline of 联动 matters).
    lines: Vec<crate::referrals::pages::Line>,
    /// The viewer may send a referral about it.
    can_refer: bool,
    /// Show the edit button.
    can_edit: bool,
    facts: Vec<Fact>,
    timeline: Vec<TimelineEntry>,
    as_of: String,
    /// Facts as of the chosen date (empty: none chosen, or not yet on record).
    as_of_facts: Vec<Fact>,
    as_of_missing: bool,
    /// Incubation history (孵化经历).
    incubation: Vec<crate::incubation::pages::HistoryLine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ShowQuery {
    as_of: String,
}

/// The catalogue label of a history field.
pub fn field_label(lang: Lang, field: &str) -> &'static str {
    if HISTORY_FIELDS.contains(&field) {
        lang.t(&format!("org.field.{field}"))
    } else {
        lang.t("org.field.other")
    }
}

/// Where a field stands in the record's display order (unknown fields last).
fn field_position(field: &str) -> usize {
    HISTORY_FIELDS
        .iter()
        .position(|f| *f == field)
        .unwrap_or(HISTORY_FIELDS.len())
}

/// What history values refer to, for showing names instead of codes.
pub struct References {
    domains: Vec<DomainRow>,
    areas: Vec<AreaRow>,
}

impl References {
    /// The domains, and only the areas the record and its history mention (not the whole tree).
    pub async fn load(
        conn: &mut crate::db::Conn<'_>,
        row: &store::OrgRow,
        events: &[crate::audit::ChangeEvent],
    ) -> Result<References> {
        let mut area_codes: Vec<&str> = std::iter::once(row.area_code.as_str())
            .chain(
                events
                    .iter()
                    .flat_map(|e| e.fields.iter())
                    .filter(|f| f.field == "area_code")
                    .flat_map(|f| [f.before_value.as_deref(), f.after_value.as_deref()])
                    .flatten(),
            )
            .collect();
        area_codes.sort_unstable();
        area_codes.dedup();
        let mut named = Vec::new();
        for code in area_codes {
            named.extend(areas::find_by_code(conn, code).await?);
        }
        Ok(References {
            domains: store::list_domains(conn).await?,
            areas: named,
        })
    }
}

/// A stored history value as a person reads it (labels for codes, yuan for fen, 是/否).
pub fn display_value(lang: Lang, field: &str, value: Option<&str>, refs: &References) -> String {
    let Some(v) = value else { return String::new() };
    match field {
        "kind" => OrgKind::parse(v).map_or(v.to_owned(), |k| k.label(lang).to_owned()),
        "status" => OrgStatus::parse(v).map_or(v.to_owned(), |k| k.label(lang).to_owned()),
        "area_code" => refs
            .areas
            .iter()
            .find(|a| a.code == v)
            .map_or(v.to_owned(), |a| format!("{}（{v}）", a.name)),
        "domain" => refs
            .domains
            .iter()
            .find(|d| d.code == v)
            .map_or(v.to_owned(), |d| d.name(lang).to_owned()),
        "registered_capital_fen" => v.parse::<i64>().map_or(v.to_owned(), |f| money(f, lang)),
        "direct_registration" | "brand" => lang
            .t(if v == "true" {
                "common.yes"
            } else {
                "common.no"
            })
            .to_owned(),
        _ => v.to_owned(),
    }
}

async fn show(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<ShowQuery>,
) -> Result<Response> {
    let lang = ctx.lang;
    let scope = require(&app, &user, Permission::ViewRegistry).await?;
    let can_edit = user.can(Permission::EditRegistry) || user.can(Permission::EditOwnOrganization);
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let row = store::find(&mut c, &scope, OrgId(id))
        .await?
        .ok_or(Error::NotFound)?;
    let mut events = store::history(&mut c, &scope, OrgId(id)).await?;
    for e in &mut events {
        e.fields.sort_by_key(|f| field_position(&f.field));
    }
    let refs = References::load(&mut c, &row, &events).await?;
    let facts_of = |mut pairs: Vec<(String, Option<String>)>| -> Vec<Fact> {
        pairs.sort_by_key(|(field, _)| field_position(field));
        pairs
            .into_iter()
            .map(|(field, value)| Fact {
                label: field_label(lang, &field),
                value: display_value(lang, &field, value.as_deref(), &refs),
            })
            .collect()
    };
    let facts = facts_of(
        row.history_fields()
            .into_iter()
            .map(|(f, v)| (f.to_owned(), v))
            .collect(),
    );
    let timeline = events
        .iter()
        .rev()
        .map(|e| TimelineEntry {
            at: china_time(e.changed_at),
            actor: e.actor.clone(),
            action: lang.t(if e.action == "create" {
                "history.create"
            } else {
                "history.update"
            }),
            reason: e.reason.clone().unwrap_or_default(),
            changes: e
                .fields
                .iter()
                .map(|f| TimelineChange {
                    field: field_label(lang, &f.field),
                    before: display_value(lang, &f.field, f.before_value.as_deref(), &refs),
                    after: display_value(lang, &f.field, f.after_value.as_deref(), &refs),
                })
                .collect(),
        })
        .collect();
    let (as_of_facts, as_of_missing) =
        match NaiveDate::parse_from_str(query.as_of.trim(), "%Y-%m-%d") {
            Ok(date) => match store::as_of(&mut c, &scope, OrgId(id), date).await? {
                Some(state) => (facts_of(state.into_iter().collect()), false),
                None => (Vec::new(), true),
            },
            Err(_) => (Vec::new(), false),
        };
    let referrals = crate::referrals::store::list(&mut c, user.id, &scope, Some(OrgId(id))).await?;
    let incubation = crate::incubation::pages::history(&mut c, OrgId(id), lang).await?;
    let view = ShowPage {
        incubation,
        layout: ctx.layout_titled(row.name.clone()),
        lines: referrals
            .iter()
            .map(|r| crate::referrals::pages::Line::of(r, lang))
            .collect(),
        can_refer: user.can(Permission::Refer),
        id,
        can_edit,
        facts,
        timeline,
        as_of: query.as_of.trim().to_owned(),
        as_of_facts,
        as_of_missing,
    };
    page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "registry/domains.html")]
struct DomainsPage {
    layout: Layout,
    domains: Vec<DomainRow>,
    errors: Vec<(String, String)>,
}

/// The domain dictionary form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DomainForm {
    code: String,
    name_zh: String,
    name_en: String,
    direct_registration_eligible: Option<String>,
    sort_order: String,
    active: Option<String>,
}

impl DomainForm {
    fn parse(&self) -> std::result::Result<DomainDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let code = self.code.trim().to_owned();
        if code.is_empty() {
            e.add("code", Msg::new("error.field.required"));
        } else if !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            || code.len() > 40
        {
            e.add("code", Msg::new("registry.error.domain_code"));
        }
        for (field, value) in [("name_zh", &self.name_zh), ("name_en", &self.name_en)] {
            e.required_text(field, value, super::NAME_MAX_CHARS);
        }
        let sort_order = match self.sort_order.trim() {
            "" => 1000,
            s => s.parse().unwrap_or_else(|_| {
                e.add("sort_order", Msg::new("error.field.count"));
                0
            }),
        };
        e.into_result(DomainDraft {
            code,
            name_zh: self.name_zh.trim().to_owned(),
            name_en: self.name_en.trim().to_owned(),
            direct_registration_eligible: self.direct_registration_eligible.is_some(),
            sort_order,
            active: self.active.is_some(),
        })
        .map_err(|err| match err {
            Error::Invalid(f) => f,
            _ => FieldErrors::new(),
        })
    }
}

async fn domains_page(app: &AppState, ctx: &PageCtx, errors: &FieldErrors) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let domains = store::list_domains(&mut conn.conn()).await?;
    let view = DomainsPage {
        layout: ctx.layout("registry.domains.title"),
        domains,
        errors: errors.render(ctx.lang),
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn domains(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    require(&app, &user, Permission::ManageDictionaries).await?;
    domains_page(&app, &ctx, &FieldErrors::new()).await
}

async fn save_domain_form(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: Option<i64>,
    form: &DomainForm,
) -> Result<Response> {
    let scope = require(app, user, Permission::ManageDictionaries).await?;
    let draft = match form.parse() {
        Ok(d) => d,
        Err(errors) => return domains_page(app, ctx, &errors).await,
    };
    let mut tx = app.db.begin().await?;
    match store::save_domain(
        &mut tx.conn(),
        &scope,
        &user.actor(),
        Utc::now(),
        id,
        &draft,
    )
    .await
    {
        Ok(_) => {
            tx.commit().await?;
            Ok(redirect_with_flash("/admin/domains", "flash.domain_saved"))
        }
        Err(Error::Invalid(errors)) => domains_page(app, ctx, &errors).await,
        Err(e) => Err(e),
    }
}

async fn create_domain(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<DomainForm>,
) -> Result<Response> {
    save_domain_form(&app, &ctx, &user, None, &form).await
}

async fn update_domain(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DomainForm>,
) -> Result<Response> {
    save_domain_form(&app, &ctx, &user, Some(id), &form).await
}

#[derive(Template)]
#[template(path = "registry/certificate.html")]
struct CertificatePage {
    layout: Layout,
    heading: &'static str,
    facts: Vec<(&'static str, String)>,
    authority: String,
    issued_on: String,
}

/// The registration certificate (登记证书) or, for a filed community organization, the filing
/// certificate (备案证明), as a printable page.
async fn certificate(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let lang = ctx.lang;
    let scope = require(&app, &user, Permission::ViewRegistry).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let row = store::find(&mut c, &scope, OrgId(id))
        .await?
        .ok_or(Error::NotFound)?;
    let district = crate::settings::store::current(&mut c, "district_name").await?;
    let kind = row.kind();
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut facts = vec![
        (lang.t("org.field.uscc"), s(&row.uscc)),
        (lang.t("org.field.name"), row.name.clone()),
        (lang.t("org.field.address"), s(&row.address)),
        (
            lang.t("org.field.legal_representative"),
            s(&row.legal_representative),
        ),
        (lang.t("org.field.business_scope"), s(&row.business_scope)),
    ];
    if kind.is_registered() {
        facts.push((
            lang.t("org.field.supervisory_unit"),
            if row.direct_registration {
                lang.t("certificate.direct").to_owned()
            } else {
                s(&row.supervisory_unit)
            },
        ));
        facts.push((
            lang.t("org.field.registered_capital_fen"),
            row.registered_capital_fen
                .map(|f| money(f, lang))
                .unwrap_or_default(),
        ));
    }
    let view = CertificatePage {
        layout: ctx.layout_titled(row.name.clone()),
        heading: lang.t(&format!("certificate.title.{}", kind.as_str())),
        facts,
        authority: lang.tf("certificate.authority", &[("district", &district)]),
        issued_on: row
            .registered_on
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
    };
    page(&view, &view.layout)
}
