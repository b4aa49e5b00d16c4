//! The public portal (滨海社会组织网): the home page with the registry's key figures counted
//! from the records, the directory with Chinese search and facets, and public profiles.

pub mod charts;
pub mod directory;
pub mod open_data;
pub mod profile;
pub mod stats;

use crate::app::AppState;
use crate::auth::Scope;
use crate::error::Result;
use crate::registry::OrgKind;
use crate::registry::store::OrgFilter;
use crate::web::{Layout, PageCtx, Paging, page};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

/// Every route of the portal.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/orgs", get(directory::directory))
        .route("/orgs/{key}", get(profile::profile))
        .route("/stats", get(stats::stats))
        .route("/open-data", get(open_data::open_data))
        .route("/open-data/{date}/{file}", get(open_data::download))
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage {
    layout: Layout,
    total: i64,
    /// (kind, label, count).
    by_kind: Vec<(&'static str, &'static str, i64)>,
    /// The latest published notices.
    notices: Vec<crate::notices::pages::NoticeLine>,
}

/// `GET /`: what the platform is and the registry's figures.
pub async fn home(State(app): State<AppState>, ctx: PageCtx) -> Result<Response> {
    let mut conn = app.read_db.acquire().await?;
    let counted = crate::registry::api::counts(
        &app,
        &mut conn.conn(),
        &Scope::Public,
        &OrgFilter::default(),
        &["kind"],
    )
    .await?;
    let counts: Vec<(String, i64)> = counted
        .facets
        .get("kind")
        .map(|m| m.iter().map(|(k, n)| (k.clone(), *n)).collect())
        .unwrap_or_default();
    let by_kind: Vec<(&'static str, &'static str, i64)> = OrgKind::ALL
        .iter()
        .map(|k| {
            let n = counts
                .iter()
                .find(|(c, _)| c == k.as_str())
                .map_or(0, |(_, n)| *n);
            (k.as_str(), k.label(ctx.lang), n)
        })
        .collect();
    let latest = Paging {
        page: 1,
        per_page: 5,
    };
    let (notices, _) =
        crate::notices::store::list_published(&mut conn.conn(), None, latest).await?;
    let view = HomePage {
        notices: notices
            .iter()
            .map(|n| crate::notices::pages::NoticeLine::of(n, ctx.lang))
            .collect(),
        layout: ctx.layout("portal.home.title"),
        total: by_kind.iter().map(|(_, _, n)| n).sum(),
        by_kind,
    };
    page(&view, &view.layout)
}
