//! People (人员) and their roles in organizations, kept to detect conflicts of interest from the
//! registry: an identity-card number is never stored in clear, only a salted hash to match the
//! same person across records and a masked form to show. A person can be linked to a user
//! account (an expert), so an expert's roles are known when they are assigned to review.

pub mod pages;
pub mod store;

use crate::error::{FieldErrors, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

/// Database id of a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PersonId(pub i64);

impl From<PersonId> for crate::db::Arg {
    fn from(id: PersonId) -> Self {
        crate::db::Arg::Int(id.0)
    }
}

/// A role a person holds in an organization (任职).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrgRole {
    /// 法定代表人.
    LegalRepresentative,
    /// 负责人 / 理事 (officer).
    Officer,
    /// 专职工作人员.
    Staff,
    /// 会员.
    Member,
}

impl OrgRole {
    /// Every role.
    pub const ALL: [OrgRole; 4] = [
        OrgRole::LegalRepresentative,
        OrgRole::Officer,
        OrgRole::Staff,
        OrgRole::Member,
    ];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::LegalRepresentative => "legal_representative",
            OrgRole::Officer => "officer",
            OrgRole::Staff => "staff",
            OrgRole::Member => "member",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<OrgRole> {
        OrgRole::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// The catalogue key of its name.
    pub fn key(self) -> String {
        format!("people.role.{}", self.as_str())
    }
}

/// The check character of an 18-character identity-card number (GB 11643) for its first 17
/// digits.
pub fn id_check_char(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    Some(CHECK[(sum % 11) as usize])
}

/// A checked identity-card number: 18 characters, upper-case, with a right check character.
pub fn normalise_id_number(raw: &str) -> Option<String> {
    let v: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if v.len() != 18 || !v.is_ascii() {
        return None;
    }
    let (head, last) = v.split_at(17);
    (id_check_char(head)? == last.chars().next()?).then_some(v)
}

/// The masked form shown on pages: the first four and last four characters.
pub fn mask_id_number(id: &str) -> String {
    let n = id.chars().count();
    id.chars()
        .enumerate()
        .map(|(i, c)| if i < 4 || i + 4 >= n { c } else { '*' })
        .collect()
}

/// The salted hash stored to match the same number (hex SHA-256 of salt and number).
pub fn hash_id_number(salt: &str, id: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(id.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A new person, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    /// Name.
    pub name: String,
    /// The normalised identity-card number (hashed and masked before it is stored).
    pub id_number: String,
}

/// The person form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PersonForm {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Identity-card number.
    #[serde(default)]
    pub id_number: String,
}

impl PersonForm {
    /// Checks the form.
    pub fn parse(&self) -> Result<NewPerson> {
        let mut errors = FieldErrors::new();
        let name = errors.required_text("name", &self.name, 50);
        let id_number = normalise_id_number(&self.id_number).unwrap_or_else(|| {
            errors.add("id_number", Msg::new("people.error.id_number"));
            String::new()
        });
        errors.into_result(NewPerson { name, id_number })
    }
}

/// A role to record, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrgRole {
    /// The organization.
    pub org_id: i64,
    /// The role.
    pub role: OrgRole,
    /// Since.
    pub started_on: NaiveDate,
    /// Until (none: still held).
    pub ended_on: Option<NaiveDate>,
}

/// The role form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct OrgRoleForm {
    /// Organization id.
    #[serde(default)]
    pub org: String,
    /// Role machine name.
    #[serde(default)]
    pub role: String,
    /// Since.
    #[serde(default)]
    pub started_on: String,
    /// Until.
    #[serde(default)]
    pub ended_on: String,
}

impl OrgRoleForm {
    /// Checks the form (the organization's existence is checked by the store).
    pub fn parse(&self) -> Result<NewOrgRole> {
        let mut errors = FieldErrors::new();
        let org_id = self.org.trim().parse::<i64>().unwrap_or_else(|_| {
            errors.add("org", Msg::new("error.field.choice"));
            0
        });
        let role = OrgRole::parse(&self.role).unwrap_or_else(|| {
            errors.add("role", Msg::new("error.field.choice"));
            OrgRole::Member
        });
        let date = |errors: &mut FieldErrors, field: &'static str, v: &str| {
            NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .map_err(|_| errors.add(field, Msg::new("error.field.date")))
                .ok()
        };
        let started_on = date(&mut errors, "started_on", &self.started_on);
        let ended_on = if self.ended_on.trim().is_empty() {
            None
        } else {
            date(&mut errors, "ended_on", &self.ended_on)
        };
        if let (Some(s), Some(e)) = (started_on, ended_on)
            && e < s
        {
            errors.add("ended_on", Msg::new("people.error.end_before_start"));
        }
        errors.into_result(NewOrgRole {
            org_id,
            role,
            started_on: started_on.unwrap_or(NaiveDate::MIN),
            ended_on,
        })
    }
}

/// How the organization where a person holds a role relates to the applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    /// It is the applicant.
    Applicant,
    /// It shares the applicant's joint party organization (联合党组织).
    JointParty,
    /// It has the same legal representative as the applicant.
    SharedLegalRepresentative,
}

impl Relation {
    /// The catalogue key of the reason.
    pub fn key(self) -> &'static str {
        match self {
            Relation::Applicant => "people.conflict.applicant",
            Relation::JointParty => "people.conflict.joint_party",
            Relation::SharedLegalRepresentative => "people.conflict.shared_legal_rep",
        }
    }
}

/// A detected conflict of interest, with everything its reason names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// How the organization relates to the applicant.
    pub relation: Relation,
    /// The organization where the person holds (held) the role.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// The role.
    pub role: OrgRole,
    /// When it ended (none: still held).
    pub ended_on: Option<NaiveDate>,
}

impl Conflict {
    /// The reason in words.
    pub fn reason(&self) -> Msg {
        let msg = Msg::new(self.relation.key())
            .with("org", &self.org_name)
            .with_key("role", self.role.key());
        match self.ended_on {
            Some(d) => msg.with("until", d),
            None => msg.with_key("until", "people.present"),
        }
    }
}

/// True when a role held from `started_on` to `ended_on` counts on `on` with a look-back of
/// `months`: it started by then and had not ended more than `months` before.
pub fn role_counts(
    started_on: NaiveDate,
    ended_on: Option<NaiveDate>,
    on: NaiveDate,
    months: u32,
) -> bool {
    let since = on
        .checked_sub_months(chrono::Months::new(months))
        .unwrap_or(NaiveDate::MIN);
    started_on <= on && ended_on.is_none_or(|e| e >= since)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn id_numbers_are_checked_masked_and_hashed() {
        let head = "12010719800101123";
        let id = format!("{head}{}", id_check_char(head).unwrap());
        assert_eq!(normalise_id_number(&id.to_lowercase()), Some(id.clone()));
        assert_eq!(
            normalise_id_number(&format!("{head}0")).is_some(),
            id.ends_with('0')
        );
        assert_eq!(
            mask_id_number(&id).chars().filter(|c| *c == '*').count(),
            10
        );
        assert!(mask_id_number(&id).starts_with("1201"));
        assert_ne!(hash_id_number("a", &id), hash_id_number("b", &id));
        assert!(!hash_id_number("a", &id).contains(head));
    }

    #[test]
    fn a_role_counts_for_two_years_after_it_ended() {
        let on = d("2014-06-01");
        assert!(role_counts(d("2010-01-01"), None, on, 24));
        assert!(role_counts(d("2010-01-01"), Some(d("2012-06-01")), on, 24));
        assert!(!role_counts(d("2010-01-01"), Some(d("2012-05-31")), on, 24));
        assert!(!role_counts(d("2014-07-01"), None, on, 24));
    }
}
