//! The statistics desk (`/admin/stats`): the figures of SPEC §4 for an area within the
//! viewer's reach and a year, each leading to the records behind it
//! (`/admin/stats/drill/{key}`), charts of the registry's make-up, areas and trend, and the
//! report set (`/admin/stats/reports/{name}`) as pages, Excel and CSV.

use super::catalogue::{self, Group};
use super::reports::Report;
use crate::app::AppState;
use crate::areas::store::{self as areas, AreaRow};
use crate::auth::{CurrentUser, Permission, require};
use crate::db::Conn;
use crate::error::{Error, Result};
use crate::export::{Cell, Column, ColumnKind, Table};
use crate::i18n::Lang;
use crate::portal::charts::{self, Bar, Series};
use crate::web::{Layout, PageCtx, page, percent_encode};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

/// How many years the trend chart shows, ending with the chosen year.
const TREND_YEARS: i32 = 10;

/// One figure on the desk.
pub struct Tile {
    /// The summary key (also the element id).
    pub key: &'static str,
    /// Its label.
    pub label: &'static str,
    /// Its value, formatted.
    pub value: String,
    /// Its unit.
    pub unit: &'static str,
    /// The records behind it.
    pub href: String,
}

/// A group of tiles.
pub struct Panel {
    /// The group's heading.
    pub title: &'static str,
    /// Its figures.
    pub tiles: Vec<Tile>,
}

/// A chart with the table of its figures.
pub struct ChartBox {
    /// Caption.
    pub title: String,
    /// The chart, as SVG.
    pub svg: String,
    /// The same figures as a table.
    pub table: Table,
}

/// The query of every statistics page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatsQuery {
    /// Division code (default: the root of the viewer's reach).
    pub area: String,
    /// Year (default: the last full year).
    pub year: String,
    /// `csv` or `xlsx` for a download; blank for the page.
    pub format: String,
}

/// The area, year and breadcrumb of a statistics page, checked against the viewer's reach.
pub struct Frame {
    /// The area shown.
    pub area: AreaRow,
    /// The year shown.
    pub year: i32,
    /// Years to choose from, newest first.
    pub years: Vec<i32>,
    /// The area's path from the root of the tree: (code, name).
    pub crumbs: Vec<(String, String)>,
}

impl Frame {
    /// The frame `q` asks for, within `scope`.
    pub async fn of(c: &mut Conn<'_>, scope: &crate::auth::Scope, q: &StatsQuery) -> Result<Frame> {
        use chrono::Datelike;
        let today = crate::clock::today(c).await?;
        let year = crate::clock::report_year(&q.year, today)?;
        let area = areas::reachable(c, scope, &q.area).await?;
        let crumbs = areas::path(c, area.area_id())
            .await?
            .into_iter()
            .map(|a| (a.code, a.name))
            .collect();
        Ok(Frame {
            years: (today.year() - 14..=today.year()).rev().collect(),
            area,
            year,
            crumbs,
        })
    }

    /// `area=…&year=…` for links that keep the frame.
    pub fn query(&self) -> String {
        format!(
            "area={}&year={}",
            percent_encode(&self.area.code),
            self.year
        )
    }
}

impl ChartBox {
    /// The table as a one-element slice (templates include the table view by looping).
    pub fn tables(&self) -> &[Table] {
        std::slice::from_ref(&self.table)
    }
}

#[derive(Template)]
#[template(path = "stats/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    base: &'static str,
    frame: Frame,
    panels: Vec<Panel>,
    charts: Vec<ChartBox>,
    reports: Vec<(&'static str, &'static str)>,
}

/// `GET /admin/stats`.
pub async fn dashboard(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<StatsQuery>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ViewStats).await?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let frame = Frame::of(&mut c, &scope, &q).await?;
    let summary = super::summary_remembered(&app.stats, &mut c, &frame.area, frame.year).await?;
    let panels = panels(lang, &summary, Some(&frame.query()));
    let charts = vec![
        kind_pie(lang, &frame, &summary),
        area_bars(&app.stats, &mut c, lang, &frame).await?,
        trend(&app.stats, &mut c, lang, &frame).await?,
    ];
    let view = DashboardPage {
        base: "/admin/stats",
        layout: ctx.layout_titled(format!(
            "{} · {}",
            lang.t("stats.desk.title"),
            frame.area.name
        )),
        reports: Report::ALL
            .iter()
            .map(|r| (r.as_str(), r.title(lang)))
            .collect(),
        frame,
        panels,
        charts,
    };
    page(&view, &view.layout)
}

/// The summary's figures grouped into panels; with `drill_query` (`area=…&year=…`) each
/// figure links to the records behind it, without (the public page) it is plain.
pub fn panels(lang: Lang, summary: &super::Summary, drill_query: Option<&str>) -> Vec<Panel> {
    let values = catalogue::values(summary);
    Group::ALL
        .into_iter()
        .map(|group| Panel {
            title: lang.t(group.label_key()),
            tiles: values
                .iter()
                .filter(|(f, _)| f.group == group)
                .map(|(f, value)| Tile {
                    key: f.key,
                    label: lang.t(&catalogue::label_key(f.key)),
                    value: figure_cell(f.kind, *value).display(f.kind),
                    // A percentage carries its sign already.
                    unit: if f.kind == ColumnKind::Percent {
                        ""
                    } else {
                        lang.t(f.unit)
                    },
                    href: drill_query
                        .map(|q| format!("/admin/stats/drill/{}?{q}", f.key))
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

/// A summary value as a cell of its kind (counts are whole).
fn figure_cell(kind: ColumnKind, value: f64) -> Cell {
    if kind == ColumnKind::Count {
        Cell::Int(value.round() as i64)
    } else {
        Cell::Number(value)
    }
}

/// The make-up of the registry by kind at the year's end.
fn kind_pie(lang: Lang, frame: &Frame, summary: &super::Summary) -> ChartBox {
    let title = lang.t("stats.chart.kinds").to_owned();
    let slices: Vec<Bar> = [
        ("social_groups", summary.social_groups),
        (
            "private_non_enterprise_units",
            summary.private_non_enterprise_units,
        ),
        ("foundations", summary.foundations),
        ("filed_community_orgs", summary.filed_community_orgs),
    ]
    .into_iter()
    .map(|(key, value)| Bar {
        label: lang.t(&catalogue::label_key(key)).to_owned(),
        value,
        href: Some(format!("/admin/stats/drill/{key}?{}", frame.query())),
    })
    .collect();
    let total: i64 = slices.iter().map(|s| s.value).sum();
    let mut table = Table::new(
        title.clone(),
        super::reports::as_of_note(lang, &frame.area, frame.year),
        vec![
            Column::new(lang.t("stats.col.kind"), "", ColumnKind::Text),
            Column::new(
                lang.t("stats.count"),
                lang.t("stats.unit.org"),
                ColumnKind::Count,
            ),
            Column::new(lang.t("stats.share"), "%", ColumnKind::Percent),
        ],
    );
    for slice in &slices {
        table.rows.push(vec![
            Cell::Link(slice.label.clone(), slice.href.clone().unwrap_or_default()),
            Cell::Int(slice.value),
            Cell::Number(if total > 0 {
                slice.value as f64 / total as f64
            } else {
                0.0
            }),
        ]);
    }
    ChartBox {
        svg: charts::pie(&title, &slices),
        table: table.with_totals(lang.t("stats.sum"), &[(2, 1.0)]),
        title,
    }
}

/// Organizations per child area at the year's end: the map-like breakdown, each bar leading
/// to that area's desk.
async fn area_bars(
    memo: &super::memo::StatsMemo,
    c: &mut Conn<'_>,
    lang: Lang,
    frame: &Frame,
) -> Result<ChartBox> {
    let title = lang.t("stats.chart.areas").to_owned();
    let mut bars = Vec::new();
    let mut table = Table::new(
        title.clone(),
        super::reports::as_of_note(lang, &frame.area, frame.year),
        vec![
            Column::new(lang.t("stats.col.area"), "", ColumnKind::Text),
            Column::new(
                lang.t("stats.key.registered_total"),
                lang.t("stats.unit.org"),
                ColumnKind::Count,
            ),
            Column::new(
                lang.t("stats.key.filed_community_orgs"),
                lang.t("stats.unit.org"),
                ColumnKind::Count,
            ),
            Column::new(
                lang.t("stats.key.organizations_total"),
                lang.t("stats.unit.org"),
                ColumnKind::Count,
            ),
        ],
    );
    let counts = super::registry_by_child(memo, c, frame.area.area_id(), frame.year).await?;
    for child in areas::children(c, frame.area.area_id()).await? {
        let of_child = counts.iter().filter(|(area, _, _)| *area == child.id);
        let filed: i64 = of_child
            .clone()
            .filter(|(_, kind, _)| kind == "community")
            .map(|(_, _, n)| n)
            .sum();
        let total: i64 = of_child.map(|(_, _, n)| n).sum();
        let href = format!(
            "/admin/stats?area={}&year={}",
            percent_encode(&child.code),
            frame.year
        );
        table.rows.push(vec![
            Cell::Link(child.name.clone(), href.clone()),
            Cell::Int(total - filed),
            Cell::Int(filed),
            Cell::Int(total),
        ]);
        bars.push(Bar {
            label: child.name,
            value: total,
            href: Some(href),
        });
    }
    Ok(ChartBox {
        svg: charts::horizontal_bars(&title, &bars),
        table: table.with_totals(lang.t("stats.sum"), &[]),
        title,
    })
}

/// The registry at the end of each of the last years: total, registered and filed.
async fn trend(
    memo: &super::memo::StatsMemo,
    c: &mut Conn<'_>,
    lang: Lang,
    frame: &Frame,
) -> Result<ChartBox> {
    let title = lang.t("stats.chart.trend").to_owned();
    let names = [
        lang.t("stats.key.organizations_total"),
        lang.t("stats.key.registered_total"),
        lang.t("stats.key.filed_community_orgs"),
    ];
    let mut table = Table::new(
        title.clone(),
        frame.area.name.clone(),
        vec![
            Column::new(lang.t("stats.col.year"), "", ColumnKind::Text),
            Column::new(names[0], lang.t("stats.unit.org"), ColumnKind::Count),
            Column::new(names[1], lang.t("stats.unit.org"), ColumnKind::Count),
            Column::new(names[2], lang.t("stats.unit.org"), ColumnKind::Count),
        ],
    );
    let mut labels = Vec::new();
    let mut series: Vec<Series> = names
        .iter()
        .map(|n| Series {
            name: (*n).to_owned(),
            values: Vec::new(),
        })
        .collect();
    for year in frame.year - TREND_YEARS + 1..=frame.year {
        let (kinds, _) = super::registry_remembered(memo, c, frame.area.area_id(), year).await?;
        let total: i64 = kinds.iter().map(|(_, n)| n).sum();
        let filed = kinds
            .iter()
            .find(|(k, _)| k == "community")
            .map_or(0, |(_, n)| *n);
        let counts = [total, total - filed, filed];
        for (line, value) in series.iter_mut().zip(counts) {
            line.values.push(value as f64);
        }
        labels.push(year.to_string());
        let mut row = vec![Cell::Link(
            year.to_string(),
            format!(
                "/admin/stats?area={}&year={year}",
                percent_encode(&frame.area.code)
            ),
        )];
        row.extend(counts.map(Cell::Int));
        table.rows.push(row);
    }
    Ok(ChartBox {
        svg: charts::lines(&title, &labels, &series),
        table,
        title,
    })
}

#[derive(Template)]
#[template(path = "stats/drill.html")]
struct DrillPage {
    layout: Layout,
    /// Rows behind the figure (the page shows at most [`DRILL_PAGE_ROWS`] of them).
    listed: usize,
    /// The notice that the page shows only the first rows.
    truncated: Option<String>,
    base: String,
    frame: Frame,
    value: String,
    unit: &'static str,
    table: Table,
}

/// Rows a drill-down page lists (a district's figure can stand for a million records).
const DRILL_PAGE_ROWS: usize = 1000;

/// `GET /admin/stats/drill/{key}`: the records behind one figure, as a page, CSV or Excel.
pub async fn drill(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(key): Path<String>,
    Query(q): Query<StatsQuery>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ViewStats).await?;
    let figure = catalogue::find(&key).ok_or(Error::NotFound)?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let frame = Frame::of(&mut c, &scope, &q).await?;
    let mut table = super::drill::records(&mut c, lang, &scope, &key, &frame.area, frame.year)
        .await?
        .ok_or(Error::NotFound)?;
    let label = lang.t(&catalogue::label_key(figure.key));
    if !q.format.is_empty() {
        let name = format!("{label}-{}-{}", frame.area.name, frame.year);
        return crate::export::download(std::slice::from_ref(&table), &q.format, &name);
    }
    let summary = super::summary_remembered(&app.stats, &mut c, &frame.area, frame.year).await?;
    let value = catalogue::values(&summary)
        .into_iter()
        .find(|(f, _)| f.key == figure.key)
        .map_or(0.0, |(_, v)| v);
    // A page lists the first rows; the downloads above it hold them all.
    let listed = table.rows.len();
    table.rows.truncate(DRILL_PAGE_ROWS);
    let truncated = (listed > DRILL_PAGE_ROWS).then(|| {
        lang.tf(
            "stats.drill.truncated",
            &[("shown", &DRILL_PAGE_ROWS.to_string())],
        )
    });
    let view = DrillPage {
        listed,
        truncated,
        base: format!("/admin/stats/drill/{key}"),
        layout: ctx.layout_titled(format!("{label} · {} · {}", frame.area.name, frame.year)),
        value: figure_cell(figure.kind, value).display(figure.kind),
        unit: lang.t(figure.unit),
        frame,
        table,
    };
    page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "stats/report.html")]
struct ReportPage {
    layout: Layout,
    base: String,
    frame: Frame,
    name: &'static str,
    tables: Vec<Table>,
    reports: Vec<(&'static str, &'static str)>,
}

/// `GET /admin/stats/reports/{name}`: one report of the set, as a page, CSV or Excel.
pub async fn report(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(name): Path<String>,
    Query(q): Query<StatsQuery>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ViewStats).await?;
    let report = Report::parse(&name).ok_or(Error::NotFound)?;
    let lang = ctx.lang;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let frame = Frame::of(&mut c, &scope, &q).await?;
    let tables = report
        .tables(&mut c, lang, &scope, &frame.area, frame.year)
        .await?;
    if !q.format.is_empty() {
        let file = format!("{}-{}-{}", report.title(lang), frame.area.name, frame.year);
        return crate::export::download(&tables, &q.format, &file);
    }
    let view = ReportPage {
        base: format!("/admin/stats/reports/{}", report.as_str()),
        layout: ctx.layout_titled(format!(
            "{} · {} · {}",
            report.title(lang),
            frame.area.name,
            frame.year
        )),
        name: report.as_str(),
        reports: Report::ALL
            .iter()
            .map(|r| (r.as_str(), r.title(lang)))
            .collect(),
        frame,
        tables,
    };
    page(&view, &view.layout)
}
