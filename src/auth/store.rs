//! Accounts, role grants, sessions, the login log and API tokens in the database.

use super::{CurrentUser, Grant, Role, UserId, secret_hash};
use crate::areas::AreaId;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::db::{Conn, Sql, Timestamp, is_unique_violation};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::Msg;
use crate::registry::OrgId;
use chrono::Duration;

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    /// Account id.
    pub id: i64,
    /// Sign-in name.
    pub username: String,
    /// Name shown on pages.
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Disabled accounts cannot sign in.
    pub active: bool,
    /// Consecutive failed sign-ins.
    pub failed_attempts: i64,
    /// Signed-in refused until then.
    pub locked_until: Option<Timestamp>,
    /// Last password change.
    pub password_changed_at: Timestamp,
    /// Created at.
    pub created_at: Timestamp,
}

/// Longest display name of an account.
pub const DISPLAY_NAME_MAX_CHARS: usize = 100;

const USER_SELECT: &str = "select id, username, display_name, password_hash, active, failed_attempts, locked_until, password_changed_at, created_at from users";

/// A role grant as stored, with the names of what it is tied to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GrantRow {
    /// Grant id.
    pub id: i64,
    /// The account.
    pub user_id: i64,
    /// Role machine name.
    pub role: String,
    /// Area id.
    pub area_id: Option<i64>,
    /// Area code.
    pub area_code: Option<String>,
    /// Area name.
    pub area_name: Option<String>,
    /// Organization id.
    pub org_id: Option<i64>,
    /// Organization name.
    pub org_name: Option<String>,
}

impl GrantRow {
    /// The typed grant (an unknown role string grants nothing).
    pub fn grant(&self) -> Option<Grant> {
        Some(Grant {
            role: Role::parse(&self.role)?,
            area: self.area_id.map(AreaId),
            org: self.org_id.map(OrgId),
        })
    }
}

const GRANT_SELECT: &str = "select g.id, g.user_id, g.role, g.area_id, a.code as area_code, a.name as area_name, g.org_id, o.name as org_name from user_roles g left join areas a on a.id = g.area_id left join organizations o on o.id = g.org_id";

/// A new account's facts.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in name.
    pub username: String,
    /// Name shown on pages.
    pub display_name: String,
    /// The password (already checked against the policy).
    pub password: String,
}

/// Checks a username: 3–40 characters of letters, digits, `.`, `_` or `-`.
pub fn check_username(username: &str) -> std::result::Result<(), Msg> {
    let ok = (3..=40).contains(&username.chars().count())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Msg::new("auth.error.username"))
    }
}

/// Creates an account; a taken username is a field error.
pub async fn create_user(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    user: &NewUser,
) -> Result<UserId> {
    let mut errors = FieldErrors::new();
    if let Err(m) = check_username(&user.username) {
        errors.add("username", m);
    }
    if let Err(m) = super::check_password(&user.username, &user.password) {
        errors.add("password", m);
    }
    if user.display_name.trim().chars().count() > DISPLAY_NAME_MAX_CHARS {
        errors.add(
            "display_name",
            Msg::new("error.field.too_long").with("max", DISPLAY_NAME_MAX_CHARS),
        );
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let hash = super::hash_password(&user.password)?;
    let display = if user.display_name.trim().is_empty() {
        user.username.clone()
    } else {
        user.display_name.trim().to_owned()
    };
    let id = Sql::new(
        "insert into users (username, display_name, password_hash, active, failed_attempts, locked_until, password_changed_at, created_at) values ($1, $2, $3, true, 0, null, $4, $4) returning id",
    )
    .arg(user.username.as_str())
    .arg(display)
    .arg(hash)
    .arg(at)
    .fetch_i64(conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::field("username", Msg::new("error.field.duplicate"))
        } else {
            e.into()
        }
    })?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "user", Some(id), &user.username),
    )
    .await?;
    Ok(UserId(id))
}

/// Grants a role to a user. The tie must fit the role: an area for area roles, an organization
/// for organization roles, nothing for district-wide roles and experts.
pub async fn grant_role(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    user: UserId,
    grant: &Grant,
) -> Result<i64> {
    use super::Reach;
    let mut errors = FieldErrors::new();
    match grant.role.reach() {
        Reach::Area if grant.area.is_none() => {
            errors.add("area_code", Msg::new("auth.error.role_needs_area"))
        }
        // An organization account without an organization is an applicant for a new one: the
        // approval of its establishment ties it.
        Reach::Organization if grant.org.is_none() && grant.role != Role::Org => {
            errors.add("org", Msg::new("auth.error.role_needs_org"))
        }
        Reach::District | Reach::Items if grant.area.is_some() || grant.org.is_some() => {
            errors.add("role", Msg::new("auth.error.role_untied"))
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let id = Sql::new("insert into user_roles (user_id, role, area_id, org_id) values ($1, $2, $3, $4) returning id")
        .arg(user)
        .arg(grant.role.as_str())
        .arg(grant.area.map(|a| a.0))
        .arg(grant.org.map(|o| o.0))
        .fetch_i64(conn)
        .await?;
    let summary = format!("{} {}", grant.role.as_str(), user.0);
    append(
        conn,
        at,
        actor,
        NewEntry::of("grant_role", "user", Some(user.0), &summary),
    )
    .await?;
    Ok(id)
}

/// Removes one role grant of a user.
pub async fn revoke_role(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    user: UserId,
    grant_id: i64,
) -> Result<()> {
    let removed = Sql::new("delete from user_roles where id = $1 and user_id = $2")
        .arg(grant_id)
        .arg(user)
        .execute(conn)
        .await?;
    if removed == 0 {
        return Err(Error::NotFound);
    }
    let summary = format!("grant {grant_id}");
    append(
        conn,
        at,
        actor,
        NewEntry::of("revoke_role", "user", Some(user.0), &summary),
    )
    .await?;
    Ok(())
}

/// One account by id.
pub async fn find_user(conn: &mut Conn<'_>, id: UserId) -> Result<Option<UserRow>> {
    Ok(Sql::new(&format!("{USER_SELECT} where id = $1"))
        .arg(id)
        .fetch_optional(conn)
        .await?)
}

/// One account by sign-in name.
pub async fn find_user_by_name(conn: &mut Conn<'_>, username: &str) -> Result<Option<UserRow>> {
    Ok(Sql::new(&format!("{USER_SELECT} where username = $1"))
        .arg(username)
        .fetch_optional(conn)
        .await?)
}

/// Every account, by name.
pub async fn list_users(conn: &mut Conn<'_>) -> Result<Vec<UserRow>> {
    Ok(Sql::new(&format!("{USER_SELECT} order by username"))
        .fetch_all(conn)
        .await?)
}

/// The grants of one user (`None`: of every user).
pub async fn grants(conn: &mut Conn<'_>, user: Option<UserId>) -> Result<Vec<GrantRow>> {
    let mut sql = Sql::new(GRANT_SELECT);
    if let Some(u) = user {
        sql.push(" where g.user_id = ").push_arg(u);
    }
    sql.push(" order by g.user_id, g.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Enables or disables an account; disabling also ends its sessions.
pub async fn set_active(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    user: UserId,
    active: bool,
) -> Result<()> {
    let n = Sql::new("update users set active = $1 where id = $2")
        .arg(active)
        .arg(user)
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    if !active {
        end_all_sessions(conn, user).await?;
    }
    let action = if active { "enable" } else { "disable" };
    append(
        conn,
        at,
        actor,
        NewEntry {
            action,
            entity: "user",
            entity_id: Some(user.0),
            summary: action,
            changes: None,
        },
    )
    .await?;
    Ok(())
}

/// Sets a new password (already checked), clears any lockout and ends every session of the
/// account: after a change or an administrator's reset, old sessions must not live on.
pub async fn set_password(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    user: UserId,
    password: &str,
) -> Result<()> {
    let hash = super::hash_password(password)?;
    let n = Sql::new("update users set password_hash = $1, password_changed_at = $2, failed_attempts = 0, locked_until = null where id = $3")
        .arg(hash)
        .arg(at)
        .arg(user)
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    end_all_sessions(conn, user).await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("set_password", "user", Some(user.0), "password"),
    )
    .await?;
    Ok(())
}

/// Records a failed sign-in against an account: after `max_failures` in a row it is locked
/// until `lock_for` from now. Returns whether it is now locked.
pub async fn record_failure(
    conn: &mut Conn<'_>,
    user: UserId,
    at: Timestamp,
    max_failures: i64,
    lock_for: Duration,
) -> Result<bool> {
    let failures = Sql::new("update users set failed_attempts = failed_attempts + 1 where id = $1 returning failed_attempts")
        .arg(user)
        .fetch_i64(conn)
        .await?;
    if failures >= max_failures {
        Sql::new("update users set failed_attempts = 0, locked_until = $1 where id = $2")
            .arg(at + lock_for)
            .arg(user)
            .execute(conn)
            .await?;
        return Ok(true);
    }
    Ok(false)
}

/// Clears the failure count after a successful sign-in.
pub async fn record_success(conn: &mut Conn<'_>, user: UserId) -> Result<()> {
    Sql::new("update users set failed_attempts = 0, locked_until = null where id = $1")
        .arg(user)
        .execute(conn)
        .await?;
    Ok(())
}

/// Appends to the login log.
pub async fn log_login(
    conn: &mut Conn<'_>,
    at: Timestamp,
    username: &str,
    user: Option<UserId>,
    ip: Option<&str>,
    success: bool,
    reason: &str,
) -> Result<()> {
    Sql::new("insert into login_log (at, username, user_id, ip, success, reason) values ($1, $2, $3, $4, $5, $6)")
        .arg(at)
        .arg(username)
        .arg(user.map(|u| u.0))
        .arg(ip)
        .arg(success)
        .arg(reason)
        .execute(conn)
        .await?;
    Ok(())
}

/// Failed sign-ins from one address since `since` (for throttling by address).
pub async fn recent_failures_from(conn: &mut Conn<'_>, ip: &str, since: Timestamp) -> Result<i64> {
    Ok(
        Sql::new("select count(*) from login_log where ip = $1 and at >= $2 and success = false")
            .arg(ip)
            .arg(since)
            .fetch_i64(conn)
            .await?,
    )
}

/// One line of the login log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginRow {
    /// Entry id.
    pub id: i64,
    /// When.
    pub at: Timestamp,
    /// The name typed.
    pub username: String,
    /// The account, if the name exists.
    pub user_id: Option<i64>,
    /// From where.
    pub ip: Option<String>,
    /// Signed in or not.
    pub success: bool,
    /// Why not (or `ok`).
    pub reason: String,
}

/// The login log, newest first, optionally for one name, with the total.
pub async fn login_log(
    conn: &mut Conn<'_>,
    username: Option<&str>,
    paging: crate::web::Paging,
) -> Result<(Vec<LoginRow>, i64)> {
    let mut count = Sql::new("select count(*) from login_log where 1 = 1");
    let mut sql = Sql::new(
        "select id, at, username, user_id, ip, success, reason from login_log where 1 = 1",
    );
    if let Some(name) = username {
        count.push(" and username = ").push_arg(name);
        sql.push(" and username = ").push_arg(name);
    }
    sql.push(" order by id desc limit ")
        .push_arg(paging.per_page)
        .push(" offset ")
        .push_arg(paging.offset());
    let total = count.fetch_i64(conn).await?;
    Ok((sql.fetch_all(conn).await?, total))
}

/// A session as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
struct SessionRow {
    user_id: i64,
    csrf_token: String,
    created_at: Timestamp,
    last_seen_at: Timestamp,
}

/// Starts a session for a user; returns the secret token for the cookie (only its hash is kept).
pub async fn start_session(
    conn: &mut Conn<'_>,
    user: UserId,
    at: Timestamp,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<String> {
    let token = super::new_secret()?;
    let csrf = super::new_secret()?;
    Sql::new("insert into sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent) values ($1, $2, $3, $4, $4, $5, $6)")
        .arg(secret_hash(&token))
        .arg(user)
        .arg(csrf)
        .arg(at)
        .arg(ip)
        .arg(user_agent.map(|ua| ua.chars().take(200).collect::<String>()))
        .execute(conn)
        .await?;
    Ok(token)
}

/// Ends one session (sign-out, or the old session when a new one starts).
pub async fn end_session(conn: &mut Conn<'_>, token: &str) -> Result<()> {
    Sql::new("delete from sessions where token_hash = $1")
        .arg(secret_hash(token))
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every session of an account (sign out everywhere, password change, disabling).
pub async fn end_all_sessions(conn: &mut Conn<'_>, user: UserId) -> Result<u64> {
    Ok(Sql::new("delete from sessions where user_id = $1")
        .arg(user)
        .execute(conn)
        .await?)
}

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Without a request for this long, a session ends.
    pub idle: Duration,
    /// However active, a session ends this long after sign-in.
    pub absolute: Duration,
}

/// The user behind a session token, if the session is live; a live session's last-seen time is
/// refreshed (at most once a minute, to spare the database a write per request), an expired one
/// is deleted.
pub async fn user_for_session(
    conn: &mut Conn<'_>,
    token: &str,
    now: Timestamp,
    limits: SessionLimits,
    ip: Option<String>,
) -> Result<Option<CurrentUser>> {
    let hash = secret_hash(token);
    let Some(session) = Sql::new(
        "select user_id, csrf_token, created_at, last_seen_at from sessions where token_hash = $1",
    )
    .arg(hash.as_str())
    .fetch_optional::<SessionRow>(conn)
    .await?
    else {
        return Ok(None);
    };
    if now - session.last_seen_at > limits.idle || now - session.created_at > limits.absolute {
        Sql::new("delete from sessions where token_hash = $1")
            .arg(hash.as_str())
            .execute(conn)
            .await?;
        return Ok(None);
    }
    let Some(user) = find_user(conn, UserId(session.user_id)).await? else {
        return Ok(None);
    };
    if !user.active {
        return Ok(None);
    }
    if now - session.last_seen_at > Duration::seconds(60) {
        Sql::new("update sessions set last_seen_at = $1 where token_hash = $2")
            .arg(now)
            .arg(hash.as_str())
            .execute(conn)
            .await?;
    }
    let grants = grants(conn, Some(UserId(user.id)))
        .await?
        .iter()
        .filter_map(GrantRow::grant)
        .collect();
    Ok(Some(CurrentUser {
        id: UserId(user.id),
        username: user.username,
        display_name: user.display_name,
        grants,
        csrf_token: session.csrf_token,
        ip,
    }))
}

/// Number of live sessions of a user (for the account page and tests).
pub async fn session_count(conn: &mut Conn<'_>, user: UserId) -> Result<i64> {
    Ok(Sql::new("select count(*) from sessions where user_id = $1")
        .arg(user)
        .fetch_i64(conn)
        .await?)
}
