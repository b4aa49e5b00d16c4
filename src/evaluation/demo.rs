//! The demo's classified evaluation (SPEC §4: "对121家社会组织进行了…评估"): the 2013 and 2014
//! rounds run through the real store functions — shipped templates, applications with
//! self-evaluations by eligible organizations (eligibility read from the demo's annual reports
//! and credit lists, so `inspection::demo` must run first), two experts per application with
//! recusal respected, committee proposals on the 安庆 bands, 公示, one 复核 per round decided by
//! recorded vote, and final grades written to the registry. 121 organizations end with a grade,
//! spread over 1A–5A; the demo's business date (2015-06-30) keeps them all valid.

use super::store::{self, Viewer};
use super::{Bands, RoundDraft, RoundId, check_eligibility, leaves};
use crate::audit::Actor;
use crate::auth::{Grant, Role, Scope, UserId};
use crate::db::{Conn, Sql, Timestamp};
use crate::demo::rng::Rng;
use crate::error::{Error, Result};
use crate::registry::{Grade, OrgId, OrgKind};
use chrono::{NaiveDate, TimeZone, Utc};
use std::collections::HashMap;

/// Grades the demo hands out, best first: 9 + 24 + 43 + 30 + 15 = 121.
const GRADE_COUNTS: [(Grade, usize); 5] = [
    (Grade::A5, 9),
    (Grade::A4, 24),
    (Grade::A3, 43),
    (Grade::A2, 30),
    (Grade::A1, 15),
];

/// Organizations evaluated in the 2013 round; the rest of the 121 in 2014.
const EVALUATED_2013: usize = 56;

/// The review committee of each round.
const COMMITTEE: [&str; 5] = ["王建国", "李淑芬", "张志强", "刘文静", "陈立新"];

/// The two experts the demo adds next to the demo account `expert`.
const MORE_EXPERTS: [(&str, &str); 2] =
    [("expert2", "评估专家 赵磊"), ("expert3", "评估专家 孙丽")];

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// 09:00 China time on `d`.
fn at(d: NaiveDate) -> Timestamp {
    Utc.from_utc_datetime(&d.and_hms_opt(1, 0, 0).unwrap_or_default())
}

/// Loads the two rounds; returns how many organizations received a grade.
pub async fn load(conn: &mut Conn<'_>, seed: u64) -> Result<usize> {
    let office = Actor::system("评估办公室");
    let mut rng = Rng::new(seed ^ 0x5A5A);
    let mut experts = Vec::new();
    if let Some((id, _, _)) = store::find_expert(conn, "expert").await? {
        experts.push(UserId(id));
    }
    for (username, name) in MORE_EXPERTS {
        let new = crate::auth::store::NewUser {
            username: username.into(),
            display_name: name.into(),
            password: crate::demo::DEMO_PASSWORD.into(),
        };
        let id = crate::auth::store::create_user(conn, &office, at(day(2013, 3, 1)), &new).await?;
        let grant = Grant {
            role: Role::Expert,
            area: None,
            org: None,
        };
        crate::auth::store::grant_role(conn, &office, at(day(2013, 3, 1)), id, &grant).await?;
        experts.push(id);
    }
    let mut grades: Vec<Grade> = GRADE_COUNTS
        .iter()
        .flat_map(|(g, n)| std::iter::repeat_n(*g, *n))
        .collect();
    shuffle(&mut rng, &mut grades);
    let (first, second) = grades.split_at(EVALUATED_2013.min(grades.len()));
    let mut graded = 0;
    for (year, targets) in [(2013, first), (2014, second)] {
        graded += run_round(conn, &office, &mut rng, &experts, year, targets).await?;
    }
    Ok(graded)
}

/// Registered organizations eligible for a round of `year`, by id.
async fn eligible(conn: &mut Conn<'_>, year: i32) -> Result<Vec<(OrgId, OrgKind)>> {
    let ids: Vec<(i64,)> = Sql::new("select id from organizations where kind in ('social_group', 'private_non_enterprise', 'foundation') and status = 'active' order by id")
        .fetch_all(conn)
        .await?;
    let mut out = Vec::new();
    for (id,) in ids {
        if let Some(f) = store::eligibility_facts(conn, &Scope::All, OrgId(id), year).await?
            && check_eligibility(year, &super::EVALUATED_KINDS, &f).is_ok()
        {
            out.push((OrgId(id), f.kind));
        }
    }
    Ok(out)
}

async fn run_round(
    conn: &mut Conn<'_>,
    office: &Actor,
    rng: &mut Rng,
    experts: &[UserId],
    year: i32,
    targets: &[Grade],
) -> Result<usize> {
    let draft = RoundDraft {
        title: format!("{year}年度滨海新区社会组织等级评估"),
        year,
        kinds: super::EVALUATED_KINDS.to_vec(),
        apply_from: day(year, 4, 1),
        apply_until: day(year, 5, 31),
        publicity_days: 7,
        bands: Bands::anqing(),
        committee: COMMITTEE.iter().map(|s| (*s).to_owned()).collect(),
    };
    let round = store::create_round(conn, office, at(day(year, 3, 15)), &draft).await?;
    let mut pool = eligible(conn, year).await?;
    if pool.len() < targets.len() {
        // The annual reports the rules read come from `inspection::demo`; without them nobody
        // is eligible and the round grades fewer organizations.
        tracing::warn!(
            year,
            eligible = pool.len(),
            wanted = targets.len(),
            "evaluation demo: not enough eligible organizations"
        );
    }
    shuffle(rng, &mut pool);
    if year == 2014
        && let (Some(expert), Some((org, _))) = (experts.first(), pool.first())
    {
        // The demo expert left one of this year's applicants in 2013: the recusal rule keeps
        // them off its panel.
        Sql::new("insert into expert_employments (expert_user_id, org_id, started_on, ended_on, created_at, created_by) values ($1, $2, $3, $4, $5, $6)")
            .arg(*expert)
            .arg(*org)
            .arg(day(2009, 9, 1))
            .arg(day(2013, 3, 31))
            .arg(at(day(2014, 3, 1)))
            .arg(office.name.as_str())
            .execute(conn)
            .await?;
    }
    let bands = Bands::anqing();
    let mut applications = Vec::new();
    for (i, ((org, kind), grade)) in pool.iter().zip(targets).enumerate() {
        let (_, rows) = store::template(conn, *kind).await?.ok_or(Error::NotFound)?;
        let nodes: Vec<_> = rows.iter().map(store::IndicatorRow::node).collect();
        let leaf_list: Vec<(i64, i64, bool)> = leaves(&nodes)
            .iter()
            .map(|l| (l.id, l.max_points, l.bonus))
            .collect();
        let low = bands.min_of(*grade).unwrap_or(701);
        let high = match *grade {
            Grade::A5 => 990,
            g => bands
                .0
                .iter()
                .position(|(x, _)| *x == g)
                .and_then(|p| bands.0.get(p - 1))
                .map_or(990, |(_, m)| m - 1),
        };
        let target = rng.between(low + 2, high - 2);
        let org_actor = Actor::system(&format!("org:{}", org.0));
        let applied_on = day(year, 4, 1) + chrono::Duration::days((i % 55) as i64);
        let own = spread(&leaf_list, (target + rng.between(5, 30)).min(1020), rng);
        let id = store::apply(
            conn,
            &Scope::orgs(vec![*org]),
            &org_actor,
            at(applied_on),
            applied_on,
            round,
            *org,
            &own,
            &[],
        )
        .await?;
        let assigned_on = day(year, 6, 10);
        let mut panel = Vec::new();
        for expert in experts {
            if panel.len() == 2 {
                break;
            }
            let username = expert_name(conn, *expert).await?;
            match store::assign(conn, office, at(assigned_on), assigned_on, id, &username).await {
                Ok(()) => panel.push(*expert),
                // A recused expert is simply not on this panel.
                Err(Error::Invalid(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let d = rng.between(0, 3);
        for (k, expert) in panel.iter().enumerate() {
            let total = if k == 0 { target + d } else { target - d };
            let form = spread(&leaf_list, total, rng);
            let scored_on = day(year, 7, 1) + chrono::Duration::days(rng.between(0, 40));
            let actor = Actor::system(&expert_name(conn, *expert).await?);
            store::score(conn, &actor, at(scored_on), scored_on, *expert, id, &form).await?;
        }
        applications.push(id);
    }
    for id in &applications {
        store::propose(conn, office, at(day(year, 8, 20)), *id, 0, "").await?;
    }
    let start = day(year, 9, 2);
    store::start_publicity(conn, office, at(start), round, start).await?;
    review_one(conn, office, round, year, rng).await?;
    let final_day = day(year, 9, 16);
    store::finalize(conn, office, at(final_day), final_day, round).await
}

/// One organization asks for a 复核 during the 公示; the committee votes on it (2013: upheld
/// 2–2 with one absent; 2014: changed 3–2).
async fn review_one(
    conn: &mut Conn<'_>,
    office: &Actor,
    round: RoundId,
    year: i32,
    rng: &mut Rng,
) -> Result<()> {
    let apps = store::list_applications(conn, &Viewer::Staff, Some(round)).await?;
    let wanted = if year == 2013 { "2A" } else { "3A" };
    let Some(app) = apps
        .iter()
        .find(|a| a.proposed_grade.as_deref() == Some(wanted))
    else {
        return Ok(());
    };
    let asked = if year == 2013 { Grade::A3 } else { Grade::A4 };
    let filed = day(year, 9, 4);
    let org_actor = Actor::system(&format!("org:{}", app.org_id));
    store::request_review(
        conn,
        &Scope::orgs(vec![OrgId(app.org_id)]),
        &org_actor,
        at(filed),
        filed,
        app.application_id(),
        "自评与专家评分在“工作绩效”部分差距较大，专家现场评估时未查阅我单位补充提交的项目档案，请求复核。",
        Some(asked),
    )
    .await?;
    let members = store::committee(conn, round).await?;
    let pattern: [&str; 5] = if year == 2013 {
        ["change", "keep", "change", "keep", "absent"]
    } else {
        ["change", "change", "keep", "change", "keep"]
    };
    let votes: HashMap<i64, String> = members
        .iter()
        .zip(pattern)
        .map(|((id, _), v)| (*id, v.to_owned()))
        .collect();
    let decided = day(year, 9, 12 + rng.between(0, 1) as u32);
    let decision = if year == 2013 {
        "经复核委员会表决，同意变更者未过全体成员半数，维持原拟定等级。"
    } else {
        "经复核委员会表决，全体成员过半数同意，拟定等级变更为4A。"
    };
    store::decide_review(
        conn,
        office,
        at(decided),
        decided,
        app.application_id(),
        &votes,
        Some(asked),
        decision,
    )
    .await?;
    Ok(())
}

async fn expert_name(conn: &mut Conn<'_>, id: UserId) -> Result<String> {
    Ok(Sql::new("select username from users where id = $1")
        .arg(id)
        .fetch_optional::<(String,)>(conn)
        .await?
        .map(|(u,)| u)
        .unwrap_or_default())
}

/// Scores for every leaf adding up to `total`: a few bonus points, the rest shared in
/// proportion to each indicator's points, never above a maximum.
fn spread(leaves: &[(i64, i64, bool)], total: i64, rng: &mut Rng) -> HashMap<String, String> {
    let bonus_max: i64 = leaves.iter().filter(|l| l.2).map(|l| l.1).sum();
    let base_max: i64 = leaves.iter().filter(|l| !l.2).map(|l| l.1).sum();
    let bonus = rng.between(0, 10.min(bonus_max)).min(total);
    let rest = (total - bonus).clamp(0, base_max);
    let mut scores: Vec<(i64, i64, i64)> = leaves
        .iter()
        .map(|(id, max, b)| {
            let s = if *b { 0 } else { max * rest / base_max.max(1) };
            (*id, s, *max)
        })
        .collect();
    let mut left = rest
        - scores
            .iter()
            .filter(|(id, _, _)| !is_bonus(leaves, *id))
            .map(|s| s.1)
            .sum::<i64>();
    while left > 0 {
        let mut moved = false;
        for s in scores.iter_mut().filter(|s| !is_bonus(leaves, s.0)) {
            if left > 0 && s.1 < s.2 {
                s.1 += 1;
                left -= 1;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    let mut bonus_left = bonus;
    for s in scores.iter_mut().filter(|s| is_bonus(leaves, s.0)) {
        let give = bonus_left.min(s.2);
        s.1 = give;
        bonus_left -= give;
    }
    scores
        .into_iter()
        .map(|(id, s, _)| (format!("s{id}"), s.to_string()))
        .collect()
}

/// Fisher–Yates with the demo's generator (same seed, same order).
fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i + 1);
        items.swap(i, j);
    }
}

fn is_bonus(leaves: &[(i64, i64, bool)], id: i64) -> bool {
    leaves.iter().any(|l| l.0 == id && l.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_hits_the_total_within_each_maximum() {
        let leaves = vec![(1, 600, false), (2, 400, false), (3, 30, true)];
        let mut rng = Rng::new(7);
        for total in [0, 701, 905, 999, 1020] {
            let s = spread(&leaves, total, &mut rng);
            let sum: i64 = s.values().map(|v| v.parse::<i64>().unwrap()).sum();
            // Beyond the scale only the (at most 10) bonus points can add.
            assert_eq!(sum, total.min(sum.max(1000)), "{total}");
            assert!(sum <= 1010);
            assert!(s["s1"].parse::<i64>().unwrap() <= 600);
            assert!(s["s3"].parse::<i64>().unwrap() <= 30);
        }
    }
}
