//! Hostile input (issue 13). Markup and script typed into every free-text field come back
//! escaped on every page a crawler reaches (as staff, as the organization and anonymously),
//! verbatim in the JSON API and defused in the CSV and Excel exports; SQL metacharacters in
//! searches and filters match literally; text that is not UTF-8, NUL bytes and oversized fields
//! are refused in Chinese, naming the field, and change nothing; upload file names that try to
//! climb out of a directory are kept to a clean name and write nothing outside the app's storage.

use crate::common::{Answer, PASSWORD, TestApp, TestDb, encode};
use crate::db_test;
use crate::scope::{IN_DAGANG, IN_TANGGU, IN_TEDA, id_of};
use axum::http::StatusCode;
use shezu::db::Sql;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A script element.
const SCRIPT: &str = "<script>alert(1)</script>";
/// Breaking out of an attribute into an element with a handler.
const IMG: &str = "\"><img src=x onerror=alert(1)>";
/// A script address, for fields that could end up in a link.
const JS_URL: &str = "javascript:alert(1)";
/// A template expression (must be shown as typed, never evaluated).
const TEMPLATE: &str = "{{7*7}}";
/// Closing a text area, then an element with a handler.
const SVG: &str = "</textarea><svg onload=alert(1)>";

/// What none of those may become in an HTML page: live markup.
const RAW: [&str; 3] = ["<script>alert(1)", "<img src=x onerror", "<svg onload"];
/// How they look escaped, by the templates (numeric references) or by the Markdown, SVG and
/// XML writers (named ones); at least one must appear, so a dropped field cannot pass.
const ESCAPED: [&str; 6] = [
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "&#60;svg onload=alert(1)&#62;",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&lt;img src=x onerror=alert(1)&gt;",
    "&lt;svg onload=alert(1)&gt;",
];

/// All the payloads in one text, for fields with room for it.
fn mix() -> String {
    format!("说明{SCRIPT}{IMG}{TEMPLATE}{SVG}{JS_URL}")
}

/// Text a spreadsheet would run as a formula.
const FORMULAS: [&str; 4] = [
    "=HYPERLINK(\"http://x.example\",\"点此\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
];

/// Asserts a write was accepted (a redirect after the post).
fn accepted(what: &str, res: &Answer) {
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{what}: {}", res.body);
}

/// The id at the end of a redirect's location (`/admin/orgs/12` → 12).
fn id_from(res: &Answer) -> i64 {
    let loc = res.location();
    let path = loc.split(['?', '#']).next().unwrap();
    path.rsplit('/')
        .find_map(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {loc}"))
}

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

/// Rows in every table of the schema (to show that a refused request changed nothing).
async fn footprint(t: &TestDb) -> BTreeMap<String, i64> {
    let mut counts = t.table_counts().await;
    counts.retain(|table, _| {
        table != "sessions" && table != "login_attempts" && !table.starts_with("search")
    });
    counts
}

/// The organization form's fields with `overrides` replacing some.
fn org_fields(overrides: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut fields: Vec<(&'static str, String)> = vec![
        ("name", "戊滨海公益协会".into()),
        ("kind", "social_group".into()),
        ("domain", "culture".into()),
        ("supervisory_unit", "滨海新区民政局".into()),
        ("legal_representative", "钱进".into()),
        ("contact_person", "李明".into()),
        ("contact_phone", "022-66668888".into()),
        ("address", "塘沽街道紫云园3号".into()),
        ("area_code", "120116001016".into()),
        ("registered_on", "2014-05-06".into()),
        ("business_scope", "公益服务".into()),
    ];
    for (k, v) in overrides {
        match fields.iter_mut().find(|(f, _)| f == k) {
            Some(slot) => slot.1 = v.clone(),
            None => fields.push((k, v.clone())),
        }
    }
    fields
}

fn refs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The `value` of the hidden input `name` in a page.
fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field"))
        + marker.len();
    body[start..start + body[start..].find('"').unwrap()].to_owned()
}

/// What the hostile district holds: the seeded organizations plus the ones typed with payloads.
struct Hostile {
    /// The organization whose every text field carries a payload.
    marked: i64,
    /// Its code.
    marked_uscc: String,
    /// The organization whose text fields are spreadsheet formulas.
    formulas: i64,
    /// Pages nothing links to for everyone (a user's own import jobs, a session…).
    roots: Vec<String>,
}

/// The district of tests/scope.rs with every module seeded, then payloads typed into the
/// free-text fields through the forms, as the people who write them.
async fn seed(t: &TestDb, base: &TestApp) -> Hostile {
    let d = crate::scope::seed(t).await;
    let (teda, tanggu) = (id_of(&d, IN_TEDA), id_of(&d, IN_TANGGU));
    crate::inspection::seed_walk(t, teda).await;
    crate::party::seed_walk(t, teda).await;
    crate::hubs::seed_walk(t, tanggu).await;
    crate::talent::seed_walk(t, tanggu).await;
    crate::volunteers::seed_walk(t, teda).await;
    crate::funding::seed_walk(t, teda, tanggu).await;
    let admin = base.clone().signed_in("admin1", PASSWORD).await;
    let org = base.clone().signed_in("org1", PASSWORD).await;
    let public = base.clone();

    // The domain dictionary: a label is shown in facets, tables and the charts' SVG.
    let res = admin
        .post_form(
            "/admin/domains",
            &[
                ("code", "hostile"),
                ("name_zh", &format!("领域{SCRIPT}")),
                ("name_en", SVG),
                ("sort_order", "1"),
                ("active", "on"),
            ],
        )
        .await;
    accepted("domain", &res);

    // The registry: every text field of one organization, and formulas in another.
    let marked_fields = org_fields(&[
        ("name", format!("{SCRIPT}协会")),
        ("domain", "hostile".into()),
        ("supervisory_unit", IMG.into()),
        ("legal_representative", TEMPLATE.into()),
        ("contact_person", SVG.into()),
        ("address", JS_URL.into()),
        ("business_scope", mix()),
    ]);
    let res = admin.post_form("/admin/orgs", &refs(&marked_fields)).await;
    accepted("marked organization", &res);
    let marked = id_from(&res);
    let edit = admin.get(&format!("/admin/orgs/{marked}/edit")).await;
    let mut edited = marked_fields.clone();
    edited.push(("version", hidden(&edit.body, "version")));
    edited.push(("uscc", hidden(&edit.body, "uscc")));
    edited.push(("reason", mix()));
    edited.push(("brand", "on".into()));
    let res = admin
        .post_form(&format!("/admin/orgs/{marked}"), &refs(&edited))
        .await;
    accepted("marked organization edit", &res);
    let marked_uscc = {
        let mut c = t.db.acquire().await.unwrap();
        let row: (String,) = Sql::new("select uscc from organizations where id = $1")
            .arg(marked)
            .fetch_one(&mut c.conn())
            .await
            .unwrap();
        row.0
    };
    let res = admin
        .post_form(
            "/admin/orgs",
            &refs(&org_fields(&[
                ("name", FORMULAS[0].into()),
                ("supervisory_unit", FORMULAS[1].into()),
                ("legal_representative", FORMULAS[2].into()),
                ("address", FORMULAS[3].into()),
                ("business_scope", FORMULAS[0].into()),
                ("area_code", "120116014001".into()),
            ])),
        )
        .await;
    accepted("formula organization", &res);
    let formulas = id_from(&res);

    // Accounts and tokens are named by staff.
    let res = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "hostile1"),
                ("display_name", SCRIPT),
                ("password", "hostile-password-2014"),
                ("role", "window"),
            ],
        )
        .await;
    assert_eq!(
        count(t, "select count(*) from users where username = 'hostile1'").await,
        1,
        "user: {}",
        res.body
    );
    let res = admin
        .post_form("/admin/tokens", &[("name", IMG), ("scopes", "public")])
        .await;
    assert_eq!(res.status, StatusCode::OK, "token: {}", res.body);

    // A consultation: the question from the public, the answer from the window.
    let res = public
        .post_form(
            "/consult",
            &[
                ("name", SVG),
                ("contact", "022-66668888"),
                ("question", &mix()),
            ],
        )
        .await;
    accepted("question", &res);
    let question = count(t, "select max(id) from consultations").await;
    accepted(
        "claim",
        &admin
            .post_form(&format!("/admin/consultations/{question}/claim"), &[])
            .await,
    );
    let page = admin.get(&format!("/admin/consultations/{question}")).await;
    let res = admin
        .post_form(
            &format!("/admin/consultations/{question}/answer"),
            &[
                ("answer", &mix()),
                ("publish", "on"),
                ("version", &hidden(&page.body, "version")),
            ],
        )
        .await;
    accepted("answer", &res);

    // A referral about the 塘沽 organization, and a reply to it.
    let res = admin
        .post_form(
            &format!("/admin/orgs/{tanggu}/referrals"),
            &[
                ("to", "tanggu1"),
                ("subject", SCRIPT),
                ("details", &mix()),
                ("due_on", "2099-01-01"),
            ],
        )
        .await;
    accepted("referral", &res);
    let referral = count(t, "select max(id) from referrals").await;
    let res = admin
        .post_form(
            &format!("/admin/referrals/{referral}/reply"),
            &[("body", &mix())],
        )
        .await;
    accepted("referral reply", &res);

    // A published notice: Markdown with raw HTML and a script link.
    let body = format!(
        "# 标题{SCRIPT}\n\n正文{IMG}{TEMPLATE}\n\n[点此]({JS_URL}) [再点](JaVaScRiPt:alert(1)) <svg onload=alert(1)>\n\n![图](javascript:alert(1))"
    );
    let res = admin
        .post_form(
            "/admin/notices",
            &[
                ("kind", "notice"),
                ("title", &format!("通知{SCRIPT}")),
                ("body", &body),
                ("publish", "on"),
            ],
        )
        .await;
    accepted("notice", &res);

    // The organization's own account: a change application with its contact fields.
    let res = org
        .post_form(
            "/applications",
            &refs(&org_fields(&[
                ("application_kind", "change".into()),
                ("name", IN_TEDA.into()),
                ("area_code", "120116014001".into()),
                ("contact_person", SVG.into()),
                ("address", IMG.into()),
                ("business_scope", mix()),
                ("consent_unit", SCRIPT.into()),
            ])),
        )
        .await;
    accepted("change application", &res);

    // Incubation: a centre, its call and an application, all typed by staff.
    let res = admin
        .post_form(
            "/admin/incubators",
            &[
                ("level", "street"),
                ("area_code", "120116001"),
                ("name", &format!("孵化{SCRIPT}")),
                ("focus", "养老服务"),
                ("capacity", "5"),
                ("address", IMG),
                ("operator", SVG),
            ],
        )
        .await;
    accepted("incubator", &res);
    let incubator = id_from(&res);
    let res = admin
        .post_form(
            "/admin/incubation-calls",
            &[
                ("incubator", &incubator.to_string()),
                ("title", &format!("征集{SCRIPT}")),
                ("opens_on", "2015-06-01"),
                ("closes_on", "2099-07-31"),
                ("places", "3"),
            ],
        )
        .await;
    accepted("incubation call", &res);
    let call = count(t, "select max(id) from incubation_calls").await;
    let res = admin
        .post_form(
            &format!("/admin/incubation-calls/{call}/applications"),
            &[
                ("group_name", &format!("小组{SVG}")),
                ("contact", IMG),
                ("domain", "charity"),
                ("plan", &mix()),
            ],
        )
        .await;
    accepted("incubation application", &res);

    // Talent: a practitioner and a training session.
    let res = admin
        .post_form(
            "/admin/practitioners",
            &[
                ("kind", "social_worker"),
                ("name", "韩梅"),
                ("qualification", "assistant"),
                ("employer_kind", "agency"),
                ("employer_name", &format!("机构{SCRIPT}")),
                ("role", IMG),
                ("area_code", "120116001"),
                ("phone", "022-25320101"),
                ("started_on", "2014-01-01"),
            ],
        )
        .await;
    accepted("practitioner", &res);
    let res = admin
        .post_form(
            "/admin/trainings",
            &[
                ("series", &format!("讲堂{SCRIPT}")),
                ("topic", IMG),
                ("speaker", SVG),
                ("held_on", "2099-07-10"),
                ("hours", "2"),
                ("place", TEMPLATE),
                ("capacity", "30"),
            ],
        )
        .await;
    accepted("training", &res);
    let training = id_from(&res);

    // Hubs: a federation.
    let res = admin
        .post_form(
            "/admin/federations",
            &[
                ("area_code", "120116051"),
                ("name", &format!("联合会{SCRIPT}")),
                ("chair", "张伟"),
                ("secretary_general", "李娜"),
                ("contact_phone", "022-25320101"),
            ],
        )
        .await;
    accepted("federation", &res);

    // Volunteering: a donation the organization records (donor, project and purpose typed).
    let res = org
        .post_form(
            "/admin/donations",
            &[
                ("direction", "received"),
                ("counterpart", &format!("王{SCRIPT}")),
                ("counterpart_kind", "organization"),
                ("kind", "money"),
                ("amount_yuan", "20000"),
                ("donated_on", "2015-06-01"),
                ("purpose", SVG),
                ("project", IMG),
            ],
        )
        .await;
    accepted("donation", &res);

    // Party building: a branch typed by the party office.
    let party = base.clone().signed_in("party1", PASSWORD).await;
    let res = party
        .post_form(
            "/admin/party",
            &[
                ("name", &format!("中共{SCRIPT}支部")),
                ("form", "independent"),
                ("level", "branch"),
                ("orgs", &tanggu.to_string()),
                ("approved_by", IMG),
                ("established_on", "2014-07-01"),
                ("secretary", "王磊"),
                ("committee", SVG),
                ("full_members", "3"),
                ("probationary_members", "0"),
            ],
        )
        .await;
    accepted("party organization", &res);

    // People: a person entered by staff.
    let head = "12010719800101123";
    let id_number = format!("{head}{}", shezu::people::id_check_char(head).unwrap());
    let res = admin
        .post_form(
            "/admin/people",
            &[("name", &format!("人{SCRIPT}")), ("id_number", &id_number)],
        )
        .await;
    accepted("person", &res);

    // The organization's annual report texts (kept by the report form's own checks).
    let report = shezu::inspection::ReportForm {
        activities: mix(),
        officers: IMG.into(),
        changes: SVG.into(),
        donations_and_grants: SCRIPT.into(),
        awards: TEMPLATE.into(),
        party_building: mix(),
        ..Default::default()
    }
    .parse(false)
    .unwrap();
    let mut tx = t.db.begin().await.unwrap();
    shezu::inspection::store::save(
        &mut tx.conn(),
        &shezu::audit::Actor::system("seed"),
        chrono::Utc::now(),
        teda,
        2024,
        &report,
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // A bulk import (CSV): payloads and formulas in the cells of new records.
    let csv = format!(
        "\u{feff}统一社会信用代码,名称,组织类型,业务领域,所在区域,状态,登记（备案）日期,法定代表人（负责人）,业务主管单位,住所\r\n\
         ,导入{SVG}书画社,社区社会组织,文化,120116001016,正常,2014-08-01,\"{}\",,{}\r\n\
         ,\"导入{}\",社区社会组织,文化,120116001016,正常,2014-08-01,,,\"{}\"\r\n",
        IMG.replace('"', "\"\""),
        TEMPLATE,
        FORMULAS[3],
        FORMULAS[0].replace('"', "\"\""),
    );
    let res = admin
        .post_file(
            "/admin/orgs/import",
            &[],
            ("file", "名册.csv", csv.as_bytes()),
        )
        .await;
    let (job, page) = crate::upload::finished(&admin, &res).await;
    let mut roots = vec![job];
    assert!(
        count(
            t,
            "select count(*) from organizations where name like '导入%'"
        )
        .await
            == 2,
        "the import wrote both rows: {}",
        page.body
    );

    // A bad import: its error workbook repeats the rows, payloads and formulas included.
    let csv = format!(
        "统一社会信用代码,名称,组织类型,业务领域,所在区域,状态,登记（备案）日期,法定代表人（负责人）,业务主管单位,住所\r\n\
         ,错误{SCRIPT},不存在的类型,文化,120116001016,正常,2014-08-01,\"{}\",,{}\r\n",
        FORMULAS[0].replace('"', "\"\""),
        FORMULAS[1],
    );
    let res = admin
        .post_file(
            "/admin/orgs/import",
            &[],
            ("file", "错误.csv", csv.as_bytes()),
        )
        .await;
    let (bad_job, page) = crate::upload::finished(&admin, &res).await;
    assert!(page.body.contains("errors.xlsx"), "{}", page.body);
    roots.push(format!("{bad_job}/status"));
    roots.push(bad_job);

    // Incubation: the application accepted, so a stay exists.
    let application = count(t, "select max(id) from incubation_applications").await;
    let res = admin
        .post_form(
            &format!("/admin/incubation-applications/{application}/decide"),
            &[
                ("decision", "accept"),
                ("reason", &mix()),
                ("entered_on", "2015-07-01"),
                ("planned_end_on", "2099-06-30"),
            ],
        )
        .await;
    accepted("incubation decision", &res);

    // Venture philanthropy: an open round typed by staff, a proposal by the organization.
    let res = admin
        .post_form(
            "/admin/funding",
            &[
                ("programme", &format!("创投{SCRIPT}")),
                ("kind", "venture"),
                ("title", &format!("大赛{IMG}")),
                ("year", "2099"),
                ("budget", "500000"),
                ("cap", "100000"),
                ("call_on", "2014-03-01"),
                ("deadline_on", "2099-04-30"),
                ("review_on", "2099-06-15"),
                ("notice_on", "2099-07-01"),
                ("notice_days", "7"),
                ("ban_years", "3"),
                ("partial_min_percent", "90"),
                ("rank_by", "raw"),
                ("domains", &format!("居家养老{SVG}\n青少年成长")),
                ("rubric", &format!("创新性{SCRIPT}|50|10\n可行性|50|10")),
                ("tranches", "60|signing\n40|final_passed"),
            ],
        )
        .await;
    accepted("funding round", &res);
    let round = id_from(&res);
    let domain = count(
        t,
        &format!("select min(id) from funding_domains where round_id = {round}"),
    )
    .await;
    // (The TEDA organization is on the abnormal list, so the 大港 one applies.)
    t.user(
        "fund1",
        "org",
        None,
        Some(&id_of(&d, IN_DAGANG).to_string()),
    )
    .await;
    let fund = base.clone().signed_in("fund1", PASSWORD).await;
    let res = fund
        .post_form(
            &format!("/funding/rounds/{round}/apply"),
            &[
                ("title", &format!("项目{SCRIPT}")),
                ("domain", &domain.to_string()),
                ("requested", "50000"),
                ("beneficiaries", IMG),
                ("target_count", "120"),
                ("plan", &mix()),
                ("team", SVG),
                ("budget_lines", &format!("餐费{SCRIPT}|30000\n场地|20000")),
            ],
        )
        .await;
    accepted("funding proposal", &res);

    // Evaluation, to its certificate: an eligible organization with a marked name applies to a
    // marked round, expert1 scores it, staff propose with a marked reason and finalize.
    crate::evaluation::set_today(t, "2014-04-15").await;
    let (graded, _) = crate::evaluation::org(t, &format!("评估{SVG}协会"), "2010-05-01").await;
    crate::evaluation::report(t, graded, 2013, "pass").await;
    t.user("graded1", "org", None, Some(&graded.to_string()))
        .await;
    let graded_app = base.clone().signed_in("graded1", PASSWORD).await;
    let res = admin
        .post_form(
            "/admin/evaluations",
            &[
                ("title", &format!("评估{SCRIPT}")),
                ("year", "2014"),
                ("social_group", "on"),
                ("private_non_enterprise", "on"),
                ("apply_from", "2014-04-01"),
                ("apply_until", "2014-05-31"),
                ("publicity_days", "7"),
                ("min_5a", "951"),
                ("min_4a", "901"),
                ("min_3a", "851"),
                ("min_2a", "801"),
                ("min_1a", "701"),
                ("committee", &format!("王建国\n{IMG}\n张志强")),
            ],
        )
        .await;
    accepted("evaluation round", &res);
    let evaluation = id_from(&res);
    // A second round still open on the real date, so its application form can be walked.
    let res = admin
        .post_form(
            "/admin/evaluations",
            &[
                ("title", &format!("长期评估{SVG}")),
                ("year", "2014"),
                ("social_group", "on"),
                ("apply_from", "2014-04-01"),
                ("apply_until", "2099-12-31"),
                ("publicity_days", "7"),
                ("min_5a", "951"),
                ("min_4a", "901"),
                ("min_3a", "851"),
                ("min_2a", "801"),
                ("min_1a", "701"),
                ("committee", "王建国\n李淑芬\n张志强"),
            ],
        )
        .await;
    accepted("open evaluation round", &res);
    let open_round = id_from(&res);
    let r = graded_app
        .get(&format!("/evaluation/rounds/{open_round}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let leaves = crate::evaluation::leaves(t).await;
    let own = crate::evaluation::scores(&leaves, 95);
    let fields: Vec<(&str, &str)> = own.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = graded_app
        .post_form(&format!("/evaluation/rounds/{evaluation}"), &fields)
        .await;
    accepted("evaluation application", &res);
    let applied = id_from(&res);
    crate::evaluation::set_today(t, "2014-06-10").await;
    let res = admin
        .post_form(
            &format!("/admin/evaluation-applications/{applied}/assign"),
            &[("expert", "expert1")],
        )
        .await;
    accepted("evaluation assignment", &res);
    let expert = base.clone().signed_in("expert1", PASSWORD).await;
    let marks = crate::evaluation::scores(&leaves, 90);
    let fields: Vec<(&str, &str)> = marks
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = expert
        .post_form(&format!("/expert/evaluations/{applied}"), &fields)
        .await;
    accepted("expert scores", &res);
    let res = admin
        .post_form(
            &format!("/admin/evaluation-applications/{applied}/propose"),
            &[("adjustment", "5"), ("adjustment_reason", &mix())],
        )
        .await;
    accepted("evaluation proposal", &res);
    crate::evaluation::set_today(t, "2014-09-03").await;
    let res = admin
        .post_form(
            &format!("/admin/evaluations/{evaluation}/publicity"),
            &[("start", "2014-09-02")],
        )
        .await;
    accepted("publicity", &res);
    crate::evaluation::set_today(t, "2014-09-20").await;
    let res = admin
        .post_form(&format!("/admin/evaluations/{evaluation}/finalize"), &[])
        .await;
    accepted("finalize", &res);
    crate::evaluation::set_today(t, &chrono::Utc::now().date_naive().to_string()).await;
    roots.push(format!("/admin/trainings/{training}"));
    roots.push(format!("/evaluations/certificates/{applied}"));
    roots.push(format!("/evaluation/rounds/{open_round}"));
    roots.push("/api/v1/areas/120116001".into());

    Hostile {
        roots,
        marked,
        marked_uscc,
        formulas,
    }
}

/// Every route pattern in the source (tests/scope.rs checks the list is complete).
fn patterns() -> Vec<String> {
    let mut found = Vec::new();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    crate::scope::collect_routes(&src, &mut found);
    found.sort();
    found.dedup();
    found
}

/// The route pattern a path belongs to: the one matching with the most literal segments.
fn pattern_of<'p>(patterns: &'p [String], path: &str) -> Option<&'p str> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    patterns
        .iter()
        .filter_map(|p| {
            let parts: Vec<&str> = p.trim_start_matches('/').split('/').collect();
            let mut literal = 0;
            for (i, part) in parts.iter().enumerate() {
                if part.starts_with("{*") {
                    return Some((literal, p.as_str()));
                }
                let seg = segs.get(i)?;
                if part.starts_with('{') {
                    if seg.is_empty() {
                        return None;
                    }
                } else if part == seg {
                    literal += 1;
                } else {
                    return None;
                }
            }
            (parts.len() == segs.len()).then_some((literal, p.as_str()))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, p)| p)
}

/// An attribute value as the browser reads it: character references decoded, the characters
/// browsers skip in a URL scheme (whitespace and controls) left out, lower case.
fn as_browser_reads(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        if c == '&'
            && let Some(end) = rest.find(';').filter(|&e| e < 12)
        {
            let entity = &rest[1..end];
            let decoded = match entity {
                "amp" => Some('&'),
                "colon" => Some(':'),
                "Tab" | "NewLine" => Some(' '),
                e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            if let Some(d) = decoded {
                out.push(d);
                rest = &rest[end + 1..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Every value of the URL-bearing attributes of a page.
fn url_attributes(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in [
        " href=",
        " src=",
        " action=",
        " formaction=",
        " xlink:href=",
    ] {
        let mut rest = body;
        while let Some(pos) = rest.find(attr) {
            rest = &rest[pos + attr.len()..];
            let value = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest.split([' ', '>']).next().unwrap_or(""),
            };
            out.push(value.to_owned());
        }
    }
    out
}

/// The links of a page to follow: paths on this site.
fn links(body: &str) -> Vec<String> {
    url_attributes(body)
        .into_iter()
        .map(|v| v.replace("&amp;", "&"))
        .filter(|v| v.starts_with('/') && !v.starts_with("//"))
        .map(|v| v.split('#').next().unwrap().to_owned())
        .collect()
}

/// What the walk saw, for the assertions at its end.
#[derive(Default)]
struct Seen {
    /// Patterns of the paths answered with success.
    patterns: BTreeSet<String>,
    /// HTML pages, and those showing an escaped payload.
    html: usize,
    escaped: BTreeSet<String>,
    /// Pages showing the template expression as typed.
    template_shown: usize,
    /// JSON bodies, and strings in them carrying a payload verbatim.
    json: usize,
    json_verbatim: BTreeSet<String>,
    /// CSV files and their defused formula cells.
    csv: usize,
    csv_defused: usize,
    /// Workbooks and those holding formula text as a string.
    xlsx: usize,
    xlsx_formula_text: usize,
    /// What went wrong, each with its URL.
    failures: Vec<String>,
}

/// Checks one answer by its type: no live markup in HTML, verbatim JSON, defused CSV and
/// Excel cells, never a server error.
fn check(url: &str, res: &Answer, seen: &mut Seen) {
    if res.status.is_server_error() {
        seen.failures
            .push(format!("{url}: {} {}", res.status, &res.body));
        return;
    }
    let ctype = res
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut fail = |what: String| seen.failures.push(format!("{url}: {what}"));
    if ctype.starts_with("text/html") || ctype.contains("+xml") || ctype.contains("/xml") {
        for raw in RAW {
            for (at, _) in res.body.match_indices(raw).take(3) {
                let from = at.saturating_sub(120);
                fail(format!(
                    "live markup {raw:?} in …{}…",
                    &res.body
                        [res.body.floor_char_boundary(from)..res.body.ceil_char_boundary(at + 40)]
                ));
            }
        }
        for value in url_attributes(&res.body) {
            let v = as_browser_reads(&value);
            if ["javascript:", "vbscript:", "data:text"]
                .iter()
                .any(|s| v.starts_with(s))
            {
                fail(format!("script address in an attribute: {value}"));
            }
        }
        if ctype.starts_with("text/html") {
            seen.html += 1;
        }
        if ESCAPED.iter().any(|e| res.body.contains(e)) {
            seen.escaped.insert(url.to_owned());
        }
        if res.body.contains(TEMPLATE) {
            seen.template_shown += 1;
        }
    } else if ctype.starts_with("application/json") || ctype.starts_with("application/geo+json") {
        seen.json += 1;
        let value: serde_json::Value = match serde_json::from_str(&res.body) {
            Ok(v) => v,
            Err(e) => return fail(format!("not JSON: {e}")),
        };
        let mut strings = Vec::new();
        collect_strings(&value, &mut strings);
        for s in strings {
            if s.contains("&lt;") || s.contains("&#34;") || s.contains("&quot;") {
                fail(format!("HTML-escaped text in JSON: {s}"));
            }
            if s.contains(SCRIPT) || s.contains(IMG) || s.contains(SVG) {
                seen.json_verbatim.insert(url.to_owned());
            }
        }
    } else if ctype.starts_with("text/csv") {
        seen.csv += 1;
        for cell in csv_cells(res.body.trim_start_matches('\u{feff}')) {
            if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err() {
                fail(format!("live formula in a CSV cell: {cell:?}"));
            }
            if cell.starts_with("'=HYPERLINK") || cell.starts_with("'+1+cmd") {
                seen.csv_defused += 1;
            }
        }
    } else if ctype.contains("spreadsheetml") {
        seen.xlsx += 1;
        let entries = match shezu::export::zip::read_entries(&res.bytes) {
            Ok(e) => e,
            Err(e) => return fail(format!("unreadable workbook: {e}")),
        };
        for (name, xml) in entries {
            if !name.starts_with("xl/worksheets/") {
                continue;
            }
            let xml = String::from_utf8_lossy(&xml);
            if xml.contains("<f>") || xml.contains("<f ") || xml.contains("t=\"str\"") {
                fail(format!("a formula in {name}"));
            }
            if xml.contains("=HYPERLINK(") {
                seen.xlsx_formula_text += 1;
            }
        }
    }
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            collect_strings(x, out)
        }),
        _ => {}
    }
}

/// The cells of a CSV text (RFC 4180 quoting).
fn csv_cells(text: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => cells.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => cells.push(std::mem::take(&mut cell)),
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() {
        cells.push(cell);
    }
    cells
}

/// Crawls the site from `roots` as `app`, following every link on this site, at most
/// `per_shape` URLs per route pattern and set of query names, and checks every answer.
async fn crawl(
    app: &TestApp,
    headers: &[(&str, &str)],
    roots: Vec<String>,
    patterns: &[String],
    seen: &mut Seen,
) {
    let per_shape = 3;
    let mut queue: VecDeque<String> = roots.into();
    let mut done = BTreeSet::new();
    let mut shapes: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(url) = queue.pop_front() {
        if !done.insert(url.clone()) || done.len() > 3000 {
            continue;
        }
        let (path, query) = url.split_once('?').unwrap_or((&url, ""));
        let Some(pattern) = pattern_of(patterns, path) else {
            continue;
        };
        // Query names make the shape; a format's value too (each download is its own kind).
        let mut names: Vec<&str> = query
            .split('&')
            .filter_map(|p| {
                if p.starts_with("format=") {
                    Some(p)
                } else {
                    p.split('=').next()
                }
            })
            .filter(|n| !n.is_empty())
            .collect();
        names.sort();
        names.dedup();
        let shape = format!("{pattern}?{}", names.join("&"));
        let n = shapes.entry(shape).or_default();
        if *n >= per_shape {
            continue;
        }
        *n += 1;
        let res = app.get_with(&url, headers).await;
        if res.status.is_success() {
            seen.patterns.insert(pattern.to_owned());
        }
        check(&url, &res, seen);
        let ctype = res
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ctype.starts_with("text/html") {
            queue.extend(links(&res.body).into_iter().filter(|l| !done.contains(l)));
        } else if ctype.starts_with("application/json") {
            let mut strings = Vec::new();
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&res.body) {
                collect_strings(&v, &mut strings);
            }
            queue.extend(
                strings
                    .into_iter()
                    .filter(|s| s.starts_with("/api/") || s.starts_with("/orgs/")),
            );
        }
    }
}

/// A department token reading full records.
async fn registry_token(t: &TestDb) -> String {
    let mut tx = t.db.begin().await.unwrap();
    let (_, secret) = shezu::auth::tokens::create(
        &mut tx.conn(),
        &shezu::audit::Actor::system("test"),
        chrono::Utc::now(),
        "区税务局",
        &[
            shezu::auth::tokens::TokenScope::Public,
            shezu::auth::tokens::TokenScope::RegistryRead,
        ],
        None,
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    secret
}

/// GET routes the walk cannot open, with the reason (anything else that answers GET must be
/// reached by the crawl).
const NOT_WALKED: &[(&str, &str)] = &[
    (
        "/api/v1/{*rest}",
        "the API's fallback: every path it answers is another route's 404",
    ),
    (
        "/admin",
        "redirects each caller to their own desk, which is walked",
    ),
];

db_test!(payloads_render_escaped_everywhere, |t| async move {
    let dumps = tempfile::tempdir().unwrap();
    let base = t.app_with(shezu::config::Settings {
        dump_dir: dumps.path().to_path_buf(),
        ..shezu::config::Settings::default()
    });
    let h = seed(t, &base).await;
    shezu::registry::dump::write_dump(&t.db, dumps.path(), chrono::Utc::now().date_naive())
        .await
        .unwrap();
    let patterns = patterns();
    let fixed: Vec<String> = patterns
        .iter()
        .filter(|p| !p.contains('{'))
        .cloned()
        .collect();
    let marked_profile = format!("/orgs/{}", h.marked_uscc);
    let q = encode(SCRIPT);
    // Searches for the payloads and the marked records, then every page without a parameter.
    let roots: Vec<String> = [
        marked_profile.clone(),
        format!("/orgs?q={q}"),
        format!("/orgs?q={}", encode("导入")),
        format!("/admin/orgs?q={q}"),
        format!("/admin/orgs/{}", h.marked),
        format!("/admin/orgs/{}", h.formulas),
        format!("/admin/orgs/{}/edit", h.marked),
        format!("/admin/orgs/{}/certificate", h.marked),
        format!("/api/v1/organizations?q={q}"),
    ]
    .into_iter()
    .chain(h.roots.iter().cloned())
    .chain(fixed.iter().cloned())
    .collect();
    let mut all = Seen::default();
    for who in [
        "admin1",
        "org1",
        "anonymous",
        "expert1",
        "graded1",
        "instructor1",
    ] {
        let app = if who == "anonymous" {
            base.clone()
        } else {
            base.clone().signed_in(who, PASSWORD).await
        };
        let mut seen = Seen::default();
        crawl(&app, &[], roots.clone(), &patterns, &mut seen).await;
        assert!(
            seen.failures.is_empty(),
            "{who}:\n{}",
            seen.failures.join("\n")
        );
        assert!(
            !seen.escaped.is_empty() && seen.template_shown > 0,
            "{who}: no page shows the payloads (escaped) among {} pages",
            seen.html
        );
        eprintln!(
            "{who}: {} patterns, {} HTML pages ({} with escaped payloads), {} JSON, {} CSV, {} XLSX",
            seen.patterns.len(),
            seen.html,
            seen.escaped.len(),
            seen.json,
            seen.csv,
            seen.xlsx
        );
        all.patterns.extend(seen.patterns);
        all.escaped.extend(seen.escaped);
        all.csv_defused += seen.csv_defused;
        all.xlsx_formula_text += seen.xlsx_formula_text;
        all.json_verbatim.extend(seen.json_verbatim);
    }
    // The JSON API and the exports, with a department token.
    let token = format!("Bearer {}", registry_token(t).await);
    let mut seen = Seen::default();
    let api_roots: Vec<String> = [
        format!("/api/v1/organizations/{}", h.marked_uscc),
        format!("/api/v1/organizations?q={q}"),
        "/api/v1/export/organizations?format=csv".into(),
        "/api/v1/export/organizations?format=json".into(),
        "/api/v1/export/organizations?format=xlsx".into(),
        "/api/v1/changes".into(),
    ]
    .into_iter()
    .chain(fixed.iter().filter(|p| p.starts_with("/api/")).cloned())
    .collect();
    let app = base.clone();
    crawl(
        &app,
        &[("authorization", token.as_str())],
        api_roots,
        &patterns,
        &mut seen,
    )
    .await;
    assert!(
        seen.failures.is_empty(),
        "API:\n{}",
        seen.failures.join("\n")
    );
    eprintln!(
        "API: {} patterns, {} JSON, {} CSV, {} XLSX",
        seen.patterns.len(),
        seen.json,
        seen.csv,
        seen.xlsx
    );
    all.patterns.extend(seen.patterns);
    all.csv_defused += seen.csv_defused;
    all.xlsx_formula_text += seen.xlsx_formula_text;
    all.json_verbatim.extend(seen.json_verbatim);
    assert!(
        all.json_verbatim
            .contains(&format!("/api/v1/organizations/{}", h.marked_uscc)),
        "the API carries the text verbatim: {:?}",
        all.json_verbatim
    );
    assert!(all.csv_defused > 0, "a CSV export showed the formula text");
    assert!(
        all.xlsx_formula_text > 0,
        "a workbook showed the formula text"
    );
    // The pages that show what was typed show it escaped.
    for page in [
        marked_profile.as_str(),
        &format!("/admin/orgs/{}", h.marked),
        "/consult",
        "/notices",
    ] {
        assert!(
            all.escaped.contains(page),
            "{page} shows no escaped payload"
        );
    }
    // Every route that answers GET was walked.
    let admin = t.app().signed_in("admin1", PASSWORD).await;
    let mut missing = Vec::new();
    for p in &patterns {
        if all.patterns.contains(p) || NOT_WALKED.iter().any(|(r, _)| r == p) {
            continue;
        }
        let probe: String = p
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        if admin.get(&probe).await.status != StatusCode::METHOD_NOT_ALLOWED {
            missing.push(p.clone());
        }
    }
    assert!(missing.is_empty(), "GET routes not walked: {missing:#?}");
});

/// SQL and LIKE metacharacters, and statements smuggled into a search.
const SQL: [&str; 7] = [
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "\"; DROP TABLE organizations; --",
    "%' AND '1'='1",
    "') OR ('a'='a",
];

/// The names of the search districts' organizations, each with a marker found nowhere else.
const SEARCHED: [(&str, &str); 5] = [
    ("百分之", "百分之%_'协会"),
    ("反斜杠", "反斜杠\\服务社"),
    ("双引号", "双引号\"志愿者协会"),
    ("普通一", "普通一养老服务中心"),
    ("普通二", "普通二助学促进会"),
];

/// Which markers of [`SEARCHED`] a page shows.
fn markers(body: &str) -> BTreeSet<&'static str> {
    SEARCHED
        .iter()
        .filter(|(m, _)| body.contains(m))
        .map(|(m, _)| *m)
        .collect()
}

/// The names of the inputs of a page's GET forms, and of the query parameters its links to
/// `path` carry.
fn query_names(body: &str, path: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for form in body.split("<form").skip(1) {
        let head = &form[..form.find('>').unwrap_or(0)];
        if head.contains("method=\"post\"") {
            continue;
        }
        let form = &form[..form.find("</form>").unwrap_or(form.len())];
        for part in form.split(" name=\"").skip(1) {
            names.insert(part[..part.find('"').unwrap_or(0)].to_owned());
        }
    }
    for link in links(body) {
        if let Some((p, q)) = link.split_once('?')
            && p == path
        {
            for pair in q.split('&') {
                names.insert(pair.split('=').next().unwrap_or("").to_owned());
            }
        }
    }
    names.retain(|n| !n.is_empty() && n != "lang" && n != "_csrf");
    names
}

db_test!(sql_metacharacters_match_literally, |t| async move {
    crate::registry::load_areas(t).await;
    let admin = t.app_as("admin1", "admin", None, None).await;
    for (_, name) in SEARCHED {
        let res = admin
            .post_form("/admin/orgs", &refs(&org_fields(&[("name", name.into())])))
            .await;
        accepted(name, &res);
    }
    let orgs = count(t, "select count(*) from organizations").await;
    let public = t.app();
    // Each search box finds exactly what it names, literally.
    let expect: [(&str, &[&str]); 12] = [
        ("%", &["百分之"]),
        ("_", &["百分之"]),
        ("%_'", &["百分之"]),
        ("百分之%_'协会", &["百分之"]),
        ("\\", &["反斜杠"]),
        ("\"", &["双引号"]),
        ("' OR 1=1 --", &[]),
        ("\"; DROP TABLE organizations; --", &[]),
        ("%' AND '1'='1", &[]),
        ("') OR ('a'='a", &[]),
        ("普通", &["普通一", "普通二"]),
        ("%普通%", &[]),
    ];
    for (q, want) in expect {
        let want: BTreeSet<&str> = want.iter().copied().collect();
        for (app, base) in [
            (&public, "/orgs?q="),
            (&admin, "/admin/orgs?q="),
            (&public, "/api/v1/organizations?q="),
        ] {
            let res = app.get(&format!("{base}{}", encode(q))).await;
            assert_eq!(res.status, StatusCode::OK, "{base}{q}: {}", res.body);
            let found = if base.starts_with("/api/") {
                let names: Vec<String> = res.json()["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["name"].as_str().unwrap().to_owned())
                    .collect();
                markers(&names.join(" "))
            } else {
                markers(&res.body)
            };
            assert_eq!(found, want, "{base}{q}");
        }
    }
    assert_eq!(
        count(t, "select count(*) from organizations").await,
        orgs,
        "nothing dropped"
    );
    // Every query parameter of every list page, and of every API operation, with each of them:
    // never a server error, never a database message.
    let patterns = patterns();
    let mut pages: Vec<(String, BTreeSet<String>)> = Vec::new();
    for p in patterns.iter().filter(|p| !p.contains('{')) {
        let res = admin.get(p).await;
        if res.status == StatusCode::OK
            && res
                .headers
                .get("content-type")
                .is_some_and(|c| c.to_str().unwrap().starts_with("text/html"))
        {
            pages.push((p.clone(), query_names(&res.body, p)));
        }
    }
    let spec = public.get("/api/v1/openapi.json").await.json();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let params: BTreeSet<String> = item["get"]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        if !path.contains('{') {
            pages.push((path.clone(), params));
        }
    }
    let names: usize = pages.iter().map(|(_, n)| n.len()).sum();
    assert!(names > 40, "query parameters found: {pages:?}");
    for (path, params) in &pages {
        for name in params {
            for value in SQL {
                let url = format!("{path}?{name}={}", encode(value));
                let res = admin.get(&url).await;
                assert!(
                    !res.status.is_server_error(),
                    "{url}: {} {}",
                    res.status,
                    res.body
                );
                let lower = res.body.to_lowercase();
                for leak in [
                    "sqlstate",
                    "syntax error",
                    "no such column",
                    "sqlx",
                    "database error",
                ] {
                    assert!(!lower.contains(leak), "{url} shows {leak:?}");
                }
                let json = res
                    .headers
                    .get("content-type")
                    .is_some_and(|c| c.to_str().unwrap().starts_with("application/json"));
                if json
                    && res.status == StatusCode::OK
                    && let Some(total) = res.json()["total"].as_i64()
                    && ["q", "name"].contains(&name.as_str())
                {
                    assert!(total < orgs, "{url}: every row");
                }
            }
        }
    }
    assert_eq!(count(t, "select count(*) from organizations").await, orgs);
});

/// Percent-encoded bytes that are not UTF-8 text (overlong, surrogate, stray, truncated) or
/// that are NUL.
const GARBLED: [&str; 6] = ["%C0%AF", "%ED%A0%80", "%FF", "%E4%B8", "%00", "a%00b"];

/// `POST uri` with a urlencoded body written by hand (bytes as given), as `app`'s session.
async fn post_body(app: &TestApp, uri: &str, body: Vec<u8>) -> Answer {
    let mut req = axum::http::Request::post(uri)
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(c) = &app.cookie {
        req = req.header("cookie", c.as_str());
    }
    app.send(req.body(axum::body::Body::from(body)).unwrap())
        .await
}

/// `fields` as a urlencoded body with `raw` (already encoded, or raw bytes) as the value of
/// `field`, plus the session's token.
fn body_with(app: &TestApp, fields: &[(&str, String)], field: &str, raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        if *k != field {
            body.extend(format!("{}={}&", encode(k), encode(v)).as_bytes());
        }
    }
    body.extend(format!("{}=", encode(field)).as_bytes());
    body.extend(raw);
    if let Some(token) = &app.csrf {
        body.extend(format!("&_csrf={token}").as_bytes());
    }
    body
}

/// Asserts a refusal in Chinese (HTML page or JSON body) that names `field` when given.
fn refused_in_chinese(what: &str, res: &Answer, field: Option<&str>) {
    assert!(
        res.status.is_client_error(),
        "{what}: {} {}",
        res.status,
        res.body
    );
    let ctype = res
        .headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        ctype.starts_with("text/html") || ctype.starts_with("application/json"),
        "{what}: {ctype} {}",
        res.body
    );
    let text = if ctype.starts_with("application/json") {
        res.json()["error"].as_str().unwrap_or("").to_owned()
    } else {
        let start = res.body.find("<h1>").unwrap_or(0);
        res.body[start..].to_owned()
    };
    assert!(
        text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{what}: not in Chinese: {text}"
    );
    if let Some(field) = field {
        assert!(
            text.contains(field),
            "{what}: does not name {field}: {text}"
        );
    }
}

/// A form the malformed-input test posts to: who, where, valid fields, and the free-text
/// fields to spoil one at a time.
type FormCase = (
    &'static str,
    String,
    Vec<(&'static str, String)>,
    Vec<&'static str>,
);

/// Every [`FormCase`].
async fn create_forms(t: &TestDb) -> Vec<FormCase> {
    let tanggu = count(
        t,
        &format!("select id from organizations where name = '{IN_TANGGU}'"),
    )
    .await;
    let s = |v: &str| v.to_owned();
    vec![
        (
            "admin1",
            s("/admin/orgs"),
            org_fields(&[]),
            vec![
                "name",
                "supervisory_unit",
                "legal_representative",
                "contact_person",
                "address",
                "business_scope",
            ],
        ),
        (
            "anonymous",
            s("/consult"),
            vec![
                ("name", s("张先生")),
                ("contact", s("022-66668888")),
                ("question", s("如何备案？")),
            ],
            vec!["name", "question"],
        ),
        (
            "admin1",
            s("/admin/notices"),
            vec![
                ("kind", s("notice")),
                ("title", s("通知")),
                ("body", s("正文")),
            ],
            vec!["title", "body"],
        ),
        (
            "admin1",
            s("/admin/domains"),
            vec![
                ("code", s("long_text")),
                ("name_zh", s("长文")),
                ("name_en", s("Long")),
                ("active", s("on")),
            ],
            vec!["name_zh", "name_en"],
        ),
        (
            "admin1",
            s("/admin/users"),
            vec![
                ("username", s("longuser")),
                ("display_name", s("长名")),
                ("password", s("hostile-password-2014")),
                ("role", s("window")),
            ],
            vec!["display_name"],
        ),
        (
            "admin1",
            s("/admin/tokens"),
            vec![("name", s("令牌")), ("scopes", s("public"))],
            vec!["name"],
        ),
        (
            "admin1",
            format!("/admin/orgs/{tanggu}/referrals"),
            vec![
                ("to", s("tanggu1")),
                ("subject", s("核查")),
                ("details", s("请核实。")),
                ("due_on", s("2099-01-01")),
            ],
            vec!["subject", "details"],
        ),
        (
            "admin1",
            s("/admin/incubators"),
            vec![
                ("level", s("street")),
                ("area_code", s("120116051")),
                ("name", s("大港孵化中心")),
                ("focus", s("养老服务")),
                ("capacity", s("5")),
                ("address", s("大港")),
                ("operator", s("联合会")),
            ],
            vec!["name", "address", "operator"],
        ),
        (
            "admin1",
            s("/admin/trainings"),
            vec![
                ("series", s("讲堂")),
                ("topic", s("年检")),
                ("speaker", s("王老师")),
                ("held_on", s("2099-07-10")),
                ("hours", s("2")),
                ("place", s("孵化园")),
                ("capacity", s("30")),
            ],
            vec!["series", "topic", "speaker", "place"],
        ),
        (
            "admin1",
            s("/admin/federations"),
            vec![
                ("area_code", s("120116014")),
                ("name", s("泰达联合会")),
                ("chair", s("张伟")),
                ("secretary_general", s("李娜")),
                ("contact_phone", s("022-25320101")),
            ],
            vec!["name", "chair", "secretary_general"],
        ),
        (
            "admin1",
            s("/admin/people"),
            vec![
                ("name", s("王五")),
                ("id_number", {
                    let head = "12010719800101456";
                    format!("{head}{}", shezu::people::id_check_char(head).unwrap())
                }),
            ],
            vec!["name"],
        ),
    ]
}

db_test!(
    malformed_input_is_refused_in_chinese_and_changes_nothing,
    |t| async move {
        crate::scope::seed(t).await;
        let admin = t.app().signed_in("admin1", PASSWORD).await;
        let anonymous = t.app();
        let before = footprint(t).await;
        let forms = create_forms(t).await;
        let mut overlong = Vec::new();
        // Every free-text field in turn: garbled bytes, a NUL, 10 000 characters (60 000 where the
        // field allows long text), and a 2 MB value: refused, naming the field, nothing written.
        for (who, uri, fields, free) in &forms {
            let app = if *who == "anonymous" {
                &anonymous
            } else {
                &admin
            };
            for field in free {
                for bad in GARBLED {
                    let res =
                        post_body(app, uri, body_with(app, fields, field, bad.as_bytes())).await;
                    refused_in_chinese(&format!("{uri} {field}={bad}"), &res, Some(field));
                }
                let res = post_body(app, uri, body_with(app, fields, field, b"\xff\xfe")).await;
                refused_in_chinese(&format!("{uri} {field}=raw 0xFF"), &res, Some(field));
                let long = if ["body"].contains(field) {
                    60_000
                } else {
                    10_000
                };
                let res = post_body(
                    app,
                    uri,
                    body_with(app, fields, field, encode(&"长".repeat(long)).as_bytes()),
                )
                .await;
                if !res.status.is_client_error() {
                    overlong.push(format!("{uri} {field}: {long} characters: {}", res.status));
                }
                let res = post_body(
                    app,
                    uri,
                    body_with(app, fields, field, "x".repeat(2_200_000).as_bytes()),
                )
                .await;
                refused_in_chinese(&format!("{uri} {field}: 2 MB"), &res, None);
                assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{uri} {field}");
            }
        }
        assert!(
            overlong.is_empty(),
            "overlong text accepted:\n{}",
            overlong.join("\n")
        );
        assert_eq!(footprint(t).await, before, "a refused post wrote something");
        // Query strings and paths: the search boxes, a record's key, the API.
        for bad in GARBLED {
            for (app, uri, json) in [
                (&anonymous, format!("/orgs?q={bad}"), false),
                (&admin, format!("/admin/orgs?q={bad}"), false),
                (&anonymous, format!("/api/v1/organizations?q={bad}"), true),
            ] {
                let res = app.get(&uri).await;
                refused_in_chinese(&uri, &res, Some("q"));
                assert_eq!(
                    res.headers["content-type"]
                        .to_str()
                        .unwrap()
                        .starts_with("application/json"),
                    json,
                    "{uri}"
                );
            }
            for uri in [
                format!("/orgs/{bad}"),
                format!("/api/v1/organizations/{bad}"),
                format!("/admin/orgs/{bad}"),
            ] {
                let res = admin.get(&uri).await;
                refused_in_chinese(&uri, &res, None);
            }
        }
        // A path part that is not a number, and a form that is not a form at all.
        for uri in [
            "/admin/orgs/abc",
            "/admin/referrals/1.5",
            "/api/v1/areas/%FF",
        ] {
            refused_in_chinese(uri, &admin.get(uri).await, None);
        }
        let res = admin
            .send(
                axum::http::Request::post("/admin/orgs")
                    .header("host", "127.0.0.1:8080")
                    .header("cookie", admin.cookie.clone().unwrap())
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from("{\"name\":1}"))
                    .unwrap(),
            )
            .await;
        assert!(res.status.is_client_error(), "{}", res.status);
        // A JSON body carries no CSRF token: the guard refuses it and records only the forgery
        // made in admin1's name.
        let mut expected = before.clone();
        *expected.get_mut("audit_log").unwrap() += 1;
        assert_eq!(
            footprint(t).await,
            expected,
            "a refused request wrote something"
        );
        // The same forms with nothing spoiled are accepted: each refusal above was its field's.
        let mut last = expected;
        for (who, uri, fields, _) in &forms {
            let app = if *who == "anonymous" {
                &anonymous
            } else {
                &admin
            };
            let res = app.post_form(uri, &refs(fields)).await;
            assert!(
                matches!(res.status.as_u16(), 200 | 303),
                "{uri}: {} {}",
                res.status,
                res.body
            );
            let now = footprint(t).await;
            assert_ne!(now, last, "{uri} wrote nothing");
            last = now;
        }
    }
);

/// The header of an organization import, and a good row for line `n`.
const IMPORT_HEADER: &str = "统一社会信用代码,名称,组织类型,业务领域,所在区域,状态,登记（备案）日期,法定代表人（负责人）,业务主管单位,住所";

fn import_row(n: usize) -> String {
    format!(",第{n}行书画社,社区社会组织,文化,120116001016,正常,2014-08-01,,,紫云园\r\n")
}

/// What an import upload ended in: the refusal (422 with the upload form) or the job's page.
async fn import_outcome(app: &TestApp, name: &str, bytes: &[u8]) -> Answer {
    let res = app
        .post_file("/admin/orgs/import", &[], ("file", name, bytes))
        .await;
    if res.status == StatusCode::SEE_OTHER {
        crate::upload::finished(app, &res).await.1
    } else {
        res
    }
}

db_test!(
    imports_in_other_encodings_are_refused_naming_the_line,
    |t| async move {
        crate::registry::load_areas(t).await;
        let admin = t.app_as("admin1", "admin", None, None).await;
        let before = footprint(t).await;
        // GBK (what Excel saves as "CSV" on a Chinese Windows): 第 2 行.
        let gbk: Vec<u8> = {
            let mut b = b"uscc,name,kind,domain,area_code,status,registered_on\r\n".to_vec();
            // 书画社 in GBK.
            b.extend(
                b",\xca\xe9\xbb\xad\xc9\xe7,community,culture,120116001016,active,2014-08-01\r\n",
            );
            b
        };
        let res = import_outcome(&admin, "名册.csv", &gbk).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
        assert!(
            res.body.contains("第 2 行") && res.body.contains("UTF-8"),
            "{}",
            res.body
        );
        // A bad byte on line 4 near the start; a bad byte, a NUL on line 401, past the first 8 KiB.
        for (line, bad) in [(4, &b"\xff"[..]), (401, b"\xe4\xb8"), (401, b"\x00")] {
            let mut file = format!("\u{feff}{IMPORT_HEADER}\r\n").into_bytes();
            for n in 2..line {
                file.extend(import_row(n).as_bytes());
            }
            file.extend(b",\xe5\x9d\x8f");
            file.extend(bad);
            file.extend(import_row(line).as_bytes());
            for n in line + 1..line + 5 {
                file.extend(import_row(n).as_bytes());
            }
            let res = import_outcome(&admin, "名册.csv", &file).await;
            assert!(
                res.status.is_client_error(),
                "line {line} {bad:?}: {} {}",
                res.status,
                res.body
            );
            assert!(
                res.body.contains(&format!("第 {line} 行")),
                "line {line} {bad:?}: {}",
                res.body
            );
        }
        // A NUL near the start: not a text file at all.
        let mut file = format!("{IMPORT_HEADER}\r\n").into_bytes();
        file.extend(b",\x00\r\n");
        let res = import_outcome(&admin, "名册.csv", &file).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
        assert!(res.body.contains("只接受 CSV 或 Excel"), "{}", res.body);
        assert_eq!(
            footprint(t).await,
            before,
            "a refused import wrote something"
        );
    }
);

/// Whether a file whose name contains `marker` exists anywhere near the places an upload
/// could have been written to: `roots` and two levels above each, and what those hold.
fn written_near(roots: &[std::path::PathBuf], marker: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut dirs = BTreeSet::new();
    for root in roots {
        let mut d = root.clone();
        for _ in 0..3 {
            dirs.insert(d.clone());
            if !d.pop() {
                break;
            }
        }
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().contains(marker) {
                found.push(e.path());
            }
        }
    }
    found
}

/// An upload whose multipart body ends in the middle of the file.
async fn cut_short(app: &TestApp, uri: &str) -> Answer {
    app.send(
        axum::http::Request::post(format!("{uri}?_csrf={}", app.csrf.clone().unwrap()))
            .header("host", "127.0.0.1:8080")
            .header("cookie", app.cookie.clone().unwrap())
            .header("content-type", "multipart/form-data; boundary=b")
            .body(axum::body::Body::from(
                "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nabc",
            ))
            .unwrap(),
    )
    .await
}

db_test!(
    upload_file_names_cannot_climb_out_of_storage,
    |t| async move {
        crate::registry::load_areas(t).await;
        let store = tempfile::tempdir().unwrap();
        let base = t.app_with(shezu::config::Settings {
            upload_dir: Some(store.path().join("documents")),
            ..shezu::config::Settings::default()
        });
        t.user("admin1", "admin", None, None).await;
        t.user("applicant1", "org", None, None).await;
        let admin = base.clone().signed_in("admin1", PASSWORD).await;
        let applicant = base.clone().signed_in("applicant1", PASSWORD).await;
        let marker = format!("hostile{}x{}", std::process::id(), t.url.len());
        let names = [
            format!("../../{marker}.csv"),
            format!("..\\\\..\\\\{marker}.xlsx"),
            format!("a/b/{marker}.csv"),
            format!("/tmp/{marker}.csv"),
            format!("{marker}{}.csv", "长".repeat(300)),
            format!("名册{marker}\0.xlsx"),
            format!("{marker}\r\nX-Injected: 1.csv"),
        ];
        // The bulk import keeps the file under a name of its own and shows only the name's last
        // part, cleaned and escaped.
        let csv = format!("{IMPORT_HEADER}\r\n{}", import_row(2));
        for name in &names {
            let res = admin
                .post_file("/admin/orgs/import", &[], ("file", name, csv.as_bytes()))
                .await;
            if res.status == StatusCode::SEE_OTHER {
                let (_, page) = crate::upload::finished(&admin, &res).await;
                let shown = page
                    .body
                    .split("<p>文件：")
                    .nth(1)
                    .and_then(|p| p.split("</p>").next())
                    .unwrap_or_else(|| panic!("{name:?}: no file name: {}", page.body));
                // A name broken by a line break loses what follows; any other is shown.
                assert!(
                    shown.contains(&marker) || name.contains('\r'),
                    "{name:?} shown as {shown}"
                );
                assert!(!shown.contains("Injected"), "{name:?} shown as {shown}");
                assert!(
                    !shown.contains("..")
                        && !shown.contains('/')
                        && !shown.contains('\\')
                        && !shown.contains('\0')
                        && !shown.contains('\r'),
                    "{name:?} shown as {shown}"
                );
                assert!(shown.chars().count() < 220, "{name:?} shown whole: {shown}");
            } else {
                refused_in_chinese(name, &res, None);
            }
        }
        // A body cut short is refused as such (not as a file too large).
        for uri in ["/admin/orgs/import", "/admin/imports/donations"] {
            let res = cut_short(&admin, uri).await;
            refused_in_chinese(uri, &res, None);
            assert!(res.body.contains("不完整"), "{uri}: {}", res.body);
        }
        // Application documents: kept under their hash, the name cleaned for the page and the
        // download's header.
        let res = applicant
            .post_form(
                "/applications",
                &[
                    ("application_kind", "filing"),
                    ("name", "紫云园社区合唱团"),
                    ("kind", "community"),
                    ("domain", "culture"),
                    ("area_code", "120116001016"),
                    ("registered_on", "2014-01-01"),
                ],
            )
            .await;
        accepted("application", &res);
        let id = id_from(&res);
        let uri = format!("/applications/{id}/documents");
        let res = cut_short(&applicant, &uri).await;
        refused_in_chinese(&uri, &res, None);
        assert!(res.body.contains("不完整"), "{uri}: {}", res.body);
        for name in &names {
            let res = applicant
                .post_file(
                    &format!("/applications/{id}/documents"),
                    &[("doc_type", "charter")],
                    ("file", name, b"%PDF-1.4\n% hostile\n"),
                )
                .await;
            if res.status != StatusCode::SEE_OTHER {
                refused_in_chinese(name, &res, None);
            }
        }
        let page = applicant.get(&format!("/applications/{id}")).await;
        let docs: Vec<i64> = {
            let mut c = t.db.acquire().await.unwrap();
            let rows: Vec<(i64, String)> =
                Sql::new("select id, filename from attachments where application_id = $1")
                    .arg(id)
                    .fetch_all(&mut c.conn())
                    .await
                    .unwrap();
            for (_, filename) in &rows {
                assert!(
                    !filename.contains('/')
                        && !filename.contains('\\')
                        && !filename.chars().any(char::is_control)
                        && filename.chars().count() <= 100,
                    "stored as {filename:?}"
                );
            }
            rows.into_iter().map(|(id, _)| id).collect()
        };
        assert!(docs.len() >= 3, "the plain ones are kept: {}", page.body);
        for doc in docs {
            let res = applicant
                .get(&format!("/applications/{id}/documents/{doc}"))
                .await;
            assert_eq!(res.status, StatusCode::OK);
            let disposition = res.headers["content-disposition"].to_str().unwrap();
            let name = disposition
                .strip_prefix("attachment; filename*=UTF-8''")
                .unwrap_or_else(|| panic!("{disposition}"));
            assert!(
                !name.contains(['"', '/', '\\', '\r', '\n', ';', ' ']),
                "{disposition}"
            );
        }
        for raw in ["../", "..\\"] {
            assert!(
                !page.body.contains(&format!("{raw}{marker}")),
                "{}",
                page.body
            );
        }
        // Nothing was written outside the store, and inside it only files named by their hash.
        let cwd = std::env::current_dir().unwrap();
        let near = written_near(
            &[std::env::temp_dir(), cwd, store.path().join("documents")],
            &marker,
        );
        assert!(near.is_empty(), "written outside: {near:?}");
        let mut stack = vec![store.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let rel = path
                    .strip_prefix(store.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let parts: Vec<&str> = rel.split('/').collect();
                assert!(
                    parts.len() == 3
                        && parts[0] == "documents"
                        && parts[2].len() == 64
                        && parts[2].starts_with(parts[1])
                        && parts[2].bytes().all(|b| b.is_ascii_hexdigit()),
                    "a file not named by its hash: {rel}"
                );
            }
        }
    }
);
