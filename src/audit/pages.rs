//! `GET /admin/audit`: search the audit trail (who did what, when, from where).

use super::store::{self, AuditFilter};
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission, require};
use crate::error::Result;
use crate::web::{Layout, PageCtx, Paging, china_time, page};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/audit", get(audit_log))
}

/// An audit entry, formatted.
pub struct EntryLine {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    summary: String,
    changes: String,
    ip: String,
}

#[derive(Template)]
#[template(path = "audit/log.html")]
struct AuditPage {
    layout: Layout,
    lines: Vec<EntryLine>,
    total: i64,
    page: i64,
    pages: i64,
    q: AuditQuery,
    filter_query: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuditQuery {
    actor: String,
    action: String,
    entity: String,
    from: String,
    until: String,
    page: Option<i64>,
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn audit_log(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response> {
    require(&app, &user, Permission::ViewAudit).await?;
    let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let filter = AuditFilter {
        actor: some(&q.actor),
        action: some(&q.action),
        entity: some(&q.entity),
        from: date(&q.from)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc() - chrono::Duration::hours(8)),
        until: date(&q.until).map(crate::registry::store::end_of_day_china),
    };
    let paging = Paging::new(q.page, Some(50));
    let mut conn = app.db.acquire().await?;
    let (rows, total) = store::search(&mut conn.conn(), &filter, paging).await?;
    let filter_query = [
        ("actor", &q.actor),
        ("action", &q.action),
        ("entity", &q.entity),
        ("from", &q.from),
        ("until", &q.until),
    ]
    .iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| format!("{k}={}&", crate::web::percent_encode(v.trim())))
    .collect();
    let view = AuditPage {
        layout: ctx.layout("audit.title"),
        lines: rows
            .into_iter()
            .map(|e| EntryLine {
                seq: e.seq,
                at: china_time(e.at),
                actor: e.actor,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id.map(|i| i.to_string()).unwrap_or_default(),
                summary: e.summary,
                changes: e.changes.unwrap_or_default(),
                ip: e.ip.unwrap_or_default(),
            })
            .collect(),
        total,
        page: paging.page,
        pages: paging.pages(total),
        q,
        filter_query,
    };
    page(&view, &view.layout)
}
