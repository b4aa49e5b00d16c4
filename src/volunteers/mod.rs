//! Volunteers, donations, service bases, brand organizations and beneficiaries (SPEC §3.11,
//! DOMAIN §9): volunteer records with minimised personal data, service records that count only
//! once the area office has verified them, star levels by verified hours, the service
//! certificate, donations with public disclosure above a threshold, and the figures brand
//! organizations show on their profiles — every figure counted from records.

pub mod demo;
pub mod pages;
pub mod store;

use crate::error::FieldErrors;
use crate::i18n::Msg;
use chrono::NaiveDate;

/// Longest name, project, purpose or address, in characters.
const MAX_TEXT: usize = 100;

/// The 11 service domains (服务领域) a service record names.
pub const SERVICE_DOMAINS: [&str; 11] = [
    "community_service",
    "elderly_care",
    "child_care",
    "disability_support",
    "education_support",
    "environment",
    "health",
    "emergency_rescue",
    "culture_sports",
    "legal_aid",
    "large_events",
];

/// Kinds of service base (服务基地).
pub const BASE_KINDS: [&str; 7] = [
    "library",
    "elderly_home",
    "disabled_children_home",
    "community_centre",
    "school",
    "hospital",
    "other",
];

/// Measures a brand figure may be counted from (instead of carrying a reported value).
pub const MEASURES: [&str; 6] = [
    "classes",
    "students",
    "beneficiaries",
    "verified_hours",
    "donations_yuan",
    "volunteers",
];

/// The salted hash the database keeps instead of an ID number: the people register's hash
/// (one rule for every ID number shezu keeps), of the number normalised.
pub fn id_number_hash(salt: &str, id_number: &str) -> String {
    crate::people::hash_id_number(salt, &id_number.trim().to_ascii_uppercase())
}

/// A resident ID number (GB 11643) with a matching check character, normalised.
pub fn parse_id_number(value: &str) -> Option<String> {
    crate::people::normalise_id_number(value)
}

pub use crate::people::{id_check_char, mask_id_number};

/// A phone number as shown outside the registering organization: the first three and last
/// four digits (138****5678).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    let mut s: String = chars[..3].iter().collect();
    s.push_str(&"*".repeat(n - 7));
    s.extend(&chars[n - 4..]);
    s
}

/// A person's name as shown in public: the surname and a star for each other character (王*明
/// becomes 王**).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
        None => String::new(),
    }
}

/// Hours kept in tenths, written as hours ("12.5", "8").
pub fn hours(tenths: i64) -> String {
    if tenths % 10 == 0 {
        (tenths / 10).to_string()
    } else {
        format!("{}.{}", tenths / 10, (tenths % 10).abs())
    }
}

/// Parses hours written with at most one decimal ("2", "2.5") into tenths.
pub fn parse_tenths(value: &str) -> Option<i64> {
    let v = value.trim();
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    if whole.is_empty() || frac.len() > 1 {
        return None;
    }
    let neg = whole.starts_with('-');
    let digits = whole.trim_start_matches('-');
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 6 {
        return None;
    }
    let f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse()
            .ok()
            .filter(|_| frac.bytes().all(|b| b.is_ascii_digit()))?
    };
    let t = digits.parse::<i64>().ok()? * 10 + f;
    Some(if neg { -t } else { t })
}

/// The verified hours (in whole hours) at which each star level starts: 1★ at the first, 5★ at
/// the fifth (setting `volunteer_star_hours`, ⚠️ 100/300/600/1000/1500 by an older rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarLevels(pub Vec<i64>);

impl StarLevels {
    /// Parses the setting: ascending whole numbers separated by commas.
    pub fn parse(value: &str) -> Option<StarLevels> {
        let levels: Vec<i64> = value
            .split([',', '，', ' '])
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse::<i64>().ok().filter(|n| *n > 0))
            .collect::<Option<_>>()?;
        let ascending = levels.windows(2).all(|w| w[0] < w[1]);
        (ascending && !levels.is_empty() && levels.len() <= 10).then_some(StarLevels(levels))
    }

    /// The star level of `tenths` verified hours (0: none yet).
    pub fn stars(&self, tenths: i64) -> usize {
        self.0.iter().filter(|h| tenths >= *h * 10).count()
    }
}

/// Where a service record stands in the verification chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceState {
    /// 已记录: recorded by the organization.
    Recorded,
    /// 已确认: confirmed by the organization.
    Confirmed,
    /// 已核实: verified by the area office; only these hours count.
    Verified,
    /// 已退回: rejected, with a reason.
    Rejected,
}

impl ServiceState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Recorded => "recorded",
            ServiceState::Confirmed => "confirmed",
            ServiceState::Verified => "verified",
            ServiceState::Rejected => "rejected",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<ServiceState> {
        [
            ServiceState::Recorded,
            ServiceState::Confirmed,
            ServiceState::Verified,
            ServiceState::Rejected,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A step of the verification chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The organization confirms what was recorded.
    Confirm,
    /// The area office verifies what the organization confirmed.
    Verify,
    /// Either sends it back, with a reason.
    Reject,
}

impl Step {
    /// Parses a form's `action`.
    pub fn parse(s: &str) -> Option<Step> {
        match s.trim() {
            "confirm" => Some(Step::Confirm),
            "verify" => Some(Step::Verify),
            "reject" => Some(Step::Reject),
            _ => None,
        }
    }

    /// The state after this step from `from`, or `None` when the step does not apply there.
    pub fn next(self, from: ServiceState) -> Option<ServiceState> {
        match (self, from) {
            (Step::Confirm, ServiceState::Recorded) => Some(ServiceState::Confirmed),
            (Step::Verify, ServiceState::Confirmed) => Some(ServiceState::Verified),
            (Step::Reject, ServiceState::Recorded | ServiceState::Confirmed) => {
                Some(ServiceState::Rejected)
            }
            _ => None,
        }
    }

    /// The audit action's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Confirm => "confirm",
            Step::Verify => "verify",
            Step::Reject => "reject",
        }
    }
}

/// A short required text.
fn required(e: &mut FieldErrors, field: &'static str, value: &str) -> String {
    e.required_text(field, value, MAX_TEXT)
}

/// A volunteer as typed into the registration form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct VolunteerForm {
    /// 姓名.
    pub name: String,
    /// 性别: `male`, `female` or empty.
    pub gender: String,
    /// 身份证号 (kept only hashed and masked).
    pub id_number: String,
    /// 联系电话.
    pub phone: String,
    /// The organization id (staff choose; an organization's account registers its own).
    pub org: String,
    /// 注册日期 (empty: today).
    pub registered_on: String,
}

/// A checked volunteer, still holding the clear ID number (hashed before it is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVolunteer {
    /// 姓名.
    pub name: String,
    /// 性别.
    pub gender: Option<&'static str>,
    /// The clear ID number (never stored).
    pub id_number: String,
    /// 联系电话.
    pub phone: Option<String>,
    /// 注册日期.
    pub registered_on: NaiveDate,
}

impl VolunteerForm {
    /// Checks the form, naming every bad field; `today` is the business date.
    pub fn parse(&self, today: NaiveDate) -> Result<NewVolunteer, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = required(&mut e, "name", &self.name);
        let gender = match self.gender.trim() {
            "" => None,
            "male" => Some("male"),
            "female" => Some("female"),
            _ => {
                e.add("gender", Msg::new("error.field.choice"));
                None
            }
        };
        let id_number = parse_id_number(&self.id_number).unwrap_or_else(|| {
            e.add("id_number", Msg::new("volunteers.error.id_number"));
            String::new()
        });
        let phone = match self.phone.trim() {
            "" => None,
            p if (5..=20).contains(&p.chars().count())
                && p.chars().all(|c| c.is_ascii_digit() || c == '-') =>
            {
                Some(p.to_owned())
            }
            _ => {
                e.add("phone", Msg::new("volunteers.error.phone"));
                None
            }
        };
        let registered_on = date_not_future(&mut e, "registered_on", &self.registered_on, today);
        let v = NewVolunteer {
            name,
            gender,
            id_number,
            phone,
            registered_on,
        };
        if e.is_empty() { Ok(v) } else { Err(e) }
    }
}

/// A date not after `today`; empty means today.
fn date_not_future(
    e: &mut FieldErrors,
    field: &'static str,
    value: &str,
    today: NaiveDate,
) -> NaiveDate {
    match value.trim() {
        "" => today,
        v => match v.parse::<NaiveDate>() {
            Ok(d) if d > today => {
                e.add(field, Msg::new("volunteers.error.future"));
                d
            }
            Ok(d) => d,
            Err(_) => {
                e.add(field, Msg::new("error.field.date"));
                today
            }
        },
    }
}

/// A service record as typed into its form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ServiceForm {
    /// 服务项目.
    pub project: String,
    /// 服务领域 (one of [`SERVICE_DOMAINS`]).
    pub domain: String,
    /// 服务日期.
    pub served_on: String,
    /// 服务时长 (hours, one decimal at most).
    pub hours: String,
}

/// A checked service record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewService {
    /// 服务项目.
    pub project: String,
    /// 服务领域.
    pub domain: &'static str,
    /// 服务日期.
    pub served_on: NaiveDate,
    /// Hours in tenths.
    pub tenth_hours: i64,
}

impl ServiceForm {
    /// Checks the form: hours above zero and at most 24, a date not in the future, a known
    /// domain. The per-day sum is checked against the records by the store.
    pub fn parse(&self, today: NaiveDate) -> Result<NewService, FieldErrors> {
        let mut e = FieldErrors::new();
        let project = required(&mut e, "project", &self.project);
        let domain = SERVICE_DOMAINS
            .iter()
            .find(|d| **d == self.domain.trim())
            .copied()
            .unwrap_or_else(|| {
                e.add("domain", Msg::new("error.field.choice"));
                ""
            });
        let served_on = if self.served_on.trim().is_empty() {
            e.add("served_on", Msg::new("error.field.required"));
            today
        } else {
            date_not_future(&mut e, "served_on", &self.served_on, today)
        };
        let tenth_hours = match parse_tenths(&self.hours) {
            Some(t) if t <= 0 => {
                e.add("hours", Msg::new("volunteers.error.hours_positive"));
                0
            }
            Some(t) if t > 240 => {
                e.add("hours", Msg::new("volunteers.error.hours_day"));
                0
            }
            Some(t) => t,
            None => {
                e.add("hours", Msg::new("volunteers.error.hours"));
                0
            }
        };
        let s = NewService {
            project,
            domain,
            served_on,
            tenth_hours,
        };
        if e.is_empty() { Ok(s) } else { Err(e) }
    }
}

/// A donation as typed into its form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct DonationForm {
    /// The organization id whose books it is in.
    pub org: String,
    /// `received` or `given`.
    pub direction: String,
    /// Donor (received) or recipient (given).
    pub counterpart: String,
    /// `individual` or `organization`.
    pub counterpart_kind: String,
    /// 项目 (may be empty).
    pub project: String,
    /// `money` or `goods`.
    pub kind: String,
    /// Goods described (for goods).
    pub goods: String,
    /// Amount or value in yuan.
    pub amount_yuan: String,
    /// 日期.
    pub donated_on: String,
    /// 用途.
    pub purpose: String,
}

/// A checked donation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDonation {
    /// `received` or `given`.
    pub direction: &'static str,
    /// Donor or recipient.
    pub counterpart: String,
    /// `individual` or `organization`.
    pub counterpart_kind: &'static str,
    /// 项目.
    pub project: String,
    /// `money` or `goods`.
    pub kind: &'static str,
    /// Goods described.
    pub goods: Option<String>,
    /// Amount or value in fen.
    pub amount_fen: i64,
    /// 日期.
    pub donated_on: NaiveDate,
    /// 用途.
    pub purpose: String,
}

fn choice(
    e: &mut FieldErrors,
    field: &'static str,
    value: &str,
    options: &[&'static str],
) -> &'static str {
    options
        .iter()
        .find(|o| **o == value.trim())
        .copied()
        .unwrap_or_else(|| {
            e.add(field, Msg::new("error.field.choice"));
            ""
        })
}

impl DonationForm {
    /// Checks the form, naming every bad field.
    pub fn parse(&self, today: NaiveDate) -> Result<NewDonation, FieldErrors> {
        let mut e = FieldErrors::new();
        let direction = choice(&mut e, "direction", &self.direction, &["received", "given"]);
        let counterpart = required(&mut e, "counterpart", &self.counterpart);
        let counterpart_kind = choice(
            &mut e,
            "counterpart_kind",
            &self.counterpart_kind,
            &["individual", "organization"],
        );
        let kind = choice(&mut e, "kind", &self.kind, &["money", "goods"]);
        let goods = match (kind, self.goods.trim()) {
            ("goods", "") => {
                e.add("goods", Msg::new("error.field.required"));
                None
            }
            ("goods", g) => Some(required(&mut e, "goods", g)),
            _ => None,
        };
        let amount_fen = match crate::registry::parse_yuan(&self.amount_yuan) {
            Some(f) if f > 0 => f,
            _ => {
                e.add("amount_yuan", Msg::new("volunteers.error.amount"));
                0
            }
        };
        let project = self.project.trim().to_owned();
        if project.chars().count() > MAX_TEXT {
            e.add(
                "project",
                Msg::new("error.field.too_long").with("max", MAX_TEXT),
            );
        }
        let donated_on = if self.donated_on.trim().is_empty() {
            e.add("donated_on", Msg::new("error.field.required"));
            today
        } else {
            date_not_future(&mut e, "donated_on", &self.donated_on, today)
        };
        let purpose = required(&mut e, "purpose", &self.purpose);
        let d = NewDonation {
            direction,
            counterpart,
            counterpart_kind,
            project,
            kind,
            goods,
            amount_fen,
            donated_on,
            purpose,
        };
        if e.is_empty() { Ok(d) } else { Err(e) }
    }
}

/// A service base as typed into its form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct BaseForm {
    /// 名称.
    pub name: String,
    /// One of [`BASE_KINDS`].
    pub kind: String,
    /// 地址.
    pub address: String,
    /// The area's division code.
    pub area_code: String,
    /// A linked organization's name (optional).
    pub org: String,
}

/// A checked service base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBase {
    /// 名称.
    pub name: String,
    /// Kind.
    pub kind: &'static str,
    /// 地址.
    pub address: String,
}

impl BaseForm {
    /// Checks the name, kind and address (the area and organization are looked up).
    pub fn parse(&self) -> Result<NewBase, FieldErrors> {
        let mut e = FieldErrors::new();
        let b = NewBase {
            name: required(&mut e, "name", &self.name),
            kind: choice(&mut e, "kind", &self.kind, &BASE_KINDS),
            address: required(&mut e, "address", &self.address),
        };
        if self.area_code.trim().is_empty() {
            e.add("area_code", Msg::new("error.field.required"));
        }
        if e.is_empty() { Ok(b) } else { Err(e) }
    }
}

/// A brand figure as typed into its form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct FigureForm {
    /// 名称 (e.g. 学员).
    pub label: String,
    /// A reported value (empty when counted from a measure).
    pub value: String,
    /// One of [`MEASURES`] or empty.
    pub measure: String,
    /// The project a measure is limited to (empty: the whole organization).
    pub project: String,
    /// 单位.
    pub unit: String,
    /// 年度 (empty: all years).
    pub year: String,
}

/// A checked brand figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFigure {
    /// 名称.
    pub label: String,
    /// Reported value.
    pub value: Option<i64>,
    /// Measure counted from records.
    pub measure: Option<&'static str>,
    /// Project filter for the measure.
    pub project: Option<String>,
    /// 单位.
    pub unit: String,
    /// 年度.
    pub year: Option<i64>,
}

impl FigureForm {
    /// Checks the form: a label, a unit, and either a value or a measure.
    pub fn parse(&self) -> Result<NewFigure, FieldErrors> {
        let mut e = FieldErrors::new();
        let label = required(&mut e, "label", &self.label);
        let unit = required(&mut e, "unit", &self.unit);
        let measure = match self.measure.trim() {
            "" => None,
            m => Some(choice(&mut e, "measure", m, &MEASURES)),
        };
        let value = match self.value.trim() {
            "" => None,
            v => match v.parse::<i64>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    e.add("value", Msg::new("error.field.count"));
                    None
                }
            },
        };
        if value.is_none() && measure.is_none() && e.get("value").is_none() {
            e.add("value", Msg::new("volunteers.error.value_or_measure"));
        }
        let year = match self.year.trim() {
            "" => None,
            y => match y.parse::<i64>() {
                Ok(n) if (1990..=2100).contains(&n) => Some(n),
                _ => {
                    e.add(
                        "year",
                        Msg::new("error.field.range")
                            .with("min", 1990)
                            .with("max", 2100),
                    );
                    None
                }
            },
        };
        let project = Some(self.project.trim().to_owned()).filter(|p| !p.is_empty());
        let f = NewFigure {
            label,
            value,
            measure,
            project,
            unit,
            year,
        };
        if e.is_empty() { Ok(f) } else { Err(e) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2015, 6, 30).unwrap()
    }

    #[test]
    fn id_numbers_are_checked_masked_and_hashed() {
        let first = "12011619800101123";
        let id = format!("{first}{}", id_check_char(first).unwrap());
        assert_eq!(parse_id_number(&id.to_lowercase()), Some(id.clone()));
        let wrong = if id.ends_with('0') { "1" } else { "0" };
        assert_eq!(parse_id_number(&format!("{first}{wrong}")), None);
        assert_eq!(parse_id_number("1234"), None);
        let masked = mask_id_number(&id);
        assert_eq!(masked.len(), 18);
        assert!(masked.starts_with("1201**********"));
        assert!(!masked.contains(first));
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_name("王小明"), "王**");
        assert_eq!(mask_name("李"), "李*");
        let h = id_number_hash("salt", &id);
        assert_eq!(h, id_number_hash("salt", &id.to_lowercase()));
        assert_ne!(h, id_number_hash("other", &id));
        assert!(!h.contains(first));
    }

    #[test]
    fn stars_follow_thresholds() {
        let s = StarLevels::parse("100,300,600,1000,1500").unwrap();
        assert_eq!(s.stars(999), 0);
        assert_eq!(s.stars(1000), 1);
        assert_eq!(s.stars(5999), 2);
        assert_eq!(s.stars(15_000), 5);
        assert!(StarLevels::parse("300,100").is_none());
        assert!(StarLevels::parse("a").is_none());
        assert_eq!(StarLevels::parse("50, 80").unwrap().stars(500), 1);
    }

    #[test]
    fn chain_transitions() {
        use ServiceState::*;
        assert_eq!(Step::Confirm.next(Recorded), Some(Confirmed));
        assert_eq!(
            Step::Verify.next(Recorded),
            None,
            "the organization confirms first"
        );
        assert_eq!(Step::Verify.next(Confirmed), Some(Verified));
        assert_eq!(Step::Reject.next(Confirmed), Some(Rejected));
        assert_eq!(Step::Reject.next(Verified), None);
        assert_eq!(Step::Confirm.next(Rejected), None);
    }

    #[test]
    fn service_input_is_refused_naming_the_field() {
        let form = |hours: &str, on: &str| ServiceForm {
            project: "社区助老".into(),
            domain: "elderly_care".into(),
            served_on: on.into(),
            hours: hours.into(),
        };
        for (hours, on, field) in [
            ("-2", "2015-06-01", "hours"),
            ("0", "2015-06-01", "hours"),
            ("24.5", "2015-06-01", "hours"),
            ("abc", "2015-06-01", "hours"),
            ("3", "2015-07-01", "served_on"),
        ] {
            let e = form(hours, on).parse(today()).unwrap_err();
            assert!(e.get(field).is_some(), "{hours} {on}");
        }
        let ok = form("2.5", "2015-06-30").parse(today()).unwrap();
        assert_eq!(ok.tenth_hours, 25);
        assert_eq!(hours(25), "2.5");
        assert_eq!(hours(240), "24");
    }
}
