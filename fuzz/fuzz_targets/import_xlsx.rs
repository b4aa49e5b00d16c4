//! The import's workbook reader (Excel 导入) on any bytes, through the same entry the upload
//! uses (CSV or XLSX told apart by the first bytes): it never panics and row numbers only grow.
//! Zip bombs are held by the reader's limits; the fuzzer's memory limit catches any that slip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shezu::registry::records::Records;
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let Ok(mut records) = Records::open(Cursor::new(data)) else {
        return;
    };
    let mut last = 0;
    let mut seen = 0u64;
    while let Ok(Some((row, _cells))) = records.next_record() {
        assert!(row > last, "row {row} after {last}");
        last = row;
        seen += 1;
        if seen > 100_000 {
            break;
        }
    }
});
