//! The public JSON API under `/api/v1`: each domain's `api.rs` routes merged here, the caller
//! (anonymous or a department token), and the error wrapper that renders
//! `{"error": "...", "fields": {...}}` in the caller's language.

use crate::app::AppState;
use crate::auth::Scope;
use crate::auth::tokens::{self, TokenCaller};
use crate::error::Error;
use crate::web::{ErrorView, PeerIp};
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

pub mod limit;
pub mod openapi;

/// Every API route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(crate::registry::api::routes())
        .merge(crate::registry::open_data::routes())
        .merge(crate::areas::api::routes())
        .route("/api/v1/openapi.json", get(openapi::openapi))
        .route("/api/docs", get(openapi::docs))
        .route(
            "/api/v1/{*rest}",
            any(|| async { ApiError(Error::NotFound) }),
        )
}

/// Who is calling the API: anyone (public fields), or a department token with its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiCaller {
    /// No credentials: public fields of every organization.
    Anonymous,
    /// A valid department token.
    Token(TokenCaller),
}

impl ApiCaller {
    /// The registry scope the caller reads with.
    pub fn scope(&self) -> Scope {
        match self {
            ApiCaller::Anonymous => Scope::Public,
            ApiCaller::Token(t) => t.scope.clone(),
        }
    }

    /// True when the caller may read non-public fields.
    pub fn internal_fields(&self) -> bool {
        matches!(self, ApiCaller::Token(t) if t.internal_fields)
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<PeerIp>()
            .and_then(|p| p.0.clone())
            .unwrap_or_default();
        let limited = |app: &AppState| {
            app.api_limiter
                .check(&address, std::time::Instant::now())
                .map_err(|seconds| ApiError(Error::TooManyRequests(seconds)))
        };
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            limited(app)?;
            return Ok(ApiCaller::Anonymous);
        };
        let secret = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer "));
        let bearer = match secret {
            Some(secret) => {
                let mut conn = app.db.acquire().await?;
                tokens::authenticate(&mut conn.conn(), secret, chrono::Utc::now()).await?
            }
            None => tokens::Bearer::Unknown,
        };
        // A failed credential costs the address as much as a keyless request, so guessing
        // secrets or replaying a dead token is throttled like any anonymous caller.
        match bearer {
            tokens::Bearer::Valid(caller) => Ok(ApiCaller::Token(caller)),
            // A real token that may no longer be used: someone still holds it, so it is audited
            // (at a bounded rate per token).
            tokens::Bearer::Refused(token) => {
                limited(app)?;
                let key = format!("token:{}", token.id);
                if app
                    .denial_audits
                    .check(&key, std::time::Instant::now())
                    .is_ok()
                {
                    let ip = (!address.is_empty()).then(|| address.clone());
                    let mut tx = app.db.begin().await?;
                    token.audit(&mut tx.conn(), chrono::Utc::now(), ip).await?;
                    tx.commit().await?;
                }
                Err(ApiError(Error::Unauthorized))
            }
            tokens::Bearer::Unknown => {
                limited(app)?;
                Err(ApiError(Error::Unauthorized))
            }
        }
    }
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
