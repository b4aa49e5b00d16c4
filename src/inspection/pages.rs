//! The organization's annual-report pages (`/reports`), the staff calendar, review and figures
//! (`/admin/reports`), the credit-list desk (`/admin/credit`), and the public JSON
//! (`/api/v1/credit-lists`, `/api/v1/inspection/figures`).

use super::credit::{self, ListingRow, NewListing};
use super::store::{self, CalendarLine, Decision, Figures, ReportRow, percent};
use super::{
    CreditList, Filing, ListingReason, RemovalReason, ReportForm, ReportResult, ReportState, Rules,
    needs_rectification,
};
use crate::app::AppState;
use crate::areas::AreaId;
use crate::auth::{CurrentUser, Permission, Scope, require, require_own_org};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use crate::registry::OrgId;
use crate::web::{
    Layout, PageCtx, field_error, money, page, page_with_errors, redirect_with_flash,
};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

/// Every route of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(my_reports))
        .route("/reports/{year}", get(report_form).post(save_report))
        .route("/reports/{year}/submit", post(submit_report))
        .route("/credit/{id}/objection", post(file_objection))
        .route("/admin/reports", get(staff_calendar))
        .route("/admin/reports/{id}", get(show_report))
        .route("/admin/reports/{id}/review", post(review_report))
        .route("/admin/credit", get(credit_desk).post(add_listing))
        .route("/admin/credit/sweep", post(run_sweep))
        .route("/admin/credit/{id}", get(show_listing))
        .route("/admin/credit/{id}/remove", post(remove_listing))
        .route(
            "/admin/credit/{id}/objections/{objection}",
            post(decide_objection),
        )
        .route("/api/v1/credit-lists", get(api_credit_lists))
        .route("/api/v1/inspection/figures", get(api_figures))
}

/// A listing, formatted for pages.
pub struct ListingLine {
    /// Id.
    pub id: i64,
    /// Organization id.
    pub org_id: i64,
    /// Organization name.
    pub org_name: String,
    /// List name.
    pub list: &'static str,
    /// Reason in words (with the report year for a missed report).
    pub reason: String,
    /// Facts.
    pub detail: String,
    /// Evidence.
    pub evidence: String,
    /// Listed on.
    pub listed_on: String,
    /// Removed on, and how.
    pub removed: String,
    /// In force.
    pub open: bool,
}

impl ListingLine {
    /// Formats a listing in `lang`.
    pub fn of(l: &ListingRow, lang: Lang) -> ListingLine {
        let reason = match (l.reason(), l.subject_year) {
            (Some(ListingReason::AnnualReportMissing), Some(year)) => lang.tf(
                "credit.reason.annual_report_missing_year",
                &[("year", &year.to_string())],
            ),
            (Some(r), _) => r.label(lang).to_owned(),
            (None, _) => l.reason.clone(),
        };
        ListingLine {
            id: l.id,
            org_id: l.org_id,
            org_name: l.org_name.clone(),
            list: l.list().label(lang),
            reason,
            detail: l.detail.clone(),
            evidence: l.evidence.clone(),
            listed_on: l.listed_on.to_string(),
            removed: match (
                &l.removed_on,
                l.removal_reason.as_deref().and_then(RemovalReason::parse),
            ) {
                (Some(day), Some(how)) => format!("{day} · {}", how.label(lang)),
                _ => String::new(),
            },
            open: l.is_open(),
        }
    }
}

/// A year's filing line, formatted.
pub struct YearLine {
    /// Report year.
    pub year: i32,
    /// Organization id.
    pub org_id: i64,
    /// Organization name.
    pub org_name: String,
    /// Area.
    pub area: String,
    /// Deadline.
    pub deadline: String,
    /// Filing status in words.
    pub filing: String,
    /// `on_time`, `late` … for styling.
    pub filing_key: &'static str,
    /// Report state in words.
    pub state: String,
    /// Result in words.
    pub result: String,
    /// Result's machine name, once reviewed.
    pub result_key: Option<&'static str>,
    /// The report, when started.
    pub report_id: Option<i64>,
}

impl YearLine {
    fn of(line: &CalendarLine, year: i32, lang: Lang) -> YearLine {
        YearLine {
            year,
            org_id: line.row.org_id,
            org_name: line.row.name.clone(),
            area: line.row.area_name.clone(),
            deadline: line.deadline.to_string(),
            filing: line.filing.label(lang),
            filing_key: line.filing.key(),
            state: line
                .state()
                .map(|s| s.label(lang).to_owned())
                .unwrap_or_default(),
            result: line
                .result()
                .map(|r| r.label(lang).to_owned())
                .unwrap_or_default(),
            result_key: line.result().map(ReportResult::as_str),
            report_id: line.row.report_id,
        }
    }
}

/// The organization a signed-in organization account files for.
async fn own_org(app: &AppState, user: &CurrentUser) -> Result<OrgId> {
    let (_, org) = require_own_org(app, user, Permission::FileAnnualReport).await?;
    Ok(org)
}

/// The years shown to an organization: the last three closed years and the running one.
fn recent_years(today: NaiveDate) -> Vec<i32> {
    (today.year() - 3..today.year()).rev().collect()
}

#[derive(Template)]
#[template(path = "inspection/mine.html")]
struct MinePage {
    layout: Layout,
    today: String,
    years: Vec<YearLine>,
    reminders: Vec<String>,
    listings: Vec<ListingLine>,
}

async fn my_reports(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> Result<Response> {
    let org = own_org(&app, &user).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let rules = Rules::load(&mut c).await?;
    let scope = Scope::orgs(vec![org]);
    let mut years = Vec::new();
    let mut reminders = Vec::new();
    for year in recent_years(today) {
        let lines = store::calendar(
            &mut c,
            &scope,
            i64::from(year),
            None,
            Some(org.0),
            &rules,
            today,
        )
        .await?;
        for line in &lines {
            match line.filing {
                Filing::Due { days_left } => reminders.push(ctx.lang.tf(
                    "inspection.reminder.due",
                    &[
                        ("year", &year.to_string()),
                        ("days", &days_left.to_string()),
                        ("deadline", &line.deadline.to_string()),
                    ],
                )),
                Filing::Overdue { days } => reminders.push(ctx.lang.tf(
                    "inspection.reminder.overdue",
                    &[("year", &year.to_string()), ("days", &days.to_string())],
                )),
                _ => {}
            }
            if line.state() == Some(ReportState::Returned) {
                reminders.push(ctx.lang.tf(
                    "inspection.reminder.returned",
                    &[("year", &year.to_string())],
                ));
            }
            years.push(YearLine::of(line, year, ctx.lang));
        }
    }
    let listings = credit::for_org(&mut c, org.0)
        .await?
        .iter()
        .map(|l| ListingLine::of(l, ctx.lang))
        .collect();
    let view = MinePage {
        layout: ctx.layout("inspection.mine.title"),
        today: today.to_string(),
        years,
        reminders,
        listings,
    };
    page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "inspection/form.html")]
struct FormPage {
    layout: Layout,
    year: i64,
    form: ReportForm,
    version: i64,
    editable: bool,
    rectification_required: bool,
    state: String,
    reasons: String,
    errors: Vec<(String, String)>,
}

impl FormPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }

    fn label(&self, field: &str) -> &'static str {
        self.layout.t(&format!("inspection.field.{field}"))
    }

    fn required(&self, field: &str) -> bool {
        matches!(field, "activities" | "party_building")
            || (field == "rectification" && self.rectification_required)
    }

    fn money_fields(&self) -> Vec<(&'static str, &str)> {
        let f = &self.form;
        vec![
            ("income_donations", f.income_donations.as_str()),
            ("income_government", f.income_government.as_str()),
            ("income_services", f.income_services.as_str()),
            ("income_dues", f.income_dues.as_str()),
            ("income_other", f.income_other.as_str()),
            ("expenditure_programmes", f.expenditure_programmes.as_str()),
            ("expenditure_total", f.expenditure_total.as_str()),
            ("assets", f.assets.as_str()),
            ("liabilities", f.liabilities.as_str()),
        ]
    }

    fn count_fields(&self) -> Vec<(&'static str, &str)> {
        let f = &self.form;
        vec![
            ("staff", f.staff.as_str()),
            ("members", f.members.as_str()),
            ("volunteers", f.volunteers.as_str()),
            ("party_members", f.party_members.as_str()),
        ]
    }

    fn text_fields(&self) -> Vec<(&'static str, &str)> {
        let f = &self.form;
        vec![
            ("activities", f.activities.as_str()),
            ("officers", f.officers.as_str()),
            ("changes", f.changes.as_str()),
            ("donations_and_grants", f.donations_and_grants.as_str()),
            ("awards", f.awards.as_str()),
            ("party_building", f.party_building.as_str()),
            ("rectification", f.rectification.as_str()),
        ]
    }
}

/// Whether `org` owes a rectification report with its `year` report.
async fn rectification_due(
    c: &mut crate::db::Conn<'_>,
    org: OrgId,
    year: i64,
    rules: &Rules,
    today: NaiveDate,
) -> Result<bool> {
    let last = year - 1;
    let lines = store::calendar(
        c,
        &Scope::orgs(vec![org]),
        last,
        None,
        Some(org.0),
        rules,
        today,
    )
    .await?;
    // A missed year counts only when the registry kept reports for it (see `credit::sweep`).
    let due = lines.first().is_some_and(|l| l.filing != Filing::NotDue)
        && store::tracked_year(c, last).await?;
    let last_report = store::find(c, org.0, last).await?;
    Ok(needs_rectification(
        due,
        last_report.map(|r| (r.state(), r.result())),
    ))
}

/// The year must be a closed one the organization had to report for.
async fn check_year(
    c: &mut crate::db::Conn<'_>,
    org: OrgId,
    year: i64,
    rules: &Rules,
    today: NaiveDate,
) -> Result<()> {
    let lines = store::calendar(
        c,
        &Scope::orgs(vec![org]),
        year,
        None,
        Some(org.0),
        rules,
        today,
    )
    .await?;
    if lines.first().is_some_and(|l| l.filing != Filing::NotDue) {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

async fn form_page(
    app: &AppState,
    ctx: &PageCtx,
    org: OrgId,
    year: i64,
    form: Option<ReportForm>,
    errors: &FieldErrors,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let rules = Rules::load(&mut c).await?;
    check_year(&mut c, org, year, &rules, today).await?;
    let row = store::find(&mut c, org.0, year).await?;
    let view = FormPage {
        layout: ctx.layout_titled(
            ctx.lang
                .tf("inspection.form.title", &[("year", &year.to_string())]),
        ),
        year,
        form: form.unwrap_or_else(|| row.as_ref().map(ReportForm::of).unwrap_or_default()),
        version: row.as_ref().map_or(0, |r| r.version),
        editable: row.as_ref().is_none_or(ReportRow::editable),
        rectification_required: rectification_due(&mut c, org, year, &rules, today).await?,
        state: row
            .as_ref()
            .map(|r| r.state().label(ctx.lang).to_owned())
            .unwrap_or_default(),
        reasons: row
            .as_ref()
            .and_then(|r| r.reasons.clone())
            .unwrap_or_default(),
        errors: errors.render(ctx.lang),
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn report_form(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(year): Path<i64>,
) -> Result<Response> {
    let org = own_org(&app, &user).await?;
    form_page(&app, &ctx, org, year, None, &FieldErrors::new()).await
}

#[derive(Deserialize)]
struct SaveForm {
    #[serde(default)]
    version: i64,
    #[serde(flatten)]
    report: ReportForm,
}

async fn save_report(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(year): Path<i64>,
    Form(form): Form<SaveForm>,
) -> Result<Response> {
    let org = own_org(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let today = crate::clock::today(&mut c).await?;
    let rules = Rules::load(&mut c).await?;
    check_year(&mut c, org, year, &rules, today).await?;
    // A draft may be saved before the rectification report is written; submit insists on it.
    let report = match form.report.parse(false) {
        Ok(r) => r,
        Err(errors) => {
            drop(tx);
            return form_page(&app, &ctx, org, year, Some(form.report), &errors).await;
        }
    };
    let version = (form.version > 0).then_some(form.version);
    let at = crate::clock::now(&mut c).await?;
    store::save(&mut c, &user.actor(), at, org.0, year, &report, version).await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/reports/{year}"),
        "flash.report_saved",
    ))
}

async fn submit_report(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(year): Path<i64>,
) -> Result<Response> {
    let org = own_org(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let today = crate::clock::today(&mut c).await?;
    let rules = Rules::load(&mut c).await?;
    check_year(&mut c, org, year, &rules, today).await?;
    let row = store::find(&mut c, org.0, year)
        .await?
        .ok_or(Error::NotFound)?;
    let required = rectification_due(&mut c, org, year, &rules, today).await?;
    let at = crate::clock::now(&mut c).await?;
    match store::submit(&mut c, &user.actor(), at, &row, required).await {
        Ok(()) => {}
        Err(Error::Invalid(errors)) => {
            drop(tx);
            return form_page(&app, &ctx, org, year, None, &errors).await;
        }
        Err(e) => return Err(e),
    }
    tx.commit().await?;
    Ok(redirect_with_flash("/reports", "flash.report_submitted"))
}

#[derive(Deserialize)]
struct ObjectionForm {
    #[serde(default)]
    grounds: String,
}

async fn file_objection(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ObjectionForm>,
) -> Result<Response> {
    let org = own_org(&app, &user).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let listing = credit::get(&mut c, &Scope::orgs(vec![org]), id).await?;
    let at = crate::clock::now(&mut c).await?;
    credit::object(&mut c, &user.actor(), at, &listing, &form.grounds).await?;
    tx.commit().await?;
    Ok(redirect_with_flash("/reports", "flash.objection_filed"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CalendarQuery {
    year: String,
    area: String,
    filing: String,
}

#[derive(Template)]
#[template(path = "inspection/calendar.html")]
struct CalendarPage {
    layout: Layout,
    year: i64,
    years: Vec<i64>,
    area: String,
    filing: String,
    filings: Vec<(&'static str, String)>,
    lines: Vec<YearLine>,
    figures: Figures,
    inspection_rate: String,
    pass_rate: String,
    /// Organizations on each list now (in force today, whatever the year shown).
    abnormal: i64,
    serious: i64,
    today: String,
    /// Whether the user may import reports (批量导入).
    can_import: bool,
}

/// The area a query names, if it is a known code.
async fn area_of(c: &mut crate::db::Conn<'_>, code: &str) -> Result<Option<AreaId>> {
    if code.trim().is_empty() {
        return Ok(None);
    }
    crate::areas::store::find_by_code(c, code.trim())
        .await?
        .map(|a| Some(a.area_id()))
        .ok_or_else(|| Error::field("area", Msg::new("error.field.choice")))
}

async fn staff_calendar(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<CalendarQuery>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ViewRegistry).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let rules = Rules::load(&mut c).await?;
    let year = i64::from(crate::clock::report_year(&q.year, today)?);
    let area = area_of(&mut c, &q.area).await?;
    let lines = store::calendar(&mut c, &scope, year, area, None, &rules, today).await?;
    let figures = Figures::of(&lines);
    let abnormal = credit::count_in_force(&mut c, &scope, CreditList::Abnormal, area).await?;
    let serious = credit::count_in_force(&mut c, &scope, CreditList::Serious, area).await?;
    let y = i32::try_from(year).unwrap_or_default();
    let view = CalendarPage {
        can_import: user.can(Permission::ReviewAnnualReports),
        layout: ctx.layout("inspection.calendar.title"),
        year,
        years: (i64::from(today.year()) - 4..i64::from(today.year()))
            .rev()
            .collect(),
        area: q.area.clone(),
        filing: q.filing.clone(),
        filings: Filing::KEYS
            .iter()
            .map(|k| (*k, ctx.lang.t(&format!("filing.kind.{k}")).to_owned()))
            .collect(),
        lines: lines
            .iter()
            .filter(|l| l.filing != Filing::NotDue)
            .filter(|l| q.filing.is_empty() || l.filing.key() == q.filing)
            .map(|l| YearLine::of(l, y, ctx.lang))
            .collect(),
        inspection_rate: percent(figures.inspection_rate_permille),
        pass_rate: percent(figures.pass_rate_permille),
        figures,
        abnormal,
        serious,
        today: today.to_string(),
    };
    page(&view, &view.layout)
}

#[derive(Template)]
#[template(path = "inspection/show.html")]
struct ShowPage {
    layout: Layout,
    report: ReportRow,
    facts: Vec<(&'static str, String)>,
    texts: Vec<(&'static str, String)>,
    state: String,
    result: String,
    can_review: bool,
    results: Vec<(&'static str, &'static str)>,
    errors: Vec<(String, String)>,
}

async fn show_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: i64,
    errors: &FieldErrors,
) -> Result<Response> {
    let scope = require(app, user, Permission::ViewRegistry).await?;
    let mut conn = app.db.acquire().await?;
    let report = store::get(&mut conn.conn(), &scope, id).await?;
    let lang = ctx.lang;
    let m = |fen: i64| money(fen, lang);
    let facts = vec![
        (
            lang.t("inspection.field.income_donations"),
            m(report.income_donations_fen),
        ),
        (
            lang.t("inspection.field.income_government"),
            m(report.income_government_fen),
        ),
        (
            lang.t("inspection.field.income_services"),
            m(report.income_services_fen),
        ),
        (
            lang.t("inspection.field.income_dues"),
            m(report.income_dues_fen),
        ),
        (
            lang.t("inspection.field.income_other"),
            m(report.income_other_fen),
        ),
        (
            lang.t("inspection.field.income_total"),
            m(report.income_total_fen),
        ),
        (
            lang.t("inspection.field.expenditure_programmes"),
            m(report.expenditure_programmes_fen),
        ),
        (
            lang.t("inspection.field.expenditure_total"),
            m(report.expenditure_total_fen),
        ),
        (lang.t("inspection.field.assets"), m(report.assets_fen)),
        (
            lang.t("inspection.field.liabilities"),
            m(report.liabilities_fen),
        ),
        (
            lang.t("inspection.field.net_assets"),
            m(report.net_assets_fen),
        ),
        (lang.t("inspection.field.staff"), report.staff.to_string()),
        (
            lang.t("inspection.field.members"),
            report.members.to_string(),
        ),
        (
            lang.t("inspection.field.volunteers"),
            report.volunteers.to_string(),
        ),
        (
            lang.t("inspection.field.party_members"),
            report.party_members.to_string(),
        ),
        (
            lang.t("inspection.submitted_at"),
            report
                .submitted_at
                .map(crate::web::china_time)
                .unwrap_or_default(),
        ),
    ];
    let texts = vec![
        (
            lang.t("inspection.field.activities"),
            report.activities.clone(),
        ),
        (lang.t("inspection.field.officers"), report.officers.clone()),
        (lang.t("inspection.field.changes"), report.changes.clone()),
        (
            lang.t("inspection.field.donations_and_grants"),
            report.donations_and_grants.clone(),
        ),
        (lang.t("inspection.field.awards"), report.awards.clone()),
        (
            lang.t("inspection.field.party_building"),
            report.party_building.clone(),
        ),
        (
            lang.t("inspection.field.rectification"),
            report.rectification.clone(),
        ),
    ];
    let can_review = report.state() == ReportState::Submitted
        && user.can(Permission::ReviewAnnualReports)
        // Asked without `require`, so viewers who may not review leave no refusal in the audit log.
        && store::get(&mut conn.conn(), &user.scope(Permission::ReviewAnnualReports), id)
            .await
            .is_ok();
    let view = ShowPage {
        layout: ctx.layout_titled(format!(
            "{} · {}",
            report.org_name,
            lang.tf(
                "inspection.form.title",
                &[("year", &report.year.to_string())]
            )
        )),
        state: report.state().label(lang).to_owned(),
        result: report
            .result()
            .map(|r| r.label(lang).to_owned())
            .unwrap_or_default(),
        facts,
        texts,
        can_review,
        results: ReportResult::ALL
            .iter()
            .map(|r| (r.as_str(), r.label(lang)))
            .collect(),
        errors: errors.render(lang),
        report,
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn show_report(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    show_page(&app, &ctx, &user, id, &FieldErrors::new()).await
}

#[derive(Deserialize)]
struct ReviewForm {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reasons: String,
    #[serde(default)]
    supervisor_opinion: String,
}

async fn review_report(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ReviewForm>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ReviewAnnualReports).await?;
    let decision = match form.decision.as_str() {
        "return" => Decision::Return,
        other => match ReportResult::parse(other) {
            Some(r) => Decision::Result(r),
            None => {
                let mut e = FieldErrors::new();
                e.add("decision", Msg::new("error.field.choice"));
                return show_page(&app, &ctx, &user, id, &e).await;
            }
        },
    };
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let report = store::get(&mut c, &scope, id).await?;
    let at = crate::clock::now(&mut c).await?;
    match store::review(
        &mut c,
        &user.actor(),
        at,
        &report,
        form.version,
        store::Review {
            decision,
            reasons: &form.reasons,
            supervisor_opinion: &form.supervisor_opinion,
        },
    )
    .await
    {
        Ok(()) => {}
        Err(Error::Invalid(errors)) => {
            drop(tx);
            return show_page(&app, &ctx, &user, id, &errors).await;
        }
        Err(e) => return Err(e),
    }
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/reports/{id}"),
        "flash.report_reviewed",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeskQuery {
    list: String,
    all: String,
}

#[derive(Template)]
#[template(path = "inspection/credit.html")]
struct DeskPage {
    layout: Layout,
    list: String,
    all: bool,
    lines: Vec<ListingLine>,
    can_manage: bool,
    lists: Vec<(&'static str, &'static str)>,
    reasons: Vec<(&'static str, &'static str)>,
    today: String,
    form: ListingForm,
    errors: Vec<(String, String)>,
}

impl DeskPage {
    fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ListingForm {
    org: String,
    reason: String,
    detail: String,
    evidence: String,
    listed_on: String,
}

async fn desk_page(
    app: &AppState,
    ctx: &PageCtx,
    user: &CurrentUser,
    q: &DeskQuery,
    form: ListingForm,
    errors: &FieldErrors,
) -> Result<Response> {
    let scope = require(app, user, Permission::ViewRegistry).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let list = CreditList::parse(&q.list);
    let rows = credit::search(&mut c, &scope, list, q.all.is_empty(), 500).await?;
    let view = DeskPage {
        layout: ctx.layout("credit.desk.title"),
        list: q.list.clone(),
        all: !q.all.is_empty(),
        lines: rows.iter().map(|l| ListingLine::of(l, ctx.lang)).collect(),
        can_manage: user.can(Permission::ManageCreditLists),
        lists: CreditList::ALL
            .iter()
            .map(|l| (l.as_str(), l.label(ctx.lang)))
            .collect(),
        reasons: ListingReason::ALL
            .iter()
            .filter(|r| {
                !matches!(
                    r,
                    ListingReason::AnnualReportMissing | ListingReason::AbnormalTwoYears
                )
            })
            .map(|r| (r.as_str(), r.label(ctx.lang)))
            .collect(),
        today: today.to_string(),
        form,
        errors: errors.render(ctx.lang),
    };
    page_with_errors(&view, &view.layout, errors)
}

async fn credit_desk(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(q): Query<DeskQuery>,
) -> Result<Response> {
    desk_page(
        &app,
        &ctx,
        &user,
        &q,
        ListingForm::default(),
        &FieldErrors::new(),
    )
    .await
}

async fn add_listing(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<ListingForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageCreditLists).await?;
    let mut errors = FieldErrors::new();
    let reason = ListingReason::parse(&form.reason).filter(|r| {
        !matches!(
            r,
            ListingReason::AnnualReportMissing | ListingReason::AbnormalTwoYears
        )
    });
    if reason.is_none() {
        errors.add("reason", Msg::new("error.field.choice"));
    }
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let today = crate::clock::today(&mut c).await?;
    let listed_on = match form.listed_on.trim() {
        "" => Some(today),
        s => match s.parse::<NaiveDate>() {
            Ok(d) if d <= today => Some(d),
            _ => {
                errors.add("listed_on", Msg::new("credit.error.listed_on"));
                None
            }
        },
    };
    let key = form.org.trim();
    let org = match crate::registry::api::find_by_key(&mut c, &Scope::All, key).await? {
        Some(org) => Some(org),
        None if !key.is_empty() => {
            crate::registry::store::find_by_name(&mut c, &Scope::All, key).await?
        }
        None => None,
    };
    if org.is_none() {
        errors.add("org", Msg::new("credit.error.org"));
    }
    if let (Some(reason), Some(listed_on), Some(org), true) =
        (reason, listed_on, org, errors.is_empty())
    {
        let new = NewListing {
            org_id: org.id,
            reason,
            subject_year: None,
            detail: form.detail.clone(),
            evidence: form.evidence.clone(),
            listed_on,
            escalated_from: None,
        };
        let at = crate::clock::now(&mut c).await?;
        match credit::add(&mut c, &user.actor(), at, &new, false).await {
            Ok(id) => {
                tx.commit().await?;
                return Ok(redirect_with_flash(
                    &format!("/admin/credit/{id}"),
                    "flash.listing_added",
                ));
            }
            Err(Error::Invalid(e)) => errors = e,
            Err(e) => return Err(e),
        }
    }
    drop(tx);
    desk_page(&app, &ctx, &user, &DeskQuery::default(), form, &errors).await
}

async fn run_sweep(State(app): State<AppState>, user: CurrentUser) -> Result<Response> {
    require(&app, &user, Permission::ManageCreditLists).await?;
    credit::sweep_in_batches(&app.db, &user.actor(), credit::SWEEP_PAGE).await?;
    Ok(redirect_with_flash("/admin/credit", "flash.sweep_done"))
}

#[derive(Template)]
#[template(path = "inspection/listing.html")]
struct ListingPage {
    layout: Layout,
    line: ListingLine,
    objections: Vec<(i64, String, String, String, String)>,
    can_manage: bool,
    removals: Vec<(&'static str, &'static str)>,
}

async fn show_listing(
    State(app): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response> {
    let scope = require(&app, &user, Permission::ViewRegistry).await?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let listing = credit::get(&mut c, &scope, id).await?;
    let objections = credit::objections(&mut c, id)
        .await?
        .into_iter()
        .map(|o| {
            let state = ctx
                .lang
                .t(&format!("credit.objection.{}", o.state))
                .to_owned();
            (
                o.id,
                crate::web::china_time(o.filed_at),
                o.grounds,
                state,
                o.decision.unwrap_or_default(),
            )
        })
        .collect();
    let view = ListingPage {
        layout: ctx.layout_titled(format!(
            "{} · {}",
            listing.org_name,
            listing.list().label(ctx.lang)
        )),
        line: ListingLine::of(&listing, ctx.lang),
        objections,
        can_manage: user.can(Permission::ManageCreditLists),
        removals: [
            RemovalReason::Rectified,
            RemovalReason::Served,
            RemovalReason::Deregistered,
        ]
        .iter()
        .map(|r| (r.as_str(), r.label(ctx.lang)))
        .collect(),
    };
    page(&view, &view.layout)
}

#[derive(Deserialize)]
struct RemoveForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    removal_detail: String,
}

async fn remove_listing(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<RemoveForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageCreditLists).await?;
    let reason = RemovalReason::parse(&form.reason)
        .ok_or_else(|| Error::field("reason", Msg::new("error.field.choice")))?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let today = crate::clock::today(&mut c).await?;
    let rules = Rules::load(&mut c).await?;
    let listing = credit::get(&mut c, &Scope::All, id).await?;
    let at = crate::clock::now(&mut c).await?;
    credit::remove(
        &mut c,
        &user.actor(),
        at,
        &listing,
        credit::Removal {
            reason,
            detail: &form.removal_detail,
        },
        today,
        &rules,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/credit/{id}"),
        "flash.listing_removed",
    ))
}

#[derive(Deserialize)]
struct DecideForm {
    #[serde(default)]
    upheld: String,
    #[serde(default)]
    decision: String,
}

async fn decide_objection(
    State(app): State<AppState>,
    user: CurrentUser,
    Path((id, objection)): Path<(i64, i64)>,
    Form(form): Form<DecideForm>,
) -> Result<Response> {
    require(&app, &user, Permission::ManageCreditLists).await?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let today = crate::clock::today(&mut c).await?;
    let listing = credit::get(&mut c, &Scope::All, id).await?;
    let at = crate::clock::now(&mut c).await?;
    credit::decide(
        &mut c,
        &user.actor(),
        at,
        &listing,
        credit::Verdict {
            objection_id: objection,
            upheld: form.upheld == "yes",
            reasons: &form.decision,
        },
        today,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_flash(
        &format!("/admin/credit/{id}"),
        "flash.objection_decided",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApiListQuery {
    list: String,
    /// `true` for ended listings too; blank or `false` for those in force.
    all: String,
}

/// `GET /api/v1/credit-lists?list=abnormal|serious&all=true`: listings in force (or all),
/// public facts only.
async fn api_credit_lists(
    State(app): State<AppState>,
    Query(q): Query<ApiListQuery>,
) -> Result<Response> {
    let list = match q.list.as_str() {
        "" => None,
        s => Some(
            CreditList::parse(s)
                .ok_or_else(|| Error::field("list", Msg::new("error.field.choice")))?,
        ),
    };
    let all = match q.all.trim() {
        "" | "false" => false,
        "true" => true,
        _ => return Err(Error::field("all", Msg::new("error.field.choice"))),
    };
    let mut conn = app.db.acquire().await?;
    let rows = credit::search(&mut conn.conn(), &Scope::Public, list, !all, 10_000).await?;
    let items: Vec<serde_json::Value> = rows.iter().map(listing_json).collect();
    Ok(Json(serde_json::json!({ "total": items.len(), "items": items })).into_response())
}

/// A listing as the public API shows it.
pub fn listing_json(l: &ListingRow) -> serde_json::Value {
    serde_json::json!({
        "id": l.id,
        "organization": l.org_name,
        "uscc": l.org_uscc,
        "list": l.list,
        "reason": l.reason,
        "subject_year": l.subject_year,
        "detail": l.detail,
        "listed_on": l.listed_on,
        "removed_on": l.removed_on,
        "removal_reason": l.removal_reason,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FiguresQuery {
    year: String,
    area: String,
}

/// `GET /api/v1/inspection/figures?year=&area=`: the year's inspection figures for an area
/// subtree (published aggregates).
async fn api_figures(
    State(app): State<AppState>,
    Query(q): Query<FiguresQuery>,
) -> Result<Response> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let today = crate::clock::today(&mut c).await?;
    let rules = Rules::load(&mut c).await?;
    let year = i64::from(crate::clock::report_year(&q.year, today)?);
    let area = area_of(&mut c, &q.area).await?;
    let lines = store::calendar(&mut c, &Scope::All, year, area, None, &rules, today).await?;
    let figures = Figures::of(&lines);
    let abnormal = credit::count_in_force(&mut c, &Scope::All, CreditList::Abnormal, area).await?;
    let serious = credit::count_in_force(&mut c, &Scope::All, CreditList::Serious, area).await?;
    Ok(Json(serde_json::json!({
        "abnormal_listed": abnormal,
        "serious_listed": serious,
        "year": year,
        "area": q.area,
        "figures": figures,
        "inspection_rate": percent(figures.inspection_rate_permille),
        "pass_rate": percent(figures.pass_rate_permille),
    }))
    .into_response())
}

/// An organization's public compliance record (民政部令第60号: 年报信息, 行政检查信息 and the
/// lists are public): its filing status and result for the recent closed years, and every
/// listing, in force or ended.
pub struct PublicRecord {
    /// Recent years, newest first (years it did not have to report for are left out).
    pub years: Vec<YearLine>,
    /// Listings, newest first.
    pub listings: Vec<ListingLine>,
    /// The same listings as stored, for the API.
    pub listing_rows: Vec<ListingRow>,
}

impl PublicRecord {
    /// Loads the record of `org_id` as of the business date `today`.
    pub async fn load(
        c: &mut crate::db::Conn<'_>,
        org_id: i64,
        lang: Lang,
        today: NaiveDate,
    ) -> Result<PublicRecord> {
        let rules = Rules::load(c).await?;
        let years = store::org_calendar(c, org_id, &recent_years(today), &rules, today)
            .await?
            .into_iter()
            .filter(|(_, line)| line.filing != Filing::NotDue)
            .map(|(year, line)| YearLine::of(&line, year, lang))
            .collect();
        let listing_rows = credit::for_org(c, org_id).await?;
        Ok(PublicRecord {
            years,
            listings: listing_rows
                .iter()
                .map(|l| ListingLine::of(l, lang))
                .collect(),
            listing_rows,
        })
    }

    /// The record as the public API shows it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "annual_reports": self.years.iter().map(|y| serde_json::json!({
                "year": y.year,
                "deadline": y.deadline,
                "filing": y.filing_key,
                "result": y.result_key,
            })).collect::<Vec<_>>(),
            "credit_listings": self.listing_rows.iter().map(listing_json).collect::<Vec<_>>(),
        })
    }
}
