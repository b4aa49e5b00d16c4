//! Annual reports (年度工作报告) and their inspection results (年检结论), the compliance
//! calendar (who must report for which year, by when, and how they did), and the credit lists
//! (活动异常名录, 严重违法失信名单): DOMAIN §3 and §5.
//!
//! The rules that vary by place (deadlines, who must report, listing periods) are settings;
//! "today" is the business date of [`crate::clock`].

pub mod credit;
pub mod demo;
pub mod pages;
pub mod store;

use crate::error::FieldErrors;
use crate::i18n::{Lang, Msg};
use crate::registry::{OrgKind, OrgStatus, labelled_enum, parse_yuan};
use chrono::{Datelike, NaiveDate};

labelled_enum!(
    /// Inspection result (年检结论).
    ReportResult, "inspection.result", {
        /// 合格.
        Pass = "pass", "合格";
        /// 基本合格.
        BasicPass = "basic_pass", "基本合格";
        /// 不合格.
        Fail = "fail", "不合格";
    }
);

labelled_enum!(
    /// Where an annual report stands.
    ReportState, "inspection.state", {
        /// 草稿: the organization is writing it.
        Draft = "draft", "草稿";
        /// 已报送: waiting for review.
        Submitted = "submitted", "已报送";
        /// 退回修改: sent back to the organization with reasons.
        Returned = "returned", "退回修改";
        /// 已审核: the result is recorded.
        Reviewed = "reviewed", "已审核";
    }
);

labelled_enum!(
    /// The two credit lists (DOMAIN §5).
    CreditList, "credit.list", {
        /// 活动异常名录.
        Abnormal = "abnormal", "活动异常名录";
        /// 严重违法失信名单.
        Serious = "serious", "严重违法失信名单";
    }
);

labelled_enum!(
    /// Why an organization was listed (民政部令第60号 triggers).
    ListingReason, "credit.reason", {
        /// 未按照规定时限和要求向登记管理机关报送年度工作报告.
        AnnualReportMissing = "annual_report_missing", "未按规定报送年度工作报告";
        /// 未按照有关规定设立党组织.
        NoPartyOrganization = "no_party_organization", "未按规定设立党组织";
        /// 登记管理机关责令整改，拒不整改或者整改不到位.
        RectificationIgnored = "rectification_ignored", "未按要求整改";
        /// 具有公开募捐资格的慈善组织不再符合条件或连续6个月未开展募捐.
        FundraisingLapsed = "fundraising_lapsed", "公开募捐资格不再符合";
        /// 受到警告或者不满5万元罚款处罚.
        MinorPenalty = "minor_penalty", "受到警告或较小数额罚款";
        /// 通过登记的住所无法与社会组织取得联系.
        Unreachable = "unreachable", "通过登记的住所无法取得联系";
        /// 被列入活动异常名录满2年.
        AbnormalTwoYears = "abnormal_two_years", "列入活动异常名录满2年";
        /// 责令停止活动、较大数额罚款或3年内多次处罚.
        SeriousPenalty = "serious_penalty", "受到较重行政处罚";
        /// 被人民法院列为失信被执行人.
        CourtDefaulter = "court_defaulter", "被列为失信被执行人";
        /// 被撤销登记或吊销登记证书.
        Revoked = "revoked", "被撤销登记";
    }
);

impl ListingReason {
    /// The list this reason puts an organization on.
    pub fn list(self) -> CreditList {
        match self {
            ListingReason::AbnormalTwoYears
            | ListingReason::SeriousPenalty
            | ListingReason::CourtDefaulter
            | ListingReason::Revoked => CreditList::Serious,
            _ => CreditList::Abnormal,
        }
    }

    /// Whether the listing ends only once the problem is fixed and verified; the others end by
    /// themselves after the auto-removal period (DOMAIN §5: "if nothing needs fixing").
    pub fn needs_rectification(self) -> bool {
        !matches!(self, ListingReason::MinorPenalty)
    }
}

labelled_enum!(
    /// How a listing ended.
    RemovalReason, "credit.removal", {
        /// 期满自动移出 (abnormal list, nothing to fix, six months).
        Expired = "expired", "期满自动移出";
        /// 整改后移出 (the problem fixed and verified).
        Rectified = "rectified", "整改后移出";
        /// 异议成立.
        ObjectionUpheld = "objection_upheld", "异议成立";
        /// 转入严重违法失信名单.
        Escalated = "escalated", "转入严重违法失信名单";
        /// 已注销.
        Deregistered = "deregistered", "已注销";
        /// 期满申请移出 (serious list, two clean years).
        Served = "served", "期满申请移出";
    }
);

/// How an organization stands with one year's report (报送情况).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filing {
    /// Not required for that year (not registered by the cut-off, a filed community
    /// organization, or no longer registered).
    NotDue,
    /// Required, the deadline not yet passed.
    Due {
        /// Days until the deadline.
        days_left: i64,
    },
    /// Submitted on or before the deadline.
    OnTime,
    /// Submitted this many days after the deadline.
    Late {
        /// Days late.
        days: i64,
    },
    /// Not submitted, the deadline passed this many days ago.
    Overdue {
        /// Days overdue.
        days: i64,
    },
}

impl Filing {
    /// The status from the facts: whether a report was due, its deadline, the day it was
    /// submitted and today.
    pub fn of(
        due: bool,
        deadline: NaiveDate,
        submitted_on: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Filing {
        match (due, submitted_on) {
            (false, _) => Filing::NotDue,
            (true, Some(day)) if day <= deadline => Filing::OnTime,
            (true, Some(day)) => Filing::Late {
                days: (day - deadline).num_days(),
            },
            (true, None) if today <= deadline => Filing::Due {
                days_left: (deadline - today).num_days(),
            },
            (true, None) => Filing::Overdue {
                days: (today - deadline).num_days(),
            },
        }
    }

    /// The machine name (`not_due`, `due`, `on_time`, `late`, `overdue`), for filters.
    pub fn key(self) -> &'static str {
        match self {
            Filing::NotDue => "not_due",
            Filing::Due { .. } => "due",
            Filing::OnTime => "on_time",
            Filing::Late { .. } => "late",
            Filing::Overdue { .. } => "overdue",
        }
    }

    /// The status in words ("逾期 12 天未报送").
    pub fn label(self, lang: Lang) -> String {
        match self {
            Filing::Due { days_left } => lang.tf("filing.due", &[("days", &days_left.to_string())]),
            Filing::Late { days } => lang.tf("filing.late", &[("days", &days.to_string())]),
            Filing::Overdue { days } => lang.tf("filing.overdue", &[("days", &days.to_string())]),
            other => lang.t(&format!("filing.{}", other.key())).to_owned(),
        }
    }

    /// Every machine name, for filter choices.
    pub const KEYS: [&'static str; 5] = ["not_due", "due", "on_time", "late", "overdue"];
}

/// The local rules in force (settings), read once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Social groups and private non-enterprise units: to the registration authority by
    /// (month, day) of the following year.
    pub registrar_deadline: (u32, u32),
    /// Foundations: by (month, day) of the following year.
    pub foundation_deadline: (u32, u32),
    /// Who must report for a year: registered on or before (month, day) of that year.
    pub cutoff: (u32, u32),
    /// An abnormal listing with nothing to fix ends after this many months.
    pub auto_removal_months: u32,
    /// This many months on the abnormal list lead to the serious list.
    pub serious_after_months: u32,
    /// This many months on the serious list before removal may be asked for.
    pub serious_removal_months: u32,
}

impl Default for Rules {
    /// The shipped defaults (DOMAIN §3, §5).
    fn default() -> Self {
        Rules {
            registrar_deadline: (5, 31),
            foundation_deadline: (3, 31),
            cutoff: (12, 31),
            auto_removal_months: 6,
            serious_after_months: 24,
            serious_removal_months: 24,
        }
    }
}

fn month_day(text: &str) -> Option<(u32, u32)> {
    let (m, d) = text.split_once('-')?;
    Some((m.parse().ok()?, d.parse().ok()?))
}

/// `(month, day)` in `year`, or the month's last day when the day does not exist (02-29).
fn on(year: i32, (month, day): (u32, u32)) -> NaiveDate {
    (0..4)
        .find_map(|back| NaiveDate::from_ymd_opt(year, month, day.saturating_sub(back)))
        .unwrap_or(NaiveDate::MIN)
}

/// `date` plus `months` calendar months (clamped to the month's end).
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(chrono::Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

impl Rules {
    /// The rules as the settings give them today (one read of the six settings).
    pub async fn load(conn: &mut crate::db::Conn<'_>) -> crate::error::Result<Rules> {
        let d = Rules::default();
        let values = crate::settings::store::current_many(
            conn,
            &[
                "annual_report_registrar_deadline",
                "annual_report_foundation_deadline",
                "annual_report_cutoff",
                "abnormal_auto_removal_months",
                "serious_listing_after_months",
                "serious_removal_after_months",
            ],
        )
        .await?;
        let md = |i: usize, fallback| month_day(&values[i]).unwrap_or(fallback);
        let months = |i: usize, fallback| values[i].parse().unwrap_or(fallback);
        Ok(Rules {
            registrar_deadline: md(0, d.registrar_deadline),
            foundation_deadline: md(1, d.foundation_deadline),
            cutoff: md(2, d.cutoff),
            auto_removal_months: months(3, d.auto_removal_months),
            serious_after_months: months(4, d.serious_after_months),
            serious_removal_months: months(5, d.serious_removal_months),
        })
    }

    /// The last day to file the report for `year`.
    pub fn deadline(&self, kind: OrgKind, year: i32) -> NaiveDate {
        let day = if kind == OrgKind::Foundation {
            self.foundation_deadline
        } else {
            self.registrar_deadline
        };
        on(year + 1, day)
    }

    /// Whether an organization must report for `year`: a registered kind (filed community
    /// organizations report to their street, not here), registered by the cut-off of that
    /// year, and still registered (preparing, deregistered and revoked organizations do not).
    pub fn is_due(
        &self,
        kind: OrgKind,
        status: OrgStatus,
        registered_on: Option<NaiveDate>,
        year: i32,
    ) -> bool {
        kind.is_registered()
            && matches!(status, OrgStatus::Active | OrgStatus::Abnormal)
            && registered_on.is_some_and(|d| d <= self.registered_by(year))
    }

    /// The last registration date that makes an organization report for `year`.
    pub fn registered_by(&self, year: i32) -> NaiveDate {
        on(year, self.cutoff)
    }

    /// The report years whose deadline has passed by `today`, newest first, `back` of them.
    pub fn closed_years(&self, today: NaiveDate, back: i32) -> Vec<i32> {
        (today.year() - back..today.year())
            .rev()
            .filter(|&y| on(y + 1, self.registrar_deadline) < today)
            .collect()
    }
}

/// The annual report as typed into the form: money in yuan, counts and texts as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ReportForm {
    /// 捐赠收入 (yuan).
    pub income_donations: String,
    /// 政府补助及购买服务收入.
    pub income_government: String,
    /// 提供服务收入.
    pub income_services: String,
    /// 会费收入.
    pub income_dues: String,
    /// 其他收入.
    pub income_other: String,
    /// 公益事业支出 / 业务活动成本.
    pub expenditure_programmes: String,
    /// 费用总额.
    pub expenditure_total: String,
    /// 资产总额.
    pub assets: String,
    /// 负债总额.
    pub liabilities: String,
    /// 专职工作人员.
    pub staff: String,
    /// 会员 (social groups) or 理事 (others).
    pub members: String,
    /// 志愿者.
    pub volunteers: String,
    /// 党员.
    pub party_members: String,
    /// 开展业务活动情况.
    pub activities: String,
    /// 负责人、理事会及工作人员变动.
    pub officers: String,
    /// 登记事项变更情况.
    pub changes: String,
    /// 接受捐赠与开展资助.
    pub donations_and_grants: String,
    /// 获得表彰及评估情况.
    pub awards: String,
    /// 党建工作情况.
    pub party_building: String,
    /// 整改报告 (required after a basic pass, a fail or a missed year).
    pub rectification: String,
}

/// A checked annual report: money in fen, totals computed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// 捐赠收入.
    pub income_donations_fen: i64,
    /// 政府补助及购买服务收入.
    pub income_government_fen: i64,
    /// 提供服务收入.
    pub income_services_fen: i64,
    /// 会费收入.
    pub income_dues_fen: i64,
    /// 其他收入.
    pub income_other_fen: i64,
    /// 收入合计 (the sum of the sources).
    pub income_total_fen: i64,
    /// 公益事业支出.
    pub expenditure_programmes_fen: i64,
    /// 费用总额.
    pub expenditure_total_fen: i64,
    /// 资产总额.
    pub assets_fen: i64,
    /// 负债总额.
    pub liabilities_fen: i64,
    /// 净资产 (assets − liabilities; may be negative, which the reviewer sees).
    pub net_assets_fen: i64,
    /// 专职工作人员.
    pub staff: i64,
    /// 会员／理事.
    pub members: i64,
    /// 志愿者.
    pub volunteers: i64,
    /// 党员.
    pub party_members: i64,
    /// 开展业务活动情况.
    pub activities: String,
    /// 人员变动.
    pub officers: String,
    /// 登记事项变更.
    pub changes: String,
    /// 捐赠与资助.
    pub donations_and_grants: String,
    /// 表彰与评估.
    pub awards: String,
    /// 党建工作.
    pub party_building: String,
    /// 整改报告.
    pub rectification: String,
}

/// Longest narrative section, in characters.
const MAX_TEXT: usize = 5000;

impl ReportForm {
    /// Checks the form; `rectification_required` when last year's result (or a missed year)
    /// calls for a rectification report. Every problem is named by its field.
    pub fn parse(&self, rectification_required: bool) -> Result<Report, FieldErrors> {
        let mut e = FieldErrors::new();
        let mut money = |field: &'static str, text: &str| -> i64 {
            match text.trim() {
                "" => 0,
                t => parse_yuan(t).unwrap_or_else(|| {
                    // parse_yuan takes no sign: a minus is the usual mistake, say so.
                    let msg = if t.starts_with('-') {
                        "inspection.error.negative"
                    } else {
                        "error.field.money"
                    };
                    e.add(field, Msg::new(msg));
                    0
                }),
            }
        };
        let income_donations_fen = money("income_donations", &self.income_donations);
        let income_government_fen = money("income_government", &self.income_government);
        let income_services_fen = money("income_services", &self.income_services);
        let income_dues_fen = money("income_dues", &self.income_dues);
        let income_other_fen = money("income_other", &self.income_other);
        let expenditure_programmes_fen =
            money("expenditure_programmes", &self.expenditure_programmes);
        let expenditure_total_fen = money("expenditure_total", &self.expenditure_total);
        let assets_fen = money("assets", &self.assets);
        let liabilities_fen = money("liabilities", &self.liabilities);
        if expenditure_programmes_fen > expenditure_total_fen {
            e.add(
                "expenditure_programmes",
                Msg::new("inspection.error.programmes_over_total"),
            );
        }
        let mut count = |field: &'static str, text: &str| -> i64 {
            match text.trim() {
                "" => 0,
                t => match t.parse::<i64>() {
                    Ok(n) if (0..=100_000_000).contains(&n) => n,
                    _ => {
                        e.add(field, Msg::new("error.field.count"));
                        0
                    }
                },
            }
        };
        let staff = count("staff", &self.staff);
        let members = count("members", &self.members);
        let volunteers = count("volunteers", &self.volunteers);
        let party_members = count("party_members", &self.party_members);
        let mut text = |field: &'static str, value: &str, required: bool| -> String {
            let v = value.trim();
            if required && v.is_empty() {
                e.add(field, Msg::new("error.field.required"));
            } else if v.chars().count() > MAX_TEXT {
                e.add(
                    field,
                    Msg::new("error.field.too_long").with("max", MAX_TEXT),
                );
            }
            v.to_owned()
        };
        let report = Report {
            activities: text("activities", &self.activities, true),
            officers: text("officers", &self.officers, false),
            changes: text("changes", &self.changes, false),
            donations_and_grants: text("donations_and_grants", &self.donations_and_grants, false),
            awards: text("awards", &self.awards, false),
            party_building: text("party_building", &self.party_building, true),
            rectification: text("rectification", &self.rectification, rectification_required),
            income_total_fen: income_donations_fen
                + income_government_fen
                + income_services_fen
                + income_dues_fen
                + income_other_fen,
            income_donations_fen,
            income_government_fen,
            income_services_fen,
            income_dues_fen,
            income_other_fen,
            expenditure_programmes_fen,
            expenditure_total_fen,
            net_assets_fen: assets_fen - liabilities_fen,
            assets_fen,
            liabilities_fen,
            staff,
            members,
            volunteers,
            party_members,
        };
        if e.is_empty() { Ok(report) } else { Err(e) }
    }

    /// The form showing a stored report (amounts back in yuan).
    pub fn of(row: &store::ReportRow) -> ReportForm {
        let y = crate::web::yuan;
        ReportForm {
            income_donations: y(row.income_donations_fen),
            income_government: y(row.income_government_fen),
            income_services: y(row.income_services_fen),
            income_dues: y(row.income_dues_fen),
            income_other: y(row.income_other_fen),
            expenditure_programmes: y(row.expenditure_programmes_fen),
            expenditure_total: y(row.expenditure_total_fen),
            assets: y(row.assets_fen),
            liabilities: y(row.liabilities_fen),
            staff: row.staff.to_string(),
            members: row.members.to_string(),
            volunteers: row.volunteers.to_string(),
            party_members: row.party_members.to_string(),
            activities: row.activities.clone(),
            officers: row.officers.clone(),
            changes: row.changes.clone(),
            donations_and_grants: row.donations_and_grants.clone(),
            awards: row.awards.clone(),
            party_building: row.party_building.clone(),
            rectification: row.rectification.clone(),
        }
    }
}

/// Whether last year's outcome calls for a rectification report with this year's: a basic
/// pass, a fail, or a year that was due and never filed (DOMAIN §3 "Follow-up").
pub fn needs_rectification(
    last_year_due: bool,
    last_year: Option<(ReportState, Option<ReportResult>)>,
) -> bool {
    match last_year {
        Some((_, Some(ReportResult::BasicPass | ReportResult::Fail))) => true,
        Some((ReportState::Submitted | ReportState::Reviewed, _)) => false,
        _ => last_year_due,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn filing_status_from_the_dates() {
        let deadline = day("2015-05-31");
        assert_eq!(
            Filing::of(false, deadline, None, day("2016-01-01")),
            Filing::NotDue
        );
        assert_eq!(
            Filing::of(true, deadline, None, day("2015-05-21")),
            Filing::Due { days_left: 10 }
        );
        assert_eq!(
            Filing::of(true, deadline, Some(day("2015-05-31")), day("2015-07-01")),
            Filing::OnTime
        );
        assert_eq!(
            Filing::of(true, deadline, Some(day("2015-06-03")), day("2015-07-01")),
            Filing::Late { days: 3 }
        );
        assert_eq!(
            Filing::of(true, deadline, None, day("2015-06-30")),
            Filing::Overdue { days: 30 }
        );
    }

    #[test]
    fn deadlines_and_who_is_due_follow_the_rules() {
        let rules = Rules::default();
        assert_eq!(
            rules.deadline(OrgKind::SocialGroup, 2014),
            day("2015-05-31")
        );
        assert_eq!(rules.deadline(OrgKind::Foundation, 2014), day("2015-03-31"));
        let active = OrgStatus::Active;
        assert!(rules.is_due(OrgKind::SocialGroup, active, Some(day("2014-12-31")), 2014));
        assert!(!rules.is_due(OrgKind::SocialGroup, active, Some(day("2015-01-01")), 2014));
        assert!(!rules.is_due(OrgKind::Community, active, Some(day("2010-01-01")), 2014));
        assert!(!rules.is_due(
            OrgKind::SocialGroup,
            OrgStatus::Deregistered,
            Some(day("2010-01-01")),
            2014
        ));
        let local = Rules {
            cutoff: (6, 30),
            ..rules
        };
        assert!(!local.is_due(OrgKind::SocialGroup, active, Some(day("2014-07-01")), 2014));
        assert_eq!(
            rules.closed_years(day("2015-06-30"), 3),
            vec![2014, 2013, 2012]
        );
        assert_eq!(rules.closed_years(day("2015-05-31"), 3), vec![2013, 2012]);
        assert_eq!(add_months(day("2013-08-31"), 6), day("2014-02-28"));
    }

    #[test]
    fn a_report_is_checked_field_by_field() {
        let good = ReportForm {
            income_donations: "1,000.50".into(),
            income_services: "200".into(),
            expenditure_programmes: "800".into(),
            expenditure_total: "1000".into(),
            assets: "5000".into(),
            liabilities: "6000".into(),
            activities: "开展助学活动12次".into(),
            party_building: "党员3名，纳入联合党支部".into(),
            ..ReportForm::default()
        };
        let r = good.parse(false).unwrap();
        assert_eq!(r.income_total_fen, 120_050);
        assert_eq!(
            r.net_assets_fen, -100_000,
            "liabilities over assets are reported, not refused"
        );
        let bad = ReportForm {
            assets: "-5000".into(),
            expenditure_programmes: "2000".into(),
            members: "很多".into(),
            ..good.clone()
        };
        let e = bad.parse(true).unwrap_err();
        for field in [
            "assets",
            "expenditure_programmes",
            "members",
            "rectification",
        ] {
            assert!(e.get(field).is_some(), "{field}");
        }
        assert_eq!(e.get("assets").unwrap().key, "inspection.error.negative");
    }

    #[test]
    fn rectification_follows_last_years_outcome() {
        use ReportResult::*;
        use ReportState::*;
        assert!(needs_rectification(true, Some((Reviewed, Some(BasicPass)))));
        assert!(needs_rectification(true, Some((Reviewed, Some(Fail)))));
        assert!(!needs_rectification(true, Some((Reviewed, Some(Pass)))));
        assert!(!needs_rectification(true, Some((Submitted, None))));
        assert!(needs_rectification(true, None), "a missed year");
        assert!(
            needs_rectification(true, Some((Draft, None))),
            "a draft is not a report"
        );
        assert!(!needs_rectification(false, None), "not due last year");
    }
}
