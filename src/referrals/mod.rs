//! Referral tasks between departments and areas (联动协调机制, SPEC §3.13): a staff member sends
//! a matter about an organization (a complaint to market regulation, an address check to the
//! street) to another user, with a due date; the recipient replies and closes it.

pub mod pages;
pub mod store;

use crate::error::FieldErrors;
use crate::i18n::{Lang, Msg};
use chrono::NaiveDate;

/// Where a referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Sent, not answered yet.
    Open,
    /// The recipient has replied.
    Replied,
    /// Done.
    Closed,
}

impl Status {
    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Replied => "replied",
            Status::Closed => "closed",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<Status> {
        [Status::Open, Status::Replied, Status::Closed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// The name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(&format!("referral.status.{}", self.as_str()))
    }
}

/// True when a referral is past its due date and not closed.
pub fn is_overdue(status: Status, due_on: NaiveDate, today: NaiveDate) -> bool {
    status != Status::Closed && due_on < today
}

/// What a staff member typed to send a referral.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ReferralForm {
    /// The recipient's account name.
    pub to: String,
    /// 事由.
    pub subject: String,
    /// 详情.
    pub details: String,
    /// 办理期限.
    pub due_on: String,
}

/// A checked referral (the recipient still a name the store resolves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralDraft {
    /// Recipient's account name.
    pub to: String,
    /// 事由.
    pub subject: String,
    /// 详情.
    pub details: String,
    /// 办理期限.
    pub due_on: NaiveDate,
}

impl ReferralForm {
    /// Checks the form; the due date may not lie before `today`.
    pub fn parse(&self, today: NaiveDate) -> Result<ReferralDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let to = e.required_text("to", &self.to, 40);
        let subject = e.required_text("subject", &self.subject, 100);
        let details = e.required_text("details", &self.details, 4000);
        let due_on = match NaiveDate::parse_from_str(self.due_on.trim(), "%Y-%m-%d") {
            Ok(d) if d >= today => Some(d),
            Ok(_) => {
                e.add("due_on", Msg::new("referral.error.past_due"));
                None
            }
            Err(_) => {
                e.add("due_on", Msg::new("error.field.date"));
                None
            }
        };
        match due_on {
            Some(due_on) if e.is_empty() => Ok(ReferralDraft {
                to,
                subject,
                details,
                due_on,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_overdue() {
        let today = NaiveDate::from_ymd_opt(2014, 6, 1).unwrap();
        let f = ReferralForm {
            to: "tanggu".into(),
            subject: "核查住所".into(),
            details: "请核实该组织是否仍在登记住所办公。".into(),
            due_on: "2014-06-15".into(),
        };
        assert_eq!(
            f.parse(today).unwrap().due_on,
            NaiveDate::from_ymd_opt(2014, 6, 15).unwrap()
        );
        let past = ReferralForm {
            due_on: "2014-05-01".into(),
            ..f.clone()
        };
        assert_eq!(
            past.parse(today).unwrap_err().get("due_on").unwrap().key,
            "referral.error.past_due"
        );
        let empty = ReferralForm::default().parse(today).unwrap_err();
        for field in ["to", "subject", "details", "due_on"] {
            assert!(empty.get(field).is_some(), "{field}");
        }
        assert!(is_overdue(
            Status::Open,
            NaiveDate::from_ymd_opt(2014, 5, 31).unwrap(),
            today
        ));
        assert!(!is_overdue(
            Status::Closed,
            NaiveDate::from_ymd_opt(2014, 5, 31).unwrap(),
            today
        ));
        assert!(!is_overdue(Status::Replied, today, today));
    }
}
