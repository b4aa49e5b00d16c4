//! The records behind each figure of the summary (下钻明细): for a count, one row per record
//! counted, read from the same statement the count runs (only the selected columns differ), so
//! `rows.len()` is the figure; for a rate, the reports it is computed from; for money and
//! hours, the lines that add up to it with a totals row equal to the figure. Every list is as
//! of the end of the year, like the summary, and limited to what the caller's scope reaches.

use super::catalogue;
use super::snapshot::{self, OrgThen};
use super::{RECEIVED, VENTURE, evaluated_sql, push_graded_by, year_end_day};
use crate::areas::store::{AreaRow, subtree_predicate};
use crate::auth::Scope;
use crate::db::{Conn, Sql};
use crate::error::Result;
use crate::export::{Cell, Column, ColumnKind, Table};
use crate::i18n::Lang;
use chrono::NaiveDate;
use std::collections::HashMap;

/// The records behind summary figure `key` for `area` and `year` within `scope`; `None` for a
/// key the summary does not have.
pub async fn records(
    conn: &mut Conn<'_>,
    lang: Lang,
    scope: &Scope,
    key: &str,
    area: &AreaRow,
    year: i32,
) -> Result<Option<Table>> {
    let Some(figure) = catalogue::find(key) else {
        return Ok(None);
    };
    let d = Drill {
        lang,
        scope,
        area,
        year,
        day: year_end_day(year),
        title: lang.t(&catalogue::label_key(figure.key)),
    };
    let table = match figure.key {
        "organizations_total"
        | "registered_total"
        | "social_groups"
        | "private_non_enterprise_units"
        | "foundations"
        | "filed_community_orgs"
        | "direct_registrations" => d.registry(conn, figure.key).await?,
        "party_orgs_independent" => d.party_orgs(conn, crate::party::Form::Independent).await?,
        "party_branches_joint" => d.party_orgs(conn, crate::party::Form::Joint).await?,
        "party_instructors" => d.instructors(conn).await?,
        "party_funding_yuan" => d.party_funding(conn).await?,
        "federations" => d.federations(conn).await?,
        "communities_total" => d.communities(conn, false).await?,
        "communities_with_liaison_point" => d.communities(conn, true).await?,
        "inspection_rate" => d.inspection(conn, false).await?,
        "inspection_pass_rate" => d.inspection(conn, true).await?,
        "organizations_evaluated" => d.evaluated(conn).await?,
        "social_workers" => {
            d.practitioners(conn, crate::talent::PractitionerKind::SocialWorker)
                .await?
        }
        "professionals" => {
            d.practitioners(conn, crate::talent::PractitionerKind::Professional)
                .await?
        }
        "incubated_graduated" => {
            d.stays(conn, crate::incubation::figures::StayState::Graduated)
                .await?
        }
        "incubating" => {
            d.stays(conn, crate::incubation::figures::StayState::Incubating)
                .await?
        }
        "venture_budget_yuan" => d.venture_rounds(conn).await?,
        "venture_domains" => d.venture_domains(conn).await?,
        "venture_proposals" => d.venture_proposals(conn, false).await?,
        "venture_funded" => d.venture_proposals(conn, true).await?,
        "volunteer_hours" => d.volunteer_hours(conn).await?,
        "donations_yuan" => d.donations(conn).await?,
        _ => return Ok(None),
    };
    Ok(Some(table))
}

/// What every list is drawn for.
struct Drill<'a> {
    lang: Lang,
    scope: &'a Scope,
    area: &'a AreaRow,
    year: i32,
    /// The year's last day.
    day: NaiveDate,
    title: &'static str,
}

/// A date as the lists print it (blank when none).
fn date(d: Option<NaiveDate>) -> Cell {
    d.map_or(Cell::Empty, |d| Cell::Text(d.to_string()))
}

/// Words, or blank when there are none.
fn text(s: Option<String>) -> Cell {
    s.filter(|s| !s.is_empty()).map_or(Cell::Empty, Cell::Text)
}

/// Yuan from fen.
fn yuan(fen: i64) -> Cell {
    Cell::Number(fen as f64 / 100.0)
}

/// Appends "the record located at `column` is within `scope`" for records that belong to an
/// area rather than an organization (federations, communities, practitioners).
fn restrict_areas(sql: &mut Sql, scope: &Scope, column: &str) {
    match scope {
        Scope::All => {}
        Scope::Public => {
            sql.push(" and 1 = 0");
        }
        Scope::Limited { areas, .. } => {
            sql.push(" and ");
            subtree_predicate(sql, column, areas);
        }
    }
}

impl Drill<'_> {
    /// A column named by catalogue key `name`.
    fn col(&self, name: &str, unit: &str, kind: ColumnKind) -> Column {
        let unit = if unit.is_empty() {
            ""
        } else {
            self.lang.t(unit)
        };
        Column::new(self.lang.t(name), unit, kind)
    }

    /// A text column named by catalogue key `name`.
    fn text_col(&self, name: &str) -> Column {
        self.col(name, "", ColumnKind::Text)
    }

    /// An empty table titled by the figure, noted with the area and the year's end.
    fn table(&self, columns: Vec<Column>) -> Table {
        Table::new(
            self.title,
            super::reports::as_of_note(self.lang, self.area, self.year),
            columns,
        )
    }

    /// The table with its totals row.
    fn totals(&self, table: Table) -> Table {
        table.with_totals(self.lang.t("stats.sum"), &[])
    }

    /// Organizations of the registry at the year's end, filtered as the figure counts them.
    async fn registry(&self, conn: &mut Conn<'_>, key: &str) -> Result<Table> {
        let keep = |o: &OrgThen| match key {
            "registered_total" => o.registered(),
            "social_groups" => o.kind == "social_group",
            "private_non_enterprise_units" => o.kind == "private_non_enterprise",
            "foundations" => o.kind == "foundation",
            "filed_community_orgs" => o.kind == "community",
            "direct_registrations" => o.direct,
            _ => true,
        };
        let orgs: Vec<OrgThen> =
            snapshot::snapshot(conn, self.scope, self.area.area_id(), self.year)
                .await?
                .into_iter()
                .filter(|o| o.live() && keep(o))
                .collect();
        let areas: HashMap<i64, String> = crate::areas::store::list_all(conn)
            .await?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect();
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.uscc"),
            self.text_col("drill.col.kind"),
            self.text_col("drill.col.status_then"),
            self.text_col("drill.col.area"),
        ]);
        for o in orgs {
            table.rows.push(vec![
                Cell::Link(o.name, format!("/admin/orgs/{}", o.id)),
                text(o.uscc),
                Cell::Text(self.lang.t(&format!("kind.{}", o.kind)).to_owned()),
                Cell::Text(self.lang.t(&format!("status.{}", o.status)).to_owned()),
                text(areas.get(&o.area_id).cloned()),
            ]);
        }
        Ok(table)
    }

    /// Party organizations of `form` in force at the year's end.
    async fn party_orgs(&self, conn: &mut Conn<'_>, form: crate::party::Form) -> Result<Table> {
        let rows = crate::party::store::in_force_list(
            conn,
            self.scope,
            Some(self.area.area_id()),
            Some(form),
            Some(self.day),
        )
        .await?;
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.form"),
            self.text_col("drill.col.organization"),
            self.text_col("drill.col.area"),
            self.text_col("drill.col.established_on"),
            self.col("drill.col.members", "stats.unit.person", ColumnKind::Count),
        ]);
        for p in rows {
            table.rows.push(vec![
                Cell::Link(p.name.clone(), format!("/admin/party/{}", p.id)),
                Cell::Text(self.lang.t(&format!("party.form.{}", p.form)).to_owned()),
                Cell::Link(p.org_name.clone(), format!("/admin/orgs/{}", p.org_id)),
                Cell::Text(p.area_name.clone()),
                date(Some(p.established_on)),
                Cell::Int(p.members()),
            ]);
        }
        Ok(table)
    }

    /// Instructors with an assignment in force at the year's end.
    async fn instructors(&self, conn: &mut Conn<'_>) -> Result<Table> {
        let mut sql = crate::party::coverage::instructors_sql(
            "select i.id, i.name, i.appointed_on",
            self.scope,
            Some(self.area.area_id()),
            Some(self.day),
        );
        sql.push(" order by i.name, i.id");
        let rows: Vec<(i64, String, NaiveDate)> = sql.fetch_all(conn).await?;
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.appointed_on"),
        ]);
        for (_, name, appointed) in rows {
            table.rows.push(vec![
                Cell::Link(name, "/admin/party/instructors".into()),
                date(Some(appointed)),
            ]);
        }
        Ok(table)
    }

    /// The year's budget per party organization, as the funding rule computes it.
    async fn party_funding(&self, conn: &mut Conn<'_>) -> Result<Table> {
        let lines = crate::party::funding::budget_by_party_org(
            conn,
            self.scope,
            Some(self.area.area_id()),
            self.year,
        )
        .await?;
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.area"),
            self.col(
                "drill.col.org_allowance",
                "stats.unit.yuan",
                ColumnKind::Money,
            ),
            self.col("drill.col.cadres", "stats.unit.person", ColumnKind::Count),
            self.col(
                "drill.col.cadre_allowance",
                "stats.unit.yuan",
                ColumnKind::Money,
            ),
            self.col("drill.col.budget", "stats.unit.yuan", ColumnKind::Money),
        ]);
        for b in lines {
            table.rows.push(vec![
                Cell::Link(b.name, format!("/admin/party/{}", b.party_org_id)),
                Cell::Text(b.area_name),
                yuan(b.line.orgs_fen),
                Cell::Int(b.line.cadres),
                yuan(b.line.cadres_fen),
                yuan(b.line.budget_fen()),
            ]);
        }
        Ok(self.totals(table))
    }

    /// Federations founded by the year's end.
    async fn federations(&self, conn: &mut Conn<'_>) -> Result<Table> {
        let mut sql = crate::hubs::store::federations_sql(
            "select f.id, f.name, a.name, f.founded_on",
            self.area.area_id(),
            Some(self.day),
        );
        restrict_areas(&mut sql, self.scope, "f.area_id");
        sql.push(" order by a.code, f.id");
        let rows: Vec<(i64, String, String, Option<NaiveDate>)> = sql.fetch_all(conn).await?;
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.street"),
            self.text_col("drill.col.founded_on"),
        ]);
        for (id, name, street, founded) in rows {
            table.rows.push(vec![
                Cell::Link(name, format!("/admin/federations/{id}")),
                Cell::Text(street),
                date(founded),
            ]);
        }
        Ok(table)
    }

    /// Communities and villages existing at the year's end (only those with a liaison point
    /// set up by then when `with_point`).
    async fn communities(&self, conn: &mut Conn<'_>, with_point: bool) -> Result<Table> {
        let mut sql = crate::hubs::store::communities_sql(
            "select a.code, a.name, p.name, p.liaison_name, p.established_on",
            self.area.area_id(),
            Some(self.day),
        );
        if with_point {
            sql.push(" and p.id is not null");
        }
        restrict_areas(&mut sql, self.scope, "a.id");
        sql.push(" order by a.code");
        type Row = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<NaiveDate>,
        );
        let rows: Vec<Row> = sql.fetch_all(conn).await?;
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.code"),
            self.text_col("drill.col.liaison_point"),
            self.text_col("drill.col.liaison_person"),
            self.text_col("drill.col.established_on"),
        ]);
        for (code, name, point, person, established) in rows {
            table.rows.push(vec![
                Cell::Link(name, format!("/admin/liaison-points?area={code}")),
                Cell::Text(code),
                text(point),
                text(person),
                date(established),
            ]);
        }
        Ok(table)
    }

    /// The year's annual reports: every one due with its filing and state (`reviewed`: only
    /// the reviewed ones, with their result). A 1 in the last column marks what the rate's
    /// numerator counts, so the totals row over the row count is the rate.
    async fn inspection(&self, conn: &mut Conn<'_>, reviewed: bool) -> Result<Table> {
        use crate::inspection::Filing;
        let rules = crate::inspection::Rules::load(conn).await?;
        let today = crate::clock::today(conn).await?;
        let lines = crate::inspection::store::calendar_as_of(
            conn,
            self.scope,
            i64::from(self.year),
            Some(self.area.area_id()),
            None,
            &rules,
            today,
            Some(snapshot::year_end(self.year)),
        )
        .await?;
        let mut columns = vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.uscc"),
            self.text_col("drill.col.area"),
        ];
        if reviewed {
            columns.push(self.text_col("drill.col.result"));
            columns.push(self.col("drill.col.passed", "stats.unit.item", ColumnKind::Count));
        } else {
            columns.push(self.text_col("drill.col.filing"));
            columns.push(self.text_col("drill.col.report_state"));
            columns.push(self.col("drill.col.reported", "stats.unit.item", ColumnKind::Count));
        }
        let mut table = self.table(columns);
        for line in lines {
            if line.filing == Filing::NotDue {
                continue;
            }
            let row = &line.row;
            let state = row.report_state.as_deref();
            if reviewed && (state != Some("reviewed") || row.result.is_none()) {
                continue;
            }
            let href = match row.report_id {
                Some(id) => format!("/admin/reports/{id}"),
                None => format!("/admin/orgs/{}", row.org_id),
            };
            let mut cells = vec![
                Cell::Link(row.name.clone(), href),
                text(row.uscc.clone()),
                Cell::Text(row.area_name.clone()),
            ];
            if reviewed {
                let result = row.result.clone().unwrap_or_default();
                cells.push(Cell::Text(
                    self.lang
                        .t(&format!("inspection.result.{result}"))
                        .to_owned(),
                ));
                cells.push(Cell::Int(i64::from(result == "pass")));
            } else {
                let filed = matches!(line.filing, Filing::OnTime | Filing::Late { .. });
                cells.push(Cell::Text(
                    self.lang
                        .t(&format!("filing.kind.{}", line.filing.key()))
                        .to_owned(),
                ));
                cells.push(state.map_or(Cell::Empty, |s| {
                    Cell::Text(self.lang.t(&format!("inspection.state.{s}")).to_owned())
                }));
                cells.push(Cell::Int(i64::from(filed)));
            }
            table.rows.push(cells);
        }
        Ok(self.totals(table))
    }

    /// Organizations given a final grade by the year's end, with their latest grade.
    async fn evaluated(&self, conn: &mut Conn<'_>) -> Result<Table> {
        let mut head = Sql::new(
            "select o.id, o.name, o.uscc, a.name, (select e.final_grade from evaluation_applications e join evaluation_rounds r on r.id = e.round_id where e.org_id = o.id and ",
        );
        push_graded_by(&mut head, self.year);
        head.push(" order by coalesce(e.decided_on, r.finalized_on) desc, e.id desc limit 1), (select max(coalesce(e.decided_on, r.finalized_on)) from evaluation_applications e join evaluation_rounds r on r.id = e.round_id where e.org_id = o.id and ");
        push_graded_by(&mut head, self.year);
        head.push(")");
        let mut sql = evaluated_sql(head, self.scope, self.area.area_id(), self.year);
        sql.push(" order by a.code, o.name, o.id");
        type Row = (
            i64,
            String,
            Option<String>,
            String,
            Option<String>,
            Option<NaiveDate>,
        );
        let rows: Vec<Row> = sql.fetch_all(conn).await?;
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.uscc"),
            self.text_col("drill.col.area"),
            self.text_col("drill.col.grade"),
            self.text_col("drill.col.decided_on"),
        ]);
        for (id, name, uscc, area, grade, decided) in rows {
            table.rows.push(vec![
                Cell::Link(name, format!("/admin/orgs/{id}")),
                text(uscc),
                Cell::Text(area),
                text(grade),
                date(decided),
            ]);
        }
        Ok(table)
    }

    /// Practitioners of `kind` in post on the year's last day.
    async fn practitioners(
        &self,
        conn: &mut Conn<'_>,
        kind: crate::talent::PractitionerKind,
    ) -> Result<Table> {
        let mut sql = crate::talent::store::in_post_sql(
            "select w.id, w.name, w.employer_name, (select name from areas where id = w.area_id), w.started_on",
            self.area.area_id(),
            kind,
            self.day,
        );
        restrict_areas(&mut sql, self.scope, "w.area_id");
        sql.push(" order by w.name, w.id");
        let rows: Vec<(i64, String, String, String, NaiveDate)> = sql.fetch_all(conn).await?;
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.employer"),
            self.text_col("drill.col.area"),
            self.text_col("drill.col.started_on"),
        ]);
        for (id, name, employer, area, started) in rows {
            table.rows.push(vec![
                Cell::Link(name, format!("/admin/practitioners/{id}")),
                Cell::Text(employer),
                Cell::Text(area),
                date(Some(started)),
            ]);
        }
        Ok(table)
    }

    /// Incubation stays graduated by, or open at, the year's end.
    async fn stays(
        &self,
        conn: &mut Conn<'_>,
        state: crate::incubation::figures::StayState,
    ) -> Result<Table> {
        let mut sql = crate::incubation::figures::stays_sql(
            "select s.id, coalesce(o.name, s.group_name), i.name, s.entered_on, s.ended_on",
            self.scope,
            self.area,
            state,
            Some(self.day),
        );
        sql.push(" order by s.entered_on, s.id");
        type Row = (i64, String, String, NaiveDate, Option<NaiveDate>);
        let rows: Vec<Row> = sql.fetch_all(conn).await?;
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.incubator"),
            self.text_col("drill.col.entered_on"),
            self.text_col("drill.col.ended_on"),
        ]);
        for (id, name, incubator, entered, ended) in rows {
            // An end after the year's last day had not happened yet then.
            let ended = ended.filter(|e| *e <= self.day);
            table.rows.push(vec![
                Cell::Link(name, format!("/admin/incubation-stays/{id}")),
                Cell::Text(incubator),
                date(Some(entered)),
                date(ended),
            ]);
        }
        Ok(table)
    }

    /// The year's venture round(s) with their budgets.
    async fn venture_rounds(&self, conn: &mut Conn<'_>) -> Result<Table> {
        let mut sql = crate::funding::award::rounds_sql(
            "select r.id, r.title, r.budget_fen",
            self.year,
            Some(VENTURE),
        );
        sql.push(" order by r.id");
        let rows: Vec<(i64, String, i64)> = sql.fetch_all(conn).await?;
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.col("drill.col.budget", "stats.unit.yuan", ColumnKind::Money),
        ]);
        for (id, title, budget) in rows {
            table.rows.push(vec![
                Cell::Link(title, format!("/admin/funding/{id}")),
                yuan(budget),
            ]);
        }
        Ok(self.totals(table))
    }

    /// The distinct domains of the year's venture round(s).
    async fn venture_domains(&self, conn: &mut Conn<'_>) -> Result<Table> {
        let mut sql = crate::funding::award::domains_sql(
            "select d.name, min(r.id)",
            self.year,
            Some(VENTURE),
        );
        sql.push(" group by d.name order by min(d.id)");
        let rows: Vec<(String, i64)> = sql.fetch_all(conn).await?;
        let mut table = self.table(vec![self.text_col("drill.col.domain")]);
        for (name, round) in rows {
            table
                .rows
                .push(vec![Cell::Link(name, format!("/admin/funding/{round}"))]);
        }
        Ok(table)
    }

    /// The proposals to the year's venture round(s) (`funded`: those granted funds).
    async fn venture_proposals(&self, conn: &mut Conn<'_>, funded: bool) -> Result<Table> {
        let mut sql = crate::funding::award::proposals_sql(
            "select p.id, p.title, o.id, o.name, d.name, p.state, p.requested_fen, p.granted_fen",
            self.scope,
            self.year,
            Some(VENTURE),
            funded,
        );
        sql.push(" order by p.id");
        type Row = (i64, String, i64, String, String, String, i64, Option<i64>);
        let rows: Vec<Row> = sql.fetch_all(conn).await?;
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.organization"),
            self.text_col("drill.col.domain"),
            self.text_col("drill.col.state"),
            self.col("drill.col.requested", "stats.unit.yuan", ColumnKind::Money),
            self.col("drill.col.granted", "stats.unit.yuan", ColumnKind::Money),
        ]);
        for (id, title, org, org_name, domain, state, requested, granted) in rows {
            table.rows.push(vec![
                Cell::Link(title, format!("/admin/funding/proposals/{id}")),
                Cell::Link(org_name, format!("/admin/orgs/{org}")),
                Cell::Text(domain),
                Cell::Text(self.lang.t(&format!("funding.state.{state}")).to_owned()),
                yuan(requested),
                granted.map_or(Cell::Empty, yuan),
            ]);
        }
        Ok(if funded { self.totals(table) } else { table })
    }

    /// Verified volunteer hours per organization, as they stood at the year's end.
    async fn volunteer_hours(&self, conn: &mut Conn<'_>) -> Result<Table> {
        let sql = crate::volunteers::store::verified_sql(
            "select o.id, o.name, o.uscc, count(*), cast(sum(s.tenth_hours) as bigint)",
            self.scope,
            Some(self.area.area_id()),
            Some(self.day),
        );
        let records = self.col("drill.col.records", "stats.unit.item", ColumnKind::Count);
        let hours = self.col("drill.col.hours", "stats.unit.hour", ColumnKind::Decimal);
        self.per_organization(conn, sql, records, hours, |tenths| {
            Cell::Number(tenths as f64 / 10.0)
        })
        .await
    }

    /// Donations received on or before the year's end, per organization.
    async fn donations(&self, conn: &mut Conn<'_>) -> Result<Table> {
        let sql = crate::volunteers::store::donations_sql(
            "select o.id, o.name, o.uscc, count(*), cast(sum(d.amount_fen) as bigint)",
            self.scope,
            Some(self.area.area_id()),
            Some(RECEIVED),
            Some(self.day),
        );
        let donations = self.col("drill.col.donations", "stats.unit.item", ColumnKind::Count);
        let amount = self.col("drill.col.amount", "stats.unit.yuan", ColumnKind::Money);
        self.per_organization(conn, sql, donations, amount, yuan)
            .await
    }

    /// One row per organization from `sql` (selecting the organization's id, name and credit
    /// code, a count and a sum), the count under `count` and the sum, as `amount_cell` makes
    /// it, under `amount`; with a totals row.
    async fn per_organization(
        &self,
        conn: &mut Conn<'_>,
        mut sql: Sql,
        count: Column,
        amount: Column,
        amount_cell: fn(i64) -> Cell,
    ) -> Result<Table> {
        sql.push(" group by o.id, o.name, o.uscc order by o.name, o.id");
        let rows: Vec<(i64, String, Option<String>, i64, i64)> = sql.fetch_all(conn).await?;
        let mut table = self.table(vec![
            self.text_col("drill.col.name"),
            self.text_col("drill.col.uscc"),
            count,
            amount,
        ]);
        for (id, name, uscc, n, sum) in rows {
            table.rows.push(vec![
                Cell::Link(name, format!("/admin/orgs/{id}")),
                text(uscc),
                Cell::Int(n),
                amount_cell(sum),
            ]);
        }
        Ok(self.totals(table))
    }
}
