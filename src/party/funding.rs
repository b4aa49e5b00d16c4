//! Party-building funding (SPEC §3.6): the allowance rates in force, the year's budget per area
//! and in total computed from the records with the rule of [`super::counted_months`], and the
//! payments recorded against it.

use super::store::restrict;
use super::{NewPayment, PartyOrgId, Rates};
use crate::areas::AreaId;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::Scope;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, Result};
use crate::i18n::Msg;
use chrono::NaiveDate;
use std::collections::HashMap;

/// The allowance amounts in force on the first day of each month of `year` (settings with
/// effective dates).
pub async fn rates(conn: &mut Conn<'_>, year: i32) -> Result<Rates> {
    let setting = |key: &str| {
        crate::settings::SettingDef::find(key)
            .ok_or_else(|| Error::Other(format!("unknown setting {key}")))
    };
    let org_def = setting("party_org_allowance_yuan")?;
    let cadre_def = setting("party_cadre_allowance_yuan_month")?;
    let mut rates = Rates::flat(0, 0);
    for m in 0..12 {
        let first = NaiveDate::from_ymd_opt(year, m as u32 + 1, 1)
            .ok_or_else(|| Error::field("year", Msg::new("error.field.choice")))?;
        let yuan = |v: String| crate::party::parse_yuan(&v).map_or(0, |fen| fen / 100);
        rates.org_yuan_year[m] =
            yuan(crate::settings::store::value_on(conn, org_def, first).await?);
        rates.cadre_yuan_month[m] =
            yuan(crate::settings::store::value_on(conn, cadre_def, first).await?);
    }
    Ok(rates)
}

/// One line of the funding table: an area's (or the total's) budget and payments.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FundingLine {
    /// The area (0 for the total).
    pub area_id: i64,
    /// Its name ("" for the total).
    pub area_name: String,
    /// Party organizations with an allowance in the year.
    pub party_orgs: i64,
    /// Cadres with an allowance in the year.
    pub cadres: i64,
    /// Party organizations' allowances (fen).
    pub orgs_fen: i64,
    /// Cadres' allowances (fen).
    pub cadres_fen: i64,
    /// Paid against the year (fen).
    pub paid_fen: i64,
}

impl FundingLine {
    /// The budget (fen).
    pub fn budget_fen(&self) -> i64 {
        self.orgs_fen + self.cadres_fen
    }

    fn add(&mut self, other: &FundingLine) {
        self.party_orgs += other.party_orgs;
        self.cadres += other.cadres;
        self.orgs_fen += other.orgs_fen;
        self.cadres_fen += other.cadres_fen;
        self.paid_fen += other.paid_fen;
    }
}

/// A year's funding per area and in total.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Funding {
    /// The year.
    pub year: i32,
    /// Per child area of the area asked for (or of the district).
    pub lines: Vec<FundingLine>,
    /// The total.
    pub total: FundingLine,
}

#[derive(sqlx::FromRow)]
struct FundedOrg {
    id: i64,
    name: String,
    area_name: String,
    established_on: NaiveDate,
    dissolved_on: Option<NaiveDate>,
    group_id: i64,
    group_name: String,
    group_code: String,
}

#[derive(sqlx::FromRow)]
struct FundedCadre {
    party_org_id: i64,
    started_on: NaiveDate,
    ended_on: Option<NaiveDate>,
}

/// One party organization's part of a year's budget (see [`budget_by_party_org`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PartyOrgBudget {
    /// The party organization.
    pub party_org_id: i64,
    /// Its name.
    pub name: String,
    /// The area of the organization it sits in.
    pub area_name: String,
    /// Its allowance, its cadres' and the payments (fen); `area_id`/`area_name` are those of
    /// the child area it is counted under.
    pub line: FundingLine,
}

/// Every party organization under `root` (the district when none) within `scope` with its
/// budget line for `year` and the child area of `root` it is counted under (the one rule both
/// [`funding`] and [`budget_by_party_org`] add up).
async fn party_org_lines(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: Option<AreaId>,
    year: i32,
) -> Result<Vec<(FundedOrg, FundingLine)>> {
    let rates = rates(conn, year).await?;
    let root = match area {
        Some(a) => a,
        None => match crate::areas::store::root(conn).await? {
            Some(r) => r.area_id(),
            None => return Ok(Vec::new()),
        },
    };
    let mut sql = Sql::new(
        "select p.id, p.name, oa.name as area_name, p.established_on, p.dissolved_on, g.id as group_id, g.name as group_name, g.code as group_code from party_orgs p join organizations o on o.id = p.org_id join areas oa on oa.id = o.area_id join area_closure c on c.descendant_id = o.area_id join areas g on g.id = c.ancestor_id where (g.parent_id = ",
    );
    sql.push_arg(root)
        .push(" or (g.id = ")
        .push_arg(root)
        .push(" and o.area_id = ")
        .push_arg(root)
        .push("))");
    restrict(&mut sql, scope);
    sql.push(" order by g.code, p.name, p.id");
    let orgs: Vec<FundedOrg> = sql.fetch_all(conn).await?;
    let ids: Vec<i64> = orgs.iter().map(|o| o.id).collect();
    let mut sql = Sql::new(
        "select party_org_id, started_on, ended_on from party_cadres where party_org_id in (",
    );
    sql.push_list(&ids).push(")");
    let cadres: Vec<FundedCadre> = sql.fetch_all(conn).await?;
    let paid: Vec<(i64, i64)> = Sql::new("select party_org_id, cast(sum(amount_fen) as bigint) from party_payments where year = $1 group by party_org_id")
        .arg(i64::from(year))
        .fetch_all(conn)
        .await?;
    let paid: HashMap<i64, i64> = paid.into_iter().collect();
    let mut per_org: HashMap<i64, FundingLine> = HashMap::new();
    for c in &cadres {
        let fen = super::cadre_allowance_fen(&rates, year, c.started_on, c.ended_on);
        let line = per_org.entry(c.party_org_id).or_default();
        if fen > 0 {
            line.cadres += 1;
            line.cadres_fen += fen;
        }
    }
    Ok(orgs
        .into_iter()
        .map(|o| {
            let mut line = per_org.remove(&o.id).unwrap_or_default();
            line.orgs_fen =
                super::org_allowance_fen(&rates, year, o.established_on, o.dissolved_on);
            line.party_orgs = i64::from(line.orgs_fen > 0);
            line.paid_fen = paid.get(&o.id).copied().unwrap_or(0);
            line.area_id = o.group_id;
            line.area_name = o.group_name.clone();
            (o, line)
        })
        .collect())
}

/// The year's budget computed from the records (see [`super::counted_months`] for the rule),
/// with the payments recorded against it, per child area of `area` (the district when none) and
/// in total, within `scope`.
pub async fn funding(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: Option<AreaId>,
    year: i32,
) -> Result<Funding> {
    let mut groups: Vec<(String, FundingLine)> = Vec::new();
    let mut total = FundingLine::default();
    for (o, line) in party_org_lines(conn, scope, area, year).await? {
        match groups.iter_mut().find(|(_, g)| g.area_id == o.group_id) {
            Some((_, g)) => g.add(&line),
            None => {
                let mut g = FundingLine {
                    area_id: o.group_id,
                    area_name: o.group_name.clone(),
                    ..FundingLine::default()
                };
                g.add(&line);
                groups.push((o.group_code.clone(), g));
            }
        }
        total.add(&line);
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Funding {
        year,
        lines: groups.into_iter().map(|(_, g)| g).collect(),
        total,
    })
}

/// The lines [`funding`] adds up: each party organization with a budget or a payment in
/// `year`, by child area and name; their budgets sum to the total's.
pub async fn budget_by_party_org(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: Option<AreaId>,
    year: i32,
) -> Result<Vec<PartyOrgBudget>> {
    Ok(party_org_lines(conn, scope, area, year)
        .await?
        .into_iter()
        .filter(|(_, line)| line.budget_fen() > 0 || line.paid_fen > 0)
        .map(|(o, line)| PartyOrgBudget {
            party_org_id: o.id,
            name: o.name,
            area_name: o.area_name,
            line,
        })
        .collect())
}

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PaymentRow {
    /// Id.
    pub id: i64,
    /// Party organization.
    pub party_org_id: i64,
    /// Its name.
    pub party_org_name: String,
    /// Budget year.
    pub year: i64,
    /// Date paid.
    pub paid_on: NaiveDate,
    /// Amount (fen).
    pub amount_fen: i64,
    /// Note.
    pub note: String,
}

/// Records a payment against a year's budget.
pub async fn record_payment(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    new: &NewPayment,
) -> Result<i64> {
    let known: i64 = Sql::new("select count(*) from party_orgs where id = $1")
        .arg(new.party_org)
        .fetch_i64(conn)
        .await?;
    if known == 0 {
        return Err(Error::field("party_org", Msg::new("error.field.choice")));
    }
    let id = Sql::new("insert into party_payments (party_org_id, year, paid_on, amount_fen, note, created_by, created_at) values ($1, $2, $3, $4, $5, $6, $7) returning id")
        .arg(new.party_org)
        .arg(new.year)
        .arg(new.paid_on)
        .arg(new.amount_fen)
        .arg(new.note.as_str())
        .arg(actor.name.as_str())
        .arg(at)
        .fetch_i64(conn)
        .await?;
    let summary = format!("{} {}", new.year, crate::web::yuan(new.amount_fen));
    append(
        conn,
        at,
        actor,
        NewEntry::of("pay", "party_org", Some(new.party_org.0), &summary),
    )
    .await?;
    Ok(id)
}

/// Payments against `year` of the party organizations in scope (`party` alone when given).
pub async fn payments(
    conn: &mut Conn<'_>,
    scope: &Scope,
    year: i64,
    party: Option<PartyOrgId>,
) -> Result<Vec<PaymentRow>> {
    let mut sql = Sql::new(
        "select y.id, y.party_org_id, p.name as party_org_name, y.year, y.paid_on, y.amount_fen, y.note from party_payments y join party_orgs p on p.id = y.party_org_id where y.year = ",
    );
    sql.push_arg(year);
    if let Some(party) = party {
        sql.push(" and p.id = ").push_arg(party);
    }
    restrict(&mut sql, scope);
    sql.push(" order by y.paid_on desc, y.id desc");
    Ok(sql.fetch_all(conn).await?)
}
