//! The import's CSV reader (导入文件) on any bytes: it never panics, records come with line
//! numbers that only grow, and it ends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shezu::registry::import::CsvRecords;
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let mut records = CsvRecords::new(Cursor::new(data));
    let mut last = 0;
    let mut seen = 0;
    while let Ok(Some((line, cells))) = records.next_record() {
        assert!(line > last, "line {line} after {last}");
        assert!(!cells.is_empty());
        last = line;
        seen += 1;
        assert!(seen <= data.len() + 1, "more records than bytes");
    }
});
