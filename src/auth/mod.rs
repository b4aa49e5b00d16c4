//! Who may see what. For now this holds the `Scope` every organization query takes; accounts,
//! roles and sessions build on it (issue 3), so that no query is written without one.

use crate::areas::AreaId;
use crate::areas::store::subtree_predicate;
use crate::db::Sql;
use crate::registry::OrgId;

/// The records a caller may see, applied in SQL by every list, detail, count and export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything in the installation (bureau staff, administrators).
    All,
    /// Records located in these areas or anywhere below them (street and functional-area
    /// officers, community liaisons). An empty list sees nothing.
    Areas(Vec<AreaId>),
    /// Only these organizations (an organization's own account, assigned instructors and
    /// social workers). An empty list sees nothing.
    Orgs(Vec<OrgId>),
    /// Anyone: every organization's public record, and only its public fields.
    Public,
}

impl Scope {
    /// Appends ` and (…)` restricting the organization aliased `org` to this scope.
    pub fn restrict_orgs(&self, sql: &mut Sql, org: &str) {
        match self {
            Scope::All | Scope::Public => {}
            Scope::Areas(roots) => {
                sql.push(" and ");
                subtree_predicate(sql, &format!("{org}.area_id"), roots);
            }
            Scope::Orgs(ids) => {
                sql.push(" and ")
                    .push(org)
                    .push(".id in (")
                    .push_list(ids)
                    .push(")");
            }
        }
    }

    /// True when the caller may see non-public fields (contact person and phone, history
    /// actors…); the public sees only what the disclosure rules publish.
    pub fn sees_internal_fields(&self) -> bool {
        !matches!(self, Scope::Public)
    }

    /// True when the caller may write organization records at all.
    pub fn may_write(&self) -> bool {
        !matches!(self, Scope::Public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_write_their_predicates() {
        let mut sql = Sql::new("select 1 from organizations o where 1 = 1");
        Scope::Areas(vec![AreaId(3), AreaId(9)]).restrict_orgs(&mut sql, "o");
        assert!(sql.text().contains(
            "o.area_id in (select descendant_id from area_closure where ancestor_id in ($1, $2))"
        ));
        let mut sql = Sql::new("select 1 from organizations o where 1 = 1");
        Scope::Orgs(vec![]).restrict_orgs(&mut sql, "o");
        assert!(sql.text().ends_with("o.id in (null)"), "{}", sql.text());
        let mut sql = Sql::new("x");
        Scope::All.restrict_orgs(&mut sql, "o");
        assert_eq!(sql.text(), "x");
    }
}
