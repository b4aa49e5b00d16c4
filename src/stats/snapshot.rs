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
use chrono::NaiveDate;

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
    crate::registry::store::end_of_day_china(
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}

/// Every organization of `area`'s subtree within `scope` that existed at the end of `year`,
/// as it stood then, in id order.
pub async fn snapshot(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: AreaId,
    year: i32,
) -> Result<Vec<OrgThen>> {
    let field_as_of = |field: &str| {
        format!(
            "(select f.after_value from org_change_fields f join org_changes c on c.id = f.change_id where c.org_id = o.id and f.field = '{field}' and c.changed_at <= $1 order by c.changed_at desc, c.id desc limit 1)"
        )
    };
    let mut sql = Sql::new(&format!(
        "select id, name, uscc, area_id, kind, status, coalesce(domain, '') as domain, coalesce(direct, 'false') = 'true' as direct from (select o.id, o.name, o.uscc, o.area_id, {} as kind, {} as status, {} as domain, {} as direct from organizations o where ",
        field_as_of("kind"),
        field_as_of("status"),
        field_as_of("domain"),
        field_as_of("direct_registration"),
    ))
    .arg(year_end(year));
    crate::areas::store::subtree_predicate(&mut sql, "o.area_id", &[area]);
    scope.restrict_orgs(&mut sql, "o");
    sql.push(") t where status is not null and kind is not null order by id");
    Ok(sql.fetch_all(conn).await?)
}
