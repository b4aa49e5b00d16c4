//! The public JSON API under `/api/v1`: each domain's `api.rs` routes merged here, and the error
//! wrapper that renders `{"error": "...", "fields": {...}}` in the caller's language.

use crate::app::AppState;
use crate::error::Error;
use crate::web::ErrorView;
use axum::Router;
use axum::response::{IntoResponse, Response};

/// Every API route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(crate::registry::api::routes())
        .merge(crate::areas::api::routes())
        .fallback(|| async { ApiError(Error::NotFound) })
}

/// An error answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub Error);

/// Result of a JSON handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError(Error::Db(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let mut response = self.0.status().into_response();
        response
            .extensions_mut()
            .insert(ErrorView::capture(&self.0, true));
        response
    }
}
