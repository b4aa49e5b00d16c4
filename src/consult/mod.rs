//! Online consultation (在线咨询, SPEC §3.3): anyone asks, with a contact; window staff answer
//! under first-inquiry ownership; answered questions can be published as a public FAQ.

pub mod pages;
pub mod store;

use crate::error::FieldErrors;
use crate::i18n::Msg;

/// Questions one address may ask within an hour (the public form's rate limit).
pub const MAX_QUESTIONS_PER_HOUR: i64 = 5;

/// What someone typed into the consultation form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct QuestionForm {
    /// 称呼.
    pub name: String,
    /// 联系方式 (phone or e-mail).
    pub contact: String,
    /// 咨询内容.
    pub question: String,
}

/// A checked question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// 称呼.
    pub name: String,
    /// 联系方式.
    pub contact: String,
    /// 咨询内容.
    pub question: String,
}

impl QuestionForm {
    /// Checks the form: every field present, within its length; the contact looks like a
    /// phone number or an e-mail address.
    pub fn parse(&self) -> Result<Question, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.required_text("name", &self.name, 50);
        let contact = e.required_text("contact", &self.contact, 100);
        let question = e.required_text("question", &self.question, 2000);
        let digits = contact.chars().filter(char::is_ascii_digit).count();
        if !contact.is_empty() && !contact.contains('@') && digits < 7 {
            e.add("contact", Msg::new("consult.error.contact"));
        }
        if e.is_empty() {
            Ok(Question {
                name,
                contact,
                question,
            })
        } else {
            Err(e)
        }
    }
}

/// The median of some durations in hours (0 for none).
pub fn median_hours(mut hours: Vec<f64>) -> f64 {
    if hours.is_empty() {
        return 0.0;
    }
    hours.sort_by(f64::total_cmp);
    let n = hours.len();
    if n % 2 == 1 {
        hours[n / 2]
    } else {
        (hours[n / 2 - 1] + hours[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_checked() {
        let ok = QuestionForm {
            name: "李先生".into(),
            contact: "13800001111".into(),
            question: "成立社区社会组织需要哪些材料？".into(),
        };
        assert!(ok.parse().is_ok());
        let bad = QuestionForm {
            contact: "abc".into(),
            ..QuestionForm::default()
        };
        let e = bad.parse().unwrap_err();
        assert!(e.get("name").is_some() && e.get("question").is_some());
        assert_eq!(e.get("contact").unwrap().key, "consult.error.contact");
        let mail = QuestionForm {
            contact: "li@example.org".into(),
            ..ok
        };
        assert!(mail.parse().is_ok());
    }

    #[test]
    fn median() {
        assert_eq!(median_hours(vec![]), 0.0);
        assert_eq!(median_hours(vec![5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median_hours(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
