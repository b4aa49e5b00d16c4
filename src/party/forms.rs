//! The smaller forms of the party-building database: cadres, instructors, activities and
//! payments, each parsed once into a checked value (field errors name the field).

use super::{ACTIVITY_KINDS, PartyOrgId, count_field, optional_date, required_date};
use crate::error::FieldErrors;
use crate::i18n::Msg;
use chrono::NaiveDate;

/// A party-affairs cadre (党务干部) as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct CadreForm {
    /// Name.
    pub name: String,
    /// Post (e.g. 专职党务工作者).
    pub post: String,
    /// First day in post.
    pub started_on: String,
    /// Last day in post, if it ended.
    pub ended_on: String,
}

/// A cadre, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCadre {
    /// Name.
    pub name: String,
    /// Post.
    pub post: String,
    /// First day.
    pub started_on: NaiveDate,
    /// Last day.
    pub ended_on: Option<NaiveDate>,
}

impl CadreForm {
    /// Checks every field.
    pub fn parse(&self) -> Result<NewCadre, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.required_text("name", &self.name, 50);
        let post = e.required_text("post", &self.post, 50);
        let started_on = required_date(&mut e, "started_on", &self.started_on);
        let ended_on = optional_date(&mut e, "ended_on", &self.ended_on);
        if ended_on.is_some_and(|end| end < started_on) {
            e.add("ended_on", Msg::new("party.error.end_before_start"));
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(NewCadre {
            name,
            post,
            started_on,
            ended_on,
        })
    }
}

/// An instructor as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct InstructorForm {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// The account they sign in with (an `instructor` account), if any.
    pub username: String,
    /// Date appointed.
    pub appointed_on: String,
}

/// An instructor, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInstructor {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Account name, if any.
    pub username: Option<String>,
    /// Date appointed.
    pub appointed_on: NaiveDate,
}

impl InstructorForm {
    /// Checks every field.
    pub fn parse(&self) -> Result<NewInstructor, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.required_text("name", &self.name, 50);
        let phone = self.phone.trim().to_owned();
        if phone.chars().count() > 30 {
            e.add("phone", Msg::new("error.field.too_long").with("max", 30));
        }
        let username = Some(self.username.trim().to_owned()).filter(|u| !u.is_empty());
        let appointed_on = required_date(&mut e, "appointed_on", &self.appointed_on);
        if !e.is_empty() {
            return Err(e);
        }
        Ok(NewInstructor {
            name,
            phone,
            username,
            appointed_on,
        })
    }
}

/// An activity-log entry as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ActivityForm {
    /// Date held.
    pub held_on: String,
    /// One of [`ACTIVITY_KINDS`].
    pub kind: String,
    /// Title.
    pub title: String,
    /// People attending.
    pub attendance: String,
}

/// An activity, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    /// Date held.
    pub held_on: NaiveDate,
    /// Kind (machine name).
    pub kind: &'static str,
    /// Title.
    pub title: String,
    /// Attendance.
    pub attendance: i64,
}

impl ActivityForm {
    /// Checks every field; an activity cannot be logged ahead of `today`.
    pub fn parse(&self, today: NaiveDate) -> Result<NewActivity, FieldErrors> {
        let mut e = FieldErrors::new();
        let held_on = required_date(&mut e, "held_on", &self.held_on);
        if e.get("held_on").is_none() && held_on > today {
            e.add("held_on", Msg::new("party.error.future"));
        }
        let kind = ACTIVITY_KINDS
            .into_iter()
            .find(|k| *k == self.kind.trim())
            .unwrap_or_else(|| {
                e.add("kind", Msg::new("error.field.choice"));
                ""
            });
        let title = e.required_text("title", &self.title, 100);
        let attendance = count_field(&mut e, "attendance", &self.attendance, 1, 10_000);
        if !e.is_empty() {
            return Err(e);
        }
        Ok(NewActivity {
            held_on,
            kind,
            title,
            attendance,
        })
    }
}

/// A payment as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PaymentForm {
    /// Party organization id.
    pub party_org: String,
    /// Budget year.
    pub year: String,
    /// Date paid.
    pub paid_on: String,
    /// Amount in yuan.
    pub amount_yuan: String,
    /// Note.
    pub note: String,
}

/// A payment, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPayment {
    /// The party organization paid.
    pub party_org: PartyOrgId,
    /// Budget year.
    pub year: i64,
    /// Date paid.
    pub paid_on: NaiveDate,
    /// Amount in fen.
    pub amount_fen: i64,
    /// Note.
    pub note: String,
}

/// Parses an amount in yuan with at most two decimals into fen (positive).
pub fn parse_yuan(value: &str) -> Option<i64> {
    let v = value.trim();
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    if whole.is_empty() || frac.len() > 2 || !whole.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac).filter(|f| *f > 0)
}

impl PaymentForm {
    /// Checks every field.
    pub fn parse(&self) -> Result<NewPayment, FieldErrors> {
        let mut e = FieldErrors::new();
        let party_org = match self.party_org.trim().parse::<i64>() {
            Ok(id) if id > 0 => id,
            _ => {
                e.add("party_org", Msg::new("error.field.required"));
                0
            }
        };
        let year = count_field(&mut e, "year", &self.year, 2000, 2100);
        let paid_on = required_date(&mut e, "paid_on", &self.paid_on);
        let amount_fen = parse_yuan(&self.amount_yuan).unwrap_or_else(|| {
            e.add("amount_yuan", Msg::new("error.field.money"));
            0
        });
        let note = self.note.trim().to_owned();
        if note.chars().count() > 200 {
            e.add("note", Msg::new("error.field.too_long").with("max", 200));
        }
        if !e.is_empty() {
            return Err(e);
        }
        Ok(NewPayment {
            party_org: PartyOrgId(party_org),
            year,
            paid_on,
            amount_fen,
            note,
        })
    }
}
