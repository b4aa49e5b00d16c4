//! The security checks of issue 13 as one suite, on both databases. Where each control is
//! checked:
//!
//! - CSRF: every state-changing route read from the source, for an administrator, an
//!   organization account and the public — no token, a token in an upload's body instead of its
//!   query string, foreign, opaque and look-alike origins — refused before routing and writing
//!   nothing, while the right token from our origin gets through
//!   (`every_state_changing_route_refuses_forged_requests`); anonymous forms
//!   (`anonymous_forms_refuse_other_origins`); a forged token and another session's token:
//!   tests/auth.rs `forms_without_the_session_token_are_refused`; uploads without or with a wrong
//!   token: tests/upload.rs `an_upload_needs_the_sessions_csrf_token`.
//! - Sessions: a token chosen before sign-in is never adopted (here); rotation at each sign-in,
//!   idle and absolute timeouts, signing out everywhere, only hashes stored: tests/auth.rs
//!   `sessions_rotate_time_out_and_end_everywhere`; a password change ends the other sessions:
//!   `password_policy_and_change_end_other_sessions`.
//! - Cookie flags and sign-out (`the_session_cookie_is_http_only_same_site_and_secure_over_https`).
//! - Security headers and caching (`every_kind_of_answer_carries_the_security_headers`).
//! - Audit of refusals: permissions, failed sign-ins (`refusals_are_audited_with_who_and_where`),
//!   revoked and expired API tokens (`a_refused_api_token_answers_401_as_documented_and_is_audited`);
//!   the count of `denied` entries for settings: tests/auth.rs
//!   `settings_take_effect_on_their_date_and_are_audited`; the chain detecting an edited row:
//!   `tampering_with_one_audit_row_is_found_at_that_row`.
//! - Lockout: five failures lock, one message for all, open again after the window: tests/auth.rs
//!   `lockout_after_repeated_failures_and_one_message_for_all`; the lock lasts the configured
//!   window (`a_locked_account_stays_locked_for_its_whole_window`); per address:
//!   `an_address_with_many_failures_is_throttled`.
//! - API tokens: scopes, area, expiry, revocation, hashed storage: tests/auth.rs
//!   `department_tokens_have_scopes_and_expire`.
//! - Password policy: tests/auth.rs `password_policy_and_change_end_other_sessions`.
//! - Role and area scope of every route: tests/scope.rs.

use crate::common::{PASSWORD, TestApp, TestDb, encode};
use crate::db_test;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use shezu::config::Settings;
use shezu::db::Sql;
use std::collections::BTreeSet;

/// The host the test requests are sent to (as `TestApp` sends it) and our own origin.
const HOST: &str = "127.0.0.1:8080";
const OURS: &str = "http://127.0.0.1:8080";
/// An id no seeded row has (see `concrete`).
const NO_SUCH_ID: &str = "987654321";
const BOUNDARY: &str = "shezu-security-boundary";

/// Origins a forged request may come from: (what, header, value).
const FOREIGN: &[(&str, &str, &str)] = &[
    ("a foreign Origin", "origin", "https://evil.example"),
    (
        "a foreign Referer",
        "referer",
        "https://evil.example/form.html",
    ),
    ("an opaque Origin", "origin", "null"),
    (
        "a look-alike Origin",
        "origin",
        "http://127.0.0.1:8080.evil.example",
    ),
];

/// Every route of the source with the methods its router answers, read from the
/// `.route("…", …)` calls that `scope::collect_routes` lists; a method router built by a function
/// of the same file (`upload_routes(…)`) is read from that function's body.
fn source_routes(dir: &std::path::Path, out: &mut Vec<(String, BTreeSet<String>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_routes(&path, out);
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(pos) = rest.find(".route(") {
            rest = rest[pos + 7..].trim_start();
            let Some(lit) = rest.strip_prefix('"') else {
                continue;
            };
            let end = lit.find('"').unwrap();
            let args = balanced(&lit[end + 1..], '(', ')');
            let mut methods = methods_in(args);
            if methods.is_empty()
                && let Some(helper) = first_call(args)
                && let Some(at) = text.find(&format!("fn {helper}("))
            {
                let body = &text[at..];
                let open = body.find('{').unwrap();
                methods = methods_in(balanced(&body[open + 1..], '{', '}'));
            }
            out.push((lit[..end].to_owned(), methods));
        }
    }
}

/// The text up to the `close` that ends the bracket already opened (string literals skipped).
fn balanced(s: &str, open: char, close: char) -> &str {
    let mut depth = 1;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return &s[..i];
            }
        }
    }
    s
}

/// The HTTP methods a method-router expression names (`get(…).post(…)`, `any(…)`), upper case.
fn methods_in(expr: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for method in ["get", "post", "put", "patch", "delete", "any"] {
        let call = format!("{method}(");
        let mut from = 0;
        while let Some(pos) = expr[from..].find(&call) {
            let at = from + pos;
            let before = expr[..at].chars().next_back();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                found.insert(method.to_uppercase());
            }
            from = at + call.len();
        }
    }
    found
}

/// The name of the first function an expression calls (`upload_routes` in `upload_routes(None)`).
fn first_call(expr: &str) -> Option<&str> {
    let start = expr.find(|c: char| c.is_alphabetic() || c == '_')?;
    let rest = &expr[start..];
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    rest[end..].starts_with('(').then(|| &rest[..end])
}

/// Every route with its methods, as the source declares them.
fn routes() -> Vec<(String, BTreeSet<String>)> {
    let mut out = Vec::new();
    source_routes(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut out,
    );
    out.sort();
    out
}

/// True for a method that changes state (the CSRF guard's notion: not GET, HEAD or OPTIONS).
fn changes_state(methods: &BTreeSet<String>) -> bool {
    methods.iter().any(|m| m != "GET")
}

/// The routes the CSRF guard must protect: every state-changing route outside the JSON API
/// (which takes no cookies, only bearer tokens).
fn guarded_routes() -> Vec<String> {
    routes()
        .into_iter()
        .filter(|(r, m)| changes_state(m) && !r.starts_with("/api/"))
        .map(|(r, _)| r)
        .collect()
}

/// A path for a route pattern. The CSRF guard refuses before routing, so for the forged requests
/// the ids do not matter; for the accepted ones an id no row has keeps the walk from changing
/// data, while the route's `Allow` answer proves that the path reaches its handler.
fn concrete(route: &str) -> String {
    route
        .split('/')
        .map(|seg| match seg {
            "{year}" => "2014",
            "{*rest}" => "x",
            s if s.starts_with('{') => NO_SUCH_ID,
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_state_changing_routes_are_read_from_the_source() {
    let routes = routes();
    let mut found = Vec::new();
    crate::scope::collect_routes(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    found.sort();
    found.dedup();
    let parsed: Vec<String> = routes.iter().map(|(r, _)| r.clone()).collect();
    assert_eq!(parsed, found, "every route literal is parsed, once");
    for (route, methods) in &routes {
        assert!(!methods.is_empty(), "no method found for {route}");
    }
    let guarded = guarded_routes();
    assert!(
        guarded.len() > 30,
        "only {} found: {guarded:?}",
        guarded.len()
    );
    for route in [
        "/login",
        "/logout",
        "/consult",
        "/admin/orgs/{id}",
        "/admin/orgs/import",
        "/applications/{id}/documents",
    ] {
        assert!(guarded.iter().any(|r| r == route), "{route} not found");
    }
    assert!(
        !guarded
            .iter()
            .any(|r| r == "/admin/orgs/import/template.xlsx")
    );
    // The JSON API is outside the guard: it must not grow a route that changes state (its only
    // catch-all answers 404 to every method).
    let api: Vec<&String> = routes
        .iter()
        .filter(|(r, m)| r.starts_with("/api/") && changes_state(m))
        .map(|(r, _)| r)
        .collect();
    assert_eq!(api, ["/api/v1/{*rest}"]);
}

/// A POST from `app`'s browser: urlencoded or multipart `fields`, with extra headers.
fn post(
    app: &TestApp,
    uri: &str,
    fields: &[(&str, &str)],
    multipart: bool,
    headers: &[(&str, &str)],
) -> Request<Body> {
    let mut b = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::HOST, HOST);
    if let Some(c) = &app.cookie {
        b = b.header(header::COOKIE, c.as_str());
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let body = if multipart {
        b = b.header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        );
        let mut s = String::new();
        for (k, v) in fields {
            s.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            ));
        }
        s + &format!("--{BOUNDARY}--\r\n")
    } else {
        b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    b.body(Body::from(body)).unwrap()
}

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

/// The number of the last audit entry.
async fn audit_seq(t: &TestDb) -> i64 {
    count(t, "select last_seq from audit_head where id = 1").await
}

/// The row count of every table but the audit log's (a forgery in someone's name is audited:
/// see [`forged_posts_are_refused`]).
async fn snapshot(t: &TestDb) -> Vec<(String, i64)> {
    let counts = t.table_counts().await;
    assert!(counts.len() > 20, "{counts:?}");
    counts
        .into_iter()
        .filter(|(table, _)| !table.starts_with("audit_"))
        .collect()
}

/// The audit entries after number `seq`: actor, action, entity, summary.
async fn entries_since(t: &TestDb, seq: i64) -> Vec<(String, String, String, String)> {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new("select actor, action, entity, summary from audit_log where seq > $1 order by seq")
        .arg(seq)
        .fetch_all(&mut c.conn())
        .await
        .unwrap()
}

/// Sends forged POSTs to `path` as `app`'s browser: each must be refused with 403 before any
/// handler runs. The only audit entries they may write are the guard's record of a forgery in
/// the signed-in user's name (a refusal further in, by a permission check, would be another).
async fn forged_posts_are_refused(t: &TestDb, app: &TestApp, who: &str, path: &str) {
    let seq = audit_seq(t).await;
    let token = app.csrf.clone().unwrap_or_default();
    let signed_in = app.csrf.is_some();
    let mut forged = Vec::new();
    if signed_in {
        forged.push(("no token", post(app, path, &[("probe", "1")], false, &[])));
        forged.push((
            "the token in an upload's body, not its query string",
            post(app, path, &[("_csrf", &token)], true, &[]),
        ));
        forged.push((
            "a foreign Origin with our Referer",
            post(
                app,
                path,
                &[("_csrf", &token)],
                false,
                &[("origin", "https://evil.example"), ("referer", OURS)],
            ),
        ));
    }
    let fields: &[(&str, &str)] = if signed_in {
        &[("probe", "1"), ("_csrf", &token)]
    } else {
        &[("probe", "1")]
    };
    for (what, name, value) in FOREIGN {
        forged.push((what, post(app, path, fields, false, &[(name, value)])));
    }
    let upload = format!("{path}?_csrf={token}");
    forged.push((
        "an upload from a foreign Origin",
        post(
            app,
            &upload,
            &[("probe", "1")],
            true,
            &[("origin", "https://evil.example")],
        ),
    ));
    for (what, req) in forged {
        let res = app.send(req).await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "{who} POST {path} with {what} was not refused"
        );
    }
    for (actor, action, entity, summary) in entries_since(t, seq).await {
        assert!(
            actor == who
                && action == "denied"
                && matches!(entity.as_str(), "csrf" | "origin")
                && summary == path,
            "{who} POST {path}: a forged request reached a handler ({actor} {action} {entity} {summary})"
        );
    }
}

db_test!(
    every_state_changing_route_refuses_forged_requests,
    |t| async move {
        crate::registry::load_areas(t).await;
        let (org_id, _) = crate::evaluation::org(t, "甲社区书画协会", "2012-03-04").await;
        let admin = t.app_as("admin1", "admin", None, None).await;
        let org = t
            .app_as("org1", "org", None, Some(&org_id.to_string()))
            .await;
        let expert = t.app_as("expert1", "expert", None, None).await;
        let anonymous = t.app();

        // Each path the walk uses reaches its route, which answers exactly the methods the
        // source declares (OPTIONS is safe, so it passes the guard and gets 405 with `Allow`).
        for (route, methods) in routes() {
            if methods.contains("ANY") {
                continue;
            }
            let res = admin
                .send(
                    Request::builder()
                        .method("OPTIONS")
                        .uri(concrete(&route))
                        .header(header::HOST, HOST)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{route}");
            let allow: BTreeSet<String> = res
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .split(',')
                .map(|m| m.trim().to_owned())
                .filter(|m| m != "HEAD")
                .collect();
            assert_eq!(
                allow, methods,
                "{route}: the router and the source disagree"
            );
        }

        // Forged requests, for every caller, on every route: refused, nothing written.
        let walk = guarded_routes();
        let before = snapshot(t).await;
        for route in &walk {
            let path = concrete(route);
            for (who, app) in [
                ("anonymous", &anonymous),
                ("admin1", &admin),
                ("org1", &org),
            ] {
                forged_posts_are_refused(t, app, who, &path).await;
            }
        }
        // The JSON API's exemption cannot be borrowed with dot segments.
        for path in [
            "/api/../admin/domains",
            "/api/v1/../../admin/domains",
            "/api/v1/%2e%2e/%2e%2e/admin/domains",
        ] {
            let res = admin
                .send(post(&admin, path, &[("code", "x")], false, &[]))
                .await;
            assert!(
                matches!(res.status.as_u16(), 403 | 404),
                "{path}: {}",
                res.status
            );
        }
        assert_eq!(snapshot(t).await, before, "a forged request changed data");

        // The right token from our origin gets past the guard on every route, as a form and as
        // an upload (token in the query string), for some caller the route is for. Answers
        // beyond the guard (400, 404, 422, 303…) show the handler ran; 401/403 would not.
        let mut callers = [("admin1", admin), ("org1", org), ("expert1", expert)];
        for route in &walk {
            let path = concrete(route);
            for upload in [false, true] {
                let mut seen = Vec::new();
                let mut through = false;
                for (who, app) in callers.iter_mut() {
                    let token = app.csrf.clone().unwrap();
                    let req = if upload {
                        let uri = format!("{path}?_csrf={token}");
                        post(app, &uri, &[("probe", "1")], true, &[("origin", OURS)])
                    } else {
                        let fields = [("probe", "1"), ("_csrf", token.as_str())];
                        post(app, &path, &fields, false, &[("origin", OURS)])
                    };
                    let res = app.send(req).await;
                    seen.push(format!("{who}: {}", res.status));
                    // Signing out (here, or everywhere) ends the session: sign in again.
                    if app.get("/account").await.status != StatusCode::OK {
                        *app = t.app().signed_in(who, PASSWORD).await;
                    }
                    if !matches!(res.status.as_u16(), 401 | 403 | 405) {
                        through = true;
                        break;
                    }
                }
                assert!(
                    through,
                    "POST {path} (upload: {upload}) with the right token: {seen:?}"
                );
            }
        }
    }
);

db_test!(anonymous_forms_refuse_other_origins, |t| async move {
    t.user("gongzhong1", "window", None, None).await;
    let anonymous = t.app();
    let login = [("username", "gongzhong1"), ("password", PASSWORD)];
    let question = [
        ("name", "王先生"),
        ("contact", "13800000000"),
        ("question", "成立社区社会组织需要哪些材料？"),
    ];
    for (what, name, value) in FOREIGN {
        for (path, fields) in [("/login", &login[..]), ("/consult", &question[..])] {
            let res = anonymous
                .send(post(&anonymous, path, fields, false, &[(name, value)]))
                .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{path} from {what}");
            assert!(
                res.headers.get(header::SET_COOKIE).is_none(),
                "{path} from {what}"
            );
        }
    }
    assert_eq!(count(t, "select count(*) from sessions").await, 0);
    assert_eq!(count(t, "select count(*) from login_log").await, 0);
    assert_eq!(count(t, "select count(*) from consultations").await, 0);
    // From our own pages (with or without an Origin header) both work.
    for headers in [&[("origin", OURS)][..], &[]] {
        let res = anonymous
            .send(post(&anonymous, "/login", &login, false, headers))
            .await;
        assert_eq!(
            res.status,
            StatusCode::SEE_OTHER,
            "{headers:?}: {}",
            res.body
        );
        let res = anonymous
            .send(post(&anonymous, "/consult", &question, false, headers))
            .await;
        assert_eq!(
            res.status,
            StatusCode::SEE_OTHER,
            "{headers:?}: {}",
            res.body
        );
    }
    assert_eq!(count(t, "select count(*) from sessions").await, 2);
    assert_eq!(count(t, "select count(*) from consultations").await, 2);
});

/// The `Set-Cookie` header that sets the session cookie, if the answer has one.
fn session_set_cookie(res: &crate::common::Answer) -> Option<String> {
    set_cookie(res, "shezu_session")
}

/// The `Set-Cookie` header that sets cookie `name`, if the answer has one.
fn set_cookie(res: &crate::common::Answer, name: &str) -> Option<String> {
    res.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The token a `Set-Cookie` (or `Cookie`) value carries.
fn token_in(cookie: &str) -> String {
    cookie
        .trim_start_matches("shezu_session=")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The `_csrf` value of the first form on a page ("" when there is none or it is empty).
fn form_token(body: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    body.find(marker)
        .map(|at| {
            let rest = &body[at + marker.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .unwrap_or_default()
}

db_test!(
    a_session_token_chosen_before_sign_in_is_never_adopted,
    |t| async move {
        t.user("victim1", "registrar", None, None).await;
        t.user("mallory1", "window", None, None).await;
        // Nobody gets a session before signing in: there is no anonymous token to plant.
        let form = t.app().get("/login").await;
        assert_eq!(form.status, StatusCode::OK);
        assert_eq!(session_set_cookie(&form), None);
        let mallory = t.app().signed_in("mallory1", PASSWORD).await;
        let mallorys = token_in(mallory.cookie.as_deref().unwrap());
        // A made-up token, and the attacker's own live session, planted in the victim's browser.
        for planted in ["5e55".repeat(16), mallorys] {
            let mut browser = t.app();
            browser.cookie = Some(format!("shezu_session={planted}"));
            // The browser fills in the sign-in form it is shown (with the planted session's
            // token, if that session is live).
            let page = browser.get("/login").await;
            browser.csrf = Some(form_token(&page.body)).filter(|s| !s.is_empty());
            let res = browser
                .post_form("/login", &[("username", "victim1"), ("password", PASSWORD)])
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
            let issued = token_in(&session_set_cookie(&res).expect("a new session cookie"));
            assert_ne!(issued, planted);
            assert_eq!(issued.len(), 64);
            // The planted token is nobody's session now; the issued one is the victim's.
            let planted_now = browser.get("/account").await;
            assert_eq!(planted_now.status, StatusCode::SEE_OTHER, "{planted}");
            assert!(planted_now.location().starts_with("/login"));
            browser.cookie = Some(format!("shezu_session={issued}"));
            let account = browser.get("/account").await;
            assert_eq!(account.status, StatusCode::OK);
            assert!(account.body.contains("victim1"));
            assert_ne!(form_token(&account.body), mallory.csrf.clone().unwrap());
        }
        assert_eq!(
            count(t, "select count(*) from sessions").await,
            2,
            "only the victim's two sessions"
        );
    }
);

/// The attributes of a `Set-Cookie` value, lower case.
fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_lowercase())
        .collect()
}

db_test!(
    the_session_cookie_is_http_only_same_site_and_secure_over_https,
    |t| async move {
        t.user("kuki1", "registrar", None, None).await;
        for secure in [false, true] {
            let app = t.app_with(Settings {
                secure_cookies: secure,
                ..Settings::default()
            });
            let res = app
                .post_form("/login", &[("username", "kuki1"), ("password", PASSWORD)])
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER);
            let set = session_set_cookie(&res).unwrap();
            let attrs = attributes(&set);
            assert!(attrs.iter().any(|a| a == "httponly"), "{set}");
            assert!(
                attrs
                    .iter()
                    .any(|a| a == "samesite=lax" || a == "samesite=strict"),
                "{set}"
            );
            assert!(attrs.iter().any(|a| a == "path=/"), "{set}");
            assert_eq!(attrs.iter().any(|a| a == "secure"), secure, "{set}");
            // Host-only, and gone when the browser closes.
            assert!(
                !attrs.iter().any(|a| a.starts_with("domain")
                    || a.starts_with("max-age")
                    || a.starts_with("expires")),
                "{set}"
            );
            assert_eq!(
                res.headers.contains_key(header::STRICT_TRANSPORT_SECURITY),
                secure
            );

            // Signing out ends the session and clears the cookie with the same flags.
            let signed_in = app.clone().signed_in("kuki1", PASSWORD).await;
            let out = signed_in.post_form("/logout", &[]).await;
            assert_eq!(out.status, StatusCode::SEE_OTHER);
            let cleared = session_set_cookie(&out).expect("the cookie is cleared");
            assert_eq!(token_in(&cleared), "", "{cleared}");
            let attrs = attributes(&cleared);
            assert!(attrs.iter().any(|a| a == "max-age=0"), "{cleared}");
            assert!(attrs.iter().any(|a| a == "httponly"), "{cleared}");
            assert!(attrs.iter().any(|a| a == "path=/"), "{cleared}");
            assert_eq!(attrs.iter().any(|a| a == "secure"), secure, "{cleared}");
            // A copy of the old cookie is worth nothing.
            assert_eq!(
                signed_in.get("/account").await.status,
                StatusCode::SEE_OTHER
            );
            // The other cookies (the language chosen, the flash message after sign-out) travel
            // only over HTTPS too.
            let lang = set_cookie(&app.get("/?lang=en").await, "shezu_lang").unwrap();
            let flash = set_cookie(&out, "shezu_flash").unwrap();
            for cookie in [lang, flash] {
                let attrs = attributes(&cookie);
                assert_eq!(attrs.iter().any(|a| a == "secure"), secure, "{cookie}");
            }
        }
    }
);

db_test!(
    every_kind_of_answer_carries_the_security_headers,
    |t| async move {
        crate::registry::load_areas(t).await;
        crate::evaluation::org(t, "甲社区书画协会", "2012-03-04").await;
        let staff = t.app_as("biaotou1", "registrar", None, None).await;
        let mut tx = t.db.begin().await.unwrap();
        let (_, secret) = shezu::auth::tokens::create(
            &mut tx.conn(),
            &shezu::audit::Actor::system("test"),
            Utc::now(),
            "区税务局",
            &[shezu::auth::tokens::TokenScope::RegistryRead],
            None,
            None,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let bearer = format!("Bearer {secret}");
        let anonymous = t.app();
        // (what, answer, expected status, stored by no cache)
        let answers = [
            ("public page", anonymous.get("/").await, 200, false),
            ("public directory", anonymous.get("/orgs").await, 200, false),
            ("sign-in page", anonymous.get("/login").await, 200, false),
            ("staff page", staff.get("/admin/orgs").await, 200, true),
            ("staff refusal", staff.get("/admin/users").await, 403, true),
            (
                "not found",
                anonymous.get("/no-such-page").await,
                404,
                false,
            ),
            (
                "not found, signed in",
                staff.get("/admin/no-such-page").await,
                404,
                true,
            ),
            (
                "form refused by the guard",
                staff.post_raw("/admin/domains", &[]).await,
                403,
                true,
            ),
            (
                "stylesheet",
                anonymous.get("/static/app.css").await,
                200,
                false,
            ),
            ("script", staff.get("/static/htmx.min.js").await, 200, false),
            (
                "keyless API",
                anonymous.get("/api/v1/organizations").await,
                200,
                false,
            ),
            (
                "API with a token",
                anonymous
                    .get_with("/api/v1/organizations", &[("authorization", &bearer)])
                    .await,
                200,
                true,
            ),
            (
                "API refusal",
                anonymous
                    .get_with(
                        "/api/v1/organizations",
                        &[("authorization", "Bearer shz_unknown")],
                    )
                    .await,
                401,
                true,
            ),
        ];
        for (what, res, status, private) in answers {
            assert_eq!(res.status.as_u16(), status, "{what}: {}", res.body);
            let h = |name: header::HeaderName| {
                res.headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            let csp = h(header::CONTENT_SECURITY_POLICY);
            let directive = |name: &str| {
                csp.split(';')
                    .map(str::trim)
                    .find(|d| d.split_whitespace().next() == Some(name))
                    .map(str::to_owned)
            };
            let scripts = directive("script-src")
                .or_else(|| directive("default-src"))
                .unwrap_or_default();
            assert!(scripts.contains("'self'"), "{what}: {csp}");
            for loose in ["'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:"] {
                assert!(
                    !scripts.split_whitespace().any(|s| s == loose),
                    "{what}: {csp}"
                );
            }
            assert!(
                directive("object-src").is_some() || directive("default-src").is_some(),
                "{what}: {csp}"
            );
            let framing = directive("frame-ancestors").unwrap_or_default();
            assert!(
                framing == "frame-ancestors 'none'"
                    || matches!(h(header::X_FRAME_OPTIONS).as_str(), "DENY" | "SAMEORIGIN"),
                "{what}: may be framed"
            );
            assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
            assert!(
                matches!(
                    h(header::REFERRER_POLICY).as_str(),
                    "same-origin"
                        | "no-referrer"
                        | "strict-origin"
                        | "strict-origin-when-cross-origin"
                ),
                "{what}: {}",
                h(header::REFERRER_POLICY)
            );
            let cache = h(header::CACHE_CONTROL);
            if private {
                assert!(
                    cache.contains("no-store"),
                    "{what}: Cache-Control {cache:?}"
                );
            }
            // No page relies on inline script the policy would block.
            if h(header::CONTENT_TYPE).starts_with("text/html") {
                for tag in res.body.split("<script").skip(1) {
                    let open = &tag[..tag.find('>').unwrap()];
                    assert!(
                        open.contains(" src=") || open.contains("application/ld+json"),
                        "{what}: inline script <script{open}>"
                    );
                }
                assert!(!res.body.contains(" onclick="), "{what}");
            }
        }
        // Static files stay cacheable for everyone, signed in or not.
        let css = staff.get("/static/app.css").await;
        let cache = css.headers.get(header::CACHE_CONTROL).unwrap();
        assert!(cache.to_str().unwrap().contains("max-age"), "{cache:?}");
    }
);

db_test!(refusals_are_audited_with_who_and_where, |t| async move {
    let window = t.app_as("chuangkou1", "window", None, None).await;
    t.user("zhanghu1", "registrar", None, None).await;
    let id_of = |name: &'static str| async move {
        count(
            t,
            &format!("select id from users where username = '{name}'"),
        )
        .await
    };
    type Entry = (
        String,
        Option<i64>,
        String,
        String,
        Option<i64>,
        String,
        Option<String>,
    );
    let last = || async move {
        let mut c = t.db.acquire().await.unwrap();
        Sql::new("select actor, actor_user_id, action, entity, entity_id, summary, ip from audit_log order by seq desc limit 1")
            .fetch_one::<Entry>(&mut c.conn())
            .await
            .unwrap()
    };
    let ip = Some("127.0.0.1".to_owned());
    let window_id = id_of("chuangkou1").await;

    // A page and a form outside the role: refused, and each refusal is one entry.
    let seq = audit_seq(t).await;
    assert_eq!(
        window.get("/admin/users").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(audit_seq(t).await, seq + 1);
    let denied = |permission: &str| {
        (
            "chuangkou1".to_owned(),
            Some(window_id),
            "denied".to_owned(),
            "permission".to_owned(),
            None,
            permission.to_owned(),
            ip.clone(),
        )
    };
    assert_eq!(last().await, denied("ManageUsers"));
    let res = window
        .post_form("/admin/tokens", &[("name", "x"), ("scopes", "public")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(audit_seq(t).await, seq + 2);
    assert_eq!(last().await, denied("ManageTokens"));
    assert_eq!(count(t, "select count(*) from api_tokens").await, 0);

    // Failed sign-ins, for an unknown name and a wrong password.
    let anonymous = t.app();
    for (username, password, user_id, reason) in [
        ("nobody1", "whatever-it-is", None, "unknown_user"),
        (
            "zhanghu1",
            "wrong-password-1",
            Some(id_of("zhanghu1").await),
            "bad_password",
        ),
    ] {
        let res = anonymous
            .post_form("/login", &[("username", username), ("password", password)])
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            last().await,
            (
                username.to_owned(),
                None,
                "login_failed".to_owned(),
                "session".to_owned(),
                user_id,
                reason.to_owned(),
                ip.clone(),
            )
        );
    }
});

db_test!(
    forgeries_in_a_users_name_are_audited_at_a_bounded_rate,
    |t| async move {
        crate::registry::load_areas(t).await;
        let admin = t.app_as("weizao1", "admin", None, None).await;
        let anonymous = t.app();
        let token = admin.csrf.clone().unwrap();
        let seq = audit_seq(t).await;
        let forgeries = [
            post(&admin, "/admin/domains", &[("code", "x")], false, &[]),
            post(
                &admin,
                "/admin/domains",
                &[("_csrf", &token)],
                false,
                &[("origin", "https://evil.example")],
            ),
            post(
                &admin,
                "/admin/users",
                &[("_csrf", "0".repeat(token.len()).as_str())],
                false,
                &[],
            ),
        ];
        for req in forgeries {
            assert_eq!(admin.send(req).await.status, StatusCode::FORBIDDEN);
        }
        // A forgery in nobody's name uses no one's authority: refused, not audited.
        let res = anonymous
            .send(post(
                &anonymous,
                "/login",
                &[("username", "weizao1")],
                false,
                &[("origin", "https://evil.example")],
            ))
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let entry = |entity: &str, path: &str| {
            (
                "weizao1".to_owned(),
                "denied".to_owned(),
                entity.to_owned(),
                path.to_owned(),
            )
        };
        assert_eq!(
            entries_since(t, seq).await,
            [
                entry("csrf", "/admin/domains"),
                entry("origin", "/admin/domains"),
                entry("csrf", "/admin/users"),
            ]
        );

        // A script hammering forms in the user's name fills the log no faster than the limit
        // (the bucket refills one a second while the loop runs).
        let seq = audit_seq(t).await;
        let tries = 150;
        for _ in 0..tries {
            let res = admin
                .send(post(&admin, "/admin/domains", &[], false, &[]))
                .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN);
        }
        let written = entries_since(t, seq).await.len();
        let limit = shezu::auth::DENIALS_AUDITED_PER_MINUTE as usize;
        assert!(
            written >= limit - 3 && written < tries,
            "{written} of {tries} refusals audited"
        );
        // A handler's own refusal (district-wide work asked by an area officer) is audited too.
        let officer = t
            .app_as("quyu1", "area_officer", Some("120116001"), None)
            .await;
        let seq = audit_seq(t).await;
        assert_eq!(
            officer.get("/admin/consultations").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            entries_since(t, seq).await,
            [(
                "quyu1".to_owned(),
                "denied".to_owned(),
                "permission".to_owned(),
                "HandleApplications (district)".to_owned()
            )]
        );
    }
);

db_test!(
    a_refused_api_token_answers_401_as_documented_and_is_audited,
    |t| async move {
        let make = |name: &'static str, expires: Option<i64>| async move {
            let mut tx = t.db.begin().await.unwrap();
            let made = shezu::auth::tokens::create(
                &mut tx.conn(),
                &shezu::audit::Actor::system("test"),
                Utc::now(),
                name,
                &[shezu::auth::tokens::TokenScope::Public],
                None,
                expires.map(|d| Utc::now() + Duration::days(d)),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            made
        };
        let (revoked_id, revoked) = make("区税务局", None).await;
        let (expired_id, expired) = make("区人社局", Some(-1)).await;
        let mut tx = t.db.begin().await.unwrap();
        shezu::auth::tokens::revoke(
            &mut tx.conn(),
            &shezu::audit::Actor::system("test"),
            Utc::now(),
            revoked_id,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let app = t.app();
        let call = |authorization: String, lang: &'static str| {
            let app = app.clone();
            async move {
                app.get_with(
                    &format!("/api/v1/organizations?lang={lang}"),
                    &[("authorization", &authorization)],
                )
                .await
            }
        };
        let seq = audit_seq(t).await;
        for (authorization, audited) in [
            (
                format!("Bearer {revoked}"),
                Some((revoked_id, "区税务局", "revoked")),
            ),
            (
                format!("Bearer {expired}"),
                Some((expired_id, "区人社局", "expired")),
            ),
            ("Bearer shz_not_a_token".to_owned(), None),
            (format!("Basic {revoked}"), None),
        ] {
            let before = audit_seq(t).await;
            for (lang, message) in [("zh", "请先登录。"), ("en", "Please sign in first.")] {
                let res = call(authorization.clone(), lang).await;
                assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{authorization}");
                assert_eq!(
                    res.headers[header::WWW_AUTHENTICATE],
                    "Bearer realm=\"shezu\"",
                    "{authorization}"
                );
                assert!(
                    res.headers[header::CONTENT_TYPE]
                        .to_str()
                        .unwrap()
                        .starts_with("application/json")
                );
                // The documented error shape (`components.schemas.Error`): these two keys only.
                assert_eq!(
                    res.json(),
                    serde_json::json!({"error": message, "fields": {}}),
                    "{authorization}"
                );
            }
            let written = audit_seq(t).await - before;
            match audited {
                Some((id, name, reason)) => {
                    assert_eq!(written, 2, "{authorization}: each refusal is audited");
                    let mut c = t.db.acquire().await.unwrap();
                    let entry: (String, String, String, Option<i64>, String, Option<String>) =
                        Sql::new("select actor, action, entity, entity_id, summary, ip from audit_log order by seq desc limit 1")
                            .fetch_one(&mut c.conn())
                            .await
                            .unwrap();
                    assert_eq!(
                        entry,
                        (
                            format!("token:{name}"),
                            "denied".to_owned(),
                            "api_token".to_owned(),
                            Some(id),
                            reason.to_owned(),
                            Some("127.0.0.1".to_owned()),
                        )
                    );
                }
                // A secret no token has writes nothing: guessing cannot fill the log.
                None => assert_eq!(written, 0, "{authorization}"),
            }
        }
        assert_eq!(audit_seq(t).await, seq + 4);
        // Neither refused token was marked as used.
        assert_eq!(
            count(
                t,
                "select count(*) from api_tokens where last_used_at is not null"
            )
            .await,
            0
        );

        // A failed credential is throttled like a keyless caller: guessing secrets or replaying
        // a dead token soon gets 429, while a working token is never limited.
        let (_, working) = make("区民政局", None).await;
        let limited = t.app_with(Settings {
            api_requests_per_minute: 5,
            ..Settings::default()
        });
        let statuses = |authorization: String| {
            let app = limited.clone();
            async move {
                let mut out = Vec::new();
                for _ in 0..4 {
                    let res = app
                        .get_with(
                            "/api/v1/organizations",
                            &[("authorization", &authorization)],
                        )
                        .await;
                    out.push(res.status.as_u16());
                }
                out
            }
        };
        assert_eq!(
            statuses("Bearer shz_guess".to_owned()).await,
            [401, 401, 401, 401]
        );
        let seq = audit_seq(t).await;
        assert_eq!(
            statuses(format!("Bearer {revoked}")).await,
            [401, 429, 429, 429]
        );
        assert_eq!(
            audit_seq(t).await,
            seq + 1,
            "a throttled refusal is not audited"
        );
        assert_eq!(
            statuses(format!("Bearer {working}")).await,
            [200, 200, 200, 200]
        );
    }
);

db_test!(
    a_locked_account_stays_locked_for_its_whole_window,
    |t| async move {
        t.user("suoding1", "registrar", None, None).await;
        let settings = Settings::default();
        let (failures, minutes) = (settings.login_max_failures, settings.login_lock_minutes);
        let app = t.app_with(settings);
        let started = Utc::now();
        for _ in 0..failures {
            app.post_form(
                "/login",
                &[("username", "suoding1"), ("password", "wrong-password-1")],
            )
            .await;
        }
        let locked_until = {
            let mut c = t.db.acquire().await.unwrap();
            let (until,): (Option<shezu::db::Timestamp>,) =
                Sql::new("select locked_until from users where username = 'suoding1'")
                    .fetch_one(&mut c.conn())
                    .await
                    .unwrap();
            until.expect("locked")
        };
        let window = Duration::minutes(minutes);
        assert!(
            locked_until >= started + window && locked_until <= Utc::now() + window,
            "locked until {locked_until}, {minutes} minutes after {started}"
        );
        // A minute before the lock runs out, the right password is still refused.
        let mut tx = t.db.begin().await.unwrap();
        Sql::new("update users set locked_until = $1 where username = 'suoding1'")
            .arg(Utc::now() + Duration::minutes(1))
            .execute(&mut tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let res = app
            .post_form(
                "/login",
                &[("username", "suoding1"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(session_set_cookie(&res), None);
        assert_eq!(
            count(t, "select count(*) from login_log where reason = 'locked'").await,
            2
        );
    }
);
