//! The staff upload pages for bulk imports (批量导入): organizations at `/admin/orgs/import`,
//! the records of `crate::imports` (annual reports, volunteer service records, donations) at
//! `/admin/imports/{kind}`, each with its template; an index of what the user may import at
//! `/admin/imports`; the upload (CSV or XLSX, multipart); the background job's progress page
//! at `/admin/imports/jobs/{job}` (refreshing itself, so it works without JavaScript; a small
//! JSON endpoint for scripts) ending in the summary or in the problems and the error workbook.
//! Who holds the permission a kind names may import it, within that permission's scope.

use super::import_files::{error_workbook, template_xlsx};
use super::import_jobs::{self, Job, JobImporter, Phase};
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission, Scope, require};
use crate::error::{Error, FieldErrors, Result};
use crate::export::xlsx_read::{Limits, XlsxRecords, error_message, looks_like_zip};
use crate::i18n::{Lang, Msg};
use crate::imports::ImportKind;
use crate::web::{Layout, PageCtx, invalid_page, page};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};
use axum::{Json, Router};
use std::io::Write;
use std::sync::Arc;

/// Largest file the upload page takes (the command line has no limit).
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;
/// Problems listed on the page (the error workbook has all).
const SHOWN_ERRORS: usize = 100;
/// Where a job's pages live.
const JOBS: &str = "/admin/imports/jobs";

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    use ImportKind::{AnnualReports, Donations, VolunteerServices};
    Router::new()
        .route("/admin/orgs/import", upload_routes(None))
        .route("/admin/orgs/import/template.xlsx", template_route(None))
        .route("/admin/imports", get(index))
        .route(
            "/admin/imports/annual-reports",
            upload_routes(Some(AnnualReports)),
        )
        .route(
            "/admin/imports/annual-reports/template.xlsx",
            template_route(Some(AnnualReports)),
        )
        .route(
            "/admin/imports/volunteer-services",
            upload_routes(Some(VolunteerServices)),
        )
        .route(
            "/admin/imports/volunteer-services/template.xlsx",
            template_route(Some(VolunteerServices)),
        )
        .route("/admin/imports/donations", upload_routes(Some(Donations)))
        .route(
            "/admin/imports/donations/template.xlsx",
            template_route(Some(Donations)),
        )
        .route("/admin/imports/jobs/{job}", get(job_page))
        .route("/admin/imports/jobs/{job}/status", get(job_status))
        .route("/admin/imports/jobs/{job}/errors.xlsx", get(job_errors))
}

/// The upload page of `kind`: the form, and the upload it posts.
fn upload_routes(kind: Option<ImportKind>) -> MethodRouter<AppState> {
    get(move |app, ctx, user| upload_form(app, ctx, user, kind))
        .post(move |app, ctx, user, parts| upload(app, ctx, user, kind, parts))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024))
}

/// The template of `kind`.
fn template_route(kind: Option<ImportKind>) -> MethodRouter<AppState> {
    get(move |app, user| template(app, user, kind))
}

/// The upload page of `kind` (organizations when `None`).
fn upload_path(kind: Option<ImportKind>) -> String {
    match kind {
        None => "/admin/orgs/import".to_owned(),
        Some(k) => format!("/admin/imports/{}", k.slug()),
    }
}

/// What importing `kind` takes.
fn permission(kind: Option<ImportKind>) -> Permission {
    kind.map_or(Permission::EditRegistry, ImportKind::permission)
}

/// The name of what `kind` imports, in `lang` (社会组织, 年度工作报告, …).
fn kind_name(kind: Option<ImportKind>, lang: Lang) -> &'static str {
    lang.t(kind.map_or("imports.kind.organizations", ImportKind::title_key))
}

#[derive(Template)]
#[template(path = "registry/import.html")]
struct UploadPage {
    layout: Layout,
    errors: Vec<(String, String)>,
    /// The size limit and what is read, in words.
    limits: String,
    /// Where the form posts.
    action: String,
    /// The template's address.
    template: String,
    /// What the page is for, in words.
    intro: String,
}

async fn upload_form(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    kind: Option<ImportKind>,
) -> Result<Response> {
    require(&app, &user, permission(kind)).await?;
    let view = upload_view(&ctx, kind, &FieldErrors::new());
    page(&view, &view.layout)
}

fn upload_view(ctx: &PageCtx, kind: Option<ImportKind>, errors: &FieldErrors) -> UploadPage {
    let lang = ctx.lang;
    let name = kind_name(kind, lang);
    UploadPage {
        layout: ctx.layout_titled(lang.tf("imports.page.title", &[("kind", name)])),
        errors: errors.render(lang),
        limits: lang.tf(
            "import.page.limits",
            &[("max_mb", &(MAX_UPLOAD_BYTES / 1024 / 1024).to_string())],
        ),
        action: upload_path(kind),
        template: format!("{}/template.xlsx", upload_path(kind)),
        intro: match kind {
            None => lang.t("import.page.intro").to_owned(),
            Some(_) => lang.tf("imports.page.intro", &[("kind", name)]),
        },
    }
}

/// The form again with `msg` on the file field, status 422; the upload is removed.
fn refuse(
    ctx: &PageCtx,
    kind: Option<ImportKind>,
    path: &std::path::Path,
    msg: Msg,
) -> Result<Response> {
    let _ = std::fs::remove_file(path);
    let mut errors = FieldErrors::new();
    errors.add("file", msg);
    let view = upload_view(ctx, kind, &errors);
    invalid_page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "registry/imports.html")]
struct IndexPage {
    layout: Layout,
    /// (name, upload page, template) of each kind the user may import.
    kinds: Vec<(&'static str, String, String)>,
}

/// What the user may import, each with its upload page and template.
async fn index(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    let kinds: Vec<_> = all_kinds()
        .filter(|k| user.can(permission(*k)))
        .map(|k| {
            let path = upload_path(k);
            (
                kind_name(k, ctx.lang),
                path.clone(),
                format!("{path}/template.xlsx"),
            )
        })
        .collect();
    if kinds.is_empty() {
        // Not one kind: the denial is audited like any other.
        require(&app, &user, Permission::EditRegistry).await?;
    }
    let view = IndexPage {
        layout: ctx.layout("imports.index.title"),
        kinds,
    };
    page(&view, &view.layout)
}

/// Takes the file (multipart field `file`) to a temporary file, checks that it is CSV text or
/// a readable workbook, and starts the import job; the answer leads to its progress page.
async fn upload(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    kind: Option<ImportKind>,
    mut multipart: Multipart,
) -> Result<Response> {
    let scope = require(&app, &user, permission(kind)).await?;
    let path = import_jobs::temp_path();
    let too_large =
        || Msg::new("import.upload.error.too_large").with("max_mb", MAX_UPLOAD_BYTES / 1024 / 1024);
    // A body cut short or not multipart is refused as such, not as too large.
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            Msg::new("upload.error.malformed")
        }
    };
    let mut file_name = None;
    let mut head = Vec::new();
    let mut size = 0usize;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return refuse(&ctx, kind, &path, unreadable(e)),
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
                        return refuse(&ctx, kind, &path, too_large());
                    }
                    if head.len() < 8192 {
                        head.extend_from_slice(&chunk[..chunk.len().min(8192 - head.len())]);
                    }
                    out.write_all(&chunk)
                        .map_err(|e| Error::Other(e.to_string()))?;
                }
                Ok(None) => break,
                Err(e) => return refuse(&ctx, kind, &path, unreadable(e)),
            }
        }
    }
    let Some(file_name) = file_name.filter(|_| size > 0) else {
        return refuse(&ctx, kind, &path, Msg::new("import.upload.error.empty"));
    };
    if let Err(msg) = check_type(&path, &head).await {
        return refuse(&ctx, kind, &path, msg);
    }
    let (id, job) = app.imports.add(user.id, kind, clean_name(&file_name), path);
    let importer = JobImporter {
        actor: user.actor(),
        scope,
        verify_hours: user.can(Permission::VerifyVolunteerHours),
    };
    tokio::spawn(import_jobs::run(app.db.clone(), job, importer));
    Ok(Redirect::to(&format!("{JOBS}/{id}")).into_response())
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
    // Text has no NUL; a file starting with one is some other kind of file.
    if head.contains(&0) {
        return Err(Msg::new("import.upload.error.type"));
    }
    let path = path.to_owned();
    match tokio::task::spawn_blocking(move || first_unreadable_line(&path)).await {
        Ok(Ok(None)) => Ok(()),
        Ok(Ok(Some(line))) => Err(Msg::new("import.error.encoding").with("line", line)),
        _ => Err(Msg::new("import.error.unreadable")),
    }
}

/// The first line of the text file at `path` that is not UTF-8 or holds a NUL (a CSV saved
/// as GBK, a stray byte), if any. Blocking.
fn first_unreadable_line(path: &std::path::Path) -> std::io::Result<Option<u64>> {
    use std::io::Read;
    let lines = |bytes: &[u8]| bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    let mut file = std::fs::File::open(path)?;
    let mut line = 1;
    let mut pending = Vec::new();
    let mut chunk = vec![0; 64 * 1024];
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            // A character cut off by the end of the file.
            return Ok((!pending.is_empty()).then_some(line));
        }
        pending.extend_from_slice(&chunk[..n]);
        let (valid, invalid) = match std::str::from_utf8(&pending) {
            Ok(_) => (pending.len(), false),
            Err(e) => (e.valid_up_to(), e.error_len().is_some()),
        };
        if let Some(nul) = pending[..valid].iter().position(|&b| b == 0) {
            return Ok(Some(line + lines(&pending[..nul])));
        }
        if invalid {
            return Ok(Some(line + lines(&pending[..valid])));
        }
        line += lines(&pending[..valid]);
        // What is left is the start of a character the next read completes.
        pending.drain(..valid);
    }
}

/// The template of `kind`; the organizations' has the areas the user may reach in its
/// dictionary.
async fn template(
    State(app): State<AppState>,
    user: CurrentUser,
    kind: Option<ImportKind>,
) -> Result<Response> {
    let scope = require(&app, &user, permission(kind)).await?;
    let bytes = match kind {
        None => organizations_template(&app, &scope).await?,
        Some(kind) => crate::imports::template::template_xlsx(kind)
            .map_err(|e| Error::Other(e.to_string()))?,
    };
    let name = Lang::Zh.tf(
        "imports.template.file",
        &[("kind", kind_name(kind, Lang::Zh))],
    );
    Ok(xlsx_download(bytes, &name))
}

async fn organizations_template(app: &AppState, scope: &Scope) -> Result<Vec<u8>> {
    let mut conn = app.db.acquire().await?;
    let domains = super::store::list_domains(&mut conn.conn()).await?;
    let all = crate::areas::store::list_all(&mut conn.conn()).await?;
    drop(conn);
    let reach = import_jobs::reachable_codes(scope, &all);
    let areas: Vec<_> = all
        .into_iter()
        .filter(|a| reach.contains(&a.code))
        .collect();
    template_xlsx(&domains, &areas).map_err(|e| Error::Other(e.to_string()))
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

/// Every kind of import: organizations (`None`) and the others.
fn all_kinds() -> impl Iterator<Item = Option<ImportKind>> {
    std::iter::once(None).chain(ImportKind::ALL.into_iter().map(Some))
}

/// The job `id` of `user`, who must still be allowed to import its kind (an unknown id is
/// 404 to anyone who may import something).
async fn find_job(app: &AppState, user: &CurrentUser, id: &str) -> Result<Arc<Job>> {
    match app.imports.get(id, user.id) {
        Some(job) => {
            require(app, user, permission(job.kind)).await?;
            Ok(job)
        }
        None if all_kinds().any(|k| user.can(permission(k))) => Err(Error::NotFound),
        None => {
            require(app, user, Permission::EditRegistry).await?;
            Err(Error::NotFound)
        }
    }
}

#[derive(Template)]
#[template(path = "registry/import_job.html")]
struct JobPage {
    layout: Layout,
    id: String,
    /// The upload page of the job's kind (another file).
    again: String,
    /// Where what it wrote is listed.
    records: &'static str,
    /// Catalogue key of that link.
    records_label: &'static str,
    /// Catalogue key of "nothing was written" after a failure.
    nothing_written: &'static str,
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
        again: upload_path(job.kind),
        records: job.kind.map_or("/admin/orgs", ImportKind::records_path),
        records_label: match job.kind {
            None => "import.job.to_registry",
            Some(_) => "imports.job.to_records",
        },
        nothing_written: match job.kind {
            None => "import.job.failed_hint",
            Some(_) => "imports.job.failed_hint",
        },
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
            body["error_workbook"] = format!("{JOBS}/{id}/errors.xlsx").into();
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
