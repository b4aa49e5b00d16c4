//! (filled in on its own branch)

use crate::areas::store::AreaRow;
use crate::auth::Scope;
use crate::db::Conn;
use crate::error::Result;
use crate::export::Table;
use crate::i18n::Lang;

/// The report's tables.
pub async fn tables(
    _conn: &mut Conn<'_>,
    _lang: Lang,
    _scope: &Scope,
    _area: &AreaRow,
    _year: i32,
) -> Result<Vec<Table>> {
    Ok(Vec::new())
}
