//! The demo's annual inspection (SPEC §4: "年检率及年检合格率均达到100%"): every registered
//! organization that was due filed its 2012, 2013 and 2014 reports through the real store
//! functions, most on time and some days late, and every one passed. The business date is
//! set to 2015-06-30, after the 2014 deadline. Two organizations unreachable at their address
//! show the credit list at work: one still listed, one removed after it was found again.

use super::credit::{self, NewListing};
use super::store::{self, Decision};
use super::{ListingReason, RemovalReason, ReportForm, ReportResult, Rules};
use crate::audit::Actor;
use crate::db::{Conn, Sql};
use crate::demo::rng::Rng;
use crate::error::Result;
use chrono::{Datelike, NaiveDate, TimeZone, Utc};

/// The demo's business date.
pub const DEMO_TODAY: &str = "2015-06-30";

/// The report years the demo fills.
pub const DEMO_YEARS: [i64; 3] = [2012, 2013, 2014];

fn at(day: NaiveDate, hour: u32) -> crate::db::Timestamp {
    // Hours in China time.
    Utc.from_utc_datetime(
        &day.and_hms_opt(hour.saturating_sub(8), 0, 0)
            .unwrap_or_default(),
    )
}

/// Writes the demo's reports, results, listings and business date.
pub async fn load(conn: &mut Conn<'_>, seed: u64) -> Result<()> {
    let demo = Actor::system("demo");
    let today: NaiveDate = DEMO_TODAY.parse().unwrap_or(NaiveDate::MIN);
    let def = crate::settings::SettingDef::find("clock_date")
        .ok_or_else(|| crate::error::Error::Other("clock_date".into()))?;
    let since = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    crate::settings::store::set(conn, &demo, Utc::now(), def, DEMO_TODAY, since).await?;
    let rules = Rules::default();
    let mut rng = Rng::new(seed ^ 0x1A2B);
    let registrar = Actor::system("registrar");
    let own = crate::party::demo::own_party_members(conn).await?;
    for year in DEMO_YEARS {
        let lines = store::calendar(
            conn,
            &crate::auth::Scope::All,
            year,
            None,
            None,
            &rules,
            today,
        )
        .await?;
        for line in lines.iter().filter(|l| l.filing != super::Filing::NotDue) {
            let org = Actor::system(&format!("org:{}", line.row.org_id));
            let scale = rng.between(5, 400) * 10_000; // yuan of yearly income
            let yuan = |share: i64| ((scale * share) / 100).to_string();
            let form = ReportForm {
                income_donations: yuan(rng.between(10, 50)),
                income_government: yuan(rng.between(0, 30)),
                income_services: yuan(rng.between(0, 20)),
                income_dues: if line.row.kind == "social_group" {
                    yuan(10)
                } else {
                    "0".into()
                },
                income_other: yuan(rng.between(0, 5)),
                expenditure_programmes: yuan(rng.between(50, 75)),
                expenditure_total: yuan(rng.between(80, 95)),
                assets: yuan(rng.between(40, 160)),
                liabilities: yuan(rng.between(0, 30)),
                staff: rng.between(1, 25).to_string(),
                members: rng.between(8, 300).to_string(),
                volunteers: rng.between(0, 200).to_string(),
                // As the party records say: the full members of the organization's own party
                // organization once it was set up by the year's end, else fewer than three.
                party_members: {
                    let drawn = rng.between(0, 12);
                    match own.get(&line.row.org_id) {
                        Some((set_up, full)) if i64::from(set_up.year()) <= year => *full,
                        _ => drawn % 3,
                    }
                }
                .to_string(),
                activities: format!(
                    "{year}年度按照章程开展业务活动{}次，服务群众约{}人次。",
                    rng.between(6, 60),
                    rng.between(200, 8000)
                ),
                officers: "负责人及理事会成员无变动。".into(),
                changes: "无登记事项变更。".into(),
                donations_and_grants: "接受社会捐赠，按捐赠协议使用，未开展对外资助。".into(),
                awards: String::new(),
                party_building: "党员纳入所在党组织管理，按期开展三会一课。".into(),
                rectification: String::new(),
            };
            let report = form.parse(false).map_err(crate::error::Error::Invalid)?;
            let deadline = line.deadline;
            // About one in fifteen filed up to three weeks late; the rest in the two months
            // before the deadline.
            let filed = if rng.chance(7) {
                deadline + chrono::Duration::days(rng.between(1, 21))
            } else {
                deadline - chrono::Duration::days(rng.between(0, 60))
            };
            let id = store::save(
                conn,
                &org,
                at(filed, 9),
                line.row.org_id,
                year,
                &report,
                None,
            )
            .await?;
            let row = store::find(conn, line.row.org_id, year)
                .await?
                .filter(|r| r.id == id)
                .ok_or(crate::error::Error::NotFound)?;
            store::submit(conn, &org, at(filed, 10), &row, false).await?;
            let row = store::find(conn, line.row.org_id, year)
                .await?
                .ok_or(crate::error::Error::NotFound)?;
            let reviewed = filed + chrono::Duration::days(rng.between(3, 20));
            store::review(
                conn,
                &registrar,
                at(reviewed.min(today), 15),
                &row,
                row.version,
                store::Review {
                    decision: Decision::Result(ReportResult::Pass),
                    reasons: "",
                    supervisor_opinion: "",
                },
            )
            .await?;
        }
    }
    unreachable_listings(conn, &registrar, today, &rules).await?;
    credit::sweep(conn, &demo, Utc::now(), today, &rules).await?;
    Ok(())
}

/// Two organizations whose registered address did not answer two registered letters.
async fn unreachable_listings(
    conn: &mut Conn<'_>,
    registrar: &Actor,
    today: NaiveDate,
    rules: &Rules,
) -> Result<()> {
    let picked: Vec<(i64,)> = Sql::new("select id from organizations where kind = 'social_group' and status = 'active' and direct_registration = false order by id desc limit 2")
        .fetch_all(conn)
        .await?;
    for (n, (org_id,)) in picked.into_iter().enumerate() {
        let listed_on = today - chrono::Duration::days(if n == 0 { 40 } else { 150 });
        let new = NewListing {
            org_id,
            reason: ListingReason::Unreachable,
            subject_year: None,
            detail: "两次以挂号信向登记住所寄送通知，均无人签收。".into(),
            evidence: format!(
                "挂号信 XA{}, XA{}",
                610_000 + org_id * 2,
                610_001 + org_id * 2
            ),
            listed_on,
            escalated_from: None,
        };
        let id = credit::add(conn, registrar, at(listed_on, 10), &new, false).await?;
        if n == 1 {
            let listing = credit::get(conn, &crate::auth::Scope::All, id).await?;
            let found = listed_on + chrono::Duration::days(60);
            credit::remove(
                conn,
                registrar,
                at(found, 11),
                &listing,
                credit::Removal {
                    reason: RemovalReason::Rectified,
                    detail: "已核实新住所并办理住所变更，恢复联系。",
                },
                found,
                rules,
            )
            .await?;
        }
    }
    Ok(())
}
