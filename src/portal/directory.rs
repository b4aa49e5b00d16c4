//! `GET /orgs`: the public directory (社会组织名录) — Chinese search, facets with exact counts,
//! area drill-down from street to community, sorting and paging, every state a shareable URL.
//! Plain links and a GET form, so it works without JavaScript.

use crate::app::AppState;
use crate::areas::store as areas;
use crate::auth::Scope;
use crate::error::Result;
use crate::i18n::Lang;
use crate::registry::api::{ListQuery, ListRequest, page_and_counts, parse_filter};
use crate::registry::facets::FACETS;
use crate::registry::store::{self, OrgOrder, OrgRow};
use crate::registry::{Grade, OrgKind, OrgStatus};
use crate::web::{Layout, PageCtx, page, percent_encode};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use std::collections::BTreeMap;

/// The query-string names the directory understands, in the order links write them.
const PARAMS: [&str; 7] = ["q", "kind", "domain", "area", "status", "grade", "sort"];

/// The directory's current query string, for building links that change one thing.
#[derive(Debug, Clone, Default)]
pub struct DirectoryUrl {
    values: BTreeMap<&'static str, String>,
}

impl DirectoryUrl {
    fn from_raw(raw: &[(String, String)]) -> DirectoryUrl {
        let mut values = BTreeMap::new();
        for name in PARAMS {
            if let Some((_, v)) = raw.iter().find(|(k, v)| k == name && !v.trim().is_empty()) {
                values.insert(name, v.trim().to_owned());
            }
        }
        DirectoryUrl { values }
    }

    /// The value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// The query string (`a=1&b=2`) with `name` set to `value` (removed when empty), back on
    /// page one.
    pub fn with(&self, name: &'static str, value: &str) -> String {
        let mut values = self.values.clone();
        if value.is_empty() {
            values.remove(name);
        } else {
            values.insert(name, value.to_owned());
        }
        PARAMS
            .iter()
            .filter_map(|p| values.get(p).map(|v| format!("{p}={}", percent_encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The current query string with a page number.
    pub fn page(&self, page: i64) -> String {
        let base = self.with("q", self.get("q"));
        if base.is_empty() {
            format!("page={page}")
        } else {
            format!("{base}&page={page}")
        }
    }
}

/// One value of a facet: its label, exact count and the link that selects it.
pub struct FacetValue {
    label: String,
    count: i64,
    href: String,
    selected: bool,
}

/// A facet group (kind, domain, area…).
pub struct FacetGroup {
    title: &'static str,
    values: Vec<FacetValue>,
    /// The link that clears this facet, when one of its values is selected.
    clear: Option<String>,
}

/// A step of the area breadcrumb.
pub struct Crumb {
    name: String,
    href: String,
}

/// One organization in the result list.
pub struct ResultRow {
    href: String,
    name: String,
    uscc: String,
    kind: &'static str,
    domain: String,
    area: String,
    status: &'static str,
    active: bool,
    grade: String,
    registered_on: String,
}

impl ResultRow {
    fn of(r: &OrgRow, lang: Lang) -> ResultRow {
        ResultRow {
            href: profile_href(r),
            name: r.name.clone(),
            uscc: r.uscc.clone().unwrap_or_default(),
            kind: r.kind().label(lang),
            domain: r.domain_name(lang).to_owned(),
            area: r.area_name.clone(),
            status: r.status().label(lang),
            active: r.status() == OrgStatus::Active,
            grade: r
                .grade()
                .map(|g| g.label(lang).to_owned())
                .unwrap_or_default(),
            registered_on: r.registered_on.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

/// The public profile's address: by credit code when there is one, else by id.
pub fn profile_href(r: &OrgRow) -> String {
    match &r.uscc {
        Some(code) => format!("/orgs/{code}"),
        None => format!("/orgs/{}", r.id),
    }
}

#[derive(Template)]
#[template(path = "portal/directory.html")]
struct DirectoryPage {
    layout: Layout,
    url: DirectoryUrl,
    rows: Vec<ResultRow>,
    total: i64,
    page: i64,
    pages: i64,
    facets: Vec<FacetGroup>,
    crumbs: Vec<Crumb>,
    sorts: Vec<(&'static str, &'static str, bool)>,
    /// The current filters as a query string, for the export links.
    export_query: String,
}

/// `GET /orgs`.
pub async fn directory(
    State(app): State<AppState>,
    ctx: PageCtx,
    Query(query): Query<ListQuery>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response> {
    let lang = ctx.lang;
    let scope = Scope::Public;
    let url = DirectoryUrl::from_raw(&raw);
    let mut conn = app.read_db.acquire().await?;
    let mut c = conn.conn();
    let ListRequest {
        filter,
        paging,
        order,
        ..
    } = parse_filter(&mut c, &query).await?;
    // Best matches first for a search; otherwise the newest registrations.
    let order = order.unwrap_or(if filter.terms().is_empty() {
        OrgOrder::Newest
    } else {
        OrgOrder::Relevance
    });
    let (rows, counted) =
        page_and_counts(&app, &mut c, &scope, &filter, paging, order, &FACETS).await?;
    let total = counted.total;
    let counts = counted.facets;
    let count_of = |facet: &str, value: &str| {
        counts
            .get(facet)
            .and_then(|m| m.get(value))
            .copied()
            .unwrap_or(0)
    };
    let group = |title: &'static str, name: &'static str, values: Vec<(String, String)>| {
        let values: Vec<FacetValue> = values
            .into_iter()
            .map(|(value, label)| FacetValue {
                count: count_of(name, &value),
                href: format!("/orgs?{}", url.with(name, &value)),
                selected: url.get(name) == value,
                label,
            })
            .filter(|v| v.count > 0 || v.selected)
            .collect();
        FacetGroup {
            title: lang.t(title),
            clear: (!url.get(name).is_empty()).then(|| format!("/orgs?{}", url.with(name, ""))),
            values,
        }
    };
    let domains = store::list_domains(&mut c).await?;
    // The area facet lists the children of the chosen area (or of the district), each counting
    // its whole subtree; the breadcrumb leads back up.
    let (children, crumbs) = match filter.area {
        Some(area) => {
            let path = areas::path(&mut c, area).await?;
            let crumbs = path
                .iter()
                .map(|a| Crumb {
                    name: a.name.clone(),
                    href: format!("/orgs?{}", url.with("area", &a.code)),
                })
                .collect();
            (areas::children(&mut c, area).await?, crumbs)
        }
        None => match areas::root(&mut c).await? {
            Some(root) => (areas::children(&mut c, root.area_id()).await?, Vec::new()),
            None => (Vec::new(), Vec::new()),
        },
    };
    let facet_groups = vec![
        group(
            "org.field.kind",
            "kind",
            OrgKind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), k.label(lang).to_owned()))
                .collect(),
        ),
        group(
            "org.field.domain",
            "domain",
            domains
                .iter()
                .map(|d| (d.code.clone(), d.name(lang).to_owned()))
                .collect(),
        ),
        FacetGroup {
            title: lang.t("filter.area"),
            values: children
                .iter()
                .map(|a| FacetValue {
                    label: a.name.clone(),
                    count: count_of("area", &a.code),
                    href: format!("/orgs?{}", url.with("area", &a.code)),
                    selected: false,
                })
                .filter(|v| v.count > 0)
                .collect(),
            clear: (!url.get("area").is_empty()).then(|| format!("/orgs?{}", url.with("area", ""))),
        },
        group(
            "org.field.status",
            "status",
            OrgStatus::ALL
                .iter()
                .map(|s| (s.as_str().to_owned(), s.label(lang).to_owned()))
                .collect(),
        ),
        group(
            "org.field.grade",
            "grade",
            Grade::ALL
                .iter()
                .map(|g| (g.as_str().to_owned(), g.label(lang).to_owned()))
                .collect(),
        ),
    ];
    let sorts = [OrgOrder::Relevance, OrgOrder::Name, OrgOrder::Newest]
        .iter()
        .map(|o| {
            (
                o.as_str(),
                lang.t(sort_label(*o)),
                *o == order && (url.get("sort") == o.as_str() || url.get("sort").is_empty()),
            )
        })
        .collect();
    let title = if url.get("q").is_empty() {
        ctx.layout("portal.directory.title")
    } else {
        ctx.layout_titled(format!(
            "{} · {}",
            url.get("q"),
            lang.t("portal.directory.title")
        ))
    };
    let view = DirectoryPage {
        layout: title,
        export_query: url.with("sort", ""),
        rows: rows.iter().map(|r| ResultRow::of(r, lang)).collect(),
        total,
        page: paging.page,
        pages: paging.pages(total),
        facets: facet_groups,
        crumbs,
        sorts,
        url,
    };
    page(&view, &view.layout)
}

/// The catalogue key naming an order.
fn sort_label(order: OrgOrder) -> &'static str {
    match order {
        OrgOrder::Relevance => "portal.sort.relevance",
        OrgOrder::Name => "portal.sort.name",
        OrgOrder::Newest => "portal.sort.newest",
        OrgOrder::LatestRecord | OrgOrder::Id => "portal.sort.relevance",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_change_one_parameter_and_keep_the_rest_in_a_stable_order() {
        let url = DirectoryUrl::from_raw(&[
            ("kind".into(), "social_group".into()),
            ("q".into(), "养老 服务".into()),
            ("page".into(), "3".into()),
            ("evil".into(), "x".into()),
        ]);
        assert_eq!(
            url.with("area", "120116001"),
            "q=%E5%85%BB%E8%80%81+%E6%9C%8D%E5%8A%A1&kind=social_group&area=120116001"
        );
        assert_eq!(
            url.with("kind", ""),
            "q=%E5%85%BB%E8%80%81+%E6%9C%8D%E5%8A%A1"
        );
        assert!(url.page(2).ends_with("&page=2"));
        assert_eq!(DirectoryUrl::default().page(2), "page=2");
    }
}
