//! The figures of SPEC §4 as the dashboard and the public statistics show them: each summary
//! key with its group, unit and format. Labels come from the catalogue (`stats.key.<key>`).

use super::Summary;
use crate::export::ColumnKind;

/// A group of figures shown together (one panel of the dashboard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// 登记管理.
    Registry,
    /// 党建工作.
    Party,
    /// 枢纽与联络网络.
    Network,
    /// 年检与评估.
    Supervision,
    /// 人才队伍.
    Talent,
    /// 孵化与公益创投.
    Incubation,
    /// 志愿服务与捐赠.
    Volunteers,
}

impl Group {
    /// Every group, in the dashboard's order.
    pub const ALL: [Group; 7] = [
        Group::Registry,
        Group::Party,
        Group::Network,
        Group::Supervision,
        Group::Talent,
        Group::Incubation,
        Group::Volunteers,
    ];

    /// The message key of the group's heading.
    pub fn label_key(self) -> &'static str {
        match self {
            Group::Registry => "stats.group.registry",
            Group::Party => "stats.group.party",
            Group::Network => "stats.group.network",
            Group::Supervision => "stats.group.supervision",
            Group::Talent => "stats.group.talent",
            Group::Incubation => "stats.group.incubation",
            Group::Volunteers => "stats.group.volunteers",
        }
    }
}

/// One figure of the summary.
#[derive(Debug, Clone, Copy)]
pub struct FigureDef {
    /// The summary key (SPEC §7).
    pub key: &'static str,
    /// Where it is shown.
    pub group: Group,
    /// How it is formatted (counts, yuan, hours, rates).
    pub kind: ColumnKind,
    /// The message key of its unit (家, 个, 名, 元, 小时, %).
    pub unit: &'static str,
}

const fn figure(
    key: &'static str,
    group: Group,
    kind: ColumnKind,
    unit: &'static str,
) -> FigureDef {
    FigureDef {
        key,
        group,
        kind,
        unit,
    }
}

use ColumnKind::{Count, Decimal, Money, Percent};
use Group::*;

/// Every key of the summary, in SPEC §7's order.
pub const FIGURES: [FigureDef; 27] = [
    figure("organizations_total", Registry, Count, "stats.unit.org"),
    figure("registered_total", Registry, Count, "stats.unit.org"),
    figure("social_groups", Registry, Count, "stats.unit.org"),
    figure(
        "private_non_enterprise_units",
        Registry,
        Count,
        "stats.unit.org",
    ),
    figure("foundations", Registry, Count, "stats.unit.org"),
    figure("filed_community_orgs", Registry, Count, "stats.unit.org"),
    figure("party_orgs_independent", Party, Count, "stats.unit.item"),
    figure("party_branches_joint", Party, Count, "stats.unit.item"),
    figure("party_instructors", Party, Count, "stats.unit.person"),
    figure("party_funding_yuan", Party, Money, "stats.unit.yuan"),
    figure("federations", Network, Count, "stats.unit.item"),
    figure("communities_total", Network, Count, "stats.unit.item"),
    figure(
        "communities_with_liaison_point",
        Network,
        Count,
        "stats.unit.item",
    ),
    figure("direct_registrations", Registry, Count, "stats.unit.org"),
    figure(
        "inspection_rate",
        Supervision,
        Percent,
        "stats.unit.percent",
    ),
    figure(
        "inspection_pass_rate",
        Supervision,
        Percent,
        "stats.unit.percent",
    ),
    figure(
        "organizations_evaluated",
        Supervision,
        Count,
        "stats.unit.org",
    ),
    figure("social_workers", Talent, Count, "stats.unit.person"),
    figure("professionals", Talent, Count, "stats.unit.person"),
    figure("incubated_graduated", Incubation, Count, "stats.unit.org"),
    figure("incubating", Incubation, Count, "stats.unit.org"),
    figure("venture_budget_yuan", Incubation, Money, "stats.unit.yuan"),
    figure("venture_domains", Incubation, Count, "stats.unit.item"),
    figure("venture_proposals", Incubation, Count, "stats.unit.item"),
    figure("venture_funded", Incubation, Count, "stats.unit.item"),
    figure("volunteer_hours", Volunteers, Decimal, "stats.unit.hour"),
    figure("donations_yuan", Volunteers, Money, "stats.unit.yuan"),
];

/// The definition of `key`, if it is a summary key.
pub fn find(key: &str) -> Option<&'static FigureDef> {
    FIGURES.iter().find(|f| f.key == key)
}

/// The message key of a figure's label.
pub fn label_key(key: &str) -> String {
    format!("stats.key.{key}")
}

/// Every figure's value in `summary`, by key (in SPEC §7's order).
pub fn values(summary: &Summary) -> Vec<(&'static FigureDef, f64)> {
    let json = serde_json::to_value(summary).unwrap_or_default();
    FIGURES
        .iter()
        .map(|f| (f, json.get(f.key).and_then(|v| v.as_f64()).unwrap_or(0.0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_names_every_summary_key_once() {
        let json = serde_json::to_value(Summary::default()).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), FIGURES.len());
        for key in keys {
            assert!(find(key).is_some(), "{key} missing from the catalogue");
        }
    }
}
