//! People, their roles and account links, and the conflict-of-interest check read from the
//! registry. Only staff who manage funding reach these records (district-wide), so reads take no
//! area scope; every write appends its audit entry inside the caller's transaction.

use super::{Conflict, NewOrgRole, NewPerson, OrgRole, PersonId, Relation, role_counts};
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::UserId;
use crate::db::{Conn, Sql, Timestamp, is_unique_violation};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// The installation's salt, made on first use.
pub async fn salt(conn: &mut Conn<'_>) -> Result<String> {
    if let Some((s,)) = Sql::new("select salt from person_salt where id = 1")
        .fetch_optional::<(String,)>(conn)
        .await?
    {
        return Ok(s);
    }
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::Other(format!("random: {e}")))?;
    let s: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Sql::new("insert into person_salt (id, salt) values (1, $1) on conflict (id) do nothing")
        .arg(&s)
        .execute(conn)
        .await?;
    let (s,): (String,) = Sql::new("select salt from person_salt where id = 1")
        .fetch_one(conn)
        .await?;
    Ok(s)
}

/// A person as stored (never the number in clear).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Masked identity-card number.
    pub id_masked: String,
    /// The linked account's sign-in name, if any.
    pub username: Option<String>,
}

const SELECT: &str = "select p.id, p.name, p.id_masked, u.username from people p left join person_accounts pa on pa.person_id = p.id left join users u on u.id = pa.user_id";

/// Records a person; refuses a number already on file (field `id_number`).
pub async fn create_person(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    new: &NewPerson,
) -> Result<PersonId> {
    let salt = salt(conn).await?;
    let hash = super::hash_id_number(&salt, &new.id_number);
    let res: std::result::Result<(i64,), _> = Sql::new("insert into people (name, id_hash, id_masked, created_at) values ($1, $2, $3, $4) returning id")
        .arg(&new.name)
        .arg(hash)
        .arg(super::mask_id_number(&new.id_number))
        .arg(at)
        .fetch_one(conn)
        .await;
    let (id,) = match res {
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::field(
                "id_number",
                Msg::new("people.error.duplicate"),
            ));
        }
        r => r?,
    };
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "person", Some(id), &new.name),
    )
    .await?;
    Ok(PersonId(id))
}

/// The person with identity-card number `id_number` (already normalised), if on file.
pub async fn find_by_id_number(conn: &mut Conn<'_>, id_number: &str) -> Result<Option<PersonId>> {
    let salt = salt(conn).await?;
    let row: Option<(i64,)> = Sql::new("select id from people where id_hash = $1")
        .arg(super::hash_id_number(&salt, id_number))
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(id,)| PersonId(id)))
}

/// Every person, by name.
pub async fn list(conn: &mut Conn<'_>) -> Result<Vec<PersonRow>> {
    Ok(Sql::new(&format!("{SELECT} order by p.name, p.id"))
        .fetch_all(conn)
        .await?)
}

/// Person `id`.
pub async fn get(conn: &mut Conn<'_>, id: PersonId) -> Result<PersonRow> {
    Sql::new(&format!("{SELECT} where p.id = $1"))
        .arg(id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// A role as stored, with the organization's name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoleRow {
    /// Id.
    pub id: i64,
    /// Organization.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Machine name of [`OrgRole`].
    pub role: String,
    /// Since.
    pub started_on: NaiveDate,
    /// Until.
    pub ended_on: Option<NaiveDate>,
}

impl RoleRow {
    /// The role.
    pub fn role(&self) -> OrgRole {
        OrgRole::parse(&self.role).unwrap_or(OrgRole::Member)
    }
}

/// The roles of person `id`, latest first.
pub async fn roles_of(conn: &mut Conn<'_>, id: PersonId) -> Result<Vec<RoleRow>> {
    Ok(Sql::new("select r.id, r.org_id, o.name as org_name, r.role, r.started_on, r.ended_on from org_roles r join organizations o on o.id = r.org_id where r.person_id = $1 order by r.started_on desc, r.id")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// Records a role; refuses an unknown organization (field `org`).
pub async fn add_role(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    person: PersonId,
    new: &NewOrgRole,
) -> Result<i64> {
    let known: Option<(i64,)> = Sql::new("select id from organizations where id = $1")
        .arg(new.org_id)
        .fetch_optional(conn)
        .await?;
    if known.is_none() {
        return Err(Error::field("org", Msg::new("error.field.choice")));
    }
    let (id,): (i64,) = Sql::new("insert into org_roles (person_id, org_id, role, started_on, ended_on, created_at) values ($1, $2, $3, $4, $5, $6) returning id")
        .arg(person)
        .arg(new.org_id)
        .arg(new.role.as_str())
        .arg(new.started_on)
        .arg(new.ended_on)
        .arg(at)
        .fetch_one(conn)
        .await?;
    let summary = format!("{} {} {}", person.0, new.role.as_str(), new.org_id);
    append(
        conn,
        at,
        actor,
        NewEntry::of("create", "org_role", Some(id), &summary),
    )
    .await?;
    Ok(id)
}

/// Links account `user` to person `person` (replacing an earlier link of the account).
pub async fn link_account(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    person: PersonId,
    user: UserId,
) -> Result<()> {
    Sql::new("delete from person_accounts where user_id = $1 or person_id = $2")
        .arg(user)
        .arg(person)
        .execute(conn)
        .await?;
    Sql::new("insert into person_accounts (user_id, person_id) values ($1, $2)")
        .arg(user)
        .arg(person)
        .execute(conn)
        .await?;
    let summary = format!("user {}", user.0);
    append(
        conn,
        at,
        actor,
        NewEntry::of("link", "person", Some(person.0), &summary),
    )
    .await?;
    Ok(())
}

/// The person behind account `user`, if linked.
pub async fn person_of_user(conn: &mut Conn<'_>, user: UserId) -> Result<Option<PersonId>> {
    let row: Option<(i64,)> = Sql::new("select person_id from person_accounts where user_id = $1")
        .arg(user)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(id,)| PersonId(id)))
}

/// The look-back of the conflict rule in months (setting `conflict_lookback_months`).
pub async fn lookback_months(conn: &mut Conn<'_>, on: NaiveDate) -> Result<u32> {
    let def = crate::settings::SettingDef::find("conflict_lookback_months")
        .ok_or_else(|| Error::Other("unknown setting conflict_lookback_months".into()))?;
    Ok(crate::settings::store::value_on(conn, def, on)
        .await?
        .parse()
        .unwrap_or(24))
}

/// Another organization whose legal representative is also the applicant's, with both posts.
#[derive(sqlx::FromRow)]
struct SharedRep {
    org_id: i64,
    s1: NaiveDate,
    e1: Option<NaiveDate>,
    s2: NaiveDate,
    e2: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct HeldRole {
    org_id: i64,
    org_name: String,
    role: String,
    started_on: NaiveDate,
    ended_on: Option<NaiveDate>,
}

/// Every conflict of interest between a reviewer and an applicant on `on`: the reviewer (the
/// person linked to `user`, and the evaluation module's employment records of that account) is,
/// or was within the look-back, legal representative, officer, staff or member of the
/// applicant, of an organization sharing its joint party organization, or of an organization
/// with the same legal representative. Empty when there is none.
pub async fn conflicts(
    conn: &mut Conn<'_>,
    user: UserId,
    applicant: i64,
    on: NaiveDate,
) -> Result<Vec<Conflict>> {
    let months = lookback_months(conn, on).await?;
    let mut held: Vec<HeldRole> = Vec::new();
    if let Some(person) = person_of_user(conn, user).await? {
        held = Sql::new("select r.org_id, o.name as org_name, r.role, r.started_on, r.ended_on from org_roles r join organizations o on o.id = r.org_id where r.person_id = $1 order by r.id")
            .arg(person)
            .fetch_all(conn)
            .await?;
    }
    // The evaluation module's older record of where an expert worked counts as staff.
    held.extend(
        Sql::new("select e.org_id, o.name as org_name, 'staff' as role, e.started_on, e.ended_on from expert_employments e join organizations o on o.id = e.org_id where e.expert_user_id = $1 order by e.id")
            .arg(user)
            .fetch_all::<HeldRole>(conn)
            .await?,
    );
    let joint: BTreeSet<i64> = Sql::new("select x2.org_id from party_org_orgs x1 join party_org_orgs x2 on x2.party_org_id = x1.party_org_id where x1.org_id = $1 and x2.org_id <> $1")
        .arg(applicant)
        .fetch_all::<(i64,)>(conn)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect();
    let shared: Vec<SharedRep> = Sql::new("select r2.org_id, r1.started_on as s1, r1.ended_on as e1, r2.started_on as s2, r2.ended_on as e2 from org_roles r1 join org_roles r2 on r2.person_id = r1.person_id where r1.org_id = $1 and r1.role = 'legal_representative' and r2.role = 'legal_representative' and r2.org_id <> $1")
        .arg(applicant)
        .fetch_all(conn)
        .await?;
    // Sharing a legal representative means both posts are held on the day.
    let shared: BTreeSet<i64> = shared
        .into_iter()
        .filter(|r| role_counts(r.s1, r.e1, on, 0) && role_counts(r.s2, r.e2, on, 0))
        .map(|r| r.org_id)
        .collect();
    let mut out: Vec<Conflict> = Vec::new();
    for h in held {
        if !role_counts(h.started_on, h.ended_on, on, months) {
            continue;
        }
        let relation = if h.org_id == applicant {
            Relation::Applicant
        } else if joint.contains(&h.org_id) {
            Relation::JointParty
        } else if shared.contains(&h.org_id) {
            Relation::SharedLegalRepresentative
        } else {
            continue;
        };
        let c = Conflict {
            relation,
            org_id: h.org_id,
            org_name: h.org_name,
            role: OrgRole::parse(&h.role).unwrap_or(OrgRole::Staff),
            ended_on: h.ended_on,
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}
