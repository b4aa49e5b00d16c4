//! Who may see and do what: roles (SPEC §1) with fixed permissions, the `Scope` every query
//! takes, the signed-in user, the password policy and the secrets (session and API tokens).

pub mod pages;
pub mod store;
pub mod tokens;

use crate::areas::AreaId;
use crate::areas::store::subtree_predicate;
use crate::db::Sql;
use crate::i18n::{Lang, Msg};
use crate::registry::OrgId;
use sha2::{Digest, Sha256};

/// Database id of a user account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct UserId(pub i64);

impl From<UserId> for crate::db::Arg {
    fn from(id: UserId) -> Self {
        crate::db::Arg::Int(id.0)
    }
}

/// A role a user may hold (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// 系统管理员: everything, users, settings.
    Admin,
    /// 登记管理 staff: the district's registry.
    Registrar,
    /// 服务窗口 staff: receives applications and consultations.
    Window,
    /// 功能区 / 街道 officer: their area subtree.
    AreaOfficer,
    /// 社区 / 村 liaison (联络员): their community.
    Liaison,
    /// 社会组织党工委 staff: the party-building database, district-wide.
    Party,
    /// 党建指导员: the organizations assigned to them.
    Instructor,
    /// 社会工作者: the organizations assigned to them.
    SocialWorker,
    /// 评估 / 评审专家: only the items assigned to them.
    Expert,
    /// An organization's own account.
    Org,
}

/// What a role's grant is tied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// District-wide.
    District,
    /// An area and everything below it.
    Area,
    /// One organization.
    Organization,
    /// Items assigned one by one (evaluations, proposals): nothing in the registry.
    Items,
}

/// Something a user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See organizations' full records and history in the back office.
    ViewRegistry,
    /// Change organizations' registration records.
    EditRegistry,
    /// Enter a new organization in the registry.
    CreateOrganization,
    /// Change the few fields an organization keeps up to date itself (contact, members, staff).
    EditOwnOrganization,
    /// Edit dictionaries (domains).
    ManageDictionaries,
    /// Create users, grant roles, reset passwords, disable accounts.
    ManageUsers,
    /// Create and revoke department API tokens.
    ManageTokens,
    /// Read the audit log and the login log.
    ViewAudit,
    /// Change installation settings.
    ManageSettings,
    /// Accept, review and decide applications (within the area for area officers).
    HandleApplications,
    /// File applications for one's own organization (or a new one).
    Apply,
    /// Send a referral about an organization one can see to another department or area.
    Refer,
    /// Write, publish and withdraw notices and policy documents on the portal.
    PublishNotices,
    /// Fill in and submit one's own organization's annual report (年度报告).
    FileAnnualReport,
    /// Review annual reports and record the inspection result (年检结论).
    ReviewAnnualReports,
    /// List and remove organizations on the credit lists, decide objections (信用管理).
    ManageCreditLists,
    /// Run evaluation rounds: templates, eligibility, experts, committee, 公示, 复核 (评估管理).
    ManageEvaluations,
    /// Score the evaluations assigned to oneself (评估专家).
    ScoreEvaluations,
    /// Apply for evaluation for one's own organization, self-evaluate, ask for 复核 (评估申报).
    ApplyEvaluation,
    /// See party organizations' records (党建信息): district-wide, or one's assigned organizations.
    ViewParty,
    /// Record party organizations, cadres, instructors, coverage and payments (党建管理).
    ManageParty,
    /// See the party-building aggregate figures (coverage, funding) of one's area.
    ViewPartyFigures,
    /// See social workers, professionals, the 1:30 ratio report and training figures of one's
    /// area (社工与培训).
    ViewTalent,
    /// Record social workers, professionals, placements and training sessions (社工与培训管理).
    ManageTalent,
    /// Sign one's organization's people up for training sessions (培训报名).
    SignUpTraining,
    /// See the statistics desk, its drill-down lists and the report set of one's area
    /// (统计分析).
    ViewStats,
    /// See volunteers, their service records and donations (志愿者与捐赠) within reach.
    ViewVolunteers,
    /// Register volunteers, record and confirm their service, record donations (志愿服务记录).
    ManageVolunteers,
    /// Verify service hours the organizations confirmed (志愿服务时长核实, the area office).
    VerifyVolunteerHours,
    /// Keep brand organizations' reasons and figures and the service bases (品牌与服务基地).
    ManageBrands,
    /// Run incubators, calls for entry, selection and incubation stays (孵化管理), in one's area.
    ManageIncubation,
    /// Run funding programmes: rounds, people and roles, screening, experts, allocation, 公示, awards (资助管理).
    ManageFunding,
    /// Review and score the funding proposals assigned to oneself (创投评审专家).
    ScoreProposals,
    /// Submit funding proposals and reports for one's own organization (项目申报).
    ApplyFunding,
}

impl Permission {
    /// True when the permission reaches records through the grant's area or organization;
    /// the others (dictionaries, users, audit, filing one's own applications…) are simply held
    /// or not.
    pub fn is_scoped(self) -> bool {
        matches!(
            self,
            Permission::ViewRegistry
                | Permission::EditRegistry
                | Permission::CreateOrganization
                | Permission::EditOwnOrganization
                | Permission::HandleApplications
                | Permission::FileAnnualReport
                | Permission::ApplyEvaluation
                | Permission::ReviewAnnualReports
                | Permission::ViewParty
                | Permission::ViewPartyFigures
                | Permission::ViewTalent
                | Permission::ViewStats
                | Permission::SignUpTraining
                | Permission::ViewVolunteers
                | Permission::ManageVolunteers
                | Permission::VerifyVolunteerHours
                | Permission::ManageIncubation
                | Permission::ApplyFunding
        )
    }
}

impl Role {
    /// Every role, in the order SPEC §1 lists them.
    pub const ALL: [Role; 10] = [
        Role::Admin,
        Role::Registrar,
        Role::Window,
        Role::AreaOfficer,
        Role::Liaison,
        Role::Party,
        Role::Instructor,
        Role::SocialWorker,
        Role::Expert,
        Role::Org,
    ];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Registrar => "registrar",
            Role::Window => "window",
            Role::AreaOfficer => "area_officer",
            Role::Liaison => "liaison",
            Role::Party => "party",
            Role::Instructor => "instructor",
            Role::SocialWorker => "social_worker",
            Role::Expert => "expert",
            Role::Org => "org",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// The role's name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(&format!("role.{}", self.as_str()))
    }

    /// What a grant of this role is tied to.
    pub fn reach(self) -> Reach {
        match self {
            Role::Admin | Role::Registrar | Role::Window | Role::Party => Reach::District,
            Role::AreaOfficer | Role::Liaison => Reach::Area,
            Role::Instructor | Role::SocialWorker | Role::Org => Reach::Organization,
            Role::Expert => Reach::Items,
        }
    }

    /// The role's fixed permissions (the role matrix in the README).
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Admin => &[
                ViewRegistry,
                EditRegistry,
                CreateOrganization,
                ManageDictionaries,
                ManageUsers,
                ManageTokens,
                ViewAudit,
                ManageSettings,
                HandleApplications,
                Refer,
                PublishNotices,
                ReviewAnnualReports,
                ManageCreditLists,
                ManageEvaluations,
                ViewParty,
                ManageParty,
                ViewPartyFigures,
                ViewTalent,
                ManageTalent,
                ViewStats,
                ViewVolunteers,
                ManageVolunteers,
                VerifyVolunteerHours,
                ManageBrands,
                ManageIncubation,
                ManageFunding,
            ],
            Role::Registrar => &[
                ViewRegistry,
                EditRegistry,
                CreateOrganization,
                ManageDictionaries,
                ViewAudit,
                HandleApplications,
                Refer,
                PublishNotices,
                ReviewAnnualReports,
                ManageCreditLists,
                ManageEvaluations,
                ViewPartyFigures,
                ViewTalent,
                ManageTalent,
                ViewStats,
                ViewVolunteers,
                ManageVolunteers,
                VerifyVolunteerHours,
                ManageBrands,
                ManageIncubation,
                ManageFunding,
            ],
            Role::Window => &[ViewRegistry, HandleApplications, Refer],
            Role::Party => &[
                ViewRegistry,
                Refer,
                ViewParty,
                ManageParty,
                ViewPartyFigures,
                ViewStats,
            ],
            Role::Liaison => &[ViewRegistry, Refer, ViewStats],
            Role::Instructor => &[ViewRegistry, ViewParty],
            Role::SocialWorker => &[ViewRegistry, SignUpTraining],
            Role::AreaOfficer => &[
                ViewRegistry,
                EditRegistry,
                CreateOrganization,
                HandleApplications,
                Refer,
                ReviewAnnualReports,
                ViewPartyFigures,
                ViewTalent,
                ViewStats,
                ViewVolunteers,
                VerifyVolunteerHours,
                ManageIncubation,
            ],
            Role::Expert => &[ScoreEvaluations, ScoreProposals],
            Role::Org => &[
                ViewRegistry,
                EditOwnOrganization,
                Apply,
                FileAnnualReport,
                ApplyEvaluation,
                SignUpTraining,
                ViewVolunteers,
                ManageVolunteers,
                ApplyFunding,
            ],
        }
    }
}

/// One role held by a user, with what it is tied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The area, for area-tied roles.
    pub area: Option<AreaId>,
    /// The organization, for organization-tied roles.
    pub org: Option<OrgId>,
}

/// The records a caller may see, applied in SQL by every list, detail, count and export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything in the installation.
    All,
    /// Records located in these areas or anywhere below them, plus these organizations.
    /// Both empty: nothing at all (default deny).
    Limited {
        /// Areas whose subtrees are visible.
        areas: Vec<AreaId>,
        /// Organizations visible one by one.
        orgs: Vec<OrgId>,
    },
    /// Anyone: every organization's public record, and only its public fields.
    Public,
}

impl Scope {
    /// These areas and everything below them.
    pub fn areas(areas: Vec<AreaId>) -> Scope {
        Scope::Limited {
            areas,
            orgs: Vec::new(),
        }
    }

    /// Only these organizations.
    pub fn orgs(orgs: Vec<OrgId>) -> Scope {
        Scope::Limited {
            areas: Vec::new(),
            orgs,
        }
    }

    /// Nothing at all.
    pub fn none() -> Scope {
        Scope::Limited {
            areas: Vec::new(),
            orgs: Vec::new(),
        }
    }

    /// Appends ` and (…)` restricting the organization aliased `org` to this scope.
    pub fn restrict_orgs(&self, sql: &mut Sql, org: &str) {
        match self {
            Scope::All | Scope::Public => {}
            Scope::Limited { areas, orgs } => {
                sql.push(" and (");
                subtree_predicate(sql, &format!("{org}.area_id"), areas);
                sql.push(" or ")
                    .push(org)
                    .push(".id in (")
                    .push_list(orgs)
                    .push("))");
            }
        }
    }

    /// True when the scope sees nothing at all.
    pub fn is_empty(&self) -> bool {
        matches!(self, Scope::Limited { areas, orgs } if areas.is_empty() && orgs.is_empty())
    }
}

/// The scope a set of grants gives for `permission`: district-wide if any granting role is,
/// otherwise the union of the granting roles' areas and organizations; nothing if none grants it.
pub fn scope_for(grants: &[Grant], permission: Permission) -> Scope {
    let mut areas = Vec::new();
    let mut orgs = Vec::new();
    for g in grants
        .iter()
        .filter(|g| g.role.permissions().contains(&permission))
    {
        match g.role.reach() {
            Reach::District => return Scope::All,
            Reach::Area => areas.extend(g.area),
            Reach::Organization => orgs.extend(g.org),
            Reach::Items => {}
        }
    }
    areas.sort();
    areas.dedup();
    orgs.sort();
    orgs.dedup();
    Scope::Limited { areas, orgs }
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Account id.
    pub id: UserId,
    /// Sign-in name.
    pub username: String,
    /// Name shown on pages.
    pub display_name: String,
    /// Roles held.
    pub grants: Vec<Grant>,
    /// The session's CSRF token, put into every form.
    pub csrf_token: String,
    /// Where the request came from (for the audit trail).
    pub ip: Option<String>,
}

impl CurrentUser {
    /// True when some role grants `permission` (in some scope).
    pub fn can(&self, permission: Permission) -> bool {
        self.grants
            .iter()
            .any(|g| g.role.permissions().contains(&permission))
    }

    /// The records `permission` reaches for this user.
    pub fn scope(&self, permission: Permission) -> Scope {
        scope_for(&self.grants, permission)
    }

    /// The user as the audit trail names them.
    pub fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor {
            name: self.username.clone(),
            user_id: Some(self.id.0),
            ip: self.ip.clone(),
        }
    }

    /// True when the user holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
}

/// The scope `user` has for `permission`, or `Forbidden` — and an audit entry of the refusal —
/// when no role of theirs grants it anywhere.
pub async fn require(
    app: &crate::app::AppState,
    user: &CurrentUser,
    permission: Permission,
) -> Result<Scope, crate::error::Error> {
    let scope = if permission.is_scoped() {
        user.scope(permission)
    } else if user.can(permission) {
        Scope::All
    } else {
        Scope::none()
    };
    if !scope.is_empty() {
        return Ok(scope);
    }
    Err(deny(app, user, "permission", None, &format!("{permission:?}")).await)
}

/// An audited refusal of `permission` held too narrowly for the task (`reach`: what was
/// missing — `district`, `own`).
async fn deny_reach(
    app: &crate::app::AppState,
    user: &CurrentUser,
    permission: Permission,
    reach: &str,
) -> crate::error::Error {
    let summary = format!("{permission:?} ({reach})");
    deny(app, user, "permission", None, &summary).await
}

/// Like [`require`], for what only district-wide holders of `permission` may do: anyone whose
/// scope is narrower is refused, and the refusal audited.
pub async fn require_district(
    app: &crate::app::AppState,
    user: &CurrentUser,
    permission: Permission,
) -> Result<(), crate::error::Error> {
    match require(app, user, permission).await? {
        Scope::All => Ok(()),
        _ => Err(deny_reach(app, user, permission, "district").await),
    }
}

/// The organization an organization account acts for under `permission` (the first of its
/// own), with the account's scope; anyone else (district staff, a street office) is refused,
/// and the refusal audited.
pub async fn require_own_org(
    app: &crate::app::AppState,
    user: &CurrentUser,
    permission: Permission,
) -> Result<(Scope, OrgId), crate::error::Error> {
    let scope = require(app, user, permission).await?;
    let own = match &scope {
        Scope::Limited { orgs, .. } => orgs.first().copied(),
        _ => None,
    };
    match own {
        Some(org) => Ok((scope, org)),
        None => Err(deny_reach(app, user, permission, "own").await),
    }
}

/// Records that `user` was refused something (`denied`, on `entity`, with `summary`) and gives
/// the `Forbidden` error to answer with. At most [`DENIALS_AUDITED_PER_MINUTE`] refusals a
/// minute are written per user, so a script hammering a forbidden page cannot flood the audit
/// log; the rest go to the server log only.
pub async fn deny(
    app: &crate::app::AppState,
    user: &CurrentUser,
    entity: &str,
    entity_id: Option<i64>,
    summary: &str,
) -> crate::error::Error {
    let key = format!("user:{}", user.id.0);
    if app
        .denial_audits
        .check(&key, std::time::Instant::now())
        .is_err()
    {
        tracing::warn!(user = %user.username, entity, summary, "denial not audited: over the rate limit");
        return crate::error::Error::Forbidden;
    }
    let audited = async {
        let mut tx = app.db.begin().await?;
        let entry = crate::audit::store::NewEntry::of("denied", entity, entity_id, summary);
        crate::audit::store::append(&mut tx.conn(), chrono::Utc::now(), &user.actor(), entry)
            .await?;
        tx.commit().await?;
        Ok::<(), crate::error::Error>(())
    };
    match audited.await {
        Ok(()) => crate::error::Error::Forbidden,
        Err(e) => e,
    }
}

/// Refusals written to the audit log per minute for one user (or one API token); see [`deny`].
pub const DENIALS_AUDITED_PER_MINUTE: u32 = 60;

/// Shortest password accepted.
pub const PASSWORD_MIN_CHARS: usize = 10;

/// Passwords too common to allow, whatever their length (checked case-insensitively).
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "a123456789",
    "qwertyuiop",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "password123",
    "password1234",
    "passw0rd123",
    "administrator",
    "admin12345",
    "admin123456",
    "iloveyou123",
    "woaini1314",
    "woaini520",
    "5201314520",
    "1314520520",
    "qwerty123456",
    "abc1234567",
    "abcd123456",
    "abcdefghij",
    "0987654321",
    "1111111111",
    "0000000000",
    "8888888888",
    "6666666666",
    "1234554321",
    "zxcvbnm123",
    "asdfghjkl1",
    "welcome123",
    "changeme123",
    "letmein123",
    "shezu12345",
    "binhai2014",
    "tianjin123",
    "p@ssw0rd123",
    "qazwsxedc123",
    "aa123456789",
    "a1234567890",
];

/// Checks a new password against the policy: at least [`PASSWORD_MIN_CHARS`] characters, not
/// the username (nor containing it), not a well-known password, not a single repeated character.
pub fn check_password(username: &str, password: &str) -> Result<(), Msg> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(Msg::new("auth.password.too_short").with("min", PASSWORD_MIN_CHARS));
    }
    let lower = password.to_lowercase();
    let user = username.trim().to_lowercase();
    if !user.is_empty() && lower.contains(&user) {
        return Err(Msg::new("auth.password.contains_username"));
    }
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        return Err(Msg::new("auth.password.common"));
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(Msg::new("auth.password.common"));
    }
    Ok(())
}

/// Hashes a password with argon2id (a fresh random salt each time), as a PHC string.
pub fn hash_password(password: &str) -> Result<String, crate::error::Error> {
    use argon2::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| crate::error::Error::Other(format!("password hashing: {e}")))
}

/// True when `password` matches the stored argon2 hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A new random secret (256 bits) as 64 hex characters: session tokens, API tokens, CSRF tokens.
pub fn new_secret() -> Result<String, crate::error::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| crate::error::Error::Other(format!("random source: {e}")))?;
    Ok(hex(&bytes))
}

/// The SHA-256 of a secret as hex: what the database keeps instead of the secret.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A password made for a person to type once and change: 14 characters from an alphabet
/// without look-alikes.
pub fn generate_password() -> Result<String, crate::error::Error> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 14];
    getrandom::fill(&mut bytes)
        .map_err(|e| crate::error::Error::Other(format!("random source: {e}")))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: Role, area: Option<i64>, org: Option<i64>) -> Grant {
        Grant {
            role,
            area: area.map(AreaId),
            org: org.map(OrgId),
        }
    }

    #[test]
    fn role_matrix() {
        // Table: role → may view registry, edit registry, manage users.
        let table = [
            (Role::Admin, true, true, true),
            (Role::Registrar, true, true, false),
            (Role::Window, true, false, false),
            (Role::AreaOfficer, true, true, false),
            (Role::Liaison, true, false, false),
            (Role::Party, true, false, false),
            (Role::Instructor, true, false, false),
            (Role::SocialWorker, true, false, false),
            (Role::Expert, false, false, false),
            (Role::Org, true, false, false),
        ];
        for (role, view, edit, users) in table {
            let p = role.permissions();
            assert_eq!(p.contains(&Permission::ViewRegistry), view, "{role:?}");
            assert_eq!(p.contains(&Permission::EditRegistry), edit, "{role:?}");
            assert_eq!(p.contains(&Permission::ManageUsers), users, "{role:?}");
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn scopes_follow_grants() {
        let officer = [grant(Role::AreaOfficer, Some(5), None)];
        assert_eq!(
            scope_for(&officer, Permission::ViewRegistry),
            Scope::areas(vec![AreaId(5)])
        );
        assert!(scope_for(&officer, Permission::ManageUsers).is_empty());
        let mixed = [
            grant(Role::Instructor, None, Some(9)),
            grant(Role::Liaison, Some(7), None),
            grant(Role::Instructor, None, Some(3)),
        ];
        assert_eq!(
            scope_for(&mixed, Permission::ViewRegistry),
            Scope::Limited {
                areas: vec![AreaId(7)],
                orgs: vec![OrgId(3), OrgId(9)]
            }
        );
        let with_registrar = [
            grant(Role::Liaison, Some(7), None),
            grant(Role::Registrar, None, None),
        ];
        assert_eq!(
            scope_for(&with_registrar, Permission::ViewRegistry),
            Scope::All
        );
        assert!(scope_for(&[grant(Role::Expert, None, None)], Permission::ViewRegistry).is_empty());
        // A tied role without its tie sees nothing, rather than everything.
        assert!(
            scope_for(
                &[grant(Role::AreaOfficer, None, None)],
                Permission::ViewRegistry
            )
            .is_empty()
        );
    }

    #[test]
    fn scope_predicates() {
        let mut sql = Sql::new("select 1 from organizations o where 1 = 1");
        Scope::areas(vec![AreaId(3), AreaId(9)]).restrict_orgs(&mut sql, "o");
        assert!(sql.text().contains(
            "(o.area_id in (select descendant_id from area_closure where ancestor_id in ($1, $2)) or o.id in (null))"
        ), "{}", sql.text());
        let mut sql = Sql::new("x");
        Scope::none().restrict_orgs(&mut sql, "o");
        assert!(
            sql.text()
                .contains("ancestor_id in (null)) or o.id in (null))"),
            "{}",
            sql.text()
        );
        let mut sql = Sql::new("x");
        Scope::All.restrict_orgs(&mut sql, "o");
        assert_eq!(sql.text(), "x");
    }

    #[test]
    fn password_policy() {
        assert!(check_password("wang", "short").is_err());
        assert_eq!(
            check_password("wangfang", "xx-wangfang-2014")
                .unwrap_err()
                .key,
            "auth.password.contains_username"
        );
        assert_eq!(
            check_password("li", "Password123").unwrap_err().key,
            "auth.password.common"
        );
        assert!(check_password("li", "aaaaaaaaaaaa").is_err());
        assert!(check_password("li", "滨海新区社会组织2014").is_ok());
        assert!(check_password("li", "correct horse battery").is_ok());
    }

    #[test]
    fn hashes_and_secrets() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert_ne!(hash_password("correct horse battery").unwrap(), h, "salted");
        let s = new_secret().unwrap();
        assert_eq!(s.len(), 64);
        assert_ne!(s, new_secret().unwrap());
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(generate_password().unwrap().len(), 14);
    }
}
