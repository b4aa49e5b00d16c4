//! `GET /admin/settings` and `POST /admin/settings`: current values, their history, and a new
//! value with the date it takes effect.

use super::{SETTINGS, SettingDef, store};
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission, require};
use crate::error::{FieldErrors, Result};
use crate::i18n::Msg;
use crate::web::{Layout, PageCtx, china_time, page_with_errors, redirect_with_flash};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/settings", get(show).post(save))
}

/// A setting with its value today.
pub struct CurrentLine {
    key: &'static str,
    label: &'static str,
    value: String,
}

/// A recorded value.
pub struct HistoryLine {
    label: String,
    value: String,
    effective_from: String,
    changed_by: String,
    changed_at: String,
}

#[derive(Template)]
#[template(path = "settings/settings.html")]
struct SettingsPage {
    layout: Layout,
    current: Vec<CurrentLine>,
    history: Vec<HistoryLine>,
    errors: Vec<(String, String)>,
}

async fn settings_page(app: &AppState, ctx: &PageCtx, errors: &FieldErrors) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let mut current = Vec::new();
    for def in SETTINGS {
        current.push(CurrentLine {
            key: def.key,
            label: def.label(ctx.lang),
            value: store::current(&mut c, def.key).await?,
        });
    }
    let history = store::history(&mut c)
        .await?
        .into_iter()
        // Secrets kept in the same table (e.g. the ID-number salt) are not settings.
        .filter(|r| SettingDef::find(&r.key).is_some())
        .map(|r| HistoryLine {
            label: SettingDef::find(&r.key).map_or(r.key.clone(), |d| d.label(ctx.lang).to_owned()),
            value: r.value,
            effective_from: r.effective_from.to_string(),
            changed_by: r.changed_by,
            changed_at: china_time(r.changed_at),
        })
        .collect();
    let view = SettingsPage {
        layout: ctx.layout("setting.title"),
        current,
        history,
        errors: errors.render(ctx.lang),
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn show(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    require(&app, &user, Permission::ManageSettings).await?;
    settings_page(&app, &ctx, &FieldErrors::new()).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SettingForm {
    key: String,
    value: String,
    effective_from: String,
}

async fn save(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<SettingForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageSettings).await?;
    let mut errors = FieldErrors::new();
    let def = SettingDef::find(&form.key);
    if def.is_none() {
        errors.add("key", Msg::new("error.field.choice"));
    }
    let value = def
        .map(|d| d.parse(&form.value))
        .transpose()
        .unwrap_or_else(|m| {
            errors.add("value", m);
            None
        });
    let effective_from = match form.effective_from.trim() {
        "" => Some((Utc::now() + chrono::Duration::hours(8)).date_naive()),
        d => NaiveDate::parse_from_str(d, "%Y-%m-%d").ok().or_else(|| {
            errors.add("effective_from", Msg::new("error.field.date"));
            None
        }),
    };
    let (Some(def), Some(value), Some(from)) = (def, value, effective_from) else {
        return settings_page(&app, &ctx, &errors).await;
    };
    let mut tx = app.db.begin().await?;
    store::set(&mut tx.conn(), &user.actor(), Utc::now(), def, &value, from).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        "/admin/settings",
        "flash.setting_saved",
    ))
}
