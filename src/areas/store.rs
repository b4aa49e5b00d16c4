//! Queries on the area tree. Areas are public reference data: reading them needs no scope, but
//! every organization query that filters by area goes through [`subtree_predicate`].

use super::{AreaId, AreaLevel, Division};
use crate::db::{Conn, Sql};
use crate::error::{Error, Result};
use std::collections::HashMap;

/// One area as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AreaRow {
    /// Database id.
    pub id: i64,
    /// Official division code.
    pub code: String,
    /// Official name.
    pub name: String,
    /// Level (machine name).
    pub level: String,
    /// Parent's id (`None` for the root).
    pub parent_id: Option<i64>,
    /// Parent's code (`None` for the root).
    pub parent_code: Option<String>,
    /// Distance from the root.
    pub depth: i64,
}

impl AreaRow {
    /// The typed id.
    pub fn area_id(&self) -> AreaId {
        AreaId(self.id)
    }

    /// The typed level.
    pub fn level(&self) -> AreaLevel {
        AreaLevel::parse(&self.level).unwrap_or(AreaLevel::Community)
    }
}

const AREA_COLUMNS: &str = "select a.id, a.code, a.name, a.level, a.parent_id, p.code as parent_code, a.depth from areas a left join areas p on p.id = a.parent_id";

/// Inserts a whole divisions tree and its closure rows (call inside the caller's transaction).
/// Returns the id of every code.
pub async fn insert_divisions(
    conn: &mut Conn<'_>,
    divisions: &[Division],
) -> Result<HashMap<String, AreaId>> {
    let mut ids: HashMap<String, AreaId> = HashMap::new();
    // Each area's ancestors (nearest first), to write the closure table without re-reading it.
    let mut ancestors: HashMap<String, Vec<AreaId>> = HashMap::new();
    for d in divisions {
        let parent = match &d.parent_code {
            Some(code) => Some(*ids.get(code).ok_or(Error::NotFound)?),
            None => None,
        };
        let chain = match &d.parent_code {
            Some(code) => {
                let mut c = vec![ids[code]];
                c.extend(ancestors[code].iter().copied());
                c
            }
            None => Vec::new(),
        };
        let id = Sql::new(
            "insert into areas (code, name, level, parent_id, depth) values ($1, $2, $3, $4, $5) returning id",
        )
        .arg(d.code.as_str())
        .arg(d.name.as_str())
        .arg(d.level.as_str())
        .arg(parent.map(|p| p.0))
        .arg(chain.len() as i64)
        .fetch_i64(conn)
        .await?;
        let id = AreaId(id);
        let mut closure =
            Sql::new("insert into area_closure (ancestor_id, descendant_id, distance) values ");
        closure
            .push("(")
            .push_arg(id)
            .push(", ")
            .push_arg(id)
            .push(", 0)");
        for (distance, ancestor) in chain.iter().enumerate() {
            closure
                .push(", (")
                .push_arg(*ancestor)
                .push(", ")
                .push_arg(id)
                .push(", ")
                .push_arg(distance as i64 + 1)
                .push(")");
        }
        closure.execute(conn).await?;
        ids.insert(d.code.clone(), id);
        ancestors.insert(d.code.clone(), chain);
    }
    Ok(ids)
}

/// Every area, ordered by code (parents before children within a branch).
pub async fn list_all(conn: &mut Conn<'_>) -> Result<Vec<AreaRow>> {
    let mut sql = Sql::new(AREA_COLUMNS);
    sql.push(" order by a.depth, a.code");
    Ok(sql.fetch_all(conn).await?)
}

/// The number of areas (0 means the tree has not been loaded).
pub async fn count(conn: &mut Conn<'_>) -> Result<i64> {
    Ok(Sql::new("select count(*) from areas")
        .fetch_i64(conn)
        .await?)
}

/// The area with this division code.
pub async fn find_by_code(conn: &mut Conn<'_>, code: &str) -> Result<Option<AreaRow>> {
    let mut sql = Sql::new(AREA_COLUMNS);
    sql.push(" where a.code = ").push_arg(code);
    Ok(sql.fetch_optional(conn).await?)
}

/// The area with this id.
pub async fn find(conn: &mut Conn<'_>, id: AreaId) -> Result<Option<AreaRow>> {
    let mut sql = Sql::new(AREA_COLUMNS);
    sql.push(" where a.id = ").push_arg(id);
    Ok(sql.fetch_optional(conn).await?)
}

/// The root of the tree (the district), if the tree is loaded.
pub async fn root(conn: &mut Conn<'_>) -> Result<Option<AreaRow>> {
    let mut sql = Sql::new(AREA_COLUMNS);
    sql.push(" where a.parent_id is null order by a.id limit 1");
    Ok(sql.fetch_optional(conn).await?)
}

/// The direct children of an area, by code.
pub async fn children(conn: &mut Conn<'_>, id: AreaId) -> Result<Vec<AreaRow>> {
    let mut sql = Sql::new(AREA_COLUMNS);
    sql.push(" where a.parent_id = ")
        .push_arg(id)
        .push(" order by a.code");
    Ok(sql.fetch_all(conn).await?)
}

/// The area and its ancestors, root first (a breadcrumb).
pub async fn path(conn: &mut Conn<'_>, id: AreaId) -> Result<Vec<AreaRow>> {
    let mut sql = Sql::new(AREA_COLUMNS);
    sql.push(" join area_closure c on c.ancestor_id = a.id where c.descendant_id = ")
        .push_arg(id)
        .push(" order by c.distance desc");
    Ok(sql.fetch_all(conn).await?)
}

/// Appends "`column` lies in one of these areas or below them" to a statement: the single
/// indexed predicate every area-scoped query uses. An empty list matches nothing.
pub fn subtree_predicate(sql: &mut Sql, column: &str, roots: &[AreaId]) {
    sql.push(column)
        .push(" in (select descendant_id from area_closure where ancestor_id in (")
        .push_list(roots)
        .push("))");
}

/// The area a query names (`code`), or the root of the caller's reach when blank (the district
/// for everyone district-wide); an area outside the reach is as if it did not exist.
pub async fn reachable(
    conn: &mut Conn<'_>,
    scope: &crate::auth::Scope,
    code: &str,
) -> Result<AreaRow> {
    use crate::auth::Scope;
    let code = code.trim();
    let area = if code.is_empty() {
        match scope {
            Scope::Limited { areas: roots, .. } => {
                let first = roots.first().ok_or(Error::Forbidden)?;
                path(conn, *first).await?.pop().ok_or(Error::NotFound)?
            }
            _ => root(conn).await?.ok_or(Error::NotFound)?,
        }
    } else {
        find_by_code(conn, code).await?.ok_or(Error::NotFound)?
    };
    if let Scope::Limited { areas: roots, .. } = scope {
        let trail = path(conn, area.area_id()).await?;
        if !trail.iter().any(|a| roots.contains(&a.area_id())) {
            return Err(Error::NotFound);
        }
    }
    Ok(area)
}
