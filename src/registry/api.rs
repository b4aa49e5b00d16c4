//! `GET /api/v1/organizations` (filters, paging, facets) and `GET /api/v1/organizations/{key}`:
//! the public registry as JSON. Callers without a token see public fields only.

use super::facets::Counts;
use super::store::{self, GroupColumn, OrgFilter, OrgOrder, OrgRow};
use super::uscc::Uscc;
use super::{Grade, OrgId, OrgKind, OrgStatus};
use crate::api::{ApiCaller, ApiResult};
use crate::app::AppState;
use crate::areas::store as areas;
use crate::auth::Scope;
use crate::db::Conn;
use crate::error::{Error, FieldErrors};
use crate::i18n::{Lang, Msg};
use crate::web::Paging;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/organizations", get(list))
        .route("/api/v1/organizations/{key}", get(show))
}

/// Query string of the list (all text, so that a bad value becomes a 422 naming its field
/// rather than a bare 400).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    q: Option<String>,
    kind: Option<String>,
    domain: Option<String>,
    area: Option<String>,
    status: Option<String>,
    grade: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    facets: Option<String>,
    sort: Option<String>,
}

impl ListQuery {
    /// The filters given (name and value, in query order; paging and facets left out), for a
    /// download's note.
    pub fn given_filters(&self) -> Vec<(&'static str, &str)> {
        [
            ("q", &self.q),
            ("kind", &self.kind),
            ("domain", &self.domain),
            ("area", &self.area),
            ("status", &self.status),
            ("grade", &self.grade),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            let value = value.as_deref()?.trim();
            (!value.is_empty()).then_some((name, value))
        })
        .collect()
    }
}

/// A checked list request: filter, page, facets asked for and order (if one was named).
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// The filter.
    pub filter: OrgFilter,
    /// The page.
    pub paging: Paging,
    /// The facets asked for.
    pub facets: Vec<&'static str>,
    /// The order named by `sort`, if any.
    pub order: Option<OrgOrder>,
}

/// One organization in a list.
#[derive(Debug, Serialize)]
pub struct OrgItem {
    id: i64,
    uscc: Option<String>,
    name: String,
    kind: String,
    kind_name: &'static str,
    domain: String,
    domain_name: String,
    status: String,
    status_name: &'static str,
    area_code: String,
    area_name: String,
    registered_on: Option<NaiveDate>,
    grade: Option<String>,
    grade_expires_on: Option<NaiveDate>,
    /// Only for callers allowed internal fields (department tokens with `registry:read`).
    #[serde(skip_serializing_if = "Option::is_none")]
    internal: Option<Internal>,
}

/// Non-public fields.
#[derive(Debug, Serialize)]
struct Internal {
    contact_person: Option<String>,
    contact_phone: Option<String>,
    members: Option<i64>,
    staff: Option<i64>,
}

impl OrgItem {
    fn from_row(row: &OrgRow, lang: Lang, internal: bool) -> OrgItem {
        OrgItem {
            id: row.id,
            uscc: row.uscc.clone(),
            name: row.name.clone(),
            kind: row.kind.clone(),
            kind_name: row.kind().label(lang),
            domain: row.domain_code.clone(),
            domain_name: row.domain_name(lang).to_owned(),
            status: row.status.clone(),
            status_name: row.status().label(lang),
            area_code: row.area_code.clone(),
            area_name: row.area_name.clone(),
            registered_on: row.registered_on,
            grade: row.grade.clone(),
            grade_expires_on: row.grade_expires_on,
            internal: internal.then(|| Internal {
                contact_person: row.contact_person.clone(),
                contact_phone: row.contact_phone.clone(),
                members: row.members,
                staff: row.staff,
            }),
        }
    }
}

#[derive(Debug, Serialize)]
struct OrgPage {
    items: Vec<OrgItem>,
    total: i64,
    page: i64,
    per_page: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    facets: Option<BTreeMap<&'static str, BTreeMap<String, i64>>>,
}

/// The facets a caller may ask for.
const FACETS: &[&str] = &["kind", "domain", "area", "status", "grade"];

fn parse_choice<T>(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &Option<String>,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let v = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
    let parsed = parse(v);
    if parsed.is_none() {
        errors.add(field, Msg::new("error.field.choice"));
    }
    parsed
}

fn parse_number(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &Option<String>,
) -> Option<i64> {
    let v = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
    match v.parse::<i64>() {
        Ok(n) if n >= 1 => Some(n),
        _ => {
            errors.add(field, Msg::new("error.field.positive"));
            None
        }
    }
}

/// Turns the query string into a filter, checking every value; the area code must exist.
pub async fn parse_filter(conn: &mut Conn<'_>, query: &ListQuery) -> Result<ListRequest, Error> {
    let mut e = FieldErrors::new();
    let kind = parse_choice(&mut e, "kind", &query.kind, OrgKind::parse);
    let status = parse_choice(&mut e, "status", &query.status, OrgStatus::parse);
    let grade = parse_choice(&mut e, "grade", &query.grade, Grade::parse);
    let page = parse_number(&mut e, "page", &query.page);
    let per_page = parse_number(&mut e, "per_page", &query.per_page);
    let order = parse_choice(&mut e, "sort", &query.sort, OrgOrder::parse);
    let mut area = None;
    if let Some(code) = query
        .area
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        match areas::find_by_code(conn, code).await? {
            Some(a) => area = Some(a.area_id()),
            None => e.add("area", Msg::new("registry.error.unknown_area")),
        }
    }
    let domain = query
        .domain
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if let Some(code) = domain
        && store::find_domain(conn, code).await?.is_none()
    {
        e.add("domain", Msg::new("error.field.choice"));
    }
    let mut facets = Vec::new();
    for name in query
        .facets
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        match FACETS.iter().find(|f| **f == name) {
            Some(f) => facets.push(*f),
            None => e.add("facets", Msg::new("error.field.choice")),
        }
    }
    let filter = OrgFilter {
        q: query.q.clone(),
        kind,
        domain: domain.map(str::to_owned),
        area,
        status,
        grade,
    };
    e.into_result(ListRequest {
        filter,
        paging: Paging::new(page, per_page),
        facets,
        order,
    })
}

async fn list(
    State(app): State<AppState>,
    caller: ApiCaller,
    lang: Lang,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<OrgPage>> {
    let scope = caller.scope();
    let mut conn = app.read_db.acquire().await?;
    let mut c = conn.conn();
    let ListRequest {
        filter,
        paging,
        facets: facet_names,
        order,
    } = parse_filter(&mut c, &query).await?;
    // Without a query, id order keeps paging stable while records are added.
    let order = order.unwrap_or(if filter.terms().is_empty() {
        OrgOrder::Id
    } else {
        OrgOrder::Relevance
    });
    let (rows, counted) =
        page_and_counts(&app, &mut c, &scope, &filter, paging, order, &facet_names).await?;
    let total = counted.total;
    let facets = (!facet_names.is_empty()).then_some(counted.facets);
    Ok(Json(OrgPage {
        items: rows
            .iter()
            .map(|r| OrgItem::from_row(r, lang, caller.internal_fields()))
            .collect(),
        total,
        page: paging.page,
        per_page: paging.per_page,
        facets,
    }))
}

/// One page of organizations with the exact total and the facets named. For the district-wide
/// scopes the counts and the page's ids, in every order, come from the in-memory index (the
/// rows are then read by id); narrower scopes count and page in SQL.
pub async fn page_and_counts(
    app: &AppState,
    conn: &mut Conn<'_>,
    scope: &Scope,
    filter: &OrgFilter,
    paging: Paging,
    order: OrgOrder,
    names: &[&'static str],
) -> Result<(Vec<OrgRow>, Counts), Error> {
    if matches!(scope, Scope::Limited { .. }) {
        let counted = counts(app, conn, scope, filter, names).await?;
        let rows = store::list_page(conn, scope, filter, paging, order).await?;
        return Ok((rows, counted));
    }
    let source = app.facets.refresh(conn).await?;
    let (candidates, as_of) = search_matches(app, conn, filter, source).await?;
    let counted = counts_from_index(
        app,
        filter,
        candidates.as_deref().map(|found| found.ids.as_slice()),
        as_of,
        names,
    );
    let terms = filter.terms();
    // A full credit code typed as the query ranks its organization first.
    let exact = match terms.first() {
        Some(t) if t.len() == 18 => store::ids_with_uscc(conn, &t.to_ascii_uppercase()).await?,
        _ => Vec::new(),
    };
    let ids = app.facets.page(
        filter,
        candidates.as_deref(),
        order,
        (
            usize::try_from(paging.offset()).unwrap_or(usize::MAX),
            usize::try_from(paging.per_page).unwrap_or(0),
        ),
        &exact,
        as_of,
    );
    let rows = match ids {
        Some(ids) => {
            let mut rows = store::find_many(conn, scope, &ids).await?;
            rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
            rows
        }
        None => store::list_page(conn, scope, filter, paging, order).await?,
    };
    Ok((rows, counted))
}

/// The organizations the search terms of `filter` match (`None` without a search), remembered
/// until the registry changes, and the sequence number they hold for (`i64::MAX` without a
/// search). `source` is the newest sequence number of the database `conn` reads.
async fn search_matches(
    app: &AppState,
    conn: &mut Conn<'_>,
    filter: &OrgFilter,
    source: i64,
) -> Result<(Option<std::sync::Arc<super::search::SearchMatches>>, i64), Error> {
    let terms = filter.terms();
    if terms.is_empty() {
        return Ok((None, i64::MAX));
    }
    if let Some((hit, seq)) = app.facets.matches_cached(&terms) {
        return Ok((Some(hit), seq));
    }
    let found = std::sync::Arc::new(super::search::matching(conn, &terms).await?);
    app.facets.remember_matches(&terms, source, found.clone());
    Ok((Some(found), source))
}

/// Counts from the index, remembered until the registry changes (when the search matches
/// among the inputs, as of `as_of`, are not older than the index).
fn counts_from_index(
    app: &AppState,
    filter: &OrgFilter,
    candidates: Option<&[i64]>,
    as_of: i64,
    names: &[&'static str],
) -> Counts {
    let key = format!(
        "{:?}|{:?}|{names:?}",
        filter.terms(),
        OrgFilter {
            q: None,
            ..filter.clone()
        }
    );
    app.facets.counts_cached(key, as_of, || {
        app.facets.count(filter, candidates, filter.area, names)
    })
}

/// The exact total under `filter` and the facets named: from the in-memory index for the
/// district-wide scopes, from SQL for narrower ones.
pub async fn counts(
    app: &AppState,
    conn: &mut Conn<'_>,
    scope: &Scope,
    filter: &OrgFilter,
    names: &[&'static str],
) -> Result<Counts, Error> {
    match scope {
        Scope::All | Scope::Public => {
            let source = app.facets.refresh(conn).await?;
            let (candidates, as_of) = search_matches(app, conn, filter, source).await?;
            Ok(counts_from_index(
                app,
                filter,
                candidates.as_deref().map(|found| found.ids.as_slice()),
                as_of,
                names,
            ))
        }
        Scope::Limited { .. } => Ok(Counts {
            total: store::count(conn, scope, filter).await?,
            facets: facets(conn, scope, filter, names).await?,
        }),
    }
}

/// Exact counts per facet value in SQL, each under every filter except its own; the area facet
/// counts by the child areas of the filtered area (or of the root).
pub async fn facets(
    conn: &mut Conn<'_>,
    scope: &Scope,
    filter: &OrgFilter,
    names: &[&'static str],
) -> Result<BTreeMap<&'static str, BTreeMap<String, i64>>, Error> {
    let mut out = BTreeMap::new();
    for &name in names {
        let mut others = filter.clone();
        let counts = match name {
            "kind" => {
                others.kind = None;
                store::count_by(conn, scope, &others, GroupColumn::Kind).await?
            }
            "status" => {
                others.status = None;
                store::count_by(conn, scope, &others, GroupColumn::Status).await?
            }
            "grade" => {
                others.grade = None;
                store::count_by(conn, scope, &others, GroupColumn::Grade).await?
            }
            "domain" => {
                others.domain = None;
                store::count_by(conn, scope, &others, GroupColumn::Domain).await?
            }
            _ => {
                others.area = None;
                store::count_by_child_area(conn, scope, &others, filter.area).await?
            }
        };
        out.insert(name, counts.into_iter().collect());
    }
    Ok(out)
}

/// One organization's public record.
#[derive(Debug, Serialize)]
pub struct OrgDetail {
    #[serde(flatten)]
    item: OrgItem,
    legal_representative: Option<String>,
    address: Option<String>,
    business_scope: Option<String>,
    supervisory_unit: Option<String>,
    direct_registration: bool,
    registration_authority: Option<String>,
    founded_on: Option<NaiveDate>,
    registered_capital_yuan: Option<f64>,
    brand: bool,
    area_path: Vec<AreaRef>,
    /// Annual reports (filing status and inspection result) and credit listings, on the
    /// single-organization answer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    compliance: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct AreaRef {
    code: String,
    name: String,
}

async fn show(
    State(app): State<AppState>,
    caller: ApiCaller,
    lang: Lang,
    Path(key): Path<String>,
) -> ApiResult<Json<OrgDetail>> {
    let scope = caller.scope();
    let mut conn = app.read_db.acquire().await?;
    let mut c = conn.conn();
    let row = find_by_key(&mut c, &scope, &key)
        .await?
        .ok_or(Error::NotFound)?;
    let mut detail = OrgDetail::load(&mut c, &row, lang, caller.internal_fields()).await?;
    let today = crate::clock::today(&mut c).await?;
    detail.hide_expired_grade(today);
    let record = crate::inspection::pages::PublicRecord::load(&mut c, row.id, lang, today).await?;
    detail.compliance = Some(record.json());
    Ok(Json(detail))
}

impl OrgDetail {
    /// Drops a grade whose five-year validity ended before `today` (the business date): an
    /// expired grade is no grade.
    pub fn hide_expired_grade(&mut self, today: NaiveDate) {
        let g = &mut self.item;
        if crate::evaluation::shown_grade(g.grade.as_deref(), g.grade_expires_on, today).is_none() {
            g.grade = None;
            g.grade_expires_on = None;
        }
    }

    /// The public record of `row` (with internal fields when `internal`).
    pub async fn load(
        conn: &mut Conn<'_>,
        row: &OrgRow,
        lang: Lang,
        internal: bool,
    ) -> Result<OrgDetail, Error> {
        let path = areas::path(conn, crate::areas::AreaId(row.area_id)).await?;
        Ok(Self::of(row, path, lang, internal))
    }

    /// The record of `row` given its area path, root first.
    pub fn of(row: &OrgRow, path: Vec<areas::AreaRow>, lang: Lang, internal: bool) -> OrgDetail {
        OrgDetail {
            item: OrgItem::from_row(row, lang, internal),
            legal_representative: row.legal_representative.clone(),
            address: row.address.clone(),
            business_scope: row.business_scope.clone(),
            supervisory_unit: row.supervisory_unit.clone(),
            direct_registration: row.direct_registration,
            registration_authority: row.registration_authority.clone(),
            founded_on: row.founded_on,
            registered_capital_yuan: row.registered_capital_fen.map(|f| f as f64 / 100.0),
            brand: row.brand,
            area_path: path
                .into_iter()
                .map(|a| AreaRef {
                    code: a.code,
                    name: a.name,
                })
                .collect(),
            compliance: None,
        }
    }
}

/// Looks an organization up by USCC (18 characters) or by numeric id.
pub async fn find_by_key(
    conn: &mut Conn<'_>,
    scope: &Scope,
    key: &str,
) -> Result<Option<OrgRow>, Error> {
    if let Ok(id) = key.parse::<i64>() {
        return store::find(conn, scope, OrgId(id)).await;
    }
    match Uscc::parse(key) {
        Ok(code) => store::find_by_uscc(conn, scope, &code).await,
        Err(_) => Ok(None),
    }
}
