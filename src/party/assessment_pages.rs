//! The standardisation assessment's pages: the year's list with filters and counts per band
//! (`/admin/party/assessments`), the scoring template's editor
//! (`/admin/party/assessments/template`) and a party organization's scoring form for a year
//! (`/admin/party/{id}/assessments/{year}`).

use super::assessment::{self, AssessmentRow, Band, BandCounts, Filter, ItemRow, Scoring};
use super::pages::{area_of, manager, view_scope};
use super::{Form, PartyOrgId, store};
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission};
use crate::error::{Error, Result};
use crate::i18n::{Lang, Msg};
use crate::web::{Layout, PageCtx, page, redirect_with_flash};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Form as PostForm, Router};
use chrono::Datelike;
use serde::Deserialize;
use std::collections::HashMap;

/// The routes of the assessment.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/party/assessments", get(list))
        .route(
            "/admin/party/assessments/template",
            get(template).post(save_template),
        )
        .route(
            "/admin/party/{id}/assessments/{year}",
            get(score_form).post(save_scores),
        )
}

/// An assessment, formatted for a list.
pub struct AssessmentLine {
    /// The row.
    pub row: AssessmentRow,
    /// Band in words.
    pub band: &'static str,
    /// Form in words.
    pub form: &'static str,
}

impl AssessmentLine {
    /// Formats `row` in `lang`.
    pub fn of(row: AssessmentRow, lang: Lang) -> AssessmentLine {
        AssessmentLine {
            band: row.band().label(lang),
            form: Form::parse(&row.form).map_or("", |f| f.label(lang)),
            row,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    year: String,
    band: String,
    form: String,
    area: String,
}

#[derive(Template)]
#[template(path = "party/assessments.html")]
struct ListPage {
    layout: Layout,
    q: ListQuery,
    year: i64,
    counts: Vec<(&'static str, &'static str, i64)>,
    assessed: i64,
    lines: Vec<AssessmentLine>,
    bands: Vec<(&'static str, &'static str)>,
    forms: Vec<(&'static str, &'static str)>,
}

fn year_of_query(value: &str, default: i64) -> Result<i64> {
    match value.trim() {
        "" => Ok(default),
        y => y
            .parse::<i64>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| Error::field("year", Msg::new("error.field.choice"))),
    }
}

/// The counts per band, labelled, best first.
pub fn band_lines(c: &BandCounts, lang: Lang) -> Vec<(&'static str, &'static str, i64)> {
    Band::ALL
        .iter()
        .map(|b| (b.as_str(), b.label(lang), c.of(*b)))
        .collect()
}

async fn list(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    let scope = view_scope(&app, &user).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let year = year_of_query(&q.year, i64::from(today.year()) - 1)?;
    let area = area_of(&mut c, &q.area).await?;
    let filter = Filter {
        year: Some(year),
        band: Band::parse(&q.band),
        form: Form::parse(&q.form),
        area,
    };
    let counts = assessment::band_counts(&mut c, &scope, area, year).await?;
    let lines = assessment::list(&mut c, &scope, &filter)
        .await?
        .into_iter()
        .map(|r| AssessmentLine::of(r, lang))
        .collect();
    let template = ListPage {
        layout: ctx.layout("party.assessment.title"),
        q,
        year,
        counts: band_lines(&counts, lang),
        assessed: counts.assessed(),
        lines,
        bands: Band::ALL
            .iter()
            .map(|b| (b.as_str(), b.label(lang)))
            .collect(),
        forms: Form::ALL
            .iter()
            .map(|f| (f.as_str(), f.label(lang)))
            .collect(),
    };
    page(&template, &template.layout)
}

/// Items grouped under their category, in order.
pub fn grouped(items: &[ItemRow]) -> Vec<(String, Vec<ItemRow>)> {
    let mut groups: Vec<(String, Vec<ItemRow>)> = Vec::new();
    for item in items {
        match groups.iter_mut().find(|(c, _)| *c == item.category) {
            Some((_, g)) => g.push(item.clone()),
            None => groups.push((item.category.clone(), vec![item.clone()])),
        }
    }
    groups
}

#[derive(Template)]
#[template(path = "party/template.html")]
struct TemplatePage {
    layout: Layout,
    can_manage: bool,
    version: i64,
    groups: Vec<(String, Vec<ItemRow>)>,
    max_total: i64,
    text: String,
}

async fn template(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    crate::auth::require_district(&app, &user, Permission::ViewParty).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let current = assessment::current_template(&mut c).await?;
    let (version, items) = current
        .map(|(t, items)| (t.version, items))
        .unwrap_or_default();
    // With no template yet, the editor starts from the default one.
    let text = if items.is_empty() {
        assessment::items_text(&assessment::default_items())
    } else {
        assessment::items_text(
            &items
                .iter()
                .map(|i| assessment::ItemDraft {
                    category: i.category.clone(),
                    name: i.name.clone(),
                    max_score: i.max_score,
                })
                .collect::<Vec<_>>(),
        )
    };
    let template = TemplatePage {
        layout: ctx.layout("party.assessment.template"),
        can_manage: user.can(Permission::ManageParty),
        version,
        max_total: items.iter().map(|i| i.max_score).sum(),
        groups: grouped(&items),
        text,
    };
    page(&template, &template.layout)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TemplatePost {
    items: String,
    version: String,
}

async fn save_template(
    State(app): State<AppState>,
    user: CurrentUser,
    PostForm(form): PostForm<TemplatePost>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let items = assessment::parse_items(&form.items).map_err(Error::Invalid)?;
    let base = form
        .version
        .trim()
        .parse()
        .map_err(|_| Error::Conflict(Msg::new("party.error.template_stale")))?;
    let mut tx = app.db.begin().await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    assessment::save_template(&mut tx.conn(), &actor, at, base, &items).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/admin/party/assessments/template",
        "flash.party_saved",
    ))
}

/// One item on the scoring form.
pub struct ScoreLine {
    /// The item.
    pub item: ItemRow,
    /// The score recorded, if any.
    pub score: String,
}

#[derive(Template)]
#[template(path = "party/assess.html")]
struct ScorePage {
    layout: Layout,
    can_manage: bool,
    party_id: i64,
    year: i64,
    existing: Option<AssessmentLine>,
    groups: Vec<(String, Vec<ScoreLine>)>,
    max_total: i64,
    version: String,
    note: String,
}

async fn score_form(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path((id, year)): Path<(i64, i64)>,
) -> Result<Response> {
    let scope = view_scope(&app, &user).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let party = PartyOrgId(id);
    let row = store::get(&mut c, &scope, party).await?;
    let existing = assessment::find(&mut c, party, year).await?;
    let (items, scores) = match &existing {
        Some(e) => (
            assessment::template_items(&mut c, e.template_id).await?,
            assessment::scores(&mut c, e.id).await?,
        ),
        None => (
            assessment::current_template(&mut c)
                .await?
                .map(|(_, items)| items)
                .unwrap_or_default(),
            HashMap::new(),
        ),
    };
    let mut groups: Vec<(String, Vec<ScoreLine>)> = Vec::new();
    for (category, items) in grouped(&items) {
        let lines = items
            .into_iter()
            .map(|item| ScoreLine {
                score: scores
                    .get(&item.id)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                item,
            })
            .collect();
        groups.push((category, lines));
    }
    let template = ScorePage {
        layout: ctx.layout_titled(format!(
            "{} · {} {year}",
            row.name,
            lang.t("party.assessment.title")
        )),
        can_manage: user.can(Permission::ManageParty),
        party_id: id,
        year,
        version: existing
            .as_ref()
            .map(|e| e.version.to_string())
            .unwrap_or_default(),
        note: existing
            .as_ref()
            .map(|e| e.note.clone())
            .unwrap_or_default(),
        max_total: groups
            .iter()
            .flat_map(|(_, l)| l.iter().map(|s| s.item.max_score))
            .sum(),
        existing: existing.map(|e| AssessmentLine::of(e, lang)),
        groups,
    };
    page(&template, &template.layout)
}

async fn save_scores(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, year)): Path<(i64, i64)>,
    PostForm(fields): PostForm<Vec<(String, String)>>,
) -> Result<Response> {
    let actor = manager(&app, &user).await?;
    let fields: HashMap<String, String> = fields.into_iter().collect();
    let version = match fields.get("version").map(|v| v.trim()) {
        None | Some("") => None,
        Some(v) => Some(
            v.parse()
                .map_err(|_| Error::Conflict(Msg::new("party.error.assessment_stale")))?,
        ),
    };
    let note = fields.get("note").cloned().unwrap_or_default();
    let mut tx = app.db.begin().await?;
    let today = crate::clock::today(&mut tx.conn()).await?;
    let at = crate::clock::now(&mut tx.conn()).await?;
    assessment::save(
        &mut tx.conn(),
        &actor,
        at,
        PartyOrgId(id),
        Scoring {
            year,
            version,
            fields: &fields,
            note: &note,
        },
        today,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/party/{id}/assessments/{year}"),
        "flash.party_saved",
    ))
}
