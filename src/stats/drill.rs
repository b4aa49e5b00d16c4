//! The records behind each figure of the summary (filled in on its own branch).

use crate::areas::store::AreaRow;
use crate::auth::Scope;
use crate::db::Conn;
use crate::error::Result;
use crate::export::Table;
use crate::i18n::Lang;

/// The records behind summary figure `key` for `area` and `year` within `scope`; `None` for a
/// key the summary does not have.
pub async fn records(
    _conn: &mut Conn<'_>,
    _lang: Lang,
    _scope: &Scope,
    _key: &str,
    _area: &AreaRow,
    _year: i32,
) -> Result<Option<Table>> {
    Ok(None)
}
