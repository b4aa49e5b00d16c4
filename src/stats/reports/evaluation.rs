//! 评估结果: the final grades given in the evaluation rounds up to the year to organizations of
//! the area subtree, by kind and grade and by round (with how many organizations were eligible
//! when the round's year began), and the grades in force on the year's last day by child area —
//! counted from the evaluation applications, the records the summary's "organizations
//! evaluated" counts.

use super::{ChildOf, Report, area_cell, area_itself, as_of_note};
use crate::areas::store::{AreaRow, subtree_predicate};
use crate::auth::Scope;
use crate::db::{Conn, Sql};
use crate::error::Result;
use crate::evaluation::store::{RoundRow, list_rounds};
use crate::evaluation::{EVALUATED_KINDS, EligibilityFacts, ReportFact, check_eligibility};
use crate::export::{Cell, Column, ColumnKind, Table};
use crate::i18n::Lang;
use crate::registry::{Grade, OrgKind, OrgStatus};
use crate::stats::snapshot;
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

/// An application of a round up to the year, of an organization in the subtree and scope.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Application {
    round_id: i64,
    org_id: i64,
    kind: String,
    state: String,
    final_grade: Option<String>,
    decided_on: Option<NaiveDate>,
    grade_expires_on: Option<NaiveDate>,
}

impl Application {
    /// The final grade, if the application is final and earned one.
    fn grade(&self) -> Option<Grade> {
        if self.state == "final" {
            self.final_grade.as_deref().and_then(Grade::parse)
        } else {
            None
        }
    }
}

/// `and` the organization aliased `o` lies in `area`'s subtree and in `scope`.
fn in_subtree(sql: &mut Sql, scope: &Scope, area: &AreaRow) {
    sql.push(" and ");
    subtree_predicate(sql, "o.area_id", &[area.area_id()]);
    scope.restrict_orgs(sql, "o");
}

/// One count column per grade (1A…5A), in `Grade::ALL` order.
fn grade_columns(lang: Lang) -> Vec<Column> {
    let unit = lang.t("stats.unit.org");
    Grade::ALL
        .iter()
        .map(|g| Column::new(g.label(lang), unit, ColumnKind::Count))
        .collect()
}

/// How many of `grades` are each grade, in `Grade::ALL` order.
fn grade_counts(grades: &[Grade]) -> Vec<Cell> {
    Grade::ALL
        .iter()
        .map(|g| Cell::Int(grades.iter().filter(|x| *x == g).count() as i64))
        .collect()
}

/// The report's tables.
pub async fn tables(
    conn: &mut Conn<'_>,
    lang: Lang,
    scope: &Scope,
    area: &AreaRow,
    year: i32,
) -> Result<Vec<Table>> {
    let mut sql = Sql::new(
        "select a.round_id, a.org_id, o.kind, a.state, a.final_grade, a.decided_on, a.grade_expires_on from evaluation_applications a join evaluation_rounds r on r.id = a.round_id join organizations o on o.id = a.org_id where r.year <= ",
    );
    sql.push_arg(i64::from(year));
    in_subtree(&mut sql, scope, area);
    sql.push(" order by a.decided_on, a.id");
    let applications: Vec<Application> = sql.fetch_all(conn).await?;
    let rounds_note = lang.tf(
        "stats.rep.note.eval_rounds",
        &[("area", &area.name), ("year", &year.to_string())],
    );
    let total = lang.t("stats.sum");
    let unit = lang.t("stats.unit.org");

    // Kind by grade: every final decision of the rounds up to the year.
    let mut columns = vec![Column::new(lang.t("stats.col.kind"), "", ColumnKind::Text)];
    columns.extend(grade_columns(lang));
    for key in [
        "stats.rep.eval.ungraded",
        "stats.rep.eval.final",
        "stats.rep.eval.orgs_graded",
    ] {
        columns.push(Column::new(lang.t(key), unit, ColumnKind::Count));
    }
    let mut by_kind = Table::new(
        lang.t("stats.rep.eval.by_kind"),
        rounds_note.clone(),
        columns,
    );
    for kind in EVALUATED_KINDS {
        let finals: Vec<&Application> = applications
            .iter()
            .filter(|a| a.state == "final" && a.kind == kind.as_str())
            .collect();
        let grades: Vec<Grade> = finals.iter().filter_map(|a| a.grade()).collect();
        let graded_orgs: HashSet<i64> = finals
            .iter()
            .filter(|a| a.grade().is_some())
            .map(|a| a.org_id)
            .collect();
        let mut row = vec![Cell::Text(kind.label(lang).to_owned())];
        row.extend(grade_counts(&grades));
        row.push(Cell::Int((finals.len() - grades.len()) as i64));
        row.push(Cell::Int(finals.len() as i64));
        row.push(Cell::Int(graded_orgs.len() as i64));
        by_kind.rows.push(row);
    }

    // Round by round: applications from the subtree, how many could have applied, the grades.
    let mut columns = vec![
        Column::new(lang.t("stats.rep.eval.round"), "", ColumnKind::Text),
        Column::new(lang.t("stats.col.year"), "", ColumnKind::Text),
    ];
    for key in [
        "stats.rep.eval.applications",
        "stats.rep.eval.eligible",
        "stats.rep.eval.graded",
    ] {
        columns.push(Column::new(lang.t(key), unit, ColumnKind::Count));
    }
    columns.extend(grade_columns(lang));
    let mut by_round = Table::new(lang.t("stats.rep.eval.by_round"), rounds_note, columns);
    let mut rounds: Vec<RoundRow> = list_rounds(conn)
        .await?
        .into_iter()
        .filter(|r| r.year <= i64::from(year))
        .collect();
    rounds.sort_by_key(|r| (r.year, r.id));
    for round in &rounds {
        let of_round: Vec<&Application> = applications
            .iter()
            .filter(|a| a.round_id == round.id)
            .collect();
        let grades: Vec<Grade> = of_round.iter().filter_map(|a| a.grade()).collect();
        let mut row = vec![
            Cell::Link(
                round.title.clone(),
                format!("/admin/evaluations/{}", round.id),
            ),
            Cell::Text(round.year.to_string()),
            Cell::Int(of_round.len() as i64),
            Cell::Int(eligible(conn, scope, area, round).await?),
            Cell::Int(grades.len() as i64),
        ];
        row.extend(grade_counts(&grades));
        by_round.rows.push(row);
    }
    let mut by_round = by_round.with_totals(total, &[]);
    if let Some(totals) = by_round.totals.as_mut() {
        // An organization eligible in two rounds is one organization: that column does not add up.
        totals[3] = Cell::Empty;
    }

    Ok(vec![
        by_kind.with_totals(total, &[]),
        by_round,
        in_force(conn, lang, scope, area, year, &applications).await?,
    ])
}

/// Grades in force on the year's last day by child area: each live organization's latest
/// grade decided by then and not yet expired.
async fn in_force(
    conn: &mut Conn<'_>,
    lang: Lang,
    scope: &Scope,
    area: &AreaRow,
    year: i32,
    applications: &[Application],
) -> Result<Table> {
    let year_end = crate::stats::year_end_day(year);
    let live: HashMap<i64, i64> = snapshot::snapshot(conn, scope, area.area_id(), year)
        .await?
        .into_iter()
        .filter(snapshot::OrgThen::live)
        .map(|o| (o.id, o.area_id))
        .collect();
    // Applications come in decision order, so the last grade seen per organization is its latest.
    let mut latest: HashMap<i64, (Grade, Option<NaiveDate>)> = HashMap::new();
    for a in applications {
        if let (Some(grade), Some(decided)) = (a.grade(), a.decided_on)
            && decided <= year_end
        {
            latest.insert(a.org_id, (grade, a.grade_expires_on));
        }
    }
    let children = ChildOf::of(conn, area).await?;
    let mut itself: Vec<Grade> = Vec::new();
    let mut per_child: HashMap<i64, Vec<Grade>> = HashMap::new();
    for (org, (grade, expires)) in &latest {
        let Some(org_area) = live.get(org) else {
            continue;
        };
        if expires.is_some_and(|last| last < year_end) {
            continue;
        }
        match children.child(*org_area) {
            Some(child) => per_child.entry(child).or_default().push(*grade),
            None => itself.push(*grade),
        }
    }
    let unit = lang.t("stats.unit.org");
    let mut columns = vec![Column::new(lang.t("stats.col.area"), "", ColumnKind::Text)];
    columns.extend(grade_columns(lang));
    columns.push(Column::new(lang.t("stats.sum"), unit, ColumnKind::Count));
    let mut table = Table::new(
        lang.t("stats.rep.eval.in_force"),
        as_of_note(lang, area, year),
        columns,
    );
    let row = |label: Cell, grades: &[Grade]| {
        let mut row = vec![label];
        row.extend(grade_counts(grades));
        row.push(Cell::Int(grades.len() as i64));
        row
    };
    if !itself.is_empty() {
        table
            .rows
            .push(row(Cell::Text(area_itself(lang, area)), &itself));
    }
    for child in crate::areas::store::children(conn, area.area_id()).await? {
        let grades = per_child.get(&child.id).map_or(&[][..], Vec::as_slice);
        table
            .rows
            .push(row(area_cell(Report::Evaluation, &child, year), grades));
    }
    Ok(table.with_totals(lang.t("stats.sum"), &[]))
}

/// How many organizations of the subtree (in scope) met the eligibility rules of `round` as the
/// round's year began: kind and status from the registry as it stood at the end of the year
/// before, the grade last given before applications opened, the two annual reports the rules
/// read, and the credit listings open on the opening day.
async fn eligible(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: &AreaRow,
    round: &RoundRow,
) -> Result<i64> {
    let year = round.year as i32;
    let opens = round.apply_from;
    let orgs = snapshot::snapshot(conn, scope, area.area_id(), year - 1).await?;

    let mut sql = Sql::new("select o.id, o.registered_on from organizations o where 1 = 1");
    in_subtree(&mut sql, scope, area);
    let registered: HashMap<i64, Option<NaiveDate>> = sql
        .fetch_all::<(i64, Option<NaiveDate>)>(conn)
        .await?
        .into_iter()
        .collect();

    let mut sql = Sql::new(
        "select a.org_id, a.final_grade, a.grade_expires_on from evaluation_applications a join organizations o on o.id = a.org_id where a.state = 'final' and a.final_grade is not null and a.decided_on < ",
    );
    sql.push_arg(opens);
    in_subtree(&mut sql, scope, area);
    sql.push(" order by a.decided_on, a.id");
    let grades: HashMap<i64, (String, Option<NaiveDate>)> = sql
        .fetch_all::<(i64, String, Option<NaiveDate>)>(conn)
        .await?
        .into_iter()
        .map(|(org, grade, until)| (org, (grade, until)))
        .collect();

    let mut sql = Sql::new(
        "select r.org_id, r.year, r.state, r.result from annual_reports r join organizations o on o.id = r.org_id where r.state in ('submitted', 'reviewed') and r.year in (",
    );
    sql.push_arg(i64::from(year - 1))
        .push(", ")
        .push_arg(i64::from(year - 2))
        .push(")");
    in_subtree(&mut sql, scope, area);
    let reports: HashMap<(i64, i64), (String, Option<String>)> = sql
        .fetch_all::<(i64, i64, String, Option<String>)>(conn)
        .await?
        .into_iter()
        .map(|(org, y, state, result)| ((org, y), (state, result)))
        .collect();
    let fact = |org: i64, y: i32| {
        ReportFact::of(
            reports
                .get(&(org, i64::from(y)))
                .map(|(s, r)| (s.as_str(), r.as_deref())),
        )
    };

    let mut sql = Sql::new(
        "select distinct l.org_id from credit_listings l join organizations o on o.id = l.org_id where l.listed_on <= ",
    );
    sql.push_arg(opens)
        .push(" and (l.removed_on is null or l.removed_on > ")
        .push_arg(opens)
        .push(")");
    in_subtree(&mut sql, scope, area);
    let listed: HashSet<i64> = sql
        .fetch_all::<(i64,)>(conn)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect();

    let kinds = round.kinds();
    let mut count = 0;
    for org in &orgs {
        let (Some(kind), Some(status)) = (OrgKind::parse(&org.kind), OrgStatus::parse(&org.status))
        else {
            continue;
        };
        let facts = EligibilityFacts {
            kind,
            status,
            registered_on: registered.get(&org.id).copied().flatten(),
            grade: grades.get(&org.id).cloned(),
            last_year: fact(org.id, year - 1),
            year_before: fact(org.id, year - 2),
            listed: listed.contains(&org.id),
        };
        if check_eligibility(year, &kinds, &facts).is_ok() {
            count += 1;
        }
    }
    Ok(count)
}
