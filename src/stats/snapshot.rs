//! The registry as it stood at the end of a year: every organization of an area subtree with
//! its kind, status, domain and direct-registration flag replayed from the registry history
//! (`org_change_fields`), so a figure "at the end of 2014" is the same after 2015 is entered.
//! Counts and drill-down lists both come from here, so they cannot disagree.
//!
//! The area is the organization's area now (a move between streets is rare and is not
//! replayed); the name is its name now.

use crate::areas::AreaId;
use crate::auth::Scope;
use crate::db::{Conn, Sql};
use crate::error::Result;

/// One organization as it stood at the end of the year.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrgThen {
    /// Database id.
    pub id: i64,
    /// Name (now).
    pub name: String,
    /// 统一社会信用代码, when it has one.
    pub uscc: Option<String>,
    /// Area (now).
    pub area_id: i64,
    /// Kind then (machine name).
    pub kind: String,
    /// Status then (machine name).
    pub status: String,
    /// Domain code then.
    pub domain: String,
    /// Whether it was directly registered (直接登记), as then recorded.
    pub direct: bool,
}

impl OrgThen {
    /// Registered or filed and not ended then (active or on the abnormal list): what the
    /// registry's totals count.
    pub fn live(&self) -> bool {
        matches!(self.status.as_str(), "active" | "abnormal")
    }

    /// Registered (social group, private non-enterprise unit, foundation) rather than filed.
    pub fn registered(&self) -> bool {
        self.kind != "community"
    }
}

/// The last instant of `year` in China.
pub fn year_end(year: i32) -> crate::db::Timestamp {
    crate::registry::store::end_of_day_china(super::year_end_day(year))
}

/// Every organization of `area`'s subtree within `scope` that existed at the end of `year`,
/// as it stood then, in id order.
pub async fn snapshot(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: AreaId,
    year: i32,
) -> Result<Vec<OrgThen>> {
    let mut sql = Sql::new("select s.* from ");
    push_snapshot(&mut sql, scope, area, year_end(year));
    sql.push(" s order by s.id");
    Ok(sql.fetch_all(conn).await?)
}

/// Appends the registry at `at` as a derived table with the columns of [`OrgThen`] and the
/// registration date (`registered_on`, as now): the organizations of `area`'s subtree within
/// `scope` that existed then.
///
/// Replaying the history field by field is exact but costs four lookups per organization; at
/// a national registry that is seconds. Every registry write goes through one writer that
/// records the changed fields with the row (`registry::store`), so an organization with no
/// change after `at` stands exactly as its row says now: only the few changed since are
/// replayed (`tests/stats.rs` checks this against [`snapshot_replayed`]).
///
/// An organization with no history at all was loaded as it stands (a registry carried over
/// from an older system, the national dataset): it counts as it is now from its `created_at`.
pub(crate) fn push_snapshot(sql: &mut Sql, scope: &Scope, area: AreaId, at: crate::db::Timestamp) {
    sql.push("(select o.id, o.name, o.uscc, o.area_id, o.registered_on, o.kind, o.status, d.code as domain, o.direct_registration as direct from organizations o join domains d on d.id = o.domain_id where ");
    crate::areas::store::subtree_predicate(sql, "o.area_id", &[area]);
    scope.restrict_orgs(sql, "o");
    sql.push(" and coalesce(")
        .push(LAST_CHANGE)
        .push(", o.created_at) <= ")
        .push_arg(at);
    sql.push(" union all select id, name, uscc, area_id, registered_on, kind, status, coalesce(domain, '') as domain, coalesce(direct, 'false') = 'true' as direct from (select o.id, o.name, o.uscc, o.area_id, o.registered_on, ");
    push_replayed_fields(sql, at);
    sql.push(" from organizations o where ");
    crate::areas::store::subtree_predicate(sql, "o.area_id", &[area]);
    scope.restrict_orgs(sql, "o");
    sql.push(" and ").push(LAST_CHANGE).push(" > ").push_arg(at);
    sql.push(") t where status is not null and kind is not null)");
}

/// When organization `o` last changed (null when it has no history).
const LAST_CHANGE: &str = "(select c.changed_at from org_changes c where c.org_id = o.id order by c.changed_at desc limit 1)";

/// Appends the replayed `kind, status, domain, direct` of organization `o` at `at`.
fn push_replayed_fields(sql: &mut Sql, at: crate::db::Timestamp) {
    push_field_as_of(sql, "kind", "o", at);
    sql.push(" as kind, ");
    push_field_as_of(sql, "status", "o", at);
    sql.push(" as status, ");
    push_field_as_of(sql, "domain", "o", at);
    sql.push(" as domain, ");
    push_field_as_of(sql, "direct_registration", "o", at);
    sql.push(" as direct");
}

/// Every organization as [`snapshot`] but replayed field by field from the history, however
/// long ago it last changed (those without history as loaded): the reference the fast path
/// is checked against.
pub async fn snapshot_replayed(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: AreaId,
    year: i32,
) -> Result<Vec<OrgThen>> {
    let at = year_end(year);
    let mut sql = Sql::new(
        "select id, name, uscc, area_id, kind, status, coalesce(domain, '') as domain, coalesce(direct, 'false') = 'true' as direct from (select o.id, o.name, o.uscc, o.area_id, ",
    );
    push_replayed_fields(&mut sql, at);
    sql.push(" from organizations o where exists (select 1 from org_changes c where c.org_id = o.id) and ");
    crate::areas::store::subtree_predicate(&mut sql, "o.area_id", &[area]);
    scope.restrict_orgs(&mut sql, "o");
    sql.push(" union all select o.id, o.name, o.uscc, o.area_id, o.kind, o.status, d.code, case when o.direct_registration then 'true' else 'false' end from organizations o join domains d on d.id = o.domain_id where not exists (select 1 from org_changes c where c.org_id = o.id) and o.created_at <= ")
        .push_arg(at)
        .push(" and ");
    crate::areas::store::subtree_predicate(&mut sql, "o.area_id", &[area]);
    scope.restrict_orgs(&mut sql, "o");
    sql.push(") t where status is not null and kind is not null order by id");
    Ok(sql.fetch_all(conn).await?)
}

/// Appends the value registry field `field` (a trusted name) of organization `org` had at
/// `at`, replayed from the registry history: null when the organization did not exist yet.
pub(crate) fn push_field_as_of(sql: &mut Sql, field: &str, org: &str, at: crate::db::Timestamp) {
    sql.push(&format!(
        "(select f.after_value from org_change_fields f join org_changes c on c.id = f.change_id where c.org_id = {org}.id and f.field = '{field}' and c.changed_at <= "
    ))
    .push_arg(at)
    .push(" order by c.changed_at desc, c.id desc limit 1)");
}
