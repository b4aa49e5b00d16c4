//! The demo's talent records (SPEC §4): the first batch of 20 professionals the centre
//! recruited in 2014; in every street, town and functional area, as many social workers as its
//! organizations need at 30 each (社工 吴芳, the demo's `socialworker` account, among them), each
//! placed with up to 30 of them — organizations registered or filed in December 2014 are still
//! waiting for one, which the ratio report shows; and a year of 社会组织大讲堂 sessions with
//! sign-ups and attendance, plus the sessions of 2015 and two still to come. Written through
//! the store functions.

use super::store;
use super::{EmployerKind, Practitioner, PractitionerKind, Qualification, Training};
use crate::areas::store as areas;
use crate::audit::Actor;
use crate::auth::Scope;
use crate::db::{Conn, Sql};
use crate::demo::names::{person_name, phone, street_short};
use crate::demo::rng::Rng;
use crate::error::Result;
use chrono::{NaiveDate, TimeZone, Utc};

/// Professionals of the first batch (招聘了第一批20名优秀社会组织专业人才).
pub const DEMO_PROFESSIONALS: usize = 20;

/// The seed's ratio: one social worker for every 30 organizations.
const LOAD: usize = 30;

const CENTRE: &str = "滨海新区社会组织服务中心";
const AGENCIES: &[&str] = &[
    "滨海新区启航社会工作服务中心",
    "滨海新区同心社会工作服务社",
    "天津市滨海新区乐群社会工作事务所",
];
const ROLES: &[&str] = &[
    "项目督导",
    "财务辅导",
    "党建指导",
    "孵化辅导",
    "评估辅导",
    "法律咨询",
    "信息化专员",
    "宣传策划",
    "志愿者管理",
    "培训讲师",
];
const TOPICS: &[(&str, &str)] = &[
    ("社会组织法律法规与依法治理", "天津市民政局 政策法规处"),
    ("公益项目设计与申报", "南开大学 社会工作系 教授"),
    ("社会组织财务管理与票据规范", "注册会计师 事务所合伙人"),
    ("年度检查与年度报告填报", "滨海新区民政局 社会组织管理科"),
    ("社会组织党建工作实务", "区委组织部 党建指导员"),
    ("志愿者招募、培训与激励", "开发区社会服务志愿者协会"),
    ("社会组织评估指标解读", "评估专家委员会 委员"),
    ("品牌建设与公益传播", "天津日报 公益版编辑"),
    (
        "社区社会组织培育与社区治理",
        "天津师范大学 政治与行政学院 副教授",
    ),
    ("公益创投项目执行与评估", "第三方评估机构 项目总监"),
    ("社会工作方法在社区服务中的应用", "资深社会工作师"),
    ("信息公开与诚信自律", "滨海新区民政局 执法监察"),
];

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// Writes the demo's professionals, social workers, placements and training sessions.
pub async fn load(conn: &mut Conn<'_>, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed ^ 0x7A1E);
    let actor = Actor::system("demo");
    let at = Utc
        .with_ymd_and_hms(2014, 12, 20, 1, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let all = areas::list_all(conn).await?;
    let district = all
        .iter()
        .find(|a| a.parent_id.is_none())
        .ok_or(crate::error::Error::NotFound)?;
    for i in 0..DEMO_PROFESSIONALS {
        let p = Practitioner {
            kind: PractitionerKind::Professional,
            name: person_name(&mut rng),
            qualification: *rng.pick(&[Qualification::Assistant, Qualification::Intermediate]),
            employer_kind: EmployerKind::Centre,
            employer_name: CENTRE.into(),
            role: ROLES[i % ROLES.len()].into(),
            phone: phone(&mut rng),
            started_on: date(2014, 3, 1),
            ended_on: None,
        };
        store::create_practitioner(conn, &actor, at, district, &p).await?;
    }
    // The `socialworker` account's organization, so 吴芳 serves its street.
    let home: Option<(i64, i64)> =
        Sql::new("select id, area_id from organizations where name = '九九华龄居家养老服务中心'")
            .fetch_optional(conn)
            .await?;
    let mut first_worker = true;
    // The district's children: its streets, towns and functional areas.
    for street in all.iter().filter(|a| a.parent_id == Some(district.id)) {
        let mut orgs = Sql::new(
            "select o.id, coalesce(o.registered_on, o.founded_on) from organizations o where o.status in ('active', 'abnormal') and (o.registered_on is null or o.registered_on <= '2014-11-30') and ",
        );
        areas::subtree_predicate(&mut orgs, "o.area_id", &[street.area_id()]);
        orgs.push(" order by o.area_id, o.id");
        let mut orgs: Vec<(i64, Option<NaiveDate>)> = orgs.fetch_all(conn).await?;
        if orgs.is_empty() {
            continue;
        }
        let serves_home = match home {
            Some((org, _)) => orgs.iter().position(|(id, _)| *id == org),
            None => None,
        };
        if let Some(at_index) = serves_home {
            let entry = orgs.remove(at_index);
            orgs.insert(0, entry);
        }
        let workers = orgs.len().div_ceil(LOAD);
        for (w, chunk) in orgs.chunks(orgs.len().div_ceil(workers)).enumerate() {
            let agency = w % 3 != 0;
            let name = if serves_home.is_some() && w == 0 && first_worker {
                first_worker = false;
                "吴芳".to_owned()
            } else {
                person_name(&mut rng)
            };
            let p = Practitioner {
                kind: PractitionerKind::SocialWorker,
                name,
                qualification: *rng.pick(&[
                    Qualification::Assistant,
                    Qualification::Assistant,
                    Qualification::Intermediate,
                    Qualification::Unqualified,
                ]),
                employer_kind: if agency {
                    EmployerKind::Agency
                } else {
                    EmployerKind::Centre
                },
                employer_name: if agency {
                    (*rng.pick(AGENCIES)).into()
                } else {
                    CENTRE.into()
                },
                role: format!("{}社会组织社工", street_short(&street.name)),
                phone: phone(&mut rng),
                started_on: date(
                    2013 + rng.between(0, 1) as i32,
                    1 + rng.between(0, 8) as u32,
                    1,
                ),
                ended_on: None,
            };
            let id = store::create_practitioner(conn, &actor, at, street, &p).await?;
            let worker = store::practitioner(conn, &Scope::All, id, date(2014, 12, 31)).await?;
            for (org, since) in chunk {
                let start = since.unwrap_or(p.started_on).max(p.started_on);
                store::place(conn, &actor, at, &worker, *org, start).await?;
            }
        }
    }
    load_trainings(conn, &mut rng, &actor).await
}

/// The 大讲堂 of 2014 (monthly) and 2015 (to June, and two sessions to come), with sign-ups
/// from registered organizations and attendance recorded after each past session.
async fn load_trainings(conn: &mut Conn<'_>, rng: &mut Rng, actor: &Actor) -> Result<()> {
    let orgs: Vec<(i64,)> = Sql::new(
        "select id from organizations where status = 'active' and kind <> 'community' order by id",
    )
    .fetch_all(conn)
    .await?;
    let mut sessions = Vec::new();
    for month in 1..=12 {
        sessions.push(date(2014, month, 10 + rng.between(0, 15) as u32));
    }
    for month in 1..=6 {
        sessions.push(date(2015, month, 10 + rng.between(0, 15) as u32));
    }
    sessions.push(date(2015, 7, 16));
    sessions.push(date(2015, 8, 20));
    let business_day = date(2015, 6, 30);
    for (i, held_on) in sessions.into_iter().enumerate() {
        let (topic, speaker) = TOPICS[i % TOPICS.len()];
        let t = Training {
            series: "社会组织大讲堂".into(),
            topic: format!("第{}期：{topic}", i + 1),
            speaker: speaker.into(),
            held_on,
            minutes: *rng.pick(&[120, 150, 180]),
            place: "滨海新区社会组织孵化园报告厅".into(),
            capacity: 120,
        };
        let signed_at = Utc.from_utc_datetime(
            &(held_on - chrono::Days::new(7))
                .and_hms_opt(2, 0, 0)
                .unwrap_or_default(),
        );
        let id = store::create_training(conn, actor, signed_at, &t).await?;
        let upcoming = held_on > business_day;
        let wanted = if upcoming {
            25
        } else {
            45 + rng.between(0, 30) as usize
        };
        let mut seats = t.capacity as usize;
        let mut start = rng.below(orgs.len().max(1));
        for _ in 0..wanted.min(orgs.len()) {
            start = (start + 1 + rng.below(7)) % orgs.len();
            let people = 1 + rng.below(2);
            if people > seats {
                break;
            }
            seats -= people;
            let names: Vec<String> = (0..people).map(|_| person_name(rng)).collect();
            let training = store::training(conn, id).await?;
            match store::sign_up(
                conn,
                actor,
                signed_at,
                &training,
                orgs[start].0,
                &names,
                held_on,
            )
            .await
            {
                Ok(()) => {}
                // The same organization picked twice with the same generated name: skip it.
                Err(crate::error::Error::Invalid(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if !upcoming {
            let training = store::training(conn, id).await?;
            let present: Vec<(i64,)> =
                Sql::new("select id from training_signups where training_id = $1 order by id")
                    .arg(id)
                    .fetch_all(conn)
                    .await?;
            let present: Vec<i64> = present
                .into_iter()
                .map(|(s,)| s)
                .filter(|_| rng.chance(88))
                .collect();
            let after = Utc.from_utc_datetime(&held_on.and_hms_opt(9, 0, 0).unwrap_or_default());
            store::record_attendance(conn, actor, after, &training, &present, held_on).await?;
        }
    }
    Ok(())
}
