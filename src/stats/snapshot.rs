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
    let at = year_end(year);
    let mut sql = Sql::new(
        "select id, name, uscc, area_id, kind, status, coalesce(domain, '') as domain, coalesce(direct, 'false') = 'true' as direct from (select o.id, o.name, o.uscc, o.area_id, ",
    );
    push_field_as_of(&mut sql, "kind", "o", at);
    sql.push(" as kind, ");
    push_field_as_of(&mut sql, "status", "o", at);
    sql.push(" as status, ");
    push_field_as_of(&mut sql, "domain", "o", at);
    sql.push(" as domain, ");
    push_field_as_of(&mut sql, "direct_registration", "o", at);
    sql.push(" as direct from organizations o where ");
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
