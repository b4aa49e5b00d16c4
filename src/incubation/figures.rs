//! The incubation figures (counted from the stays, never stored): graduated, in incubation and
//! exited, by level and by child area, and the micro-subsidies given.

use super::IncubatorLevel;
use super::store::restrict;
use crate::areas::store::{AreaRow, subtree_predicate};
use crate::auth::Scope;
use crate::db::{Conn, Sql};
use crate::error::Result;
use chrono::NaiveDate;

/// One level's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LevelFigures {
    /// Level (machine name).
    pub level: String,
    /// Incubators.
    pub incubators: i64,
    /// Places.
    pub capacity: i64,
    /// In incubation now.
    pub incubating: i64,
    /// Graduated (出壳).
    pub graduated: i64,
}

/// One child area's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AreaFigures {
    /// Division code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Incubators located there.
    pub incubators: i64,
    /// In incubation now.
    pub incubating: i64,
    /// Graduated (出壳).
    pub graduated: i64,
}

/// The incubation figures of an area (counted from the stays, never stored).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Figures {
    /// Incubators.
    pub incubators: i64,
    /// Their places.
    pub capacity: i64,
    /// Stays graduated (出壳).
    pub graduated: i64,
    /// Stays open now (正在孵化).
    pub incubating: i64,
    /// Stays ended by exit (退出).
    pub exited: i64,
    /// Micro-subsidies given, in fen.
    pub subsidies_fen: i64,
    /// By level, top down.
    pub by_level: Vec<LevelFigures>,
    /// By child area.
    pub by_area: Vec<AreaFigures>,
}

/// Which stays a figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StayState {
    /// 出壳: ended by graduation.
    Graduated,
    /// 正在孵化: entered and not ended.
    Incubating,
}

/// Appends the condition "stay `s` is in `state` at the end of `on`" (now when none): graduated
/// on or before that day, or entered by then and not ended by then (a stay that ends on a day
/// is no longer open at its end).
pub fn push_stay(sql: &mut Sql, state: StayState, on: Option<NaiveDate>) {
    match (state, on) {
        (StayState::Graduated, None) => {
            sql.push("s.outcome = 'graduated'");
        }
        (StayState::Graduated, Some(day)) => {
            sql.push("(s.outcome = 'graduated' and s.ended_on <= ")
                .push_arg(day)
                .push(")");
        }
        (StayState::Incubating, None) => {
            sql.push("(s.id is not null and s.ended_on is null)");
        }
        (StayState::Incubating, Some(day)) => {
            sql.push("(s.entered_on <= ")
                .push_arg(day)
                .push(" and (s.ended_on is null or s.ended_on > ")
                .push_arg(day)
                .push("))");
        }
    }
}

/// The stays in `state` at the end of `on` (now when none) at incubators under `area` within
/// `scope`, as `columns` of the stay `s`, its incubator `i` and organization `o` (null for a
/// group not registered): `count(*)` for the figure, row columns for its list.
pub fn stays_sql(
    columns: &str,
    scope: &Scope,
    area: &AreaRow,
    state: StayState,
    on: Option<NaiveDate>,
) -> Sql {
    let mut sql = Sql::new(columns);
    sql.push(" from incubation_stays s join incubators i on i.id = s.incubator_id left join organizations o on o.id = s.org_id where ");
    subtree_predicate(&mut sql, "i.area_id", &[area.area_id()]);
    restrict(&mut sql, scope, "i");
    sql.push(" and ");
    push_stay(&mut sql, state, on);
    sql
}

/// Counts the figures of `area`'s subtree as `scope` sees it, with each child area's.
pub async fn figures(conn: &mut Conn<'_>, scope: &Scope, area: &AreaRow) -> Result<Figures> {
    let mut sql = Sql::new("select i.level, count(distinct i.id), count(case when ");
    push_stay(&mut sql, StayState::Incubating, None);
    sql.push(" then 1 end), count(case when ");
    push_stay(&mut sql, StayState::Graduated, None);
    sql.push(" then 1 end), count(case when s.outcome = 'exited' then 1 end) from incubators i left join incubation_stays s on s.incubator_id = i.id where ");
    subtree_predicate(&mut sql, "i.area_id", &[area.area_id()]);
    restrict(&mut sql, scope, "i");
    sql.push(" group by i.level");
    let rows: Vec<(String, i64, i64, i64, i64)> = sql.fetch_all(conn).await?;
    let mut caps =
        Sql::new("select i.level, cast(sum(i.capacity) as bigint) from incubators i where ");
    subtree_predicate(&mut caps, "i.area_id", &[area.area_id()]);
    restrict(&mut caps, scope, "i");
    caps.push(" group by i.level");
    let caps: Vec<(String, i64)> = caps.fetch_all(conn).await?;
    let mut f = Figures::default();
    for level in IncubatorLevel::ALL {
        let row = rows.iter().find(|r| r.0 == level.as_str());
        let l = LevelFigures {
            level: level.as_str().to_owned(),
            incubators: row.map_or(0, |r| r.1),
            capacity: caps
                .iter()
                .find(|c| c.0 == level.as_str())
                .map_or(0, |c| c.1),
            incubating: row.map_or(0, |r| r.2),
            graduated: row.map_or(0, |r| r.3),
        };
        f.incubators += l.incubators;
        f.capacity += l.capacity;
        f.incubating += l.incubating;
        f.graduated += l.graduated;
        f.exited += row.map_or(0, |r| r.4);
        f.by_level.push(l);
    }
    let mut money = Sql::new(
        "select cast(coalesce(sum(v.amount_fen), 0) as bigint) from incubation_services v join incubation_stays s on s.id = v.stay_id join incubators i on i.id = s.incubator_id where ",
    );
    subtree_predicate(&mut money, "i.area_id", &[area.area_id()]);
    restrict(&mut money, scope, "i");
    f.subsidies_fen = money.fetch_i64(conn).await?;
    for child in crate::areas::store::children(conn, area.area_id()).await? {
        let mut sql = Sql::new("select count(distinct i.id), count(case when ");
        push_stay(&mut sql, StayState::Incubating, None);
        sql.push(" then 1 end), count(case when ");
        push_stay(&mut sql, StayState::Graduated, None);
        sql.push(" then 1 end) from incubators i left join incubation_stays s on s.incubator_id = i.id where ");
        subtree_predicate(&mut sql, "i.area_id", &[child.area_id()]);
        restrict(&mut sql, scope, "i");
        let (incubators, incubating, graduated): (i64, i64, i64) = sql.fetch_one(conn).await?;
        if incubators > 0 {
            f.by_area.push(AreaFigures {
                code: child.code,
                name: child.name,
                incubators,
                incubating,
                graduated,
            });
        }
    }
    Ok(f)
}
