//! The demo district: Binhai New Area (滨海新区) at the end of 2014, as the seed describes it.
//! Real divisions; the organizations the seed names; every other record generated from a seed,
//! so the same seed always gives the same district. All figures are counted from these records.

pub mod names;
pub mod national;
pub mod rng;

use crate::areas::{self, AreaId, AreaLevel, Division};
use crate::audit::Actor;
use crate::auth::{Role, Scope};
use crate::db::Db;
use crate::registry::store as registry;
use crate::registry::{OrgDraft, OrgKind, OrgStatus, name_key};
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use rng::Rng;
use std::collections::HashSet;
use std::fmt;

/// The seed `shezu demo` and `serve --demo` use unless told otherwise.
pub const DEFAULT_SEED: u64 = 2014;

/// Registry figures of the seed (SPEC §4) that the demo reproduces by its records.
pub mod figures {
    /// 社会团体.
    pub const SOCIAL_GROUPS: usize = 326;
    /// 民办非企业单位.
    pub const PRIVATE_NON_ENTERPRISE: usize = 297;
    /// 基金会 (624 − 326 − 297).
    pub const FOUNDATIONS: usize = 1;
    /// 备案的社区社会组织.
    pub const COMMUNITY: usize = 1731;
    /// 直接登记.
    pub const DIRECT_REGISTRATIONS: usize = 15;
}

/// The district bureau's division code, carried by the codes it issues.
const DISTRICT_DIVISION: &str = "120116";
/// The municipality's division code: foundations are registered by Tianjin (DOMAIN §2.1).
const MUNICIPAL_DIVISION: &str = "120000";

/// Why the demo could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The database already has areas or organizations; the demo never mixes with real data.
    #[error("the database is not empty; the demo loads only into an empty database")]
    NotEmpty,
    /// A database failure (nothing was written: the load is one transaction).
    #[error(transparent)]
    Db(#[from] crate::error::Error),
}

impl From<sqlx::Error> for DemoError {
    fn from(e: sqlx::Error) -> Self {
        DemoError::Db(e.into())
    }
}

/// What a demo load wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Areas loaded.
    pub areas: usize,
    /// Organizations per kind, in `OrgKind::ALL` order.
    pub by_kind: Vec<(OrgKind, usize)>,
    /// Direct registrations.
    pub direct: usize,
    /// Applications in the approval history (2013–2014 and a few still open).
    pub applications: usize,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: usize = self.by_kind.iter().map(|(_, n)| n).sum();
        write!(
            f,
            "demo district loaded: {} areas, {total} organizations (",
            self.areas
        )?;
        for (i, (kind, n)) in self.by_kind.iter().enumerate() {
            write!(f, "{}{} {n}", if i > 0 { ", " } else { "" }, kind.as_str())?;
        }
        write!(
            f,
            "), {} direct registrations, {} applications",
            self.direct, self.applications
        )
    }
}

/// One organization the demo will create, with the authority whose code it receives.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedOrg {
    /// The record.
    pub draft: OrgDraft,
    /// Registering authority's division (for the generated USCC).
    pub division: &'static str,
}

/// Loads the demo district into an empty database in one transaction.
pub async fn load(db: &Db, seed: u64) -> Result<DemoSummary, DemoError> {
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    if areas::store::count(&mut conn).await? > 0
        || registry::count_all_unscoped(&mut conn).await? > 0
    {
        return Err(DemoError::NotEmpty);
    }
    let divisions = areas::binhai_divisions();
    areas::store::insert_divisions(&mut conn, &divisions).await?;
    // Start serials where a district bureau of 2014 might plausibly be, not at 000001.
    registry::set_next_serial(&mut conn, DISTRICT_DIVISION, 200_000).await?;
    registry::set_next_serial(&mut conn, MUNICIPAL_DIVISION, 100_000).await?;
    let planned = plan(seed, &divisions);
    let actor = crate::audit::Actor::system("demo");
    let mut summary = DemoSummary {
        areas: divisions.len(),
        by_kind: OrgKind::ALL.iter().map(|k| (*k, 0)).collect(),
        direct: 0,
        applications: 0,
    };
    for p in &planned {
        let date = p.draft.registered_on.unwrap_or(NaiveDate::MIN);
        // Recorded at 09:00 China time on the registration day, so "as of" dates make sense.
        let at = Utc.from_utc_datetime(&date.and_hms_opt(1, 0, 0).unwrap_or_default());
        registry::create(&mut conn, &Scope::All, &actor, at, &p.draft, p.division).await?;
        if let Some(entry) = summary.by_kind.iter_mut().find(|(k, _)| *k == p.draft.kind) {
            entry.1 += 1;
        }
        summary.direct += usize::from(p.draft.direct_registration);
    }
    create_demo_accounts(&mut conn, &actor).await?;
    summary.applications = create_application_history(&mut conn, &actor, seed, &planned).await?;
    create_consultations(&mut conn).await?;
    create_notices(&mut conn).await?;
    // Before the annual reports: their party members agree with the party records, which the
    // credit sweep compares.
    crate::party::demo::load(&mut conn, seed).await?;
    crate::inspection::demo::load(&mut conn, seed).await?;
    crate::hubs::demo::load(&mut conn, seed).await?;
    // After the annual reports: eligibility for evaluation is read from them.
    crate::evaluation::demo::load(&mut conn, seed).await?;
    crate::talent::demo::load(&mut conn, seed).await?;
    crate::volunteers::demo::load(&mut conn, seed).await?;
    crate::incubation::demo::load(&mut conn).await?;
    // After the credit lists and party organizations: eligibility and conflicts read them.
    crate::funding::demo::load(&mut conn, seed).await?;
    tx.commit().await?;
    Ok(summary)
}

/// The approval history of the demo: every organization registered or filed in 2013–2014 came
/// through an application whose processing time shrank after the reform (2013: 20–55 days,
/// 2014: 5–25), some returned once for correction; and a few applications are still open in
/// each state, owned by the demo window and registrar accounts.
async fn create_application_history(
    conn: &mut crate::db::Conn<'_>,
    actor: &crate::audit::Actor,
    seed: u64,
    planned: &[PlannedOrg],
) -> Result<usize, DemoError> {
    use crate::approvals::store::{PastApplication, insert_past};
    use crate::approvals::{ApplicationKind, State};
    use crate::auth::UserId;
    let mut rng = Rng::new(seed ^ 0xA99);
    let find_user =
        async |conn: &mut crate::db::Conn<'_>, name: &str| -> Result<UserId, DemoError> {
            let u = crate::auth::store::find_user_by_name(conn, name)
                .await?
                .ok_or(crate::error::Error::NotFound)?;
            Ok(UserId(u.id))
        };
    let window = find_user(conn, "window").await?;
    let registrar = find_user(conn, "registrar").await?;
    let applicant = find_user(conn, "shenqing").await?;
    let mut count = 0;
    for p in planned {
        let Some(on) = p.draft.registered_on.filter(|d| d.year() >= 2013) else {
            continue;
        };
        if p.division != DISTRICT_DIVISION {
            continue;
        }
        let kind = if p.draft.kind.is_registered() {
            ApplicationKind::Establishment
        } else {
            ApplicationKind::Filing
        };
        let days = if on.year() == 2013 {
            rng.between(20, 55)
        } else {
            rng.between(5, 25)
        };
        let paused = if rng.chance(12) {
            rng.between(3, 10)
        } else {
            0
        };
        let decided = Utc.from_utc_datetime(&on.and_hms_opt(2, 0, 0).unwrap_or_default());
        let accepted = decided - chrono::Duration::days(days + paused);
        let submitted = accepted - chrono::Duration::days(rng.between(0, 3));
        let Some(org) = registry::find_by_name(conn, &Scope::All, &p.draft.name).await? else {
            continue;
        };
        let past = PastApplication {
            kind,
            form: crate::registry::OrgForm::from_row(&org),
            org: Some(org.org_id()),
            area: AreaId(org.area_id),
            applicant,
            owner: Some(window),
            state: State::Approved,
            submitted_at: submitted,
            accepted_at: Some(accepted),
            decided_at: Some(decided),
            paused_days: paused,
            limit_days: if kind == ApplicationKind::Filing {
                30
            } else {
                60
            },
        };
        insert_past(conn, "demo", &past).await?;
        count += 1;
    }
    // Still open at the end of the demo year: one in each stage.
    let now = Utc::now();
    let open = [
        (
            "滨海新区社区养老互助促进会",
            "social_group",
            "community_service",
            "120116005001",
            State::Submitted,
            None,
            0,
        ),
        (
            "新河街道青少年科普服务中心",
            "private_non_enterprise",
            "science_technology",
            "120116006001",
            State::UnderReview,
            Some(registrar),
            50,
        ),
        (
            "大港街道邻里守望志愿服务队",
            "community",
            "volunteer_service",
            "120116051001",
            State::UnderReview,
            Some(window),
            35,
        ),
        (
            "塘沽海洋环保公益协会",
            "social_group",
            "charity",
            "120116001016",
            State::Returned,
            Some(window),
            12,
        ),
    ];
    for (name, kind, domain, area_code, state, owner, age_days) in open {
        let Some(area) = areas::store::find_by_code(conn, area_code).await? else {
            continue;
        };
        let form = crate::registry::OrgForm {
            name: name.into(),
            kind: kind.into(),
            domain: domain.into(),
            direct_registration: (domain != "volunteer_service" && kind != "community")
                .then(|| "on".to_owned()),
            legal_representative: names::person_name(&mut rng),
            area_code: area_code.into(),
            registered_on: "2015-01-05".into(),
            address: names::address(&mut rng, "", None),
            ..Default::default()
        };
        let accepted = (state != State::Submitted).then(|| now - chrono::Duration::days(age_days));
        let past = PastApplication {
            kind: if kind == "community" {
                ApplicationKind::Filing
            } else {
                ApplicationKind::Establishment
            },
            form,
            org: None,
            area: area.area_id(),
            applicant,
            owner,
            state,
            submitted_at: accepted.unwrap_or(now) - chrono::Duration::days(1),
            accepted_at: accepted,
            decided_at: None,
            paused_days: 0,
            limit_days: if kind == "community" { 30 } else { 60 },
        };
        let id = insert_past(conn, "demo", &past).await?;
        // The open ones carry their documents, as a real submission would.
        let org_kind = OrgKind::parse(kind).unwrap_or(OrgKind::Community);
        let eligible = past.form.direct_registration.is_some();
        let needs_consent =
            crate::approvals::needs_supervisor_consent(past.kind, org_kind, eligible);
        for doc in crate::approvals::documents::required(past.kind, org_kind, needs_consent) {
            let pdf = demo_pdf(&format!("shezu demo: {} #{}", doc.as_str(), id.0));
            crate::approvals::store::attach_unchecked(
                conn,
                &crate::approvals::documents::DocumentStore::Database,
                id,
                doc,
                &format!("{}.pdf", doc.as_str()),
                "application/pdf",
                pdf,
                applicant,
                now,
            )
            .await?;
        }
        count += 1;
    }
    let summary = format!("{count} applications of 2013–2014 and open ones");
    crate::audit::store::append(
        conn,
        Utc::now(),
        actor,
        crate::audit::store::NewEntry::of("import", "application", None, &summary),
    )
    .await?;
    Ok(count)
}

/// Questions people asked the window, most answered (and published as the FAQ), two waiting.
const CONSULTATIONS: &[(&str, &str, Option<&str>)] = &[
    (
        "成立社区社会组织需要准备哪些材料？",
        "13502200118",
        Some(
            "社区社会组织向所在街道（乡镇）备案，需提交备案申请表、组织活动规则和负责人身份证明，可在“网上办事”中在线办理。",
        ),
    ),
    (
        "哪些社会组织可以直接登记，不需要业务主管单位？",
        "zhang.li@example.org",
        Some(
            "行业协会商会类、科技类、公益慈善类、城乡社区服务类社会组织可以直接向民政部门申请登记。",
        ),
    ),
    (
        "社会团体成立登记需要多少会员？",
        "022-25301234",
        Some(
            "社会团体应有50个以上的个人会员或30个以上的单位会员；个人会员、单位会员混合组成的，会员总数不得少于50个。",
        ),
    ),
    (
        "年度工作报告什么时候提交？",
        "13920010022",
        Some(
            "上一年度的工作报告应于3月31日前报业务主管单位初审，5月31日前报登记管理机关；直接登记的组织直接报民政局。",
        ),
    ),
    (
        "公益创投项目什么时候开始申报？",
        "13612345678",
        Some("2014年公益创投活动通知已于7月发布，申报材料请按通知要求通过平台提交。"),
    ),
    ("社会组织变更住所需要办理什么手续？", "15822229999", None),
    (
        "民办非企业单位的开办资金最低要求是多少？",
        "13011112222",
        None,
    ),
];

async fn create_consultations(conn: &mut crate::db::Conn<'_>) -> Result<(), DemoError> {
    use crate::consult::Question;
    use crate::consult::store::{PastConsultation, insert_past};
    let window = crate::auth::store::find_user_by_name(conn, "window")
        .await?
        .ok_or(crate::error::Error::NotFound)?;
    let base = Utc
        .with_ymd_and_hms(2014, 11, 3, 1, 30, 0)
        .single()
        .unwrap_or_default();
    for (i, (question, contact, answer)) in CONSULTATIONS.iter().enumerate() {
        let asked_at = base + chrono::Duration::days(i as i64 * 4);
        let past = PastConsultation {
            asked_at,
            question: Question {
                name: "市民".into(),
                contact: (*contact).into(),
                question: (*question).into(),
            },
            answered: answer.map(|a| {
                let after = chrono::Duration::hours(2 + i as i64 * 3);
                (
                    a.to_owned(),
                    asked_at + after,
                    crate::auth::UserId(window.id),
                    true,
                )
            }),
        };
        insert_past(conn, &past).await?;
    }
    Ok(())
}

/// A notice of the demo: kind, title, Markdown body, publication date (year, month, day).
type DemoNotice = (&'static str, &'static str, &'static str, (i32, u32, u32));

/// The demo's notices and policy documents.
const NOTICES: &[DemoNotice] = &[
    (
        "policy",
        "滨海新区关于社会组织直接登记的实施办法",
        "## 适用范围\n\n行业协会商会类、科技类、公益慈善类、城乡社区服务类社会组织，可以直接向区民政局申请登记，无需业务主管单位审查同意。\n\n## 办理时限\n\n- 成立登记：受理之日起 **20 个工作日** 内作出决定；\n- 变更、注销登记：受理之日起 10 个工作日内作出决定。\n\n申请材料清单见[在线咨询](/consult)中的常见问题。",
        (2014, 3, 3),
    ),
    (
        "notice",
        "关于开展2014年滨海新区公益创投活动的通知",
        "为培育发展公益慈善类和社区服务类社会组织，区民政局安排 **300万元** 开展2014年公益创投活动。\n\n## 资助领域\n\n扶老助老、助残、青少年成长、社区治理、环境保护等十个方面。\n\n## 申报方式\n\n1. 登录本平台，在“网上办事”中填写项目申报书；\n2. 申报截止日期：2014年5月31日。\n\n| 事项 | 要求 |\n|---|---|\n| 单个项目资助上限 | 10万元 |\n| 配套资金 | 鼓励 |",
        (2014, 4, 8),
    ),
    (
        "notice",
        "关于做好2014年度社会组织年度检查工作的通知",
        "各社会组织：请于 **2015年5月31日** 前通过本平台提交2014年度工作报告，有业务主管单位的须先经业务主管单位初审（3月31日前）。逾期未报的，将依法列入活动异常名录。",
        (2014, 12, 15),
    ),
];

async fn create_notices(conn: &mut crate::db::Conn<'_>) -> Result<(), DemoError> {
    use crate::notices::{NoticeDraft, NoticeKind};
    let registrar = crate::auth::store::find_user_by_name(conn, "registrar")
        .await?
        .ok_or(crate::error::Error::NotFound)?;
    let actor = Actor {
        name: registrar.username.clone(),
        user_id: Some(registrar.id),
        ip: None,
    };
    for (kind, title, body, (y, m, d)) in NOTICES {
        let at = Utc
            .with_ymd_and_hms(*y, *m, *d, 1, 0, 0)
            .single()
            .unwrap_or_default();
        let draft = NoticeDraft {
            kind: NoticeKind::parse(kind).unwrap_or(NoticeKind::Notice),
            title: (*title).to_owned(),
            body: (*body).to_owned(),
        };
        crate::notices::store::create(conn, &actor, at, &draft, true).await?;
    }
    Ok(())
}

/// A minimal valid one-page PDF showing `text` (ASCII), for demo documents.
fn demo_pdf(text: &str) -> Vec<u8> {
    let text: String = text
        .chars()
        .filter(|c| c.is_ascii() && !matches!(c, '(' | ')' | '\\'))
        .collect();
    let stream = format!("BT /F1 14 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// The password of every demo account (printed by `serve --demo`; the demo is not for real data).
pub const DEMO_PASSWORD: &str = "binhai-demo-2014";

/// A demo account: (username, display name, role, area code, organization name).
pub type DemoAccount = (
    &'static str,
    &'static str,
    Role,
    Option<&'static str>,
    Option<&'static str>,
);

/// One demo account per role (SPEC §1), tied to real places and organizations of the demo.
pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    ("admin", "系统管理员", Role::Admin, None, None),
    ("registrar", "登记科 王敏", Role::Registrar, None, None),
    ("window", "服务窗口 李娜", Role::Window, None, None),
    (
        "tanggu",
        "塘沽街道 张伟",
        Role::AreaOfficer,
        Some("120116001"),
        None,
    ),
    (
        "dagang",
        "大港街道 刘洋",
        Role::AreaOfficer,
        Some("120116051"),
        None,
    ),
    (
        "teda",
        "开发区 陈静",
        Role::AreaOfficer,
        Some("120116400"),
        None,
    ),
    (
        "liaison",
        "紫云园社区 赵丽",
        Role::Liaison,
        Some("120116001016"),
        None,
    ),
    ("party", "党工委 孙强", Role::Party, None, None),
    (
        "instructor",
        "党建指导员 周杰",
        Role::Instructor,
        None,
        Some("开发区社会服务志愿者协会"),
    ),
    (
        "socialworker",
        "社工 吴芳",
        Role::SocialWorker,
        None,
        Some("九九华龄居家养老服务中心"),
    ),
    ("expert", "评审专家 郑华", Role::Expert, None, None),
    (
        "aizhisheng",
        "爱之声公益助学联盟",
        Role::Org,
        None,
        Some("爱之声公益助学联盟"),
    ),
    ("shenqing", "申请人 冯涛", Role::Org, None, None),
];

async fn create_demo_accounts(
    conn: &mut crate::db::Conn<'_>,
    actor: &crate::audit::Actor,
) -> Result<(), DemoError> {
    use crate::auth::store::{NewUser, create_user, grant_role};
    let now = Utc::now();
    for (username, name, role, area, org) in DEMO_ACCOUNTS {
        let area = match area {
            Some(code) => areas::store::find_by_code(conn, code)
                .await?
                .map(|a| a.area_id()),
            None => None,
        };
        let org = match org {
            Some(org_name) => registry::find_by_name(conn, &Scope::All, org_name)
                .await?
                .map(|r| r.org_id()),
            None => None,
        };
        let new = NewUser {
            username: (*username).to_owned(),
            display_name: (*name).to_owned(),
            password: DEMO_PASSWORD.to_owned(),
        };
        let id = create_user(conn, actor, now, &new).await?;
        grant_role(
            conn,
            actor,
            now,
            id,
            &crate::auth::Grant {
                role: *role,
                area,
                org,
            },
        )
        .await?;
    }
    Ok(())
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn random_date(rng: &mut Rng, from_year: i32, to_year: i32) -> NaiveDate {
    let start = date(from_year, 1, 1);
    let end = date(to_year, 12, 31);
    let span = (end - start).num_days();
    start + chrono::Duration::days(rng.between(0, span))
}

/// Weighted choice of a domain code.
fn weighted<'a>(rng: &mut Rng, table: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut x = rng.below(total as usize) as u32;
    for (code, w) in table {
        if x < *w {
            return code;
        }
        x -= w;
    }
    table[0].0
}

const SOCIAL_GROUP_DOMAINS: &[(&str, u32)] = &[
    ("industry_commerce", 24),
    ("science_technology", 8),
    ("charity", 7),
    ("culture", 12),
    ("sports", 11),
    ("education", 5),
    ("professional", 10),
    ("elderly_care", 3),
    ("volunteer_service", 5),
    ("agriculture", 5),
    ("health", 4),
    ("ecology", 2),
    ("legal_services", 2),
    ("other", 2),
];
const PNE_DOMAINS: &[(&str, u32)] = &[
    ("education", 34),
    ("elderly_care", 15),
    ("health", 9),
    ("social_work", 10),
    ("community_service", 8),
    ("culture", 8),
    ("sports", 6),
    ("charity", 4),
    ("legal_services", 2),
    ("science_technology", 2),
    ("other", 2),
];
const COMMUNITY_DOMAINS: &[(&str, u32)] = &[
    ("community_service", 24),
    ("culture", 25),
    ("sports", 20),
    ("volunteer_service", 15),
    ("elderly_care", 8),
    ("charity", 4),
    ("education", 3),
    ("legal_services", 1),
];
/// The four categories that may register directly (DOMAIN §2.2).
const DIRECT_DOMAINS: &[(&str, u32)] = &[
    ("charity", 5),
    ("community_service", 4),
    ("industry_commerce", 4),
    ("science_technology", 2),
];

/// An organization the seed names, placed where the seed places it.
struct Named {
    name: &'static str,
    kind: OrgKind,
    domain: &'static str,
    /// Street (or functional area) it is in; the community inside it is drawn.
    street: &'static str,
    registered: (i32, u32, u32),
    direct: bool,
    brand: bool,
}

const NAMED: &[Named] = &[
    Named {
        name: "爱之声公益助学联盟",
        kind: OrgKind::SocialGroup,
        domain: "charity",
        street: "120116001",
        registered: (2014, 4, 18),
        direct: true,
        brand: false,
    },
    Named {
        name: "九九华龄居家养老服务中心",
        kind: OrgKind::PrivateNonEnterprise,
        domain: "elderly_care",
        street: "120116005",
        registered: (2014, 3, 12),
        direct: false,
        brand: true,
    },
    Named {
        name: "鹤童老年服务中心",
        kind: OrgKind::PrivateNonEnterprise,
        domain: "elderly_care",
        street: "120116006",
        registered: (2014, 9, 2),
        direct: false,
        brand: false,
    },
    Named {
        name: "泰达社会服务中心",
        kind: OrgKind::PrivateNonEnterprise,
        domain: "social_work",
        street: "120116014",
        registered: (2009, 6, 16),
        direct: false,
        brand: true,
    },
    Named {
        name: "大港老年大学",
        kind: OrgKind::PrivateNonEnterprise,
        domain: "education",
        street: "120116051",
        registered: (2006, 9, 1),
        direct: false,
        brand: true,
    },
    Named {
        name: "开发区社会服务志愿者协会",
        kind: OrgKind::SocialGroup,
        domain: "volunteer_service",
        street: "120116014",
        registered: (2007, 3, 5),
        direct: false,
        brand: true,
    },
    Named {
        name: "杭州道街新市民服务中心",
        kind: OrgKind::PrivateNonEnterprise,
        domain: "community_service",
        street: "120116005",
        registered: (2012, 5, 20),
        direct: false,
        brand: true,
    },
    Named {
        name: "读心书友会",
        kind: OrgKind::Community,
        domain: "culture",
        street: "120116014",
        registered: (2013, 10, 9),
        direct: false,
        brand: false,
    },
    Named {
        name: "新滨海义工协会",
        kind: OrgKind::Community,
        domain: "volunteer_service",
        street: "120116014",
        registered: (2013, 11, 21),
        direct: false,
        brand: false,
    },
];

/// Everything the generator needs to know about where organizations can be.
struct Places<'a> {
    communities: Vec<&'a Division>,
    by_code: std::collections::HashMap<&'a str, &'a Division>,
}

impl<'a> Places<'a> {
    fn new(divisions: &'a [Division]) -> Places<'a> {
        Places {
            communities: divisions
                .iter()
                .filter(|d| d.level == AreaLevel::Community)
                .collect(),
            by_code: divisions.iter().map(|d| (d.code.as_str(), d)).collect(),
        }
    }

    /// The street-level parent of an area (the area itself if it is a street).
    fn street_of(&self, d: &'a Division) -> &'a Division {
        match (d.level, &d.parent_code) {
            (AreaLevel::Community, Some(parent)) => {
                self.by_code.get(parent.as_str()).copied().unwrap_or(d)
            }
            _ => d,
        }
    }

    fn community_in(&self, rng: &mut Rng, street: &str) -> Option<&'a Division> {
        let inside: Vec<&&Division> = self
            .communities
            .iter()
            .filter(|c| c.parent_code.as_deref() == Some(street))
            .collect();
        (!inside.is_empty()).then(|| **rng.pick(&inside))
    }
}

/// Decides every demo organization (pure and deterministic): exact counts per kind, 15 direct
/// registrations, the named organizations, unique names, real places.
pub fn plan(seed: u64, divisions: &[Division]) -> Vec<PlannedOrg> {
    let mut rng = Rng::new(seed);
    let places = Places::new(divisions);
    let mut used: HashSet<String> = NAMED.iter().map(|n| name_key(n.name)).collect();
    let mut out = Vec::new();

    for n in NAMED {
        let community = places.community_in(&mut rng, n.street);
        let area = community.map_or(n.street.to_owned(), |c| c.code.clone());
        let street = places.by_code.get(n.street).copied();
        let street_name = street.map_or("", |s| s.name.as_str());
        let registered = date(n.registered.0, n.registered.1, n.registered.2);
        out.push(PlannedOrg {
            draft: draft(
                &mut rng,
                n.name.to_owned(),
                n.kind,
                n.domain,
                n.direct,
                area,
                street_name,
                community.map(|c| c.name.as_str()),
                registered,
                n.brand,
            ),
            division: DISTRICT_DIVISION,
        });
    }

    let named_count = |kind: OrgKind| NAMED.iter().filter(|n| n.kind == kind).count();
    let named_direct = NAMED.iter().filter(|n| n.direct).count();
    // The remaining direct registrations, split over social groups and private non-enterprise
    // units (all 2013–2014, after the reform).
    let direct_pne = (figures::DIRECT_REGISTRATIONS - named_direct) / 2;
    let direct_sg = figures::DIRECT_REGISTRATIONS - named_direct - direct_pne;

    let mut registered = |rng: &mut Rng,
                          kind: OrgKind,
                          count: usize,
                          out: &mut Vec<PlannedOrg>,
                          mut direct_left: usize| {
        for i in 0..count {
            let direct = direct_left > 0 && i % 37 == 5;
            if direct {
                direct_left -= 1;
            }
            let domain = if direct {
                weighted(rng, DIRECT_DOMAINS)
            } else if kind == OrgKind::SocialGroup {
                weighted(rng, SOCIAL_GROUP_DOMAINS)
            } else {
                weighted(rng, PNE_DOMAINS)
            };
            let community = *rng.pick(&places.communities);
            let street = places.street_of(community);
            let at_street_level = rng.chance(20);
            let area = if at_street_level {
                street.code.clone()
            } else {
                community.code.clone()
            };
            let registered_on = if direct {
                random_date(rng, 2013, 2014)
            } else if kind == OrgKind::SocialGroup {
                random_date(rng, 1996, 2014)
            } else {
                random_date(rng, 1999, 2014)
            };
            let name = unique_name(
                rng,
                &mut used,
                kind,
                domain,
                &street.name,
                (!at_street_level).then_some(community.name.as_str()),
            );
            let brand = rng.chance(2);
            out.push(PlannedOrg {
                draft: draft(
                    rng,
                    name,
                    kind,
                    domain,
                    direct,
                    area,
                    &street.name,
                    Some(community.name.as_str()),
                    registered_on,
                    brand,
                ),
                division: DISTRICT_DIVISION,
            });
        }
    };
    registered(
        &mut rng,
        OrgKind::SocialGroup,
        figures::SOCIAL_GROUPS - named_count(OrgKind::SocialGroup),
        &mut out,
        direct_sg,
    );
    registered(
        &mut rng,
        OrgKind::PrivateNonEnterprise,
        figures::PRIVATE_NON_ENTERPRISE - named_count(OrgKind::PrivateNonEnterprise),
        &mut out,
        direct_pne,
    );

    // The one foundation: registered by the municipality, located in the district.
    {
        let community = *rng.pick(&places.communities);
        let street = places.street_of(community);
        let name = unique_name(
            &mut rng,
            &mut used,
            OrgKind::Foundation,
            "charity",
            &street.name,
            None,
        );
        let registered_on = random_date(&mut rng, 2010, 2014);
        let mut d = draft(
            &mut rng,
            name,
            OrgKind::Foundation,
            "charity",
            false,
            community.code.clone(),
            &street.name,
            Some(community.name.as_str()),
            registered_on,
            false,
        );
        d.registered_capital_fen = Some(400_000_000);
        d.members = None;
        out.push(PlannedOrg {
            draft: d,
            division: MUNICIPAL_DIVISION,
        });
    }

    // Filed community organizations: every community has some; villages fewer.
    let community_total = figures::COMMUNITY - named_count(OrgKind::Community);
    let mut homes: Vec<&Division> = Vec::new();
    for c in &places.communities {
        let is_village = c.name.contains('村');
        homes.push(c);
        if !is_village {
            homes.push(c);
        }
    }
    let urban: Vec<&Division> = places
        .communities
        .iter()
        .copied()
        .filter(|c| !c.name.contains('村'))
        .collect();
    while homes.len() < community_total {
        homes.push(*rng.pick(&urban));
    }
    homes.truncate(community_total);
    for community in homes {
        let street = places.street_of(community);
        let domain = weighted(&mut rng, COMMUNITY_DOMAINS);
        let name = unique_name(
            &mut rng,
            &mut used,
            OrgKind::Community,
            domain,
            &street.name,
            Some(&community.name),
        );
        let filed = random_date(&mut rng, 2009, 2014);
        out.push(PlannedOrg {
            draft: draft(
                &mut rng,
                name,
                OrgKind::Community,
                domain,
                false,
                community.code.clone(),
                &street.name,
                Some(community.name.as_str()),
                filed,
                false,
            ),
            division: DISTRICT_DIVISION,
        });
    }
    out
}

fn unique_name(
    rng: &mut Rng,
    used: &mut HashSet<String>,
    kind: OrgKind,
    domain: &str,
    street: &str,
    community: Option<&str>,
) -> String {
    loop {
        let name = names::org_name(rng, kind.as_str(), domain, street, community);
        if used.insert(name_key(&name)) {
            return name;
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "builds one record from its parts"
)]
fn draft(
    rng: &mut Rng,
    name: String,
    kind: OrgKind,
    domain: &str,
    direct: bool,
    area_code: String,
    street_name: &str,
    community_name: Option<&str>,
    registered_on: NaiveDate,
    brand: bool,
) -> OrgDraft {
    let registered = kind.is_registered();
    let capital_yuan = match kind {
        OrgKind::SocialGroup => rng.between(3, 50) * 10_000,
        OrgKind::PrivateNonEnterprise => rng.between(3, 200) * 10_000,
        OrgKind::Foundation => 4_000_000,
        OrgKind::Community => 0,
    };
    OrgDraft {
        name,
        uscc: None,
        kind,
        domain: domain.to_owned(),
        direct_registration: direct,
        supervisory_unit: (registered && !direct).then(|| names::supervisory_unit(rng, domain)),
        legal_representative: Some(names::person_name(rng)),
        contact_person: Some(names::person_name(rng)),
        contact_phone: Some(names::phone(rng)),
        address: Some(names::address(rng, street_name, community_name)),
        area_code,
        founded_on: Some(registered_on - chrono::Duration::days(rng.between(0, 90))),
        registered_on: Some(registered_on),
        registered_capital_fen: registered.then_some(capital_yuan * 100),
        members: match kind {
            OrgKind::SocialGroup => Some(rng.between(50, 600)),
            OrgKind::Community => Some(rng.between(10, 120)),
            _ => None,
        },
        staff: registered.then(|| rng.between(1, 40)),
        business_scope: Some(names::scope_of_activities(rng, kind.as_str(), domain)),
        status: OrgStatus::Active,
        grade: None,
        grade_expires_on: None,
        brand,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_matches_the_seed_figures() {
        let divisions = areas::binhai_divisions();
        let p = plan(DEFAULT_SEED, &divisions);
        let count = |k: OrgKind| p.iter().filter(|o| o.draft.kind == k).count();
        assert_eq!(count(OrgKind::SocialGroup), figures::SOCIAL_GROUPS);
        assert_eq!(
            count(OrgKind::PrivateNonEnterprise),
            figures::PRIVATE_NON_ENTERPRISE
        );
        assert_eq!(count(OrgKind::Foundation), figures::FOUNDATIONS);
        assert_eq!(count(OrgKind::Community), figures::COMMUNITY);
        assert_eq!(
            p.iter().filter(|o| o.draft.direct_registration).count(),
            figures::DIRECT_REGISTRATIONS
        );
        let keys: HashSet<String> = p.iter().map(|o| name_key(&o.draft.name)).collect();
        assert_eq!(keys.len(), p.len(), "names are unique");
        for n in NAMED {
            assert!(
                p.iter().any(|o| o.draft.name == n.name),
                "{} missing",
                n.name
            );
        }
        let codes: HashSet<&str> = divisions.iter().map(|d| d.code.as_str()).collect();
        assert!(p.iter().all(|o| codes.contains(o.draft.area_code.as_str())));
        let foundation = p
            .iter()
            .find(|o| o.draft.kind == OrgKind::Foundation)
            .unwrap();
        assert_eq!(foundation.division, MUNICIPAL_DIVISION);
        // Every direct registration is in one of the four eligible categories.
        assert!(
            p.iter()
                .filter(|o| o.draft.direct_registration)
                .all(|o| DIRECT_DOMAINS.iter().any(|(d, _)| *d == o.draft.domain))
        );
        // Every community has at least one filed organization.
        for c in divisions.iter().filter(|d| d.level == AreaLevel::Community) {
            assert!(
                p.iter().any(|o| o.draft.area_code == c.code),
                "{} has none",
                c.name
            );
        }
    }

    #[test]
    fn plan_is_deterministic() {
        let divisions = areas::binhai_divisions();
        assert_eq!(plan(7, &divisions), plan(7, &divisions));
        assert_ne!(plan(7, &divisions), plan(8, &divisions));
    }
}

#[cfg(test)]
mod pdf_tests {
    #[test]
    fn demo_documents_are_well_formed_pdfs() {
        let pdf = super::demo_pdf("shezu demo: charter #7");
        assert_eq!(
            crate::approvals::documents::check_upload(&pdf),
            Ok("application/pdf")
        );
        let text = String::from_utf8(pdf).unwrap();
        // Every cross-reference offset points at the object it names.
        let xref = text.find("xref\n").unwrap();
        let offsets: Vec<usize> = text[xref..]
            .lines()
            .skip(3)
            .take(5)
            .map(|l| l[..10].parse().unwrap())
            .collect();
        for (i, off) in offsets.iter().enumerate() {
            assert!(
                text[*off..].starts_with(&format!("{} 0 obj", i + 1)),
                "object {}",
                i + 1
            );
        }
        let startxref: usize = text
            .split("startxref\n")
            .nth(1)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(startxref, xref);
        assert!(text.contains("(shezu demo: charter #7) Tj"));
    }
}
