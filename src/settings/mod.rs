//! Installation settings the bureau edits (district name and division code, the party-building
//! allowances, annual-report deadlines), each value with the date it takes effect. Values that
//! DOMAIN.md marks as local or variable live here rather than in code.

pub mod pages;
pub mod store;

use crate::i18n::{Lang, Msg};

/// How a setting's value is written and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// Free text (1–100 characters).
    Text,
    /// A 6-digit division code.
    Division,
    /// A whole number of yuan.
    Yuan,
    /// A day of the year, `MM-DD`.
    MonthDay,
    /// A number of days (1–365).
    Days,
    /// `calendar` or `working`.
    DayCount,
    /// A list of dates, `YYYY-MM-DD`, separated by commas or spaces.
    DateList,
    /// One date, `YYYY-MM-DD`, or empty for none.
    OptionalDate,
    /// A number of months (1–120).
    Months,
    /// A share in percent (0–100).
    Percent,
    /// A count of people or things (1–1000).
    Count,
    /// Ascending whole numbers separated by commas (thresholds such as star levels' hours).
    Thresholds,
}

/// One setting: its key, kind and the value that applies when none was ever set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingDef {
    /// Machine key.
    pub key: &'static str,
    /// How the value is checked.
    pub kind: SettingKind,
    /// The shipped value.
    pub default: &'static str,
}

/// Every setting, in display order.
pub const SETTINGS: &[SettingDef] = &[
    SettingDef {
        key: "district_name",
        kind: SettingKind::Text,
        default: "天津市滨海新区",
    },
    SettingDef {
        key: "division_code",
        kind: SettingKind::Division,
        default: "120116",
    },
    // 每个社会组织党组织每年2000元经费 [S]
    SettingDef {
        key: "party_org_allowance_yuan",
        kind: SettingKind::Yuan,
        default: "2000",
    },
    // 每名党务干部每月200元岗位补贴 [S]
    SettingDef {
        key: "party_cadre_allowance_yuan_month",
        kind: SettingKind::Yuan,
        default: "200",
    },
    // DOMAIN §3: to the supervisory unit by 3/31, to the registration authority by 5/31.
    SettingDef {
        key: "annual_report_supervisor_deadline",
        kind: SettingKind::MonthDay,
        default: "03-31",
    },
    SettingDef {
        key: "annual_report_registrar_deadline",
        kind: SettingKind::MonthDay,
        default: "05-31",
    },
    // Foundations report straight to the registration authority by 3/31 (DOMAIN §3).
    SettingDef {
        key: "annual_report_foundation_deadline",
        kind: SettingKind::MonthDay,
        default: "03-31",
    },
    // ⚠️ Who must report for a year: registered on or before this day of that year (national:
    // 12-31; some localities 06-30).
    SettingDef {
        key: "annual_report_cutoff",
        kind: SettingKind::MonthDay,
        default: "12-31",
    },
    // DOMAIN §5: an abnormal listing with nothing to fix ends by itself after six months; two
    // full years on the abnormal list lead to the serious list, and two clean years off it.
    SettingDef {
        key: "abnormal_auto_removal_months",
        kind: SettingKind::Months,
        default: "6",
    },
    SettingDef {
        key: "serious_listing_after_months",
        kind: SettingKind::Months,
        default: "24",
    },
    SettingDef {
        key: "serious_removal_after_months",
        kind: SettingKind::Months,
        default: "24",
    },
    // The business date (业务日期) compliance rules treat as today; empty: the real date. The
    // demo stands at 2015-06-30, the seed's moment.
    SettingDef {
        key: "clock_date",
        kind: SettingKind::OptionalDate,
        default: "",
    },
    // DOMAIN §2.3 statutory limits, in calendar days from acceptance (⚠️ local rules vary).
    // Issue 9: a reviewer who held a role in the applicant (or a related organization) within
    // the last two years has a conflict of interest.
    SettingDef {
        key: "conflict_lookback_months",
        kind: SettingKind::Months,
        default: "24",
    },
    SettingDef {
        key: "limit_days_preparation",
        kind: SettingKind::Days,
        default: "60",
    },
    SettingDef {
        key: "limit_days_social_group_establishment",
        kind: SettingKind::Days,
        default: "30",
    },
    SettingDef {
        key: "limit_days_establishment",
        kind: SettingKind::Days,
        default: "60",
    },
    SettingDef {
        key: "limit_days_change",
        kind: SettingKind::Days,
        default: "30",
    },
    SettingDef {
        key: "limit_days_deregistration",
        kind: SettingKind::Days,
        default: "30",
    },
    SettingDef {
        key: "limit_days_filing",
        kind: SettingKind::Days,
        default: "30",
    },
    SettingDef {
        key: "limit_day_count",
        kind: SettingKind::DayCount,
        default: "calendar",
    },
    SettingDef {
        key: "holidays",
        kind: SettingKind::DateList,
        default: "",
    },
    SettingDef {
        key: "makeup_workdays",
        kind: SettingKind::DateList,
        default: "",
    },
    // 30个社会组织配备一名社会工作者 [S]: organizations per social worker in the ratio report.
    SettingDef {
        key: "social_worker_load",
        kind: SettingKind::Count,
        default: "30",
    },
    // Party building (DOMAIN §6): the standardisation assessment's bands, in percent of the
    // template's maximum, and the full members that require a party organization of one's own.
    SettingDef {
        key: "party_assessment_excellent_percent",
        kind: SettingKind::Percent,
        default: "90",
    },
    SettingDef {
        key: "party_assessment_good_percent",
        kind: SettingKind::Percent,
        default: "80",
    },
    SettingDef {
        key: "party_assessment_pass_percent",
        kind: SettingKind::Percent,
        default: "60",
    },
    SettingDef {
        key: "party_org_required_members",
        kind: SettingKind::Count,
        default: "3",
    },
    // DOMAIN §9 ⚠️: verified hours for 1★–5★ volunteers by a 2012-era rule; local practice varies.
    SettingDef {
        key: "volunteer_star_hours",
        kind: SettingKind::Thresholds,
        default: "100,300,600,1000,1500",
    },
    // Donation totals at or above this are disclosed on the organization's public profile.
    SettingDef {
        key: "donation_disclosure_yuan",
        kind: SettingKind::Yuan,
        default: "10000",
    },
];

impl SettingDef {
    /// The definition of `key`.
    pub fn find(key: &str) -> Option<&'static SettingDef> {
        SETTINGS.iter().find(|d| d.key == key)
    }

    /// The setting's name in `lang`.
    pub fn label(&self, lang: Lang) -> &'static str {
        lang.t(&format!("setting.{}", self.key))
    }

    /// Checks and normalises a value.
    pub fn parse(&self, value: &str) -> Result<String, Msg> {
        let v = value.trim();
        match self.kind {
            SettingKind::Text if (1..=100).contains(&v.chars().count()) => Ok(v.to_owned()),
            SettingKind::Text => Err(Msg::new("error.field.too_long").with("max", 100)),
            SettingKind::Division if v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(v.to_owned())
            }
            SettingKind::Division => Err(Msg::new("setting.error.division")),
            SettingKind::Yuan => match v.parse::<i64>() {
                Ok(n) if (0..=100_000_000).contains(&n) => Ok(n.to_string()),
                _ => Err(Msg::new("error.field.count")),
            },
            SettingKind::DayCount if matches!(v, "calendar" | "working") => Ok(v.to_owned()),
            SettingKind::DayCount => Err(Msg::new("setting.error.day_count")),
            SettingKind::DateList => match crate::approvals::Calendar::parse_dates(v) {
                Ok(dates) => Ok(dates
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(",")),
                Err(bad) => Err(Msg::new("setting.error.date_list").with("date", bad)),
            },
            SettingKind::Days => match v.parse::<i64>() {
                Ok(n) if (1..=365).contains(&n) => Ok(n.to_string()),
                _ => Err(Msg::new("setting.error.days")),
            },
            SettingKind::OptionalDate if v.is_empty() => Ok(String::new()),
            SettingKind::OptionalDate => match chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                Ok(d) => Ok(d.to_string()),
                Err(_) => Err(Msg::new("setting.error.date_list").with("date", v)),
            },
            SettingKind::Months => match v.parse::<i64>() {
                Ok(n) if (1..=120).contains(&n) => Ok(n.to_string()),
                _ => Err(Msg::new("setting.error.months")),
            },
            SettingKind::Percent => match v.parse::<i64>() {
                Ok(n) if (0..=100).contains(&n) => Ok(n.to_string()),
                _ => Err(Msg::new("setting.error.percent")),
            },
            SettingKind::Count => match v.parse::<i64>() {
                Ok(n) if (1..=1000).contains(&n) => Ok(n.to_string()),
                _ => Err(Msg::new("setting.error.count")),
            },
            SettingKind::Thresholds => match crate::volunteers::StarLevels::parse(v) {
                Some(levels) => Ok(levels
                    .0
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")),
                None => Err(Msg::new("setting.error.thresholds")),
            },
            SettingKind::MonthDay => {
                let ok = chrono::NaiveDate::parse_from_str(&format!("2024-{v}"), "%Y-%m-%d")
                    .is_ok()
                    && v.len() == 5;
                if ok {
                    Ok(v.to_owned())
                } else {
                    Err(Msg::new("setting.error.month_day"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_by_kind() {
        let d = |k| SettingDef::find(k).unwrap();
        assert_eq!(d("division_code").parse(" 120116 "), Ok("120116".into()));
        assert!(d("division_code").parse("12011").is_err());
        assert_eq!(
            d("party_org_allowance_yuan").parse("2500"),
            Ok("2500".into())
        );
        assert!(d("party_org_allowance_yuan").parse("-1").is_err());
        assert!(
            d("annual_report_registrar_deadline")
                .parse("02-30")
                .is_err()
        );
        assert!(d("annual_report_registrar_deadline").parse("05-31").is_ok());
        assert!(d("district_name").parse("").is_err());
        for def in SETTINGS {
            assert_eq!(
                def.parse(def.default).as_deref(),
                Ok(def.default),
                "{}",
                def.key
            );
        }
    }
}
