//! Excel workbooks (.xlsx) written as a stream: see the module's functions.

use super::Table;

/// Writes `tables` as one workbook, a sheet per table, to `out`.
pub fn write_workbook<W: std::io::Write>(_tables: &[Table], _out: W) -> std::io::Result<()> {
    Err(std::io::Error::other("xlsx: not built yet"))
}

/// The workbook of `tables` in memory (for a download of a report).
pub fn workbook_bytes(tables: &[Table]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    write_workbook(tables, &mut out)?;
    Ok(out)
}
