//! The report set the bureau files upward (SPEC §3.14): each report is a list of tables for an
//! area subtree and a year, viewable as a page and downloadable as Excel and CSV. Every figure
//! is counted from the records on request, as of the end of the year where the records allow.

use crate::areas::store::AreaRow;
use crate::auth::Scope;
use crate::db::Conn;
use crate::error::Result;
use crate::export::Table;
use crate::i18n::Lang;

mod evaluation;
mod funding;
mod inspection;
mod organizations;
mod party;
mod volunteers;

/// One report of the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// 统计摘要: the figures of SPEC §4, one per row, as the desk shows them.
    Summary,
    /// 社会组织统计年报: by kind, status, domain and area.
    Organizations,
    /// 年检结果.
    Inspection,
    /// 评估结果.
    Evaluation,
    /// 党建覆盖与经费.
    Party,
    /// 孵化与资助项目.
    Funding,
    /// 志愿服务与捐赠.
    Volunteers,
}

impl Report {
    /// Every report, in the order the index lists them.
    pub const ALL: [Report; 7] = [
        Report::Summary,
        Report::Organizations,
        Report::Inspection,
        Report::Evaluation,
        Report::Party,
        Report::Funding,
        Report::Volunteers,
    ];

    /// The name in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Report::Summary => "summary",
            Report::Organizations => "organizations",
            Report::Inspection => "inspection",
            Report::Evaluation => "evaluation",
            Report::Party => "party",
            Report::Funding => "funding",
            Report::Volunteers => "volunteers",
        }
    }

    /// Parses a URL name.
    pub fn parse(name: &str) -> Option<Report> {
        Report::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The report's title in `lang`.
    pub fn title(self, lang: Lang) -> &'static str {
        lang.t(&format!("stats.report.{}", self.as_str()))
    }

    /// The report's tables for `area`'s subtree and `year`, within `scope`.
    pub async fn tables(
        self,
        conn: &mut Conn<'_>,
        lang: Lang,
        scope: &Scope,
        area: &AreaRow,
        year: i32,
    ) -> Result<Vec<Table>> {
        match self {
            Report::Summary => Ok(vec![summary_table(conn, lang, area, year).await?]),
            Report::Organizations => organizations::tables(conn, lang, scope, area, year).await,
            Report::Inspection => inspection::tables(conn, lang, scope, area, year).await,
            Report::Evaluation => evaluation::tables(conn, lang, scope, area, year).await,
            Report::Party => party::tables(conn, lang, scope, area, year).await,
            Report::Funding => funding::tables(conn, lang, scope, area, year).await,
            Report::Volunteers => volunteers::tables(conn, lang, scope, area, year).await,
        }
    }
}

/// "Area name · as of YYYY-12-31", the note under every table of a report.
pub fn as_of_note(lang: Lang, area: &AreaRow, year: i32) -> String {
    format!("{} · {} {year}-12-31", area.name, lang.t("stats.as_of"))
}

/// The summary as one table: group, figure, value, unit (rates in percent). The area is within
/// the caller's scope (the desk checks it), and the summary holds aggregates only.
async fn summary_table(
    conn: &mut Conn<'_>,
    lang: Lang,
    area: &AreaRow,
    year: i32,
) -> Result<Table> {
    use crate::export::{Cell, Column, ColumnKind};
    use crate::stats::catalogue;
    let summary = crate::stats::summary(conn, area, year).await?;
    let mut table = Table::new(
        Report::Summary.title(lang),
        as_of_note(lang, area, year),
        vec![
            Column::new(lang.t("stats.col.group"), "", ColumnKind::Text),
            Column::new(lang.t("stats.col.figure"), "", ColumnKind::Text),
            Column::new(lang.t("stats.col.value"), "", ColumnKind::General),
            Column::new(lang.t("stats.col.unit"), "", ColumnKind::Text),
        ],
    );
    for (figure, value) in catalogue::values(&summary) {
        let value = match figure.kind {
            ColumnKind::Count => Cell::Int(value.round() as i64),
            ColumnKind::Percent => Cell::Number(value * 100.0),
            _ => Cell::Number(value),
        };
        table.rows.push(vec![
            Cell::Text(lang.t(figure.group.label_key()).to_owned()),
            Cell::Text(lang.t(&catalogue::label_key(figure.key)).to_owned()),
            value,
            Cell::Text(lang.t(figure.unit).to_owned()),
        ]);
    }
    Ok(table)
}

/// A child area's name leading to `report` for that area and `year` (the drill-down of a
/// report's per-area rows).
pub(crate) fn area_cell(report: Report, area: &AreaRow, year: i32) -> crate::export::Cell {
    crate::export::Cell::Link(
        area.name.clone(),
        format!(
            "/admin/stats/reports/{}?area={}&year={year}",
            report.as_str(),
            crate::web::percent_encode(&area.code)
        ),
    )
}

/// Which child of an area every area lies under, for grouping records of a subtree by the
/// area's children from one read of the tree.
pub(crate) struct ChildOf {
    parents: std::collections::HashMap<i64, Option<i64>>,
    root: i64,
}

impl ChildOf {
    /// The mapping for the children of `area`.
    pub(crate) async fn of(conn: &mut Conn<'_>, area: &AreaRow) -> Result<ChildOf> {
        Ok(ChildOf {
            parents: crate::areas::store::list_all(conn)
                .await?
                .into_iter()
                .map(|a| (a.id, a.parent_id))
                .collect(),
            root: area.id,
        })
    }

    /// The child of the area that area `id` is or lies under; `None` for the area itself (and
    /// for an area outside it).
    pub(crate) fn child(&self, mut id: i64) -> Option<i64> {
        loop {
            let parent = (*self.parents.get(&id)?)?;
            if parent == self.root {
                return Some(id);
            }
            id = parent;
        }
    }
}

/// The row label of the records located at the area itself rather than in one of its children.
pub(crate) fn area_itself(lang: Lang, area: &AreaRow) -> String {
    lang.tf("stats.rep.area_itself", &[("area", &area.name)])
}
