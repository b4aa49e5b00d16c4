//! The demo's incubation system (SPEC §4: 4 organizations graduated, including
//! 九九华龄居家养老服务中心; 3 in incubation, including 鹤童老年服务中心): the district park
//! 滨海新区社会组织孵化园, an incubator of the Sino-Singapore eco-city and three street guidance
//! centres, with their calls, applications (selected with reasons, a few rejected), stays,
//! services and micro-subsidies. Written through the same store functions as the pages.
//!
//! 九九华龄 and 鹤童 entered as groups not yet registered and are linked to the organizations
//! through their approved establishment applications (鹤童 registered on 2014-09-02 while still
//! in incubation); two other groups in incubation are not registered yet.

use super::store;
use super::{Decision, EndStay, IncubatorLevel, NewApplication, NewCall, NewIncubator, NewService};
use super::{Outcome, ServiceKind};
use crate::areas::store as areas;
use crate::audit::Actor;
use crate::auth::Scope;
use crate::db::{Conn, Sql};
use crate::error::{Error, Result};
use chrono::{NaiveDate, TimeZone, Utc};

/// The district incubation park.
pub const PARK: &str = "滨海新区社会组织孵化园";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
}

fn at(on: NaiveDate) -> crate::db::Timestamp {
    Utc.from_utc_datetime(&on.and_hms_opt(2, 0, 0).unwrap_or_default())
}

/// One demo stay: who, how they came in (group or organization), and how it went.
struct Planned {
    /// The organization's name in the registry, or the group's name.
    name: String,
    /// Applied as a group not yet registered.
    as_group: bool,
    domain: &'static str,
    entered: NaiveDate,
    planned_end: NaiveDate,
    /// (outcome, date, reason), or still in incubation.
    end: Option<(Outcome, NaiveDate, &'static str)>,
    /// Micro-subsidy in yuan.
    subsidy_yuan: i64,
}

async fn incubator(
    conn: &mut Conn<'_>,
    actor: &Actor,
    code: &str,
    new: NewIncubator,
) -> Result<store::IncubatorRow> {
    let area = areas::find_by_code(conn, code)
        .await?
        .ok_or(Error::NotFound)?;
    let id = store::create_incubator(conn, actor, at(d(2012, 12, 1)), &area, &new).await?;
    store::incubator(conn, &Scope::All, id).await
}

/// Runs one call: every planned stay applies, is selected and served; `rejected` groups apply
/// and are turned down with a reason.
async fn run_call(
    conn: &mut Conn<'_>,
    actor: &Actor,
    inc: &store::IncubatorRow,
    call: NewCall,
    planned: &[Planned],
    rejected: &[(&str, &str, &str)],
) -> Result<()> {
    let call_id = store::create_call(conn, actor, at(call.opens_on), inc, &call).await?;
    let row = store::call(conn, &Scope::All, call_id).await?;
    for p in planned {
        let org = if p.as_group {
            None
        } else {
            crate::registry::store::find_by_name(conn, &Scope::All, &p.name).await?
        };
        let new = NewApplication {
            group_name: p.name.clone(),
            contact: "见申请书".into(),
            // A registered organization applies in its own domain.
            domain: org
                .as_ref()
                .map_or(p.domain.to_owned(), |o| o.domain_code.clone()),
            plan: format!("入驻{}，完善内部治理，提升项目设计和服务能力。", inc.name),
        };
        let id = store::file_application(
            conn,
            actor,
            at(call.opens_on),
            call.opens_on,
            &row,
            org.as_ref(),
            None,
            &new,
        )
        .await?;
        let app = store::application(conn, &Scope::All, id).await?;
        let decision = Decision::Accept {
            reason: "服务方向符合孵化重点，团队稳定，计划可行。".into(),
            entered_on: p.entered,
            planned_end_on: p.planned_end,
        };
        let stay_id = store::decide(conn, actor, at(p.entered), &app, &decision)
            .await?
            .ok_or(Error::NotFound)?;
        serve(conn, actor, stay_id, p).await?;
    }
    for (name, domain, reason) in rejected {
        let new = NewApplication {
            group_name: (*name).to_owned(),
            contact: "见申请书".into(),
            domain: (*domain).to_owned(),
            plan: "开展社区服务活动。".into(),
        };
        let id = store::file_application(
            conn,
            actor,
            at(call.opens_on),
            call.opens_on,
            &row,
            None,
            None,
            &new,
        )
        .await?;
        let app = store::application(conn, &Scope::All, id).await?;
        let decision = Decision::Reject {
            reason: (*reason).to_owned(),
        };
        store::decide(conn, actor, at(call.closes_on), &app, &decision).await?;
    }
    Ok(())
}

/// Services of a stay (venue, a training, registration help for groups, a micro-subsidy), its
/// registration link and its end.
async fn serve(conn: &mut Conn<'_>, actor: &Actor, stay_id: i64, p: &Planned) -> Result<()> {
    let today = crate::clock::today(conn).await?;
    let mut services = vec![
        NewService {
            kind: ServiceKind::Venue,
            given_on: p.entered,
            description: "免费办公工位及会议室、办公设备".into(),
            amount_fen: None,
        },
        NewService {
            kind: ServiceKind::Training,
            given_on: p.entered + chrono::Duration::days(30),
            description: "社会组织内部治理与财务管理培训".into(),
            amount_fen: None,
        },
        NewService {
            kind: ServiceKind::Subsidy,
            given_on: p.entered + chrono::Duration::days(60),
            description: "孵化期微补贴（项目启动资金）".into(),
            amount_fen: Some(p.subsidy_yuan * 100),
        },
    ];
    if p.as_group {
        services.push(NewService {
            kind: ServiceKind::Registration,
            given_on: p.entered + chrono::Duration::days(90),
            description: "协助准备章程及登记申请材料".into(),
            amount_fen: None,
        });
    }
    let last = p.end.map_or(today, |(_, on, _)| on);
    for s in services.iter().filter(|s| s.given_on <= last) {
        let stay = store::stays::stay(conn, &Scope::All, stay_id).await?;
        store::stays::add_service(conn, actor, at(s.given_on), today, &stay, s).await?;
    }
    // A group that has since registered: linked through its approved establishment application.
    if p.as_group
        && let Some(org) = crate::registry::store::find_by_name(conn, &Scope::All, &p.name).await?
    {
        let application: Option<(i64,)> = Sql::new("select id from applications where org_id = $1 and kind in ('preparation', 'establishment', 'filing') and state = 'approved' order by id limit 1")
            .arg(org.id)
            .fetch_optional(conn)
            .await?;
        if let Some((application,)) = application {
            let stay = store::stays::stay(conn, &Scope::All, stay_id).await?;
            let on = org.registered_on.unwrap_or(p.entered);
            store::stays::link_registration(conn, actor, at(on), &stay, application).await?;
        }
    }
    if let Some((outcome, on, reason)) = p.end {
        let stay = store::stays::stay(conn, &Scope::All, stay_id).await?;
        let end = EndStay {
            outcome,
            ended_on: on,
            reason: reason.to_owned(),
        };
        store::stays::end_stay(conn, actor, at(on), today, &stay, &end).await?;
    }
    Ok(())
}

/// Names of two registered organizations of `domain`, registered in 2013–2014, for the other
/// graduates (drawn from the registry demo, never the named ones).
async fn graduates(conn: &mut Conn<'_>, domains: &[&str], n: i64) -> Result<Vec<String>> {
    let mut sql = Sql::new(
        "select o.name from organizations o join domains d on d.id = o.domain_id where o.kind = 'private_non_enterprise' and o.status = 'active' and o.registered_on >= $1 and o.registered_on <= $2 and o.name not in ('九九华龄居家养老服务中心', '鹤童老年服务中心') and d.code in (",
    );
    sql = sql.arg(d(2013, 1, 1)).arg(d(2013, 12, 31));
    let domains: Vec<String> = domains.iter().map(|s| (*s).to_owned()).collect();
    sql.push_list(&domains)
        .push(") order by o.registered_on, o.id limit ")
        .push_arg(n);
    let rows: Vec<(String,)> = sql.fetch_all(conn).await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

/// Writes the demo's incubators, calls, applications, stays and services.
pub async fn load(conn: &mut Conn<'_>) -> Result<()> {
    let actor = Actor::system("demo");
    let park = incubator(
        conn,
        &actor,
        "120116",
        NewIncubator {
            name: PARK.into(),
            level: IncubatorLevel::District,
            focus: vec![
                "elderly_care".into(),
                "community_service".into(),
                "charity".into(),
                "volunteer_service".into(),
            ],
            capacity: 8,
            address: "滨海新区塘沽上海道2011号".into(),
            operator: "滨海新区社会组织服务管理中心".into(),
        },
    )
    .await?;
    let eco = incubator(
        conn,
        &actor,
        "120116406",
        NewIncubator {
            name: "中新天津生态城社会组织孵化基地".into(),
            level: IncubatorLevel::Functional,
            focus: vec!["community_service".into(), "volunteer_service".into()],
            capacity: 4,
            address: "中新天津生态城和畅路社区中心".into(),
            operator: "生态城社会组织服务中心".into(),
        },
    )
    .await?;
    let mut streets = Vec::new();
    for (code, short) in [
        ("120116005", "杭州道街"),
        ("120116006", "新河街"),
        ("120116051", "大港街"),
    ] {
        streets.push(
            incubator(
                conn,
                &actor,
                code,
                NewIncubator {
                    name: format!("{short}社会组织孵化指导中心"),
                    level: IncubatorLevel::Street,
                    focus: vec!["community_service".into(), "elderly_care".into()],
                    capacity: 3,
                    address: format!("{short}社会组织联合会办公室"),
                    operator: format!("{short}社会组织联合会"),
                },
            )
            .await?,
        );
    }
    let others = graduates(
        conn,
        &[
            "elderly_care",
            "community_service",
            "social_work",
            "education",
        ],
        3,
    )
    .await?;
    let name = |i: usize| -> String { others.get(i).cloned().unwrap_or_default() };
    let park_2013 = [
        Planned {
            name: "九九华龄居家养老服务中心".into(),
            as_group: true,
            domain: "elderly_care",
            entered: d(2013, 5, 10),
            planned_end: d(2014, 5, 9),
            end: Some((
                Outcome::Graduated,
                d(2014, 6, 30),
                "已完成登记，服务与治理达到出壳标准",
            )),
            subsidy_yuan: 20_000,
        },
        Planned {
            name: name(0),
            as_group: false,
            domain: "community_service",
            entered: d(2013, 5, 10),
            planned_end: d(2014, 5, 9),
            end: Some((Outcome::Graduated, d(2014, 5, 9), "孵化期满，考核合格")),
            subsidy_yuan: 15_000,
        },
        Planned {
            name: "海滨街爱心帮扶服务队".into(),
            as_group: true,
            domain: "charity",
            entered: d(2013, 5, 10),
            planned_end: d(2014, 5, 9),
            end: Some((
                Outcome::Exited,
                d(2013, 12, 20),
                "核心成员离开，团队解散，主动申请退出",
            )),
            subsidy_yuan: 5_000,
        },
    ];
    run_call(
        conn,
        &actor,
        &park,
        NewCall {
            title: "2013年度孵化园入壳征集".into(),
            opens_on: d(2013, 4, 1),
            closes_on: d(2013, 4, 30),
            places: 4,
        },
        &park_2013,
        &[(
            "新港街广场舞队",
            "culture",
            "以文体娱乐为主，不属于本期孵化重点，建议向街道文体站申请支持",
        )],
    )
    .await?;
    let park_2014 = [
        Planned {
            name: "鹤童老年服务中心".into(),
            as_group: true,
            domain: "elderly_care",
            entered: d(2014, 4, 15),
            planned_end: d(2015, 10, 14),
            end: None,
            subsidy_yuan: 30_000,
        },
        Planned {
            name: name(1),
            as_group: false,
            domain: "elderly_care",
            entered: d(2014, 4, 15),
            planned_end: d(2014, 10, 14),
            end: Some((Outcome::Graduated, d(2014, 10, 14), "孵化期满，考核合格")),
            subsidy_yuan: 20_000,
        },
    ];
    run_call(
        conn,
        &actor,
        &park,
        NewCall {
            title: "2014年度孵化园入壳征集".into(),
            opens_on: d(2014, 3, 1),
            closes_on: d(2014, 3, 31),
            places: 3,
        },
        &park_2014,
        &[],
    )
    .await?;
    run_call(
        conn,
        &actor,
        &eco,
        NewCall {
            title: "生态城2014年社会组织入驻征集".into(),
            opens_on: d(2014, 5, 1),
            closes_on: d(2014, 5, 31),
            places: 2,
        },
        &[
            Planned {
                name: name(2),
                as_group: false,
                domain: "community_service",
                entered: d(2014, 6, 10),
                planned_end: d(2014, 12, 9),
                end: Some((Outcome::Graduated, d(2014, 12, 9), "孵化期满，考核合格")),
                subsidy_yuan: 10_000,
            },
            Planned {
                name: "生态城绿色家园志愿服务队".into(),
                as_group: true,
                domain: "volunteer_service",
                entered: d(2014, 6, 10),
                planned_end: d(2015, 12, 9),
                end: None,
                subsidy_yuan: 8_000,
            },
        ],
        &[],
    )
    .await?;
    run_call(
        conn,
        &actor,
        &streets[0],
        NewCall {
            title: "杭州道街2014年社区社会组织孵化征集".into(),
            opens_on: d(2014, 9, 1),
            closes_on: d(2014, 9, 30),
            places: 2,
        },
        &[Planned {
            name: "杭州道街邻里守望互助社".into(),
            as_group: true,
            domain: "community_service",
            entered: d(2014, 10, 20),
            planned_end: d(2015, 10, 19),
            end: None,
            subsidy_yuan: 3_000,
        }],
        &[],
    )
    .await?;
    // An open call at the park on the demo date, with a group's application waiting.
    let open = NewCall {
        title: "2015年度孵化园入壳征集".into(),
        opens_on: d(2015, 6, 1),
        closes_on: d(2015, 7, 31),
        places: 3,
    };
    let call_id = store::create_call(conn, &actor, at(open.opens_on), &park, &open).await?;
    let call = store::call(conn, &Scope::All, call_id).await?;
    let waiting = NewApplication {
        group_name: "新北街助残服务小组".into(),
        contact: "刘敏 13602020315".into(),
        domain: "charity".into(),
        plan: "为辖区残疾人家庭提供上门探访和康复陪伴服务，计划一年内完成登记。".into(),
    };
    store::file_application(
        conn,
        &actor,
        at(d(2015, 6, 20)),
        d(2015, 6, 20),
        &call,
        None,
        None,
        &waiting,
    )
    .await?;
    Ok(())
}
