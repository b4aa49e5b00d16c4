//! 孵化与资助项目: the incubators of the area subtree with their stays — in incubation,
//! graduated and exited at the year's end (the incubation figures' own rule, which the summary
//! uses), and the year's entries, graduations and micro-subsidies — and the year's public
//! funding rounds (kind, budget, domains, proposals, funded, amount granted) with what of each
//! went to organizations of the area.

use crate::areas::store::{AreaRow, subtree_predicate};
use crate::auth::Scope;
use crate::db::{Conn, Sql};
use crate::error::Result;
use crate::export::{Cell, Column, ColumnKind, Table};
use crate::i18n::Lang;
use crate::incubation::IncubatorLevel;
use chrono::NaiveDate;

/// One incubator with its stays counted.
#[derive(Debug, Clone, sqlx::FromRow)]
struct IncubatorLine {
    id: i64,
    name: String,
    level: String,
    area_name: String,
    capacity: i64,
    incubating: i64,
    graduated: i64,
    exited: i64,
    entered_in_year: i64,
    graduated_in_year: i64,
    subsidies_fen: i64,
}

/// Fen as yuan.
fn yuan(fen: i64) -> Cell {
    Cell::Number(fen as f64 / 100.0)
}

/// The report's tables.
pub async fn tables(
    conn: &mut Conn<'_>,
    lang: Lang,
    scope: &Scope,
    area: &AreaRow,
    year: i32,
) -> Result<Vec<Table>> {
    Ok(vec![
        incubators(conn, lang, scope, area, year).await?,
        rounds(conn, lang, scope, area, year).await?,
    ])
}

/// The incubators of the subtree within `scope`, district park first.
async fn incubators(
    conn: &mut Conn<'_>,
    lang: Lang,
    scope: &Scope,
    area: &AreaRow,
    year: i32,
) -> Result<Table> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = crate::stats::year_end_day(year);
    // In incubation and graduated at the year's end by the incubation figures' own rule (as
    // the summary counts them); $1 and $2 are the year's first and last days.
    use crate::incubation::figures::{StayState, push_stay};
    let mut sql =
        Sql::new("select i.id, i.name, i.level, a.name as area_name, i.capacity, count(case when ")
            .arg(first)
            .arg(last);
    push_stay(&mut sql, StayState::Incubating, Some(last));
    sql.push(" then 1 end) as incubating, count(case when ");
    push_stay(&mut sql, StayState::Graduated, Some(last));
    sql.push(
        " then 1 end) as graduated, \
         count(case when s.outcome = 'exited' and s.ended_on <= $2 then 1 end) as exited, \
         count(case when s.entered_on >= $1 and s.entered_on <= $2 then 1 end) as entered_in_year, \
         count(case when s.outcome = 'graduated' and s.ended_on >= $1 and s.ended_on <= $2 then 1 end) as graduated_in_year, \
         cast(coalesce((select sum(v.amount_fen) from incubation_services v join incubation_stays vs on vs.id = v.stay_id where vs.incubator_id = i.id and v.given_on >= $1 and v.given_on <= $2), 0) as bigint) as subsidies_fen \
         from incubators i join areas a on a.id = i.area_id left join incubation_stays s on s.incubator_id = i.id where ",
    );
    subtree_predicate(&mut sql, "i.area_id", &[area.area_id()]);
    crate::incubation::store::restrict(&mut sql, scope, "i");
    sql.push(" group by i.id, i.name, i.level, i.capacity, a.name, a.code order by case i.level when 'district' then 0 when 'functional' then 1 else 2 end, a.code, i.id");
    let lines: Vec<IncubatorLine> = sql.fetch_all(conn).await?;

    let org = lang.t("stats.unit.org");
    let mut table = Table::new(
        lang.t("stats.rep.fund.incubators"),
        lang.tf(
            "stats.rep.note.incubation",
            &[("area", &area.name), ("year", &year.to_string())],
        ),
        vec![
            Column::new(lang.t("stats.rep.fund.incubator"), "", ColumnKind::Text),
            Column::new(lang.t("stats.rep.fund.level"), "", ColumnKind::Text),
            Column::new(lang.t("stats.col.area"), "", ColumnKind::Text),
            Column::new(
                lang.t("stats.rep.fund.capacity"),
                lang.t("stats.unit.item"),
                ColumnKind::Count,
            ),
            Column::new(lang.t("stats.key.incubating"), org, ColumnKind::Count),
            Column::new(
                lang.t("stats.key.incubated_graduated"),
                org,
                ColumnKind::Count,
            ),
            Column::new(lang.t("stats.rep.fund.exited"), org, ColumnKind::Count),
            Column::new(
                lang.t("stats.rep.fund.entered_year"),
                org,
                ColumnKind::Count,
            ),
            Column::new(
                lang.t("stats.rep.fund.graduated_year"),
                org,
                ColumnKind::Count,
            ),
            Column::new(
                lang.t("stats.rep.fund.subsidies"),
                lang.t("stats.unit.yuan"),
                ColumnKind::Money,
            ),
        ],
    );
    for l in lines {
        let level =
            IncubatorLevel::parse(&l.level).map_or(l.level.clone(), |v| v.label(lang).to_owned());
        table.rows.push(vec![
            Cell::Link(l.name, format!("/admin/incubators/{}", l.id)),
            Cell::Text(level),
            Cell::Text(l.area_name),
            Cell::Int(l.capacity),
            Cell::Int(l.incubating),
            Cell::Int(l.graduated),
            Cell::Int(l.exited),
            Cell::Int(l.entered_in_year),
            Cell::Int(l.graduated_in_year),
            yuan(l.subsidies_fen),
        ]);
    }
    Ok(table.with_totals(lang.t("stats.sum"), &[]))
}

/// The year's funding rounds whose results are public. Rounds belong to the district, so
/// every area shows the same rounds; the last three columns are what of each went to
/// organizations of the area within `scope`.
async fn rounds(
    conn: &mut Conn<'_>,
    lang: Lang,
    scope: &Scope,
    area: &AreaRow,
    year: i32,
) -> Result<Table> {
    let item = lang.t("stats.unit.item");
    let yuan_unit = lang.t("stats.unit.yuan");
    let mut table = Table::new(
        lang.t("stats.rep.fund.rounds"),
        lang.tf(
            "stats.rep.note.rounds",
            &[("area", &area.name), ("year", &year.to_string())],
        ),
        vec![
            Column::new(lang.t("stats.rep.fund.round"), "", ColumnKind::Text),
            Column::new(lang.t("stats.rep.fund.kind"), "", ColumnKind::Text),
            Column::new(
                lang.t("stats.rep.fund.budget"),
                yuan_unit,
                ColumnKind::Money,
            ),
            Column::new(lang.t("stats.rep.fund.domains"), item, ColumnKind::Count),
            Column::new(lang.t("stats.rep.fund.proposals"), item, ColumnKind::Count),
            Column::new(lang.t("stats.rep.fund.funded"), item, ColumnKind::Count),
            Column::new(
                lang.t("stats.rep.fund.granted"),
                yuan_unit,
                ColumnKind::Money,
            ),
            Column::new(
                lang.t("stats.rep.fund.local_proposals"),
                item,
                ColumnKind::Count,
            ),
            Column::new(
                lang.t("stats.rep.fund.local_funded"),
                item,
                ColumnKind::Count,
            ),
            Column::new(
                lang.t("stats.rep.fund.local_granted"),
                yuan_unit,
                ColumnKind::Money,
            ),
        ],
    );
    for round in crate::funding::award::figures(conn, year).await? {
        let mut sql = Sql::new(
            "select count(*), count(p.granted_fen), cast(coalesce(sum(p.granted_fen), 0) as bigint) from funding_proposals p join organizations o on o.id = p.org_id where p.round_id = ",
        );
        sql.push_arg(round.id).push(" and ");
        subtree_predicate(&mut sql, "o.area_id", &[area.area_id()]);
        scope.restrict_orgs(&mut sql, "o");
        let (proposals, funded, granted_fen): (i64, i64, i64) = sql.fetch_one(conn).await?;
        table.rows.push(vec![
            Cell::Link(round.title, format!("/admin/funding/{}", round.id)),
            Cell::Text(lang.t(&format!("funding.kind.{}", round.kind)).to_owned()),
            Cell::Number(round.budget_yuan as f64),
            Cell::Int(round.domains),
            Cell::Int(round.proposals),
            Cell::Int(round.funded),
            Cell::Number(round.granted_yuan as f64),
            Cell::Int(proposals),
            Cell::Int(funded),
            yuan(granted_fen),
        ]);
    }
    let mut table = table.with_totals(lang.t("stats.sum"), &[]);
    if let Some(totals) = table.totals.as_mut() {
        // Rounds may share domains; their number does not add up.
        totals[3] = Cell::Empty;
    }
    Ok(table)
}
