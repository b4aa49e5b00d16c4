//! The demo's hub network (SPEC §4): a federation of social organizations in 19 of the 21
//! streets and towns (the two with the fewest organizations have none yet), whose members are
//! the registered organizations located there and about a fifth of the filed community
//! groups; and a liaison point with a liaison person in every one of the communities and
//! villages of the division data. Written through the same store functions as the pages.

use super::store;
use super::{Federation, LiaisonPoint};
use crate::areas::AreaLevel;
use crate::areas::store as areas;
use crate::audit::Actor;
use crate::db::{Conn, Sql};
use crate::demo::names::{community_short, person_name, phone, street_short};
use crate::demo::rng::Rng;
use crate::error::Result;
use chrono::{NaiveDate, TimeZone, Utc};

/// Federations the seed reports (街道(乡镇)社会组织联合会19个).
pub const DEMO_FEDERATIONS: usize = 19;

/// Writes the demo's federations, members and liaison points.
pub async fn load(conn: &mut Conn<'_>, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed ^ 0x4B0B);
    let actor = Actor::system("demo");
    let at = Utc
        .with_ymd_and_hms(2014, 12, 1, 1, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let all = areas::list_all(conn).await?;
    // Streets by how many live organizations they hold; the two emptiest have no federation.
    let mut streets = Vec::new();
    for street in all.iter().filter(|a| a.level() == AreaLevel::Street) {
        let mut n = Sql::new("select count(*) from organizations o where o.status = 'active' and ");
        areas::subtree_predicate(&mut n, "o.area_id", &[street.area_id()]);
        streets.push((n.fetch_i64(conn).await?, street));
    }
    streets.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.code.cmp(&b.1.code)));
    for (_, street) in streets.into_iter().take(DEMO_FEDERATIONS) {
        let founded = NaiveDate::from_ymd_opt(
            2013,
            1 + rng.between(0, 11) as u32,
            1 + rng.between(0, 27) as u32,
        );
        let fed = Federation {
            name: format!("{}社会组织联合会", street_short(&street.name)),
            founded_on: founded,
            chair: person_name(&mut rng),
            secretary_general: person_name(&mut rng),
            contact_phone: phone(&mut rng),
        };
        let id = store::create_federation(conn, &actor, at, street, &fed).await?;
        let federation = store::federation(conn, id).await?;
        let mut members =
            Sql::new("select o.id, o.kind from organizations o where o.status = 'active' and ");
        areas::subtree_predicate(&mut members, "o.area_id", &[street.area_id()]);
        members.push(" order by o.id");
        let members: Vec<(i64, String)> = members.fetch_all(conn).await?;
        let joined = founded.unwrap_or(NaiveDate::MIN);
        for (org_id, kind) in members {
            if kind == "community" && !rng.chance(20) {
                continue;
            }
            store::admit(conn, &actor, at, &federation, org_id, joined).await?;
        }
    }
    for community in all.iter().filter(|a| a.level() == AreaLevel::Community) {
        let short = community_short(&community.name);
        let point = LiaisonPoint {
            name: format!("{short}社会组织联络点"),
            address: format!("{}办公室", community.name),
            established_on: NaiveDate::from_ymd_opt(
                2014,
                1 + rng.between(0, 5) as u32,
                1 + rng.between(0, 27) as u32,
            ),
            liaison_name: person_name(&mut rng),
            liaison_phone: phone(&mut rng),
        };
        store::save_liaison_point(conn, &actor, at, community, &point).await?;
    }
    Ok(())
}
