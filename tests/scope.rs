//! Route × role × area: every route, for every role (users in two different streets, a
//! community, assigned organizations, an organization's own account, and anonymous visitors),
//! answers with the expected status and shows nothing outside the caller's scope — not in
//! lists, totals, search or details, where a record outside scope answers exactly like one that
//! does not exist. Adding a route without listing it here fails `every_route_is_listed`.

use crate::common::{PASSWORD, TestApp, TestDb};
use crate::db_test;
use crate::registry::load_areas;
use chrono::Utc;
use shezu::auth::Scope;
use shezu::db::Sql;
use shezu::registry::OrgForm;
use shezu::registry::store;

/// Every route pattern of the application, as written in the source.
const ROUTES: &[&str] = &[
    "/",
    "/account",
    "/account/logout-all",
    "/account/password",
    "/admin",
    "/api/docs",
    "/admin/applications",
    "/admin/applications/{id}/handover",
    "/admin/audit",
    "/admin/consultations",
    "/admin/consultations/{id}",
    "/admin/consultations/{id}/answer",
    "/admin/consultations/{id}/claim",
    "/admin/domains",
    "/admin/domains/{id}",
    "/admin/logins",
    "/admin/orgs",
    "/admin/orgs/new",
    "/admin/orgs/{id}",
    "/admin/orgs/{id}/certificate",
    "/admin/orgs/{id}/edit",
    // Bulk import (tests/upload.rs walks them: `walk`).
    "/admin/orgs/import",
    "/admin/orgs/import/template.xlsx",
    "/admin/imports",
    "/admin/imports/jobs/{job}",
    "/admin/imports/jobs/{job}/status",
    "/admin/imports/jobs/{job}/errors.xlsx",
    "/admin/imports/annual-reports",
    "/admin/imports/annual-reports/template.xlsx",
    "/admin/imports/volunteer-services",
    "/admin/imports/volunteer-services/template.xlsx",
    "/admin/imports/donations",
    "/admin/imports/donations/template.xlsx",
    "/admin/orgs/{id}/referrals",
    "/admin/referrals",
    "/admin/referrals/{id}",
    "/admin/referrals/{id}/reply",
    "/admin/settings",
    "/admin/tokens",
    "/admin/tokens/{id}/revoke",
    "/admin/users",
    "/admin/users/{id}",
    "/admin/users/{id}/active",
    "/admin/users/{id}/password",
    "/admin/users/{id}/roles",
    "/admin/users/{id}/roles/{grant}/delete",
    "/admin/notices",
    "/admin/notices/{id}",
    "/admin/notices/{id}/publish",
    "/applications",
    "/applications/new",
    "/applications/{id}",
    "/applications/{id}/action",
    "/applications/{id}/documents",
    "/applications/{id}/documents/{doc}",
    "/applications/{id}/edit",
    "/reports",
    "/reports/{year}",
    "/reports/{year}/submit",
    "/credit/{id}/objection",
    "/admin/reports",
    "/admin/reports/{id}",
    "/admin/reports/{id}/review",
    "/admin/credit",
    "/admin/credit/{id}",
    "/admin/credit/{id}/remove",
    "/admin/credit/{id}/objections/{objection}",
    "/admin/credit/sweep",
    "/api/v1/credit-lists",
    "/api/v1/inspection/figures",
    // The party-building database (tests/party.rs walks them: `walk`).
    "/admin/party",
    "/admin/party/mine",
    "/admin/party/instructors",
    "/admin/party/instructors/{id}/orgs",
    "/admin/party/payments",
    "/admin/party/{id}",
    "/admin/party/{id}/orgs",
    "/admin/party/{id}/cadres",
    "/admin/party/{id}/activities",
    "/admin/party/{id}/dissolve",
    "/admin/party/{id}/orgs/{org}/end",
    "/admin/party/{id}/cadres/{cadre}/end",
    "/admin/party/{id}/assessments/{year}",
    "/admin/party/instructors/{id}/orgs/{org}/end",
    "/admin/party/assessments",
    "/admin/party/assessments/template",
    "/admin/party/{id}/mechanisms",
    "/api/v1/party/summary",
    "/admin/network",
    "/admin/federations",
    "/admin/federations/{id}",
    "/admin/federations/{id}/members",
    "/admin/federations/{id}/members/{member}/leave",
    "/admin/liaison-points",
    "/api/v1/network",
    "/consult",
    "/api/v1/areas",
    "/api/v1/areas/{code}",
    "/api/v1/changes",
    "/api/v1/export/organizations",
    "/api/v1/openapi.json",
    "/api/v1/organizations",
    "/api/v1/organizations/{key}",
    "/api/v1/{*rest}",
    "/healthz",
    "/readyz",
    "/login",
    "/logout",
    "/metrics",
    "/notices",
    "/notices/feed.xml",
    "/notices/{id}",
    "/open-data",
    "/open-data/{date}/{file}",
    "/orgs",
    "/orgs/{key}",
    "/static/{name}",
    "/stats",
    // Classified evaluation (tests/evaluation.rs walks them: `walk_routes`).
    "/admin/evaluations",
    "/admin/evaluations/{id}",
    "/admin/evaluations/{id}/publicity",
    "/admin/evaluations/{id}/finalize",
    "/admin/evaluation-templates/{kind}",
    "/admin/evaluation-applications/{id}",
    "/admin/evaluation-applications/{id}/assign",
    "/admin/evaluation-applications/{id}/propose",
    "/admin/evaluation-applications/{id}/review",
    "/admin/evaluation-experts",
    "/evaluation",
    "/evaluation/rounds/{id}",
    "/evaluation/applications/{id}",
    "/evaluation/applications/{id}/review",
    "/expert/evaluations",
    "/expert/evaluations/{id}",
    "/expert/evaluations/{id}/conflict",
    "/evaluations",
    "/evaluations/certificates/{id}",
    // Talent (tests/talent.rs walks them: `walk`).
    "/admin/talent",
    "/admin/stats",
    "/admin/stats/drill/{key}",
    "/admin/stats/reports/{name}",
    "/admin/practitioners",
    "/admin/practitioners/{id}",
    "/admin/practitioners/{id}/placements",
    "/admin/practitioners/{id}/placements/{placement}/end",
    "/admin/trainings",
    "/admin/trainings/{id}",
    "/admin/trainings/{id}/attendance",
    "/trainings",
    "/trainings/{id}/signups",
    "/api/v1/talent/summary",
    "/api/v1/stats/summary",
    // Volunteers, donations, service bases and brands (tests/volunteers.rs walks them: `walk`).
    "/admin/volunteers",
    "/admin/volunteers/{id}",
    "/admin/volunteers/{id}/services",
    "/admin/volunteers/{id}/certificate",
    "/admin/volunteer-services/{id}",
    "/admin/donations",
    "/admin/service-bases",
    "/admin/brands",
    "/admin/brands/{id}",
    "/admin/brands/{id}/figures",
    "/api/v1/volunteers/summary",
    // Incubation (tests/incubation.rs walks them: `walk_routes`).
    "/admin/incubation",
    "/admin/incubators",
    "/admin/incubators/{id}",
    "/admin/incubation-calls",
    "/admin/incubation-calls/{id}/applications",
    "/admin/incubation-applications/{id}/decide",
    "/admin/incubation-stays/{id}",
    "/admin/incubation-stays/{id}/services",
    "/admin/incubation-stays/{id}/end",
    "/admin/incubation-stays/{id}/link",
    "/incubation",
    "/incubation/calls/{id}/apply",
    "/incubation/stays/{id}/link",
    "/api/v1/incubation/summary",
    // Venture philanthropy and support funds (tests/funding.rs walks them: `walk`).
    "/admin/funding",
    "/admin/funding/{id}",
    "/admin/funding/{id}/allocate",
    "/admin/funding/{id}/notice",
    "/admin/funding/objections/{id}",
    "/admin/funding/proposals/{id}",
    "/admin/funding/proposals/{id}/screen",
    "/admin/funding/proposals/{id}/assign",
    "/admin/funding/proposals/{id}/adjust",
    "/admin/funding/proposals/{id}/award",
    "/admin/people",
    "/admin/people/{id}",
    "/admin/people/{id}/roles",
    "/admin/people/{id}/account",
    "/funding",
    "/funding/rounds/{id}/apply",
    "/funding/proposals/{id}",
    "/funding/proposals/{id}/report",
    "/funding/notices/{id}",
    "/funding/projects/{id}",
    "/expert/funding",
    "/expert/funding/{id}",
    "/expert/funding/{id}/declare",
    "/expert/funding/{id}/scores",
    "/api/v1/funding/summary",
];

#[test]
fn every_route_is_listed() {
    let mut found = Vec::new();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    collect_routes(&src, &mut found);
    found.sort();
    found.dedup();
    let mut listed: Vec<String> = ROUTES.iter().map(|r| r.to_string()).collect();
    listed.sort();
    assert_eq!(
        found, listed,
        "a route was added or removed: list it in ROUTES and in `expected`"
    );
}

/// Every route literal in the source tree under `dir`.
pub fn collect_routes(dir: &std::path::Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_routes(&path, out);
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(pos) = rest.find(".route(") {
            rest = rest[pos + 7..].trim_start();
            if let Some(lit) = rest.strip_prefix('"') {
                out.push(lit[..lit.find('"').unwrap()].to_owned());
            }
        }
    }
}

/// The organizations of the test district: one in a 塘沽 community, one in 大港 street, one in
/// the TEDA street of the development zone.
pub const IN_TANGGU: &str = "甲社区书画协会";
pub const IN_DAGANG: &str = "乙街道舞蹈协会";
pub const IN_TEDA: &str = "丙泰达志愿服务中心";

/// A caller: (username, role, area, organization name); `None` role is an anonymous visitor.
type Caller = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// Every kind of caller.
const CALLERS: &[Caller] = &[
    ("anonymous", None, None, None),
    ("admin1", Some("admin"), None, None),
    ("registrar1", Some("registrar"), None, None),
    ("window1", Some("window"), None, None),
    ("tanggu1", Some("area_officer"), Some("120116001"), None),
    ("dagang1", Some("area_officer"), Some("120116051"), None),
    ("liaison1", Some("liaison"), Some("120116001016"), None),
    ("party1", Some("party"), None, None),
    ("instructor1", Some("instructor"), None, Some(IN_TEDA)),
    ("worker1", Some("social_worker"), None, Some(IN_DAGANG)),
    ("expert1", Some("expert"), None, None),
    ("org1", Some("org"), None, Some(IN_TEDA)),
];

/// Which of the three organizations a caller may see in the back office.
pub fn visible(username: &str) -> &'static [&'static str] {
    match username {
        "admin1" | "registrar1" | "window1" | "party1" => &[IN_TANGGU, IN_DAGANG, IN_TEDA],
        "tanggu1" | "liaison1" => &[IN_TANGGU],
        "dagang1" | "worker1" => &[IN_DAGANG],
        "instructor1" | "org1" => &[IN_TEDA],
        _ => &[],
    }
}

pub fn can_view(u: &str) -> bool {
    !matches!(u, "anonymous" | "expert1")
}
fn can_edit(u: &str) -> bool {
    matches!(u, "admin1" | "registrar1" | "tanggu1" | "dagang1")
}
fn can_create(u: &str) -> bool {
    can_edit(u)
}
fn can_manage_users(u: &str) -> bool {
    u == "admin1"
}
fn can_see_audit(u: &str) -> bool {
    matches!(u, "admin1" | "registrar1")
}
fn can_handle_applications(u: &str) -> bool {
    matches!(
        u,
        "admin1" | "registrar1" | "window1" | "tanggu1" | "dagang1"
    )
}
fn can_apply(u: &str) -> bool {
    u == "org1"
}
/// Staff who see the application filed in 塘沽.
fn sees_tanggu_application(u: &str) -> bool {
    matches!(u, "admin1" | "registrar1" | "window1" | "tanggu1")
}
fn can_edit_dictionaries(u: &str) -> bool {
    matches!(u, "admin1" | "registrar1")
}
fn can_publish_notices(u: &str) -> bool {
    matches!(u, "admin1" | "registrar1")
}

/// Status for a signed-in-only page: anonymous GETs go to the sign-in page, anonymous posts are
/// 401, signed-in callers without the permission get 403.
pub fn gate(u: &str, allowed: bool, method: &str, ok: u16) -> u16 {
    match (u, allowed) {
        ("anonymous", _) if method == "GET" => 303,
        ("anonymous", _) => 401,
        (_, false) => 403,
        (_, true) => ok,
    }
}

pub struct District {
    ids: Vec<(&'static str, i64)>,
    /// A submitted application for a new organization in 塘沽.
    application_id: i64,
    /// One of its documents.
    document_id: i64,
    /// A referral about the 塘沽 organization from admin1 to tanggu1.
    referral_id: i64,
    usccs: Vec<(&'static str, String)>,
    user_id: i64,
    grant_id: i64,
    domain_id: i64,
    token_id: i64,
    /// A published notice, a draft nobody publishes, and a draft the test publishes.
    notices: [i64; 3],
}

pub async fn seed(t: &TestDb) -> District {
    load_areas(t).await;
    let mut tx = t.db.begin().await.unwrap();
    let mut ids = Vec::new();
    let mut usccs = Vec::new();
    for (name, area) in [
        (IN_TANGGU, "120116001016"),
        (IN_DAGANG, "120116051"),
        (IN_TEDA, "120116014001"),
    ] {
        let draft = OrgForm {
            name: name.into(),
            kind: "social_group".into(),
            domain: "culture".into(),
            supervisory_unit: "滨海新区文化和旅游局".into(),
            legal_representative: "钱进".into(),
            area_code: area.into(),
            registered_on: "2012-03-04".into(),
            contact_phone: "022-66668888".into(),
            ..OrgForm::default()
        }
        .parse()
        .unwrap();
        let row = store::create(
            &mut tx.conn(),
            &Scope::All,
            &shezu::audit::Actor::system("seed"),
            Utc::now(),
            &draft,
            "120116",
        )
        .await
        .unwrap();
        ids.push((name, row.id));
        usccs.push((name, row.uscc.clone().unwrap()));
    }
    tx.commit().await.unwrap();
    for (username, role, area, org) in CALLERS {
        if let Some(role) = role {
            let org_id =
                org.map(|name| ids.iter().find(|(n, _)| *n == name).unwrap().1.to_string());
            t.user(username, role, *area, org_id.as_deref()).await;
        }
    }
    t.user("target1", "window", None, None).await;
    let mut c = t.db.acquire().await.unwrap();
    let target = shezu::auth::store::find_user_by_name(&mut c.conn(), "target1")
        .await
        .unwrap()
        .unwrap();
    let grant_id = shezu::auth::store::grants(&mut c.conn(), Some(shezu::auth::UserId(target.id)))
        .await
        .unwrap()[0]
        .id;
    let domain_id = store::list_domains(&mut c.conn()).await.unwrap()[0].id;
    drop(c);
    let mut tx = t.db.begin().await.unwrap();
    let (token_id, _) = shezu::auth::tokens::create(
        &mut tx.conn(),
        &shezu::audit::Actor::system("seed"),
        Utc::now(),
        "区税务局",
        &[shezu::auth::tokens::TokenScope::Public],
        None,
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    t.user("applicant1", "org", None, None).await;
    let mut c = t.db.acquire().await.unwrap();
    let applicant = shezu::auth::store::find_user_by_name(&mut c.conn(), "applicant1")
        .await
        .unwrap()
        .unwrap();
    drop(c);
    let mut tx = t.db.begin().await.unwrap();
    let new = shezu::approvals::store::NewApplication {
        kind: shezu::approvals::ApplicationKind::Establishment,
        form: OrgForm {
            name: "丁塘沽公益服务社".into(),
            kind: "private_non_enterprise".into(),
            domain: "charity".into(),
            direct_registration: Some("on".into()),
            legal_representative: "丁一".into(),
            area_code: "120116001016".into(),
            registered_on: "2014-01-01".into(),
            ..OrgForm::default()
        },
        consent_unit: None,
        target: None,
        charter_party_clause: true,
    };
    let actor = shezu::audit::Actor::system("seed");
    let applicant = shezu::auth::UserId(applicant.id);
    let app_id =
        shezu::approvals::store::create_draft(&mut tx.conn(), &actor, applicant, Utc::now(), &new)
            .await
            .unwrap();
    let mut document_id = 0;
    for doc in [
        shezu::approvals::documents::DocType::ApplicationLetter,
        shezu::approvals::documents::DocType::Charter,
        shezu::approvals::documents::DocType::AddressProof,
        shezu::approvals::documents::DocType::CapitalProof,
        shezu::approvals::documents::DocType::HeadId,
    ] {
        document_id = shezu::approvals::store::attach(
            &mut tx.conn(),
            &shezu::approvals::documents::DocumentStore::Database,
            &actor,
            applicant,
            Utc::now(),
            app_id,
            doc,
            "材料.pdf",
            "application/pdf",
            b"%PDF-1.4 seed".to_vec(),
        )
        .await
        .unwrap();
    }
    let viewer = shezu::approvals::store::Viewer::Applicant(applicant);
    shezu::approvals::store::act(
        &mut tx.conn(),
        &viewer,
        shezu::approvals::Actor::Applicant,
        &actor,
        Utc::now(),
        app_id,
        1,
        shezu::approvals::Action::Submit,
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut c = t.db.acquire().await.unwrap();
    let admin = shezu::auth::store::find_user_by_name(&mut c.conn(), "admin1")
        .await
        .unwrap()
        .unwrap();
    drop(c);
    let mut tx = t.db.begin().await.unwrap();
    let draft = shezu::referrals::ReferralDraft {
        to: "tanggu1".into(),
        subject: "核查住所".into(),
        details: "请核实该组织是否仍在登记住所办公。".into(),
        due_on: chrono::NaiveDate::from_ymd_opt(2099, 1, 1).unwrap(),
    };
    let tanggu_org = ids.iter().find(|(n, _)| *n == IN_TANGGU).unwrap().1;
    let referral_id = shezu::referrals::store::create(
        &mut tx.conn(),
        &actor,
        Utc::now(),
        shezu::auth::UserId(admin.id),
        &Scope::All,
        shezu::registry::OrgId(tanggu_org),
        &draft,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    District {
        ids,
        application_id: app_id.0,
        document_id,
        referral_id,
        usccs,
        user_id: target.id,
        grant_id,
        domain_id,
        token_id,
        notices: seed_notices(t).await,
    }
}

async fn seed_notices(t: &TestDb) -> [i64; 3] {
    let mut tx = t.db.begin().await.unwrap();
    let mut ids = [0; 3];
    for (i, publish) in [true, false, false].into_iter().enumerate() {
        let draft = shezu::notices::NoticeDraft {
            kind: shezu::notices::NoticeKind::Notice,
            title: format!("通知{i}"),
            body: "正文".into(),
        };
        ids[i] = shezu::notices::store::create(
            &mut tx.conn(),
            &shezu::audit::Actor::system("seed"),
            Utc::now(),
            &draft,
            publish,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    ids
}

pub fn id_of(d: &District, name: &str) -> i64 {
    d.ids.iter().find(|(n, _)| *n == name).unwrap().1
}

fn uscc_of<'d>(d: &'d District, name: &str) -> &'d str {
    &d.usccs.iter().find(|(n, _)| *n == name).unwrap().1
}

async fn as_caller(t: &TestDb, username: &str) -> TestApp {
    if username == "anonymous" {
        t.app()
    } else {
        t.app().signed_in(username, PASSWORD).await
    }
}

db_test!(every_route_for_every_role_stays_in_scope, |t| async move {
    let d = seed(t).await;
    let inspection = crate::inspection::seed_walk(t, id_of(&d, IN_TEDA)).await;
    let party = crate::party::seed_walk(t, id_of(&d, IN_TEDA)).await;
    let hubs = crate::hubs::seed_walk(t, id_of(&d, IN_TANGGU)).await;
    let talent = crate::talent::seed_walk(t, id_of(&d, IN_TANGGU)).await;
    let volunteers = crate::volunteers::seed_walk(t, id_of(&d, IN_TEDA)).await;
    let funding = crate::funding::seed_walk(t, id_of(&d, IN_TEDA), id_of(&d, IN_TANGGU)).await;
    let names = [IN_TANGGU, IN_DAGANG, IN_TEDA];
    let mut checked = std::collections::BTreeSet::new();
    // Organizations created in 塘沽 by earlier callers (visible to whoever sees 塘沽).
    let mut created = 0;
    // `asked`: questions asked so far from the test address (the form allows five an hour).
    for (asked, (username, _, _, _)) in CALLERS.iter().enumerate() {
        let u = *username;
        let app = as_caller(t, u).await;
        let expect = |route: &'static str, method: &str, status: u16, got: u16, body: &str| {
            assert_eq!(got, status, "{u} {method} {route}: {body}");
        };
        let mut check = |route: &'static str| {
            checked.insert(route);
        };
        for route in crate::inspection::walk(&app, u, &inspection).await {
            check(route);
        }
        for route in crate::party::walk(&app, u, &party).await {
            check(route);
        }
        for route in crate::hubs::walk(&app, u, &hubs).await {
            check(route);
        }
        for route in crate::talent::walk(&app, u, &talent).await {
            check(route);
        }
        for route in crate::stats_desk::walk(&app, u).await {
            check(route);
        }

        for route in crate::volunteers::walk(&app, u, &volunteers).await {
            check(route);
        }
        for route in crate::funding::walk(&app, u, &funding).await {
            check(route);
        }
        for route in crate::upload::walk(&app, u).await {
            check(route);
        }

        // Public pages and the public API: the same for everyone, public data only.
        for (route, path) in [
            ("/", "/"),
            ("/healthz", "/healthz"),
            ("/readyz", "/readyz"),
            ("/static/{name}", "/static/app.css"),
            ("/login", "/login"),
            ("/api/v1/areas", "/api/v1/areas"),
            ("/api/v1/areas/{code}", "/api/v1/areas/120116001"),
            ("/api/v1/organizations", "/api/v1/organizations"),
            ("/api/v1/stats/summary", "/api/v1/stats/summary?year=2014"),
            ("/orgs", "/orgs"),
            ("/notices", "/notices"),
            ("/notices/feed.xml", "/notices/feed.xml"),
            ("/api/v1/openapi.json", "/api/v1/openapi.json"),
            ("/api/docs", "/api/docs"),
            ("/open-data", "/open-data"),
            ("/stats", "/stats"),
            ("/metrics", "/metrics"),
            ("/api/v1/changes", "/api/v1/changes"),
            (
                "/api/v1/export/organizations",
                "/api/v1/export/organizations",
            ),
        ] {
            let res = app.get(path).await;
            expect(route, "GET", 200, res.status.as_u16(), &res.body);
            check(route);
        }
        let public = app
            .get(&format!("/api/v1/organizations/{}", id_of(&d, IN_DAGANG)))
            .await;
        expect(
            "/api/v1/organizations/{key}",
            "GET",
            200,
            public.status.as_u16(),
            &public.body,
        );
        assert!(
            !public.body.contains("022-66668888"),
            "{u}: contact phone is not public"
        );
        check("/api/v1/organizations/{key}");
        // The public profile: the same for everyone, never an internal field.
        let profile = app.get(&format!("/orgs/{}", uscc_of(&d, IN_DAGANG))).await;
        expect(
            "/orgs/{key}",
            "GET",
            200,
            profile.status.as_u16(),
            &profile.body,
        );
        assert!(profile.body.contains(IN_DAGANG));
        assert!(
            !profile.body.contains("022-66668888") && !profile.body.contains("seed"),
            "{u}: neither the contact phone nor staff names are public"
        );
        check("/orgs/{key}");
        let res = app.get("/open-data/2014-12-31/organizations.csv").await;
        expect(
            "/open-data/{date}/{file}",
            "GET",
            404,
            res.status.as_u16(),
            &res.body,
        );
        check("/open-data/{date}/{file}");
        for path in ["/api/v1/changes", "/api/v1/export/organizations"] {
            let body = app.get(path).await.body;
            assert!(
                !body.contains("022-66668888"),
                "{u}: {path} never carries the contact phone"
            );
        }
        let res = app.get("/api/v1/nothing/here").await;
        expect(
            "/api/v1/{*rest}",
            "GET",
            404,
            res.status.as_u16(),
            &res.body,
        );
        check("/api/v1/{*rest}");
        let res = app.get("/admin").await;
        expect("/admin", "GET", 303, res.status.as_u16(), &res.body);
        check("/admin");

        // The registry list: exactly the organizations in scope, in rows and in the total.
        let res = app.get("/admin/orgs").await;
        expect(
            "/admin/orgs",
            "GET",
            gate(u, can_view(u), "GET", 200),
            res.status.as_u16(),
            &res.body,
        );
        if res.status == 200 {
            for name in names {
                assert_eq!(
                    res.body.contains(name),
                    visible(u).contains(&name),
                    "{u} list and {name}"
                );
            }
            let n = visible(u).len()
                + if visible(u).contains(&IN_TANGGU) {
                    created
                } else {
                    0
                };
            let total = format!("<strong id=\"total\">{n}</strong>");
            assert!(res.body.contains(&total), "{u}: total should be {n}");
            // Search cannot find what is out of scope either.
            let found = app
                .get(&format!(
                    "/admin/orgs?q={}",
                    crate::common::encode(IN_DAGANG)
                ))
                .await;
            let n = usize::from(visible(u).contains(&IN_DAGANG));
            assert!(
                found
                    .body
                    .contains(&format!("<strong id=\"total\">{n}</strong>")),
                "{u} search"
            );
        }
        check("/admin/orgs");

        // Details, history and edit forms: in scope 200, out of scope exactly like "no such id".
        let missing_show = app.get("/admin/orgs/999999").await;
        let missing_edit = app.get("/admin/orgs/999999/edit").await;
        for name in names {
            let id = id_of(&d, name);
            let show = app.get(&format!("/admin/orgs/{id}")).await;
            let edit = app.get(&format!("/admin/orgs/{id}/edit")).await;
            let in_scope = visible(u).contains(&name);
            let may_edit = can_edit(u) || u == "org1";
            if !can_view(u) {
                expect(
                    "/admin/orgs/{id}",
                    "GET",
                    gate(u, false, "GET", 200),
                    show.status.as_u16(),
                    &show.body,
                );
            } else if in_scope {
                expect(
                    "/admin/orgs/{id}",
                    "GET",
                    200,
                    show.status.as_u16(),
                    &show.body,
                );
                assert!(
                    show.body.contains("022-66668888"),
                    "{u} sees the contact phone of {name}"
                );
            } else {
                assert_eq!(
                    (show.status, &show.body),
                    (missing_show.status, &missing_show.body),
                    "{u} {name}: out of scope must look like missing"
                );
                assert_eq!(show.status, 404);
            }
            if !may_edit {
                expect(
                    "/admin/orgs/{id}/edit",
                    "GET",
                    gate(u, false, "GET", 200),
                    edit.status.as_u16(),
                    &edit.body,
                );
            } else if in_scope {
                expect(
                    "/admin/orgs/{id}/edit",
                    "GET",
                    200,
                    edit.status.as_u16(),
                    &edit.body,
                );
            } else {
                assert_eq!(
                    (edit.status, &edit.body),
                    (missing_edit.status, &missing_edit.body),
                    "{u} {name}: edit out of scope"
                );
            }
            // Posting an edit: only in scope, only with the right.
            let version = "1";
            let uscc = d.usccs.iter().find(|(n, _)| *n == name).unwrap().1.clone();
            let res = app
                .post_form(
                    &format!("/admin/orgs/{id}"),
                    &[
                        ("name", name),
                        ("kind", "social_group"),
                        ("domain", "culture"),
                        ("supervisory_unit", "滨海新区文化和旅游局"),
                        ("legal_representative", "钱进"),
                        (
                            "area_code",
                            if name == IN_TANGGU {
                                "120116001016"
                            } else if name == IN_DAGANG {
                                "120116051"
                            } else {
                                "120116014001"
                            },
                        ),
                        ("registered_on", "2012-03-04"),
                        ("contact_phone", "022-66668888"),
                        ("version", version),
                        ("uscc", &uscc),
                    ],
                )
                .await;
            let want = if !may_edit {
                gate(u, false, "POST", 303)
            } else if in_scope {
                303
            } else {
                404
            };
            expect(
                "/admin/orgs/{id}",
                "POST",
                want,
                res.status.as_u16(),
                &res.body,
            );
        }
        check("/admin/orgs/{id}");
        check("/admin/orgs/{id}/edit");
        // The certificate follows the same scope as the record.
        for name in names {
            let res = app
                .get(&format!("/admin/orgs/{}/certificate", id_of(&d, name)))
                .await;
            let want = if !can_view(u) {
                gate(u, false, "GET", 200)
            } else if visible(u).contains(&name) {
                200
            } else {
                404
            };
            expect(
                "/admin/orgs/{id}/certificate",
                "GET",
                want,
                res.status.as_u16(),
                &res.body,
            );
            if want == 200 {
                assert!(res.body.contains("社会团体法人登记证书") && res.body.contains(name));
            }
        }
        check("/admin/orgs/{id}/certificate");

        // Creating: staff with the right, and only inside their area.
        let res = app.get("/admin/orgs/new").await;
        expect(
            "/admin/orgs/new",
            "GET",
            gate(u, can_create(u), "GET", 200),
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/orgs/new");
        let new_name = format!("{u}新建塘沽协会");
        let res = app
            .post_form(
                "/admin/orgs",
                &[
                    ("name", &new_name),
                    ("kind", "social_group"),
                    ("domain", "culture"),
                    ("supervisory_unit", "滨海新区文化和旅游局"),
                    ("legal_representative", "钱进"),
                    ("area_code", "120116001016"),
                    ("registered_on", "2014-01-01"),
                ],
            )
            .await;
        let want = if u == "dagang1" {
            422
        } else {
            gate(u, can_create(u), "POST", 303)
        };
        expect("/admin/orgs", "POST", want, res.status.as_u16(), &res.body);
        created += usize::from(want == 303);

        // Dictionaries.
        let res = app.get("/admin/domains").await;
        expect(
            "/admin/domains",
            "GET",
            gate(u, can_edit_dictionaries(u), "GET", 200),
            res.status.as_u16(),
            &res.body,
        );
        let res = app
            .post_form(
                "/admin/domains",
                &[
                    ("code", &format!("d_{u}")),
                    ("name_zh", "测试"),
                    ("name_en", "Test"),
                    ("active", "on"),
                ],
            )
            .await;
        expect(
            "/admin/domains",
            "POST",
            gate(u, can_edit_dictionaries(u), "POST", 303),
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/domains");
        let res = app
            .post_form(
                &format!("/admin/domains/{}", d.domain_id),
                &[
                    ("code", "industry_commerce"),
                    ("name_zh", "行业协会商会"),
                    ("name_en", "Industry associations & chambers of commerce"),
                    ("direct_registration_eligible", "on"),
                    ("sort_order", "10"),
                    ("active", "on"),
                ],
            )
            .await;
        expect(
            "/admin/domains/{id}",
            "POST",
            gate(u, can_edit_dictionaries(u), "POST", 303),
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/domains/{id}");

        // Notices: the public sees published ones only; writers see drafts too.
        let [published, draft, to_publish] = d.notices;
        let res = app.get(&format!("/notices/{published}")).await;
        expect("/notices/{id}", "GET", 200, res.status.as_u16(), &res.body);
        let res = app.get(&format!("/notices/{draft}")).await;
        let want = if can_publish_notices(u) { 200 } else { 404 };
        expect("/notices/{id}", "GET", want, res.status.as_u16(), &res.body);
        check("/notices/{id}");
        let listed = app.get("/notices").await.body;
        assert!(listed.contains("通知0") && !listed.contains("通知1"), "{u}");
        let res = app.get("/admin/notices").await;
        expect(
            "/admin/notices",
            "GET",
            gate(u, can_publish_notices(u), "GET", 200),
            res.status.as_u16(),
            &res.body,
        );
        let res = app
            .post_form(
                "/admin/notices",
                &[
                    ("kind", "notice"),
                    ("title", &format!("{u}的通知")),
                    ("body", "正文"),
                ],
            )
            .await;
        expect(
            "/admin/notices",
            "POST",
            gate(u, can_publish_notices(u), "POST", 303),
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/notices");
        let res = app.get(&format!("/admin/notices/{draft}")).await;
        expect(
            "/admin/notices/{id}",
            "GET",
            gate(u, can_publish_notices(u), "GET", 200),
            res.status.as_u16(),
            &res.body,
        );
        // An empty title: writers get the form back (422), nobody else gets that far.
        let res = app
            .post_form(
                &format!("/admin/notices/{draft}"),
                &[
                    ("kind", "notice"),
                    ("title", ""),
                    ("body", "正文"),
                    ("version", "1"),
                ],
            )
            .await;
        expect(
            "/admin/notices/{id}",
            "POST",
            gate(u, can_publish_notices(u), "POST", 422),
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/notices/{id}");
        let res = app
            .post_form(
                &format!("/admin/notices/{to_publish}/publish"),
                &[("publish", "1")],
            )
            .await;
        expect(
            "/admin/notices/{id}/publish",
            "POST",
            gate(u, can_publish_notices(u), "POST", 303),
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/notices/{id}/publish");

        // Users, tokens, audit: administrators (and registrars for the logs).
        for (route, path, allowed) in [
            (
                "/admin/users",
                "/admin/users".to_owned(),
                can_manage_users(u),
            ),
            (
                "/admin/users/{id}",
                format!("/admin/users/{}", d.user_id),
                can_manage_users(u),
            ),
            (
                "/admin/tokens",
                "/admin/tokens".to_owned(),
                can_manage_users(u),
            ),
            ("/admin/audit", "/admin/audit".to_owned(), can_see_audit(u)),
            (
                "/admin/logins",
                "/admin/logins".to_owned(),
                can_see_audit(u),
            ),
            (
                "/admin/settings",
                "/admin/settings".to_owned(),
                can_manage_users(u),
            ),
        ] {
            let res = app.get(&path).await;
            expect(
                route,
                "GET",
                gate(u, allowed, "GET", 200),
                res.status.as_u16(),
                &res.body,
            );
            check(route);
        }
        for (route, path, fields, ok) in [
            (
                "/admin/users",
                "/admin/users".to_owned(),
                vec![
                    ("username", format!("new_{u}")),
                    ("role", "window".to_owned()),
                ],
                200,
            ),
            (
                "/admin/users/{id}/roles",
                format!("/admin/users/{}/roles", d.user_id),
                vec![("role", "party".to_owned())],
                303,
            ),
            (
                "/admin/users/{id}/active",
                format!("/admin/users/{}/active", d.user_id),
                vec![("active", "true".to_owned())],
                303,
            ),
            (
                "/admin/users/{id}/password",
                format!("/admin/users/{}/password", d.user_id),
                vec![],
                200,
            ),
            (
                "/admin/tokens",
                "/admin/tokens".to_owned(),
                vec![
                    ("name", format!("令牌{u}")),
                    ("scopes", "public".to_owned()),
                ],
                200,
            ),
            (
                "/admin/settings",
                "/admin/settings".to_owned(),
                vec![
                    ("key", "party_org_allowance_yuan".to_owned()),
                    ("value", "2000".to_owned()),
                ],
                303,
            ),
        ] {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = app.post_form(&path, &fields).await;
            expect(
                route,
                "POST",
                gate(u, can_manage_users(u), "POST", ok),
                res.status.as_u16(),
                &res.body,
            );
            check(route);
        }
        let res = app
            .post_form(
                &format!("/admin/users/{}/roles/{}/delete", d.user_id, d.grant_id),
                &[],
            )
            .await;
        // The grant is removed by the first administrator; later ones find nothing to remove.
        let want = if can_manage_users(u) {
            303
        } else {
            gate(u, false, "POST", 303)
        };
        expect(
            "/admin/users/{id}/roles/{grant}/delete",
            "POST",
            want,
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/users/{id}/roles/{grant}/delete");
        let res = app
            .post_form(&format!("/admin/tokens/{}/revoke", d.token_id), &[])
            .await;
        expect(
            "/admin/tokens/{id}/revoke",
            "POST",
            gate(u, can_manage_users(u), "POST", 303),
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/tokens/{id}/revoke");

        // Applications: applicants file their own; staff see those located in their scope, and
        // one outside it answers exactly like one that does not exist.
        for (route, path) in [
            ("/applications", "/applications"),
            ("/applications/new", "/applications/new?kind=filing"),
        ] {
            let res = app.get(path).await;
            expect(
                route,
                "GET",
                gate(u, can_apply(u), "GET", 200),
                res.status.as_u16(),
                &res.body,
            );
            check(route);
        }
        let res = app
            .post_form(
                "/applications",
                &[
                    ("application_kind", "filing"),
                    ("name", &format!("{u}社区合唱团")),
                    ("kind", "community"),
                    ("domain", "culture"),
                    ("area_code", "120116014001"),
                    ("registered_on", "2014-01-01"),
                ],
            )
            .await;
        expect(
            "/applications",
            "POST",
            gate(u, can_apply(u), "POST", 303),
            res.status.as_u16(),
            &res.body,
        );
        let res = app.get("/admin/applications?queue=open").await;
        expect(
            "/admin/applications",
            "GET",
            gate(u, can_handle_applications(u), "GET", 200),
            res.status.as_u16(),
            &res.body,
        );
        if res.status == 200 {
            assert_eq!(
                res.body.contains("丁塘沽公益服务社"),
                sees_tanggu_application(u),
                "{u} queue"
            );
        }
        check("/admin/applications");
        let show = app
            .get(&format!("/applications/{}", d.application_id))
            .await;
        let missing = app.get("/applications/999999").await;
        if u == "anonymous" {
            expect(
                "/applications/{id}",
                "GET",
                303,
                show.status.as_u16(),
                &show.body,
            );
        } else if sees_tanggu_application(u) {
            expect(
                "/applications/{id}",
                "GET",
                200,
                show.status.as_u16(),
                &show.body,
            );
        } else {
            assert_eq!(
                (show.status, &show.body),
                (missing.status, &missing.body),
                "{u}: application out of scope"
            );
            assert_eq!(show.status, 404);
        }
        check("/applications/{id}");
        let v = {
            let mut c = t.db.acquire().await.unwrap();
            Sql::new("select version from applications where id = $1")
                .arg(d.application_id)
                .fetch_i64(&mut c.conn())
                .await
                .unwrap()
                .to_string()
        };
        // A return without a reason: refused for lack of it (in scope), as missing (out of scope).
        let res = app
            .post_form(
                &format!("/applications/{}/action", d.application_id),
                &[("action", "return"), ("reason", ""), ("version", &v)],
            )
            .await;
        let want = match u {
            "anonymous" => 401,
            _ if sees_tanggu_application(u) => 422,
            _ => 404,
        };
        expect(
            "/applications/{id}/action",
            "POST",
            want,
            res.status.as_u16(),
            &res.body,
        );
        check("/applications/{id}/action");
        // Documents: downloaded by whoever sees the application, uploaded by its applicant only.
        let res = app
            .get(&format!(
                "/applications/{}/documents/{}",
                d.application_id, d.document_id
            ))
            .await;
        let want = match u {
            "anonymous" => 303,
            _ if sees_tanggu_application(u) => 200,
            _ => 404,
        };
        expect(
            "/applications/{id}/documents/{doc}",
            "GET",
            want,
            res.status.as_u16(),
            &res.body,
        );
        check("/applications/{id}/documents/{doc}");
        let res = app
            .post_file(
                &format!("/applications/{}/documents", d.application_id),
                &[("doc_type", "other")],
                ("file", "x.pdf", b"%PDF-1.4 x"),
            )
            .await;
        let want = if can_apply(u) {
            404
        } else {
            gate(u, false, "POST", 303)
        };
        expect(
            "/applications/{id}/documents",
            "POST",
            want,
            res.status.as_u16(),
            &res.body,
        );
        check("/applications/{id}/documents");
        // Only the applicant edits an application (and only a draft or a returned one).
        let edit_path = format!("/applications/{}/edit", d.application_id);
        let res = app.get(&edit_path).await;
        let want = if can_apply(u) {
            404
        } else {
            gate(u, false, "GET", 200)
        };
        expect(
            "/applications/{id}/edit",
            "GET",
            want,
            res.status.as_u16(),
            &res.body,
        );
        let res = app
            .post_form(&edit_path, &[("name", "改名"), ("version", &v)])
            .await;
        let want = if can_apply(u) {
            404
        } else {
            gate(u, false, "POST", 303)
        };
        expect(
            "/applications/{id}/edit",
            "POST",
            want,
            res.status.as_u16(),
            &res.body,
        );
        check("/applications/{id}/edit");
        let res = app
            .post_form(
                &format!("/admin/applications/{}/handover", d.application_id),
                &[("username", "window1"), ("reason", "")],
            )
            .await;
        expect(
            "/admin/applications/{id}/handover",
            "POST",
            gate(u, can_handle_applications(u), "POST", 422),
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/applications/{id}/handover");

        // Consultations: anyone asks; only district-wide window staff answer.
        let res = app.get("/consult").await;
        expect("/consult", "GET", 200, res.status.as_u16(), &res.body);
        let res = app
            .post_form(
                "/consult",
                &[
                    ("name", u),
                    ("contact", "022-66668888"),
                    ("question", "如何办理备案？"),
                ],
            )
            .await;
        // Each caller asks once; all come from the same address, so the sixth is throttled.
        let want = if asked < 5 { 303 } else { 422 };
        expect("/consult", "POST", want, res.status.as_u16(), &res.body);
        check("/consult");
        let window_staff = matches!(u, "admin1" | "registrar1" | "window1");
        for (route, path) in [
            ("/admin/consultations", "/admin/consultations".to_owned()),
            (
                "/admin/consultations/{id}",
                "/admin/consultations/1".to_owned(),
            ),
        ] {
            let res = app.get(&path).await;
            let want = if window_staff {
                200
            } else if can_handle_applications(u) {
                403
            } else {
                gate(u, false, "GET", 200)
            };
            expect(route, "GET", want, res.status.as_u16(), &res.body);
            check(route);
        }
        let res = app
            .post_form(
                "/admin/consultations/1/answer",
                &[("answer", ""), ("version", "1")],
            )
            .await;
        let want = if window_staff {
            422
        } else if can_handle_applications(u) {
            403
        } else {
            gate(u, false, "POST", 303)
        };
        expect(
            "/admin/consultations/{id}/answer",
            "POST",
            want,
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/consultations/{id}/answer");
        let res = app
            .post_form("/admin/consultations/999999/claim", &[])
            .await;
        let want = if window_staff {
            404
        } else if can_handle_applications(u) {
            403
        } else {
            gate(u, false, "POST", 303)
        };
        expect(
            "/admin/consultations/{id}/claim",
            "POST",
            want,
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/consultations/{id}/claim");

        // Referrals: sent by staff about organizations they see, read by their parties and by
        // whoever's scope covers the organization, answered by the parties only.
        let res = app
            .post_form(
                &format!("/admin/orgs/{}/referrals", id_of(&d, IN_TANGGU)),
                &[
                    ("to", "tanggu1"),
                    ("subject", "核查住所"),
                    ("details", "请核实。"),
                    ("due_on", "2099-01-01"),
                ],
            )
            .await;
        let refers = matches!(
            u,
            "admin1" | "registrar1" | "window1" | "tanggu1" | "dagang1" | "liaison1" | "party1"
        );
        let want = match u {
            "anonymous" => 401,
            _ if !refers => 403,
            _ if visible(u).contains(&IN_TANGGU) => 303,
            _ => 404,
        };
        expect(
            "/admin/orgs/{id}/referrals",
            "POST",
            want,
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/orgs/{id}/referrals");
        let res = app.get("/admin/referrals").await;
        expect(
            "/admin/referrals",
            "GET",
            gate(u, true, "GET", 200),
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/referrals");
        let path = format!("/admin/referrals/{}", d.referral_id);
        let sees = matches!(u, "admin1" | "tanggu1") || visible(u).contains(&IN_TANGGU);
        let res = app.get(&path).await;
        let want = match u {
            "anonymous" => 303,
            _ if sees => 200,
            _ => 404,
        };
        expect(
            "/admin/referrals/{id}",
            "GET",
            want,
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/referrals/{id}");
        let res = app
            .post_form(&format!("{path}/reply"), &[("body", "收到")])
            .await;
        let want = match u {
            "anonymous" => 401,
            "admin1" | "tanggu1" => 303,
            _ if sees => 403,
            _ => 404,
        };
        expect(
            "/admin/referrals/{id}/reply",
            "POST",
            want,
            res.status.as_u16(),
            &res.body,
        );
        check("/admin/referrals/{id}/reply");

        for route in crate::evaluation::walk_routes(&app, u).await {
            check(route);
        }
        for route in crate::incubation::walk_routes(&app, u).await {
            check(route);
        }

        // The caller's own account.
        let res = app.get("/account").await;
        expect(
            "/account",
            "GET",
            gate(u, true, "GET", 200),
            res.status.as_u16(),
            &res.body,
        );
        check("/account");
        let res = app
            .post_form(
                "/account/password",
                &[("current", "wrong"), ("new", "x"), ("confirm", "x")],
            )
            .await;
        expect(
            "/account/password",
            "POST",
            gate(u, true, "POST", 422),
            res.status.as_u16(),
            &res.body,
        );
        check("/account/password");
        let res = app.post_form("/account/logout-all", &[]).await;
        expect(
            "/account/logout-all",
            "POST",
            gate(u, true, "POST", 303),
            res.status.as_u16(),
            &res.body,
        );
        check("/account/logout-all");
        let res = app.post_form("/logout", &[]).await;
        // Signing out needs no session (it only clears the cookie).
        expect("/logout", "POST", 303, res.status.as_u16(), &res.body);
        check("/logout");
    }
    let missing: Vec<_> = ROUTES.iter().filter(|r| !checked.contains(*r)).collect();
    assert!(missing.is_empty(), "routes not exercised: {missing:?}");
});
