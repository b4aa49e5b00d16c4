//! What people do with shezu, done in a real browser against a real server: each journey opens
//! the pages a person would, types and clicks as they would, and checks what they would see.

use super::site::{Site, accessibility_violations, assert_fits_width, sign_in};
use super::webdriver::{Browser, keys};
use crate::common::TestDb;
use crate::db_test;
use serde_json::json;
use shezu::db::Sql;
use shezu::i18n::Lang;

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

/// The number in `#total` (results of a list or directory page).
fn total(browser: &Browser) -> i64 {
    let text = browser.text("#total").replace(',', "");
    text.parse()
        .unwrap_or_else(|_| panic!("#total is not a number: {text:?}"))
}

/// The flash message the last redirect left.
fn flash(browser: &Browser) -> String {
    browser.text(".flash")
}

db_test!(
    a_member_of_the_public_searches_and_opens_a_profile,
    |t| async move {
        let Some(site) = Site::start(t) else { return };
        let browser = site.browser();
        browser.goto("/");
        assert_eq!(
            browser.find("html").attribute("lang").as_deref(),
            Some("zh-CN")
        );
        site.shot(&browser, "portal-home");

        // The home page's search box, as a visitor uses it: type, press Enter.
        browser.find("#q").click();
        browser.type_text("养老");
        browser.press(keys::ENTER);
        browser.wait_until("the directory shows the results", |b| {
            b.path().starts_with("/orgs")
        });
        let found = total(&browser);
        assert!(
            found > 0 && found < 2355,
            "养老 should narrow the directory: {found}"
        );
        let names: Vec<String> = browser
            .find_all(".org-card h3 a")
            .iter()
            .map(|a| a.text())
            .collect();
        assert!(!names.is_empty());
        assert!(
            names.iter().all(|n| n.contains("养老")),
            "every result on the first page names 养老: {names:?}"
        );
        site.shot(&browser, "portal-directory-search");

        // Live search (htmx) updates the results in place as the visitor edits the query.
        browser.find("#q").clear();
        browser.find("#q").send_keys("九九华龄");
        browser.wait_until("the live search narrows to one", |b| {
            b.text("#total") == "1"
        });
        assert!(
            browser.path().contains("q=%E4%B9%9D"),
            "the address follows the live search: {}",
            browser.path()
        );

        // Open the profile from the results.
        browser.find(".org-card h3 a").click();
        browser.wait_until("the profile opens", |b| b.exists("h1"));
        assert_eq!(browser.text("h1"), "九九华龄居家养老服务中心");
        let facts = browser.text("main");
        assert!(
            facts.contains(Lang::Zh.t("portal.profile.facts")),
            "{facts}"
        );
        site.shot(&browser, "portal-profile");
    }
);

db_test!(
    an_establishment_goes_from_the_applicant_to_the_directory,
    |t| async move {
        let Some(site) = Site::start(t) else { return };
        let name = "滨海新区书香助学公益服务中心";
        let documents = tempfile::tempdir().unwrap();
        let pdf = documents.path().join("材料.pdf");
        std::fs::write(&pdf, b"%PDF-1.4\n% shezu browser journey\n").unwrap();

        // The applicant fills in the form, saves a draft, uploads the documents and submits.
        let applicant = site.browser();
        sign_in(&applicant, "shenqing");
        applicant.goto("/applications");
        applicant
            .find("a[href='/applications/new?kind=establishment']")
            .click();
        applicant.find("#f-name").send_keys(name);
        applicant.find("#f-kind").select("private_non_enterprise");
        applicant.find("#f-domain").select("charity");
        applicant.find("#f-direct_registration").click();
        applicant.find("#f-area_code").send_keys("120116001016");
        applicant.find("#f-legal_representative").send_keys("韩梅");
        applicant
            .find("#f-registered_capital_yuan")
            .send_keys("30000");
        applicant
            .find("#f-address")
            .send_keys("天津市滨海新区塘沽街道紫云园社区文化路8号");
        applicant.find("input[name=charter_party_clause]").click();
        site.shot(&applicant, "apply-establishment-form");
        applicant.find("form.org-form button[type=submit]").click();
        applicant.wait_until("the draft is saved", |b| b.exists("#state"));
        assert_eq!(flash(&applicant), Lang::Zh.t("flash.application_saved"));
        let application = applicant.path();

        let required = [
            "application_letter",
            "charter",
            "address_proof",
            "capital_proof",
            "head_id",
        ];
        for (uploaded, doc) in required.into_iter().enumerate() {
            applicant.find("select[name=doc_type]").select(doc);
            applicant
                .find("input[type=file][name=file]")
                .send_keys(&pdf.display().to_string());
            applicant
                .find("form[enctype='multipart/form-data'] button[type=submit]")
                .click();
            applicant.wait_until("the upload is listed", |b| {
                b.find_all("#documents li").len() == uploaded + 1
            });
            assert_eq!(flash(&applicant), Lang::Zh.t("flash.document_added"));
        }
        assert_eq!(applicant.find_all("#documents li").len(), 5);
        assert!(!applicant.exists("#missing"), "nothing is missing any more");
        applicant
            .find("form:has(input[name=action][value=submit]) button")
            .click();
        applicant.wait_until("the application is submitted", |b| {
            b.text("#state") == Lang::Zh.t("application.state.submitted")
        });
        site.shot(&applicant, "apply-submitted");

        // The service window finds it in the queue and accepts it.
        let window = site.browser();
        sign_in(&window, "window");
        window.goto("/admin/applications");
        window
            .find("a[href='/admin/applications?queue=unowned']")
            .click();
        window.wait_until("the unowned queue opens", |b| {
            b.path().ends_with("queue=unowned")
        });
        site.shot(&window, "admin-application-queue");
        window.find(&format!("td a[href='{application}']")).click();
        window
            .find("form:has(input[name=action][value=accept]) button")
            .click();
        window.wait_until("the window has accepted it", |b| {
            b.text("#state") == Lang::Zh.t("application.state.accepted")
        });

        // The registrar reviews and approves it.
        let registrar = site.browser();
        sign_in(&registrar, "registrar");
        registrar.goto(&application);
        for (action, state) in [("start_review", "under_review"), ("approve", "approved")] {
            registrar
                .find(&format!(
                    "form:has(input[name=action][value={action}]) button"
                ))
                .click();
            let expected = Lang::Zh.t(&format!("application.state.{state}"));
            registrar.wait_until(&format!("the application is {state}"), |b| {
                b.text("#state") == expected
            });
        }
        site.shot(&registrar, "admin-application-approved");

        // Anyone can now find it in the directory and open its profile with its new credit code.
        let visitor = site.browser();
        visitor.goto(&format!("/orgs?q={}", shezu::web::percent_encode(name)));
        assert_eq!(total(&visitor), 1);
        visitor.find(".org-card h3 a").click();
        visitor.wait_until("the profile opens", |b| b.exists("h1"));
        assert_eq!(visitor.text("h1"), name);
        let uscc = count(
        t,
        &format!("select count(*) from organizations where name = '{name}' and status = 'active' and uscc like '52%'"),
    )
    .await;
        assert_eq!(
            uscc, 1,
            "registered with a private non-enterprise credit code"
        );
        site.shot(&visitor, "portal-new-organization");
    }
);

db_test!(a_street_officer_sees_only_their_street, |t| async move {
    let Some(site) = Site::start(t) else { return };
    let officer = site.browser();
    sign_in(&officer, "tanggu");
    officer.goto("/admin/orgs");
    let in_street = count(
        t,
        "select count(*) from organizations o join area_closure c on c.descendant_id = o.area_id \
         join areas a on a.id = c.ancestor_id where a.code = '120116001'",
    )
    .await;
    assert!(in_street > 0);
    assert_eq!(
        total(&officer),
        in_street,
        "the list counts Tanggu's organizations only"
    );
    let options: Vec<String> = officer
        .find_all("select[name=area] option")
        .iter()
        .skip(1)
        .map(|o| o.attribute("value").unwrap_or_default())
        .collect();
    assert!(
        !options.is_empty() && options.iter().all(|code| code.starts_with("120116001")),
        "the area filter offers Tanggu and its communities only: {options:?}"
    );
    site.shot(&officer, "admin-street-officer-list");

    // An organization of another street is not there for them, even by its address.
    let elsewhere = count(
        t,
        "select min(o.id) from organizations o join areas a on a.id = o.area_id \
         where a.code like '120116051%'",
    )
    .await;
    officer.goto(&format!("/admin/orgs/{elsewhere}"));
    let heading = officer.text("h1");
    assert!(
        heading.starts_with("404") || heading.starts_with("403"),
        "a Dagang organization opened for the Tanggu officer: {heading}"
    );
    officer.goto(&format!("/admin/orgs/{elsewhere}/edit"));
    assert!(!officer.exists("form.org-form"), "and cannot be edited");

    // Their network page opens on their street, with its communities to drill into.
    officer.goto("/admin/network");
    assert!(
        officer.text("h1").contains("塘沽街道"),
        "{}",
        officer.text("h1")
    );
    assert!(officer.find_all("#network tbody tr[data-code]").len() > 5);
    site.shot(&officer, "admin-network-street");
});

db_test!(the_statistics_page_shows_the_seed_figures, |t| async move {
    let Some(site) = Site::start(t) else { return };
    let browser = site.browser();
    browser.goto("/stats");
    let figures = browser.execute(
        "return Object.fromEntries([...document.querySelectorAll('dl.figures')[0].querySelectorAll(':scope > div')]
           .map(d => [d.querySelector('dt').innerText.trim(), d.querySelector('dd').innerText.trim()]));",
        json!([]),
    );
    // SPEC §4: the district at the end of 2014, counted from the demo's records.
    for (key, value) in [
        ("stats.total", "2355"),
        ("stats.registered", "624"),
        ("kind.social_group", "326"),
        ("kind.private_non_enterprise", "297"),
        ("kind.foundation", "1"),
        ("kind.community", "1731"),
        ("stats.direct", "15"),
    ] {
        let label = Lang::Zh.t(key);
        assert_eq!(
            figures[label]
                .as_str()
                .map(|v| v.replace(',', ""))
                .as_deref(),
            Some(value),
            "{label} on /stats: {figures}"
        );
    }
    // The year's aggregates follow, without links to records.
    assert_eq!(browser.text("#fig-party_orgs_independent dd .value"), "214");
    assert!(
        browser
            .find_all("a[href^='/admin/stats/drill/']")
            .is_empty()
    );
    // The charts are drawn and carry their numbers as text, not colour alone.
    assert!(browser.find_all("figure.chart-box svg").len() >= 3);
    assert!(browser.find_all("figure.chart-box table").len() >= 3);
    site.shot(&browser, "portal-statistics");

    // Staff: the desk shows the same year's figures, and a figure opens the records behind it.
    sign_in(&browser, "registrar");
    browser.goto("/admin/stats?year=2014");
    assert_eq!(
        browser
            .text("#fig-party_orgs_independent dd a")
            .replace(',', ""),
        "214"
    );
    assert_eq!(
        browser.text("#fig-venture_funded dd a").replace(',', ""),
        "32"
    );
    assert!(browser.find_all("figure.chart-box svg").len() >= 3);
    site.shot(&browser, "admin-stats-desk");
    browser.find("#fig-party_orgs_independent dd a").click();
    browser.wait_until("the drill-down opens", |b| {
        b.path()
            .starts_with("/admin/stats/drill/party_orgs_independent?")
    });
    assert_eq!(browser.text("#figure-value"), "214");
    assert_eq!(browser.find_all("table.report tbody tr").len(), 214);
    site.shot(&browser, "admin-stats-drill");
    browser.goto("/admin/stats/reports/organizations?year=2014");
    assert!(browser.find_all("table.report").len() >= 3);
    site.shot(&browser, "admin-stats-report");
});

db_test!(
    the_language_switch_changes_and_keeps_the_language,
    |t| async move {
        let Some(site) = Site::start(t) else { return };
        let browser = site.browser();
        browser.goto("/orgs");
        assert_eq!(
            browser.find("html").attribute("lang").as_deref(),
            Some("zh-CN")
        );
        browser.find(".account a[lang=en]").click();
        browser.wait_until("the page is in English", |b| {
            b.find("html").attribute("lang").as_deref() == Some("en")
        });
        let nav = browser.text("header nav");
        assert!(nav.contains(Lang::En.t("nav.directory")), "{nav}");
        assert!(
            !nav.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "no Chinese left in the English navigation: {nav}"
        );
        // The choice stays for the next pages, and Chinese search still works in English.
        browser.find("header nav a[href='/stats']").click();
        browser.wait_until("the statistics page opens", |b| b.path() == "/stats");
        assert_eq!(
            browser.find("html").attribute("lang").as_deref(),
            Some("en")
        );
        assert!(browser.text("h1").starts_with(Lang::En.t("stats.title")));
        site.shot(&browser, "portal-statistics-en");
        browser.goto("/orgs?q=%E5%85%BB%E8%80%81");
        assert!(total(&browser) > 0);
        site.shot(&browser, "portal-directory-en");
        browser.find(".account a[lang=zh-CN]").click();
        browser.wait_until("the page is in Chinese again", |b| {
            b.find("html").attribute("lang").as_deref() == Some("zh-CN")
        });
        assert!(
            browser
                .text("header nav")
                .contains(Lang::Zh.t("nav.directory"))
        );
    }
);

db_test!(
    the_portal_and_an_organizations_pages_fit_a_phone,
    |t| async move {
        let Some(site) = Site::start(t) else { return };
        let phone = site.phone();
        for (path, shot) in [
            ("/", Some("phone-home")),
            ("/orgs?q=%E5%85%BB%E8%80%81", Some("phone-directory")),
            ("/stats", None),
            ("/notices", None),
            ("/consult", Some("phone-consult")),
            ("/login", None),
        ] {
            phone.goto(path);
            assert_fits_width(&phone);
            if let Some(name) = shot {
                site.shot(&phone, name);
            }
        }
        phone.goto("/orgs?q=%E5%85%BB%E8%80%81");
        phone.find(".org-card h3 a").click();
        phone.wait_until("the profile opens", |b| b.path().starts_with("/orgs/"));
        assert_fits_width(&phone);
        site.shot(&phone, "phone-profile");

        // The organization's own pages, signed in on the phone.
        sign_in(&phone, "aizhisheng");
        for (path, shot) in [
            ("/applications", Some("phone-org-applications")),
            (
                "/applications/new?kind=change",
                Some("phone-org-change-form"),
            ),
            ("/reports", Some("phone-org-annual-reports")),
            ("/reports/2014", None),
            ("/account", None),
        ] {
            phone.goto(path);
            assert_fits_width(&phone);
            if let Some(name) = shot {
                site.shot(&phone, name);
            }
        }
    }
);

db_test!(
    the_consultation_form_can_be_completed_with_the_keyboard_alone,
    |t| async move {
        let Some(site) = Site::start(t) else { return };
        let browser = site.browser();
        browser.goto("/consult");
        let answers = [
            ("q-name", "王女士"),
            ("q-contact", "13800000000"),
            ("q-question", "社区社会组织备案需要哪些材料？"),
        ];
        let mut filled = Vec::new();
        // Tab from the top of the page, typing into each field the focus reaches, until the focus
        // reaches the form's button; Enter sends it. No clicks.
        for _ in 0..80 {
            browser.press(keys::TAB);
            let focused = browser.execute(
            "const e = document.activeElement; const s = getComputedStyle(e);
             return [e.id, e.tagName.toLowerCase(), e.type || '', e.closest('form') ? e.closest('form').getAttribute('action') : '',
                     s.outlineStyle !== 'none' || s.boxShadow !== 'none'];",
            json!([]),
        );
            let id = focused[0].as_str().unwrap_or_default();
            if focused[3] == "/consult" {
                assert!(
                    focused[4] == true,
                    "the focused {} shows no focus indicator",
                    focused[1]
                );
            }
            if let Some((_, text)) = answers.iter().find(|(field, _)| *field == id) {
                browser.type_text(text);
                filled.push(id.to_owned());
            } else if focused[1] == "button" && focused[3] == "/consult" {
                site.shot(&browser, "portal-consult-keyboard");
                browser.press(keys::ENTER);
                break;
            }
        }
        assert_eq!(
            filled,
            ["q-name", "q-contact", "q-question"],
            "tab order reaches every field in order"
        );
        browser.wait_until("the question is sent", |b| b.exists(".flash"));
        assert_eq!(flash(&browser), Lang::Zh.t("flash.question_asked"));
        assert_eq!(
            count(
                t,
                "select count(*) from consultations where name = '王女士'"
            )
            .await,
            1
        );
    }
);

db_test!(
    the_directory_and_forms_work_without_javascript,
    |t| async move {
        let Some(site) = Site::start(t) else { return };
        let browser = site.without_javascript();
        browser.goto("/orgs");
        browser.find("#q").send_keys("养老");
        browser.find("#q").send_keys(keys::ENTER);
        browser.wait_until("the search form is sent", |b| b.path().contains("q="));
        let found = total(&browser);
        assert!(found > 0 && found < 2355, "{found}");
        // A facet is a plain link.
        let facet = browser.find(".facet a");
        let href = facet.attribute("href").unwrap_or_default();
        facet.click();
        browser.wait_until("the facet applies", |b| b.path() == href);
        assert!(total(&browser) <= found);
        // A form post carries its CSRF token in the HTML.
        browser.goto("/consult");
        browser.find("#q-name").send_keys("李先生");
        browser
            .find("#q-contact")
            .send_keys("lixiansheng@example.cn");
        browser.find("#q-question").send_keys("如何申请公益创投？");
        browser
            .find("form[action='/consult'] button[type=submit]")
            .click();
        browser.wait_until("the question is sent", |b| b.exists(".flash"));
        assert_eq!(flash(&browser), Lang::Zh.t("flash.question_asked"));

        // A signed-in form: the page must carry the session's CSRF token for the save to pass.
        sign_in(&browser, "registrar");
        browser.goto("/admin/orgs?q=%E7%88%B1%E4%B9%8B%E5%A3%B0");
        browser.find("tbody a").click();
        browser.find("a[href$='/edit']").click();
        browser.find("#f-contact_phone").clear();
        browser.find("#f-contact_phone").send_keys("022-25861234");
        browser.find("form.org-form button[type=submit]").click();
        browser.wait_until("the change is saved", |b| b.exists(".flash"));
        assert_eq!(flash(&browser), Lang::Zh.t("flash.org_updated"));
        assert_eq!(
            count(
                t,
                "select count(*) from organizations where contact_phone = '022-25861234'"
            )
            .await,
            1
        );
    }
);

db_test!(
    the_main_pages_have_no_serious_accessibility_violations,
    |t| async move {
        let Some(site) = Site::start(t) else { return };
        let browser = site.browser();
        let mut found = Vec::new();
        let mut check = |browser: &Browser, label: &str| {
            for v in accessibility_violations(browser) {
                found.push(format!("{label} ({}): {v}", browser.path()));
            }
        };
        for path in [
            "/",
            "/orgs",
            "/orgs?q=%E5%85%BB%E8%80%81&kind=private_non_enterprise",
            "/consult",
            "/stats",
            "/notices",
            "/login",
            "/open-data",
        ] {
            browser.goto(path);
            check(&browser, path);
        }
        browser.goto("/orgs?q=%E5%85%BB%E8%80%81");
        browser.find(".org-card h3 a").click();
        browser.wait_until("the profile opens", |b| b.path().starts_with("/orgs/"));
        check(&browser, "profile");

        sign_in(&browser, "registrar");
        browser.goto("/admin/orgs");
        check(&browser, "back-office list");
        site.shot(&browser, "admin-registry-list");
        browser.find("tbody a").click();
        browser.wait_until("the record opens", |b| b.exists("a[href$='/edit']"));
        check(&browser, "back-office record");
        browser.find("a[href$='/edit']").click();
        browser.wait_until("the edit form opens", |b| b.exists("form.org-form"));
        check(&browser, "back-office edit");
        site.shot(&browser, "admin-registry-edit");
        for path in [
            "/admin/applications",
            "/admin/consultations",
            "/admin/notices",
            "/admin/reports",
            "/admin/credit",
            "/admin/network",
            "/admin/network?area=120116001",
            "/admin/liaison-points?area=120116001",
            "/admin/stats?year=2014",
            "/admin/stats/drill/social_groups?year=2014",
            "/admin/stats/reports/organizations?year=2014",
            "/account",
        ] {
            browser.goto(path);
            check(&browser, path);
        }
        browser.clear_cookies();
        sign_in(&browser, "shenqing");
        browser.goto("/applications/new?kind=establishment");
        check(&browser, "application form");
        assert!(
            found.is_empty(),
            "serious accessibility violations:\n{}",
            found.join("\n")
        );
    }
);

db_test!(
    an_organization_files_its_annual_report_and_staff_review_it,
    |t| async move {
        let Some(site) = Site::start(t) else { return };
        // The business year moves on to spring 2016: the 2015 reports are due by 31 May.
        crate::inspection::set_clock(t, "2016-04-01").await;
        let secretary = site.browser();
        sign_in(&secretary, "aizhisheng");
        secretary.goto("/reports");
        let reminders = secretary.text("#reminders");
        assert!(reminders.contains("2015"), "{reminders}");
        site.shot(&secretary, "org-annual-reports");
        secretary.find("a[href='/reports/2015']").click();
        for (field, value) in [
            ("income_donations", "86000"),
            ("income_government", "120000"),
            ("expenditure_programmes", "150000"),
            ("expenditure_total", "180000"),
            ("assets", "95000"),
            ("liabilities", "5000"),
            ("staff", "4"),
            ("members", "165"),
            ("volunteers", "320"),
        ] {
            secretary.find(&format!("#r-{field}")).send_keys(value);
        }
        secretary
            .find("#r-activities")
            .send_keys("资助困难学生86名，开展助学志愿活动24次。");
        secretary
            .find("#r-party_building")
            .send_keys("党员3名，纳入联合党支部，按期开展三会一课。");
        site.shot(&secretary, "org-annual-report-form");
        secretary.find("form.org-form button[type=submit]").click();
        secretary.wait_until("the draft is saved", |b| b.exists(".flash"));
        assert_eq!(flash(&secretary), Lang::Zh.t("flash.report_saved"));
        secretary
            .find("form[action='/reports/2015/submit'] button")
            .click();
        secretary.wait_until("the report is filed", |b| b.path() == "/reports");
        assert_eq!(flash(&secretary), Lang::Zh.t("flash.report_submitted"));
        assert!(
            secretary
                .text("#years")
                .contains(Lang::Zh.t("filing.on_time"))
        );

        // The registrar finds it among the year's filings and records the result.
        let registrar = site.browser();
        sign_in(&registrar, "registrar");
        registrar.goto("/admin/reports?year=2015&filing=on_time");
        site.shot(&registrar, "admin-inspection-calendar");
        registrar
            .find_all("tbody a")
            .into_iter()
            .find(|a| a.text() == "爱之声公益助学联盟")
            .expect("the filed report is listed")
            .click();
        registrar.find("#v-decision").select("basic_pass");
        registrar
            .find("#v-reasons")
            .send_keys("未按章程按期召开会员大会，限期整改。");
        site.shot(&registrar, "admin-annual-report-review");
        registrar.find("form[action$='/review'] button").click();
        registrar.wait_until("the result is recorded", |b| b.exists("#result"));
        assert_eq!(
            registrar.text("#result"),
            Lang::Zh.t("inspection.result.basic_pass")
        );

        // The result is public on the profile.
        let visitor = site.browser();
        visitor.goto("/orgs?q=%E7%88%B1%E4%B9%8B%E5%A3%B0");
        visitor.find(".org-card h3 a").click();
        visitor.wait_until("the profile opens", |b| b.exists("#reports"));
        let reports = visitor.text("#reports");
        assert!(
            reports.contains("2015")
                && reports.contains(Lang::Zh.t("inspection.result.basic_pass")),
            "{reports}"
        );
        site.shot(&visitor, "portal-profile-inspection");
    }
);

db_test!(
    an_expert_scores_a_proposal_and_cannot_open_a_conflicted_one,
    |t| async move {
        use crate::funding::{new_org, proposal, round_draft, user_id};
        use chrono::{NaiveDate, Utc};
        use shezu::audit::Actor;
        use shezu::funding::store;

        let Some(site) = Site::start(t) else { return };
        // The demo's rounds are all past 公示: a small new round with one proposal assigned to
        // venture_expert1, not yet declared.
        let expert = user_id(t, "venture_expert1").await;
        let org = new_org(t, "滨海新区旅程评审测试协会").await;
        let other_org = new_org(t, "滨海新区旅程回避测试协会").await;
        let office = Actor::system("test office");
        let on = NaiveDate::from_ymd_opt(2014, 4, 1).unwrap();
        let mut draft = round_draft(250_000, 900);
        draft.programme = "旅程测试公益创投".into();
        draft.title = "旅程测试公益创投轮次".into();
        let (assigned, conflicted) = {
            let mut tx = t.db.begin().await.unwrap();
            let c = &mut tx.conn();
            let rid = store::create_round(c, &office, Utc::now(), &draft)
                .await
                .unwrap();
            let round = store::get_round(c, rid).await.unwrap();
            let domain = store::domains(c, rid).await.unwrap()[0].0;
            let p = store::submit_proposal(
                c,
                &office,
                Utc::now(),
                &round,
                org,
                &proposal("社区长者关爱计划", domain, 80_000),
                on,
            )
            .await
            .unwrap();
            store::screen(c, &office, Utc::now(), p, true, "齐全")
                .await
                .unwrap();
            store::assign_expert(c, &office, Utc::now(), p, expert, on)
                .await
                .unwrap();
            // A second one, which the expert will declare a conflict on.
            let q = store::submit_proposal(
                c,
                &office,
                Utc::now(),
                &round,
                other_org,
                &proposal("青少年课后陪伴计划", domain, 60_000),
                on,
            )
            .await
            .unwrap();
            store::screen(c, &office, Utc::now(), q, true, "齐全")
                .await
                .unwrap();
            store::assign_expert(c, &office, Utc::now(), q, expert, on)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            (p.0, q.0)
        };
        // A demo proposal venture_expert1 was never assigned to.
        let elsewhere = count(
            t,
            &format!(
                "select min(id) from funding_proposals where id not in \
                 (select proposal_id from funding_assignments where expert_user_id = {})",
                expert.0
            ),
        )
        .await;
        assert!(elsewhere > 0);

        // The expert opens their queue and the new proposal from it.
        let browser = site.browser();
        sign_in(&browser, "venture_expert1");
        browser.goto("/expert/funding");
        assert_eq!(browser.text("h1"), Lang::Zh.t("funding.expert.title"));
        let link = format!("#queue a[href='/expert/funding/{assigned}']");
        assert_eq!(browser.text(&link), "社区长者关爱计划");
        browser.find(&link).click();
        browser.wait_until("the proposal opens", |b| {
            b.path() == format!("/expert/funding/{assigned}")
        });

        // Before the declaration the plan is hidden; they declare no conflict.
        assert!(!browser.exists("form[action$='/scores']"));
        assert!(
            !browser.text("main").contains("入户探访"),
            "no plan before the declaration"
        );
        browser
            .find("form[action$='/declare'] input[name=conflict][value=no]")
            .click();
        browser
            .find("form[action$='/declare'] button[type=submit]")
            .click();
        browser.wait_until("the scoring form appears", |b| {
            b.exists("form[action$='/scores']")
        });
        assert_eq!(flash(&browser), Lang::Zh.t("flash.funding_saved"));
        assert!(!browser.exists("form[action$='/declare']"));
        assert!(browser.text("main").contains("入户探访"), "the plan shows");

        // A score for every criterion of the rubric, typed into the form.
        let inputs = browser.find_all("form[action$='/scores'] input[inputmode=numeric]");
        assert_eq!(inputs.len(), 2, "the round's two criteria");
        for (input, score) in inputs.iter().zip(["8", "7"]) {
            input.clear();
            input.send_keys(score);
        }
        browser
            .find("form[action$='/scores'] button[type=submit]")
            .click();
        browser.wait_until("the scores are saved", |b| b.exists(".flash"));
        assert_eq!(flash(&browser), Lang::Zh.t("flash.funding_saved"));
        let shown: Vec<String> = browser
            .find_all("form[action$='/scores'] input[inputmode=numeric]")
            .iter()
            .map(|i| i.attribute("value").unwrap_or_default())
            .collect();
        assert_eq!(shown, ["8", "7"], "the saved scores are shown");
        let saved = count(
            t,
            &format!(
                "select cast(coalesce(sum(s.score), 0) as bigint) from funding_scores s \
                 join funding_assignments a on a.id = s.assignment_id \
                 where a.proposal_id = {assigned} and a.expert_user_id = {}",
                expert.0
            ),
        )
        .await;
        assert_eq!(saved, 15);
        browser.goto("/expert/funding");
        assert!(
            browser
                .text(&format!(
                    "#queue li:has(a[href='/expert/funding/{assigned}'])"
                ))
                .ends_with(Lang::Zh.t("funding.expert.scored")),
            "the queue shows it scored"
        );
        browser.goto(&format!("/expert/funding/{assigned}"));
        site.shot(&browser, "expert-proposal-score");

        // The other one they declare a conflict on, through the same form: they are recused and
        // the proposal no longer opens for them.
        browser.goto(&format!("/expert/funding/{conflicted}"));
        assert!(!browser.exists("form[action$='/scores']"));
        browser
            .find("form[action$='/declare'] input[name=conflict][value=yes]")
            .click();
        browser.find("#d-note").send_keys("曾为该机构提供督导服务");
        browser
            .find("form[action$='/declare'] button[type=submit]")
            .click();
        browser.wait_until("back at the queue", |b| b.path() == "/expert/funding");
        assert!(
            browser
                .text(&format!(
                    "#queue li:has(a[href='/expert/funding/{conflicted}'])"
                ))
                .ends_with(Lang::Zh.t("funding.expert.recused")),
            "the queue shows them recused"
        );
        let denied = count(t, "select count(*) from audit_log where action = 'denied'").await;
        browser.goto(&format!("/expert/funding/{conflicted}"));
        let heading = browser.text("h1");
        assert!(
            heading.starts_with("403"),
            "a recused proposal opened for the expert: {heading}"
        );
        assert!(!browser.text("main").contains("入户探访"));

        // A proposal they are not assigned to is not there for them, even by its address.
        browser.goto(&format!("/expert/funding/{elsewhere}"));
        let heading = browser.text("h1");
        assert!(
            heading.starts_with("404"),
            "an unassigned proposal opened for the expert: {heading}"
        );
        assert!(!browser.exists("form[action$='/scores']"));
        assert!(!browser.exists("form[action$='/declare']"));
        assert_eq!(
            count(t, "select count(*) from audit_log where action = 'denied'").await,
            denied + 2,
            "both refusals are audited"
        );
        site.shot(&browser, "expert-proposal-refused");
    }
);
