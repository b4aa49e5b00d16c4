//! `shezu import annual-reports | volunteer-services | donations`: the registry import's
//! machinery for the records organizations keep. On both databases: every bad row reported and
//! nothing written, the same file twice changes nothing, rows outside the importer's scope are
//! refused, each row goes through its module's own rules (24 hours a day, a submitted report
//! is not overwritten), the audit chain still verifies; and the command line once.

use crate::common::TestDb;
use crate::db_test;
use crate::registry::load_areas;
use shezu::areas::AreaId;
use shezu::audit::Actor;
use shezu::audit::store::{ChainCheck, verify};
use shezu::auth::Scope;
use shezu::db::Sql;
use shezu::i18n::Lang;
use shezu::imports::{ImportKind, Importer};
use shezu::registry::import::{ImportError, ImportSummary, import_organizations};
use shezu::registry::uscc::Uscc;
use std::io::Cursor;

/// A private non-enterprise unit's code with this serial.
fn code(serial: u32) -> String {
    Uscc::generate('2', "120116", serial).as_str().to_owned()
}

/// A resident ID number (GB 11643) born 1960-01-01 with sequence `seq`, its check character
/// computed.
fn id_number(seq: u32) -> String {
    let body = format!("12011619600101{:03}", seq % 1000);
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// Two registered units (塘沽街道 and 杭州道街道) and a filed community group.
async fn load_orgs(t: &TestDb) {
    load_areas(t).await;
    let file = format!(
        "统一社会信用代码,名称,组织类型,业务领域,所在区域,状态,登记（备案）日期,法定代表人（负责人）,业务主管单位,住所\n\
         {},滨海新区夕阳红助老服务中心,民办非企业单位,养老服务,120116001016,正常,2013-03-01,李明,滨海新区民政局,紫云园小区\n\
         {},杭州道青少年成长服务社,民办非企业单位,养老服务,120116005,正常,2012-06-01,王强,滨海新区民政局,杭州道\n\
         ,紫云园社区书画社,社区社会组织,文化,120116001016,正常,2014-08-01,,,\n",
        code(21),
        code(22)
    );
    import_organizations(
        &t.db,
        &Actor::system("test"),
        Cursor::new(file.into_bytes()),
        &mut |_| {},
    )
    .await
    .unwrap();
}

async fn import(
    t: &TestDb,
    kind: ImportKind,
    scope: &Scope,
    file: &str,
) -> Result<ImportSummary, ImportError> {
    let actor = Actor::system("test");
    let importer = Importer {
        actor: &actor,
        scope,
        verify_hours: true,
    };
    kind.import(
        &t.db,
        &importer,
        Cursor::new(file.as_bytes().to_vec()),
        &mut |_| {},
        chrono::Utc::now(),
    )
    .await
}

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut c = t.db.acquire().await.unwrap();
    Sql::new(sql).fetch_i64(&mut c.conn()).await.unwrap()
}

/// Rows of every table an import may write, and the audit entries.
async fn footprint(t: &TestDb) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "donations",
        "volunteers",
        "volunteer_services",
        "annual_reports",
        "audit_log",
    ] {
        out.push(count(t, &format!("select count(*) from {table}")).await);
    }
    out
}

/// The errors of a refused import as `line · field · problem` in Chinese.
fn refused(result: Result<ImportSummary, ImportError>) -> Vec<String> {
    match result {
        Err(ImportError::Invalid(errors)) => errors.iter().map(|e| e.render(Lang::Zh)).collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn chain_intact(t: &TestDb) {
    let mut c = t.db.acquire().await.unwrap();
    assert!(matches!(
        verify(&mut c.conn()).await.unwrap(),
        ChainCheck::Intact(_)
    ));
}

const DONATIONS_HEADER: &str = "组织（统一社会信用代码或名称）,方向,捐赠方 / 受赠方,对方类别,服务项目,类别,物资说明,金额或估值（元）,捐赠日期,用途";

db_test!(donations_import_once_and_refuse_bad_rows, |t| async move {
    load_orgs(t).await;
    let file = format!(
        "{DONATIONS_HEADER}\n\
         {a},募集,天津港集团,单位,重阳敬老,资金,,50000,2014-10-02,老年人助餐\n\
         {a_lower},received,王芳,individual,,goods,轮椅10台,8000.50,2014-11-01,助残\n\
         紫云园社区书画社,捐出,紫云园社区居委会,organization,,money,,1200,2014-09-09,社区文化活动\n",
        a = code(21),
        a_lower = code(21).to_lowercase(),
    );
    let before = footprint(t).await;
    let first = import(t, ImportKind::Donations, &Scope::All, &file)
        .await
        .unwrap();
    assert_eq!((first.rows, first.created, first.unchanged), (3, 3, 0));
    let after = footprint(t).await;
    assert_eq!(after[0], before[0] + 3);
    assert_eq!(after[4], before[4] + 3, "one audit entry per donation");
    let received = count(t, "select cast(coalesce(sum(amount_fen), 0) as bigint) from donations where direction = 'received'").await;
    assert_eq!(received, 5_000_000 + 800_050);

    // The same file again: nothing new, nothing audited.
    let second = import(t, ImportKind::Donations, &Scope::All, &file)
        .await
        .unwrap();
    assert_eq!((second.created, second.unchanged), (0, 3));
    assert_eq!(footprint(t).await, after);

    // Bad rows: every one reported with its line and column, nothing written.
    let bad = format!(
        "{DONATIONS_HEADER}\n\
         {a},募集,天津港集团,单位,,资金,,-5,2014-10-02,助餐\n\
         {unknown},募集,王芳,个人,,资金,,100,2014-10-02,助餐\n\
         {a},sideways,王芳,个人,,资金,,100,2014-10-02,助餐\n\
         {a},募集,王芳,个人,,物资,,100,2014-10-02,助餐\n\
         {a},募集,新捐赠人,个人,,资金,,100,2014-10-02,助餐\n\
         {a},募集,新捐赠人,个人,,资金,,100,2014-10-02,助餐\n",
        a = code(21),
        unknown = code(99),
    );
    let errors = refused(import(t, ImportKind::Donations, &Scope::All, &bad).await);
    let has = |prefix: &str| errors.iter().any(|e| e.starts_with(prefix));
    assert!(has("第 2 行 · 金额或估值（元） · "), "{errors:?}");
    assert!(
        has("第 3 行 · 组织（统一社会信用代码或名称） · 登记库中没有"),
        "{errors:?}"
    );
    assert!(has("第 4 行 · 方向 · "), "{errors:?}");
    assert!(has("第 5 行 · 物资说明 · "), "{errors:?}");
    assert!(has("第 7 行 · 整行 · 与第 6 行是同一条记录"), "{errors:?}");
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert_eq!(footprint(t).await, after, "a refused file writes nothing");

    // Scope: a 杭州道街道 official may import for the unit there, not for 塘沽街道's.
    let street = {
        let mut c = t.db.acquire().await.unwrap();
        shezu::areas::store::find_by_code(&mut c.conn(), "120116005")
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let scope = Scope::Limited {
        areas: vec![AreaId(street)],
        orgs: vec![],
    };
    let mixed = format!(
        "{DONATIONS_HEADER}\n\
         {b},募集,某公司,单位,,资金,,300,2014-10-02,助学\n\
         {a},募集,某公司,单位,,资金,,300,2014-10-02,助学\n",
        a = code(21),
        b = code(22),
    );
    let errors = refused(import(t, ImportKind::Donations, &scope, &mixed).await);
    assert_eq!(
        errors,
        vec!["第 3 行 · 组织（统一社会信用代码或名称） · 这个组织不在您的管辖范围内。".to_owned()]
    );
    assert_eq!(footprint(t).await, after);
    let only_b = mixed.lines().take(2).collect::<Vec<_>>().join("\n");
    let ok = import(t, ImportKind::Donations, &scope, &only_b)
        .await
        .unwrap();
    assert_eq!(ok.created, 1);
    chain_intact(t).await;
});

const SERVICES_HEADER: &str = "组织（统一社会信用代码或名称）,姓名,身份证号,性别,联系电话,服务项目,服务领域,服务日期,服务时长（小时）,状态";

db_test!(
    volunteer_services_register_volunteers_and_walk_the_chain,
    |t| async move {
        load_orgs(t).await;
        let a = code(21);
        let (p1, p2, p3) = (id_number(1), id_number(2), id_number(3));
        let file = |second_state: &str| {
            format!(
                "{SERVICES_HEADER}\n\
                 {a},张三,{p1},男,13800000000,助餐送餐,助老服务,2014-10-01,3,已核实\n\
                 {a},张三,{p1},男,13800000000,陪伴聊天,elderly_care,2014-10-01,2.5,{second_state}\n\
                 {a},李四,{p2},女,,助餐送餐,助老服务,2014-10-01,4,组织已确认\n"
            )
        };
        let first = import(t, ImportKind::VolunteerServices, &Scope::All, &file(""))
            .await
            .unwrap();
        assert_eq!((first.created, first.updated, first.unchanged), (3, 0, 0));
        assert_eq!(count(t, "select count(*) from volunteers").await, 2);
        let by_state = |state: &'static str| {
            format!(
                "select cast(coalesce(sum(tenth_hours), 0) as bigint) from volunteer_services where state = '{state}'"
            )
        };
        assert_eq!(count(t, &by_state("verified")).await, 30);
        assert_eq!(count(t, &by_state("recorded")).await, 25);
        assert_eq!(count(t, &by_state("confirmed")).await, 40);
        // The ID number is kept only hashed and masked.
        assert_eq!(
            count(
                t,
                &format!(
                    "select count(*) from volunteers where id_masked like '%{}%'",
                    &p1[6..14]
                )
            )
            .await,
            0
        );

        let after = footprint(t).await;
        let again = import(t, ImportKind::VolunteerServices, &Scope::All, &file(""))
            .await
            .unwrap();
        assert_eq!((again.created, again.unchanged), (0, 3));
        assert_eq!(
            footprint(t).await,
            after,
            "the same file twice changes nothing"
        );

        // A later file says the second record is verified now: two steps, audited.
        let later = import(
            t,
            ImportKind::VolunteerServices,
            &Scope::All,
            &file("已核实"),
        )
        .await
        .unwrap();
        assert_eq!((later.updated, later.unchanged), (1, 2));
        assert_eq!(count(t, &by_state("verified")).await, 55);
        assert_eq!(footprint(t).await[4], after[4] + 2);

        // Refused: a name that is not the registered one, different hours for a record
        // already there, and a new volunteer over 24 hours in a day (found while writing).
        let after = footprint(t).await;
        let bad = format!(
            "{SERVICES_HEADER}\n\
             {a},张叁,{p1},男,,助餐送餐,助老服务,2014-10-02,3,\n\
             {a},李四,{p2},女,,助餐送餐,助老服务,2014-10-01,5,\n\
             {a},王五,{p3},男,,应急值守,应急救援,2014-10-03,20,\n\
             {a},王五,{p3},男,,物资搬运,应急救援,2014-10-03,10,\n\
             {a},王五,{p3},男,,物资搬运,应急救援,2099-10-03,1,\n"
        );
        let errors = refused(import(t, ImportKind::VolunteerServices, &Scope::All, &bad).await);
        let has = |prefix: &str| errors.iter().any(|e| e.starts_with(prefix));
        assert!(has("第 6 行 · 服务日期 · "), "{errors:?}");
        assert_eq!(
            errors.len(),
            1,
            "the validation pass stops the file: {errors:?}"
        );
        let bad = bad.lines().take(5).collect::<Vec<_>>().join("\n");
        let errors = refused(import(t, ImportKind::VolunteerServices, &Scope::All, &bad).await);
        let has = |prefix: &str| errors.iter().any(|e| e.starts_with(prefix));
        assert!(has("第 2 行 · 姓名 · "), "{errors:?}");
        assert!(has("第 3 行 · 服务时长（小时） · "), "{errors:?}");
        assert!(has("第 5 行 · 服务时长（小时） · "), "{errors:?}");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(
            footprint(t).await,
            after,
            "nothing of a refused file is kept"
        );
        chain_intact(t).await;
    }
);

const REPORTS_HEADER: &str = "组织（统一社会信用代码或名称）,年度,捐赠收入,费用总额,公益事业支出,资产总额,负债总额,开展业务活动情况,党建工作情况,年检结论,意见及理由";

db_test!(
    annual_reports_are_submitted_reviewed_and_never_overwritten,
    |t| async move {
        load_orgs(t).await;
        let (a, b) = (code(21), code(22));
        let file = format!(
            "{REPORTS_HEADER}\n\
             {a},2013,50000,30000,20000,100000,20000,开展助老服务120场,成立党的工作小组,合格,\n\
             {b},2013,,1000,500,5000,,开展青少年活动,联合党支部,,\n"
        );
        let first = import(t, ImportKind::AnnualReports, &Scope::All, &file)
            .await
            .unwrap();
        assert_eq!(first.created, 2);
        let state = |code: String| {
            format!(
                "select count(*) from annual_reports r join organizations o on o.id = r.org_id where o.uscc = '{code}' and r.year = 2013 and r.state = "
            )
        };
        assert_eq!(
            count(
                t,
                &format!("{}'reviewed' and r.result = 'pass'", state(a.clone()))
            )
            .await,
            1
        );
        assert_eq!(
            count(t, &format!("{}'submitted'", state(b.clone()))).await,
            1
        );
        assert_eq!(
            count(t, "select cast(income_total_fen as bigint) from annual_reports where net_assets_fen = 8000000").await,
            5_000_000
        );

        let after = footprint(t).await;
        let again = import(t, ImportKind::AnnualReports, &Scope::All, &file)
            .await
            .unwrap();
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
        assert_eq!(footprint(t).await, after);

        // The result of the submitted one arrives in a later file.
        let reviewed = file.replace("联合党支部,,", "联合党支部,基本合格,财务制度不健全");
        let later = import(t, ImportKind::AnnualReports, &Scope::All, &reviewed)
            .await
            .unwrap();
        assert_eq!((later.updated, later.unchanged), (1, 1));
        assert_eq!(
            count(
                t,
                &format!("{}'reviewed' and r.result = 'basic_pass'", state(b.clone()))
            )
            .await,
            1
        );

        // Refused: a reviewed report with other figures, a community group, a year to come,
        // a fail without reasons.
        let after = footprint(t).await;
        let bad = format!(
            "{REPORTS_HEADER}\n\
             {a},2013,50000,30000,20000,999999,20000,开展助老服务120场,成立党的工作小组,合格,\n\
             紫云园社区书画社,2014,,,,,,书画展,无,,\n\
             {a},2099,,,,,,活动,党建,,\n\
             {b},2012,,,,,,活动,党建,不合格,\n"
        );
        let errors = refused(import(t, ImportKind::AnnualReports, &Scope::All, &bad).await);
        let has = |prefix: &str| errors.iter().any(|e| e.starts_with(prefix));
        assert!(
            has("第 3 行 · 组织（统一社会信用代码或名称） · 社区社会组织"),
            "{errors:?}"
        );
        assert!(has("第 4 行 · 年度 · "), "{errors:?}");
        assert!(has("第 5 行 · 意见及理由 · "), "{errors:?}");
        assert_eq!(errors.len(), 3, "{errors:?}");
        let locked = bad.lines().take(2).collect::<Vec<_>>().join("\n");
        let errors = refused(import(t, ImportKind::AnnualReports, &Scope::All, &locked).await);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("第 2 行 · 整行 · 这一年度的报告已审核"),
            "{errors:?}"
        );
        assert_eq!(footprint(t).await, after);
        chain_intact(t).await;
    }
);

db_test!(the_command_line_imports_each_kind, |t| async move {
    load_orgs(t).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("donations.csv");
    std::fs::write(
        &path,
        format!(
            "{DONATIONS_HEADER}\n{},募集,天津港集团,单位,,资金,,500,2014-10-02,助餐\n",
            code(22)
        ),
    )
    .unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_shezu"))
            .args(["import", "donations", path.to_str().unwrap()])
            .args(["--database", &t.url])
            .output()
            .unwrap()
    };
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("新增 1"), "{stdout}");
    let out = run();
    assert!(String::from_utf8_lossy(&out.stdout).contains("未变 1"));

    std::fs::write(
        &path,
        format!(
            "{SERVICES_HEADER}\n{},张三,{},男,,助餐,助老服务,2014-10-01,30,\n",
            code(22),
            id_number(7)
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shezu"))
        .args(["import", "volunteer-services", path.to_str().unwrap()])
        .args(["--database", &t.url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("第 2 行 · 服务时长（小时） · "), "{stderr}");
    assert!(stderr.contains("未写入任何数据"), "{stderr}");
});

db_test!(
    an_organization_uploads_its_own_volunteer_records,
    |t| async move {
        load_orgs(t).await;
        let (a, b) = (code(21), code(22));
        let app = t.app_as("org21", "org", None, Some(&a)).await;
        let desk = app.get("/admin/volunteers").await;
        assert!(
            desk.body
                .contains("href=\"/admin/imports/volunteer-services\"")
        );
        let form = app.get("/admin/imports/volunteer-services").await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(
            form.body
                .contains("/admin/imports/volunteer-services/template.xlsx")
        );
        let template = app
            .get("/admin/imports/volunteer-services/template.xlsx")
            .await;
        assert_eq!(template.status, 200);
        // Not theirs to import: annual reports (the bureau's reviewers) and the registry.
        assert_eq!(app.get("/admin/imports/annual-reports").await.status, 403);

        let upload = |csv: String| {
            let app = app.clone();
            async move {
                let res = app
                    .post_file(
                        "/admin/imports/volunteer-services",
                        &[],
                        ("file", "服务记录.csv", csv.as_bytes()),
                    )
                    .await;
                crate::upload::finished(&app, &res).await
            }
        };
        let p = id_number(4);
        // An organization cannot say its own records are verified, nor import for another.
        let (job, page) = upload(format!(
            "{SERVICES_HEADER}\n\
             {a},赵六,{p},女,,助餐送餐,助老服务,2014-10-01,2,已核实\n\
             {b},赵六,{p},女,,助餐送餐,助老服务,2014-10-01,2,\n"
        ))
        .await;
        assert!(
            page.body.contains("第 2 行 · 状态 · 您没有核实"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("第 3 行 · 组织（统一社会信用代码或名称） · 这个组织不在您的管辖范围内"),
            "{}",
            page.body
        );
        assert!(page.body.contains("未写入任何数据"));
        let errors = app.get(&format!("{job}/errors.xlsx")).await;
        assert_eq!(errors.status, 200);
        assert_eq!(count(t, "select count(*) from volunteers").await, 0);

        let (_, page) = upload(format!(
            "{SERVICES_HEADER}\n{a},赵六,{p},女,,助餐送餐,助老服务,2014-10-01,2,组织已确认\n"
        ))
        .await;
        assert!(page.body.contains("新增 1"), "{}", page.body);
        assert!(page.body.contains("href=\"/admin/volunteers\""));
        assert_eq!(
            count(
                t,
                "select count(*) from volunteer_services where state = 'confirmed'"
            )
            .await,
            1
        );
        // Another account cannot see the job.
        let other = t.app_as("registrar9", "registrar", None, None).await;
        assert_eq!(other.get(&job).await.status, 404);
    }
);
