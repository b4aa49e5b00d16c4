//! Where an import's records come from (导入文件): a CSV file or the first sheet of an Excel
//! workbook, told apart by the file's first bytes (every .xlsx is a ZIP archive). Both give
//! (row or line number, cells) one record at a time, so the import never holds the file.

use super::import::CsvRecords;
use crate::export::xlsx_read::{Limits, XlsxRecords, looks_like_zip};
use std::io::{self, BufRead, Seek};

/// The records of an import file, CSV or XLSX.
pub enum Records<R: BufRead + Seek> {
    /// RFC 4180 text; numbers are physical lines.
    Csv(CsvRecords<R>),
    /// The first worksheet; numbers are the sheet's row numbers.
    Xlsx {
        /// The sheet's rows.
        rows: Box<XlsxRecords<R>>,
        /// Cells in the header row: later rows are padded to it (a sheet leaves trailing
        /// blanks out) or cut back to it when what is past it is blank.
        width: Option<usize>,
    },
}

impl<R: BufRead + Seek> Records<R> {
    /// The records of `input`, from its start: a workbook if it starts like a ZIP archive,
    /// CSV otherwise.
    pub fn open(mut input: R) -> io::Result<Records<R>> {
        if looks_like_zip(input.fill_buf()?) {
            Ok(Records::Xlsx {
                rows: Box::new(XlsxRecords::open(input, Limits::default())?),
                width: None,
            })
        } else {
            Ok(Records::Csv(CsvRecords::new(input)))
        }
    }

    /// The next record and its number; `None` at the end. Blank rows are skipped.
    pub fn next_record(&mut self) -> io::Result<Option<(u64, Vec<String>)>> {
        match self {
            Records::Csv(csv) => csv.next_record(),
            Records::Xlsx { rows, width } => {
                let Some((row, mut cells)) = rows.next_record()? else {
                    return Ok(None);
                };
                match *width {
                    None => *width = Some(cells.len()),
                    Some(w) if cells.len() < w => cells.resize(w, String::new()),
                    Some(w) if cells[w..].iter().all(|c| c.trim().is_empty()) => cells.truncate(w),
                    Some(_) => {}
                }
                Ok(Some((row, cells)))
            }
        }
    }
}
