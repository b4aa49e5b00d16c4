//! The party-building information database (党建信息数据库, SPEC §3.6, DOMAIN §6): party
//! organizations inside social organizations, their level rules and forms of establishment,
//! party-affairs cadres, instructors, coverage, the funding rule, the activity log and the
//! eight working mechanisms. This file holds the types and the pure rules; no IO.

pub mod assessment;
pub mod assessment_pages;
pub mod coverage;
pub mod demo;
pub mod forms;
pub mod funding;
pub mod pages;
pub mod store;

pub use forms::{
    ActivityForm, CadreForm, InstructorForm, NewActivity, NewCadre, NewInstructor, NewPayment,
    PaymentForm, parse_yuan,
};

use crate::error::FieldErrors;
use crate::i18n::{Lang, Msg};
use chrono::{Datelike, NaiveDate};

/// Database id of a party organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PartyOrgId(pub i64);

impl From<PartyOrgId> for crate::db::Arg {
    fn from(id: PartyOrgId) -> Self {
        crate::db::Arg::Int(id.0)
    }
}

/// Database id of a party-building instructor (党建指导员).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct InstructorId(pub i64);

impl From<InstructorId> for crate::db::Arg {
    fn from(id: InstructorId) -> Self {
        crate::db::Arg::Int(id.0)
    }
}

/// Form of establishment (组建方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// 单独组建: in one organization.
    Independent,
    /// 联合组建: one branch for two to five organizations.
    Joint,
    /// 挂靠／区域组建: attached to an industry department or a locality.
    Affiliated,
    /// 派入式: set up by members sent in from outside.
    Dispatched,
}

impl Form {
    /// Every form, in display order.
    pub const ALL: [Form; 4] = [
        Form::Independent,
        Form::Joint,
        Form::Affiliated,
        Form::Dispatched,
    ];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Independent => "independent",
            Form::Joint => "joint",
            Form::Affiliated => "affiliated",
            Form::Dispatched => "dispatched",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<Form> {
        Form::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }

    /// The name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(&format!("party.form.{}", self.as_str()))
    }

    /// How many organizations a party organization of this form may cover (a regional,
    /// affiliated one has no fixed limit).
    pub fn max_orgs(self) -> Option<usize> {
        match self {
            Form::Independent | Form::Dispatched => Some(1),
            Form::Joint => Some(MAX_JOINT_ORGS),
            Form::Affiliated => None,
        }
    }

    /// The fewest organizations it must cover when recorded.
    pub fn min_orgs(self) -> usize {
        match self {
            Form::Joint => MIN_JOINT_ORGS,
            _ => 1,
        }
    }
}

/// A joint branch covers at least two organizations…
pub const MIN_JOINT_ORGS: usize = 2;
/// …and at most five (DOMAIN §6: ≤5 units per joint branch).
pub const MAX_JOINT_ORGS: usize = 5;

/// Level by membership (支部, 支部委员会, 总支, 党委).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// 党支部: 3 to 6 members.
    Branch,
    /// 支部委员会: a branch of 7 to 50 members elects a committee.
    BranchCommittee,
    /// 党总支: 51 to 99 members.
    GeneralBranch,
    /// 基层党委: 100 members or more (smaller only with approval).
    Committee,
}

impl Level {
    /// Every level, smallest first.
    pub const ALL: [Level; 4] = [
        Level::Branch,
        Level::BranchCommittee,
        Level::GeneralBranch,
        Level::Committee,
    ];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Branch => "branch",
            Level::BranchCommittee => "branch_committee",
            Level::GeneralBranch => "general_branch",
            Level::Committee => "committee",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }

    /// The name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(&format!("party.level.{}", self.as_str()))
    }

    /// The level DOMAIN §6 derives from the member count (full and probationary), or `None`
    /// below three members, where no party organization of one's own can be formed.
    pub fn derived(members: i64) -> Option<Level> {
        match members {
            i64::MIN..=2 => None,
            3..=6 => Some(Level::Branch),
            7..=50 => Some(Level::BranchCommittee),
            51..=99 => Some(Level::GeneralBranch),
            _ => Some(Level::Committee),
        }
    }

    /// True when `members` fits this level: the derived one, or a committee of more than fifty
    /// (a smaller 基层党委 exists with the superior's approval).
    pub fn fits(self, members: i64) -> bool {
        Level::derived(members) == Some(self) || (self == Level::Committee && members > 50)
    }
}

/// How an organization is covered by party work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// By a party organization of its own (independent, affiliated or dispatched).
    Own,
    /// By a joint branch.
    Joint,
    /// By a party-building instructor only.
    Instructor,
    /// Not covered.
    None,
}

impl Coverage {
    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::Own => "own",
            Coverage::Joint => "joint",
            Coverage::Instructor => "instructor",
            Coverage::None => "none",
        }
    }

    /// The name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(&format!("party.coverage.{}", self.as_str()))
    }
}

/// Kinds of entry in the activity log.
pub const ACTIVITY_KINDS: [&str; 6] = [
    "members_meeting",
    "committee_meeting",
    "group_meeting",
    "party_lecture",
    "theme_day",
    "practice",
];

/// The eight working mechanisms checked per party organization (SPEC §3.6 "1+8+1"; the list
/// follows the Jiangsu indicators quoted in DOMAIN §6, plus the charter clause and funding).
pub const MECHANISMS: [&str; 8] = [
    "three_meetings",
    "organisational_life",
    "member_review",
    "heart_to_heart",
    "major_matters",
    "theme_day",
    "charter_clause",
    "funding",
];

/// A party organization as typed into the form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PartyOrgForm {
    /// Name of the party organization.
    pub name: String,
    /// [`Form`] machine name.
    pub form: String,
    /// [`Level`] machine name.
    pub level: String,
    /// Covered organizations: credit codes or ids, one per line or separated by spaces; the
    /// first is the one it sits in (only read when creating).
    pub orgs: String,
    /// 批准的上级党组织.
    pub approved_by: String,
    /// Date set up.
    pub established_on: String,
    /// 书记.
    pub secretary: String,
    /// 委员, one per line.
    pub committee: String,
    /// 正式党员.
    pub full_members: String,
    /// 预备党员.
    pub probationary_members: String,
    /// Term start.
    pub term_started_on: String,
    /// Next re-election.
    pub next_election_on: String,
    /// "on" when 党建入章.
    pub charter_clause: Option<String>,
    /// Optimistic-concurrency version (edits).
    pub version: String,
}

/// A party organization, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPartyOrg {
    /// Name.
    pub name: String,
    /// Form of establishment.
    pub form: Form,
    /// Declared level.
    pub level: Level,
    /// Covered organizations as typed (resolved by the store).
    pub orgs: Vec<String>,
    /// Approving superior organization.
    pub approved_by: String,
    /// Date set up.
    pub established_on: NaiveDate,
    /// Secretary.
    pub secretary: String,
    /// Committee members, one per line.
    pub committee: String,
    /// Full members.
    pub full_members: i64,
    /// Probationary members.
    pub probationary_members: i64,
    /// Term start.
    pub term_started_on: Option<NaiveDate>,
    /// Next re-election.
    pub next_election_on: Option<NaiveDate>,
    /// 党建入章.
    pub charter_clause: bool,
}

/// A required date field.
pub fn required_date(errors: &mut FieldErrors, field: &'static str, value: &str) -> NaiveDate {
    errors.required_date(field, value)
}

/// A required date as an error of its own (one-field forms).
pub fn required_date_of(field: &'static str, value: &str) -> crate::error::Result<NaiveDate> {
    let mut e = FieldErrors::new();
    let day = required_date(&mut e, field, value);
    e.into_result(day)
}

/// An optional date field.
pub fn optional_date(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
) -> Option<NaiveDate> {
    errors.optional_date(field, value)
}

/// A whole number from `min` to `max`.
pub fn count_field(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    min: i64,
    max: i64,
) -> i64 {
    errors.whole_number(field, value, min, max)
}

impl PartyOrgForm {
    /// Checks every field; `creating` also requires the covered organizations.
    pub fn parse(&self, creating: bool) -> Result<NewPartyOrg, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.required_text("name", &self.name, 100);
        let form = Form::parse(&self.form).unwrap_or_else(|| {
            e.add("form", Msg::new("error.field.choice"));
            Form::Independent
        });
        let level = Level::parse(&self.level).unwrap_or_else(|| {
            e.add("level", Msg::new("error.field.choice"));
            Level::Branch
        });
        let orgs: Vec<String> = self
            .orgs
            .split(|c: char| c.is_whitespace() || c == ',' || c == '，')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if creating {
            if orgs.len() < form.min_orgs() {
                e.add(
                    "orgs",
                    Msg::new("party.error.orgs_too_few").with("min", form.min_orgs()),
                );
            } else if let Some(max) = form.max_orgs().filter(|max| orgs.len() > *max) {
                e.add(
                    "orgs",
                    Msg::new("party.error.orgs_too_many").with("max", max),
                );
            }
        }
        let approved_by = e.required_text("approved_by", &self.approved_by, 100);
        let established_on = required_date(&mut e, "established_on", &self.established_on);
        let secretary = e.required_text("secretary", &self.secretary, 50);
        let committee = self.committee.trim().to_owned();
        if committee.chars().count() > 500 {
            e.add(
                "committee",
                Msg::new("error.field.too_long").with("max", 500),
            );
        }
        let full_members = count_field(&mut e, "full_members", &self.full_members, 0, 100_000);
        let probationary_members = count_field(
            &mut e,
            "probationary_members",
            &self.probationary_members,
            0,
            100_000,
        );
        // A party organization needs three full members (a joint branch counts all its units').
        if e.get("full_members").is_none() && full_members < 3 {
            e.add("full_members", Msg::new("party.error.three_members"));
        }
        let term_started_on = optional_date(&mut e, "term_started_on", &self.term_started_on);
        let next_election_on = optional_date(&mut e, "next_election_on", &self.next_election_on);
        if let (Some(start), Some(next)) = (term_started_on, next_election_on)
            && next <= start
        {
            e.add(
                "next_election_on",
                Msg::new("party.error.election_after_term"),
            );
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(NewPartyOrg {
            name,
            form,
            level,
            orgs,
            approved_by,
            established_on,
            secretary,
            committee,
            full_members,
            probationary_members,
            term_started_on,
            next_election_on,
            charter_clause: self.charter_clause.is_some(),
        })
    }
}

/// The allowance amounts (yuan) in force on the first day of each month of a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// Per party organization a year (2,000 yuan), per month of the year.
    pub org_yuan_year: [i64; 12],
    /// Per cadre a month (200 yuan), per month of the year.
    pub cadre_yuan_month: [i64; 12],
}

impl Rates {
    /// The same amounts all year.
    pub fn flat(org_yuan_year: i64, cadre_yuan_month: i64) -> Rates {
        Rates {
            org_yuan_year: [org_yuan_year; 12],
            cadre_yuan_month: [cadre_yuan_month; 12],
        }
    }
}

/// The months of `year` (1–12) that count for an allowance: a month counts when the party
/// organization (or cadre) was in place before it began and until its last day. So one set up
/// or starting mid-year is paid from the month after; one ending mid-month is not paid for it.
pub fn counted_months(year: i32, start: NaiveDate, end: Option<NaiveDate>) -> Vec<u32> {
    (1..=12)
        .filter(|&m| {
            let Some(first) = NaiveDate::from_ymd_opt(year, m, 1) else {
                return false;
            };
            let next = if m == 12 {
                NaiveDate::from_ymd_opt(year + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(year, m + 1, 1)
            };
            let last = next.and_then(|d| d.pred_opt()).unwrap_or(first);
            start < first && end.is_none_or(|e| e >= last)
        })
        .collect()
}

/// A party organization's allowance for `year` in fen: a twelfth of the yearly amount in force
/// for each counted month, rounded to the fen once at the end.
pub fn org_allowance_fen(
    rates: &Rates,
    year: i32,
    start: NaiveDate,
    end: Option<NaiveDate>,
) -> i64 {
    let twelfths: i64 = counted_months(year, start, end)
        .iter()
        .map(|m| rates.org_yuan_year[*m as usize - 1] * 100)
        .sum();
    (twelfths + 6) / 12
}

/// A cadre's allowance for `year` in fen: the monthly amount for each counted month.
pub fn cadre_allowance_fen(
    rates: &Rates,
    year: i32,
    start: NaiveDate,
    end: Option<NaiveDate>,
) -> i64 {
    counted_months(year, start, end)
        .iter()
        .map(|m| rates.cadre_yuan_month[*m as usize - 1] * 100)
        .sum()
}

/// The business year a date falls in.
pub fn year_of(day: NaiveDate) -> i32 {
    day.year()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn levels_follow_member_counts() {
        let table = [
            (2, None),
            (3, Some(Level::Branch)),
            (6, Some(Level::Branch)),
            (7, Some(Level::BranchCommittee)),
            (50, Some(Level::BranchCommittee)),
            (51, Some(Level::GeneralBranch)),
            (99, Some(Level::GeneralBranch)),
            (100, Some(Level::Committee)),
        ];
        for (n, level) in table {
            assert_eq!(Level::derived(n), level, "{n}");
        }
        assert!(Level::Branch.fits(5));
        assert!(!Level::Branch.fits(12));
        assert!(!Level::GeneralBranch.fits(20));
        assert!(
            Level::Committee.fits(60),
            "a smaller committee with approval"
        );
        assert!(!Level::Committee.fits(30));
    }

    #[test]
    fn funding_counts_whole_months_after_the_start() {
        let rates = Rates::flat(2000, 200);
        assert_eq!(
            org_allowance_fen(&rates, 2014, d("2013-05-01"), None),
            200_000
        );
        // Set up on 1 March: April to December.
        assert_eq!(counted_months(2014, d("2014-03-01"), None).len(), 9);
        assert_eq!(
            org_allowance_fen(&rates, 2014, d("2014-03-01"), None),
            150_000
        );
        // A cadre from 15 June: July to December, six months of 200 yuan.
        assert_eq!(
            cadre_allowance_fen(&rates, 2014, d("2014-06-15"), None),
            120_000
        );
        // Ended on 10 May: January to April.
        assert_eq!(
            cadre_allowance_fen(&rates, 2014, d("2010-01-01"), Some(d("2014-05-10"))),
            80_000
        );
        assert_eq!(cadre_allowance_fen(&rates, 2014, d("2015-01-01"), None), 0);
        let mut rising = Rates::flat(2000, 200);
        rising.cadre_yuan_month[6..].fill(300);
        assert_eq!(
            cadre_allowance_fen(&rising, 2014, d("2013-01-01"), None),
            300_000
        );
    }

    #[test]
    fn joint_branches_cover_two_to_five() {
        let mut form = PartyOrgForm {
            name: "联合党支部".into(),
            form: "joint".into(),
            level: "branch".into(),
            orgs: "1 2 3 4 5 6".into(),
            approved_by: "党工委".into(),
            established_on: "2014-01-01".into(),
            secretary: "王".into(),
            full_members: "5".into(),
            probationary_members: "0".into(),
            ..Default::default()
        };
        let e = form.parse(true).unwrap_err();
        assert_eq!(e.get("orgs").unwrap().key, "party.error.orgs_too_many");
        form.orgs = "1".into();
        assert_eq!(
            form.parse(true).unwrap_err().get("orgs").unwrap().key,
            "party.error.orgs_too_few"
        );
        form.orgs = "1,2，3".into();
        assert_eq!(form.parse(true).unwrap().orgs.len(), 3);
    }
}
