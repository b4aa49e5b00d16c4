//! The registry of social organizations (全区社会组织数据库): kinds, statuses, the form an
//! organization is created or edited with, and the pure rules that form must satisfy.

pub mod api;
pub(crate) mod bulk;
pub mod dump;
pub mod facets;
pub mod import;
pub mod import_files;
pub mod import_jobs;
mod import_write;
pub mod open_data;
pub mod pages;
pub mod records;
pub mod search;
pub mod store;
pub mod upload;
pub mod uscc;

use crate::error::FieldErrors;
use crate::i18n::{Lang, Msg};
use crate::web::yuan;
use chrono::NaiveDate;
use uscc::Uscc;

/// Database id of an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct OrgId(pub i64);

impl From<OrgId> for crate::db::Arg {
    fn from(id: OrgId) -> Self {
        crate::db::Arg::Int(id.0)
    }
}

/// Defines a closed set of machine names with catalogue labels, parsed from either the machine
/// name or its Chinese label (what people type into import files and forms).
macro_rules! labelled_enum {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, { $($(#[$vdoc:meta])* $variant:ident = $code:literal, $zh:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant,)+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The machine name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// Every spelling [`Self::parse`] accepts: machine names, then Chinese labels.
            pub fn spellings() -> Vec<&'static str> {
                vec![$($code,)+ $($zh,)+]
            }

            /// Parses a machine name or a Chinese label.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                match s { $($code | $zh => Some($name::$variant),)+ _ => None }
            }

            /// The label in `lang`.
            pub fn label(self, lang: Lang) -> &'static str {
                match self { $($name::$variant => lang.t(concat!($prefix, ".", $code)),)+ }
            }
        }
    };
}

pub(crate) use labelled_enum;

labelled_enum!(
    /// Kind of organization (组织类型).
    OrgKind, "kind", {
        /// 社会团体.
        SocialGroup = "social_group", "社会团体";
        /// 民办非企业单位 / 社会服务机构.
        PrivateNonEnterprise = "private_non_enterprise", "民办非企业单位";
        /// 基金会.
        Foundation = "foundation", "基金会";
        /// 社区社会组织 (filed, 备案).
        Community = "community", "社区社会组织";
    }
);

labelled_enum!(
    /// Registration status (登记状态).
    OrgStatus, "status", {
        /// 筹备中.
        Preparing = "preparing", "筹备中";
        /// 正常.
        Active = "active", "正常";
        /// 活动异常.
        Abnormal = "abnormal", "活动异常";
        /// 已注销.
        Deregistered = "deregistered", "已注销";
        /// 已撤销.
        Revoked = "revoked", "已撤销";
    }
);

labelled_enum!(
    /// Evaluation grade (评估等级), 1A–5A.
    Grade, "grade", {
        /// 1A.
        A1 = "1A", "A";
        /// 2A.
        A2 = "2A", "AA";
        /// 3A.
        A3 = "3A", "AAA";
        /// 4A.
        A4 = "4A", "AAAA";
        /// 5A.
        A5 = "5A", "AAAAA";
    }
);

impl OrgKind {
    /// Registered (登记) kinds carry a USCC and a legal person; community organizations are
    /// filed (备案) with their street and need neither.
    pub fn is_registered(self) -> bool {
        self != OrgKind::Community
    }

    /// Position 2 of a civil-affairs USCC for this kind.
    pub fn uscc_category(self) -> char {
        match self {
            OrgKind::SocialGroup => '1',
            OrgKind::PrivateNonEnterprise => '2',
            OrgKind::Foundation => '3',
            OrgKind::Community => '9',
        }
    }
}

/// The key two names are compared by for the duplicate-name check: full-width forms folded to
/// half-width (ＡＢＣ１２３（） → ABC123()), the ideographic space and every other space
/// removed, ASCII lower-cased. Done in Rust so both databases agree on what matches.
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter_map(|c| {
            let c = match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                _ => c,
            };
            (!c.is_whitespace()).then(|| c.to_ascii_lowercase())
        })
        .collect()
}

/// What a person typed into the organization form (create or edit), as text.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct OrgForm {
    /// 名称.
    pub name: String,
    /// 统一社会信用代码; blank on a registered kind asks for a new code.
    pub uscc: String,
    /// 组织类型.
    pub kind: String,
    /// 业务领域 (domain code).
    pub domain: String,
    /// 直接登记 checkbox ("on" when ticked).
    pub direct_registration: Option<String>,
    /// 业务主管单位.
    pub supervisory_unit: String,
    /// 法定代表人 / 负责人.
    pub legal_representative: String,
    /// 联系人.
    pub contact_person: String,
    /// 联系电话.
    pub contact_phone: String,
    /// 住所.
    pub address: String,
    /// 所在区域 (division code).
    pub area_code: String,
    /// 成立日期.
    pub founded_on: String,
    /// 登记 / 备案日期.
    pub registered_on: String,
    /// 注册资金 / 开办资金, in yuan.
    pub registered_capital_yuan: String,
    /// 会员数.
    pub members: String,
    /// 从业人员数.
    pub staff: String,
    /// 业务范围.
    pub business_scope: String,
    /// 状态.
    pub status: String,
    /// 评估等级.
    pub grade: String,
    /// 评估等级有效期至.
    pub grade_expires_on: String,
    /// 品牌社会组织 checkbox.
    pub brand: Option<String>,
    /// The version the editor started from (optimistic concurrency on edit).
    pub version: String,
    /// Why the record was changed (optional note kept with the history).
    pub reason: String,
}

/// A validated organization, ready to be written; references (domain, area) are still codes
/// that the store resolves.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgDraft {
    /// 名称.
    pub name: String,
    /// 统一社会信用代码 (None: generate for registered kinds, none for filed ones).
    pub uscc: Option<Uscc>,
    /// 组织类型.
    pub kind: OrgKind,
    /// Domain code.
    pub domain: String,
    /// 直接登记.
    pub direct_registration: bool,
    /// 业务主管单位.
    pub supervisory_unit: Option<String>,
    /// 法定代表人.
    pub legal_representative: Option<String>,
    /// 联系人.
    pub contact_person: Option<String>,
    /// 联系电话.
    pub contact_phone: Option<String>,
    /// 住所.
    pub address: Option<String>,
    /// Division code of the area.
    pub area_code: String,
    /// 成立日期.
    pub founded_on: Option<NaiveDate>,
    /// 登记 / 备案日期.
    pub registered_on: Option<NaiveDate>,
    /// 注册资金, in fen.
    pub registered_capital_fen: Option<i64>,
    /// 会员数.
    pub members: Option<i64>,
    /// 从业人员数.
    pub staff: Option<i64>,
    /// 业务范围.
    pub business_scope: Option<String>,
    /// 状态.
    pub status: OrgStatus,
    /// 评估等级.
    pub grade: Option<Grade>,
    /// 评估等级有效期至.
    pub grade_expires_on: Option<NaiveDate>,
    /// 品牌社会组织.
    pub brand: bool,
}

/// History fields that are not public: never on the portal, in exports or in the change feed.
pub const INTERNAL_FIELDS: [&str; 4] = ["contact_person", "contact_phone", "members", "staff"];

/// The fields of an organization whose history is kept, in display order (the names
/// `store::OrgRow::history_fields` writes and the catalogue's `org.field.*` keys).
pub const HISTORY_FIELDS: [&str; 22] = [
    "name",
    "uscc",
    "kind",
    "domain",
    "direct_registration",
    "supervisory_unit",
    "legal_representative",
    "contact_person",
    "contact_phone",
    "address",
    "area_code",
    "founded_on",
    "registered_on",
    "registration_authority",
    "registered_capital_fen",
    "members",
    "staff",
    "business_scope",
    "status",
    "grade",
    "grade_expires_on",
    "brand",
];

/// Longest name accepted.
pub const NAME_MAX_CHARS: usize = 100;
/// Longest free text accepted (address, scope of activities…).
pub const TEXT_MAX_CHARS: usize = 2000;

fn trimmed(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn parse_date(errors: &mut FieldErrors, field: &'static str, s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.add(field, Msg::new("error.field.date"));
            None
        }
    }
}

fn parse_count(errors: &mut FieldErrors, field: &'static str, s: &str) -> Option<i64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<i64>() {
        Ok(n) if (0..=100_000_000).contains(&n) => Some(n),
        _ => {
            errors.add(field, Msg::new("error.field.count"));
            None
        }
    }
}

/// Parses an amount in yuan with at most two decimals ("30000", "3,000.50") into fen.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let t: String = s
        .trim()
        .chars()
        .filter(|&c| c != ',' && c != '，')
        .collect();
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 13 {
        return None;
    }
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fen_part: i64 = format!("{frac:0<2}").parse().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(fen_part)
}

fn text_field(
    errors: &mut FieldErrors,
    field: &'static str,
    s: &str,
    max: usize,
) -> Option<String> {
    let value = trimmed(s)?;
    if value.chars().count() > max {
        errors.add(field, Msg::new("error.field.too_long").with("max", max));
    }
    Some(value)
}

impl OrgForm {
    /// The form showing a stored record (to edit it, or to file a change from it).
    pub fn from_row(row: &store::OrgRow) -> OrgForm {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let d = |v: &Option<NaiveDate>| v.map(|d| d.to_string()).unwrap_or_default();
        let n = |v: &Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        OrgForm {
            name: row.name.clone(),
            uscc: s(&row.uscc),
            kind: row.kind.clone(),
            domain: row.domain_code.clone(),
            direct_registration: row.direct_registration.then(|| "on".to_owned()),
            supervisory_unit: s(&row.supervisory_unit),
            legal_representative: s(&row.legal_representative),
            contact_person: s(&row.contact_person),
            contact_phone: s(&row.contact_phone),
            address: s(&row.address),
            area_code: row.area_code.clone(),
            founded_on: d(&row.founded_on),
            registered_on: d(&row.registered_on),
            registered_capital_yuan: row
                .registered_capital_fen
                .map(|f| yuan(f).replace(',', ""))
                .unwrap_or_default(),
            members: n(&row.members),
            staff: n(&row.staff),
            business_scope: s(&row.business_scope),
            status: row.status.clone(),
            grade: s(&row.grade),
            grade_expires_on: d(&row.grade_expires_on),
            brand: row.brand.then(|| "on".to_owned()),
            version: row.version.to_string(),
            reason: String::new(),
        }
    }

    /// Checks the form and returns the organization it describes, or every field error at once.
    pub fn parse(&self) -> Result<OrgDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = text_field(&mut e, "name", &self.name, NAME_MAX_CHARS);
        if name.is_none() {
            e.add("name", Msg::new("error.field.required"));
        } else if name.as_ref().is_some_and(|n| n.chars().count() < 2) {
            e.add("name", Msg::new("error.field.too_short").with("min", 2));
        }
        let kind = match self.kind.trim() {
            "" => {
                e.add("kind", Msg::new("error.field.required"));
                None
            }
            k => OrgKind::parse(k).or_else(|| {
                e.add("kind", Msg::new("error.field.choice"));
                None
            }),
        };
        let uscc = match trimmed(&self.uscc) {
            None => None,
            Some(code) => match Uscc::parse(&code) {
                Ok(u) => Some(u),
                Err(err) => {
                    e.add("uscc", err.message());
                    None
                }
            },
        };
        if uscc.is_none() && self.uscc.trim().is_empty() && kind == Some(OrgKind::Foundation) {
            // Foundations are registered by the province or municipality, never by the district
            // bureau, so their code is always entered, never generated here.
            e.add("uscc", Msg::new("registry.error.foundation_needs_uscc"));
        }
        let domain = trimmed(&self.domain).unwrap_or_default();
        if domain.is_empty() {
            e.add("domain", Msg::new("error.field.required"));
        }
        let area_code = trimmed(&self.area_code).unwrap_or_default();
        if area_code.is_empty() {
            e.add("area_code", Msg::new("error.field.required"));
        }
        let direct_registration = is_ticked(&self.direct_registration);
        let supervisory_unit = text_field(
            &mut e,
            "supervisory_unit",
            &self.supervisory_unit,
            NAME_MAX_CHARS,
        );
        let legal_representative = text_field(
            &mut e,
            "legal_representative",
            &self.legal_representative,
            50,
        );
        let registered_on = parse_date(&mut e, "registered_on", &self.registered_on);
        if let Some(kind) = kind
            && kind.is_registered()
        {
            if legal_representative.is_none() {
                e.add("legal_representative", Msg::new("error.field.required"));
            }
            if registered_on.is_none() && self.registered_on.trim().is_empty() {
                e.add("registered_on", Msg::new("error.field.required"));
            }
            if !direct_registration && supervisory_unit.is_none() {
                e.add(
                    "supervisory_unit",
                    Msg::new("registry.error.supervisory_unit_required"),
                );
            }
        }
        if direct_registration && supervisory_unit.is_some() {
            e.add(
                "supervisory_unit",
                Msg::new("registry.error.direct_has_no_supervisor"),
            );
        }
        if let (Some(kind), Some(u)) = (kind, &uscc)
            && kind.is_registered()
            && (u.authority() != '5' || u.category() != kind.uscc_category())
        {
            e.add(
                "uscc",
                Msg::new("registry.error.uscc_kind")
                    .with("expected", format!("5{}", kind.uscc_category())),
            );
        }
        let founded_on = parse_date(&mut e, "founded_on", &self.founded_on);
        let registered_capital_fen = match self.registered_capital_yuan.trim() {
            "" => None,
            s => parse_yuan(s).or_else(|| {
                e.add("registered_capital_yuan", Msg::new("error.field.money"));
                None
            }),
        };
        let members = parse_count(&mut e, "members", &self.members);
        let staff = parse_count(&mut e, "staff", &self.staff);
        let status = match self.status.trim() {
            "" => OrgStatus::Active,
            s => OrgStatus::parse(s).unwrap_or_else(|| {
                e.add("status", Msg::new("error.field.choice"));
                OrgStatus::Active
            }),
        };
        let grade = match self.grade.trim() {
            "" => None,
            s => Grade::parse(s).or_else(|| {
                e.add("grade", Msg::new("error.field.choice"));
                None
            }),
        };
        let grade_expires_on = parse_date(&mut e, "grade_expires_on", &self.grade_expires_on);
        if grade.is_some() != grade_expires_on.is_some() && e.get("grade_expires_on").is_none() {
            e.add(
                "grade_expires_on",
                Msg::new("registry.error.grade_needs_expiry"),
            );
        }
        let draft = OrgDraft {
            name: name.unwrap_or_default(),
            uscc,
            kind: kind.unwrap_or(OrgKind::Community),
            domain,
            direct_registration,
            supervisory_unit,
            legal_representative,
            contact_person: text_field(&mut e, "contact_person", &self.contact_person, 50),
            contact_phone: text_field(&mut e, "contact_phone", &self.contact_phone, 50),
            address: text_field(&mut e, "address", &self.address, 200),
            area_code,
            founded_on,
            registered_on,
            registered_capital_fen,
            members,
            staff,
            business_scope: text_field(
                &mut e,
                "business_scope",
                &self.business_scope,
                TEXT_MAX_CHARS,
            ),
            status,
            grade,
            grade_expires_on,
            brand: is_ticked(&self.brand),
        };
        if e.is_empty() { Ok(draft) } else { Err(e) }
    }
}

fn is_ticked(v: &Option<String>) -> bool {
    v.as_deref()
        .is_some_and(|s| matches!(s.trim(), "on" | "true" | "1" | "yes" | "是"))
}

/// Direct registration (直接登记) is open only to the four categories of DOMAIN §2.2, which the
/// domain dictionary marks; every other registered organization names its supervisory unit.
pub fn check_direct_registration(draft: &OrgDraft, domain_eligible: bool) -> Option<Msg> {
    (draft.direct_registration && !domain_eligible)
        .then(|| Msg::new("registry.error.direct_not_eligible"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> OrgForm {
        OrgForm {
            name: "滨海新区物流行业协会".into(),
            kind: "social_group".into(),
            domain: "industry_commerce".into(),
            direct_registration: Some("on".into()),
            legal_representative: "王建国".into(),
            area_code: "120116001".into(),
            registered_on: "2014-05-06".into(),
            ..OrgForm::default()
        }
    }

    #[test]
    fn name_key_folds_width_and_spaces() {
        assert_eq!(
            name_key("滨海 新区（塘沽）ＡＢＣ協会"),
            name_key("滨海新区(塘沽)abc協会")
        );
        assert_eq!(name_key("\u{3000}读心书友会 "), "读心书友会");
        assert_ne!(name_key("读心书友会"), name_key("读心书画会"));
    }

    #[test]
    fn a_complete_form_parses() {
        let d = form().parse().unwrap();
        assert_eq!(d.kind, OrgKind::SocialGroup);
        assert!(d.direct_registration);
        assert_eq!(d.status, OrgStatus::Active);
        assert_eq!(d.uscc, None);
    }

    #[test]
    fn missing_and_malformed_fields_are_all_named() {
        let f = OrgForm {
            name: " ".into(),
            uscc: "52120116MJ0631128X".into(),
            kind: "club".into(),
            registered_capital_yuan: "3万".into(),
            founded_on: "2014/01/01".into(),
            ..OrgForm::default()
        };
        let e = f.parse().unwrap_err();
        for field in [
            "name",
            "uscc",
            "kind",
            "domain",
            "area_code",
            "registered_capital_yuan",
            "founded_on",
        ] {
            assert!(e.get(field).is_some(), "{field} not reported: {e:?}");
        }
        assert_eq!(e.get("uscc").unwrap().key, "uscc.error.org_check");
    }

    #[test]
    fn registered_kinds_need_a_supervisor_unless_direct() {
        let mut f = form();
        f.direct_registration = None;
        assert!(f.parse().unwrap_err().get("supervisory_unit").is_some());
        f.supervisory_unit = "滨海新区商务局".into();
        assert!(f.parse().is_ok());
        f.direct_registration = Some("on".into());
        assert!(f.parse().unwrap_err().get("supervisory_unit").is_some());
        let mut community = form();
        community.kind = "community".into();
        community.direct_registration = None;
        community.legal_representative.clear();
        community.registered_on.clear();
        assert!(community.parse().is_ok());
    }

    #[test]
    fn uscc_category_must_match_kind() {
        let mut f = form();
        f.uscc = "52120116MJ0631127X".into(); // a private non-enterprise unit's code
        assert_eq!(
            f.parse().unwrap_err().get("uscc").unwrap().key,
            "registry.error.uscc_kind"
        );
        f.kind = "private_non_enterprise".into();
        assert!(f.parse().is_ok());
    }

    #[test]
    fn direct_registration_rule() {
        let d = form().parse().unwrap();
        assert!(check_direct_registration(&d, true).is_none());
        assert!(check_direct_registration(&d, false).is_some());
        let mut f = form();
        f.direct_registration = None;
        f.supervisory_unit = "滨海新区教育体育局".into();
        assert!(check_direct_registration(&f.parse().unwrap(), false).is_none());
    }

    #[test]
    fn yuan_amounts() {
        assert_eq!(parse_yuan("30000"), Some(3_000_000));
        assert_eq!(parse_yuan("3,000.5"), Some(300_050));
        assert_eq!(parse_yuan("0.05"), Some(5));
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("-1"), None);
        assert_eq!(parse_yuan("3万"), None);
    }

    #[test]
    fn every_label_is_in_both_catalogues() {
        for lang in [Lang::Zh, Lang::En] {
            let labels = OrgKind::ALL
                .iter()
                .map(|k| k.label(lang))
                .chain(OrgStatus::ALL.iter().map(|s| s.label(lang)))
                .chain(Grade::ALL.iter().map(|g| g.label(lang)));
            for label in labels {
                assert!(!label.contains('.'), "missing catalogue entry {label}");
            }
            for field in HISTORY_FIELDS {
                let key = format!("org.field.{field}");
                assert_ne!(lang.t(&key), key, "missing catalogue entry {key}");
            }
        }
    }

    #[test]
    fn labels_parse_from_chinese() {
        assert_eq!(OrgKind::parse("社会团体"), Some(OrgKind::SocialGroup));
        assert_eq!(OrgStatus::parse("正常"), Some(OrgStatus::Active));
        assert_eq!(Grade::parse("AAAA"), Some(Grade::A4));
        assert_eq!(Grade::parse("4A"), Some(Grade::A4));
    }
}
