//! The business date (业务日期): the day the compliance rules (annual-report deadlines, credit
//! listings, grade validity) treat as today. It is the real date in China unless the
//! `clock_date` setting fixes one — the demo stands at the seed's moment, and tests move it to
//! watch deadlines pass.

use crate::db::Conn;
use crate::error::Result;
use chrono::NaiveDate;

/// The business date: `clock_date` when set, else today in China.
pub async fn today(conn: &mut Conn<'_>) -> Result<NaiveDate> {
    let fixed = crate::settings::store::current(conn, "clock_date").await?;
    Ok(NaiveDate::parse_from_str(&fixed, "%Y-%m-%d")
        .unwrap_or_else(|_| crate::registry::dump::china_today()))
}

/// The business moment: now, moved onto the business date when `clock_date` fixes one (the
/// time of day stays real), so that what is filed "today" is dated on the business date.
pub async fn now(conn: &mut Conn<'_>) -> Result<crate::db::Timestamp> {
    let real = chrono::Utc::now();
    let fixed = crate::settings::store::current(conn, "clock_date").await?;
    let Ok(day) = NaiveDate::parse_from_str(&fixed, "%Y-%m-%d") else {
        return Ok(real);
    };
    let china = real + chrono::Duration::hours(8);
    let moved = day.and_time(china.time()) - chrono::Duration::hours(8);
    Ok(moved.and_utc())
}

/// The years a query may name (the API documents the same range).
pub const QUERY_YEARS: std::ops::RangeInclusive<i32> = 1949..=2100;

/// The reporting year a query names: blank means the last full year before the business date
/// `today`; anything outside [`QUERY_YEARS`] is refused on the field `year`.
pub fn report_year(value: &str, today: NaiveDate) -> Result<i32> {
    use chrono::Datelike;
    match value.trim() {
        "" => Ok(today.year() - 1),
        y => y
            .parse::<i32>()
            .ok()
            .filter(|y| QUERY_YEARS.contains(y))
            .ok_or_else(|| {
                crate::error::Error::field("year", crate::i18n::Msg::new("error.field.choice"))
            }),
    }
}
