//! Incubation (三级孵化体系, SPEC §3.8): incubators at three levels — the district incubation
//! park (区孵化园), functional-area incubators (功能区孵化器) and street incubation guidance
//! centres (街镇孵化指导中心) — their calls for entry (入壳征集), applications by registered
//! organizations or groups not yet registered, selection with a reason, and incubation stays
//! (入孵) with the services given, ending in graduation (出壳) or exit (退出).

pub mod demo;
pub mod figures;
pub mod pages;
pub mod stays;
pub mod store;

use crate::areas::AreaLevel;
use crate::error::FieldErrors;
use crate::i18n::{Lang, Msg};
use chrono::NaiveDate;

/// Longest name, person, address or title, in characters.
const MAX_TEXT: usize = 100;
/// Longest plan or reason, in characters.
const MAX_LONG: usize = 2000;

/// The level of an incubator (孵化体系的层级).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncubatorLevel {
    /// 区孵化园: the district incubation park.
    District,
    /// 功能区孵化器: an incubator of a functional area.
    Functional,
    /// 街镇孵化指导中心: a street or town incubation guidance centre.
    Street,
}

impl IncubatorLevel {
    /// Every level, top down.
    pub const ALL: [IncubatorLevel; 3] = [
        IncubatorLevel::District,
        IncubatorLevel::Functional,
        IncubatorLevel::Street,
    ];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncubatorLevel::District => "district",
            IncubatorLevel::Functional => "functional",
            IncubatorLevel::Street => "street",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<IncubatorLevel> {
        Self::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }

    /// The level's name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(&format!("incubation.level.{}", self.as_str()))
    }

    /// The level of area an incubator of this level serves: the park the district, the others
    /// their functional area or street.
    pub fn area_level(self) -> AreaLevel {
        match self {
            IncubatorLevel::District => AreaLevel::District,
            IncubatorLevel::Functional => AreaLevel::FunctionalArea,
            IncubatorLevel::Street => AreaLevel::Street,
        }
    }
}

/// A service given during a stay (孵化服务).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// 场地设备: venue and equipment.
    Venue,
    /// 能力建设: a capacity-building session.
    Training,
    /// 登记协助: help with registration.
    Registration,
    /// 微补贴: a micro-subsidy, with its amount.
    Subsidy,
}

impl ServiceKind {
    /// Every kind.
    pub const ALL: [ServiceKind; 4] = [
        ServiceKind::Venue,
        ServiceKind::Training,
        ServiceKind::Registration,
        ServiceKind::Subsidy,
    ];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Venue => "venue",
            ServiceKind::Training => "training",
            ServiceKind::Registration => "registration",
            ServiceKind::Subsidy => "subsidy",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<ServiceKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// The kind's name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(&format!("incubation.service.{}", self.as_str()))
    }
}

/// How a stay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 出壳: graduated.
    Graduated,
    /// 退出: left or was asked to leave before graduating.
    Exited,
}

impl Outcome {
    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Graduated => "graduated",
            Outcome::Exited => "exited",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Graduated, Outcome::Exited]
            .into_iter()
            .find(|o| o.as_str() == s.trim())
    }
}

/// A required short text: trimmed, not empty, at most `max` characters.
fn text(e: &mut FieldErrors, field: &'static str, value: &str, max: usize) -> String {
    e.required_text(field, value, max)
}

/// A required date (`YYYY-MM-DD`).
fn date(e: &mut FieldErrors, field: &'static str, value: &str) -> Option<NaiveDate> {
    match value.trim() {
        "" => {
            e.add(field, Msg::new("error.field.required"));
            None
        }
        v => v.parse().map(Some).unwrap_or_else(|_| {
            e.add(field, Msg::new("error.field.date"));
            None
        }),
    }
}

/// A positive whole number.
fn positive(e: &mut FieldErrors, field: &'static str, value: &str) -> i64 {
    match value.trim().parse::<i64>() {
        Ok(n) if n > 0 => n,
        _ => {
            e.add(field, Msg::new("error.field.positive"));
            0
        }
    }
}

/// An incubator as typed into its form.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct IncubatorForm {
    /// 名称.
    pub name: String,
    /// Level (`district`, `functional`, `street`).
    pub level: String,
    /// The area it serves (division code).
    pub area_code: String,
    /// 孵化方向: domain codes or names, separated by commas or 、.
    pub focus: String,
    /// 孵化席位: how many groups it can host at once.
    pub capacity: String,
    /// 地址.
    pub address: String,
    /// 运营方.
    pub operator: String,
}

/// A checked incubator (its area and focus domains are resolved by the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncubator {
    /// 名称.
    pub name: String,
    /// Level.
    pub level: IncubatorLevel,
    /// Focus as typed, split into words (resolved against the domain dictionary).
    pub focus: Vec<String>,
    /// Places.
    pub capacity: i64,
    /// 地址.
    pub address: String,
    /// 运营方.
    pub operator: String,
}

/// Splits a list typed with commas, 、 or spaces.
pub fn split_list(s: &str) -> Vec<String> {
    s.split([',', '，', '、', ';', '；', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

impl IncubatorForm {
    /// Checks the form, naming every bad field.
    pub fn parse(&self) -> Result<NewIncubator, FieldErrors> {
        let mut e = FieldErrors::new();
        let level = IncubatorLevel::parse(&self.level);
        if level.is_none() {
            e.add("level", Msg::new("error.field.choice"));
        }
        if self.area_code.trim().is_empty() {
            e.add("area_code", Msg::new("error.field.required"));
        }
        let focus = split_list(&self.focus);
        if focus.is_empty() {
            e.add("focus", Msg::new("error.field.required"));
        }
        let new = NewIncubator {
            name: text(&mut e, "name", &self.name, MAX_TEXT),
            level: level.unwrap_or(IncubatorLevel::Street),
            focus,
            capacity: positive(&mut e, "capacity", &self.capacity),
            address: text(&mut e, "address", &self.address, MAX_TEXT),
            operator: text(&mut e, "operator", &self.operator, MAX_TEXT),
        };
        if e.is_empty() { Ok(new) } else { Err(e) }
    }
}

/// A call for entry as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct CallForm {
    /// The incubator (id).
    pub incubator: String,
    /// 标题.
    pub title: String,
    /// 征集开始.
    pub opens_on: String,
    /// 征集截止.
    pub closes_on: String,
    /// 提供席位.
    pub places: String,
}

/// A checked call for entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    /// 标题.
    pub title: String,
    /// 征集开始.
    pub opens_on: NaiveDate,
    /// 征集截止.
    pub closes_on: NaiveDate,
    /// 提供席位.
    pub places: i64,
}

impl CallForm {
    /// Checks the form (the incubator is looked up by the caller), naming every bad field.
    pub fn parse(&self) -> Result<NewCall, FieldErrors> {
        let mut e = FieldErrors::new();
        let title = text(&mut e, "title", &self.title, MAX_TEXT);
        let opens_on = date(&mut e, "opens_on", &self.opens_on);
        let closes_on = date(&mut e, "closes_on", &self.closes_on);
        let places = positive(&mut e, "places", &self.places);
        if let (Some(o), Some(c)) = (opens_on, closes_on)
            && c < o
        {
            e.add(
                "closes_on",
                Msg::new("incubation.error.closes_before_opens"),
            );
        }
        match (opens_on, closes_on, e.is_empty()) {
            (Some(opens_on), Some(closes_on), true) => Ok(NewCall {
                title,
                opens_on,
                closes_on,
                places,
            }),
            _ => Err(e),
        }
    }
}

/// An application to a call as typed: by an organization (`org`, staff only; an organization's
/// own account applies for its organization) or by a group not yet registered.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ApplicationForm {
    /// A registered organization (credit code, id or exact name); empty for a group.
    pub org: String,
    /// The group's name (or the organization's, filled in by the store).
    pub group_name: String,
    /// 联系人及电话.
    pub contact: String,
    /// Domain code.
    pub domain: String,
    /// 孵化计划.
    pub plan: String,
}

/// A checked application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    /// The group's name (empty when an organization applies: the store uses its name).
    pub group_name: String,
    /// 联系人及电话.
    pub contact: String,
    /// Domain code (checked against the dictionary by the store).
    pub domain: String,
    /// 孵化计划.
    pub plan: String,
}

impl ApplicationForm {
    /// Checks the form; `for_org` is true when an organization applies (no group name needed).
    pub fn parse(&self, for_org: bool) -> Result<NewApplication, FieldErrors> {
        let mut e = FieldErrors::new();
        let group_name = if for_org {
            String::new()
        } else {
            text(&mut e, "group_name", &self.group_name, MAX_TEXT)
        };
        let new = NewApplication {
            group_name,
            contact: text(&mut e, "contact", &self.contact, MAX_TEXT),
            domain: text(&mut e, "domain", &self.domain, MAX_TEXT),
            plan: text(&mut e, "plan", &self.plan, MAX_LONG),
        };
        if e.is_empty() { Ok(new) } else { Err(e) }
    }
}

/// A selection decision as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    /// `accept` or `reject`.
    pub decision: String,
    /// Why (required for both).
    pub reason: String,
    /// 入孵日期 (accept only).
    pub entered_on: String,
    /// 计划出壳日期 (accept only).
    pub planned_end_on: String,
}

/// A checked selection decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Selected: a stay opens on `entered_on`, planned to end on `planned_end_on`.
    Accept {
        /// Why.
        reason: String,
        /// 入孵日期.
        entered_on: NaiveDate,
        /// 计划出壳日期.
        planned_end_on: NaiveDate,
    },
    /// Not selected.
    Reject {
        /// Why.
        reason: String,
    },
}

/// Checks an entry and planned end date pair: the end comes after the entry.
fn period(
    e: &mut FieldErrors,
    entered_on: &str,
    planned_end_on: &str,
) -> Option<(NaiveDate, NaiveDate)> {
    let entered = date(e, "entered_on", entered_on);
    let planned = date(e, "planned_end_on", planned_end_on);
    match (entered, planned) {
        (Some(a), Some(b)) if b <= a => {
            e.add(
                "planned_end_on",
                Msg::new("incubation.error.end_before_entry"),
            );
            None
        }
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    }
}

impl DecisionForm {
    /// Checks the form, naming every bad field.
    pub fn parse(&self) -> Result<Decision, FieldErrors> {
        let mut e = FieldErrors::new();
        let reason = text(&mut e, "reason", &self.reason, MAX_LONG);
        let decision = match self.decision.trim() {
            "accept" => period(&mut e, &self.entered_on, &self.planned_end_on).map(
                |(entered_on, planned_end_on)| Decision::Accept {
                    reason: reason.clone(),
                    entered_on,
                    planned_end_on,
                },
            ),
            "reject" => Some(Decision::Reject {
                reason: reason.clone(),
            }),
            _ => {
                e.add("decision", Msg::new("error.field.choice"));
                None
            }
        };
        match decision {
            Some(d) if e.is_empty() => Ok(d),
            _ => Err(e),
        }
    }
}

/// A stay entered directly (a group taken in without a call, or recorded afterwards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStay {
    /// The application it came from, if any.
    pub application_id: Option<i64>,
    /// The organization, when a registered one is incubated.
    pub org_id: Option<i64>,
    /// The group's (or organization's) name at entry.
    pub group_name: String,
    /// Domain code.
    pub domain: String,
    /// 入孵日期.
    pub entered_on: NaiveDate,
    /// 计划出壳日期.
    pub planned_end_on: NaiveDate,
}

/// A service as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ServiceForm {
    /// Kind (`venue`, `training`, `registration`, `subsidy`).
    pub kind: String,
    /// 日期.
    pub given_on: String,
    /// 内容.
    pub description: String,
    /// Amount in yuan (micro-subsidies only).
    pub amount_yuan: String,
}

/// A checked service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewService {
    /// Kind.
    pub kind: ServiceKind,
    /// 日期.
    pub given_on: NaiveDate,
    /// 内容.
    pub description: String,
    /// Amount in fen: always for a subsidy, never for the others.
    pub amount_fen: Option<i64>,
}

impl ServiceForm {
    /// Checks the form, naming every bad field: a subsidy needs a positive amount in yuan (at
    /// most two decimals), the other services take none.
    pub fn parse(&self) -> Result<NewService, FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = ServiceKind::parse(&self.kind);
        if kind.is_none() {
            e.add("kind", Msg::new("error.field.choice"));
        }
        let given_on = date(&mut e, "given_on", &self.given_on);
        let description = text(&mut e, "description", &self.description, MAX_TEXT);
        let amount = self.amount_yuan.trim();
        let amount_fen = match kind {
            Some(ServiceKind::Subsidy) => {
                let fen = crate::party::forms::parse_yuan(amount);
                if fen.is_none() {
                    e.add("amount_yuan", Msg::new("incubation.error.subsidy_amount"));
                }
                fen
            }
            Some(_) if !amount.is_empty() => {
                e.add(
                    "amount_yuan",
                    Msg::new("incubation.error.amount_only_subsidy"),
                );
                None
            }
            _ => None,
        };
        match (kind, given_on, e.is_empty()) {
            (Some(kind), Some(given_on), true) => Ok(NewService {
                kind,
                given_on,
                description,
                amount_fen,
            }),
            _ => Err(e),
        }
    }
}

/// The end of a stay as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct EndForm {
    /// `graduated` or `exited`.
    pub outcome: String,
    /// 出壳/退出日期.
    pub ended_on: String,
    /// Why.
    pub reason: String,
}

/// A checked end of a stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndStay {
    /// Graduated or exited.
    pub outcome: Outcome,
    /// 日期.
    pub ended_on: NaiveDate,
    /// Why.
    pub reason: String,
}

impl EndForm {
    /// Checks the form, naming every bad field.
    pub fn parse(&self) -> Result<EndStay, FieldErrors> {
        let mut e = FieldErrors::new();
        let outcome = Outcome::parse(&self.outcome);
        if outcome.is_none() {
            e.add("outcome", Msg::new("error.field.choice"));
        }
        let ended_on = date(&mut e, "ended_on", &self.ended_on);
        let reason = text(&mut e, "reason", &self.reason, MAX_LONG);
        match (outcome, ended_on, e.is_empty()) {
            (Some(outcome), Some(ended_on), true) => Ok(EndStay {
                outcome,
                ended_on,
                reason,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_name_every_bad_field() {
        let e = IncubatorForm {
            level: "province".into(),
            capacity: "-3".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        for field in [
            "name",
            "level",
            "area_code",
            "focus",
            "capacity",
            "address",
            "operator",
        ] {
            assert!(e.get(field).is_some(), "{field}");
        }
        let e = CallForm {
            title: "2015年入壳征集".into(),
            opens_on: "2015-03-01".into(),
            closes_on: "2015-02-01".into(),
            places: "0".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert!(e.get("closes_on").is_some() && e.get("places").is_some());
        assert!(e.get("title").is_none());
        let e = DecisionForm {
            decision: "accept".into(),
            reason: "方向契合".into(),
            entered_on: "2015-03-01".into(),
            planned_end_on: "2015-02-01".into(),
        }
        .parse()
        .unwrap_err();
        assert_eq!(
            e.get("planned_end_on").unwrap().key,
            "incubation.error.end_before_entry"
        );
        let e = DecisionForm {
            decision: "reject".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert!(e.get("reason").is_some(), "a rejection needs its reason");
    }

    #[test]
    fn subsidies_are_positive_fen_and_only_subsidies_have_amounts() {
        let form = |kind: &str, amount: &str| ServiceForm {
            kind: kind.into(),
            given_on: "2015-01-05".into(),
            description: "启动资金".into(),
            amount_yuan: amount.into(),
        };
        assert_eq!(
            form("subsidy", "5000.5").parse().unwrap().amount_fen,
            Some(500_050)
        );
        for bad in ["-500", "0", "", "12.345", "五千"] {
            let e = form("subsidy", bad).parse().unwrap_err();
            assert!(e.get("amount_yuan").is_some(), "{bad}");
        }
        assert!(
            form("venue", "100")
                .parse()
                .unwrap_err()
                .get("amount_yuan")
                .is_some()
        );
        assert_eq!(form("training", "").parse().unwrap().amount_fen, None);
        assert_eq!(
            split_list("elderly_care、社区服务, 助残"),
            ["elderly_care", "社区服务", "助残"]
        );
    }
}
