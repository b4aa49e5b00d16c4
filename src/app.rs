//! The application: shared state and the router that merges every module's routes.

use crate::config::Settings;
use crate::db::Db;
use axum::Router;
use axum::middleware;
use axum::routing::get;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database pool.
    pub db: Db,
    /// Installation settings.
    pub settings: Arc<Settings>,
}

/// The whole HTTP surface: portal, back office, JSON API, health and static files.
pub fn router(state: AppState) -> Router {
    let back_office = Router::new()
        .merge(crate::registry::pages::routes())
        .layer(middleware::from_fn(crate::web::back_office_guard));
    Router::new()
        .route("/", get(crate::portal::home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/static/{name}", get(crate::web::static_file))
        .nest("/admin", back_office)
        .nest("/api/v1", crate::api::routes())
        .layer(middleware::from_fn(crate::web::page_context))
        .layer(middleware::from_fn(crate::web::security_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
