//! Department API tokens (部门接口令牌): created by an administrator, shown once, stored hashed,
//! with scopes, an optional area, an expiry and the time of last use.

use super::{Scope, secret_hash};
use crate::areas::AreaId;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::Msg;

/// Prefix of every token, so a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "shz_";
/// Longest name of a token.
pub const NAME_MAX_CHARS: usize = 100;

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenScope {
    /// Read public fields (what anyone may read, but counted and attributable).
    Public,
    /// Read the registry's full records (contact details) within the token's area, or everywhere.
    RegistryRead,
    /// Write the named data feed of the department (e.g. `feed:tax`).
    Feed(String),
}

impl TokenScope {
    /// Parses `public`, `registry:read` or `feed:NAME`.
    pub fn parse(s: &str) -> Option<TokenScope> {
        match s.trim() {
            "public" => Some(TokenScope::Public),
            "registry:read" => Some(TokenScope::RegistryRead),
            other => {
                let name = other.strip_prefix("feed:")?;
                (!name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
                    .then(|| TokenScope::Feed(name.to_owned()))
            }
        }
    }

    /// The stored form.
    pub fn as_string(&self) -> String {
        match self {
            TokenScope::Public => "public".into(),
            TokenScope::RegistryRead => "registry:read".into(),
            TokenScope::Feed(name) => format!("feed:{name}"),
        }
    }
}

/// A token as stored (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    /// Token id.
    pub id: i64,
    /// Who it is for (e.g. 区税务局).
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// The area its registry reads are limited to.
    pub area_id: Option<i64>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// Refused after this.
    pub expires_at: Option<Timestamp>,
    /// Last accepted use.
    pub last_used_at: Option<Timestamp>,
    /// Revoked tokens are refused.
    pub revoked: bool,
}

impl TokenRow {
    /// The token's parsed scopes.
    pub fn scope_list(&self) -> Vec<TokenScope> {
        self.scopes
            .split_whitespace()
            .filter_map(TokenScope::parse)
            .collect()
    }
}

/// What a request with a valid token may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCaller {
    /// Token id.
    pub id: i64,
    /// Token name (the audit trail's actor is `token:NAME`).
    pub name: String,
    /// The registry scope it reads with.
    pub scope: Scope,
    /// True when it may read non-public fields.
    pub internal_fields: bool,
}

const TOKEN_SELECT: &str = "select id, name, scopes, area_id, created_by, created_at, expires_at, last_used_at, revoked from api_tokens";

/// Creates a token; returns its id and the secret, which is shown once and never stored.
pub async fn create(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    name: &str,
    scopes: &[TokenScope],
    area: Option<AreaId>,
    expires_at: Option<Timestamp>,
) -> Result<(i64, String)> {
    let mut errors = FieldErrors::new();
    if name.trim().is_empty() {
        errors.add("name", Msg::new("error.field.required"));
    } else if name.trim().chars().count() > NAME_MAX_CHARS {
        errors.add(
            "name",
            Msg::new("error.field.too_long").with("max", NAME_MAX_CHARS),
        );
    }
    if scopes.is_empty() {
        errors.add("scopes", Msg::new("error.field.required"));
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let secret = format!("{TOKEN_PREFIX}{}", super::new_secret()?);
    let scope_text = scopes
        .iter()
        .map(TokenScope::as_string)
        .collect::<Vec<_>>()
        .join(" ");
    let id = Sql::new("insert into api_tokens (name, token_hash, scopes, area_id, created_by, created_at, expires_at, last_used_at, revoked) values ($1, $2, $3, $4, $5, $6, $7, null, false) returning id")
        .arg(name.trim())
        .arg(secret_hash(&secret))
        .arg(scope_text.as_str())
        .arg(area.map(|a| a.0))
        .arg(actor.name.as_str())
        .arg(at)
        .arg(expires_at)
        .fetch_i64(conn)
        .await?;
    let summary = format!("{} [{scope_text}]", name.trim());
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "api_token", Some(id), &summary),
    )
    .await?;
    Ok((id, secret))
}

/// Every token, newest first.
pub async fn list(conn: &mut Conn<'_>) -> Result<Vec<TokenRow>> {
    Ok(Sql::new(&format!("{TOKEN_SELECT} order by id desc"))
        .fetch_all(conn)
        .await?)
}

/// Revokes a token for good.
pub async fn revoke(conn: &mut Conn<'_>, actor: &Actor, at: Timestamp, id: i64) -> Result<()> {
    let n = Sql::new("update api_tokens set revoked = true where id = $1")
        .arg(id)
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("revoke", "api_token", Some(id), "revoked"),
    )
    .await?;
    Ok(())
}

/// What a bearer secret stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bearer {
    /// A token that may be used.
    Valid(TokenCaller),
    /// A token that exists but was revoked or has expired.
    Refused(RefusedToken),
    /// No token has this secret.
    Unknown,
}

/// A token refused because it was revoked or has expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedToken {
    /// Token id.
    pub id: i64,
    /// Token name.
    pub name: String,
    /// `revoked` or `expired`.
    pub reason: &'static str,
}

impl RefusedToken {
    /// Records the refusal in the audit log, as the token (`token:NAME`) from `ip`.
    pub async fn audit(
        &self,
        conn: &mut Conn<'_>,
        at: Timestamp,
        ip: Option<String>,
    ) -> Result<()> {
        let actor = Actor {
            name: format!("token:{}", self.name),
            user_id: None,
            ip,
        };
        let entry = NewEntry::of("denied", "api_token", Some(self.id), self.reason);
        append(conn, at, &actor, entry).await?;
        Ok(())
    }
}

/// What a bearer secret stands for: a usable token (its last use is recorded), one that was
/// revoked or has expired, or nothing.
pub async fn authenticate(conn: &mut Conn<'_>, secret: &str, now: Timestamp) -> Result<Bearer> {
    let Some(row) = Sql::new(&format!("{TOKEN_SELECT} where token_hash = $1"))
        .arg(secret_hash(secret.trim()))
        .fetch_optional::<TokenRow>(conn)
        .await?
    else {
        return Ok(Bearer::Unknown);
    };
    let refused = if row.revoked {
        Some("revoked")
    } else if row.expires_at.is_some_and(|e| e <= now) {
        Some("expired")
    } else {
        None
    };
    if let Some(reason) = refused {
        return Ok(Bearer::Refused(RefusedToken {
            id: row.id,
            name: row.name,
            reason,
        }));
    }
    Sql::new("update api_tokens set last_used_at = $1 where id = $2")
        .arg(now)
        .arg(row.id)
        .execute(conn)
        .await?;
    let scopes = row.scope_list();
    let registry = scopes.contains(&TokenScope::RegistryRead);
    let scope = match (registry, row.area_id) {
        (true, Some(area)) => Scope::areas(vec![AreaId(area)]),
        (true, None) => Scope::All,
        (false, _) => Scope::Public,
    };
    Ok(Bearer::Valid(TokenCaller {
        id: row.id,
        name: row.name,
        scope,
        internal_fields: registry,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse() {
        assert_eq!(TokenScope::parse("public"), Some(TokenScope::Public));
        assert_eq!(
            TokenScope::parse("registry:read"),
            Some(TokenScope::RegistryRead)
        );
        assert_eq!(
            TokenScope::parse("feed:tax"),
            Some(TokenScope::Feed("tax".into()))
        );
        assert_eq!(TokenScope::parse("feed:"), None);
        assert_eq!(TokenScope::parse("admin"), None);
        assert_eq!(TokenScope::Feed("tax".into()).as_string(), "feed:tax");
    }
}
