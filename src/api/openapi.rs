//! `GET /api/v1/openapi.json` (OpenAPI 3.1) and `GET /api/docs`, the same description as a
//! page that needs no script and no CDN. One document serves both, so they cannot drift; a
//! test checks that every `/api/v1` route is described.

use crate::app::AppState;
use crate::error::Result;
use crate::registry::{Grade, OrgKind, OrgStatus};
use crate::web::{Layout, PageCtx, page};
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

/// Text that is empty or only whitespace (as Rust's `char::is_whitespace` has it).
const BLANK: &str =
    r"^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";

/// A query or path parameter: name, where, description, schema. A query parameter given
/// blank (`?kind=`, as an HTML form sends it) counts as not given, so its schema allows that.
fn param(name: &str, place: &str, description: &str, schema: Value) -> Value {
    let schema = if place == "query" {
        json!({"anyOf": [schema, {"type": "string", "pattern": BLANK}]})
    } else {
        schema
    };
    json!({
        "name": name,
        "in": place,
        "required": place == "path",
        "description": description,
        "schema": schema,
    })
}

fn text() -> Value {
    json!({"type": "string"})
}

fn integer() -> Value {
    json!({"type": "integer", "minimum": 1})
}

/// A year a query may name.
fn year() -> Value {
    let years = crate::clock::QUERY_YEARS;
    json!({"type": "integer", "minimum": years.start(), "maximum": years.end()})
}

/// A division code: district (6 digits), street (9) or community (12).
fn division() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{6}([0-9]{3}){0,2}$"})
}

fn error_responses() -> Value {
    let error = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let described = |what: &str| {
        let mut e = error.clone();
        e["description"] = json!(what);
        e
    };
    json!({
        "400": described("The query string cannot be read (a parameter given twice, or malformed)."),
        "401": described("The bearer token is unknown, expired or revoked."),
        "404": described("No such record in the caller's scope."),
        "422": described("A parameter is wrong; `fields` names each one."),
        "429": described("Too many keyless requests from this address; see Retry-After."),
        "503": described("The database is too busy to answer in time; nothing was changed. Try again after Retry-After."),
    })
}

/// The registry filters shared by the list and the export.
fn filters() -> Vec<Value> {
    vec![
        param(
            "q",
            "query",
            "Search: Chinese substring of the name or a former name (养老 finds 颐养老年…), full pinyin (yanglao), pinyin initials (jjhl), traditional or full-width characters, or a credit code or its beginning. Whitespace-separated terms must all match.",
            text(),
        ),
        param(
            "kind",
            "query",
            "Kind of organization (machine name or Chinese label).",
            json!({"type": "string", "enum": OrgKind::spellings()}),
        ),
        param(
            "domain",
            "query",
            "Domain code (see the `domain` values in results).",
            text(),
        ),
        param(
            "area",
            "query",
            "Division code; includes everything below it.",
            division(),
        ),
        param(
            "status",
            "query",
            "Registration status (machine name or Chinese label).",
            json!({"type": "string", "enum": OrgStatus::spellings()}),
        ),
        param(
            "grade",
            "query",
            "Evaluation grade (1A–5A, or AAAAA-style).",
            json!({"type": "string", "enum": Grade::spellings()}),
        ),
    ]
}

/// The whole description.
pub fn document() -> Value {
    let mut list_params = filters();
    list_params.extend([
        param("page", "query", "Page number, from 1.", integer()),
        param(
            "per_page",
            "query",
            "Rows per page (default 20; more than 100 gives 100).",
            integer(),
        ),
        param(
            "sort",
            "query",
            "Order: relevance (default with q), name (by pinyin), newest (registration date), id (default without q).",
            json!({"type": "string", "enum": ["relevance", "name", "newest", "id"]}),
        ),
        param(
            "facets",
            "query",
            "Comma-separated facets to count exactly under the other filters: kind, domain, area (by child areas of the filtered area), status, grade.",
            text(),
        ),
    ]);
    let mut export_params = vec![param(
        "format",
        "query",
        "File format (default csv: UTF-8 with BOM, header row of column names; xlsx: an Excel workbook with Chinese headers, continued on a second sheet past Excel's 1,048,576 rows).",
        json!({"type": "string", "enum": ["csv", "json", "xlsx"]}),
    )];
    export_params.extend(filters());
    let doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "shezu open data API",
            "version": "1",
            "description": "The public registry of social organizations. Keyless reads see public fields and are rate limited per address; department tokens (`Authorization: Bearer shz_…`) see what their scopes allow. Text answers follow `?lang=en|zh` (or the language cookie); errors are `{\"error\", \"fields\"}`.",
            "license": {"name": "Open data: free to reuse with attribution"},
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"department_token": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "fields"],
                    "properties": {
                        "error": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
                "Organization": {
                    "type": "object",
                    "required": ["id", "uscc", "name", "kind", "domain", "status", "area_code", "area_name", "registered_on", "grade"],
                    "properties": {
                        "id": {"type": "integer"},
                        "uscc": {"type": ["string", "null"], "description": "统一社会信用代码 (null for filed organizations without one)."},
                        "name": {"type": "string"},
                        "kind": {"type": "string"},
                        "kind_name": {"type": "string"},
                        "domain": {"type": "string"},
                        "domain_name": {"type": "string"},
                        "status": {"type": "string"},
                        "status_name": {"type": "string"},
                        "area_code": {"type": "string"},
                        "area_name": {"type": "string"},
                        "registered_on": {"type": ["string", "null"], "format": "date"},
                        "grade": {"type": ["string", "null"]},
                        "grade_expires_on": {"type": ["string", "null"], "format": "date"},
                    },
                },
                "Area": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "level": {"type": "string", "enum": ["nation", "province", "prefecture", "district", "functional_area", "street", "community"]},
                        "level_name": {"type": "string"},
                        "parent_code": {"type": ["string", "null"]},
                        "depth": {"type": "integer"},
                    },
                },
                "Change": {
                    "type": "object",
                    "properties": {
                        "seq": {"type": "integer", "description": "Position in the feed; pass it as `since` next time."},
                        "at": {"type": "string", "format": "date-time"},
                        "action": {"type": "string", "enum": ["create", "update"]},
                        "id": {"type": "integer"},
                        "record": {"type": "object", "description": "The public record as this change left it: field → stored value (codes, dates, fen)."},
                    },
                },
            },
        },
        "paths": {
            "/api/v1/organizations": {"get": {
                "summary": "Search and list organizations",
                "parameters": list_params,
                "responses": {
                    "200": {"description": "A page with the exact total and the facets asked for.", "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Organization"}},
                            "total": {"type": "integer"},
                            "page": {"type": "integer"},
                            "per_page": {"type": "integer"},
                            "facets": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}}},
                        },
                    }}}},
                },
            }},
            "/api/v1/organizations/{key}": {"get": {
                "summary": "One organization's public record",
                "parameters": [param("key", "path", "Credit code (18 characters) or id.", text())],
                "responses": {"200": {"description": "The record, with its area path.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Organization"}}}}},
            }},
            "/api/v1/export/organizations": {"get": {
                "summary": "Download every organization matching the filters (streamed)",
                "parameters": export_params,
                "responses": {"200": {"description": "CSV, a JSON array or an Excel workbook, streamed in id order.", "content": {"text/csv": {}, "application/json": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
            }},
            "/api/v1/changes": {"get": {
                "summary": "Change feed for mirroring the registry",
                "parameters": [
                    param("since", "query", "Return changes after this position (0: from the start).", json!({"type": "integer", "minimum": 0})),
                    param("limit", "query", "At most this many changes (1–500, default 100).", json!({"type": "integer", "minimum": 1, "maximum": 500})),
                ],
                "responses": {"200": {"description": "Changes in commit order.", "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {
                        "changes": {"type": "array", "items": {"$ref": "#/components/schemas/Change"}},
                        "next_since": {"type": "integer"},
                        "more": {"type": "boolean"},
                    },
                }}}}},
            }},
            "/api/v1/areas": {"get": {
                "summary": "The whole area tree",
                "responses": {"200": {"description": "Every area.", "content": {"application/json": {"schema": {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Area"}}, "total": {"type": "integer"}}}}}}},
            }},
            "/api/v1/areas/{code}": {"get": {
                "summary": "One area with its path and children",
                "parameters": [param("code", "path", "Division code.", division())],
                "responses": {"200": {"description": "The area.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Area"}}}}},
            }},
            "/api/v1/credit-lists": {"get": {
                "summary": "Organizations on the credit lists (活动异常名录, 严重违法失信名单)",
                "parameters": [
                    param("list", "query", "abnormal or serious (default: both).", json!({"type": "string", "enum": ["abnormal", "serious"]})),
                    param("all", "query", "true: include listings that have ended.", json!({"type": "boolean"})),
                ],
                "responses": {"200": {"description": "Listings, newest first: organization, credit code, list, reason, report year, facts, listed and removed dates, removal reason.", "content": {"application/json": {"schema": {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer"}}}}}}},
            }},
            "/api/v1/inspection/figures": {"get": {
                "summary": "Annual-inspection figures of a year for an area subtree",
                "parameters": [
                    param("year", "query", "Report year (default: last year of the business date).", year()),
                    param("area", "query", "Division code of the area (default: the whole district).", division()),
                ],
                "responses": {"200": {"description": "Due, filed on time and late, overdue, results, inspection rate (filed ÷ due) and pass rate (passed ÷ reviewed), organizations listed now.", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/api/v1/network": {"get": {
                "summary": "The four-level network of an area and each child area (aggregates)",
                "parameters": [param("area", "query", "Division code (default: the district).", division())],
                "responses": {"200": {"description": "Organizations by kind, federations and their members, communities and those with a liaison point, for the area and each child; organizations located at the area itself.", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/api/v1/party/summary": {"get": {
                "summary": "Party-building aggregate counts of an area (党建信息, no names)",
                "parameters": [
                    param("area", "query", "Division code (default: the district).", division()),
                    param("year", "query", "Funding and assessment year (default: last year of the business date).", year()),
                ],
                "responses": {"200": {"description": "Party organizations by form (independent, joint, affiliated, dispatched), instructors, organizations and their coverage (own, joint, instructor, uncovered), and the year's funding: budget and paid, in yuan and fen; and the year's standardisation assessments counted per result band (assessed, excellent, good, pass, fail).", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/api/v1/stats/summary": {"get": {
                "summary": "The district's figures (SPEC §4) for an area and year, counted from the records",
                "parameters": [
                    param("area", "query", "Division code (default: the district).", division()),
                    param("year", "query", "Year (default: last year of the business date); registry counts are as of its last day.", year()),
                ],
                "responses": {"200": {"description": "organizations_total, registered_total, social_groups, private_non_enterprise_units, foundations, filed_community_orgs, party_orgs_independent, party_branches_joint, party_instructors, party_funding_yuan, federations, communities_total, communities_with_liaison_point, direct_registrations, inspection_rate, inspection_pass_rate (fractions 0–1), organizations_evaluated, social_workers, professionals, incubated_graduated, incubating, venture_budget_yuan, venture_domains, venture_proposals, venture_funded, volunteer_hours, donations_yuan.", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/api/v1/talent/summary": {"get": {
                "summary": "Social workers, professionals and training of an area (社工与培训, aggregates)",
                "parameters": [
                    param("area", "query", "Division code (default: the district).", division()),
                    param("year", "query", "Training year (default: last year of the business date).", year()),
                ],
                "responses": {"200": {"description": "On the business date: live organizations, social workers and professionals in post, social workers the 1:N ratio needs (N = organizations_per_social_worker), organizations without a social worker, social workers over their load; for the year: training sessions held, attendances, organizations trained and training hours received by the area's organizations.", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/api/v1/volunteers/summary": {"get": {
                "summary": "Volunteer hours, donations and beneficiaries of an area (aggregates, no names)",
                "parameters": [
                    param("area", "query", "Division code (default: the district).", division()),
                    param("year", "query", "Year of service, donation and enrolment (default: all years).", year()),
                ],
                "responses": {"200": {"description": "volunteer_hours: verified service hours only (recorded or confirmed hours are unverified_hours and never counted); volunteers, active_volunteers, verified_records, domains and hours_by_domain; donations_yuan: money and valued goods raised (donations_received_yuan), donations_given_yuan, donations (records); beneficiaries enrolled; service_bases.", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/api/v1/incubation/summary": {"get": {
                "summary": "Incubation figures of an area (三级孵化体系, no names)",
                "parameters": [param("area", "query", "Division code (default: the district).", division())],
                "responses": {"200": {"description": "Incubators and their places, stays graduated (出壳), in incubation and exited, micro-subsidies in fen and yuan; by level (district park, functional-area incubator, street centre) and by child area. Counted from the stays.", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/api/v1/funding/summary": {"get": {
                "summary": "Venture philanthropy and support funds: a year's published rounds counted from the records (公益创投, no applicant names)",
                "parameters": [
                    param("year", "query", "Round year (default: last year of the business date).", year()),
                ],
                "responses": {"200": {"description": "`venture`: the venture-philanthropy round's budget (yuan), domains, proposals, funded and granted (yuan); `rounds`: every published round of the year with kind, budget, domains, proposals, passed, funded, granted, matching and paid (yuan), actual beneficiaries and counted outputs.", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/api/v1/openapi.json": {"get": {
                "summary": "This description",
                "responses": {"200": {"description": "OpenAPI 3.1 document."}},
            }},
        },
    });
    with_error_responses(doc)
}

/// Adds the shared error answers to every operation.
fn with_error_responses(mut doc: Value) -> Value {
    let errors = error_responses();
    if let (Some(paths), Some(errors)) = (doc["paths"].as_object_mut(), errors.as_object()) {
        for op in paths.values_mut() {
            if let Some(responses) = op["get"]["responses"].as_object_mut() {
                for (code, answer) in errors {
                    responses.insert(code.clone(), answer.clone());
                }
            }
        }
    }
    doc
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Json<Value> {
    Json(document())
}

/// One operation on the documentation page.
pub struct DocOperation {
    path: String,
    summary: String,
    params: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    layout: Layout,
    description: String,
    operations: Vec<DocOperation>,
}

/// `GET /api/docs`: the description as a page.
pub async fn docs(State(_app): State<AppState>, ctx: PageCtx) -> Result<Response> {
    let doc = document();
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let operations = doc["paths"]
        .as_object()
        .map(|paths| {
            paths
                .iter()
                .map(|(path, op)| DocOperation {
                    path: path.clone(),
                    summary: s(&op["get"]["summary"]),
                    params: op["get"]["parameters"]
                        .as_array()
                        .map(|ps| {
                            ps.iter()
                                .map(|p| (s(&p["name"]), s(&p["in"]), s(&p["description"])))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let view = DocsPage {
        layout: ctx.layout("api.docs.title"),
        description: s(&doc["info"]["description"]),
        operations,
    };
    page(&view, &view.layout)
}
