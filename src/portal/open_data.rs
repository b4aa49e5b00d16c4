//! `/open-data`: what the public can download — the latest daily dump with sizes and SHA-256
//! sums, its data dictionary and licence — and `/open-data/{date}/{file}` to fetch a file.

use crate::app::AppState;
use crate::error::{Error, Result};
use crate::registry::dump::{self, Manifest};
use crate::registry::open_data::{EXPORT_COLUMNS, column_key};
use crate::web::{Layout, PageCtx, page};
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A file row of the page.
pub struct FileLine {
    href: String,
    name: String,
    size: String,
    sha256: String,
}

#[derive(Template)]
#[template(path = "portal/open_data.html")]
struct OpenDataPage {
    layout: Layout,
    manifest: Option<Manifest>,
    files: Vec<FileLine>,
    columns: Vec<(&'static str, &'static str)>,
    licence: &'static str,
}

/// Bytes as a reader takes them in (KB, MB).
fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// `GET /open-data`.
pub async fn open_data(State(app): State<AppState>, ctx: PageCtx) -> Result<Response> {
    let manifest = dump::latest(&app.settings.dump_dir);
    let files = manifest
        .as_ref()
        .map(|m| {
            m.files
                .iter()
                .map(|f| FileLine {
                    href: format!("/open-data/{}/{}", m.date, f.name),
                    name: f.name.clone(),
                    size: human_size(f.bytes),
                    sha256: f.sha256.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let view = OpenDataPage {
        layout: ctx.layout("dump.title"),
        columns: EXPORT_COLUMNS
            .iter()
            .map(|c| (*c, ctx.lang.t(&column_key(c))))
            .collect(),
        licence: ctx.lang.t("dump.licence"),
        manifest,
        files,
    };
    page(&view, &view.layout)
}

/// `GET /open-data/{date}/{file}`.
pub async fn download(
    State(app): State<AppState>,
    Path((date, name)): Path<(String, String)>,
) -> Result<Response> {
    let path = dump::file_path(&app.settings.dump_dir, &date, &name).ok_or(Error::NotFound)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| Error::NotFound)?;
    let content_type = match name.rsplit('.').next() {
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json",
        _ => "text/plain; charset=utf-8",
    };
    let stream = file_chunks(file);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{date}-{name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// A file as a stream of 64 KB chunks (constant memory for any size).
fn file_chunks(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(2048), "2.0 KB");
        assert_eq!(human_size(3 << 20), "3.0 MB");
    }
}
