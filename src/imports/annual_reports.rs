//! 年度工作报告 import: reports a bureau already holds (on paper, or in the system it is
//! leaving), one row per organization and year. Each row is checked as the report form checks
//! it (`inspection::ReportForm`), then written through the inspection store as the
//! organization and the reviewer would have: saved, submitted (已报送) and, when the row gives
//! a result (年检结论), reviewed — every step audited under the importer's name. A row is
//! matched on organization and year. A report already submitted or reviewed is never
//! overwritten by a file: a row that agrees with it changes nothing, one that differs is
//! refused, and only a submitted report can still receive the file's result.

use super::{Cells, Column, ORG_COLUMN, OrgRef, RecordKind, Written};
use crate::audit::Actor;
use crate::db::{Conn, Timestamp};
use crate::error::{Error, FieldErrors};
use crate::i18n::Msg;
use crate::inspection::store::{self, Decision, Review};
use crate::inspection::{Report, ReportForm, ReportResult, ReportState};
use chrono::{Datelike, NaiveDate};

/// The columns of an annual-report file: the organization, the year, the form's fields in the
/// form's order, and the review.
pub const COLUMNS: &[Column] = &[
    ORG_COLUMN,
    Column::free("year", "inspection.year", true),
    Column::free(
        "income_donations",
        "inspection.field.income_donations",
        false,
    ),
    Column::free(
        "income_government",
        "inspection.field.income_government",
        false,
    ),
    Column::free("income_services", "inspection.field.income_services", false),
    Column::free("income_dues", "inspection.field.income_dues", false),
    Column::free("income_other", "inspection.field.income_other", false),
    Column::free(
        "expenditure_programmes",
        "inspection.field.expenditure_programmes",
        false,
    ),
    Column::free(
        "expenditure_total",
        "inspection.field.expenditure_total",
        false,
    ),
    Column::free("assets", "inspection.field.assets", false),
    Column::free("liabilities", "inspection.field.liabilities", false),
    Column::free("staff", "inspection.field.staff", false),
    Column::free("members", "inspection.field.members", false),
    Column::free("volunteers", "inspection.field.volunteers", false),
    Column::free("party_members", "inspection.field.party_members", false),
    Column::free("activities", "inspection.field.activities", true),
    Column::free("officers", "inspection.field.officers", false),
    Column::free("changes", "inspection.field.changes", false),
    Column::free(
        "donations_and_grants",
        "inspection.field.donations_and_grants",
        false,
    ),
    Column::free("awards", "inspection.field.awards", false),
    Column::free("party_building", "inspection.field.party_building", true),
    Column::free("rectification", "inspection.field.rectification", false),
    Column::choice(
        "result",
        "inspection.result",
        false,
        "inspection.result",
        &["pass", "basic_pass", "fail"],
    ),
    Column::free("reasons", "inspection.reasons", false),
    Column::free("supervisor_opinion", "inspection.supervisor_opinion", false),
];

/// First year a report can be imported for.
const FIRST_YEAR: i64 = 1990;

/// A checked row.
pub struct ReportImport {
    /// The year reported on.
    pub year: i64,
    /// The report.
    pub report: Report,
    /// The inspection result, when the file gives one.
    pub result: Option<ReportResult>,
    /// 意见及理由.
    pub reasons: String,
    /// 业务主管单位初审意见.
    pub supervisor_opinion: String,
}

/// Annual reports.
pub struct AnnualReports;

impl RecordKind for AnnualReports {
    type Row = ReportImport;

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn parse(
        &self,
        org: &OrgRef,
        cells: &Cells<'_>,
        today: NaiveDate,
        errors: &mut FieldErrors,
    ) -> Option<ReportImport> {
        if !org.kind().is_some_and(|k| k.is_registered()) {
            errors.add("org", Msg::new("imports.error.not_registered"));
        }
        let year = match cells.get("year").parse::<i64>() {
            Ok(y) if (FIRST_YEAR..=i64::from(today.year())).contains(&y) => y,
            _ => {
                errors.add(
                    "year",
                    Msg::new("imports.error.year")
                        .with("first", FIRST_YEAR)
                        .with("last", today.year()),
                );
                0
            }
        };
        let result = match cells.choice("result", errors).as_str() {
            "" => None,
            r => ReportResult::parse(r),
        };
        let reasons = cells.get("reasons");
        if result.is_some_and(|r| r != ReportResult::Pass) && reasons.is_empty() {
            errors.add("reasons", Msg::new("inspection.error.reasons"));
        }
        let form = ReportForm {
            income_donations: cells.get("income_donations"),
            income_government: cells.get("income_government"),
            income_services: cells.get("income_services"),
            income_dues: cells.get("income_dues"),
            income_other: cells.get("income_other"),
            expenditure_programmes: cells.get("expenditure_programmes"),
            expenditure_total: cells.get("expenditure_total"),
            assets: cells.get("assets"),
            liabilities: cells.get("liabilities"),
            staff: cells.get("staff"),
            members: cells.get("members"),
            volunteers: cells.get("volunteers"),
            party_members: cells.get("party_members"),
            activities: cells.get("activities"),
            officers: cells.get("officers"),
            changes: cells.get("changes"),
            donations_and_grants: cells.get("donations_and_grants"),
            awards: cells.get("awards"),
            party_building: cells.get("party_building"),
            rectification: cells.get("rectification"),
        };
        // A report carried over is taken as it was filed: the follow-up rule (a rectification
        // report after a basic pass or a fail) applies to reports written here.
        match form.parse(false) {
            Ok(report) if errors.is_empty() => Some(ReportImport {
                year,
                report,
                result,
                reasons,
                supervisor_opinion: cells.get("supervisor_opinion"),
            }),
            Ok(_) => None,
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        }
    }

    fn key(&self, org: &OrgRef, row: &ReportImport) -> String {
        format!("{}\u{1f}{}", org.id, row.year)
    }

    async fn write(
        &self,
        conn: &mut Conn<'_>,
        actor: &Actor,
        at: Timestamp,
        org: &OrgRef,
        row: &ReportImport,
    ) -> Result<Written, Error> {
        let existing = store::find(conn, org.id, row.year).await?;
        let written = match &existing {
            None => Written::Created,
            Some(stored) => {
                let same = ReportForm::of(stored).parse(false).ok().as_ref() == Some(&row.report);
                match stored.state() {
                    ReportState::Draft | ReportState::Returned => Written::Updated,
                    ReportState::Submitted if same && row.result.is_none() => {
                        return Ok(Written::Unchanged);
                    }
                    ReportState::Submitted if same => {
                        review(conn, actor, at, stored, row).await?;
                        return Ok(Written::Updated);
                    }
                    ReportState::Reviewed
                        if same && row.result.is_none_or(|r| Some(r) == stored.result()) =>
                    {
                        return Ok(Written::Unchanged);
                    }
                    _ => {
                        return Err(Error::Conflict(
                            Msg::new("imports.error.report_locked")
                                .with_key("state", format!("inspection.state.{}", stored.state)),
                        ));
                    }
                }
            }
        };
        let version = existing.map(|r| r.version);
        let id = store::save(conn, actor, at, org.id, row.year, &row.report, version).await?;
        let saved = store::get(conn, &crate::auth::Scope::All, id).await?;
        store::submit(conn, actor, at, &saved, false).await?;
        if row.result.is_some() {
            let submitted = store::get(conn, &crate::auth::Scope::All, id).await?;
            review(conn, actor, at, &submitted, row).await?;
        }
        Ok(written)
    }
}

/// Records the file's result on a submitted report.
async fn review(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    stored: &store::ReportRow,
    row: &ReportImport,
) -> Result<(), Error> {
    let Some(result) = row.result else {
        return Ok(());
    };
    store::review(
        conn,
        actor,
        at,
        stored,
        stored.version,
        Review {
            decision: Decision::Result(result),
            reasons: &row.reasons,
            supervisor_opinion: &row.supervisor_opinion,
        },
    )
    .await
}
