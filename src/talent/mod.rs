//! Talent (SPEC §3.10): social workers (社会工作者) and the professionals the service centre
//! recruits (专业人才), their placements with the organizations they serve, the 1:30 ratio
//! checked per area, and training sessions (社会组织大讲堂 and others) with sign-ups by the
//! organizations' people and recorded attendance.
//!
//! The ratio rule: an area needs one social worker for every `social_worker_load`
//! organizations (setting, default 30, the seed's 30个社会组织配备一名社会工作者), counting the
//! live organizations located in it (active or on the abnormal list, filed community groups
//! included); a social worker serving more than that many organizations at once is over their
//! load; an organization with no open placement has no social worker.

pub mod demo;
pub mod pages;
pub mod store;

use crate::error::FieldErrors;
use crate::i18n::{Lang, Msg};
use crate::registry::labelled_enum;
use chrono::NaiveDate;

labelled_enum!(
    /// What a practitioner is to the centre.
    PractitionerKind, "talent.kind", {
        /// 社会工作者: placed with organizations.
        SocialWorker = "social_worker", "社会工作者";
        /// 专业人才: recruited by the centre for a role.
        Professional = "professional", "专业人才";
    }
);

labelled_enum!(
    /// Social-work qualification (社会工作者职业水平).
    Qualification, "talent.qualification", {
        /// No qualification yet.
        Unqualified = "none", "无";
        /// 助理社会工作师.
        Assistant = "assistant", "助理社会工作师";
        /// 社会工作师.
        Intermediate = "intermediate", "社会工作师";
        /// 高级社会工作师.
        Senior = "senior", "高级社会工作师";
    }
);

labelled_enum!(
    /// Who employs a practitioner.
    EmployerKind, "talent.employer", {
        /// 社会组织服务中心 (the district's own centre).
        Centre = "centre", "社会组织服务中心";
        /// 社会工作服务机构, contracted through purchase of services.
        Agency = "agency", "社会工作服务机构";
    }
);

/// Longest name, role, place or topic, in characters.
const MAX_TEXT: usize = 100;

/// A practitioner as typed into the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct PractitionerForm {
    /// [`PractitionerKind`] machine name.
    pub kind: String,
    /// 姓名.
    pub name: String,
    /// [`Qualification`] machine name.
    pub qualification: String,
    /// [`EmployerKind`] machine name.
    pub employer_kind: String,
    /// 用人单位.
    pub employer_name: String,
    /// 岗位 (required for professionals).
    pub role: String,
    /// The area served (division code).
    pub area_code: String,
    /// 联系电话.
    pub phone: String,
    /// 到岗日期.
    pub started_on: String,
    /// 离岗日期.
    pub ended_on: String,
    /// The version the form was loaded at (edits only).
    pub version: String,
}

/// A checked practitioner (the area is resolved by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Practitioner {
    /// Kind.
    pub kind: PractitionerKind,
    /// 姓名.
    pub name: String,
    /// 职业水平.
    pub qualification: Qualification,
    /// Employer kind.
    pub employer_kind: EmployerKind,
    /// 用人单位.
    pub employer_name: String,
    /// 岗位.
    pub role: String,
    /// 联系电话.
    pub phone: String,
    /// 到岗日期.
    pub started_on: NaiveDate,
    /// 离岗日期.
    pub ended_on: Option<NaiveDate>,
}

/// A choice among a labelled enum's machine names.
fn choice<T>(e: &mut FieldErrors, field: &'static str, parsed: Option<T>, fallback: T) -> T {
    parsed.unwrap_or_else(|| {
        e.add(field, Msg::new("error.field.choice"));
        fallback
    })
}

/// The end of a date range must not come before its start.
fn range(e: &mut FieldErrors, field: &'static str, start: NaiveDate, end: Option<NaiveDate>) {
    if end.is_some_and(|end| end < start) {
        e.add(field, Msg::new("talent.error.ends_before_start"));
    }
}

impl PractitionerForm {
    /// Checks every field, naming each bad one.
    pub fn parse(&self) -> Result<Practitioner, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = choice(
            &mut e,
            "kind",
            PractitionerKind::parse(&self.kind),
            PractitionerKind::SocialWorker,
        );
        let name = e.required_text("name", &self.name, MAX_TEXT);
        let qualification = choice(
            &mut e,
            "qualification",
            Qualification::parse(&self.qualification),
            Qualification::Unqualified,
        );
        let employer_kind = choice(
            &mut e,
            "employer_kind",
            EmployerKind::parse(&self.employer_kind),
            EmployerKind::Centre,
        );
        let employer_name = e.required_text("employer_name", &self.employer_name, MAX_TEXT);
        let role = match kind {
            PractitionerKind::Professional => e.required_text("role", &self.role, MAX_TEXT),
            PractitionerKind::SocialWorker if self.role.trim().chars().count() > MAX_TEXT => {
                e.required_text("role", &self.role, MAX_TEXT)
            }
            PractitionerKind::SocialWorker => self.role.trim().to_owned(),
        };
        if self.area_code.trim().is_empty() {
            e.add("area_code", Msg::new("error.field.required"));
        }
        let phone = crate::hubs::phone(&mut e, "phone", &self.phone);
        let started_on = e.required_date("started_on", &self.started_on);
        let ended_on = e.optional_date("ended_on", &self.ended_on);
        range(&mut e, "ended_on", started_on, ended_on);
        let practitioner = Practitioner {
            kind,
            name,
            qualification,
            employer_kind,
            employer_name,
            role,
            phone,
            started_on,
            ended_on,
        };
        if e.is_empty() {
            Ok(practitioner)
        } else {
            Err(e)
        }
    }
}

/// A training session as typed into the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct TrainingForm {
    /// 系列 (e.g. 社会组织大讲堂).
    pub series: String,
    /// 主题.
    pub topic: String,
    /// 主讲人.
    pub speaker: String,
    /// 日期.
    pub held_on: String,
    /// 学时 (hours, up to two decimals).
    pub hours: String,
    /// 地点.
    pub place: String,
    /// 名额.
    pub capacity: String,
}

/// A checked training session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Training {
    /// 系列.
    pub series: String,
    /// 主题.
    pub topic: String,
    /// 主讲人.
    pub speaker: String,
    /// 日期.
    pub held_on: NaiveDate,
    /// Length in minutes.
    pub minutes: i64,
    /// 地点.
    pub place: String,
    /// 名额.
    pub capacity: i64,
}

/// Hours as written ("2", "1.5", "2.25") in minutes; `None` unless more than 0 and at most 24.
pub fn parse_hours(value: &str) -> Option<i64> {
    let v = value.trim();
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    if whole.is_empty() || fraction.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hundredths = whole.parse::<i64>().ok()?.checked_mul(100)?
        + format!("{fraction:0<2}").parse::<i64>().unwrap_or(0);
    let minutes = (hundredths * 60 + 50) / 100;
    (1..=24 * 60).contains(&minutes).then_some(minutes)
}

/// Minutes as hours with at most one decimal ("2", "1.5").
pub fn hours_text(minutes: i64) -> String {
    let tenths = (minutes * 10 + 30) / 60;
    if tenths % 10 == 0 {
        (tenths / 10).to_string()
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

impl TrainingForm {
    /// Checks every field, naming each bad one.
    pub fn parse(&self) -> Result<Training, FieldErrors> {
        let mut e = FieldErrors::new();
        let training = Training {
            series: e.required_text("series", &self.series, MAX_TEXT),
            topic: e.required_text("topic", &self.topic, MAX_TEXT),
            speaker: e.required_text("speaker", &self.speaker, MAX_TEXT),
            held_on: e.required_date("held_on", &self.held_on),
            minutes: parse_hours(&self.hours).unwrap_or_else(|| {
                e.add("hours", Msg::new("talent.error.hours"));
                0
            }),
            place: e.required_text("place", &self.place, MAX_TEXT),
            capacity: e.whole_number("capacity", &self.capacity, 1, 10_000),
        };
        if e.is_empty() { Ok(training) } else { Err(e) }
    }
}

/// The people an organization signs up, one name per line: trimmed, blank lines dropped,
/// each at most 50 characters, no name twice.
pub fn parse_attendees(text: &str) -> Result<Vec<String>, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut names: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.chars().count() > 50 {
            e.add(
                "attendees",
                Msg::new("talent.error.attendee_too_long").with("name", line),
            );
        } else if names.iter().any(|n| n == line) {
            e.add(
                "attendees",
                Msg::new("talent.error.attendee_twice").with("name", line),
            );
        } else {
            names.push(line.to_owned());
        }
    }
    if names.is_empty() && e.is_empty() {
        e.add("attendees", Msg::new("error.field.required"));
    }
    if e.is_empty() { Ok(names) } else { Err(e) }
}

/// Social workers an area needs for `organizations` at `load` organizations each.
pub fn workers_needed(organizations: i64, load: i64) -> i64 {
    if organizations <= 0 {
        0
    } else {
        (organizations + load.max(1) - 1) / load.max(1)
    }
}

/// "1 : 28.4", organizations per social worker, or "—" with no social worker.
pub fn ratio_text(organizations: i64, workers: i64, lang: Lang) -> String {
    if workers == 0 {
        return lang.t("talent.ratio.none").to_owned();
    }
    let tenths = (organizations * 10 + workers / 2) / workers;
    format!("1 : {}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_parse_and_print() {
        assert_eq!(parse_hours("2"), Some(120));
        assert_eq!(parse_hours("1.5"), Some(90));
        assert_eq!(parse_hours(" 2.25 "), Some(135));
        for bad in ["", "0", "-1", "1.555", "abc", "25", ".5", "1,5"] {
            assert_eq!(parse_hours(bad), None, "{bad}");
        }
        assert_eq!(hours_text(120), "2");
        assert_eq!(hours_text(90), "1.5");
        assert_eq!(hours_text(135), "2.3");
    }

    #[test]
    fn the_ratio_rounds_up() {
        assert_eq!(workers_needed(0, 30), 0);
        assert_eq!(workers_needed(30, 30), 1);
        assert_eq!(workers_needed(31, 30), 2);
        assert_eq!(workers_needed(2355, 30), 79);
        assert_eq!(ratio_text(2355, 80, Lang::Zh), "1 : 29.4");
        assert_eq!(ratio_text(5, 0, Lang::En), Lang::En.t("talent.ratio.none"));
    }

    #[test]
    fn forms_name_every_bad_field() {
        let e = PractitionerForm {
            kind: "professional".into(),
            name: " ".into(),
            qualification: "doctor".into(),
            employer_kind: "centre".into(),
            employer_name: "滨海新区社会组织服务中心".into(),
            area_code: "120116".into(),
            phone: "电话".into(),
            started_on: "2014-03-01".into(),
            ended_on: "2014-02-01".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        for field in ["name", "qualification", "role", "phone", "ended_on"] {
            assert!(e.get(field).is_some(), "{field}");
        }
        assert!(e.get("employer_name").is_none());
        let e = TrainingForm {
            series: "社会组织大讲堂".into(),
            topic: "项目化运作".into(),
            speaker: "王教授".into(),
            held_on: "2014-13-01".into(),
            hours: "30".into(),
            place: "孵化园报告厅".into(),
            capacity: "0".into(),
        }
        .parse()
        .unwrap_err();
        for field in ["held_on", "hours", "capacity"] {
            assert!(e.get(field).is_some(), "{field}");
        }
        assert_eq!(
            parse_attendees("张伟\n\n 李娜 \n").unwrap(),
            vec!["张伟", "李娜"]
        );
        assert!(parse_attendees("张伟\n张伟").is_err());
        assert!(parse_attendees("  \n").is_err());
    }
}
