//! The application: shared state and the router that merges every module's routes. Routes are
//! written with their full paths in each module (no nesting), so grepping for `route(` lists
//! the whole HTTP surface — and the route × role test (tests/scope.rs) checks that list.

use crate::config::Settings;
use crate::db::Db;
use axum::Router;
use axum::middleware;
use axum::routing::get;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database pool (the primary): everything that writes, and every staff page.
    pub db: Db,
    /// The pool the read-only public surfaces read from (`--read-database`, a streaming
    /// replica); the primary's pool when none is set. It may lag the primary by the
    /// replication delay.
    pub read_db: Db,
    /// Installation settings.
    pub settings: Arc<Settings>,
    /// Rate limits of the keyless public API.
    pub api_limiter: Arc<crate::api::limit::RateLimiter>,
    /// How many refusals a minute are audited per user or token (see [`crate::auth::deny`]).
    pub denial_audits: Arc<crate::api::limit::RateLimiter>,
    /// Request counts and latencies for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Exact totals and facet counts of the registry, in memory.
    pub facets: Arc<crate::registry::facets::FacetIndex>,
    /// Bulk imports running or ended on this server (the upload page's jobs).
    pub imports: Arc<crate::registry::import_jobs::ImportJobs>,
    /// Statistics remembered while nothing changes them.
    pub stats: Arc<crate::stats::memo::StatsMemo>,
    /// Set when the server has been asked to stop (`/readyz` then answers 503).
    pub draining: Arc<crate::ops::Draining>,
}

impl AppState {
    /// The state for a database and settings.
    pub fn new(db: Db, settings: Settings) -> AppState {
        AppState {
            api_limiter: Arc::new(crate::api::limit::RateLimiter::new(
                settings.api_requests_per_minute,
            )),
            denial_audits: Arc::new(crate::api::limit::RateLimiter::new(
                crate::auth::DENIALS_AUDITED_PER_MINUTE,
            )),
            read_db: db.clone(),
            db,
            settings: Arc::new(settings),
            metrics: Arc::default(),
            facets: Arc::default(),
            imports: Arc::default(),
            stats: Arc::default(),
            draining: Arc::default(),
        }
    }
}

impl AppState {
    /// The same state with the public surfaces reading from `read_db`.
    pub fn with_read_db(mut self, read_db: Db) -> AppState {
        self.read_db = read_db;
        self
    }
}

/// The whole HTTP surface: portal, back office, JSON API, health and static files.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(crate::ops::readyz))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/static/{name}", get(crate::web::static_file))
        .merge(crate::portal::routes())
        .merge(crate::auth::pages::routes())
        .merge(crate::registry::pages::routes())
        .merge(crate::registry::upload::routes())
        .merge(crate::approvals::pages::routes())
        .merge(crate::consult::pages::routes())
        .merge(crate::notices::pages::routes())
        .merge(crate::referrals::pages::routes())
        .merge(crate::audit::pages::routes())
        .merge(crate::settings::pages::routes())
        .merge(crate::inspection::pages::routes())
        .merge(crate::hubs::pages::routes())
        .merge(crate::evaluation::pages::routes())
        .merge(crate::party::pages::routes())
        .merge(crate::talent::pages::routes())
        .merge(crate::stats::routes())
        .merge(crate::volunteers::pages::routes())
        .merge(crate::incubation::pages::routes())
        .merge(crate::funding::pages::routes())
        .merge(crate::people::pages::routes())
        .merge(crate::api::routes())
        .fallback(crate::auth::pages::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::measure,
        ))
        .layer(middleware::from_fn(crate::web::readable_input))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::web::session,
        ))
        .layer(middleware::from_fn(crate::web::page_context))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::web::security_headers,
        ))
        // A server error (5xx) is logged at ERROR level in the request's span.
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(crate::ops::request_span::<axum::body::Body>),
        )
        // Outermost: the id exists before the trace layer opens the request's span.
        .layer(middleware::from_fn(crate::ops::request_id))
        .with_state(state)
}
