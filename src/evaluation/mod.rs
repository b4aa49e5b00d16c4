//! Classified evaluation (社会组织评估, 分类评估; DOMAIN §4, SPEC §3.5): rounds (评估活动) with
//! grade bands stored as data, indicator templates per kind (评估指标), eligibility computed from
//! the records, self-evaluation, expert scoring with recusal (回避), committee adjustment, 公示,
//! review (复核) by a recorded majority vote, and the final grade with five-year validity.
//!
//! This file holds the types and the pure rules; `store.rs` the queries, `pages.rs` the pages,
//! `demo.rs` the demo's 2013 and 2014 rounds.

pub mod demo;
pub mod pages;
pub mod participants;
pub mod store;

use crate::error::FieldErrors;
use crate::i18n::Msg;
use crate::inspection::ReportResult;
use crate::registry::{Grade, OrgKind, OrgStatus};
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;

/// Database id of an evaluation round (评估活动).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoundId(pub i64);

/// Database id of an evaluation application (评估申请).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApplicationId(pub i64);

impl From<RoundId> for crate::db::Arg {
    fn from(id: RoundId) -> Self {
        crate::db::Arg::Int(id.0)
    }
}

impl From<ApplicationId> for crate::db::Arg {
    fn from(id: ApplicationId) -> Self {
        crate::db::Arg::Int(id.0)
    }
}

/// The kinds that are evaluated (community organizations are filed, not graded).
pub const EVALUATED_KINDS: [OrgKind; 3] = [
    OrgKind::SocialGroup,
    OrgKind::PrivateNonEnterprise,
    OrgKind::Foundation,
];

/// Years a grade stays valid (39号令 Art. 28).
pub const VALIDITY_YEARS: i32 = 5;

/// Years after leaving an organization during which an expert may not evaluate it (Art. 19).
pub const RECUSAL_YEARS: i32 = 2;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationState {
    /// 已申请: filed with its self-evaluation, waiting for experts.
    Applied,
    /// 评估中: experts assigned and scoring.
    Scoring,
    /// 拟定等级: the committee proposed a grade; 公示 not yet started.
    Proposed,
    /// 公示中.
    Publicity,
    /// 已终评: the grade (or none) is final.
    Final,
}

impl ApplicationState {
    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationState::Applied => "applied",
            ApplicationState::Scoring => "scoring",
            ApplicationState::Proposed => "proposed",
            ApplicationState::Publicity => "publicity",
            ApplicationState::Final => "final",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<ApplicationState> {
        [
            ApplicationState::Applied,
            ApplicationState::Scoring,
            ApplicationState::Proposed,
            ApplicationState::Publicity,
            ApplicationState::Final,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    /// The catalogue key of its label.
    pub fn label_key(self) -> &'static str {
        match self {
            ApplicationState::Applied => "evaluation.state.applied",
            ApplicationState::Scoring => "evaluation.state.scoring",
            ApplicationState::Proposed => "evaluation.state.proposed",
            ApplicationState::Publicity => "evaluation.state.publicity",
            ApplicationState::Final => "evaluation.state.final",
        }
    }
}

/// Score → grade bands of a round: the lowest total of each grade, best grade first. Stored as
/// data per round because localities differ (DOMAIN §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bands(pub Vec<(Grade, i64)>);

impl Bands {
    /// The shipped default, 安庆/怀宁 on 1,000 points: 5A > 950, 4A 901–950, 3A 851–900,
    /// 2A 801–850, 1A 701–800; 700 or less earns no grade.
    pub fn anqing() -> Bands {
        Bands(vec![
            (Grade::A5, 951),
            (Grade::A4, 901),
            (Grade::A3, 851),
            (Grade::A2, 801),
            (Grade::A1, 701),
        ])
    }

    /// The grade a total earns, if any.
    pub fn grade_for(&self, total: i64) -> Option<Grade> {
        self.0
            .iter()
            .find(|(_, min)| total >= *min)
            .map(|(g, _)| *g)
    }

    /// The lowest total of `grade`.
    pub fn min_of(&self, grade: Grade) -> Option<i64> {
        self.0.iter().find(|(g, _)| *g == grade).map(|(_, m)| *m)
    }

    /// The stored text, e.g. `5A:951,4A:901,…`.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|(g, m)| format!("{}:{m}", g.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Parses the stored text (a malformed entry is skipped rather than failing a page).
    pub fn from_text(s: &str) -> Bands {
        Bands(
            s.split(',')
                .filter_map(|part| {
                    let (g, m) = part.split_once(':')?;
                    Some((Grade::parse(g)?, m.trim().parse().ok()?))
                })
                .collect(),
        )
    }
}

/// The five grades, best first (the order bands are written in).
pub const GRADES_DESC: [Grade; 5] = [Grade::A5, Grade::A4, Grade::A3, Grade::A2, Grade::A1];

/// The last day a grade decided on `decided_on` is valid: five years, less a day.
pub fn grade_expiry(decided_on: NaiveDate) -> NaiveDate {
    decided_on
        .with_year(decided_on.year() + VALIDITY_YEARS)
        .unwrap_or_else(|| decided_on + chrono::Duration::days(365 * 5 + 1))
        .pred_opt()
        .unwrap_or(decided_on)
}

/// The grade to show on `today`: none once it has expired.
pub fn shown_grade(
    grade: Option<&str>,
    expires_on: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<Grade> {
    let grade = grade.and_then(Grade::parse)?;
    match expires_on {
        Some(last) if last < today => None,
        _ => Some(grade),
    }
}

/// A report year as the eligibility rules see it (from `annual_reports`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFact {
    /// No submitted or reviewed report for the year (a missed inspection).
    Missing,
    /// Submitted, not yet reviewed.
    Pending,
    /// Reviewed with this result (`pass`, `basic_pass`, `fail`).
    Reviewed(ReportResult),
}

impl ReportFact {
    /// From a report's state and result columns (`None` when there is no row).
    pub fn of(row: Option<(&str, Option<&str>)>) -> ReportFact {
        match row {
            Some(("reviewed", Some(result))) => match ReportResult::parse(result) {
                Some(r) => ReportFact::Reviewed(r),
                None => ReportFact::Pending,
            },
            Some(("submitted" | "reviewed", _)) => ReportFact::Pending,
            _ => ReportFact::Missing,
        }
    }
}

/// What the eligibility rules read from the records about one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityFacts {
    /// Kind.
    pub kind: OrgKind,
    /// Registration status.
    pub status: OrgStatus,
    /// 登记日期.
    pub registered_on: Option<NaiveDate>,
    /// Current grade and its last valid day.
    pub grade: Option<(String, Option<NaiveDate>)>,
    /// The report for the year before the round.
    pub last_year: ReportFact,
    /// The report for two years before the round.
    pub year_before: ReportFact,
    /// On the abnormal or serious list now (a listing not removed).
    pub listed: bool,
}

/// Checks DOMAIN §4's eligibility for a round of `year` covering `kinds`: the first rule
/// broken, as a message naming it.
pub fn check_eligibility(year: i32, kinds: &[OrgKind], f: &EligibilityFacts) -> Result<(), Msg> {
    if !kinds.contains(&f.kind) {
        return Err(Msg::new("evaluation.ineligible.kind")
            .with_key("kind", format!("kind.{}", f.kind.as_str())));
    }
    if f.status != OrgStatus::Active {
        return Err(Msg::new("evaluation.ineligible.status"));
    }
    // Two full years before the start of the round's year.
    let latest = NaiveDate::from_ymd_opt(year - 2, 1, 1).unwrap_or(NaiveDate::MIN);
    match f.registered_on {
        Some(d) if d <= latest => {}
        _ => {
            return Err(Msg::new("evaluation.ineligible.too_young").with("date", latest));
        }
    }
    // A grade that is still valid after the round's year is not up for evaluation yet.
    if let Some((grade, Some(until))) = &f.grade
        && until.year() > year
    {
        return Err(Msg::new("evaluation.ineligible.grade_valid")
            .with("grade", grade)
            .with("date", until));
    }
    match f.last_year {
        ReportFact::Missing => {
            return Err(Msg::new("evaluation.ineligible.missed_report").with("year", year - 1));
        }
        ReportFact::Reviewed(ReportResult::Fail) => {
            return Err(Msg::new("evaluation.ineligible.failed_report").with("year", year - 1));
        }
        _ => {}
    }
    if f.last_year == ReportFact::Reviewed(ReportResult::BasicPass)
        && f.year_before == ReportFact::Reviewed(ReportResult::BasicPass)
    {
        return Err(Msg::new("evaluation.ineligible.basic_pass_twice")
            .with("first", year - 2)
            .with("second", year - 1));
    }
    if f.listed {
        return Err(Msg::new("evaluation.ineligible.listed"));
    }
    Ok(())
}

/// True when an employment ended (or not) recently enough that the expert must recuse: still
/// there, or left less than two years before `today`.
pub fn employment_requires_recusal(ended_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    match ended_on {
        None => true,
        Some(end) => {
            let limit = end
                .with_year(end.year() + RECUSAL_YEARS)
                .unwrap_or(end + chrono::Duration::days(731));
            today < limit
        }
    }
}

/// A 复核 succeeds when more than half of **all** committee members vote to change the grade
/// (Art. 22): absent members count against.
pub fn review_changes_grade(change_votes: usize, members: usize) -> bool {
    members > 0 && change_votes * 2 > members
}

/// One indicator of a template as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorNode {
    /// Id.
    pub id: i64,
    /// Parent id (none for a first-level indicator).
    pub parent_id: Option<i64>,
    /// Name.
    pub name: String,
    /// 标准分.
    pub max_points: i64,
    /// 加分项.
    pub bonus: bool,
}

/// Deepest indicator level (一级 … 四级指标).
pub const MAX_DEPTH: usize = 4;

/// Checks a template's tree: the non-bonus first-level maxima sum to `total`, each parent's
/// children sum to the parent's maximum, no indicator is deeper than four levels, names are
/// given and maxima positive. The first rule broken, naming the indicator.
pub fn check_tree(nodes: &[IndicatorNode], total: i64) -> Result<(), Msg> {
    for n in nodes {
        if n.name.trim().is_empty() {
            return Err(Msg::new("evaluation.error.indicator_name"));
        }
        if n.max_points <= 0 {
            return Err(Msg::new("evaluation.error.indicator_points").with("name", &n.name));
        }
        if depth(nodes, n) > MAX_DEPTH {
            return Err(Msg::new("evaluation.error.indicator_depth").with("name", &n.name));
        }
    }
    let first: i64 = nodes
        .iter()
        .filter(|n| n.parent_id.is_none() && !n.bonus)
        .map(|n| n.max_points)
        .sum();
    if first != total {
        return Err(Msg::new("evaluation.error.tree_total")
            .with("sum", first)
            .with("total", total));
    }
    for parent in nodes {
        let children: Vec<_> = nodes
            .iter()
            .filter(|c| c.parent_id == Some(parent.id))
            .collect();
        let sum: i64 = children.iter().map(|c| c.max_points).sum();
        if !children.is_empty() && sum != parent.max_points {
            return Err(Msg::new("evaluation.error.children_sum")
                .with("name", &parent.name)
                .with("sum", sum)
                .with("max", parent.max_points));
        }
    }
    Ok(())
}

fn depth(nodes: &[IndicatorNode], n: &IndicatorNode) -> usize {
    let mut d = 1;
    let mut parent = n.parent_id;
    while let Some(p) = parent {
        d += 1;
        if d > MAX_DEPTH + 1 {
            break;
        }
        parent = nodes.iter().find(|x| x.id == p).and_then(|x| x.parent_id);
    }
    d
}

/// The leaves of a tree (the indicators that are scored), in tree order.
pub fn leaves(nodes: &[IndicatorNode]) -> Vec<&IndicatorNode> {
    nodes
        .iter()
        .filter(|n| !nodes.iter().any(|c| c.parent_id == Some(n.id)))
        .collect()
}

/// Parses per-leaf scores from a form (`s{id}` fields): each required, a whole number from 0 to
/// the indicator's maximum. Every error names its indicator.
pub fn parse_scores(
    leaves: &[&IndicatorNode],
    form: &HashMap<String, String>,
) -> Result<Vec<(i64, i64)>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for leaf in leaves {
        let raw = form
            .get(&format!("s{}", leaf.id))
            .map(|s| s.trim())
            .unwrap_or("");
        match raw.parse::<i64>() {
            Ok(p) if (0..=leaf.max_points).contains(&p) => out.push((leaf.id, p)),
            Ok(p) if p < 0 => errors.add(
                "scores",
                Msg::new("evaluation.error.score_negative").with("name", &leaf.name),
            ),
            Ok(_) => errors.add(
                "scores",
                Msg::new("evaluation.error.score_above_max")
                    .with("name", &leaf.name)
                    .with("max", leaf.max_points),
            ),
            Err(_) => errors.add(
                "scores",
                Msg::new("evaluation.error.score_missing").with("name", &leaf.name),
            ),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A round as entered on the form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct RoundForm {
    /// 活动名称.
    pub title: String,
    /// 评估年度.
    pub year: String,
    /// Kinds covered (checkboxes, machine names).
    pub social_group: Option<String>,
    /// Private non-enterprise units covered.
    pub private_non_enterprise: Option<String>,
    /// Foundations covered.
    pub foundation: Option<String>,
    /// 申报开始.
    pub apply_from: String,
    /// 申报截止.
    pub apply_until: String,
    /// 公示天数.
    pub publicity_days: String,
    /// Lowest total of 5A … 1A.
    pub min_5a: String,
    /// 4A.
    pub min_4a: String,
    /// 3A.
    pub min_3a: String,
    /// 2A.
    pub min_2a: String,
    /// 1A.
    pub min_1a: String,
    /// 复核委员会 members, one per line.
    pub committee: String,
}

impl RoundForm {
    /// A new round's form with the shipped defaults filled in.
    pub fn defaults(year: i32) -> RoundForm {
        let b = Bands::anqing();
        let m = |g| b.min_of(g).unwrap_or_default().to_string();
        RoundForm {
            title: String::new(),
            year: year.to_string(),
            social_group: Some("on".into()),
            private_non_enterprise: Some("on".into()),
            foundation: Some("on".into()),
            apply_from: format!("{year}-03-01"),
            apply_until: format!("{year}-04-30"),
            publicity_days: "7".into(),
            min_5a: m(Grade::A5),
            min_4a: m(Grade::A4),
            min_3a: m(Grade::A3),
            min_2a: m(Grade::A2),
            min_1a: m(Grade::A1),
            committee: String::new(),
        }
    }

    /// Checks the form: every field error at once.
    pub fn parse(&self) -> Result<RoundDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let title = e.required_text("title", &self.title, 200);
        let year = match self.year.trim().parse::<i32>() {
            Ok(y) if (2011..=2100).contains(&y) => y,
            _ => {
                e.add("year", Msg::new("evaluation.error.year"));
                0
            }
        };
        let mut kinds = Vec::new();
        for (on, kind) in [
            (&self.social_group, OrgKind::SocialGroup),
            (&self.private_non_enterprise, OrgKind::PrivateNonEnterprise),
            (&self.foundation, OrgKind::Foundation),
        ] {
            if on.is_some() {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            e.add("kinds", Msg::new("evaluation.error.kinds"));
        }
        let date = |e: &mut FieldErrors, field: &'static str, v: &str| {
            NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .map_err(|_| e.add(field, Msg::new("error.field.date")))
                .ok()
        };
        let apply_from = date(&mut e, "apply_from", &self.apply_from);
        let apply_until = date(&mut e, "apply_until", &self.apply_until);
        if let (Some(a), Some(b)) = (apply_from, apply_until)
            && b < a
        {
            e.add("apply_until", Msg::new("evaluation.error.window"));
        }
        let publicity_days = match self.publicity_days.trim().parse::<i64>() {
            Ok(d) if (5..=30).contains(&d) => d,
            _ => {
                e.add(
                    "publicity_days",
                    Msg::new("evaluation.error.publicity_days"),
                );
                0
            }
        };
        let mut bands = Vec::new();
        let mut previous = i64::MAX;
        for (grade, field, raw) in [
            (Grade::A5, "min_5a", &self.min_5a),
            (Grade::A4, "min_4a", &self.min_4a),
            (Grade::A3, "min_3a", &self.min_3a),
            (Grade::A2, "min_2a", &self.min_2a),
            (Grade::A1, "min_1a", &self.min_1a),
        ] {
            match raw.trim().parse::<i64>() {
                Ok(m) if (1..=1000).contains(&m) && m < previous => {
                    bands.push((grade, m));
                    previous = m;
                }
                _ => e.add(field, Msg::new("evaluation.error.band")),
            }
        }
        let committee: Vec<String> = self
            .committee
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if committee.len() < 3 || committee.iter().any(|m| m.chars().count() > 50) {
            e.add("committee", Msg::new("evaluation.error.committee"));
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(RoundDraft {
            title,
            year,
            kinds,
            apply_from: apply_from.unwrap_or_default(),
            apply_until: apply_until.unwrap_or_default(),
            publicity_days,
            bands: Bands(bands),
            committee,
        })
    }
}

/// A checked round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundDraft {
    /// 活动名称.
    pub title: String,
    /// 评估年度.
    pub year: i32,
    /// Kinds covered.
    pub kinds: Vec<OrgKind>,
    /// First day to apply.
    pub apply_from: NaiveDate,
    /// Last day to apply.
    pub apply_until: NaiveDate,
    /// 公示 length in days.
    pub publicity_days: i64,
    /// Grade bands.
    pub bands: Bands,
    /// 复核委员会 members.
    pub committee: Vec<String>,
}

/// One indicator of a shipped default template.
pub struct DefaultIndicator {
    /// Name.
    pub name: &'static str,
    /// 标准分.
    pub max: i64,
    /// 加分项.
    pub bonus: bool,
    /// Sub-indicators.
    pub children: &'static [DefaultIndicator],
}

const fn leaf(name: &'static str, max: i64) -> DefaultIndicator {
    DefaultIndicator {
        name,
        max,
        bonus: false,
        children: &[],
    }
}

const fn node(
    name: &'static str,
    max: i64,
    children: &'static [DefaultIndicator],
) -> DefaultIndicator {
    DefaultIndicator {
        name,
        max,
        bonus: false,
        children,
    }
}

const BASIC: DefaultIndicator = node(
    "基础条件",
    100,
    &[
        node(
            "法人资格",
            40,
            &[
                leaf("登记备案与章程核准", 20),
                leaf("年度检查与年度报告", 20),
            ],
        ),
        node(
            "办公条件",
            30,
            &[leaf("办公场所", 15), leaf("专职工作人员", 15)],
        ),
        node("名称与标识使用", 30, &[leaf("名称、印章与证书管理", 30)]),
    ],
);

const GOVERNANCE: DefaultIndicator = node(
    "内部治理",
    350,
    &[
        node(
            "组织机构",
            100,
            &[
                leaf("会员（代表）大会或理事会运作", 40),
                leaf("监事（会）与民主决策", 30),
                leaf("分支与代表机构管理", 30),
            ],
        ),
        node(
            "党建工作",
            80,
            &[leaf("党组织建设", 50), leaf("党建活动与作用发挥", 30)],
        ),
        node(
            "人力资源",
            70,
            &[leaf("人事与薪酬制度", 40), leaf("培训与志愿者管理", 30)],
        ),
        node(
            "财务与资产管理",
            100,
            &[leaf("会计制度与核算", 50), leaf("资产与票据管理", 50)],
        ),
    ],
);

const SOCIAL_EVALUATION: DefaultIndicator = node(
    "社会评价",
    200,
    &[
        node(
            "内部评价",
            100,
            &[leaf("会员或服务对象满意度", 60), leaf("工作人员评价", 40)],
        ),
        node(
            "外部评价",
            100,
            &[
                leaf("主管单位与登记机关评价", 50),
                leaf("媒体报道与表彰奖励", 50),
            ],
        ),
    ],
);

const BONUS: DefaultIndicator = DefaultIndicator {
    name: "加分项",
    max: 30,
    bonus: true,
    children: &[leaf("创新与特色工作", 30)],
};

/// The shipped template of `kind` (1,000 points and a 30-point bonus): DOMAIN §4's first level
/// (工作绩效 for social groups and foundations, 业务活动和诚信建设 for private non-enterprise
/// units); the lower levels follow the 苏州/福建 sheets in outline.
pub fn default_template(kind: OrgKind) -> [&'static DefaultIndicator; 5] {
    const GROUP_WORK: DefaultIndicator = node(
        "工作绩效",
        350,
        &[
            node(
                "提供服务",
                150,
                &[leaf("会员服务", 80), leaf("社会服务与公益活动", 70)],
            ),
            node(
                "反映诉求与行业自律",
                100,
                &[
                    leaf("参与政策制定与反映诉求", 50),
                    leaf("行业自律与诚信", 50),
                ],
            ),
            node(
                "信息公开与宣传",
                100,
                &[leaf("信息公开", 60), leaf("宣传与品牌", 40)],
            ),
        ],
    );
    const FOUNDATION_WORK: DefaultIndicator = node(
        "工作绩效",
        350,
        &[
            node(
                "公益项目",
                150,
                &[leaf("项目设计与管理", 80), leaf("资助与执行成效", 70)],
            ),
            node(
                "募捐与资金使用",
                100,
                &[leaf("募捐合规", 50), leaf("公益支出比例", 50)],
            ),
            node(
                "信息公开与宣传",
                100,
                &[leaf("信息公开", 60), leaf("宣传与品牌", 40)],
            ),
        ],
    );
    const UNIT_WORK: DefaultIndicator = node(
        "业务活动和诚信建设",
        350,
        &[
            node(
                "业务活动",
                150,
                &[leaf("服务项目与规模", 80), leaf("服务质量与安全", 70)],
            ),
            node(
                "诚信建设",
                100,
                &[leaf("诚信制度与承诺", 50), leaf("收费公示与合同管理", 50)],
            ),
            node(
                "信息公开与宣传",
                100,
                &[leaf("信息公开", 60), leaf("宣传与品牌", 40)],
            ),
        ],
    );
    let work = match kind {
        OrgKind::PrivateNonEnterprise => &UNIT_WORK,
        OrgKind::Foundation => &FOUNDATION_WORK,
        _ => &GROUP_WORK,
    };
    [&BASIC, &GOVERNANCE, work, &SOCIAL_EVALUATION, &BONUS]
}

/// The total scale of the shipped templates.
pub const DEFAULT_TOTAL: i64 = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn bands_map_totals_to_grades() {
        let b = Bands::anqing();
        assert_eq!(b.grade_for(1000), Some(Grade::A5));
        assert_eq!(b.grade_for(951), Some(Grade::A5));
        assert_eq!(b.grade_for(950), Some(Grade::A4));
        assert_eq!(b.grade_for(851), Some(Grade::A3));
        assert_eq!(b.grade_for(801), Some(Grade::A2));
        assert_eq!(b.grade_for(701), Some(Grade::A1));
        assert_eq!(b.grade_for(700), None);
        assert_eq!(Bands::from_text(&b.to_text()), b);
    }

    #[test]
    fn validity_and_display() {
        assert_eq!(grade_expiry(d(2014, 3, 1)), d(2019, 2, 28));
        assert_eq!(
            shown_grade(Some("3A"), Some(d(2019, 2, 28)), d(2019, 2, 28)),
            Some(Grade::A3)
        );
        assert_eq!(
            shown_grade(Some("3A"), Some(d(2019, 2, 28)), d(2019, 3, 1)),
            None
        );
    }

    fn facts() -> EligibilityFacts {
        EligibilityFacts {
            kind: OrgKind::SocialGroup,
            status: OrgStatus::Active,
            registered_on: Some(d(2010, 5, 1)),
            grade: None,
            last_year: ReportFact::Reviewed(ReportResult::Pass),
            year_before: ReportFact::Reviewed(ReportResult::BasicPass),
            listed: false,
        }
    }

    #[test]
    fn eligibility_rules_each_refuse_with_their_reason() {
        let kinds = EVALUATED_KINDS;
        assert_eq!(check_eligibility(2013, &kinds, &facts()), Ok(()));
        let key = |f: EligibilityFacts| check_eligibility(2013, &kinds, &f).unwrap_err().key;
        let mut f = facts();
        f.registered_on = Some(d(2011, 1, 2));
        assert_eq!(key(f), "evaluation.ineligible.too_young");
        let mut f = facts();
        f.registered_on = Some(d(2011, 1, 1));
        assert_eq!(check_eligibility(2013, &kinds, &f), Ok(()));
        let mut f = facts();
        f.last_year = ReportFact::Missing;
        assert_eq!(key(f), "evaluation.ineligible.missed_report");
        let mut f = facts();
        f.last_year = ReportFact::Reviewed(ReportResult::Fail);
        assert_eq!(key(f), "evaluation.ineligible.failed_report");
        let mut f = facts();
        f.last_year = ReportFact::Reviewed(ReportResult::BasicPass);
        assert_eq!(key(f), "evaluation.ineligible.basic_pass_twice");
        let mut f = facts();
        f.listed = true;
        assert_eq!(key(f), "evaluation.ineligible.listed");
        let mut f = facts();
        f.grade = Some(("3A".into(), Some(d(2016, 2, 28))));
        assert_eq!(key(f), "evaluation.ineligible.grade_valid");
        let mut f = facts();
        f.grade = Some(("3A".into(), Some(d(2013, 6, 30))));
        assert_eq!(check_eligibility(2013, &kinds, &f), Ok(()));
        let mut f = facts();
        f.kind = OrgKind::Community;
        assert_eq!(key(f), "evaluation.ineligible.kind");
        let mut f = facts();
        f.status = OrgStatus::Abnormal;
        assert_eq!(key(f), "evaluation.ineligible.status");
    }

    #[test]
    fn recusal_and_votes() {
        assert!(employment_requires_recusal(None, d(2014, 1, 1)));
        assert!(employment_requires_recusal(
            Some(d(2012, 6, 1)),
            d(2014, 5, 31)
        ));
        assert!(!employment_requires_recusal(
            Some(d(2012, 6, 1)),
            d(2014, 6, 1)
        ));
        assert!(review_changes_grade(3, 5));
        assert!(!review_changes_grade(2, 5), "absent members count against");
        assert!(!review_changes_grade(2, 4), "a tie keeps the grade");
        assert!(!review_changes_grade(0, 0));
    }

    fn to_nodes(kind: OrgKind) -> Vec<IndicatorNode> {
        fn walk(out: &mut Vec<IndicatorNode>, parent: Option<i64>, d: &DefaultIndicator) {
            let id = out.len() as i64 + 1;
            out.push(IndicatorNode {
                id,
                parent_id: parent,
                name: d.name.into(),
                max_points: d.max,
                bonus: d.bonus,
            });
            for c in d.children {
                walk(out, Some(id), c);
            }
        }
        let mut out = Vec::new();
        for d in default_template(kind) {
            walk(&mut out, None, d);
        }
        out
    }

    #[test]
    fn shipped_templates_are_consistent() {
        for kind in EVALUATED_KINDS {
            let nodes = to_nodes(kind);
            assert_eq!(check_tree(&nodes, DEFAULT_TOTAL), Ok(()), "{kind:?}");
            assert!(leaves(&nodes).len() > 15);
        }
        let unit = to_nodes(OrgKind::PrivateNonEnterprise);
        assert!(unit.iter().any(|n| n.name == "业务活动和诚信建设"));
        let mut broken = to_nodes(OrgKind::SocialGroup);
        broken[2].max_points += 5;
        assert_eq!(
            check_tree(&broken, DEFAULT_TOTAL).unwrap_err().key,
            "evaluation.error.children_sum"
        );
        let mut broken = to_nodes(OrgKind::SocialGroup);
        broken[0].max_points = 120;
        assert!(check_tree(&broken, DEFAULT_TOTAL).is_err());
    }

    #[test]
    fn scores_are_checked_against_each_maximum() {
        let nodes = to_nodes(OrgKind::SocialGroup);
        let leaves = leaves(&nodes);
        let mut form: HashMap<String, String> = leaves
            .iter()
            .map(|l| (format!("s{}", l.id), l.max_points.to_string()))
            .collect();
        let ok = parse_scores(&leaves, &form).unwrap();
        assert_eq!(ok.iter().map(|(_, p)| p).sum::<i64>(), 1030);
        form.insert(format!("s{}", leaves[0].id), "21".into());
        form.insert(format!("s{}", leaves[1].id), "-1".into());
        let e = parse_scores(&leaves, &form).unwrap_err();
        assert_eq!(e.0.len(), 2);
        assert_eq!(e.0[0].1.key, "evaluation.error.score_above_max");
        assert_eq!(e.0[1].1.key, "evaluation.error.score_negative");
    }

    #[test]
    fn round_form_checks_every_field() {
        let mut f = RoundForm::defaults(2014);
        f.title = "2014年度社会组织评估".into();
        f.committee = "甲\n乙\n丙".into();
        let r = f.parse().unwrap();
        assert_eq!(r.bands, Bands::anqing());
        assert_eq!(r.kinds.len(), 3);
        f.min_4a = "960".into();
        f.publicity_days = "2".into();
        f.committee = "甲".into();
        let e = f.parse().unwrap_err();
        assert!(e.get("min_4a").is_some());
        assert!(e.get("publicity_days").is_some());
        assert!(e.get("committee").is_some());
    }
}
