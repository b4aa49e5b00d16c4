//! `/notices` (the public list, each notice, the Atom feed) and `/admin/notices` (staff write,
//! edit, publish and withdraw).

use super::store::{self, NoticeRow};
use super::{NoticeForm, NoticeKind, render_markdown, summary};
use crate::app::AppState;
use crate::auth::{CurrentUser, Permission, require};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use crate::web::{
    Layout, PageCtx, Paging, china_time, page, page_with_errors, redirect_with_flash, xml_escape,
};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notices", get(list))
        .route("/notices/feed.xml", get(feed))
        .route("/notices/{id}", get(show))
        .route("/admin/notices", get(admin_list).post(create))
        .route("/admin/notices/{id}", get(edit_form).post(update))
        .route("/admin/notices/{id}/publish", post(publish))
}

/// A notice in a list, formatted.
pub struct NoticeLine {
    /// Id.
    pub id: i64,
    /// Kind, labelled.
    pub kind: &'static str,
    /// Title.
    pub title: String,
    /// First paragraph, shortened.
    pub summary: String,
    /// Publication date (China time), or "" for a draft.
    pub date: String,
    /// Published.
    pub published: bool,
}

impl NoticeLine {
    /// The line for a stored notice.
    pub fn of(r: &NoticeRow, lang: Lang) -> NoticeLine {
        NoticeLine {
            id: r.id,
            kind: r.kind().label(lang),
            title: r.title.clone(),
            summary: summary(&r.body, 120),
            date: r
                .published_at
                .map(|t| china_time(t)[..10].to_owned())
                .unwrap_or_default(),
            published: r.published_at.is_some(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    kind: String,
    page: String,
}

#[derive(Template)]
#[template(path = "notices/list.html")]
struct ListPage {
    layout: Layout,
    lines: Vec<NoticeLine>,
    kinds: Vec<(&'static str, &'static str, bool)>,
    kind: String,
    page: i64,
    pages: i64,
}

/// `GET /notices`.
async fn list(
    State(app): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    let kind = NoticeKind::parse(q.kind.trim());
    let paging = Paging::new(q.page.trim().parse().ok(), Some(20));
    let mut conn = app.db.acquire().await?;
    let (rows, total) = store::list_published(&mut conn.conn(), kind, paging).await?;
    let view = ListPage {
        layout: ctx.layout("notice.list.title"),
        lines: rows.iter().map(|r| NoticeLine::of(r, ctx.lang)).collect(),
        kinds: NoticeKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label(ctx.lang), Some(*k) == kind))
            .collect(),
        kind: kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        page: paging.page,
        pages: paging.pages(total),
    };
    page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "notices/show.html")]
struct ShowPage {
    layout: Layout,
    kind: &'static str,
    date: String,
    draft: bool,
    body_html: String,
}

/// `GET /notices/{id}`: published notices for everyone; drafts for staff who write them.
async fn show(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: Option<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response> {
    let staff = user.is_some_and(|u| u.can(Permission::PublishNotices));
    let mut conn = app.db.acquire().await?;
    let row = store::find(&mut conn.conn(), id, staff)
        .await?
        .ok_or(Error::NotFound)?;
    let view = ShowPage {
        layout: ctx.layout_titled(row.title.clone()),
        kind: row.kind().label(ctx.lang),
        date: row
            .published_at
            .map(|t| china_time(t)[..10].to_owned())
            .unwrap_or_default(),
        draft: row.published_at.is_none(),
        body_html: render_markdown(&row.body),
    };
    page(&view, &view.layout)
}

/// `GET /notices/feed.xml`: the latest 50 published notices as an Atom feed.
async fn feed(State(app): State<AppState>, lang: Lang, headers: HeaderMap) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let paging = Paging {
        page: 1,
        per_page: 50,
    };
    let (rows, _) = store::list_published(&mut conn.conn(), None, paging).await?;
    let scheme = if app.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let base = format!("{scheme}://{host}");
    let updated = rows
        .iter()
        .filter_map(|r| r.published_at)
        .max()
        .unwrap_or_else(Utc::now);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n<title>{}</title>\n<id>{base}/notices</id>\n<link rel=\"alternate\" href=\"{base}/notices\"/>\n<link rel=\"self\" href=\"{base}/notices/feed.xml\"/>\n<updated>{}</updated>\n",
        lang.tag(),
        xml_escape(&format!(
            "{} · {}",
            lang.t("notice.list.title"),
            lang.t("app.name")
        )),
        updated.to_rfc3339()
    );
    for r in &rows {
        let at = r.published_at.unwrap_or(r.updated_at).to_rfc3339();
        xml.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>{base}/notices/{}</id>\n<link rel=\"alternate\" href=\"{base}/notices/{}\"/>\n<published>{at}</published>\n<updated>{}</updated>\n<category term=\"{}\" label=\"{}\"/>\n<author><name>{}</name></author>\n<content type=\"html\">{}</content>\n</entry>\n",
            xml_escape(&r.title),
            r.id,
            r.id,
            r.updated_at.to_rfc3339(),
            r.kind().as_str(),
            xml_escape(r.kind().label(lang)),
            xml_escape(lang.t("app.name")),
            xml_escape(&render_markdown(&r.body)),
        ));
    }
    xml.push_str("</feed>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "notices/admin.html")]
struct AdminPage {
    layout: Layout,
    lines: Vec<NoticeLine>,
    /// The form (new notice, or the one being edited).
    form: NoticeForm,
    /// The notice being edited.
    editing: Option<i64>,
    published: bool,
    kinds: Vec<(&'static str, &'static str)>,
    errors: Vec<(String, String)>,
}

impl AdminPage {
    /// The error shown under `field`, if any.
    fn error(&self, field: &str) -> &str {
        crate::web::field_error(&self.errors, field)
    }
}

/// The staff page: the new-notice form (or an edit form) and every notice.
async fn admin_page(
    app: &AppState,
    ctx: &PageCtx,
    form: NoticeForm,
    editing: Option<(i64, bool)>,
    errors: &FieldErrors,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let rows = store::list_all(&mut conn.conn()).await?;
    let view = AdminPage {
        layout: ctx.layout(if editing.is_some() {
            "notice.edit.title"
        } else {
            "notice.admin.title"
        }),
        lines: rows.iter().map(|r| NoticeLine::of(r, ctx.lang)).collect(),
        form,
        editing: editing.map(|(id, _)| id),
        published: editing.is_some_and(|(_, p)| p),
        kinds: NoticeKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label(ctx.lang)))
            .collect(),
        errors: errors.render(ctx.lang),
    };
    page_with_errors(&view, &view.layout, errors)
}

/// `GET /admin/notices`.
async fn admin_list(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    require(&app, &user, Permission::PublishNotices).await?;
    let form = NoticeForm {
        kind: NoticeKind::Notice.as_str().into(),
        ..NoticeForm::default()
    };
    admin_page(&app, &ctx, form, None, &FieldErrors::new()).await
}

/// The new-notice form with its publish choice.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CreateForm {
    #[serde(flatten)]
    notice: NoticeForm,
    /// "on": publish at once.
    publish: Option<String>,
}

/// `POST /admin/notices`.
async fn create(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<CreateForm>,
) -> Result<Response> {
    require(&app, &user, Permission::PublishNotices).await?;
    let draft = match form.notice.parse() {
        Ok(d) => d,
        Err(Error::Invalid(errors)) => {
            return admin_page(&app, &ctx, form.notice, None, &errors).await;
        }
        Err(e) => return Err(e),
    };
    let mut tx = app.db.begin().await?;
    let id = store::create(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        &draft,
        form.publish.is_some(),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/notices/{id}"),
        "flash.notice_saved",
    ))
}

/// `GET /admin/notices/{id}`.
async fn edit_form(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require(&app, &user, Permission::PublishNotices).await?;
    let mut conn = app.db.acquire().await?;
    let row = store::find(&mut conn.conn(), id, true)
        .await?
        .ok_or(Error::NotFound)?;
    drop(conn);
    let form = NoticeForm {
        kind: row.kind.clone(),
        title: row.title.clone(),
        body: row.body.clone(),
        version: row.version.to_string(),
    };
    admin_page(
        &app,
        &ctx,
        form,
        Some((id, row.published_at.is_some())),
        &FieldErrors::new(),
    )
    .await
}

/// `POST /admin/notices/{id}`.
async fn update(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<NoticeForm>,
) -> Result<Response> {
    require(&app, &user, Permission::PublishNotices).await?;
    let mut conn = app.db.acquire().await?;
    let row = store::find(&mut conn.conn(), id, true)
        .await?
        .ok_or(Error::NotFound)?;
    drop(conn);
    let draft = match form.parse() {
        Ok(d) => d,
        Err(Error::Invalid(errors)) => {
            let published = row.published_at.is_some();
            return admin_page(&app, &ctx, form, Some((id, published)), &errors).await;
        }
        Err(e) => return Err(e),
    };
    let version = form
        .version
        .trim()
        .parse()
        .map_err(|_| Error::Conflict(Msg::new("notice.error.stale")))?;
    let mut tx = app.db.begin().await?;
    store::update(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        id,
        version,
        &draft,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/notices/{id}"),
        "flash.notice_saved",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PublishForm {
    /// "1" publishes, "0" withdraws.
    publish: String,
}

/// `POST /admin/notices/{id}/publish`.
async fn publish(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<PublishForm>,
) -> Result<Response> {
    require(&app, &user, Permission::PublishNotices).await?;
    let publish = match form.publish.trim() {
        "1" => true,
        "0" => false,
        _ => return Err(Error::field("publish", Msg::new("error.field.choice"))),
    };
    let mut tx = app.db.begin().await?;
    store::set_published(&mut tx.conn(), &user.actor(), Utc::now(), id, publish).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/notices/{id}"),
        if publish {
            "flash.notice_published"
        } else {
            "flash.notice_withdrawn"
        },
    ))
}
