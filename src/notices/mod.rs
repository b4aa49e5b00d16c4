//! Notices and policy documents (通知公告, 政策法规): written by registry staff in Markdown,
//! published on the portal (`/notices`, with an Atom feed) and shown on the home page.

pub mod pages;
pub mod store;

use crate::error::{FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest body, in characters.
pub const MAX_BODY: usize = 50_000;

/// What a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// 通知公告: calls, announcements, results.
    Notice,
    /// 政策法规: policy documents and regulations.
    Policy,
}

impl NoticeKind {
    /// Both kinds.
    pub const ALL: [NoticeKind; 2] = [NoticeKind::Notice, NoticeKind::Policy];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Notice => "notice",
            NoticeKind::Policy => "policy",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The label in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(match self {
            NoticeKind::Notice => "notice.kind.notice",
            NoticeKind::Policy => "notice.kind.policy",
        })
    }
}

/// What staff typed into the notice form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct NoticeForm {
    /// Kind (stored name).
    pub kind: String,
    /// 标题.
    pub title: String,
    /// 正文 (Markdown).
    pub body: String,
    /// The version the editor started from (edits only).
    pub version: String,
}

/// A checked notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeDraft {
    /// Kind.
    pub kind: NoticeKind,
    /// Title, trimmed.
    pub title: String,
    /// Markdown body, trimmed.
    pub body: String,
}

impl NoticeForm {
    /// Checks every field, naming each one that is wrong.
    pub fn parse(&self) -> Result<NoticeDraft> {
        let mut e = FieldErrors::new();
        let kind = NoticeKind::parse(self.kind.trim());
        if kind.is_none() {
            e.add("kind", Msg::new("error.field.choice"));
        }
        let title = e.required_text("title", &self.title, MAX_TITLE);
        let body = e.required_text("body", &self.body, MAX_BODY);
        e.into_result(NoticeDraft {
            kind: kind.unwrap_or(NoticeKind::Notice),
            title,
            body,
        })
    }
}

/// True for link and image targets that cannot run script or leave for odd schemes: web
/// addresses, mail, and paths or anchors on this site.
fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || lower.starts_with('#')
        || (lower.starts_with('/') && !lower.starts_with("//"))
}

/// Renders Markdown to HTML that is safe to embed: raw HTML is shown as text, and links or
/// images with any other scheme (`javascript:`, `data:`…) lose their target.
pub fn render_markdown(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Image {
            link_type,
            dest_url: CowStr::Borrowed(""),
            title,
            id,
        }),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// The first paragraph of a body as plain text, at most `max` characters (for lists and
/// feeds).
pub fn summary(markdown: &str, max: usize) -> String {
    let mut text = String::new();
    let mut in_heading = false;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Heading { .. }) => in_heading = true,
            Event::End(pulldown_cmark::TagEnd::Heading(_)) => in_heading = false,
            Event::Text(t) | Event::Code(t) if !in_heading => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(pulldown_cmark::TagEnd::Paragraph) if !text.is_empty() => break,
            _ => {}
        }
    }
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_but_raw_html_and_script_links_do_not_survive() {
        let html = render_markdown(
            "# 通知\n\n**申报**截止：[报名表](/notices/1) [x](javascript:alert(1)) [y](JaVaScRiPt:1)\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n![a](data:image/png;base64,AAAA)",
        );
        assert!(html.contains("<h1>通知</h1>"));
        assert!(html.contains("<strong>申报</strong>"));
        assert!(html.contains("<a href=\"/notices/1\">报名表</a>"));
        assert!(!html.to_lowercase().contains("javascript:"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img src=\"x\""));
        assert!(!html.contains("<img src=x"));
        assert!(!html.contains("data:image"));
        assert!(html.contains("&lt;script&gt;"));
    }

    #[test]
    fn forms_name_every_bad_field() {
        let e = NoticeForm {
            kind: "memo".into(),
            title: " ".into(),
            body: "x".repeat(MAX_BODY + 1),
            version: String::new(),
        }
        .parse()
        .unwrap_err();
        let crate::error::Error::Invalid(fields) = e else {
            panic!("not a field error")
        };
        for f in ["kind", "title", "body"] {
            assert!(fields.get(f).is_some(), "{f}");
        }
    }

    #[test]
    fn summaries_take_the_first_paragraph() {
        assert_eq!(
            summary("# 标题\n\n第一段\n第二行\n\n第二段", 100),
            "第一段 第二行"
        );
        assert_eq!(summary("一二三四五", 3), "一二三…");
    }
}
