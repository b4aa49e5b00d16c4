//! The staff upload page for bulk imports (批量导入): the template, the upload (CSV or XLSX,
//! multipart), the background job's progress page (refreshing itself, so it works without
//! JavaScript; a small JSON endpoint for scripts) ending in the summary or in the problems and
//! the error workbook. Who may edit the registry may import, within their scope.

use super::import_files::{error_workbook, template_xlsx};
use super::import_jobs::{self, Job, Phase};
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission, require};
use crate::error::{Error, FieldErrors, Result};
use crate::export::xlsx_read::{Limits, XlsxRecords, error_message, looks_like_zip};
use crate::i18n::{Lang, Msg};
use crate::web::{Layout, PageCtx, invalid_page, page};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::io::Write;
use std::sync::Arc;

/// Largest file the upload page takes (the command line has no limit).
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;
/// Problems listed on the page (the error workbook has all).
const SHOWN_ERRORS: usize = 100;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/orgs/import",
            get(upload_form)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024)),
        )
        .route("/admin/orgs/import/template.xlsx", get(template))
        .route("/admin/orgs/import/{job}", get(job_page))
        .route("/admin/orgs/import/{job}/status", get(job_status))
        .route("/admin/orgs/import/{job}/errors.xlsx", get(job_errors))
}

#[derive(Template)]
#[template(path = "registry/import.html")]
struct UploadPage {
    layout: Layout,
    errors: Vec<(String, String)>,
    /// The size limit and what is read, in words.
    limits: String,
}

async fn upload_form(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    require(&app, &user, Permission::EditRegistry).await?;
    page(
        &upload_view(&ctx, &FieldErrors::new()),
        &ctx.layout("import.page.title"),
    )
}

fn upload_view(ctx: &PageCtx, errors: &FieldErrors) -> UploadPage {
    UploadPage {
        layout: ctx.layout("import.page.title"),
        errors: errors.render(ctx.lang),
        limits: ctx.lang.tf(
            "import.page.limits",
            &[("max_mb", &(MAX_UPLOAD_BYTES / 1024 / 1024).to_string())],
        ),
    }
}

/// The form again with `msg` on the file field, status 422; the upload is removed.
fn refuse(ctx: &PageCtx, path: &std::path::Path, msg: Msg) -> Result<Response> {
    let _ = std::fs::remove_file(path);
    let mut errors = FieldErrors::new();
    errors.add("file", msg);
    let view = upload_view(ctx, &errors);
    invalid_page(&view, &view.layout)
}

/// Takes the file (multipart field `file`) to a temporary file, checks that it is CSV text or
/// a readable workbook, and starts the import job; the answer leads to its progress page.
async fn upload(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    mut multipart: Multipart,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::EditRegistry).await?;
    let path = import_jobs::temp_path();
    let too_large =
        || Msg::new("import.upload.error.too_large").with("max_mb", MAX_UPLOAD_BYTES / 1024 / 1024);
    let mut file_name = None;
    let mut head = Vec::new();
    let mut size = 0usize;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return refuse(&ctx, &path, too_large()),
        };
        if field.name() != Some("file") {
            continue;
        }
        file_name = Some(field.file_name().unwrap_or("").to_owned());
        let mut out = std::fs::File::create(&path).map_err(|e| Error::Other(e.to_string()))?;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    size += chunk.len();
                    if size > MAX_UPLOAD_BYTES {
                        return refuse(&ctx, &path, too_large());
                    }
                    if head.len() < 8192 {
                        head.extend_from_slice(&chunk[..chunk.len().min(8192 - head.len())]);
                    }
                    out.write_all(&chunk)
                        .map_err(|e| Error::Other(e.to_string()))?;
                }
                Ok(None) => break,
                Err(_) => return refuse(&ctx, &path, too_large()),
            }
        }
    }
    let Some(file_name) = file_name.filter(|_| size > 0) else {
        return refuse(&ctx, &path, Msg::new("import.upload.error.empty"));
    };
    if let Err(msg) = check_type(&path, &head).await {
        return refuse(&ctx, &path, msg);
    }
    let (id, job) = app.imports.add(user.id, clean_name(&file_name), path);
    tokio::spawn(import_jobs::run(app.db.clone(), job, user.actor(), scope));
    Ok(Redirect::to(&format!("/admin/orgs/import/{id}")).into_response())
}

/// A file name fit to show: its last path part, control characters left out.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// CSV (UTF-8 text, judged from its first bytes `head`) or a workbook that opens within the
/// limits; anything else is refused with the reason.
async fn check_type(path: &std::path::Path, head: &[u8]) -> std::result::Result<(), Msg> {
    if looks_like_zip(head) {
        let path = path.to_owned();
        let opened = tokio::task::spawn_blocking(move || {
            let file = std::io::BufReader::new(std::fs::File::open(path)?);
            XlsxRecords::open(file, Limits::default()).map(|_| ())
        })
        .await
        .map_err(|_| Msg::new("error.internal"))?;
        return opened.map_err(|e| {
            error_message(&e)
                .cloned()
                .unwrap_or_else(|| Msg::new("import.error.unreadable"))
        });
    }
    // The old binary Excel format (an OLE compound file).
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(Msg::new("import.upload.error.xls"));
    }
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        // Cut inside a character at the 8 KiB mark: the rest up to there is text.
        Err(e) => e.error_len().is_none(),
    };
    if !text || head.contains(&0) {
        return Err(Msg::new("import.upload.error.type"));
    }
    Ok(())
}

/// The template, with the areas the user may reach in its dictionary.
async fn template(State(app): State<AppState>, user: CurrentUser) -> Result<Response> {
    let scope = require(&app, &user, Permission::EditRegistry).await?;
    let mut conn = app.db.acquire().await?;
    let domains = super::store::list_domains(&mut conn.conn()).await?;
    let all = crate::areas::store::list_all(&mut conn.conn()).await?;
    drop(conn);
    let reach = import_jobs::reachable_codes(&scope, &all);
    let areas: Vec<_> = all
        .into_iter()
        .filter(|a| reach.contains(&a.code))
        .collect();
    let bytes = template_xlsx(&domains, &areas).map_err(|e| Error::Other(e.to_string()))?;
    Ok(xlsx_download(bytes, "组织导入模板.xlsx"))
}

fn xlsx_download(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename*=UTF-8''{}",
                    crate::web::percent_encode(name)
                ),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// The job `id` of `user`, who must still be allowed to import.
async fn find_job(app: &AppState, user: &CurrentUser, id: &str) -> Result<Arc<Job>> {
    require(app, user, Permission::EditRegistry).await?;
    app.imports.get(id, user.id).ok_or(Error::NotFound)
}

#[derive(Template)]
#[template(path = "registry/import_job.html")]
struct JobPage {
    layout: Layout,
    id: String,
    file_name: String,
    running: bool,
    /// The phase in words.
    status: String,
    failed: bool,
    invalid: bool,
    done: bool,
    errors: Vec<String>,
}

async fn job_page(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let job = find_job(&app, &user, &id).await?;
    let state = job.state();
    let lang = ctx.lang;
    let rows = state.rows.to_string();
    let rate = format!("{:.0}", state.rate);
    let progress = |key| lang.tf(key, &[("rows", &rows), ("rate", &rate)]);
    let (status, errors) = match &state.phase {
        Phase::Queued => (lang.t("import.job.queued").to_owned(), Vec::new()),
        Phase::Validating => (progress("import.job.validating"), Vec::new()),
        Phase::Writing => (progress("import.job.writing"), Vec::new()),
        Phase::Done(s) => (
            lang.tf(
                "import.job.done",
                &[
                    ("rows", &s.rows.to_string()),
                    ("created", &s.created.to_string()),
                    ("updated", &s.updated.to_string()),
                    ("unchanged", &s.unchanged.to_string()),
                ],
            ),
            Vec::new(),
        ),
        Phase::Invalid(errors) => (
            lang.tf(
                "import.job.invalid",
                &[
                    ("count", &errors.len().to_string()),
                    ("shown", &errors.len().min(SHOWN_ERRORS).to_string()),
                ],
            ),
            errors
                .iter()
                .take(SHOWN_ERRORS)
                .map(|e| e.render(lang))
                .collect(),
        ),
        Phase::Failed(msg) => (
            lang.tf("import.job.failed", &[("problem", &msg.render(lang))]),
            Vec::new(),
        ),
    };
    let view = JobPage {
        layout: ctx.layout("import.job.title"),
        id,
        file_name: job.file_name.clone(),
        running: !state.phase.ended(),
        status,
        failed: matches!(state.phase, Phase::Failed(_)),
        invalid: matches!(state.phase, Phase::Invalid(_)),
        done: matches!(state.phase, Phase::Done(_)),
        errors,
    };
    page(&view, &view.layout)
}

/// The job's state as JSON (for a script polling it).
async fn job_status(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let job = find_job(&app, &user, &id).await?;
    let state = job.state();
    let mut body = serde_json::json!({
        "phase": match &state.phase {
            Phase::Queued => "queued",
            Phase::Validating => "validating",
            Phase::Writing => "writing",
            Phase::Done(_) => "done",
            Phase::Invalid(_) => "invalid",
            Phase::Failed(_) => "failed",
        },
        "ended": state.phase.ended(),
        "rows": state.rows,
        "rows_per_second": state.rate.round(),
    });
    match &state.phase {
        Phase::Done(s) => {
            body["created"] = s.created.into();
            body["updated"] = s.updated.into();
            body["unchanged"] = s.unchanged.into();
        }
        Phase::Invalid(errors) => {
            body["errors"] = errors.len().into();
            body["error_workbook"] = format!("/admin/orgs/import/{id}/errors.xlsx").into();
        }
        Phase::Failed(msg) => body["problem"] = msg.render(Lang::Zh).into(),
        _ => {}
    }
    Ok(Json(body).into_response())
}

/// The error workbook of a refused job.
async fn job_errors(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let job = find_job(&app, &user, &id).await?;
    let Phase::Invalid(errors) = job.state().phase else {
        return Err(Error::NotFound);
    };
    let lang = ctx.lang;
    let path = job.path.clone();
    let bytes = tokio::task::spawn_blocking(move || error_workbook(&path, &errors, lang))
        .await
        .map_err(|e| Error::Other(e.to_string()))?
        .map_err(|_| Error::NotFound)?;
    let stem = job
        .file_name
        .rsplit_once('.')
        .map_or(job.file_name.as_str(), |(s, _)| s);
    Ok(xlsx_download(
        bytes,
        &format!("{stem}-{}.xlsx", lang.t("import.errors_column")),
    ))
}
