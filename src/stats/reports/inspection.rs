//! 年检结果: the annual reports due for the year by kind and by the area's children — filed on
//! time, late, overdue, results, inspection rate and pass rate — counted by the inspection
//! module's own calendar, the same one the summary's rates come from.

use crate::areas::store::{self as areas, AreaRow};
use crate::auth::Scope;
use crate::db::Conn;
use crate::error::Result;
use crate::export::{Cell, Column, ColumnKind, Table};
use crate::i18n::Lang;
use crate::inspection::store::{CalendarLine, Figures, calendar_as_of};
use crate::registry::OrgKind;

/// The columns after the first: the figures of [`Figures`], then the two rates.
fn columns(lang: Lang, first: &str) -> Vec<Column> {
    let unit = lang.t("stats.unit.org");
    let mut columns = vec![Column::new(first, "", ColumnKind::Text)];
    for key in [
        "due",
        "reported",
        "on_time",
        "late",
        "overdue",
        "pending",
        "pass",
        "basic_pass",
        "fail",
        "awaiting_review",
    ] {
        columns.push(Column::new(
            lang.t(&format!("stats.inspection.{key}")),
            unit,
            ColumnKind::Count,
        ));
    }
    columns.push(Column::new(
        lang.t("stats.key.inspection_rate"),
        "%",
        ColumnKind::Percent,
    ));
    columns.push(Column::new(
        lang.t("stats.key.inspection_pass_rate"),
        "%",
        ColumnKind::Percent,
    ));
    columns
}

/// A per-mille rate as a cell (blank when nothing was due).
fn rate(permille: Option<i64>) -> Cell {
    permille.map_or(Cell::Empty, |p| Cell::Number(p as f64 / 1000.0))
}

/// One row of `lines`' figures labelled `label`.
fn row(label: Cell, lines: &[CalendarLine]) -> Vec<Cell> {
    let f = Figures::of(lines);
    let mut row = vec![label];
    row.extend(
        [
            f.due,
            f.reported,
            f.on_time,
            f.late,
            f.overdue,
            f.pending,
            f.pass,
            f.basic_pass,
            f.fail,
            f.awaiting_review,
        ]
        .map(Cell::Int),
    );
    row.push(rate(f.inspection_rate_permille));
    row.push(rate(f.pass_rate_permille));
    row
}

/// The rates of all `lines` for the totals row (a rate of totals, not a sum of rates).
fn total_rates(lines: &[CalendarLine]) -> Vec<(usize, f64)> {
    let f = Figures::of(lines);
    [(11, f.inspection_rate_permille), (12, f.pass_rate_permille)]
        .into_iter()
        .filter_map(|(i, p)| Some((i, p? as f64 / 1000.0)))
        .collect()
}

/// The report's tables.
pub async fn tables(
    conn: &mut Conn<'_>,
    lang: Lang,
    scope: &Scope,
    area: &AreaRow,
    year: i32,
) -> Result<Vec<Table>> {
    let today = crate::clock::today(conn).await?;
    let rules = crate::inspection::Rules::load(conn).await?;
    let year64 = i64::from(year);
    // Who was due is read from the registry as it stood at the year's end, as the summary does.
    let at = Some(crate::stats::snapshot::year_end(year));
    let lines = calendar_as_of(
        conn,
        scope,
        year64,
        Some(area.area_id()),
        None,
        &rules,
        today,
        at,
    )
    .await?;
    let note = format!("{} · {} {year}", area.name, lang.t("stats.report_year"));
    let total = lang.t("stats.sum");

    let mut by_kind = Table::new(
        lang.t("stats.table.inspection_kind"),
        note.clone(),
        columns(lang, lang.t("stats.col.kind")),
    );
    for kind in OrgKind::ALL.iter().filter(|k| k.is_registered()) {
        let of_kind: Vec<CalendarLine> = lines
            .iter()
            .filter(|l| l.row.kind == kind.as_str())
            .cloned()
            .collect();
        by_kind
            .rows
            .push(row(Cell::Text(kind.label(lang).to_owned()), &of_kind));
    }

    let mut by_area = Table::new(
        lang.t("stats.table.inspection_area"),
        note,
        columns(lang, lang.t("stats.col.area")),
    );
    for child in areas::children(conn, area.area_id()).await? {
        let of_child = calendar_as_of(
            conn,
            scope,
            year64,
            Some(child.area_id()),
            None,
            &rules,
            today,
            at,
        )
        .await?;
        by_area.rows.push(row(
            super::area_cell(super::Report::Inspection, &child, year),
            &of_child,
        ));
    }
    let rates = total_rates(&lines);
    Ok(vec![
        by_kind.with_totals(total, &rates),
        by_area.with_totals(total, &rates),
    ])
}
