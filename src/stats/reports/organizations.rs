//! 社会组织统计年报: the registry at the end of the year by kind and status, by domain and by
//! the area's children, every row counted from the [`snapshot`](crate::stats::snapshot).

use super::as_of_note;
use crate::areas::store::{self as areas, AreaRow};
use crate::auth::Scope;
use crate::db::Conn;
use crate::error::Result;
use crate::export::{Cell, Column, ColumnKind, Table};
use crate::i18n::Lang;
use crate::registry::{OrgKind, OrgStatus};
use crate::stats::snapshot::{self, OrgThen};
use std::collections::HashMap;

/// One count column per kind, then the total.
fn kind_columns(lang: Lang, first: &str) -> Vec<Column> {
    let unit = lang.t("stats.unit.org");
    let mut columns = vec![Column::new(first, "", ColumnKind::Text)];
    columns.extend(
        OrgKind::ALL
            .iter()
            .map(|k| Column::new(k.label(lang), unit, ColumnKind::Count)),
    );
    columns.push(Column::new(lang.t("stats.sum"), unit, ColumnKind::Count));
    columns
}

/// A row of counts per kind of `orgs`, labelled `label`.
fn kind_row(label: Cell, orgs: &[&OrgThen]) -> Vec<Cell> {
    let mut row = vec![label];
    row.extend(
        OrgKind::ALL
            .iter()
            .map(|k| Cell::Int(orgs.iter().filter(|o| o.kind == k.as_str()).count() as i64)),
    );
    row.push(Cell::Int(orgs.len() as i64));
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
    let all = snapshot::snapshot(conn, scope, area.area_id(), year).await?;
    let live: Vec<&OrgThen> = all.iter().filter(|o| o.live()).collect();
    let note = as_of_note(lang, area, year);
    let total = lang.t("stats.sum");

    // Kind by status: every organization that existed, whatever became of it.
    let unit = lang.t("stats.unit.org");
    let mut columns = vec![Column::new(lang.t("stats.col.kind"), "", ColumnKind::Text)];
    columns.extend(
        OrgStatus::ALL
            .iter()
            .map(|s| Column::new(s.label(lang), unit, ColumnKind::Count)),
    );
    columns.push(Column::new(
        lang.t("stats.col.live"),
        unit,
        ColumnKind::Count,
    ));
    let mut by_status = Table::new(lang.t("stats.table.kind_status"), note.clone(), columns);
    for kind in OrgKind::ALL {
        let of_kind: Vec<&OrgThen> = all.iter().filter(|o| o.kind == kind.as_str()).collect();
        let mut row = vec![Cell::Text(kind.label(lang).to_owned())];
        row.extend(
            OrgStatus::ALL.iter().map(|s| {
                Cell::Int(of_kind.iter().filter(|o| o.status == s.as_str()).count() as i64)
            }),
        );
        row.push(Cell::Int(of_kind.iter().filter(|o| o.live()).count() as i64));
        by_status.rows.push(row);
    }

    // Domain by kind, live organizations.
    let mut by_domain = Table::new(
        lang.t("stats.table.domain_kind"),
        note.clone(),
        kind_columns(lang, lang.t("stats.col.domain")),
    );
    for domain in crate::registry::store::list_domains(conn).await? {
        let of_domain: Vec<&OrgThen> = live
            .iter()
            .copied()
            .filter(|o| o.domain == domain.code)
            .collect();
        if !of_domain.is_empty() {
            by_domain.rows.push(kind_row(
                Cell::Text(domain.name(lang).to_owned()),
                &of_domain,
            ));
        }
    }

    // The area's children by kind, live organizations; each links to its own dashboard.
    let child_of = super::ChildOf::of(conn, area).await?;
    let mut columns = kind_columns(lang, lang.t("stats.col.area"));
    columns.push(Column::new(
        lang.t("stats.key.direct_registrations"),
        unit,
        ColumnKind::Count,
    ));
    let mut by_area = Table::new(lang.t("stats.table.area_kind"), note, columns);
    let mut at_area_itself: Vec<&OrgThen> = Vec::new();
    let mut per_child: HashMap<i64, Vec<&OrgThen>> = HashMap::new();
    for org in &live {
        match child_of.child(org.area_id) {
            Some(child) => per_child.entry(child).or_default().push(org),
            None => at_area_itself.push(org),
        }
    }
    let mut push_area = |label: Cell, orgs: &[&OrgThen]| {
        let mut row = kind_row(label, orgs);
        row.push(Cell::Int(orgs.iter().filter(|o| o.direct).count() as i64));
        by_area.rows.push(row);
    };
    if !at_area_itself.is_empty() {
        push_area(Cell::Text(super::area_itself(lang, area)), &at_area_itself);
    }
    for child in areas::children(conn, area.area_id()).await? {
        let orgs = per_child.get(&child.id).map_or(&[][..], Vec::as_slice);
        push_area(
            super::area_cell(super::Report::Organizations, &child, year),
            orgs,
        );
    }
    Ok(vec![
        by_status.with_totals(total, &[]),
        by_domain.with_totals(total, &[]),
        by_area.with_totals(total, &[]),
    ])
}
