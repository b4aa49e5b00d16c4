//! What every page shares: the request's language, the layout context, flash messages,
//! pagination, the error page, the loopback guard for the back office, and embedded static files.

use crate::app::AppState;
use crate::auth::{CurrentUser, Permission};
use crate::error::{Error, FieldErrors};
use crate::i18n::{Lang, Msg};
use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::net::SocketAddr;

/// Name of the cookie that remembers the chosen language.
const LANG_COOKIE: &str = "shezu_lang";
/// Name of the cookie that carries a flash message key across a redirect.
const FLASH_COOKIE: &str = "shezu_flash";

/// Reads one cookie from the request headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `lang` query parameter, if the URL carries one.
fn lang_from_query(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

/// Decides the request's language (`?lang=` first, then the cookie, else Chinese), makes it
/// available to handlers, remembers an explicit choice in a cookie, and renders errors that
/// handlers returned as the HTML error page or the JSON error body in that language.
pub async fn page_context(mut req: Request, next: Next) -> Response {
    let from_query = lang_from_query(req.uri().query());
    let lang = from_query
        .or_else(|| cookie(req.headers(), LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or_default();
    req.extensions_mut().insert(lang);
    let api = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    if let Some(mut view) = response.extensions_mut().remove::<ErrorView>() {
        // The API answers every error in its documented JSON shape, whichever error type the
        // handler used.
        view.json |= api;
        // The session layer (inside this one) leaves the signed-in user's header for the page.
        let user = response.extensions_mut().remove::<NavUser>();
        response = view.render(lang, user);
    } else if api && response.status().as_u16() >= 400 && !is_json(&response) {
        response = ErrorView::of_bare_answer(&response).render(lang, None);
    }
    if let Some(chosen) = from_query {
        let value = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            chosen.tag()
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// Adds the security headers every answer carries (HSTS when served over HTTPS); an answer to a
/// request with credentials (session cookie or bearer token) is never stored by a cache unless
/// its handler chose a policy.
pub async fn security_headers(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let credentials = cookie(req.headers(), SESSION_COOKIE).is_some()
        || req.headers().contains_key(header::AUTHORIZATION);
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    if credentials && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if app.settings.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
        // Served over HTTPS, no cookie (language, flash message, session) travels over plain
        // HTTP: the flag is added here once rather than at every place that sets one.
        let cookies: Vec<HeaderValue> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(secure_cookie)
            .collect();
        h.remove(header::SET_COOKIE);
        for c in cookies {
            h.append(header::SET_COOKIE, c);
        }
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    response
}

/// `cookie` with the `Secure` flag (unchanged when it already has it).
fn secure_cookie(cookie: &HeaderValue) -> HeaderValue {
    match cookie.to_str() {
        Ok(text)
            if !text
                .split(';')
                .any(|attr| attr.trim().eq_ignore_ascii_case("secure")) =>
        {
            HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or_else(|_| cookie.clone())
        }
        _ => cookie.clone(),
    }
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "shezu_session";
/// Name of the form field that carries the session's CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
/// Largest form body accepted (uploads will have their own limit).
const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// The signed-in user of a request, if any, as resolved once by [`session`].
#[derive(Debug, Clone)]
pub struct SessionUser(pub Option<CurrentUser>);

/// The address a request came from (behind a trusted proxy, the one it forwarded; see
/// [`crate::ops::client_ip`]).
#[derive(Debug, Clone)]
pub struct PeerIp(pub Option<String>);

/// Resolves the session cookie to a user (once per request), and guards every state-changing
/// request: it must come from our own pages (Origin/Referer) and, when someone is signed in,
/// carry that session's CSRF token in the `_csrf` form field. A request that fails either check
/// is refused before any handler runs.
pub async fn session(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    // The extractor (not the raw extension) so that tests' `MockConnectInfo` is honoured.
    let forwarded_for = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ip = ConnectInfo::<SocketAddr>::from_request_parts(&mut parts, &())
        .await
        .ok()
        .map(|ConnectInfo(addr)| {
            crate::ops::client_ip(
                addr.ip(),
                forwarded_for.as_deref(),
                &app.settings.trusted_proxies,
            )
            .to_string()
        });
    let token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned);
    let user = match token {
        Some(token) => match resolve_session(&app, &token, ip.clone()).await {
            Ok(user) => user,
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let mut body = body;
    if unsafe_method && !parts.uri.path().starts_with("/api/") {
        let authority = parts.uri.authority().map(|a| a.as_str());
        if !same_origin(&parts.headers, authority) {
            return refuse_forgery(&app, user.as_ref(), "origin", parts.uri.path()).await;
        }
        let multipart = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if let (Some(user), true) = (&user, multipart) {
            // Uploads carry the token in the query string: the body is a stream of files.
            let sent = parts
                .uri
                .query()
                .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == CSRF_FIELD))
                .map(|(_, v)| v.into_owned());
            if !csrf_matches(sent.as_deref(), &user.csrf_token) {
                return refuse_forgery(&app, Some(user), "csrf", parts.uri.path()).await;
            }
        } else if let Some(user) = &user {
            let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
                return too_large().into_response();
            };
            let sent = form_urlencoded::parse(&bytes)
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v.into_owned());
            if !csrf_matches(sent.as_deref(), &user.csrf_token) {
                return refuse_forgery(&app, Some(user), "csrf", parts.uri.path()).await;
            }
            body = axum::body::Body::from(bytes);
        }
    }
    // An error page rendered further out (see [`page_context`]) still shows who is signed in.
    let nav = user.as_ref().map(NavUser::of);
    parts.extensions.insert(SessionUser(user));
    parts.extensions.insert(PeerIp(ip));
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(nav) = nav.filter(|_| response.extensions().get::<ErrorView>().is_some()) {
        response.extensions_mut().insert(nav);
    }
    response
}

/// Refuses a state-changing request that did not come from our own pages (`check`: `origin`
/// or `csrf`); when someone is signed in, the attempt made in their name is audited — it is
/// what a cross-site forgery against them looks like.
async fn refuse_forgery(
    app: &AppState,
    user: Option<&CurrentUser>,
    check: &str,
    path: &str,
) -> Response {
    let Some(user) = user else {
        return Error::Forbidden.into_response();
    };
    let path: String = path.chars().take(200).collect();
    crate::auth::deny(app, user, check, None, &path)
        .await
        .into_response()
}

/// True when the CSRF token sent matches the session's, compared in constant time so that the
/// answer's timing says nothing about how much of a guess was right.
fn csrf_matches(sent: Option<&str>, expected: &str) -> bool {
    let Some(sent) = sent else {
        return false;
    };
    sent.len() == expected.len()
        && sent
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// A form body over [`FORM_LIMIT`].
fn too_large() -> Error {
    Error::Unreadable(
        StatusCode::PAYLOAD_TOO_LARGE,
        Msg::new("error.too_large").with("max_mb", FORM_LIMIT / 1024 / 1024),
    )
}

/// Refuses, before any handler runs, a request whose path, query string or form body does not
/// decode to UTF-8 text free of control characters (a NUL breaks PostgreSQL, other bytes would
/// be stored mangled), naming the field; and answers the framework's own refusals (a path part
/// that is not a number, a body over the limit…) with the error page or JSON error in the
/// user's language instead of their English text.
pub async fn readable_input(req: Request, next: Next) -> Response {
    let json = req.uri().path().starts_with("/api/");
    let refuse = |err: Error| {
        let mut response = err.status().into_response();
        response
            .extensions_mut()
            .insert(ErrorView::capture(&err, json));
        response
    };
    let (parts, body) = req.into_parts();
    if decoded_text(parts.uri.path().as_bytes()).is_none() {
        return refuse(Error::Unreadable(
            StatusCode::BAD_REQUEST,
            Msg::new("error.garbled_path"),
        ));
    }
    if let Some(field) = parts.uri.query().and_then(|q| garbled_field(q.as_bytes())) {
        return refuse(garbled(field));
    }
    let form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body = if form {
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return refuse(too_large());
        };
        if let Some(field) = garbled_field(&bytes) {
            return refuse(garbled(field));
        }
        axum::body::Body::from(bytes)
    } else {
        body
    };
    let response = next.run(Request::from_parts(parts, body)).await;
    let plain_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    let status = response.status();
    if status.is_client_error() && plain_text && response.extensions().get::<ErrorView>().is_none()
    {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return refuse(too_large());
        }
        let text = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let message = match duplicated_parameter(&text) {
            Some(name) => Msg::new("api.error.duplicate_param").with("param", name),
            None => Msg::new("error.unreadable"),
        };
        return refuse(Error::Unreadable(status, message));
    }
    response
}

/// The parameter a query string gave twice, from the framework's refusal text.
fn duplicated_parameter(refusal: &str) -> Option<String> {
    refusal
        .split_once("duplicate field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
}

/// The error naming a field that is not readable text.
fn garbled(field: String) -> Error {
    Error::Unreadable(
        StatusCode::BAD_REQUEST,
        Msg::new("error.garbled").with("field", field),
    )
}

/// The name of the first field of a query string or form body whose name or value is not
/// readable text (see [`decoded_text`]); an unreadable name is shown as far as it can be.
fn garbled_field(raw: &[u8]) -> Option<String> {
    raw.split(|&b| b == b'&').find_map(|pair| {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &[][..]),
        };
        match decoded_text(name) {
            Some(_) if decoded_text(value).is_some() => None,
            Some(name) => Some(name),
            None => Some(
                String::from_utf8_lossy(name)
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(40)
                    .collect(),
            ),
        }
    })
}

/// `raw` with its `%XX` escapes (and `+`, a form's space) decoded, if that is UTF-8 text with no
/// control characters other than tabs and line breaks.
fn decoded_text(raw: &[u8]) -> Option<String> {
    let bytes = percent_decoded(raw, true);
    String::from_utf8(bytes).ok().filter(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    })
}

async fn resolve_session(
    app: &AppState,
    token: &str,
    ip: Option<String>,
) -> Result<Option<CurrentUser>, Error> {
    let mut conn = app.db.acquire().await?;
    crate::auth::store::user_for_session(
        &mut conn.conn(),
        token,
        chrono::Utc::now(),
        app.settings.session_limits(),
        ip,
    )
    .await
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(SessionUser(Some(user))) = parts.extensions.get::<SessionUser>() {
            return Ok(user.clone());
        }
        if parts.method == Method::GET {
            let here = parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            return Err(
                Redirect::to(&format!("/login?next={}", percent_encode(&here))).into_response(),
            );
        }
        Err(Error::Unauthorized.into_response())
    }
}

impl OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<SessionUser>()
            .and_then(|SessionUser(u)| u.clone()))
    }
}

/// `raw` with its `%XX` escapes decoded, and `+` read as a space when `plus_is_space` (in a
/// form or query string; in a URL's user information it is itself).
pub fn percent_decoded(raw: &[u8], plus_is_space: bool) -> Vec<u8> {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match (raw[i], hex(raw.get(i + 1)), hex(raw.get(i + 2))) {
            (b'%', Some(high), Some(low)) => {
                bytes.push((high * 16 + low) as u8);
                i += 3;
            }
            (b'+', _, _) if plus_is_space => {
                bytes.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    bytes
}

/// Percent-encodes a value for a URL query.
pub fn percent_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A session cookie carrying `token` (or clearing it when `None`); [`security_headers`] adds
/// `Secure` when the site is served over HTTPS.
pub fn session_cookie(token: Option<&str>) -> HeaderValue {
    let value = match token {
        Some(t) => format!("{SESSION_COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax"),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// True when a state-changing request comes from our own pages: an `Origin` (or, failing that,
/// `Referer`) header, when present, must name the host the request was sent to (the `Host`
/// header, or under HTTP/2 the URI's authority). A source that cannot be compared with any
/// host is refused. The scheme is not compared: behind a TLS-terminating proxy the server sees
/// plain HTTP for pages the browser loaded over HTTPS.
fn same_origin(headers: &HeaderMap, authority: Option<&str>) -> bool {
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|h| h.to_str().ok());
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(authority);
    match source {
        None => true,
        Some(None) => false,
        Some(Some(src)) => {
            let rest = src.split_once("://").map_or(src, |(_, r)| r);
            host.is_some_and(|host| rest.split('/').next() == Some(host))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Self::Rejection> {
        Ok(parts.extensions.get::<Lang>().copied().unwrap_or_default())
    }
}

/// What every page's layout needs: language, title, current path (for the language switch),
/// and the flash message of the previous action.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The reader's language.
    pub lang: Lang,
    /// The page title (already translated).
    pub title: String,
    /// The request path, for the language switch links.
    pub path: String,
    /// A message from the previous action, already translated.
    pub flash: Option<String>,
    /// The signed-in user, for the header and the forms' CSRF field.
    pub user: Option<NavUser>,
}

/// What the layout shows of the signed-in user.
#[derive(Debug, Clone)]
pub struct NavUser {
    /// Name shown.
    pub display_name: String,
    /// The session's CSRF token for forms.
    pub csrf: String,
    /// Show the registry link.
    pub registry: bool,
    /// Show the dictionary link.
    pub dictionaries: bool,
    /// Show the users and tokens links.
    pub users: bool,
    /// Show the audit links.
    pub audit: bool,
    /// Show the settings link.
    pub settings: bool,
    /// Writes notices.
    pub notices: bool,
    /// Show the application queue.
    pub applications: bool,
    /// Show the applicant's pages.
    pub apply: bool,
    /// Where the evaluation link (评估) goes: staff, experts or an organization's account.
    pub evaluation: Option<&'static str>,
    /// Show the organization's annual reports.
    pub reports: bool,
    /// Where the party-building link (党建) goes, if anywhere.
    pub party: Option<&'static str>,
    /// Where the talent link (社工与培训) goes: the staff overview, or the training sign-up.
    pub talent: Option<&'static str>,
    /// Sees volunteers and donations.
    pub volunteers: bool,
    /// Sees the statistics desk (统计分析).
    pub stats: bool,
    /// Where the incubation link (孵化) goes: staff's overview or an applicant's page.
    pub incubation: Option<&'static str>,
    /// Where the funding link (公益创投) goes: the desk, an expert's reviews, or an organization's proposals.
    pub funding: Option<&'static str>,
}

impl NavUser {
    fn of(user: &CurrentUser) -> NavUser {
        NavUser {
            display_name: user.display_name.clone(),
            csrf: user.csrf_token.clone(),
            registry: user.can(Permission::ViewRegistry),
            dictionaries: user.can(Permission::ManageDictionaries),
            users: user.can(Permission::ManageUsers),
            audit: user.can(Permission::ViewAudit),
            settings: user.can(Permission::ManageSettings),
            notices: user.can(Permission::PublishNotices),
            applications: user.can(Permission::HandleApplications),
            apply: user.can(Permission::Apply),
            evaluation: if user.can(Permission::ManageEvaluations) {
                Some("/admin/evaluations")
            } else if user.can(Permission::ScoreEvaluations) {
                Some("/expert/evaluations")
            } else if user.can(Permission::ApplyEvaluation) {
                Some("/evaluation")
            } else {
                None
            },
            reports: user.can(Permission::FileAnnualReport),
            funding: if user.can(Permission::ManageFunding) {
                Some("/admin/funding")
            } else if user.can(Permission::ScoreProposals) {
                Some("/expert/funding")
            } else if user.can(Permission::ApplyFunding) {
                Some("/funding")
            } else {
                None
            },
            party: if user.has_role(crate::auth::Role::Instructor) {
                Some("/admin/party/mine")
            } else if user.can(Permission::ViewParty) || user.can(Permission::ViewPartyFigures) {
                Some("/admin/party")
            } else {
                None
            },
            talent: if user.can(Permission::ViewTalent) {
                Some("/admin/talent")
            } else if user.can(Permission::SignUpTraining) {
                Some("/trainings")
            } else {
                None
            },
            volunteers: user.can(Permission::ViewVolunteers),
            stats: user.can(Permission::ViewStats),
            incubation: if user.can(Permission::ManageIncubation) {
                Some("/admin/incubation")
            } else if user.can(Permission::Apply) {
                Some("/incubation")
            } else {
                None
            },
        }
    }
}

impl Layout {
    /// The CSRF token for forms ("" when nobody is signed in).
    pub fn csrf(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.csrf.as_str())
    }

    /// Catalogue text in the page's language (used by templates).
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    /// The `<html lang>` value.
    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }

    /// True when the page is in English.
    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }
}

/// Builds a page's layout from the request: language, path and a pending flash message.
#[derive(Debug, Clone)]
pub struct PageCtx {
    /// The reader's language.
    pub lang: Lang,
    path: String,
    flash: Option<String>,
    user: Option<NavUser>,
}

impl PageCtx {
    /// The layout for a page titled with catalogue key `title_key`.
    pub fn layout(&self, title_key: &str) -> Layout {
        self.layout_titled(self.lang.t(title_key).to_owned())
    }

    /// The layout for a page with a title computed by the handler (e.g. an organization's name).
    pub fn layout_titled(&self, title: String) -> Layout {
        Layout {
            lang: self.lang,
            title,
            path: self.path.clone(),
            flash: self.flash.clone(),
            user: self.user.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<PageCtx, Self::Rejection> {
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_default();
        let flash = cookie(&parts.headers, FLASH_COOKIE)
            .and_then(flash_key)
            .map(|key| lang.t(key).to_owned());
        let user = parts
            .extensions
            .get::<SessionUser>()
            .and_then(|SessionUser(u)| u.as_ref().map(NavUser::of));
        Ok(PageCtx {
            lang,
            path: parts.uri.path().to_owned(),
            flash,
            user,
        })
    }
}

/// The flash messages a redirect may carry; only these keys are accepted back from the cookie,
/// so a forged cookie cannot make the page say something else.
const FLASH_KEYS: &[&str] = &[
    "flash.practitioner_saved",
    "flash.placement_saved",
    "flash.placement_ended",
    "flash.training_saved",
    "flash.attendance_saved",
    "flash.signed_up",
    "flash.federation_saved",
    "flash.member_admitted",
    "flash.member_left",
    "flash.liaison_saved",
    "flash.incubation_saved",
    "flash.incubation_applied",
    "flash.report_saved",
    "flash.report_submitted",
    "flash.report_reviewed",
    "flash.objection_filed",
    "flash.listing_added",
    "flash.sweep_done",
    "flash.listing_removed",
    "flash.objection_decided",
    "flash.notice_saved",
    "flash.notice_published",
    "flash.notice_withdrawn",
    "flash.org_created",
    "flash.org_updated",
    "flash.org_unchanged",
    "flash.domain_saved",
    "flash.signed_in",
    "flash.signed_out",
    "flash.password_changed",
    "flash.signed_out_everywhere",
    "flash.user_saved",
    "flash.token_revoked",
    "flash.setting_saved",
    "flash.application_saved",
    "flash.application_moved",
    "flash.document_added",
    "flash.question_asked",
    "flash.question_answered",
    "flash.referral_sent",
    "flash.referral_updated",
    "flash.evaluation_saved",
    "flash.party_saved",
    "flash.volunteers_saved",
    "flash.funding_saved",
];

fn flash_key(value: &str) -> Option<&'static str> {
    FLASH_KEYS.iter().copied().find(|k| *k == value)
}

/// A 303 redirect after a successful form post, carrying a flash message key.
pub fn redirect_with_flash(to: &str, key: &'static str) -> Response {
    debug_assert!(flash_key(key).is_some(), "unknown flash key {key}");
    let mut response = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{FLASH_COOKIE}={key}; Path=/; Max-Age=60; SameSite=Lax"
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Renders a page and clears a flash message that it has now shown.
pub fn page<T: Template>(template: &T, layout: &Layout) -> Result<Response, Error> {
    let html = template
        .render()
        .map_err(|e| Error::Other(format!("template: {e}")))?;
    let mut response = Html(html).into_response();
    if layout.flash.is_some() {
        response.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("shezu_flash=; Path=/; Max-Age=0; SameSite=Lax"),
        );
    }
    Ok(response)
}

/// Renders a form page: 200, or 422 when it shows field errors.
pub fn page_with_errors<T: Template>(
    template: &T,
    layout: &Layout,
    errors: &FieldErrors,
) -> Result<Response, Error> {
    if errors.is_empty() {
        page(template, layout)
    } else {
        invalid_page(template, layout)
    }
}

/// Renders a form page again with its field errors, status 422.
pub fn invalid_page<T: Template>(template: &T, layout: &Layout) -> Result<Response, Error> {
    let mut response = page(template, layout)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// The message shown under `field` in a form's rendered errors, or "" (used by templates).
pub fn field_error<'a>(errors: &'a [(String, String)], field: &str) -> &'a str {
    errors
        .iter()
        .find(|(f, _)| f == field)
        .map_or("", |(_, m)| m.as_str())
}

/// A page number and size taken from the query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// 1-based page number.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

impl Paging {
    /// Largest page size anyone may ask for.
    pub const MAX_PER_PAGE: i64 = 100;

    /// Clamps user-supplied values into a valid page.
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Paging {
        Paging {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(20).clamp(1, Self::MAX_PER_PAGE),
        }
    }

    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// Number of pages for `total` rows (at least 1).
    pub fn pages(&self, total: i64) -> i64 {
        ((total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// How an error is shown once the language is known (see [`page_context`]).
#[derive(Debug, Clone)]
pub struct ErrorView {
    status: StatusCode,
    message: Msg,
    fields: FieldErrors,
    json: bool,
    /// Seconds to send as `Retry-After` (rate limiting).
    retry_after: Option<u64>,
}

/// Whether an answer's body is JSON.
fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

impl ErrorView {
    /// The JSON error for an API answer the framework made without a body of ours (a method
    /// the route does not take; plain-text refusals are turned into errors by
    /// [`readable_input`]): same status, a catalogue message.
    fn of_bare_answer(response: &Response) -> ErrorView {
        let status = response.status();
        let message = match status {
            StatusCode::NOT_FOUND => Msg::new("error.not_found"),
            StatusCode::METHOD_NOT_ALLOWED => Msg::new("api.error.method"),
            _ => Msg::new("api.error.bad_request"),
        };
        ErrorView {
            status,
            message,
            fields: FieldErrors::new(),
            json: true,
            retry_after: None,
        }
    }

    /// Captures an error for rendering; `json` selects the API body over the HTML page.
    pub fn capture(err: &Error, json: bool) -> ErrorView {
        let message = err.message();
        let fields = match err {
            Error::Invalid(f) => f.clone(),
            _ => FieldErrors::new(),
        };
        ErrorView {
            status: err.status(),
            message,
            fields,
            json,
            retry_after: match err {
                Error::TooManyRequests(seconds) => Some(*seconds),
                // A busy database usually frees within seconds (a writer ahead in the queue).
                _ if err.is_busy() => Some(5),
                _ => None,
            },
        }
    }

    fn render(&self, lang: Lang, user: Option<NavUser>) -> Response {
        let mut response = self.render_body(lang, user);
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        // The API's only credential is a bearer token (RFC 6750 §3).
        if self.json && self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"shezu\""),
            );
        }
        response
    }

    fn render_body(&self, lang: Lang, user: Option<NavUser>) -> Response {
        let message = self.message.render(lang);
        let fields = self.fields.render(lang);
        if self.json {
            let mut map = serde_json::Map::new();
            for (f, m) in &fields {
                map.entry(f.clone()).or_insert_with(|| m.clone().into());
            }
            let body = serde_json::json!({ "error": message, "fields": map });
            return (self.status, axum::Json(body)).into_response();
        }
        let page = ErrorPage {
            layout: Layout {
                lang,
                title: message.clone(),
                path: String::new(),
                flash: None,
                user,
            },
            status: self.status.as_u16(),
            message,
            fields,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.status.to_string()).into_response(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log();
        let mut response = self.status().into_response();
        response
            .extensions_mut()
            .insert(ErrorView::capture(&self, false));
        response
    }
}

/// The HTML error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    message: String,
    fields: Vec<(String, String)>,
}

/// Static files (CSS) compiled into the binary.
pub async fn static_file(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, mime) = match name.as_str() {
        "app.css" => (include_str!("../static/app.css"), "text/css; charset=utf-8"),
        // htmx 2.0.4 from npm (Zero-Clause BSD, static/vendor/htmx.LICENSE), embedded.
        "htmx.min.js" => (
            include_str!("../static/vendor/htmx-2.0.4.min.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// An instant as a person in China reads it (UTC+8, no daylight saving): "2014-05-06 09:00".
pub fn china_time(t: crate::db::Timestamp) -> String {
    (t + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Escapes text for XML (feeds, SVG); drops the control characters XML 1.0 forbids.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Money for a reader: in Chinese, amounts of ten thousand yuan or more in 万元 (exact to the
/// fen, trailing zeros dropped: 50 万元, 3.00005 万元), smaller ones in 元; in English, yuan
/// with thousands separators.
pub fn money(fen: i64, lang: crate::i18n::Lang) -> String {
    match lang {
        crate::i18n::Lang::Zh if fen.unsigned_abs() >= 1_000_000 => {
            let sign = if fen < 0 { "-" } else { "" };
            let fen = fen.unsigned_abs();
            let whole = fen / 1_000_000;
            let fraction = format!("{:06}", fen % 1_000_000);
            let fraction = fraction.trim_end_matches('0');
            let dot = if fraction.is_empty() { "" } else { "." };
            format!("{sign}{whole}{dot}{fraction} {}", lang.t("unit.wan_yuan"))
        }
        _ => format!("{} {}", yuan(fen), lang.t("unit.yuan")),
    }
}

/// Formats money held in fen as yuan with thousands separators: 3000000_00 → "3,000,000.00".
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", fen % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_in_wan_yuan_in_chinese() {
        use crate::i18n::Lang;
        assert_eq!(money(50_000_000, Lang::Zh), "50 万元");
        assert_eq!(money(3_000_050, Lang::Zh), "3.00005 万元");
        assert_eq!(money(300_000_000, Lang::Zh), "300 万元");
        assert_eq!(money(999_999, Lang::Zh), "9,999.99 元");
        assert_eq!(money(50_000_000, Lang::En), "500,000.00 yuan");
    }

    #[test]
    fn garbled_fields_are_named() {
        assert_eq!(garbled_field(b"a=1&name=%E4%B8%AD+x"), None);
        assert_eq!(garbled_field(b"a=1&b=%2&c=100%"), None);
        for bad in ["%C0%AF", "%ED%A0%80", "%FF", "%E4%B8", "a%00b", "%01"] {
            let body = format!("a=1&name={bad}&c=2");
            assert_eq!(
                garbled_field(body.as_bytes()).as_deref(),
                Some("name"),
                "{bad}"
            );
        }
        assert_eq!(garbled_field(b"%FF=1").as_deref(), Some("%FF"));
        assert_eq!(garbled_field(b"t=a%09b%0D%0Ac"), None);
        assert!(decoded_text(b"/orgs/a%00b").is_none());
    }

    #[test]
    fn xml_escaping_covers_markup_and_forbidden_characters() {
        assert_eq!(xml_escape("a<b>&\"'\u{1}c"), "a&lt;b&gt;&amp;&quot;&apos;c");
    }

    #[test]
    fn yuan_groups_thousands() {
        assert_eq!(yuan(300_000_000), "3,000,000.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-123_456), "-1,234.56");
    }

    #[test]
    fn paging_clamps() {
        let p = Paging::new(Some(0), Some(1000));
        assert_eq!((p.page, p.per_page), (1, 100));
        assert_eq!(Paging::new(Some(3), Some(20)).offset(), 40);
        assert_eq!(Paging::new(None, None).pages(0), 1);
        assert_eq!(Paging::new(None, Some(20)).pages(41), 3);
    }

    #[test]
    fn same_origin_compares_hosts() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h, None));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&h, None));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h, None));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h, None));
    }

    #[test]
    fn same_origin_without_host_uses_the_authority_or_refuses() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://shezu.example"),
        );
        assert!(same_origin(&h, Some("shezu.example")));
        assert!(!same_origin(&h, Some("other.example")));
        assert!(!same_origin(&h, None));
        assert!(same_origin(&HeaderMap::new(), None));
    }

    #[test]
    fn csrf_tokens_match_only_exactly() {
        assert!(csrf_matches(Some("abc123"), "abc123"));
        assert!(!csrf_matches(Some("abc124"), "abc123"));
        assert!(!csrf_matches(Some("abc12"), "abc123"));
        assert!(!csrf_matches(Some(""), "abc123"));
        assert!(!csrf_matches(None, "abc123"));
    }

    #[test]
    fn secure_cookie_adds_the_flag_once() {
        let plain = HeaderValue::from_static("shezu_lang=en; Path=/; SameSite=Lax");
        assert_eq!(
            secure_cookie(&plain),
            "shezu_lang=en; Path=/; SameSite=Lax; Secure"
        );
        let already = HeaderValue::from_static("a=b; Secure; Path=/");
        assert_eq!(secure_cookie(&already), "a=b; Secure; Path=/");
    }
}
