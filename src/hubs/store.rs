//! Federations, their members and liaison points in the database, and the network figures.
//! Writes are one statement each plus their audit entry, inside the caller's transaction.

use super::{Federation, LiaisonPoint};
use crate::areas::store::{AreaRow, subtree_predicate};
use crate::areas::{AreaId, AreaLevel};
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;

/// A federation as stored, with its street.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FederationRow {
    /// Id.
    pub id: i64,
    /// Its street or town.
    pub area_id: i64,
    /// The street's code.
    pub area_code: String,
    /// The street's name.
    pub area_name: String,
    /// 名称.
    pub name: String,
    /// 成立日期.
    pub founded_on: Option<NaiveDate>,
    /// 会长.
    pub chair: String,
    /// 秘书长.
    pub secretary_general: String,
    /// 联系电话.
    pub contact_phone: String,
    /// Optimistic-concurrency version.
    pub version: i64,
}

const FEDERATION: &str = "select f.id, f.area_id, a.code as area_code, a.name as area_name, f.name, f.founded_on, f.chair, f.secretary_general, f.contact_phone, f.version from federations f join areas a on a.id = f.area_id where 1 = 1";

/// Federation `id`.
pub async fn federation(conn: &mut Conn<'_>, id: i64) -> Result<FederationRow> {
    let mut sql = Sql::new(FEDERATION);
    sql.push(" and f.id = ").push_arg(id);
    sql.fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// The federations of the streets under `area`, by street code.
pub async fn federations_under(conn: &mut Conn<'_>, area: AreaId) -> Result<Vec<FederationRow>> {
    let mut sql = Sql::new(FEDERATION);
    sql.push(" and ");
    subtree_predicate(&mut sql, "f.area_id", &[area]);
    sql.push(" order by a.code");
    Ok(sql.fetch_all(conn).await?)
}

/// Founds the federation of `street` (one per street or town).
pub async fn create_federation(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    street: &AreaRow,
    f: &Federation,
) -> Result<i64> {
    if street.level() != AreaLevel::Street {
        return Err(Error::field("area_code", Msg::new("hubs.error.not_street")));
    }
    let exists = Sql::new("select count(*) from federations where area_id = $1")
        .arg(street.id)
        .fetch_i64(conn)
        .await?;
    if exists > 0 {
        return Err(Error::field(
            "area_code",
            Msg::new("hubs.error.federation_exists"),
        ));
    }
    let id = Sql::new("insert into federations (area_id, name, founded_on, chair, secretary_general, contact_phone, version, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, 1, $7, $7) returning id")
        .arg(street.id)
        .arg(f.name.as_str())
        .arg(f.founded_on)
        .arg(f.chair.as_str())
        .arg(f.secretary_general.as_str())
        .arg(f.contact_phone.as_str())
        .arg(at)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "federation", Some(id), &f.name),
    )
    .await?;
    Ok(id)
}

/// Changes a federation's particulars at `version`.
pub async fn update_federation(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    id: i64,
    version: i64,
    f: &Federation,
) -> Result<()> {
    let changed = Sql::new("update federations set name = $1, founded_on = $2, chair = $3, secretary_general = $4, contact_phone = $5, version = version + 1, updated_at = $6 where id = $7 and version = $8")
        .arg(f.name.as_str())
        .arg(f.founded_on)
        .arg(f.chair.as_str())
        .arg(f.secretary_general.as_str())
        .arg(f.contact_phone.as_str())
        .arg(at)
        .arg(id)
        .arg(version)
        .execute(conn)
        .await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("hubs.error.stale")));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of("update", "federation", Some(id), &f.name),
    )
    .await?;
    Ok(())
}

/// A member organization of a federation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    /// Membership id.
    pub id: i64,
    /// The organization.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Its kind.
    pub org_kind: String,
    /// Joined on.
    pub joined_on: NaiveDate,
    /// Left on.
    pub left_on: Option<NaiveDate>,
}

/// The members of federation `id`, current ones first, by name.
pub async fn members(conn: &mut Conn<'_>, id: i64) -> Result<Vec<MemberRow>> {
    Ok(Sql::new("select m.id, m.org_id, o.name as org_name, o.kind as org_kind, m.joined_on, m.left_on from federation_members m join organizations o on o.id = m.org_id where m.federation_id = $1 order by case when m.left_on is null then 0 else 1 end, o.name")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// Admits `org_id` to the federation on `joined_on`: the organization must be located in the
/// federation's street and not already a member.
pub async fn admit(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    federation: &FederationRow,
    org_id: i64,
    joined_on: NaiveDate,
) -> Result<i64> {
    let mut inside = Sql::new("select count(*) from organizations o where o.id = ");
    inside
        .push_arg(org_id)
        .push(" and o.status in ('preparing', 'active', 'abnormal') and ");
    subtree_predicate(&mut inside, "o.area_id", &[AreaId(federation.area_id)]);
    if inside.fetch_i64(conn).await? == 0 {
        return Err(Error::field("org", Msg::new("hubs.error.outside_street")));
    }
    let already = Sql::new("select count(*) from federation_members where federation_id = $1 and org_id = $2 and left_on is null")
        .arg(federation.id)
        .arg(org_id)
        .fetch_i64(conn)
        .await?;
    if already > 0 {
        return Err(Error::field("org", Msg::new("hubs.error.already_member")));
    }
    let id = Sql::new("insert into federation_members (federation_id, org_id, joined_on, left_on) values ($1, $2, $3, null) returning id")
        .arg(federation.id)
        .arg(org_id)
        .arg(joined_on)
        .fetch_i64(conn)
        .await?;
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "admit",
            "federation",
            Some(federation.id),
            &org_id.to_string(),
        ),
    )
    .await?;
    Ok(id)
}

/// Records that a member left on `left_on`.
pub async fn leave(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    federation_id: i64,
    member_id: i64,
    left_on: NaiveDate,
) -> Result<()> {
    let changed = Sql::new("update federation_members set left_on = $1 where id = $2 and federation_id = $3 and left_on is null and joined_on <= $1")
        .arg(left_on)
        .arg(member_id)
        .arg(federation_id)
        .execute(conn)
        .await?;
    if changed != 1 {
        return Err(Error::Conflict(Msg::new("hubs.error.stale")));
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "leave",
            "federation",
            Some(federation_id),
            &member_id.to_string(),
        ),
    )
    .await?;
    Ok(())
}

/// A liaison point as stored, with its community.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LiaisonRow {
    /// Id.
    pub id: i64,
    /// Its community or village.
    pub area_id: i64,
    /// The community's code.
    pub area_code: String,
    /// 名称.
    pub name: String,
    /// 地址.
    pub address: String,
    /// 设立日期.
    pub established_on: Option<NaiveDate>,
    /// 联络员.
    pub liaison_name: String,
    /// 联络员电话 (staff only).
    pub liaison_phone: String,
}

/// The liaison points of the communities under `area`, by community code.
pub async fn liaison_points_under(conn: &mut Conn<'_>, area: AreaId) -> Result<Vec<LiaisonRow>> {
    let mut sql = Sql::new(
        "select p.id, p.area_id, a.code as area_code, p.name, p.address, p.established_on, p.liaison_name, p.liaison_phone from liaison_points p join areas a on a.id = p.area_id where ",
    );
    subtree_predicate(&mut sql, "p.area_id", &[area]);
    sql.push(" order by a.code");
    Ok(sql.fetch_all(conn).await?)
}

/// Sets up or changes the liaison point of `community` (one per community or village).
pub async fn save_liaison_point(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    community: &AreaRow,
    p: &LiaisonPoint,
) -> Result<i64> {
    if community.level() != AreaLevel::Community {
        return Err(Error::field(
            "area_code",
            Msg::new("hubs.error.not_community"),
        ));
    }
    let existing: Option<(i64,)> = Sql::new("select id from liaison_points where area_id = $1")
        .arg(community.id)
        .fetch_optional(conn)
        .await?;
    let id = match existing {
        Some((id,)) => {
            Sql::new("update liaison_points set name = $1, address = $2, established_on = $3, liaison_name = $4, liaison_phone = $5, version = version + 1, updated_at = $6 where id = $7")
                .arg(p.name.as_str())
                .arg(p.address.as_str())
                .arg(p.established_on)
                .arg(p.liaison_name.as_str())
                .arg(p.liaison_phone.as_str())
                .arg(at)
                .arg(id)
                .execute(conn)
                .await?;
            id
        }
        None => Sql::new("insert into liaison_points (area_id, name, address, established_on, liaison_name, liaison_phone, version, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, 1, $7, $7) returning id")
            .arg(community.id)
            .arg(p.name.as_str())
            .arg(p.address.as_str())
            .arg(p.established_on)
            .arg(p.liaison_name.as_str())
            .arg(p.liaison_phone.as_str())
            .arg(at)
            .fetch_i64(conn)
            .await?,
    };
    append(
        conn,
        at,
        actor,
        NewEntry::of("save", "liaison_point", Some(id), &p.name),
    )
    .await?;
    Ok(id)
}

/// The network figures of one area's subtree (SPEC §3.7, the four-level network).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NodeFigures {
    /// Live organizations (preparing, active, abnormal) by kind: social groups, private
    /// non-enterprise units, foundations, filed community organizations.
    pub social_groups: i64,
    /// 民办非企业单位.
    pub private_non_enterprise: i64,
    /// 基金会.
    pub foundations: i64,
    /// 社区社会组织.
    pub community: i64,
    /// All of them.
    pub organizations: i64,
    /// Federations in the subtree.
    pub federations: i64,
    /// Their current members.
    pub federation_members: i64,
    /// Communities and villages in the subtree.
    pub communities: i64,
    /// Of them, with a liaison point.
    pub with_liaison_point: i64,
    /// Live organizations covered by party work: their own or a joint party organization, or
    /// an instructor (the party module's count).
    pub party_covered: i64,
}

/// Counts the figures of `area`'s subtree.
pub async fn figures(conn: &mut Conn<'_>, area: AreaId) -> Result<NodeFigures> {
    let mut kinds = Sql::new(
        "select o.kind, count(*) from organizations o where o.status in ('preparing', 'active', 'abnormal') and ",
    );
    subtree_predicate(&mut kinds, "o.area_id", &[area]);
    kinds.push(" group by o.kind");
    let by_kind: Vec<(String, i64)> = kinds.fetch_all(conn).await?;
    let n = |k: &str| {
        by_kind
            .iter()
            .find(|(kind, _)| kind == k)
            .map_or(0, |(_, c)| *c)
    };
    let mut f = NodeFigures {
        social_groups: n("social_group"),
        private_non_enterprise: n("private_non_enterprise"),
        foundations: n("foundation"),
        community: n("community"),
        organizations: by_kind.iter().map(|(_, c)| c).sum(),
        ..NodeFigures::default()
    };
    f.federations = federations_sql("select count(*)", area, None)
        .fetch_i64(conn)
        .await?;
    let mut members = Sql::new(
        "select count(*) from federation_members m join federations f on f.id = m.federation_id where m.left_on is null and ",
    );
    subtree_predicate(&mut members, "f.area_id", &[area]);
    f.federation_members = members.fetch_i64(conn).await?;
    let (all, with): (i64, i64) = communities_sql("select count(*), count(p.id)", area, None)
        .fetch_one(conn)
        .await?;
    f.communities = all;
    f.with_liaison_point = with;
    let party = crate::party::coverage::summary(conn, &crate::auth::Scope::All, Some(area)).await?;
    f.party_covered = party.covered_own + party.covered_joint + party.covered_instructor;
    Ok(f)
}

/// "Set up by the end of `on`" for a record of `alias` with an optional date column `date`:
/// by that date when one is recorded, else by when the record was entered (no other date is
/// kept); with no day, every record.
fn set_up_by(sql: &mut Sql, alias: &str, date: &str, on: Option<NaiveDate>) {
    if let Some(day) = on {
        sql.push(&format!(" and ({alias}.{date} <= "))
            .push_arg(day)
            .push(&format!(
                " or ({alias}.{date} is null and {alias}.created_at <= "
            ))
            .push_arg(crate::registry::store::end_of_day_china(day))
            .push("))");
    }
}

/// The federations of the streets under `area` founded by the end of `on` (every one when
/// none), as `columns` of `f` and its street `a`: `count(*)` for the figure, row columns for
/// its list. Federations are never dissolved in the records, so none ends.
pub fn federations_sql(columns: &str, area: AreaId, on: Option<NaiveDate>) -> Sql {
    let mut sql = Sql::new(columns);
    sql.push(" from federations f join areas a on a.id = f.area_id where ");
    subtree_predicate(&mut sql, "f.area_id", &[area]);
    set_up_by(&mut sql, "f", "founded_on", on);
    sql
}

/// The communities and villages under `area` that existed at the end of `on` (every one when
/// none), each with its liaison point `p` if one was set up by then (else `p.*` is null), as
/// `columns` of `a` and `p`. A division is valid from `valid_from` to `valid_to` inclusive when
/// those are recorded.
pub fn communities_sql(columns: &str, area: AreaId, on: Option<NaiveDate>) -> Sql {
    let mut sql = Sql::new(columns);
    sql.push(" from areas a left join liaison_points p on p.area_id = a.id");
    set_up_by(&mut sql, "p", "established_on", on);
    sql.push(" where a.level = 'community' and ");
    subtree_predicate(&mut sql, "a.id", &[area]);
    if let Some(day) = on {
        sql.push(" and (a.valid_from is null or a.valid_from <= ")
            .push_arg(day)
            .push(") and (a.valid_to is null or a.valid_to >= ")
            .push_arg(day)
            .push(")");
    }
    sql
}

/// Organizations located at `area` itself, not in any child area (so that a parent's figure is
/// its children's sum plus these).
pub async fn located_directly(conn: &mut Conn<'_>, area: AreaId) -> Result<i64> {
    Ok(Sql::new("select count(*) from organizations where area_id = $1 and status in ('preparing', 'active', 'abnormal')")
        .arg(area)
        .fetch_i64(conn)
        .await?)
}
