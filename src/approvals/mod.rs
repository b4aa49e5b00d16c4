//! Online registration and one-stop approval (网上登记, 一站式审批): application kinds, the
//! state machine each application moves through, who may move it, the direct-registration rule
//! and the statutory clock. Everything here is pure; `store.rs` and `pages.rs` do the IO.

pub mod documents;
pub mod pages;
pub mod store;

use crate::i18n::{Lang, Msg};
use crate::registry::OrgKind;
use chrono::NaiveDate;

/// Database id of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ApplicationId(pub i64);

impl From<ApplicationId> for crate::db::Arg {
    fn from(id: ApplicationId) -> Self {
        crate::db::Arg::Int(id.0)
    }
}

/// What an application asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationKind {
    /// 筹备申请: a social group's promoters ask to prepare (DOMAIN §2.3); approval records the
    /// group as "in preparation", and its establishment follows after the founding meeting.
    Preparation,
    /// 成立登记: a new social group, private non-enterprise unit or foundation.
    Establishment,
    /// 变更登记: a change of registered facts.
    Change,
    /// 注销登记: deregistration after liquidation.
    Deregistration,
    /// 备案: filing of a community organization with its street.
    Filing,
}

impl ApplicationKind {
    /// Every kind.
    pub const ALL: [ApplicationKind; 5] = [
        ApplicationKind::Preparation,
        ApplicationKind::Establishment,
        ApplicationKind::Change,
        ApplicationKind::Deregistration,
        ApplicationKind::Filing,
    ];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationKind::Preparation => "preparation",
            ApplicationKind::Establishment => "establishment",
            ApplicationKind::Change => "change",
            ApplicationKind::Deregistration => "deregistration",
            ApplicationKind::Filing => "filing",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<ApplicationKind> {
        ApplicationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
    }

    /// The kind's name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(&format!("application.kind.{}", self.as_str()))
    }

    /// The setting that holds this kind's statutory time limit in days (DOMAIN §2.3).
    pub fn limit_setting(self, org: OrgKind) -> &'static str {
        match (self, org) {
            (ApplicationKind::Preparation, _) => "limit_days_preparation",
            (ApplicationKind::Establishment, OrgKind::SocialGroup) => {
                "limit_days_social_group_establishment"
            }
            (ApplicationKind::Establishment, _) => "limit_days_establishment",
            (ApplicationKind::Change, _) => "limit_days_change",
            (ApplicationKind::Deregistration, _) => "limit_days_deregistration",
            (ApplicationKind::Filing, _) => "limit_days_filing",
        }
    }
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// 草稿: being written by the applicant, invisible to staff.
    Draft,
    /// 已提交: waiting for the window to accept it.
    Submitted,
    /// 已受理: accepted; the statutory clock runs.
    Accepted,
    /// 审查中: under review by the registrar.
    UnderReview,
    /// 退回补正: back with the applicant for correction; the clock is paused.
    Returned,
    /// 准予: approved; the registry has been updated.
    Approved,
    /// 不予: refused, with reasons.
    Rejected,
    /// 已撤回: withdrawn by the applicant.
    Withdrawn,
}

impl State {
    /// Every state.
    pub const ALL: [State; 8] = [
        State::Draft,
        State::Submitted,
        State::Accepted,
        State::UnderReview,
        State::Returned,
        State::Approved,
        State::Rejected,
        State::Withdrawn,
    ];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Submitted => "submitted",
            State::Accepted => "accepted",
            State::UnderReview => "under_review",
            State::Returned => "returned",
            State::Approved => "approved",
            State::Rejected => "rejected",
            State::Withdrawn => "withdrawn",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// The state's name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(&format!("application.state.{}", self.as_str()))
    }

    /// True once nothing more can happen.
    pub fn is_final(self) -> bool {
        matches!(self, State::Approved | State::Rejected | State::Withdrawn)
    }

    /// True while the statutory clock runs (accepted and not returned or decided).
    pub fn clock_runs(self) -> bool {
        matches!(self, State::Accepted | State::UnderReview)
    }
}

/// Something done to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The applicant sends the draft.
    Submit,
    /// The applicant takes it back.
    Withdraw,
    /// 受理: the window accepts it (the clock starts).
    Accept,
    /// The registrar starts the review.
    StartReview,
    /// 补正: staff send it back for correction, with reasons.
    Return,
    /// The applicant sends the corrected application again.
    Resubmit,
    /// 准予.
    Approve,
    /// 不予, with reasons.
    Reject,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 8] = [
        Action::Submit,
        Action::Withdraw,
        Action::Accept,
        Action::StartReview,
        Action::Return,
        Action::Resubmit,
        Action::Approve,
        Action::Reject,
    ];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Withdraw => "withdraw",
            Action::Accept => "accept",
            Action::StartReview => "start_review",
            Action::Return => "return",
            Action::Resubmit => "resubmit",
            Action::Approve => "approve",
            Action::Reject => "reject",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// True when the action needs a written reason (it goes back to the applicant).
    pub fn needs_reason(self) -> bool {
        matches!(self, Action::Return | Action::Reject)
    }
}

/// Who acts on an application, as far as the state machine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The organization or applicant that filed it.
    Applicant,
    /// One-stop window staff (受理, 补正).
    Window,
    /// Registration staff (审查, 准予, 不予).
    Registrar,
    /// A street or functional-area officer: decides filings in their area.
    AreaOfficer,
}

/// Why a transition is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionError {
    /// Nobody may do this in this state.
    NotInThisState,
    /// Someone may, but not this actor.
    NotForThisActor,
}

impl TransitionError {
    /// The message for a person.
    pub fn message(self) -> Msg {
        match self {
            TransitionError::NotInThisState => Msg::new("application.error.not_in_state"),
            TransitionError::NotForThisActor => Msg::new("application.error.not_for_actor"),
        }
    }
}

/// The state machine (pure): the state `action` by `actor` leads to from `state`, for an
/// application of `kind` that has (`was_accepted`) or has not been accepted before.
pub fn transition(
    kind: ApplicationKind,
    state: State,
    action: Action,
    actor: Actor,
    was_accepted: bool,
) -> Result<State, TransitionError> {
    use Action::*;
    use State::*;
    let next = match (state, action) {
        (Draft, Submit) => Submitted,
        (Draft | Submitted | Returned, Withdraw) => Withdrawn,
        (Submitted, Accept) => Accepted,
        (Accepted, StartReview) => UnderReview,
        (Submitted | Accepted | UnderReview, Return) => Returned,
        // A corrected application goes back where it was: to the window if never accepted,
        // otherwise straight back under review (the clock resumes).
        (Returned, Resubmit) => {
            if was_accepted {
                UnderReview
            } else {
                Submitted
            }
        }
        (UnderReview, Approve | Reject) => {
            if action == Approve {
                Approved
            } else {
                Rejected
            }
        }
        _ => return Err(TransitionError::NotInThisState),
    };
    let allowed = match action {
        Submit | Withdraw | Resubmit => actor == Actor::Applicant,
        Accept | Return => {
            matches!(actor, Actor::Window | Actor::Registrar)
                || (kind == ApplicationKind::Filing && actor == Actor::AreaOfficer)
        }
        StartReview | Approve | Reject => {
            actor == Actor::Registrar
                || (kind == ApplicationKind::Filing && actor == Actor::AreaOfficer)
        }
    };
    if allowed {
        Ok(next)
    } else {
        Err(TransitionError::NotForThisActor)
    }
}

/// The direct-registration rule (DOMAIN §2.2): an establishment of a registered kind needs the
/// supervisory unit's consent unless its domain is one of the four direct-registration
/// categories; filings, changes and deregistrations never ask for it here.
pub fn needs_supervisor_consent(
    kind: ApplicationKind,
    org: OrgKind,
    domain_eligible_for_direct: bool,
) -> bool {
    // A social group's consent comes with its preparation; its establishment does not repeat it.
    let founding = match kind {
        ApplicationKind::Preparation => true,
        ApplicationKind::Establishment => org != OrgKind::SocialGroup,
        _ => false,
    };
    founding && org.is_registered() && !domain_eligible_for_direct
}

/// The day a statutory limit of `limit_days` calendar days runs out, counted from the day of
/// acceptance, extended by the days the application spent returned for correction.
pub fn deadline(accepted_on: NaiveDate, limit_days: i64, paused_days: i64) -> NaiveDate {
    accepted_on + chrono::Duration::days(limit_days + paused_days.max(0))
}

/// How statutory limits are counted (⚠️ DOMAIN §2.3: local rules say calendar or working days).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    /// Count working days (Monday–Friday, less holidays, plus make-up working weekends).
    pub working_days: bool,
    /// Public holidays (法定节假日) falling on weekdays.
    pub holidays: std::collections::BTreeSet<NaiveDate>,
    /// Weekend days that are working days (调休上班).
    pub makeup_workdays: std::collections::BTreeSet<NaiveDate>,
}

impl Calendar {
    /// True when `day` is a working day.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        use chrono::Datelike;
        if self.makeup_workdays.contains(&day) {
            return true;
        }
        let weekend = matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
        !weekend && !self.holidays.contains(&day)
    }

    /// The day a limit of `limit` days (calendar or working, as configured) runs out, counted
    /// from the day of acceptance, extended by the calendar days spent returned for correction.
    pub fn deadline(&self, accepted_on: NaiveDate, limit: i64, paused_days: i64) -> NaiveDate {
        if !self.working_days {
            return deadline(accepted_on, limit, paused_days);
        }
        let mut day = accepted_on;
        let mut counted = 0;
        while counted < limit {
            day = day.succ_opt().unwrap_or(day);
            if self.is_working_day(day) {
                counted += 1;
            }
        }
        day + chrono::Duration::days(paused_days.max(0))
    }

    /// Parses the settings' lists of dates (`2014-10-01,2014-10-02`): the first bad entry is an
    /// error naming it.
    pub fn parse_dates(text: &str) -> Result<std::collections::BTreeSet<NaiveDate>, String> {
        text.split([',', '，', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| s.to_owned()))
            .collect()
    }
}

/// Days left until `deadline` on `today` (negative: overdue by that many days).
pub fn days_left(deadline: NaiveDate, today: NaiveDate) -> i64 {
    (deadline - today).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use State::*;

    /// Every (state, action, actor) the machine allows, with the state it leads to, for an
    /// establishment never accepted before. Everything not listed is refused.
    const ALLOWED: &[(State, Action, Actor, State)] = &[
        (Draft, Submit, Actor::Applicant, Submitted),
        (Draft, Withdraw, Actor::Applicant, Withdrawn),
        (Submitted, Withdraw, Actor::Applicant, Withdrawn),
        (Returned, Withdraw, Actor::Applicant, Withdrawn),
        (Submitted, Accept, Actor::Window, Accepted),
        (Submitted, Accept, Actor::Registrar, Accepted),
        (Submitted, Return, Actor::Window, Returned),
        (Submitted, Return, Actor::Registrar, Returned),
        (Accepted, Return, Actor::Window, Returned),
        (Accepted, Return, Actor::Registrar, Returned),
        (UnderReview, Return, Actor::Window, Returned),
        (UnderReview, Return, Actor::Registrar, Returned),
        (Accepted, StartReview, Actor::Registrar, UnderReview),
        (Returned, Resubmit, Actor::Applicant, Submitted),
        (UnderReview, Approve, Actor::Registrar, Approved),
        (UnderReview, Reject, Actor::Registrar, Rejected),
    ];

    const ACTORS: [Actor; 4] = [
        Actor::Applicant,
        Actor::Window,
        Actor::Registrar,
        Actor::AreaOfficer,
    ];

    #[test]
    fn the_establishment_machine_allows_exactly_the_table() {
        for state in State::ALL {
            for action in Action::ALL {
                for actor in ACTORS {
                    let expected = ALLOWED
                        .iter()
                        .find(|(s, a, who, _)| *s == state && *a == action && *who == actor)
                        .map(|(_, _, _, next)| *next);
                    let got =
                        transition(ApplicationKind::Establishment, state, action, actor, false)
                            .ok();
                    assert_eq!(got, expected, "{state:?} {action:?} by {actor:?}");
                }
            }
        }
    }

    #[test]
    fn area_officers_decide_filings_only() {
        let k = ApplicationKind::Filing;
        assert_eq!(
            transition(k, Submitted, Accept, Actor::AreaOfficer, false),
            Ok(Accepted)
        );
        assert_eq!(
            transition(k, UnderReview, Approve, Actor::AreaOfficer, true),
            Ok(Approved)
        );
        assert_eq!(
            transition(
                ApplicationKind::Change,
                UnderReview,
                Approve,
                Actor::AreaOfficer,
                true
            ),
            Err(TransitionError::NotForThisActor)
        );
        assert_eq!(
            transition(k, UnderReview, Approve, Actor::Window, true),
            Err(TransitionError::NotForThisActor)
        );
    }

    #[test]
    fn a_corrected_application_returns_where_it_was() {
        let k = ApplicationKind::Change;
        assert_eq!(
            transition(k, Returned, Resubmit, Actor::Applicant, true),
            Ok(UnderReview)
        );
        assert_eq!(
            transition(k, Returned, Resubmit, Actor::Applicant, false),
            Ok(Submitted)
        );
        assert_eq!(
            transition(k, Approved, Reject, Actor::Registrar, true),
            Err(TransitionError::NotInThisState)
        );
    }

    #[test]
    fn direct_registration_rule() {
        use ApplicationKind as K;
        // (kind, organization kind, domain eligible for direct registration) → needs consent
        let table = [
            (K::Preparation, OrgKind::SocialGroup, true, false),
            (K::Preparation, OrgKind::SocialGroup, false, true),
            (K::Establishment, OrgKind::SocialGroup, false, false),
            (K::Establishment, OrgKind::PrivateNonEnterprise, false, true),
            (K::Establishment, OrgKind::PrivateNonEnterprise, true, false),
            (K::Establishment, OrgKind::Foundation, false, true),
            (K::Filing, OrgKind::Community, false, false),
            (K::Change, OrgKind::SocialGroup, false, false),
            (
                K::Deregistration,
                OrgKind::PrivateNonEnterprise,
                false,
                false,
            ),
        ];
        for (kind, org, eligible, needs) in table {
            assert_eq!(
                needs_supervisor_consent(kind, org, eligible),
                needs,
                "{kind:?} {org:?} {eligible}"
            );
        }
    }

    #[test]
    fn every_limit_and_label_exists() {
        for kind in ApplicationKind::ALL {
            for org in OrgKind::ALL {
                let key = kind.limit_setting(*org);
                assert!(crate::settings::SettingDef::find(key).is_some(), "{key}");
            }
            assert!(!kind.label(Lang::En).starts_with("application."));
        }
        for state in State::ALL {
            assert!(
                !state.label(Lang::Zh).starts_with("application."),
                "{state:?}"
            );
        }
        for action in Action::ALL {
            let key = format!("application.action.{}", action.as_str());
            assert_ne!(Lang::Zh.t(&key), key);
        }
    }

    #[test]
    fn working_days_skip_weekends_and_holidays_and_count_makeup_days() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let mut cal = Calendar {
            working_days: true,
            ..Calendar::default()
        };
        // Accepted Friday 2014-09-26: ten working days end Friday 2014-10-10 without holidays.
        assert_eq!(cal.deadline(d(2014, 9, 26), 10, 0), d(2014, 10, 10));
        // With the National Day week off (10-01..10-07; 10-01..10-03 and 10-06, 10-07 weekdays)
        // and the make-up Sunday 09-28 and Saturday 10-11 worked:
        cal.holidays =
            Calendar::parse_dates("2014-10-01,2014-10-02,2014-10-03,2014-10-06,2014-10-07")
                .unwrap();
        cal.makeup_workdays = Calendar::parse_dates("2014-09-28 2014-10-11").unwrap();
        // 09-28, 09-29, 09-30, 10-08, 10-09, 10-10, 10-11, 10-13, 10-14, 10-15
        assert_eq!(cal.deadline(d(2014, 9, 26), 10, 0), d(2014, 10, 15));
        assert_eq!(cal.deadline(d(2014, 9, 26), 10, 3), d(2014, 10, 18));
        assert!(
            Calendar::parse_dates("2014-10-01,2014-13-01")
                .unwrap_err()
                .contains("2014-13-01")
        );
        let calendar_days = Calendar::default();
        assert_eq!(calendar_days.deadline(d(2014, 3, 1), 60, 0), d(2014, 4, 30));
    }

    #[test]
    fn the_clock_pauses_while_returned() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(deadline(d(2014, 3, 1), 60, 0), d(2014, 4, 30));
        assert_eq!(deadline(d(2014, 3, 1), 60, 10), d(2014, 5, 10));
        assert_eq!(days_left(d(2014, 4, 30), d(2014, 5, 2)), -2);
    }
}

/// One decided application, as the processing-time figures need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// Kind.
    pub kind: ApplicationKind,
    /// Day of acceptance (China time).
    pub accepted_on: NaiveDate,
    /// Day of the decision (China time).
    pub decided_on: NaiveDate,
    /// Days returned for correction (not counted).
    pub paused_days: i64,
    /// The statutory limit that applied.
    pub limit_days: i64,
}

impl Decided {
    /// Working time of the authority: days from acceptance to decision, less paused days.
    pub fn days(&self) -> i64 {
        ((self.decided_on - self.accepted_on).num_days() - self.paused_days).max(0)
    }
}

/// Processing-time figures for one kind and month of decision (缩短审批时间, measured).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Kind.
    pub kind: ApplicationKind,
    /// Month of decision, `YYYY-MM`.
    pub month: String,
    /// Applications decided.
    pub decided: usize,
    /// Median processing days.
    pub median_days: f64,
    /// 90th-percentile processing days (nearest rank).
    pub p90_days: i64,
    /// Share decided within the statutory limit (0–1).
    pub within_limit: f64,
}

/// Groups decided applications by kind and month and computes median, 90th percentile and the
/// share decided within the limit on `calendar` (pure: the figures come from the records, never
/// stored).
pub fn figures(decided: &[Decided], calendar: &Calendar) -> Vec<Figure> {
    let mut groups: std::collections::BTreeMap<(String, &'static str), Vec<&Decided>> =
        Default::default();
    for d in decided {
        groups
            .entry((d.decided_on.format("%Y-%m").to_string(), d.kind.as_str()))
            .or_default()
            .push(d);
    }
    groups
        .into_iter()
        .map(|((month, kind), items)| {
            let mut days: Vec<i64> = items.iter().map(|d| d.days()).collect();
            days.sort_unstable();
            let n = days.len();
            let median_days = if n % 2 == 1 {
                days[n / 2] as f64
            } else {
                (days[n / 2 - 1] + days[n / 2]) as f64 / 2.0
            };
            let p90_days = days[((n as f64 * 0.9).ceil() as usize).clamp(1, n) - 1];
            let within = items
                .iter()
                .filter(|d| {
                    d.decided_on <= calendar.deadline(d.accepted_on, d.limit_days, d.paused_days)
                })
                .count();
            Figure {
                kind: ApplicationKind::parse(kind).unwrap_or(ApplicationKind::Establishment),
                month,
                decided: n,
                median_days,
                p90_days,
                within_limit: within as f64 / n as f64,
            }
        })
        .collect()
}

#[cfg(test)]
mod figure_tests {
    use super::*;

    fn decided(
        kind: ApplicationKind,
        accepted: (i32, u32, u32),
        decided: (i32, u32, u32),
        paused: i64,
    ) -> Decided {
        Decided {
            kind,
            accepted_on: NaiveDate::from_ymd_opt(accepted.0, accepted.1, accepted.2).unwrap(),
            decided_on: NaiveDate::from_ymd_opt(decided.0, decided.1, decided.2).unwrap(),
            paused_days: paused,
            limit_days: 30,
        }
    }

    #[test]
    fn median_p90_and_share_within_the_limit() {
        use ApplicationKind::*;
        let rows = [
            decided(Filing, (2014, 5, 1), (2014, 5, 11), 0), // 10 days
            decided(Filing, (2014, 5, 1), (2014, 5, 21), 0), // 20
            decided(Filing, (2014, 4, 1), (2014, 5, 31), 10), // 50
            decided(Change, (2014, 5, 1), (2014, 5, 5), 0),  // 4, another kind
            decided(Filing, (2014, 6, 1), (2014, 6, 3), 0),  // another month
        ];
        let f = figures(&rows, &Calendar::default());
        let may = f
            .iter()
            .find(|x| x.kind == Filing && x.month == "2014-05")
            .unwrap();
        assert_eq!(may.decided, 3);
        assert_eq!(may.median_days, 20.0);
        assert_eq!(may.p90_days, 50);
        assert!((may.within_limit - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(f.len(), 3);
    }
}
