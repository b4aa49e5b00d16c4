//! The demo's party-building database (SPEC §4): 214 independent party organizations in
//! registered organizations, 49 joint branches over community organizations of one community
//! each, 43 instructors (the first is the demo `instructor` account), and party-affairs cadres
//! whose allowances with the organizations' make the computed 2014 funding exceed 1.2 million
//! yuan; the default scoring template and the 2014 standardisation assessment of every party
//! organization. No party organization is set up before its organization was registered or
//! filed. It loads before the annual reports, which take their party members from it
//! ([`own_party_members`]). Everything goes through the store functions, so the figures are
//! counted from records; the numbers land by construction (fixed counts, dates from the seeded
//! generator).

use super::{
    ACTIVITY_KINDS, Form, InstructorId, Level, MECHANISMS, NewActivity, NewCadre, NewInstructor,
    NewPartyOrg, NewPayment, PartyOrgId,
};
use super::{assessment, coverage, funding, store};
use crate::audit::Actor;
use crate::db::{Conn, Sql};
use crate::demo::names::person_name;
use crate::demo::rng::Rng;
use crate::error::Result;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use std::collections::HashMap;

/// Independent party organizations in the demo (SPEC §4: 214个独立党组织).
pub const INDEPENDENT: usize = 214;
/// Joint branches (49个联合党支部).
pub const JOINT: usize = 49;
/// Instructors (43名党建指导员).
pub const INSTRUCTORS: usize = 43;
/// Organizations assigned to each instructor.
const PER_INSTRUCTOR: usize = 4;
/// Independent party organizations set up during 2014 (paid from the month after).
const SET_UP_IN_2014: usize = 12;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    name: String,
    area_id: i64,
    area_name: String,
    registered_on: Option<NaiveDate>,
}

/// Writes the demo's party organizations, cadres, instructors, payments and activity log.
pub async fn load(conn: &mut Conn<'_>, seed: u64) -> Result<()> {
    let actor = Actor::system("demo");
    let mut rng = Rng::new(seed ^ 0x9A27);
    let registered: Vec<Candidate> = Sql::new("select o.id, o.name, o.area_id, a.name as area_name, o.registered_on from organizations o join areas a on a.id = o.area_id where o.kind in ('social_group', 'private_non_enterprise') and o.status = 'active' order by o.id")
        .fetch_all(conn)
        .await?;
    let community: Vec<Candidate> = Sql::new("select o.id, o.name, o.area_id, a.name as area_name, o.registered_on from organizations o join areas a on a.id = o.area_id where o.kind = 'community' and o.status = 'active' order by o.area_id, o.id")
        .fetch_all(conn)
        .await?;
    let mut parties: Vec<(PartyOrgId, NaiveDate, i64)> = Vec::new();

    // Every second registered organization, in id order, has its own party organization.
    let own: Vec<&Candidate> = registered.iter().step_by(2).take(INDEPENDENT).collect();
    for (i, org) in own.iter().enumerate() {
        let planned = if i >= INDEPENDENT - SET_UP_IN_2014 {
            day(2014, 2 + (i % 10) as u32, 10)
        } else {
            let earliest = org
                .registered_on
                .unwrap_or(day(2008, 1, 1))
                .max(day(2006, 1, 1));
            let span = (day(2013, 12, 1) - earliest).num_days().max(1);
            (earliest + Duration::days(rng.between(0, span))).min(day(2013, 12, 1))
        };
        // Never before the organization itself was registered.
        let set_up = planned.max(org.registered_on.unwrap_or(planned));
        let members = match i % 10 {
            0..=4 => rng.between(3, 6),
            5..=8 => rng.between(7, 45),
            _ => rng.between(52, 90),
        };
        let probationary = rng.between(0, 2.min(members - 3));
        // Three are recorded with a level their size no longer fits: the desk flags them.
        let level = if i % 71 == 70 {
            Level::Branch
        } else {
            Level::derived(members).unwrap_or(Level::Branch)
        };
        let new = NewPartyOrg {
            name: format!("中共{}支部", org.name),
            form: Form::Independent,
            level,
            orgs: vec![org.id.to_string()],
            approved_by: "中共天津市滨海新区社会组织工作委员会".into(),
            established_on: set_up,
            secretary: person_name(&mut rng),
            committee: if members >= 7 {
                (0..3)
                    .map(|_| person_name(&mut rng))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                String::new()
            },
            full_members: members - probationary,
            probationary_members: probationary,
            term_started_on: Some(set_up),
            next_election_on: Some(set_up + Duration::days(3 * 365)),
            charter_clause: rng.chance(80),
        };
        let id = store::create(conn, &actor, at(set_up), &new).await?;
        parties.push((id, set_up, members));
    }

    // Joint branches: two to five community organizations of the same community each.
    let mut by_area: Vec<Vec<&Candidate>> = Vec::new();
    for c in &community {
        match by_area.last_mut() {
            Some(group) if group[0].area_id == c.area_id => group.push(c),
            _ => by_area.push(vec![c]),
        }
    }
    let mut joint = 0;
    'areas: for members_of_area in &by_area {
        let mut rest: &[&Candidate] = members_of_area;
        while rest.len() >= 2 {
            if joint == JOINT {
                break 'areas;
            }
            let size = [2, 3, 4, 5, 3][joint % 5].min(rest.len());
            let (group, tail) = rest.split_at(size);
            rest = tail;
            let planned = day(2012 + (joint % 2) as i32, 3 + (joint % 9) as u32, 15);
            // Not before the last of its organizations was filed.
            let set_up = group
                .iter()
                .filter_map(|c| c.registered_on)
                .fold(planned, NaiveDate::max);
            let members = rng.between(3, 12);
            let new = NewPartyOrg {
                name: format!("{}社会组织第{}联合党支部", group[0].area_name, joint + 1),
                form: Form::Joint,
                level: Level::derived(members).unwrap_or(Level::Branch),
                orgs: group.iter().map(|c| c.id.to_string()).collect(),
                approved_by: format!("中共{}工作委员会", group[0].area_name),
                established_on: set_up,
                secretary: person_name(&mut rng),
                committee: String::new(),
                full_members: members,
                probationary_members: 0,
                term_started_on: Some(set_up),
                next_election_on: Some(set_up + Duration::days(3 * 365)),
                charter_clause: false,
            };
            let id = store::create(conn, &actor, at(set_up), &new).await?;
            parties.push((id, set_up, members));
            joint += 1;
        }
    }

    // Cadres: a full-time party-affairs worker in each; a second in general branches and
    // committees (over 50 members); and a
    // third post filled in mid-2014 in every second, paid from the month after.
    for (n, (id, set_up, members)) in parties.iter().enumerate() {
        let posts: Vec<(&str, NaiveDate)> = [
            Some(("专职党务工作者", *set_up)),
            (*members > 50).then_some(("组织委员", *set_up + Duration::days(20))),
            (n % 2 == 0).then_some(("宣传委员", day(2014, 4 + (n / 2 % 6) as u32, 12))),
        ]
        .into_iter()
        .flatten()
        .collect();
        for (post, from) in posts {
            let cadre = NewCadre {
                name: person_name(&mut rng),
                post: post.into(),
                started_on: from,
                ended_on: None,
            };
            store::add_cadre(conn, &actor, at(from), *id, &cadre).await?;
        }
    }

    // Instructors: the demo account first, each with four registered organizations that have
    // no party organization of their own.
    let without: Vec<&Candidate> = registered.iter().skip(1).step_by(2).collect();
    let account_org: Option<(Option<i64>,)> = Sql::new("select r.org_id from user_roles r join users u on u.id = r.user_id where u.username = 'instructor' and r.role = 'instructor'")
        .fetch_optional(conn)
        .await?;
    let mut pool: Vec<i64> = without.iter().map(|c| c.id).collect();
    if let Some((Some(org),)) = account_org {
        pool.retain(|o| *o != org);
        pool.insert(0, org);
    }
    let mut next = pool.into_iter();
    for k in 0..INSTRUCTORS {
        let appointed = day(2013, 1 + (k % 12) as u32, 8);
        let new = NewInstructor {
            name: if k == 0 {
                "周杰".into()
            } else {
                person_name(&mut rng)
            },
            phone: crate::demo::names::phone(&mut rng),
            username: (k == 0).then(|| "instructor".to_owned()),
            appointed_on: appointed,
        };
        let id: InstructorId =
            coverage::create_instructor(conn, &actor, at(appointed), &new).await?;
        for org in next.by_ref().take(PER_INSTRUCTOR) {
            coverage::assign_instructor(
                conn,
                &actor,
                at(appointed),
                id,
                &org.to_string(),
                appointed,
            )
            .await?;
        }
    }

    // 2014 payments: the organization allowance of every party organization set up before
    // 2014, paid at mid-year; the cadres' allowances are still to be paid.
    for (id, set_up, _) in &parties {
        if *set_up < day(2014, 1, 1) {
            let payment = NewPayment {
                party_org: *id,
                year: 2014,
                paid_on: day(2014, 6, 30),
                amount_fen: 200_000,
                note: "2014年党组织工作经费".into(),
            };
            funding::record_payment(conn, &actor, at(day(2014, 6, 30)), &payment).await?;
        }
    }

    // An activity log and the mechanism checklist for the first twenty.
    let demo_today = day(2015, 6, 30);
    for (id, _, members) in parties.iter().take(20) {
        for (k, kind) in ACTIVITY_KINDS.iter().enumerate() {
            let held = day(2014, 1 + 2 * k as u32, 5 + (id.0 % 20) as u32);
            let title = match *kind {
                "theme_day" => "主题党日：走进社区志愿服务".to_owned(),
                "practice" => "“服务群众、奉献社会”主题实践活动".to_owned(),
                "party_lecture" => "书记讲党课".to_owned(),
                _ => format!("{}季度例会", 1 + k / 2),
            };
            let activity = NewActivity {
                held_on: held,
                kind,
                title,
                attendance: (*members).clamp(3, 60),
            };
            store::add_activity(conn, &actor, at(held), *id, &activity).await?;
        }
        let in_place: Vec<String> = MECHANISMS
            .iter()
            .take(5 + (id.0 % 4) as usize)
            .map(|m| (*m).to_owned())
            .collect();
        store::save_mechanisms(conn, &actor, at(demo_today), *id, &in_place, demo_today).await?;
    }
    assessments(conn, &actor, seed, &parties).await?;
    Ok(())
}

/// The scoring template (the default, version 1) and the 2014 standardisation assessment of
/// every party organization set up by the end of 2014, scored in January 2015: most between
/// good and excellent, a few only passing and a handful failing.
async fn assessments(
    conn: &mut Conn<'_>,
    actor: &Actor,
    seed: u64,
    parties: &[(PartyOrgId, NaiveDate, i64)],
) -> Result<()> {
    let mut rng = Rng::new(seed ^ 0xA55E);
    let scored_on = day(2015, 1, 20);
    assessment::save_template(
        conn,
        actor,
        at(day(2014, 12, 1)),
        0,
        &assessment::default_items(),
    )
    .await?;
    let items = match assessment::current_template(conn).await? {
        Some((_, items)) => items,
        None => return Ok(()),
    };
    for (id, set_up, _) in parties.iter().filter(|p| p.1 <= day(2014, 12, 31)) {
        // The organization's level of work, in percent of each item's maximum.
        let level = match rng.between(0, 99) {
            0..=3 => rng.between(35, 58),
            4..=19 => rng.between(60, 79),
            20..=69 => rng.between(80, 89),
            _ => rng.between(90, 100),
        };
        let fields: HashMap<String, String> = items
            .iter()
            .map(|item| {
                let wobble = rng.between(-1, 1);
                let score = ((item.max_score * level + 50) / 100 + wobble).clamp(0, item.max_score);
                (format!("s{}", item.id), score.to_string())
            })
            .collect();
        let note = if *set_up >= day(2014, 1, 1) {
            "2014年新建党组织，按实际运行月份考核。"
        } else {
            ""
        };
        assessment::save(
            conn,
            actor,
            at(scored_on),
            *id,
            assessment::Scoring {
                year: 2014,
                version: None,
                fields: &fields,
                note,
            },
            scored_on,
        )
        .await?;
    }
    Ok(())
}

/// Per organization with a live party organization of its own (independent or dispatched):
/// the day it was set up and its full members — what the demo's annual reports declare.
pub async fn own_party_members(conn: &mut Conn<'_>) -> Result<HashMap<i64, (NaiveDate, i64)>> {
    let rows: Vec<(i64, NaiveDate, i64)> = Sql::new("select x.org_id, p.established_on, p.full_members from party_org_orgs x join party_orgs p on p.id = x.party_org_id where p.dissolved_on is null and p.form in ('independent', 'dispatched')")
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(o, d, n)| (o, (d, n))).collect())
}

/// 09:00 China time on `day`.
fn at(day: NaiveDate) -> crate::db::Timestamp {
    Utc.from_utc_datetime(&day.and_hms_opt(1, 0, 0).unwrap_or_default())
}
