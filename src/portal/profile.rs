//! `GET /orgs/{uscc-or-id}`: an organization's public profile — registration facts, status and
//! grade with its validity, former names, and the public event timeline (registration and each
//! change of a public field), with schema.org JSON-LD for search engines. Internal fields
//! (contact person and phone, member and staff counts) and staff account names never appear.

use super::directory::profile_href;
use crate::app::AppState;
use crate::areas::{AreaId, store as areas};
use crate::audit::ChangeEvent;
use crate::auth::Scope;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::registry::api::find_by_key;
use crate::registry::pages::{References, display_value, field_label};
use crate::registry::store::{self, OrgRow};
use crate::registry::{INTERNAL_FIELDS, OrgId, OrgStatus};
use crate::web::{Layout, PageCtx, page};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Duration;

/// One labelled fact.
pub struct PublicFact {
    label: &'static str,
    value: String,
}

/// One public event.
pub struct PublicEvent {
    on: String,
    what: &'static str,
    changes: Vec<(&'static str, String, String)>,
}

#[derive(Template)]
#[template(path = "portal/profile.html")]
struct ProfilePage {
    layout: Layout,
    name: String,
    uscc: String,
    status: &'static str,
    active: bool,
    grade: String,
    grade_valid: String,
    facts: Vec<PublicFact>,
    area_path: Vec<(String, String)>,
    former_names: Vec<String>,
    events: Vec<PublicEvent>,
    /// Annual reports and credit listings (年报、年检结论与信用信息).
    record: crate::inspection::pages::PublicRecord,
    /// Brand figures and disclosed donations (品牌与捐赠公开).
    volunteering: crate::volunteers::pages::PublicFigures,
    /// Incubation history (孵化经历).
    incubation: Vec<crate::incubation::pages::HistoryLine>,
    json_ld: String,
    api_href: String,
    /// Funded projects with a public accountability page: (id, title, round, grant).
    funded: Vec<(i64, String, String, String)>,
}

/// `GET /orgs/{key}`.
pub async fn profile(
    State(app): State<AppState>,
    ctx: PageCtx,
    Path(key): Path<String>,
) -> Result<Response> {
    let lang = ctx.lang;
    let scope = Scope::Public;
    let mut conn = app.read_db.acquire().await?;
    let mut c = conn.conn();
    let row = find_by_key(&mut c, &scope, &key)
        .await?
        .ok_or(Error::NotFound)?;
    let events = store::history(&mut c, &scope, OrgId(row.id)).await?;
    let refs = References::load(&mut c, &row, &events).await?;
    let path = areas::path(&mut c, AreaId(row.area_id)).await?;
    let value = |field: &str, v: Option<String>| display_value(lang, field, v.as_deref(), &refs);
    let mut facts = vec![
        PublicFact {
            label: lang.t("org.field.kind"),
            value: row.kind().label(lang).to_owned(),
        },
        PublicFact {
            label: lang.t("org.field.domain"),
            value: row.domain_name(lang).to_owned(),
        },
    ];
    for (field, v) in row.history_fields() {
        if matches!(
            field,
            "name"
                | "uscc"
                | "kind"
                | "domain"
                | "status"
                | "grade"
                | "grade_expires_on"
                | "area_code"
        ) || INTERNAL_FIELDS.contains(&field)
        {
            continue;
        }
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            facts.push(PublicFact {
                label: field_label(lang, field),
                value: value(field, Some(v)),
            });
        }
    }
    let former_names = former_names(&events);
    // An expired grade stops showing (judged on the business date).
    let today = crate::clock::today(&mut c).await?;
    let grade = crate::evaluation::shown_grade(row.grade.as_deref(), row.grade_expires_on, today);
    let record = crate::inspection::pages::PublicRecord::load(&mut c, row.id, lang, today).await?;
    let volunteering = crate::volunteers::pages::PublicFigures::load(&mut c, row.id, lang).await?;
    let incubation = crate::incubation::pages::history(&mut c, OrgId(row.id), lang).await?;
    let funded = crate::funding::store::public_projects_of(&mut c, row.id)
        .await?
        .into_iter()
        .map(|(id, title, round, fen)| (id, title, round, crate::web::money(fen, lang)))
        .collect();
    let view = ProfilePage {
        funded,
        record,
        volunteering,
        incubation,
        layout: ctx.layout_titled(row.name.clone()),
        name: row.name.clone(),
        uscc: row.uscc.clone().unwrap_or_default(),
        status: row.status().label(lang),
        active: row.status() == OrgStatus::Active,
        grade: grade.map(|g| g.label(lang).to_owned()).unwrap_or_default(),
        grade_valid: row
            .grade_expires_on
            .filter(|_| grade.is_some())
            .map(|d| d.to_string())
            .unwrap_or_default(),
        facts,
        area_path: path
            .iter()
            .map(|a| (a.code.clone(), a.name.clone()))
            .collect(),
        events: public_events(&events, lang, &refs),
        json_ld: json_ld(
            &row,
            &path.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ),
        api_href: format!("/api/v1/organizations/{}", key_of(&row)),
        former_names,
    };
    page(&view, &view.layout)
}

/// The profile's key: the credit code when there is one, else the id.
fn key_of(row: &OrgRow) -> String {
    row.uscc.clone().unwrap_or_else(|| row.id.to_string())
}

/// Names the organization had before, oldest first.
fn former_names(events: &[ChangeEvent]) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .flat_map(|e| e.fields.iter())
        .filter(|f| f.field == "name")
        .filter_map(|f| f.before_value.clone())
        .collect();
    names.dedup();
    names
}

/// The history as the public may read it: dates (China time) and public fields only, newest
/// first; events that touched only internal fields are left out.
fn public_events(events: &[ChangeEvent], lang: Lang, refs: &References) -> Vec<PublicEvent> {
    events
        .iter()
        .rev()
        .filter_map(|e| {
            let created = e.action == "create";
            let changes: Vec<_> = e
                .fields
                .iter()
                .filter(|f| !INTERNAL_FIELDS.contains(&f.field.as_str()))
                .map(|f| {
                    (
                        field_label(lang, &f.field),
                        display_value(lang, &f.field, f.before_value.as_deref(), refs),
                        display_value(lang, &f.field, f.after_value.as_deref(), refs),
                    )
                })
                .collect();
            if !created && changes.is_empty() {
                return None;
            }
            Some(PublicEvent {
                on: (e.changed_at + Duration::hours(8))
                    .format("%Y-%m-%d")
                    .to_string(),
                what: lang.t(if created {
                    "portal.event.registered"
                } else {
                    "portal.event.changed"
                }),
                changes: if created { Vec::new() } else { changes },
            })
        })
        .collect()
}

/// schema.org data for search engines, safe inside a `<script>` element (no `<` survives).
fn json_ld(row: &OrgRow, area_names: &[&str]) -> String {
    let mut value = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "NGO",
        "name": row.name,
        "url": profile_href(row),
        "areaServed": area_names.join(""),
    });
    if let Some(code) = &row.uscc {
        value["identifier"] = serde_json::json!({
            "@type": "PropertyValue",
            "propertyID": "统一社会信用代码",
            "value": code,
        });
    }
    if let Some(d) = row.founded_on.or(row.registered_on) {
        value["foundingDate"] = serde_json::json!(d.to_string());
    }
    if let Some(a) = &row.address {
        value["address"] = serde_json::json!(a);
    }
    if let Some(p) = &row.legal_representative {
        value["founder"] = serde_json::json!({"@type": "Person", "name": p});
    }
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_cannot_close_its_script_element() {
        let mut row = crate::registry::store::tests_support::sample_row();
        row.name = "</script><script>alert(1)</script>".into();
        let s = json_ld(&row, &["滨海新区"]);
        assert!(!s.contains('<') && !s.contains('>'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["name"], row.name);
    }
}
