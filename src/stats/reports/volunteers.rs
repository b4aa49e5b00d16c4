//! 志愿服务与捐赠: the year's verified volunteer service per service domain (volunteers who
//! served, service records, hours), and per organization the registered volunteers, the year's
//! verified service and donations received, with the verified hours and donations received
//! up to the year's end (what the summary's volunteer keys count). Only verified hours
//! count; records still awaiting confirmation or verification, or sent back, do not.

use crate::areas::store::{AreaRow, subtree_predicate};
use crate::auth::Scope;
use crate::db::{Conn, Sql};
use crate::error::Result;
use crate::export::{Cell, Column, ColumnKind, Table};
use crate::i18n::Lang;
use crate::volunteers::SERVICE_DOMAINS;
use chrono::NaiveDate;

/// One organization's figures.
#[derive(Debug, Clone, sqlx::FromRow)]
struct OrgLine {
    id: i64,
    name: String,
    area_name: String,
    volunteers: i64,
    active: i64,
    records: i64,
    tenths: i64,
    received_fen: i64,
    tenths_all: i64,
    received_all_fen: i64,
}

/// Tenths of an hour as hours.
fn hours(tenths: i64) -> Cell {
    Cell::Number(tenths as f64 / 10.0)
}

/// Fen as yuan.
fn yuan(fen: i64) -> Cell {
    Cell::Number(fen as f64 / 100.0)
}

/// `and` the organization aliased `o` lies in `area`'s subtree and in `scope`.
fn in_subtree(sql: &mut Sql, scope: &Scope, area: &AreaRow) {
    sql.push(" and ");
    subtree_predicate(sql, "o.area_id", &[area.area_id()]);
    scope.restrict_orgs(sql, "o");
}

/// The report's tables.
pub async fn tables(
    conn: &mut Conn<'_>,
    lang: Lang,
    scope: &Scope,
    area: &AreaRow,
    year: i32,
) -> Result<Vec<Table>> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = crate::stats::year_end_day(year);
    let note = lang.tf(
        "stats.rep.note.volunteers",
        &[("area", &area.name), ("year", &year.to_string())],
    );
    let total = lang.t("stats.sum");
    let person = lang.t("stats.unit.person");
    let record = lang.t("stats.rep.unit.record");
    let hour = lang.t("stats.unit.hour");
    let yuan_unit = lang.t("stats.unit.yuan");

    // Per service domain, the year's verified service.
    let mut sql = Sql::new(
        "select s.domain, count(distinct s.volunteer_id), count(*), cast(sum(s.tenth_hours) as bigint) from volunteer_services s join organizations o on o.id = s.org_id where s.state = 'verified' and s.served_on >= $1 and s.served_on <= $2",
    )
    .arg(first)
    .arg(last);
    in_subtree(&mut sql, scope, area);
    sql.push(" group by s.domain");
    let domains: Vec<(String, i64, i64, i64)> = sql.fetch_all(conn).await?;
    let mut by_domain = Table::new(
        lang.t("stats.rep.vol.by_domain"),
        note.clone(),
        vec![
            Column::new(lang.t("stats.rep.vol.domain"), "", ColumnKind::Text),
            Column::new(lang.t("stats.rep.vol.active"), person, ColumnKind::Count),
            Column::new(lang.t("stats.rep.vol.records"), record, ColumnKind::Count),
            Column::new(lang.t("stats.rep.vol.hours"), hour, ColumnKind::Decimal),
        ],
    );
    // Every domain of the form, in its order, then any other a record names.
    let mut codes: Vec<&str> = SERVICE_DOMAINS.to_vec();
    for (code, ..) in &domains {
        if !codes.contains(&code.as_str()) {
            codes.push(code);
        }
    }
    for code in codes {
        let (volunteers, records, tenths) = domains
            .iter()
            .find(|d| d.0 == code)
            .map_or((0, 0, 0), |d| (d.1, d.2, d.3));
        let label = if SERVICE_DOMAINS.contains(&code) {
            lang.t(&format!("volunteers.domain.{code}")).to_owned()
        } else {
            code.to_owned()
        };
        by_domain.rows.push(vec![
            Cell::Text(label),
            Cell::Int(volunteers),
            Cell::Int(records),
            hours(tenths),
        ]);
    }
    let mut by_domain = by_domain.with_totals(total, &[]);
    let mut sql = Sql::new(
        "select count(distinct s.volunteer_id) from volunteer_services s join organizations o on o.id = s.org_id where s.state = 'verified' and s.served_on >= $1 and s.served_on <= $2",
    )
    .arg(first)
    .arg(last);
    in_subtree(&mut sql, scope, area);
    let served = sql.fetch_i64(conn).await?;
    if let Some(totals) = by_domain.totals.as_mut() {
        // A volunteer who served in two domains is one volunteer.
        totals[1] = Cell::Int(served);
    }

    // Per organization: its volunteers, the year's service and donations, and all of them.
    let verified = "from volunteer_services s where s.org_id = o.id and s.state = 'verified'";
    let in_year = "and s.served_on >= $1 and s.served_on <= $2";
    let received = "from donations d where d.org_id = o.id and d.direction = 'received'";
    let mut sql = Sql::new(&format!(
        "select o.id, o.name, a.name as area_name, \
         (select count(*) from volunteers v where v.org_id = o.id and v.registered_on <= $2) as volunteers, \
         (select count(distinct s.volunteer_id) {verified} {in_year}) as active, \
         (select count(*) {verified} {in_year}) as records, \
         cast(coalesce((select sum(s.tenth_hours) {verified} {in_year}), 0) as bigint) as tenths, \
         cast(coalesce((select sum(d.amount_fen) {received} and d.donated_on >= $1 and d.donated_on <= $2), 0) as bigint) as received_fen, \
         cast(coalesce((select sum(s.tenth_hours) {verified} and s.served_on <= $2 and (s.verified_at is null or s.verified_at <= $3)), 0) as bigint) as tenths_all, \
         cast(coalesce((select sum(d.amount_fen) {received} and d.donated_on <= $2), 0) as bigint) as received_all_fen \
         from organizations o join areas a on a.id = o.area_id \
         where (exists (select 1 from volunteers v where v.org_id = o.id) or exists (select 1 from volunteer_services s where s.org_id = o.id) or exists (select 1 from donations d where d.org_id = o.id))"
    ))
    .arg(first)
    .arg(last)
    // The cumulative columns count what the summary counts: served by the year's end and
    // verified by then.
    .arg(crate::registry::store::end_of_day_china(last));
    in_subtree(&mut sql, scope, area);
    sql.push(" order by a.code, o.name, o.id");
    let orgs: Vec<OrgLine> = sql.fetch_all(conn).await?;
    let mut by_org = Table::new(
        lang.t("stats.rep.vol.by_org"),
        note,
        vec![
            Column::new(lang.t("stats.rep.vol.org"), "", ColumnKind::Text),
            Column::new(lang.t("stats.col.area"), "", ColumnKind::Text),
            Column::new(
                lang.t("stats.rep.vol.volunteers"),
                person,
                ColumnKind::Count,
            ),
            Column::new(lang.t("stats.rep.vol.active"), person, ColumnKind::Count),
            Column::new(lang.t("stats.rep.vol.records"), record, ColumnKind::Count),
            Column::new(lang.t("stats.rep.vol.hours"), hour, ColumnKind::Decimal),
            Column::new(
                lang.t("stats.rep.vol.donations"),
                yuan_unit,
                ColumnKind::Money,
            ),
            Column::new(lang.t("stats.rep.vol.hours_all"), hour, ColumnKind::Decimal),
            Column::new(
                lang.t("stats.rep.vol.donations_all"),
                yuan_unit,
                ColumnKind::Money,
            ),
        ],
    );
    for o in orgs {
        by_org.rows.push(vec![
            Cell::Link(o.name, format!("/admin/orgs/{}", o.id)),
            Cell::Text(o.area_name),
            Cell::Int(o.volunteers),
            Cell::Int(o.active),
            Cell::Int(o.records),
            hours(o.tenths),
            yuan(o.received_fen),
            hours(o.tenths_all),
            yuan(o.received_all_fen),
        ]);
    }
    Ok(vec![by_domain, by_org.with_totals(total, &[])])
}
