//! `GET /api/v1/areas` and `GET /api/v1/areas/{code}`: the area tree as public JSON.

use super::store::{self, AreaRow};
use crate::api::{ApiCaller, ApiResult};
use crate::app::AppState;
use crate::error::Error;
use crate::i18n::Lang;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/areas", get(list))
        .route("/api/v1/areas/{code}", get(show))
}

/// One area on the wire.
#[derive(Debug, Serialize)]
pub struct AreaJson {
    code: String,
    name: String,
    level: String,
    level_name: &'static str,
    parent_code: Option<String>,
    depth: i64,
}

impl AreaJson {
    fn from_row(row: AreaRow, lang: Lang) -> AreaJson {
        AreaJson {
            level_name: row.level().label(lang),
            code: row.code,
            name: row.name,
            level: row.level,
            parent_code: row.parent_code,
            depth: row.depth,
        }
    }
}

#[derive(Debug, Serialize)]
struct AreaList {
    items: Vec<AreaJson>,
    total: usize,
}

/// Keyless callers pass the rate limit through `ApiCaller`.
async fn list(
    State(app): State<AppState>,
    _caller: ApiCaller,
    lang: Lang,
) -> ApiResult<Json<AreaList>> {
    let mut conn = app.read_db.acquire().await.map_err(Error::from)?;
    let rows = store::list_all(&mut conn.conn()).await?;
    let items: Vec<AreaJson> = rows
        .into_iter()
        .map(|r| AreaJson::from_row(r, lang))
        .collect();
    Ok(Json(AreaList {
        total: items.len(),
        items,
    }))
}

#[derive(Debug, Serialize)]
struct AreaDetail {
    #[serde(flatten)]
    area: AreaJson,
    /// Ancestors, root first, not including the area itself.
    path: Vec<AreaJson>,
    children: Vec<AreaJson>,
}

async fn show(
    State(app): State<AppState>,
    _caller: ApiCaller,
    lang: Lang,
    Path(code): Path<String>,
) -> ApiResult<Json<AreaDetail>> {
    let mut conn = app.read_db.acquire().await.map_err(Error::from)?;
    let mut c = conn.conn();
    let area = store::find_by_code(&mut c, &code)
        .await?
        .ok_or(Error::NotFound)?;
    let mut path = store::path(&mut c, area.area_id()).await?;
    path.pop();
    let children = store::children(&mut c, area.area_id()).await?;
    Ok(Json(AreaDetail {
        area: AreaJson::from_row(area, lang),
        path: path
            .into_iter()
            .map(|r| AreaJson::from_row(r, lang))
            .collect(),
        children: children
            .into_iter()
            .map(|r| AreaJson::from_row(r, lang))
            .collect(),
    }))
}
