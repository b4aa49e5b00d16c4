//! The demo's funding (SPEC §4): the 2014 venture-philanthropy round (3,000,000 yuan, ten
//! domains, 84 proposals from demo organizations, 32 funded including 幸福敲门 and 坚强孩子俱乐部),
//! run through the real store functions — submission with eligibility checks, preliminary
//! review, expert assignment refused where the registry shows a conflict, declarations, scores
//! on the rubric, the allocation rule, 公示 with one objection, agreements, tranches and
//! mid-term evaluations (one failed: its second tranche is withheld); the TEDA social service
//! centre's central-finance projects of 2013 and 2014 (500,000 yuan central + 300,000 matching a
//! year, about 30,000 beneficiaries); and the love-handrail project of the 2014 support fund
//! (4 communities, 500 doorways, 5,594 households, 2,312 of them elderly).
//!
//! Every request of the venture round lies between 92,400 and 93,750 yuan: any 32 of them fit
//! in 3,000,000 yuan and any 33 do not, and what is left after 32 is under half of any request,
//! so the allocation rule funds exactly 32 whatever the scores — which the scores decide.

use super::award;
use super::store::{self, Adjustment, RoundRow};
use super::{ProgrammeKind, ProposalId, RoundDraft, RoundId};
use crate::audit::Actor;
use crate::auth::{Grant, Role, UserId};
use crate::db::{Conn, Sql, Timestamp};
use crate::demo::rng::Rng;
use crate::error::{Error, Result};
use chrono::{NaiveDate, TimeZone, Utc};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// 09:00 China time on `d`.
fn at(d: NaiveDate) -> Timestamp {
    Utc.from_utc_datetime(&d.and_hms_opt(1, 0, 0).unwrap_or_default())
}

/// The ten domains of the 2014 round.
const DOMAINS: [&str; 10] = [
    "社会救助",
    "居家养老",
    "助残服务",
    "青少年成长",
    "志愿服务",
    "社区治理",
    "环境保护",
    "文化体育",
    "医疗健康",
    "妇女儿童",
];

/// Words the demo's project titles are made of.
const TITLE_HEADS: [&str; 12] = [
    "邻里守望",
    "银龄互助",
    "阳光助残",
    "快乐成长",
    "绿色家园",
    "温暖驿站",
    "爱心课堂",
    "社区健康",
    "书香社区",
    "巾帼助力",
    "手拉手",
    "滨海微公益",
];

/// The two experts the funding demo adds to the three of the evaluation demo.
const MORE_EXPERTS: [(&str, &str); 2] = [
    ("venture_expert1", "创投评审专家 周敏"),
    ("venture_expert2", "创投评审专家 吴刚"),
];

/// A demo identity-card number with a right check character.
fn id_number(rng: &mut Rng) -> String {
    let head = format!(
        "120107{}{:02}{:02}{:03}",
        rng.between(1955, 1985),
        rng.between(1, 12),
        rng.between(1, 28),
        rng.between(100, 999)
    );
    let check = crate::people::id_check_char(&head).unwrap_or('0');
    format!("{head}{check}")
}

#[expect(clippy::too_many_arguments, reason = "a round, each setting named")]
fn draft(
    programme: &str,
    kind: ProgrammeKind,
    title: &str,
    year: i32,
    budget_yuan: i64,
    cap_yuan: i64,
    no_double_funding: bool,
    domains: &[&str],
    tranches: &[(i64, super::TrancheCondition)],
) -> RoundDraft {
    use super::Criterion;
    let c = |name: &str, weight| Criterion {
        id: 0,
        name: name.into(),
        weight,
        max_score: 10,
    };
    RoundDraft {
        programme: programme.into(),
        kind,
        title: title.into(),
        year,
        budget_fen: budget_yuan * 100,
        cap_fen: cap_yuan * 100,
        call_on: day(year, 3, 1),
        deadline_on: day(year, 4, 30),
        review_on: day(year, 6, 15),
        notice_on: day(year, 7, 1),
        notice_days: 7,
        ban_years: 3,
        no_double_funding,
        partial_min_permille: 500,
        rank_by_z: false,
        domains: domains.iter().map(|d| (*d).to_owned()).collect(),
        criteria: vec![
            c("需求分析", 20),
            c("创新性", 20),
            c("可行性", 25),
            c("社会效益", 20),
            c("预算合理性", 15),
        ],
        tranches: tranches
            .iter()
            .map(|(percent, condition)| super::Tranche {
                percent: *percent,
                condition: *condition,
            })
            .collect(),
    }
}

/// A proposal to submit.
struct Planned<'a> {
    org: i64,
    title: String,
    domain: i64,
    requested_yuan: i64,
    matching_yuan: i64,
    beneficiaries: &'a str,
    target: i64,
    submitted_on: NaiveDate,
}

async fn submit(conn: &mut Conn<'_>, round: &RoundRow, p: &Planned<'_>) -> Result<ProposalId> {
    let fen = p.requested_yuan * 100;
    // Four budget lines adding up to the request: staff, activities, materials, the rest.
    let a = fen * 40 / 100;
    let b = fen * 30 / 100;
    let c = fen * 20 / 100;
    let lines = vec![
        super::BudgetLine {
            item: "人员劳务".into(),
            amount_fen: a,
        },
        super::BudgetLine {
            item: "活动开展".into(),
            amount_fen: b,
        },
        super::BudgetLine {
            item: "物资材料".into(),
            amount_fen: c,
        },
        super::BudgetLine {
            item: "宣传与管理".into(),
            amount_fen: fen - a - b - c,
        },
    ];
    let new = super::NewProposal {
        title: p.title.clone(),
        domain_id: p.domain,
        requested_fen: fen,
        matching_fen: p.matching_yuan * 100,
        beneficiaries: p.beneficiaries.into(),
        target_count: p.target,
        plan: format!("{}：需求调研、服务开展、成效评估，周期一年。", p.title),
        team: "项目负责人1名，专职社工2名，志愿者若干".into(),
        lines,
    };
    let actor = Actor::system(&format!("org:{}", p.org));
    store::submit_proposal(
        conn,
        &actor,
        at(p.submitted_on),
        round,
        p.org,
        &new,
        p.submitted_on,
    )
    .await
}

/// Assigns up to `panel` experts (skipping those the registry shows in conflict), records their
/// declarations and scores around `quality` (0–100), each expert with their own leniency.
#[expect(clippy::too_many_arguments, reason = "one review, each input named")]
async fn review(
    conn: &mut Conn<'_>,
    office: &Actor,
    rng: &mut Rng,
    round: &RoundRow,
    id: ProposalId,
    experts: &[(UserId, String, i64)],
    start: usize,
    panel: usize,
    quality: i64,
    recuse: Option<UserId>,
) -> Result<()> {
    let criteria = store::criteria(conn, RoundId(round.id)).await?;
    let on = round.review_on;
    let mut seated = 0;
    for k in 0..experts.len() {
        if seated == panel {
            break;
        }
        let (expert, name, leniency) = &experts[(start + k) % experts.len()];
        match store::assign_expert(conn, office, at(on), id, *expert, on).await {
            Ok(_) => {}
            // The registry shows a conflict: the assignment is refused, the next expert asked.
            Err(Error::Invalid(_)) => continue,
            Err(e) => return Err(e),
        }
        let a = store::assignment_of(conn, *expert, id)
            .await?
            .ok_or(Error::NotFound)?;
        let actor = Actor::system(name);
        if recuse == Some(*expert) {
            store::declare(conn, &actor, at(on), a.id, true, "曾为该机构提供督导服务").await?;
            continue;
        }
        store::declare(conn, &actor, at(on), a.id, false, "").await?;
        let scores: Vec<(i64, i64)> = criteria
            .iter()
            .map(|c| {
                let s = (quality + leniency + rng.between(-8, 8)).clamp(0, 100);
                (c.id, (s * c.max_score + 50) / 100)
            })
            .collect();
        store::save_scores(conn, &actor, at(on), a.id, &scores).await?;
        seated += 1;
    }
    Ok(())
}

async fn org_named(conn: &mut Conn<'_>, name: &str) -> Result<Option<i64>> {
    let row: Option<(i64,)> = Sql::new("select id from organizations where name = $1")
        .arg(name)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(id,)| id))
}

/// Loads the demo's funding; returns how many venture proposals were funded.
pub async fn load(conn: &mut Conn<'_>, seed: u64) -> Result<usize> {
    let office = Actor::system("社会组织管理局 资助办");
    let mut rng = Rng::new(seed ^ 0xF00D);
    // Experts: the three of the evaluation demo and two more; each linked to a person on file.
    let mut experts: Vec<(UserId, String, i64)> = Vec::new();
    for username in ["expert", "expert2", "expert3"] {
        if let Some((id, u, _)) = crate::evaluation::store::find_expert(conn, username).await? {
            experts.push((UserId(id), u, 0));
        }
    }
    for (username, name) in MORE_EXPERTS {
        let new = crate::auth::store::NewUser {
            username: username.into(),
            display_name: name.into(),
            password: crate::demo::DEMO_PASSWORD.into(),
        };
        let id = crate::auth::store::create_user(conn, &office, at(day(2014, 3, 1)), &new).await?;
        let grant = Grant {
            role: Role::Expert,
            area: None,
            org: None,
        };
        crate::auth::store::grant_role(conn, &office, at(day(2014, 3, 1)), id, &grant).await?;
        experts.push((id, username.to_owned(), 0));
    }
    // Leniency: a harsh and a lenient expert, for the z-scores to even out.
    for (i, e) in experts.iter_mut().enumerate() {
        e.2 = [0, -12, 6, 10, -4][i % 5];
    }
    let mut people = Vec::new();
    for (i, (user, _, _)) in experts.iter().enumerate() {
        let name = ["郑华", "赵磊", "孙丽", "周敏", "吴刚"][i % 5];
        let person = crate::people::NewPerson {
            name: name.into(),
            id_number: id_number(&mut rng),
        };
        let pid = crate::people::store::create_person(conn, &office, at(day(2014, 3, 1)), &person)
            .await?;
        crate::people::store::link_account(conn, &office, at(day(2014, 3, 1)), pid, *user).await?;
        people.push(pid);
    }

    // The applicants: active social groups and private non-enterprise units registered before
    // the call, eligible on the day of submission.
    let venture = draft(
        "滨海新区公益创投",
        ProgrammeKind::Venture,
        "2014年滨海新区公益创投",
        2014,
        3_000_000,
        100_000,
        true,
        &DOMAINS,
        &[
            (50, super::TrancheCondition::Signing),
            (30, super::TrancheCondition::MidtermPassed),
            (20, super::TrancheCondition::FinalPassed),
        ],
    );
    let round_id = store::create_round(conn, &office, at(day(2014, 2, 20)), &venture).await?;
    let round = store::get_round(conn, round_id).await?;
    let domain_ids: Vec<i64> = store::domains(conn, round_id)
        .await?
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    let teda_centre = org_named(conn, "泰达社会服务中心").await?;
    let candidates: Vec<(i64,)> = Sql::new("select id from organizations where status = 'active' and kind in ('social_group', 'private_non_enterprise') and registered_on <= $1 order by id")
        .arg(day(2014, 3, 1))
        .fetch_all(conn)
        .await?;
    let mut pool = Vec::new();
    for (id,) in candidates {
        if Some(id) == teda_centre {
            continue;
        }
        let facts = store::eligibility_facts(conn, id, &round, day(2014, 4, 1)).await?;
        if super::eligibility_reasons(&facts, true, 3, day(2014, 4, 1)).is_empty() {
            pool.push(id);
        }
    }
    for i in (1..pool.len()).rev() {
        let j = rng.below(i + 1);
        pool.swap(i, j);
    }
    pool.truncate(84);
    // The registry's conflicts: the demo expert was an officer of the first applicant until
    // 2013-09 (within two years of the review), and a person who is legal representative of
    // the second applicant and of another organization has expert2 as a member there.
    if let (Some(first), Some(second)) = (pool.first().copied(), pool.get(1).copied())
        && experts.len() > 1
    {
        let role = |org, role, from, until| crate::people::NewOrgRole {
            org_id: org,
            role,
            started_on: from,
            ended_on: until,
        };
        use crate::people::OrgRole;
        crate::people::store::add_role(
            conn,
            &office,
            at(day(2014, 3, 1)),
            people[0],
            &role(
                first,
                OrgRole::Officer,
                day(2010, 5, 1),
                Some(day(2013, 9, 30)),
            ),
        )
        .await?;
        let other: Option<(i64,)> = Sql::new("select id from organizations where status = 'active' and id <> $1 and id <> $2 order by id limit 1")
            .arg(first)
            .arg(second)
            .fetch_optional(conn)
            .await?;
        if let Some((other,)) = other {
            let lr = crate::people::NewPerson {
                name: "马志远".into(),
                id_number: id_number(&mut rng),
            };
            let lr = crate::people::store::create_person(conn, &office, at(day(2014, 3, 1)), &lr)
                .await?;
            for org in [second, other] {
                crate::people::store::add_role(
                    conn,
                    &office,
                    at(day(2014, 3, 1)),
                    lr,
                    &role(org, OrgRole::LegalRepresentative, day(2011, 1, 1), None),
                )
                .await?;
            }
            crate::people::store::add_role(
                conn,
                &office,
                at(day(2014, 3, 1)),
                people[1],
                &role(other, OrgRole::Member, day(2012, 6, 1), None),
            )
            .await?;
        }
    }
    let mut proposals = Vec::new();
    for (i, org) in pool.iter().enumerate() {
        let title = match i {
            5 => "幸福敲门".to_owned(),
            17 => "坚强孩子俱乐部".to_owned(),
            _ => format!(
                "{}{}计划",
                TITLE_HEADS[i % TITLE_HEADS.len()],
                DOMAINS[i % DOMAINS.len()]
            ),
        };
        let domain = match i {
            5 => domain_ids[1],
            17 => domain_ids[3],
            _ => domain_ids[i % domain_ids.len()],
        };
        let planned = Planned {
            org: *org,
            title,
            domain,
            requested_yuan: 92_400 + 50 * rng.between(0, 27),
            matching_yuan: 0,
            beneficiaries: ["社区老年人", "困境儿童", "残疾人及家庭", "社区居民"][i % 4],
            target: rng.between(80, 1500),
            submitted_on: day(2014, 3, 10) + chrono::Days::new(rng.between(0, 50) as u64),
        };
        let id = submit(conn, &round, &planned).await?;
        // Quality: the two named projects are among the strongest.
        let quality = if matches!(i, 5 | 17) {
            92
        } else {
            rng.between(45, 90)
        };
        proposals.push((id, quality));
    }
    // Preliminary review: four incomplete proposals fail.
    for (k, (id, _)) in proposals.iter().enumerate() {
        let passed = !matches!(k, 20 | 41 | 62 | 83);
        let reason = if passed {
            "材料齐全，符合申报条件"
        } else {
            "预算说明与实施方案材料不全"
        };
        store::screen(conn, &office, at(day(2014, 5, 15)), *id, passed, reason).await?;
    }
    let recusing = experts.get(2).map(|e| e.0);
    for (k, (id, quality)) in proposals.iter().enumerate() {
        if matches!(k, 20 | 41 | 62 | 83) {
            continue;
        }
        let recuse = if k == 10 { recusing } else { None };
        review(
            conn, &office, &mut rng, &round, *id, &experts, k, 3, *quality, recuse,
        )
        .await?;
    }
    let round = store::get_round(conn, round_id).await?;
    let funded = store::run_allocation(conn, &office, at(day(2014, 6, 25)), &round).await?;
    let round = store::get_round(conn, round_id).await?;
    store::start_notice(conn, &office, at(day(2014, 7, 1)), &round, day(2014, 7, 1)).await?;
    let round = store::get_round(conn, round_id).await?;
    let objector = Actor::system("公众 李先生");
    let objection = store::file_objection(
        conn,
        &objector,
        at(day(2014, 7, 3)),
        &round,
        None,
        "希望公开评分细则",
        day(2014, 7, 3),
    )
    .await?;
    store::decide_objection(
        conn,
        &office,
        at(day(2014, 7, 8)),
        objection,
        false,
        "评分细则已随通知公布，异议不成立",
    )
    .await?;
    // After the award: agreements, first tranches, mid-terms (one failed), second tranches.
    let awarded = store::list_proposals(conn, &store::Viewer::Staff, Some(round_id)).await?;
    for (k, p) in awarded
        .iter()
        .filter(|p| p.granted_fen.is_some())
        .enumerate()
    {
        let id = ProposalId(p.id);
        award::sign_agreement(conn, &office, at(day(2014, 7, 15)), id, day(2014, 7, 15)).await?;
        award::pay_tranche(conn, &office, at(day(2014, 7, 25)), id, 0, day(2014, 7, 25)).await?;
        award::record_milestone(
            conn,
            &office,
            at(day(2014, 10, 10)),
            id,
            "progress_report",
            day(2014, 10, 10),
            None,
            "按计划开展活动",
            None,
        )
        .await?;
        let passed = k != 7;
        let note = if passed {
            "中期评估合格"
        } else {
            "活动开展不足，台账不全"
        };
        award::record_milestone(
            conn,
            &office,
            at(day(2015, 1, 15)),
            id,
            "midterm",
            day(2015, 1, 15),
            Some(passed),
            note,
            None,
        )
        .await?;
        if passed {
            award::pay_tranche(conn, &office, at(day(2015, 1, 25)), id, 1, day(2015, 1, 25))
                .await?;
        }
    }

    // The TEDA social service centre's central-finance projects, 2013 and 2014.
    if let Some(centre) = teda_centre {
        for (year, actual) in [(2013, 14_600), (2014, 15_400)] {
            let d = draft(
                "中央财政支持社会组织参与社会服务项目",
                ProgrammeKind::CentralFinance,
                &format!("{year}年中央财政支持社会组织参与社会服务项目"),
                year,
                500_000,
                500_000,
                // A multi-year national project: funding in consecutive years is the point.
                false,
                &["社会工作服务示范项目"],
                &[
                    (60, super::TrancheCondition::Signing),
                    (40, super::TrancheCondition::FinalPassed),
                ],
            );
            let rid = store::create_round(conn, &office, at(day(year, 2, 20)), &d).await?;
            let r = store::get_round(conn, rid).await?;
            let dom = store::domains(conn, rid).await?[0].0;
            let planned = Planned {
                org: centre,
                title: format!("{year}年泰达社区社会工作服务示范项目"),
                domain: dom,
                requested_yuan: 500_000,
                matching_yuan: 300_000,
                beneficiaries: "泰达街道社区居民",
                target: 15_000,
                submitted_on: day(year, 3, 20),
            };
            let id = submit(conn, &r, &planned).await?;
            store::screen(conn, &office, at(day(year, 5, 10)), id, true, "材料齐全").await?;
            review(conn, &office, &mut rng, &r, id, &experts, 3, 2, 85, None).await?;
            let r = store::get_round(conn, rid).await?;
            store::run_allocation(conn, &office, at(day(year, 6, 25)), &r).await?;
            let r = store::get_round(conn, rid).await?;
            store::start_notice(conn, &office, at(day(year, 7, 1)), &r, day(year, 7, 1)).await?;
            award::sign_agreement(conn, &office, at(day(year, 7, 20)), id, day(year, 7, 20))
                .await?;
            award::pay_tranche(conn, &office, at(day(year, 7, 30)), id, 0, day(year, 7, 30))
                .await?;
            let end = day(year + 1, 3, 20);
            award::record_milestone(
                conn,
                &office,
                at(end),
                id,
                "final_report",
                end,
                None,
                "项目按期完成",
                Some(actual),
            )
            .await?;
            award::record_milestone(
                conn,
                &office,
                at(end),
                id,
                "final_evaluation",
                end,
                Some(true),
                "第三方评估合格",
                None,
            )
            .await?;
            award::record_milestone(
                conn,
                &office,
                at(end),
                id,
                "audit",
                end,
                Some(true),
                "第三方审计无异常",
                None,
            )
            .await?;
            award::pay_tranche(conn, &office, at(end), id, 1, end).await?;
            award::add_output(conn, &office, at(end), id, "beneficiaries", actual).await?;
        }
    }

    // The love-handrail project (社区爱心扶手) of the 2014 support fund.
    let d = draft(
        "滨海新区社会组织扶持专项基金",
        ProgrammeKind::SupportFund,
        "2014年滨海新区社会组织扶持专项基金",
        2014,
        1_000_000,
        200_000,
        true,
        &["为老服务", "社区服务"],
        &[
            (70, super::TrancheCondition::Signing),
            (30, super::TrancheCondition::FinalPassed),
        ],
    );
    let rid = store::create_round(conn, &office, at(day(2014, 2, 20)), &d).await?;
    let r = store::get_round(conn, rid).await?;
    let dom = store::domains(conn, rid).await?[0].0;
    if let Some(org) = pool.get(84 - 1).copied().or(teda_centre) {
        let planned = Planned {
            org,
            title: "社区爱心扶手".into(),
            domain: dom,
            requested_yuan: 150_000,
            matching_yuan: 0,
            beneficiaries: "老旧小区住户，特别是老年住户",
            target: 5_594,
            submitted_on: day(2014, 3, 25),
        };
        let id = submit(conn, &r, &planned).await?;
        store::screen(conn, &office, at(day(2014, 5, 10)), id, true, "材料齐全").await?;
        review(conn, &office, &mut rng, &r, id, &experts, 1, 3, 88, None).await?;
        let r = store::get_round(conn, rid).await?;
        store::run_allocation(conn, &office, at(day(2014, 6, 25)), &r).await?;
        // The bureau rounds the grant down to what the installation quote came to.
        store::adjust(
            conn,
            &office,
            at(day(2014, 6, 26)),
            id,
            Adjustment::Amount(14_000_000),
            "按安装报价核定为14万元",
        )
        .await?;
        let r = store::get_round(conn, rid).await?;
        store::start_notice(conn, &office, at(day(2014, 7, 1)), &r, day(2014, 7, 1)).await?;
        award::sign_agreement(conn, &office, at(day(2014, 7, 10)), id, day(2014, 7, 10)).await?;
        award::pay_tranche(conn, &office, at(day(2014, 7, 20)), id, 0, day(2014, 7, 20)).await?;
        let end = day(2015, 1, 20);
        award::record_milestone(
            conn,
            &office,
            at(end),
            id,
            "final_report",
            end,
            None,
            "4个社区500个楼门安装爱心扶手",
            Some(5_594),
        )
        .await?;
        award::record_milestone(
            conn,
            &office,
            at(end),
            id,
            "final_evaluation",
            end,
            Some(true),
            "验收合格",
            None,
        )
        .await?;
        award::pay_tranche(conn, &office, at(end), id, 1, end).await?;
        for (indicator, n) in [
            ("communities", 4),
            ("doorways", 500),
            ("households", 5_594),
            ("elderly_households", 2_312),
        ] {
            award::add_output(conn, &office, at(end), id, indicator, n).await?;
        }
    }
    Ok(funded)
}
