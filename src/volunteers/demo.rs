//! The demo's volunteers, donations, service bases, brand figures and beneficiaries (SPEC §4):
//! the development-zone volunteer association's 3,000 volunteers in 11 service domains with
//! more than 700,000 hours verified by the end of 2014 and a few hundred records still in the
//! chain, more than 10,000,000 yuan raised from individual donations by then; 大港老年大学's 42 classes with more than
//! 1,000 students; the 四点钟课堂 with more than 600 children. Every figure is counted from
//! these records. Bulk rows go in as multi-row inserts so the demo stays quick.

use super::store;
use super::{SERVICE_DOMAINS, id_check_char, id_number_hash, mask_id_number, mask_name};
use crate::audit::Actor;
use crate::db::{Arg, Conn, Sql, Timestamp};
use crate::demo::names::{person_name, phone};
use crate::demo::rng::Rng;
use crate::error::{Error, Result};
use chrono::{Duration, NaiveDate, TimeZone, Utc};

/// The development-zone volunteer association (开发区志愿者协会).
pub const ASSOCIATION: &str = "开发区社会服务志愿者协会";
/// The senior university with 42 classes.
pub const SENIOR_UNIVERSITY: &str = "大港老年大学";
/// The organization that runs the 四点钟课堂.
pub const FOUR_OCLOCK_HOST: &str = "泰达社会服务中心";
/// The after-school programme.
pub const FOUR_OCLOCK: &str = "四点钟课堂";

/// Volunteers registered with the association.
const VOLUNTEERS: usize = 3_000;
/// Service records per volunteer, between 2012 and the demo date: enough that the hours
/// verified by the end of 2014 pass the seed's 700,000 (SPEC §4 is the district at that date).
const RECORDS_EACH: usize = 30;
/// Rows per multi-row insert (well under both databases' bind limits).
const BATCH: usize = 400;

/// One project per service domain, in [`SERVICE_DOMAINS`] order (the national dataset uses
/// them too).
pub(crate) const PROJECTS: [&str; 11] = [
    "邻里守望",
    "助老暖心",
    "关爱留守儿童",
    "助残同行",
    "爱心助学",
    "碧水蓝天",
    "健康宣教",
    "应急救援",
    "全民健身服务",
    "法律进社区",
    "大型赛会服务",
];

const COMPANIES: [&str; 12] = [
    "泰达投资控股有限公司",
    "滨海新区建设投资集团",
    "天津港（集团）有限公司",
    "开发区管委会工会",
    "渤海银行泰达支行",
    "滨海新区红十字会",
    "天津一汽丰田汽车有限公司",
    "摩托罗拉（中国）电子有限公司",
    "诺和诺德（中国）制药有限公司",
    "天津三星电子有限公司",
    "康师傅控股有限公司",
    "滨海新区慈善协会",
];

const CLASSES: [&str; 14] = [
    "书法",
    "国画",
    "声乐",
    "舞蹈",
    "摄影",
    "电脑",
    "太极拳",
    "英语",
    "京剧",
    "养生保健",
    "钢琴",
    "手工编织",
    "诗词鉴赏",
    "智能手机",
];

/// 09:00 China time on `day`.
fn morning(day: NaiveDate) -> Timestamp {
    Utc.from_utc_datetime(&day.and_hms_opt(1, 0, 0).unwrap_or_default())
}

async fn org_named(conn: &mut Conn<'_>, name: &str) -> Result<(i64, i64)> {
    Sql::new("select id, area_id from organizations where name = $1")
        .arg(name)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Runs `insert … values` with rows of `width` values each, `BATCH` rows at a time.
async fn insert_rows(conn: &mut Conn<'_>, head: &str, width: usize, rows: Vec<Arg>) -> Result<()> {
    for chunk in rows.chunks(width * BATCH) {
        let mut sql = Sql::new(head);
        for (i, row) in chunk.chunks(width).enumerate() {
            sql.push(if i == 0 { " (" } else { ", (" });
            for (j, v) in row.iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                sql.push_arg(v.clone());
            }
            sql.push(")");
        }
        sql.execute(conn).await?;
    }
    Ok(())
}

/// Writes the demo's volunteer and brand records.
pub async fn load(conn: &mut Conn<'_>, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed ^ 0x7011);
    let actor = Actor::system("demo");
    let today = NaiveDate::from_ymd_opt(2015, 6, 30).unwrap_or_default();
    let (assoc, assoc_area) = org_named(conn, ASSOCIATION).await?;
    let (university, _) = org_named(conn, SENIOR_UNIVERSITY).await?;
    let (host, host_area) = org_named(conn, FOUR_OCLOCK_HOST).await?;

    // Volunteers: ID numbers are made up, valid, and kept only hashed and masked.
    let salt = store::salt(conn).await?;
    let mut rows = Vec::with_capacity(VOLUNTEERS * 9);
    for i in 0..VOLUNTEERS {
        let born = NaiveDate::from_ymd_opt(
            rng.between(1950, 1997) as i32,
            rng.between(1, 12) as u32,
            rng.between(1, 28) as u32,
        )
        .unwrap_or_default();
        let first17 = format!("120116{}{:03}", born.format("%Y%m%d"), i % 1000);
        let id = format!("{first17}{}", id_check_char(&first17).unwrap_or('0'));
        let registered = NaiveDate::from_ymd_opt(2008, 1, 1).unwrap_or_default()
            + Duration::days(rng.between(0, 1800));
        rows.extend([
            Arg::from(assoc),
            Arg::from(assoc_area),
            Arg::from(person_name(&mut rng)),
            Arg::from(if rng.chance(55) { "female" } else { "male" }),
            Arg::from(id_number_hash(&salt, &id)),
            Arg::from(mask_id_number(&id)),
            Arg::from(Some(phone(&mut rng))),
            Arg::from(registered),
            Arg::from(morning(registered)),
        ]);
    }
    insert_rows(conn, "insert into volunteers (org_id, area_id, name, gender, id_hash, id_masked, phone, registered_on, created_at) values", 9, rows).await?;
    let ids: Vec<(i64,)> = Sql::new("select id from volunteers where org_id = $1 order by id")
        .arg(assoc)
        .fetch_all(conn)
        .await?;

    // Service records on distinct days between 2012 and the demo date; most verified, a few
    // still recorded or confirmed, a few sent back.
    let first = NaiveDate::from_ymd_opt(2012, 1, 1).unwrap_or_default();
    let span = (today - first).num_days() - 7;
    let step = span / RECORDS_EACH as i64;
    let mut rows = Vec::with_capacity(ids.len() * RECORDS_EACH * 14);
    for (vid,) in &ids {
        for k in 0..RECORDS_EACH as i64 {
            let day = first + Duration::days(k * step + rng.between(0, step - 1));
            let d = rng.below(SERVICE_DOMAINS.len());
            let tenths = rng.between(8, 32) * 5;
            let roll = rng.below(1000);
            let state = match roll {
                0..=19 => "recorded",
                20..=39 => "confirmed",
                40..=44 => "rejected",
                _ => "verified",
            };
            let confirmed = (state != "recorded").then(|| morning(day + Duration::days(2)));
            let verified = (state == "verified").then(|| morning(day + Duration::days(9)));
            rows.extend([
                Arg::from(*vid),
                Arg::from(assoc),
                Arg::from(PROJECTS[d]),
                Arg::from(SERVICE_DOMAINS[d]),
                Arg::from(day),
                Arg::from(tenths),
                Arg::from(state),
                Arg::from("demo"),
                Arg::from(morning(day + Duration::days(1))),
                Arg::from(confirmed.map(|_| "demo")),
                Arg::from(confirmed),
                Arg::from(verified.map(|_| "demo")),
                Arg::from(verified),
                Arg::from((state == "rejected").then_some("服务时长与签到记录不符")),
            ]);
        }
    }
    insert_rows(conn, "insert into volunteer_services (volunteer_id, org_id, project, domain, served_on, tenth_hours, state, recorded_by, recorded_at, confirmed_by, confirmed_at, verified_by, verified_at, reject_reason) values", 14, rows).await?;
    // The rejected ones carry who sent them back too.
    Sql::new("update volunteer_services set rejected_by = 'demo', rejected_at = confirmed_at where state = 'rejected'")
        .execute(conn)
        .await?;

    // Donations: money and goods received from residents and companies, and given on.
    let mut rows = Vec::new();
    let mut donation =
        |rng: &mut Rng, direction: &str, who: String, individual: bool, kind: &str, fen: i64| {
            let day = NaiveDate::from_ymd_opt(2012, 1, 1).unwrap_or_default()
                + Duration::days(rng.between(0, 1276));
            let d = rng.below(PROJECTS.len());
            rows.extend([
                Arg::from(assoc),
                Arg::from(direction),
                Arg::from(who),
                Arg::from(if individual {
                    "individual"
                } else {
                    "organization"
                }),
                Arg::from(PROJECTS[d]),
                Arg::from(kind),
                Arg::from((kind == "goods").then_some("米面油、冬衣等物资")),
                Arg::from(fen),
                Arg::from(day),
                Arg::from(if direction == "received" {
                    "志愿服务项目运行"
                } else {
                    "资助困难群众和公益项目"
                }),
                Arg::from("demo"),
                Arg::from(morning(day)),
            ]);
        };
    for _ in 0..2_800 {
        let who = person_name(&mut rng);
        let fen = rng.between(100, 5_000) * 100;
        let kind = if rng.chance(10) { "goods" } else { "money" };
        donation(&mut rng, "received", who, true, kind, fen);
    }
    for _ in 0..150 {
        let who = rng.pick(&COMPANIES).to_string();
        let fen = rng.between(30_000, 100_000) * 100;
        let kind = if rng.chance(20) { "goods" } else { "money" };
        donation(&mut rng, "received", who, false, kind, fen);
    }
    for _ in 0..400 {
        let who = format!(
            "{}困难家庭救助",
            rng.pick(&["泰达", "新港", "塘沽", "汉沽", "大港"])
        );
        let fen = rng.between(5_000, 30_000) * 100;
        donation(&mut rng, "given", who, false, "money", fen);
    }
    insert_rows(conn, "insert into donations (org_id, direction, counterpart, counterpart_kind, project, kind, goods, amount_fen, donated_on, purpose, recorded_by, created_at) values", 12, rows).await?;

    // 大港老年大学: 42 classes of the 2014 autumn term and their students.
    let term = NaiveDate::from_ymd_opt(2014, 9, 1).unwrap_or_default();
    let mut rows = Vec::new();
    for c in 0..42 {
        let name = format!("{}{}班", CLASSES[c % CLASSES.len()], c / CLASSES.len() + 1);
        let group = store::create_group(conn, university, "老年教育", &name, "class", 2014).await?;
        for _ in 0..rng.between(24, 30) {
            let label = mask_name(&person_name(&mut rng));
            rows.extend([
                Arg::from(group),
                Arg::from(label),
                Arg::from("elderly"),
                Arg::from(term + Duration::days(rng.between(0, 14))),
            ]);
        }
    }
    // 四点钟课堂: after-school groups in 12 communities, 51–60 children each.
    for g in 0..12 {
        let name = format!("{FOUR_OCLOCK}第{}组", g + 1);
        let group = store::create_group(conn, host, FOUR_OCLOCK, &name, "service", 2014).await?;
        for _ in 0..rng.between(51, 60) {
            let label = mask_name(&person_name(&mut rng));
            rows.extend([
                Arg::from(group),
                Arg::from(label),
                Arg::from("child"),
                Arg::from(
                    NaiveDate::from_ymd_opt(2014, 3, 1).unwrap_or_default()
                        + Duration::days(rng.between(0, 200)),
                ),
            ]);
        }
    }
    insert_rows(
        conn,
        "insert into beneficiaries (group_id, label, category, enrolled_on) values",
        4,
        rows,
    )
    .await?;

    // Brand reasons and the figures their profiles show, counted from the records above.
    let at = morning(NaiveDate::from_ymd_opt(2015, 1, 10).unwrap_or_default());
    let fig = |label: &str,
               measure: Option<&'static str>,
               value: Option<i64>,
               project: Option<&str>,
               unit: &str| super::NewFigure {
        label: label.into(),
        value,
        measure,
        project: project.map(str::to_owned),
        unit: unit.into(),
        year: None,
    };
    for (org, reasons, figures) in [
        (
            assoc,
            "开发区志愿服务的枢纽型组织，服务领域覆盖11个方面，志愿服务记录全部经核实。",
            vec![
                fig("注册志愿者", Some("volunteers"), None, None, "人"),
                fig(
                    "经核实志愿服务时长",
                    Some("verified_hours"),
                    None,
                    None,
                    "小时",
                ),
                fig("募集善款与物资", Some("donations_yuan"), None, None, "元"),
                fig("服务领域", None, Some(11), None, "个"),
            ],
        ),
        (
            university,
            "区内规模最大的老年教育机构，常年开设书法、国画、声乐等课程。",
            vec![
                fig("在读学员", Some("students"), None, None, "人"),
                fig("开设班级", Some("classes"), None, None, "个"),
            ],
        ),
        (
            host,
            "社工专业力量带动社区服务，“四点钟课堂”为双职工家庭子女提供课后照顾。",
            vec![fig(
                "四点钟课堂受益青少年",
                Some("beneficiaries"),
                None,
                Some(FOUR_OCLOCK),
                "人",
            )],
        ),
    ] {
        store::set_brand_reasons(conn, &actor, at, org, reasons).await?;
        for f in &figures {
            store::add_figure(conn, &actor, at, org, f).await?;
        }
    }

    // Service bases linked to the organizations that serve there.
    let bases = [
        ("泰达图书馆志愿服务基地", "library", assoc, assoc_area),
        (
            "开发区老年公寓志愿服务基地",
            "elderly_home",
            assoc,
            assoc_area,
        ),
        (
            "泰达爱心家园（残疾儿童托养）",
            "disabled_children_home",
            assoc,
            assoc_area,
        ),
        ("泰达医院志愿服务站", "hospital", assoc, assoc_area),
        (
            "泰达社区服务中心四点钟课堂基地",
            "community_centre",
            host,
            host_area,
        ),
    ];
    for (name, kind, org, area) in bases {
        let b = super::NewBase {
            name: name.into(),
            kind,
            address: format!("{name}（开发区）"),
        };
        store::create_base(conn, &actor, at, area, &b, Some(org)).await?;
    }
    Ok(())
}
