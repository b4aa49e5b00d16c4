//! Sign-in and the account page; the administrator's pages for users, API tokens and the
//! login log.

use super::store::{self, GrantRow, NewUser, UserRow};
use super::tokens::{self, TokenRow, TokenScope};
use super::{CurrentUser, Grant, Permission, Role, UserId, require};
use crate::app::AppState;
use crate::areas::store as areas;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use crate::registry::api::find_by_key;
use crate::web::{
    Layout, PageCtx, Paging, PeerIp, SESSION_COOKIE, china_time, cookie, invalid_page, page,
    page_with_errors, redirect_with_flash, session_cookie,
};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use chrono::{Duration, Utc};
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(landing))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/logout-all", post(logout_everywhere))
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/roles", post(add_role))
        .route("/admin/users/{id}/roles/{grant}/delete", post(remove_role))
        .route("/admin/users/{id}/active", post(set_active))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/tokens", get(token_list).post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/logins", get(login_log))
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    username: String,
    next: String,
    error: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginQuery {
    next: String,
}

/// Only paths on this site: never `//host` or `https://…` (an open redirect).
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/admin".to_owned()
    }
}

/// `/admin`, where a sign-in without a `next` lands: each account's own first page — the
/// online services for an organization or applicant (who may hold no organization yet), the
/// registry for staff who read it, the queue for window staff, else the account page; never a
/// page the account may not open.
async fn landing(user: CurrentUser) -> Redirect {
    Redirect::to(if user.can(Permission::Apply) {
        "/applications"
    } else if user.can(Permission::ViewRegistry) {
        "/admin/orgs"
    } else if user.can(Permission::HandleApplications) {
        "/admin/applications"
    } else {
        "/account"
    })
}

async fn login_form(ctx: PageCtx, Query(q): Query<LoginQuery>) -> Result<Response> {
    let view = LoginPage {
        layout: ctx.layout("auth.login.title"),
        username: String::new(),
        next: safe_next(&q.next),
        error: String::new(),
    };
    page(&view, &view.layout)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    next: String,
}

/// Why a sign-in was refused (the login log's reason; the person sees one message for all,
/// so the form does not tell which usernames exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    UnknownUser,
    BadPassword,
    Locked,
    Disabled,
    AddressThrottled,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Refusal::UnknownUser => "unknown_user",
            Refusal::BadPassword => "bad_password",
            Refusal::Locked => "locked",
            Refusal::Disabled => "disabled",
            Refusal::AddressThrottled => "address_throttled",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Refusal::Locked | Refusal::AddressThrottled => "auth.login.locked",
            _ => "auth.login.failed",
        }
    }
}

/// A hash to verify against when the username does not exist, so that the answer takes as long
/// as for a real account.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    super::hash_password("no such account, only timing").unwrap_or_default()
});

async fn login(
    State(app): State<AppState>,
    ctx: PageCtx,
    Extension(PeerIp(ip)): Extension<PeerIp>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let now = Utc::now();
    let username = form.username.trim().to_owned();
    let settings = &app.settings;
    let lock_window = Duration::minutes(settings.login_lock_minutes.max(1));
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let user = store::find_user_by_name(&mut c, &username).await?;
    let throttled = match &ip {
        Some(ip) => {
            store::recent_failures_from(&mut c, ip, now - lock_window).await?
                >= settings.login_max_failures_per_ip
        }
        None => false,
    };
    let outcome: std::result::Result<UserRow, Refusal> = match user {
        _ if throttled => Err(Refusal::AddressThrottled),
        None => {
            let _ = super::verify_password(&form.password, &DUMMY_HASH);
            Err(Refusal::UnknownUser)
        }
        Some(u) if u.locked_until.is_some_and(|t| t > now) => Err(Refusal::Locked),
        Some(u) if !super::verify_password(&form.password, &u.password_hash) => {
            let locked = store::record_failure(
                &mut c,
                UserId(u.id),
                now,
                settings.login_max_failures,
                lock_window,
            )
            .await?;
            Err(if locked {
                Refusal::Locked
            } else {
                Refusal::BadPassword
            })
        }
        Some(u) if !u.active => Err(Refusal::Disabled),
        Some(u) => Ok(u),
    };
    let actor = Actor {
        name: username.clone(),
        user_id: None,
        ip: ip.clone(),
    };
    match outcome {
        Err(refusal) => {
            let user_id = store::find_user_by_name(&mut c, &username)
                .await?
                .map(|u| UserId(u.id));
            store::log_login(
                &mut c,
                now,
                &username,
                user_id,
                ip.as_deref(),
                false,
                refusal.reason(),
            )
            .await?;
            let entry = NewEntry::of(
                "login_failed",
                "session",
                user_id.map(|u| u.0),
                refusal.reason(),
            );
            append(&mut c, now, &actor, entry).await?;
            tx.commit().await?;
            let view = LoginPage {
                layout: ctx.layout("auth.login.title"),
                username,
                next: safe_next(&form.next),
                error: ctx.lang.t(refusal.message()).to_owned(),
            };
            invalid_page(&view, &view.layout)
        }
        Ok(user) => {
            let id = UserId(user.id);
            store::record_success(&mut c, id).await?;
            // A new session on every sign-in (rotation): a token planted before sign-in is useless.
            if let Some(old) = cookie(&headers, SESSION_COOKIE) {
                store::end_session(&mut c, old).await?;
            }
            let agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok());
            let token = store::start_session(&mut c, id, now, ip.as_deref(), agent).await?;
            store::log_login(&mut c, now, &username, Some(id), ip.as_deref(), true, "ok").await?;
            let actor = Actor {
                user_id: Some(user.id),
                ..actor
            };
            append(
                &mut c,
                now,
                &actor,
                NewEntry::of("login", "session", Some(user.id), "ok"),
            )
            .await?;
            tx.commit().await?;
            let mut response = redirect_with_flash(&safe_next(&form.next), "flash.signed_in");
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(Some(&token)));
            Ok(response)
        }
    }
}

async fn logout(
    State(app): State<AppState>,
    user: Option<CurrentUser>,
    headers: HeaderMap,
) -> Result<Response> {
    if let (Some(user), Some(token)) = (user, cookie(&headers, SESSION_COOKIE)) {
        let mut tx = app.db.begin().await?;
        store::end_session(&mut tx.conn(), token).await?;
        let entry = NewEntry::of("logout", "session", Some(user.id.0), "logout");
        append(&mut tx.conn(), Utc::now(), &user.actor(), entry).await?;
        tx.commit().await?;
    }
    let mut response = redirect_with_flash("/login", "flash.signed_out");
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(None));
    Ok(response)
}

#[derive(Template)]
#[template(path = "auth/account.html")]
struct AccountPage {
    layout: Layout,
    username: String,
    roles: Vec<String>,
    sessions: i64,
    errors: Vec<(String, String)>,
}

async fn account_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    errors: &FieldErrors,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let grants = store::grants(&mut conn.conn(), Some(user.id)).await?;
    let view = AccountPage {
        layout: ctx.layout("auth.account.title"),
        username: user.username.clone(),
        roles: grants.iter().map(|g| grant_label(g, ctx.lang)).collect(),
        sessions: store::session_count(&mut conn.conn(), user.id).await?,
        errors: errors.render(ctx.lang),
    };
    page_with_errors(&view, &view.layout, errors)
}

/// "街道办事员 · 塘沽街道" — a grant as a person reads it.
fn grant_label(g: &GrantRow, lang: Lang) -> String {
    let role = Role::parse(&g.role).map_or(g.role.clone(), |r| r.label(lang).to_owned());
    match (&g.area_name, &g.org_name) {
        (Some(area), _) => format!("{role} · {area}"),
        (_, Some(org)) => format!("{role} · {org}"),
        _ => role,
    }
}

async fn account(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    account_page(&app, &ctx, &user, &FieldErrors::new()).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn change_password(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    let mut errors = FieldErrors::new();
    let mut tx = app.db.begin().await?;
    let row = store::find_user(&mut tx.conn(), user.id)
        .await?
        .ok_or(Error::NotFound)?;
    if !super::verify_password(&form.current, &row.password_hash) {
        errors.add("current", Msg::new("auth.password.wrong_current"));
    }
    if let Err(m) = super::check_password(&user.username, &form.new) {
        errors.add("new", m);
    } else if form.new != form.confirm {
        errors.add("confirm", Msg::new("auth.password.mismatch"));
    }
    if !errors.is_empty() {
        drop(tx);
        return account_page(&app, &ctx, &user, &errors).await;
    }
    let now = Utc::now();
    store::set_password(&mut tx.conn(), &user.actor(), now, user.id, &form.new).await?;
    // Every session ended with the change; this browser gets a fresh one.
    let token =
        store::start_session(&mut tx.conn(), user.id, now, user.ip.as_deref(), None).await?;
    tx.commit().await?;
    let mut response = redirect_with_flash("/account", "flash.password_changed");
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(Some(&token)));
    Ok(response)
}

async fn logout_everywhere(State(app): State<AppState>, user: CurrentUser) -> Result<Response> {
    let mut tx = app.db.begin().await?;
    let ended = store::end_all_sessions(&mut tx.conn(), user.id).await?;
    let summary = format!("{ended} sessions");
    append(
        &mut tx.conn(),
        Utc::now(),
        &user.actor(),
        NewEntry::of("logout_all", "session", Some(user.id.0), &summary),
    )
    .await?;
    tx.commit().await?;
    let mut response = redirect_with_flash("/login", "flash.signed_out_everywhere");
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(None));
    Ok(response)
}

/// A user in the administrator's list.
pub struct UserLine {
    id: i64,
    username: String,
    display_name: String,
    active: bool,
    locked: bool,
    roles: Vec<String>,
}

#[derive(Template)]
#[template(path = "auth/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserLine>,
    roles: Vec<(&'static str, &'static str)>,
    errors: Vec<(String, String)>,
    form: NewUserForm,
    /// A password generated for the new account, shown once.
    generated: Option<(String, String)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NewUserForm {
    username: String,
    display_name: String,
    password: String,
    role: String,
    area_code: String,
    org: String,
}

fn role_choices(lang: Lang) -> Vec<(&'static str, &'static str)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str(), r.label(lang)))
        .collect()
}

async fn users_page(
    app: &AppState,
    ctx: &PageCtx,
    form: NewUserForm,
    errors: &FieldErrors,
    generated: Option<(String, String)>,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let all = store::list_users(&mut c).await?;
    let grants = store::grants(&mut c, None).await?;
    let now = Utc::now();
    let view = UsersPage {
        layout: ctx.layout("auth.users.title"),
        users: all
            .into_iter()
            .map(|u| UserLine {
                roles: grants
                    .iter()
                    .filter(|g| g.user_id == u.id)
                    .map(|g| grant_label(g, ctx.lang))
                    .collect(),
                id: u.id,
                locked: u.locked_until.is_some_and(|t| t > now),
                username: u.username,
                display_name: u.display_name,
                active: u.active,
            })
            .collect(),
        roles: role_choices(ctx.lang),
        errors: errors.render(ctx.lang),
        form,
        generated,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn users(State(app): State<AppState>, ctx: PageCtx, user: CurrentUser) -> Result<Response> {
    require(&app, &user, Permission::ManageUsers).await?;
    users_page(
        &app,
        &ctx,
        NewUserForm::default(),
        &FieldErrors::new(),
        None,
    )
    .await
}

/// Resolves the role form's tie (area code or organization USCC/id) into a grant.
async fn parse_grant(
    c: &mut crate::db::Conn<'_>,
    role: &str,
    area_code: &str,
    org: &str,
    errors: &mut FieldErrors,
) -> Result<Option<Grant>> {
    let Some(role) = Role::parse(role) else {
        errors.add("role", Msg::new("error.field.choice"));
        return Ok(None);
    };
    let area = match area_code.trim() {
        "" => None,
        code => match areas::find_by_code(c, code).await? {
            Some(a) => Some(a.area_id()),
            None => {
                errors.add("area_code", Msg::new("registry.error.unknown_area"));
                return Ok(None);
            }
        },
    };
    let org = match org.trim() {
        "" => None,
        key => match find_by_key(c, &super::Scope::All, key).await? {
            Some(o) => Some(o.org_id()),
            None => {
                errors.add("org", Msg::new("auth.error.unknown_org"));
                return Ok(None);
            }
        },
    };
    Ok(Some(Grant { role, area, org }))
}

async fn create_user(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<NewUserForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageUsers).await?;
    let mut errors = FieldErrors::new();
    let mut tx = app.db.begin().await?;
    let grant = parse_grant(
        &mut tx.conn(),
        &form.role,
        &form.area_code,
        &form.org,
        &mut errors,
    )
    .await?;
    let generated = form.password.trim().is_empty();
    let password = if generated {
        super::generate_password()?
    } else {
        form.password.clone()
    };
    if !errors.is_empty() {
        drop(tx);
        return users_page(&app, &ctx, form, &errors, None).await;
    }
    let now = Utc::now();
    let new = NewUser {
        username: form.username.trim().to_owned(),
        display_name: form.display_name.clone(),
        password: password.clone(),
    };
    let result = async {
        let id = store::create_user(&mut tx.conn(), &user.actor(), now, &new).await?;
        if let Some(g) = &grant {
            store::grant_role(&mut tx.conn(), &user.actor(), now, id, g).await?;
        }
        Ok::<_, Error>(id)
    }
    .await;
    match result {
        Ok(_) => {
            tx.commit().await?;
            let shown = generated.then(|| (new.username.clone(), password));
            users_page(
                &app,
                &ctx,
                NewUserForm::default(),
                &FieldErrors::new(),
                shown,
            )
            .await
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            users_page(&app, &ctx, form, &errors, None).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "auth/user.html")]
struct UserPage {
    layout: Layout,
    id: i64,
    active: bool,
    locked_until: String,
    grants: Vec<(i64, String)>,
    roles: Vec<(&'static str, &'static str)>,
    errors: Vec<(String, String)>,
    reset_password: Option<String>,
}

async fn user_detail(
    app: &AppState,
    ctx: &PageCtx,
    id: i64,
    errors: &FieldErrors,
    reset_password: Option<String>,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let row = store::find_user(&mut c, UserId(id))
        .await?
        .ok_or(Error::NotFound)?;
    let grants = store::grants(&mut c, Some(UserId(id))).await?;
    let view = UserPage {
        layout: ctx.layout_titled(row.username.clone()),
        id,
        active: row.active,
        locked_until: row
            .locked_until
            .filter(|t| *t > Utc::now())
            .map(china_time)
            .unwrap_or_default(),
        grants: grants
            .iter()
            .map(|g| (g.id, grant_label(g, ctx.lang)))
            .collect(),
        roles: role_choices(ctx.lang),
        errors: errors.render(ctx.lang),
        reset_password,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn user_page(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageUsers).await?;
    user_detail(&app, &ctx, id, &FieldErrors::new(), None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RoleForm {
    role: String,
    area_code: String,
    org: String,
}

async fn add_role(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageUsers).await?;
    let mut errors = FieldErrors::new();
    let mut tx = app.db.begin().await?;
    store::find_user(&mut tx.conn(), UserId(id))
        .await?
        .ok_or(Error::NotFound)?;
    let grant = parse_grant(
        &mut tx.conn(),
        &form.role,
        &form.area_code,
        &form.org,
        &mut errors,
    )
    .await?;
    let result = match grant {
        Some(g) if errors.is_empty() => {
            store::grant_role(&mut tx.conn(), &user.actor(), Utc::now(), UserId(id), &g)
                .await
                .map(|_| ())
        }
        _ => Err(Error::Invalid(errors)),
    };
    match result {
        Ok(()) => {
            tx.commit().await?;
            Ok(redirect_with_flash(
                &format!("/admin/users/{id}"),
                "flash.user_saved",
            ))
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            user_detail(&app, &ctx, id, &errors, None).await
        }
        Err(e) => Err(e),
    }
}

async fn remove_role(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, grant)): Path<(i64, i64)>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageUsers).await?;
    let mut tx = app.db.begin().await?;
    store::revoke_role(&mut tx.conn(), &user.actor(), Utc::now(), UserId(id), grant).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/users/{id}"),
        "flash.user_saved",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActiveForm {
    active: String,
}

async fn set_active(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ActiveForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageUsers).await?;
    let active = form.active == "true";
    if !active && id == user.id.0 {
        return Err(Error::Conflict(Msg::new("auth.error.disable_self")));
    }
    let mut tx = app.db.begin().await?;
    store::set_active(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        UserId(id),
        active,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/users/{id}"),
        "flash.user_saved",
    ))
}

async fn reset_password(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageUsers).await?;
    let password = super::generate_password()?;
    let mut tx = app.db.begin().await?;
    store::set_password(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        UserId(id),
        &password,
    )
    .await?;
    tx.commit().await?;
    user_detail(&app, &ctx, id, &FieldErrors::new(), Some(password)).await
}

/// A token in the administrator's list.
pub struct TokenLine {
    id: i64,
    name: String,
    scopes: String,
    created: String,
    expires: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "auth/tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenLine>,
    errors: Vec<(String, String)>,
    /// A token just created, shown once.
    secret: Option<String>,
}

async fn tokens_page(
    app: &AppState,
    ctx: &PageCtx,
    errors: &FieldErrors,
    secret: Option<String>,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let rows: Vec<TokenRow> = tokens::list(&mut conn.conn()).await?;
    let view = TokensPage {
        layout: ctx.layout("auth.tokens.title"),
        tokens: rows
            .into_iter()
            .map(|t| TokenLine {
                id: t.id,
                name: t.name,
                scopes: t.scopes,
                created: china_time(t.created_at),
                expires: t.expires_at.map(china_time).unwrap_or_default(),
                last_used: t.last_used_at.map(china_time).unwrap_or_default(),
                revoked: t.revoked,
            })
            .collect(),
        errors: errors.render(ctx.lang),
        secret,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn token_list(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    require(&app, &user, Permission::ManageTokens).await?;
    tokens_page(&app, &ctx, &FieldErrors::new(), None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenForm {
    name: String,
    scopes: String,
    area_code: String,
    expires_days: String,
}

async fn create_token(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageTokens).await?;
    let mut errors = FieldErrors::new();
    let scopes: Vec<TokenScope> = form
        .scopes
        .split_whitespace()
        .filter_map(TokenScope::parse)
        .collect();
    if scopes.len() != form.scopes.split_whitespace().count() {
        errors.add("scopes", Msg::new("auth.error.token_scope"));
    }
    let expires = match form.expires_days.trim() {
        "" => None,
        d => match d.parse::<i64>() {
            Ok(days) if (1..=3650).contains(&days) => Some(Utc::now() + Duration::days(days)),
            _ => {
                errors.add("expires_days", Msg::new("error.field.positive"));
                None
            }
        },
    };
    let mut tx = app.db.begin().await?;
    let area = match form.area_code.trim() {
        "" => None,
        code => {
            let found = areas::find_by_code(&mut tx.conn(), code).await?;
            if found.is_none() {
                errors.add("area_code", Msg::new("registry.error.unknown_area"));
            }
            found.map(|a| a.area_id())
        }
    };
    if !errors.is_empty() {
        drop(tx);
        return tokens_page(&app, &ctx, &errors, None).await;
    }
    match tokens::create(
        &mut tx.conn(),
        &user.actor(),
        Utc::now(),
        &form.name,
        &scopes,
        area,
        expires,
    )
    .await
    {
        Ok((_, secret)) => {
            tx.commit().await?;
            tokens_page(&app, &ctx, &FieldErrors::new(), Some(secret)).await
        }
        Err(Error::Invalid(errors)) => {
            drop(tx);
            tokens_page(&app, &ctx, &errors, None).await
        }
        Err(e) => Err(e),
    }
}

async fn revoke_token(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageTokens).await?;
    let mut tx = app.db.begin().await?;
    tokens::revoke(&mut tx.conn(), &user.actor(), Utc::now(), id).await?;
    tx.commit().await?;
    Ok(redirect_with_flash("/admin/tokens", "flash.token_revoked"))
}

/// A line of the login log, formatted.
pub struct LoginLine {
    at: String,
    username: String,
    ip: String,
    success: bool,
    reason: String,
}

#[derive(Template)]
#[template(path = "auth/logins.html")]
struct LoginsPage {
    layout: Layout,
    lines: Vec<LoginLine>,
    total: i64,
    page: i64,
    pages: i64,
    username: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginsQuery {
    username: String,
    page: Option<i64>,
}

async fn login_log(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<LoginsQuery>,
) -> Result<Response> {
    require(&app, &user, Permission::ViewAudit).await?;
    let paging = Paging::new(q.page, Some(50));
    let name = Some(q.username.trim()).filter(|n| !n.is_empty());
    let mut conn = app.db.acquire().await?;
    let (rows, total) = store::login_log(&mut conn.conn(), name, paging).await?;
    let view = LoginsPage {
        layout: ctx.layout("auth.logins.title"),
        lines: rows
            .into_iter()
            .map(|r| LoginLine {
                at: china_time(r.at),
                username: r.username,
                ip: r.ip.unwrap_or_default(),
                success: r.success,
                reason: r.reason,
            })
            .collect(),
        total,
        page: paging.page,
        pages: paging.pages(total),
        username: q.username,
    };
    page(&view, &view.layout)
}

/// Used by the router's fallback for unknown HTML paths.
pub async fn not_found() -> Response {
    Error::NotFound.into_response()
}
