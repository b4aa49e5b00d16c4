//! `GET /stats`: the public figures of the registry, counted from the records on every
//! request, for the district or any area below it (`?area=`), with charts, tables behind them
//! and links down to the organizations counted. Module figures (inspection, party building,
//! funding…) join as their modules land.

use super::charts::{Bar, horizontal_bars, year_columns};
use crate::app::AppState;
use crate::areas::AreaId;
use crate::areas::store as areas;
use crate::auth::Scope;
use crate::error::{Error, Result};
use crate::registry::store::{self, GroupColumn, OrgFilter};
use crate::registry::{Grade, OrgKind, OrgStatus};
use crate::web::{Layout, PageCtx, page, percent_encode};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

/// A chart with the table of its figures.
pub struct Chart {
    title: &'static str,
    svg: String,
    bars: Vec<Bar>,
}

/// A headline figure.
pub struct Figure {
    label: &'static str,
    value: i64,
    /// The directory listing what was counted, when it can filter by it.
    href: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/stats.html")]
struct StatsPage {
    layout: Layout,
    area_name: String,
    crumbs: Vec<(String, String)>,
    figures: Vec<Figure>,
    charts: Vec<Chart>,
    area_code: String,
    year: i32,
    years: Vec<i32>,
    /// The published aggregates of SPEC §4 for the year (no records behind them here).
    panels: Vec<crate::stats::dashboard::Panel>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
/// The query string of `/stats`.
pub struct StatsQuery {
    /// Division code (default: the district).
    area: String,
    /// The year of the yearly figures (default: the last full year).
    year: String,
}

/// The registry's counts `/stats` shows for an area, as they stand now: each a GROUP BY over
/// the area's organizations, so a server remembers them until the next write.
#[derive(Debug)]
pub struct PublicCounts {
    kinds: Vec<(String, i64)>,
    statuses: Vec<(String, i64)>,
    grades: Vec<(String, i64)>,
    domains_counted: Vec<(String, i64)>,
    direct: Vec<(String, i64)>,
    years: Vec<(String, i64)>,
    per_child: Vec<(String, i64)>,
}

impl PublicCounts {
    /// The counts for `area` (the root when `None`), remembered in `memo`: counted from the
    /// organizations alone, they are kept until one of them changes.
    pub async fn remembered(
        memo: &crate::stats::memo::StatsMemo,
        c: &mut crate::db::Conn<'_>,
        area: Option<AreaId>,
    ) -> Result<std::sync::Arc<PublicCounts>> {
        let seq = crate::audit::store::newest_seq(c).await?;
        let key = area.map(|a| a.0);
        if let Some(counts) = memo
            .public
            .unless_registry_changed(c, seq, key, None)
            .await?
        {
            return Ok(counts);
        }
        let filter = OrgFilter {
            area,
            ..OrgFilter::default()
        };
        let counts = std::sync::Arc::new(PublicCounts::count(c, &filter).await?);
        memo.public.put(key, seq, counts.clone());
        Ok(counts)
    }

    /// Counts the organizations `filter` (an area) selects.
    async fn count(c: &mut crate::db::Conn<'_>, filter: &OrgFilter) -> Result<PublicCounts> {
        let scope = Scope::Public;
        let mut by = async |column| store::count_by(c, &scope, filter, column).await;
        Ok(PublicCounts {
            kinds: by(GroupColumn::Kind).await?,
            statuses: by(GroupColumn::Status).await?,
            grades: by(GroupColumn::Grade).await?,
            domains_counted: by(GroupColumn::Domain).await?,
            direct: by(GroupColumn::DirectRegistration).await?,
            years: by(GroupColumn::RegisteredYear).await?,
            per_child: store::count_by_child_area(c, &scope, &OrgFilter::default(), filter.area)
                .await?,
        })
    }
}

/// `GET /stats`.
pub async fn stats(
    State(app): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<StatsQuery>,
) -> Result<Response> {
    let lang = ctx.lang;
    let mut conn = app.read_db.acquire().await?;
    let mut c = conn.conn();
    let area = match q.area.trim() {
        "" => areas::root(&mut c).await?,
        code => Some(
            areas::find_by_code(&mut c, code)
                .await?
                .ok_or(Error::NotFound)?,
        ),
    };
    let filter = OrgFilter {
        area: area.as_ref().map(|a| a.area_id()),
        ..OrgFilter::default()
    };
    let area_param = area
        .as_ref()
        .map(|a| format!("area={}", percent_encode(&a.code)))
        .unwrap_or_default();
    let orgs_link = |extra: &str| {
        let parts: Vec<&str> = [area_param.as_str(), extra]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect();
        format!("/orgs?{}", parts.join("&"))
    };
    let by = |counts: &[(String, i64)], key: &str| {
        counts.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
    };
    let counts = PublicCounts::remembered(&app.stats, &mut c, filter.area).await?;
    let PublicCounts {
        kinds,
        statuses,
        grades,
        domains_counted,
        direct,
        years,
        per_child,
    } = &*counts;
    let children = match &area {
        Some(a) => areas::children(&mut c, a.area_id()).await?,
        None => Vec::new(),
    };
    let domains = store::list_domains(&mut c).await?;
    let crumbs = match &area {
        Some(a) => areas::path(&mut c, a.area_id())
            .await?
            .into_iter()
            .map(|p| (format!("/stats?area={}", percent_encode(&p.code)), p.name))
            .collect(),
        None => Vec::new(),
    };

    let total: i64 = kinds.iter().map(|(_, n)| n).sum();
    let registered: i64 = OrgKind::ALL
        .iter()
        .filter(|k| k.is_registered())
        .map(|k| by(kinds, k.as_str()))
        .sum();
    let mut figures = vec![
        Figure {
            label: lang.t("stats.total"),
            value: total,
            href: Some(orgs_link("")),
        },
        Figure {
            label: lang.t("stats.registered"),
            value: registered,
            href: Some(orgs_link("")),
        },
    ];
    for k in OrgKind::ALL {
        figures.push(Figure {
            label: k.label(lang),
            value: by(kinds, k.as_str()),
            href: Some(orgs_link(&format!("kind={}", k.as_str()))),
        });
    }
    figures.push(Figure {
        label: lang.t("stats.direct"),
        value: by(direct, "true"),
        href: None,
    });
    figures.push(Figure {
        label: lang.t("stats.graded"),
        value: grades.iter().map(|(_, n)| n).sum(),
        href: None,
    });

    let bars_of = |items: Vec<(String, String, Option<String>)>, counts: &[(String, i64)]| {
        items
            .into_iter()
            .map(|(key, label, href)| Bar {
                value: by(counts, &key),
                label,
                href,
            })
            .filter(|b| b.value > 0)
            .collect::<Vec<_>>()
    };
    let mut charts = Vec::new();
    let mut chart = |title_key: &'static str, bars: Vec<Bar>, vertical: bool| {
        let title = lang.t(title_key);
        let svg = if vertical {
            year_columns(title, &bars)
        } else {
            horizontal_bars(title, &bars)
        };
        charts.push(Chart { title, svg, bars });
    };
    chart(
        "stats.by_kind",
        bars_of(
            OrgKind::ALL
                .iter()
                .map(|k| {
                    (
                        k.as_str().to_owned(),
                        k.label(lang).to_owned(),
                        Some(orgs_link(&format!("kind={}", k.as_str()))),
                    )
                })
                .collect(),
            kinds,
        ),
        false,
    );
    chart(
        "stats.by_area",
        bars_of(
            children
                .iter()
                .map(|a| {
                    (
                        a.code.clone(),
                        a.name.clone(),
                        Some(format!("/stats?area={}", percent_encode(&a.code))),
                    )
                })
                .collect(),
            per_child,
        ),
        false,
    );
    chart(
        "stats.by_domain",
        bars_of(
            domains
                .iter()
                .map(|d| {
                    (
                        d.code.clone(),
                        d.name(lang).to_owned(),
                        Some(orgs_link(&format!("domain={}", percent_encode(&d.code)))),
                    )
                })
                .collect(),
            domains_counted,
        ),
        false,
    );
    chart(
        "stats.by_status",
        bars_of(
            OrgStatus::ALL
                .iter()
                .map(|s| {
                    (
                        s.as_str().to_owned(),
                        s.label(lang).to_owned(),
                        Some(orgs_link(&format!("status={}", s.as_str()))),
                    )
                })
                .collect(),
            statuses,
        ),
        false,
    );
    chart(
        "stats.by_grade",
        bars_of(
            Grade::ALL
                .iter()
                .map(|g| {
                    (
                        g.as_str().to_owned(),
                        g.label(lang).to_owned(),
                        Some(orgs_link(&format!("grade={}", g.as_str()))),
                    )
                })
                .collect(),
            grades,
        ),
        false,
    );
    chart(
        "stats.by_year",
        years
            .iter()
            .map(|(year, n)| Bar {
                label: year.clone(),
                value: *n,
                href: None,
            })
            .collect(),
        true,
    );
    let today = crate::clock::today(&mut c).await?;
    let year = crate::clock::report_year(&q.year, today)?;
    let panels = match &area {
        Some(a) => {
            let summary = crate::stats::summary_remembered(&app.stats, &mut c, a, year).await?;
            crate::stats::dashboard::panels(lang, &summary, None)
        }
        None => Vec::new(),
    };
    let view = StatsPage {
        layout: ctx.layout("stats.title"),
        area_code: area.as_ref().map(|a| a.code.clone()).unwrap_or_default(),
        year,
        years: {
            use chrono::Datelike;
            (today.year() - 14..=today.year()).rev().collect()
        },
        panels,
        area_name: area.map(|a| a.name).unwrap_or_default(),
        crumbs,
        figures,
        charts,
    };
    page(&view, &view.layout)
}
