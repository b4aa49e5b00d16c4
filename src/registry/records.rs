//! Where an import's records come from (导入文件): a CSV file or the first sheet of an Excel
//! workbook, told apart by the file's first bytes (every .xlsx is a ZIP archive). Both give
//! (row or line number, cells) one record at a time, so the import never holds the file.

use super::import::CsvRecords;
use crate::export::xlsx_read::{Limits, XlsxError, XlsxRecords, looks_like_zip};
use crate::i18n::Msg;
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

    /// The next record and its number; `None` at the end. Blank rows are skipped. A record
    /// holding a NUL (which no database column takes) is an error naming its number.
    pub fn next_record(&mut self) -> io::Result<Option<(u64, Vec<String>)>> {
        let record = self.next_raw()?;
        if let Some((line, cells)) = &record
            && cells.iter().any(|c| c.contains('\0'))
        {
            return Err(unreadable_line(*line));
        }
        Ok(record)
    }

    fn next_raw(&mut self) -> io::Result<Option<(u64, Vec<String>)>> {
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

/// The error for line (or row) `line` of a file that is not UTF-8 text or holds a NUL.
pub fn unreadable_line(line: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        XlsxError(Msg::new("import.error.encoding").with("line", line)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::xlsx_read::error_message;

    #[test]
    fn unreadable_lines_are_named() {
        for (text, line) in [
            (&b"a,b\r\n1,2\r\nx,\x00\r\n"[..], 3),
            (b"a,b\r\n\xca\xe9,2\r\n", 2),
        ] {
            let mut r = Records::open(std::io::Cursor::new(text.to_vec())).unwrap();
            let err = loop {
                match r.next_record() {
                    Ok(Some(_)) => continue,
                    Ok(None) => panic!("read to the end"),
                    Err(e) => break e,
                }
            };
            let msg = error_message(&err).expect("a message");
            assert_eq!(msg.key, "import.error.encoding");
            assert_eq!(msg.args, vec![("line", line.to_string())]);
        }
    }
}
