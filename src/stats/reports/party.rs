//! 党建覆盖与经费: per child area, the live organizations, the party organizations, how the
//! organizations are covered (own party organization, joint branch, instructor, not at all),
//! the instructors and the year's party-building funding; then the funding by item (the
//! allowance per party organization and the cadres' allowances) per area. Counted by the party
//! module's own figures — the ones the summary's party keys come from.

use super::{Report, area_cell, area_itself};
use crate::areas::AreaId;
use crate::areas::store::{self as areas, AreaRow};
use crate::auth::Scope;
use crate::db::Conn;
use crate::error::Result;
use crate::export::{Cell, Column, ColumnKind, Table};
use crate::i18n::Lang;
use crate::party::coverage::Summary as Coverage;
use crate::party::funding::Funding;

/// The coverage and funding figures of `area`'s subtree: the one place this report calls the
/// party module, so a change to those functions' signatures is made here alone. Coverage is
/// counted from the records in force now (the party records keep no replayable history yet);
/// the funding is the year's, computed by the funding rule.
async fn figures(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: AreaId,
    year: i32,
) -> Result<(Coverage, Funding)> {
    let mut coverage = crate::party::coverage::summary(conn, scope, Some(area)).await?;
    // The counts of party organizations and instructors are those in force at the year's end,
    // as the summary counts them; the coverage breakdown is the one recorded now (the links
    // between organizations and party organizations keep no history).
    let day = crate::stats::year_end_day(year);
    let in_force = |form| {
        crate::party::store::in_force_sql(
            "select count(*)",
            scope,
            Some(area),
            Some(form),
            Some(day),
        )
    };
    coverage.independent = in_force(crate::party::Form::Independent)
        .fetch_i64(conn)
        .await?;
    coverage.joint = in_force(crate::party::Form::Joint).fetch_i64(conn).await?;
    coverage.instructors =
        crate::party::coverage::instructors_sql("select count(*)", scope, Some(area), Some(day))
            .fetch_i64(conn)
            .await?;
    let funding = crate::party::funding::funding(conn, scope, Some(area), year).await?;
    Ok((coverage, funding))
}

/// Fen as yuan.
fn yuan(fen: i64) -> Cell {
    Cell::Number(fen as f64 / 100.0)
}

/// Covered by anything (own party organization, joint branch or instructor) over all live
/// organizations, blank when there are none.
fn coverage_rate(covered: i64, organizations: i64) -> Option<f64> {
    (organizations > 0).then(|| covered as f64 / organizations as f64)
}

/// The counts of one row, in column order after the label: organizations, independent party
/// organizations, joint branches, covered by their own, by a joint branch, by an instructor,
/// not covered.
fn counts(c: &Coverage) -> [i64; 7] {
    [
        c.organizations,
        c.independent,
        c.joint,
        c.covered_own,
        c.covered_joint,
        c.covered_instructor,
        c.uncovered,
    ]
}

/// A row: the label, the counts, the coverage rate, the instructors (blank when they cannot
/// be told apart) and the budget in fen.
fn row(label: Cell, counts: [i64; 7], instructors: Option<i64>, budget_fen: i64) -> Vec<Cell> {
    let mut row = vec![label];
    row.extend(counts.map(Cell::Int));
    row.push(
        coverage_rate(counts[3] + counts[4] + counts[5], counts[0])
            .map_or(Cell::Empty, Cell::Number),
    );
    row.push(instructors.map_or(Cell::Empty, Cell::Int));
    row.push(yuan(budget_fen));
    row
}

/// The report's tables.
pub async fn tables(
    conn: &mut Conn<'_>,
    lang: Lang,
    scope: &Scope,
    area: &AreaRow,
    year: i32,
) -> Result<Vec<Table>> {
    let org = lang.t("stats.unit.org");
    let item = lang.t("stats.unit.item");
    let person = lang.t("stats.unit.person");
    let yuan_unit = lang.t("stats.unit.yuan");
    let note = lang.tf(
        "stats.rep.note.party",
        &[("area", &area.name), ("year", &year.to_string())],
    );
    let columns = vec![
        Column::new(lang.t("stats.col.area"), "", ColumnKind::Text),
        Column::new(
            lang.t("stats.rep.party.organizations"),
            org,
            ColumnKind::Count,
        ),
        Column::new(
            lang.t("stats.key.party_orgs_independent"),
            item,
            ColumnKind::Count,
        ),
        Column::new(
            lang.t("stats.key.party_branches_joint"),
            item,
            ColumnKind::Count,
        ),
        Column::new(lang.t("party.coverage.own"), org, ColumnKind::Count),
        Column::new(lang.t("party.coverage.joint"), org, ColumnKind::Count),
        Column::new(lang.t("party.coverage.instructor"), org, ColumnKind::Count),
        Column::new(lang.t("party.coverage.none"), org, ColumnKind::Count),
        Column::new(
            lang.t("stats.rep.party.coverage_rate"),
            "%",
            ColumnKind::Percent,
        ),
        Column::new(
            lang.t("stats.key.party_instructors"),
            person,
            ColumnKind::Count,
        ),
        Column::new(
            lang.t("stats.key.party_funding_yuan"),
            yuan_unit,
            ColumnKind::Money,
        ),
    ];
    let mut by_area = Table::new(lang.t("stats.rep.party.by_area"), note.clone(), columns);

    let (whole, funding) = figures(conn, scope, area.area_id(), year).await?;
    let children = areas::children(conn, area.area_id()).await?;
    let mut rest = counts(&whole);
    let mut rest_fen = funding.total.budget_fen();
    for child in &children {
        let (coverage, child_funding) = figures(conn, scope, child.area_id(), year).await?;
        let child_counts = counts(&coverage);
        for (left, n) in rest.iter_mut().zip(child_counts) {
            *left -= n;
        }
        rest_fen -= child_funding.total.budget_fen();
        by_area.rows.push(row(
            area_cell(Report::Party, child, year),
            child_counts,
            Some(coverage.instructors),
            child_funding.total.budget_fen(),
        ));
    }
    if rest.iter().any(|n| *n != 0) || rest_fen != 0 {
        // What the children do not hold sits at the area itself. Its instructors cannot be
        // told by difference (one instructor may serve organizations in several children).
        by_area.rows.insert(
            0,
            row(Cell::Text(area_itself(lang, area)), rest, None, rest_fen),
        );
    }
    // The totals are the area's own figures, not sums: an instructor serving two children is
    // one instructor.
    by_area.totals = Some(row(
        Cell::Text(lang.t("stats.sum").to_owned()),
        counts(&whole),
        Some(whole.instructors),
        funding.total.budget_fen(),
    ));

    let mut tables = vec![by_area];
    if !funding.lines.is_empty() {
        tables.push(by_item(lang, area, &children, year, &funding, note));
    }
    Ok(tables)
}

/// The year's funding by item per area line of the funding result: the party organizations
/// with an allowance and its amount, the cadres with an allowance and theirs, the budget and
/// what has been paid against it.
fn by_item(
    lang: Lang,
    area: &AreaRow,
    children: &[AreaRow],
    year: i32,
    funding: &Funding,
    note: String,
) -> Table {
    let yuan_unit = lang.t("stats.unit.yuan");
    let mut table = Table::new(
        lang.t("stats.rep.party.by_item"),
        note,
        vec![
            Column::new(lang.t("stats.col.area"), "", ColumnKind::Text),
            Column::new(
                lang.t("stats.rep.party.orgs_funded"),
                lang.t("stats.unit.item"),
                ColumnKind::Count,
            ),
            Column::new(
                lang.t("stats.rep.party.org_allowance"),
                yuan_unit,
                ColumnKind::Money,
            ),
            Column::new(
                lang.t("stats.rep.party.cadres_funded"),
                lang.t("stats.unit.person"),
                ColumnKind::Count,
            ),
            Column::new(
                lang.t("stats.rep.party.cadre_allowance"),
                yuan_unit,
                ColumnKind::Money,
            ),
            Column::new(
                lang.t("stats.key.party_funding_yuan"),
                yuan_unit,
                ColumnKind::Money,
            ),
            Column::new(lang.t("stats.rep.party.paid"), yuan_unit, ColumnKind::Money),
        ],
    );
    for line in &funding.lines {
        // A line is a child area, or the area itself for what sits there.
        let label = match children.iter().find(|c| c.id == line.area_id) {
            Some(child) => area_cell(Report::Party, child, year),
            None => Cell::Text(area_itself(lang, area)),
        };
        table.rows.push(vec![
            label,
            Cell::Int(line.party_orgs),
            yuan(line.orgs_fen),
            Cell::Int(line.cadres),
            yuan(line.cadres_fen),
            yuan(line.budget_fen()),
            yuan(line.paid_fen),
        ]);
    }
    table.with_totals(lang.t("stats.sum"), &[])
}
