//! Hub management (枢纽式服务管理, "以社管社", SPEC §3.7): a federation of social organizations
//! (社会组织联合会) in each street or town with its member organizations, a liaison point
//! (社会组织联络点) with its liaison person (联络员) in each community or village, and the
//! four-level network view that counts them from the district down to one community.

pub mod demo;
pub mod pages;
pub mod store;

use crate::error::FieldErrors;
use crate::i18n::Msg;
use chrono::NaiveDate;

/// Longest name, person or address, in characters.
const MAX_TEXT: usize = 100;

/// A required short text: trimmed, not empty, at most [`MAX_TEXT`] characters.
fn required(e: &mut FieldErrors, field: &'static str, value: &str) -> String {
    e.required_text(field, value, MAX_TEXT)
}

/// An optional date (`YYYY-MM-DD`).
fn optional_date(e: &mut FieldErrors, field: &'static str, value: &str) -> Option<NaiveDate> {
    e.optional_date(field, value)
}

/// A telephone number: digits, spaces, `-`, `+` and parentheses, 5–20 of them.
pub(crate) fn phone(e: &mut FieldErrors, field: &'static str, value: &str) -> String {
    let v = value.trim();
    let ok = (5..=20).contains(&v.chars().count())
        && v.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | ' ' | '(' | ')'));
    if !ok {
        e.add(field, Msg::new("hubs.error.phone"));
    }
    v.to_owned()
}

/// A federation as typed into its form.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct FederationForm {
    /// The street or town (division code), for a new federation.
    pub area_code: String,
    /// 名称.
    pub name: String,
    /// 成立日期.
    pub founded_on: String,
    /// 会长.
    pub chair: String,
    /// 秘书长.
    pub secretary_general: String,
    /// 联系电话.
    pub contact_phone: String,
}

/// A checked federation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Federation {
    /// 名称.
    pub name: String,
    /// 成立日期.
    pub founded_on: Option<NaiveDate>,
    /// 会长.
    pub chair: String,
    /// 秘书长.
    pub secretary_general: String,
    /// 联系电话.
    pub contact_phone: String,
}

impl FederationForm {
    /// Checks the form, naming every bad field.
    pub fn parse(&self) -> Result<Federation, FieldErrors> {
        let mut e = FieldErrors::new();
        let f = Federation {
            name: required(&mut e, "name", &self.name),
            founded_on: optional_date(&mut e, "founded_on", &self.founded_on),
            chair: required(&mut e, "chair", &self.chair),
            secretary_general: required(&mut e, "secretary_general", &self.secretary_general),
            contact_phone: phone(&mut e, "contact_phone", &self.contact_phone),
        };
        if e.is_empty() { Ok(f) } else { Err(e) }
    }
}

/// A liaison point as typed into its form.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct LiaisonForm {
    /// The community or village (division code).
    pub area_code: String,
    /// 名称.
    pub name: String,
    /// 地址.
    pub address: String,
    /// 设立日期.
    pub established_on: String,
    /// 联络员.
    pub liaison_name: String,
    /// 联络员电话.
    pub liaison_phone: String,
}

/// A checked liaison point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiaisonPoint {
    /// 名称.
    pub name: String,
    /// 地址.
    pub address: String,
    /// 设立日期.
    pub established_on: Option<NaiveDate>,
    /// 联络员.
    pub liaison_name: String,
    /// 联络员电话.
    pub liaison_phone: String,
}

impl LiaisonForm {
    /// Checks the form, naming every bad field.
    pub fn parse(&self) -> Result<LiaisonPoint, FieldErrors> {
        let mut e = FieldErrors::new();
        let p = LiaisonPoint {
            name: required(&mut e, "name", &self.name),
            address: required(&mut e, "address", &self.address),
            established_on: optional_date(&mut e, "established_on", &self.established_on),
            liaison_name: required(&mut e, "liaison_name", &self.liaison_name),
            liaison_phone: phone(&mut e, "liaison_phone", &self.liaison_phone),
        };
        if e.is_empty() { Ok(p) } else { Err(e) }
    }
}

/// A per-mille share as a percentage ("95.2%"), or "—" when there is nothing to divide.
pub fn share(part: i64, whole: i64) -> String {
    use crate::inspection::store::{percent, permille};
    percent(permille(part, whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_name_every_bad_field() {
        let e = FederationForm {
            name: " ".into(),
            founded_on: "2014-13-01".into(),
            chair: "张伟".into(),
            secretary_general: "李娜".repeat(60),
            contact_phone: "电话".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        for field in ["name", "founded_on", "secretary_general", "contact_phone"] {
            assert!(e.get(field).is_some(), "{field}");
        }
        assert!(e.get("chair").is_none());
        let p = LiaisonForm {
            name: "紫云园社区社会组织联络点".into(),
            address: "紫云园社区居委会二楼".into(),
            liaison_name: "赵丽".into(),
            liaison_phone: "022-2532 0101".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(p.established_on, None);
        assert_eq!(share(505, 505), "100.0%");
        assert_eq!(share(1, 3), "33.3%");
        assert_eq!(share(0, 0), "—");
    }
}
