//! Demo funding data (filled in below).
use crate::db::Conn;
use crate::error::Result;

/// Loads the demo rounds.
pub async fn load(_conn: &mut Conn<'_>, _seed: u64) -> Result<()> {
    Ok(())
}
