use super::*;
use crate::export::xlsx::XlsxWriter;
use crate::export::zip::ZipWriter;
use crate::export::{Cell, Column, ColumnKind};
use std::io::Cursor;

fn all_records(bytes: Vec<u8>) -> io::Result<Vec<(u64, Vec<String>)>> {
    let mut r = XlsxRecords::open(Cursor::new(bytes), Limits::default())?;
    let mut out = Vec::new();
    while let Some(rec) = r.next_record()? {
        out.push(rec);
    }
    Ok(out)
}

fn key_of(e: &io::Error) -> &'static str {
    error_message(e)
        .map(|m| m.key)
        .unwrap_or("(not an xlsx error)")
}

/// A workbook of hand-written parts, as other programs write them.
fn workbook(parts: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Vec::new());
    for (name, data) in parts {
        zip.add(name, data.as_bytes()).unwrap();
    }
    zip.finish().unwrap()
}

const WORKBOOK: &str = r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr/><sheets><sheet name="数据" sheetId="1" r:id="rId7"/><sheet name="其他" sheetId="2" r:id="rId2"/></sheets></workbook>"#;
const RELS: &str = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/data.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;
const STYLES: &str = r##"<styleSheet><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/><numFmt numFmtId="165" formatCode="#,##0.00&quot;元&quot;"/></numFmts><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="22"/></cellXfs></styleSheet>"##;
const SHARED: &str = r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4"><si><t>名称</t></si><si><r><t>滨海</t></r><r><rPr><b/></rPr><t xml:space="preserve"> 书画社</t></r><rPh sb="0" eb="2"><t>ビンカイ</t></rPh></si><si><t>a_x000D_b &amp; c_x005F_x0041_</t></si><si/></sst>"#;

/// Another program's sheet: a namespace prefix, shared strings, dates under built-in and
/// custom formats, a money format, booleans, a formula's cached text, an inline rich string,
/// cells without `r`, a blank row, a row of blanks and an empty shared string.
const SHEET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>
<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="C1" t="s"><x:v>1</x:v></x:c></x:row>
<x:row r="2" spans="1:3"><x:c r="A2" s="1"><x:v>41765</x:v></x:c><x:c r="B2" s="2"><x:v>41640</x:v></x:c><x:c r="C2" s="3"><x:v>1234.5</x:v></x:c><x:c r="D2"><x:v>0.30000000000000004</x:v></x:c><x:c r="E2"><x:v>1.2E+3</x:v></x:c></x:row>
<x:row r="3"/>
<x:row r="5"><x:c t="b"><x:v>1</x:v></x:c><x:c t="b"><x:v>0</x:v></x:c><x:c t="str"><x:f>A1&amp;"x"</x:f><x:v>名称x</x:v></x:c><x:c t="inlineStr"><x:is><x:r><x:t>富</x:t></x:r><x:r><x:t>文本</x:t></x:r></x:is></x:c></x:row>
<x:row r="6"><x:c r="B6" s="1"/><x:c r="C6" t="s"><x:v>3</x:v></x:c></x:row>
<x:row r="7"><x:c r="A7" t="s"><x:v>2</x:v></x:c><x:c r="B7" s="4"><x:v>41765.5</x:v></x:c><x:c r="AA7"><x:v>-7</x:v></x:c></x:row>
</x:sheetData></x:worksheet>"#;

#[test]
fn reads_another_programs_workbook() {
    let bytes = workbook(&[
        ("[Content_Types].xml", "<Types/>"),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", RELS),
        ("xl/styles.xml", STYLES),
        ("xl/sharedStrings.xml", SHARED),
        (
            "xl/worksheets/sheet1.xml",
            "<worksheet><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>wrong sheet</t></is></c></row></sheetData></worksheet>",
        ),
        ("xl/worksheets/data.xml", SHEET),
    ]);
    let rows = all_records(bytes).unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(rows[0], (1, s(&["名称", "", "滨海 书画社"])));
    assert_eq!(
        rows[1],
        (2, s(&["2014-05-06", "2014-01-01", "1234.5", "0.3", "1200"]))
    );
    assert_eq!(rows[2], (5, s(&["true", "false", "名称x", "富文本"])));
    let mut last = s(&["a\rb & c_x0041_", "2014-05-06 12:00:00"]);
    last.resize(27, String::new());
    last[26] = "-7".into();
    assert_eq!(rows[3], (7, last));
    // Row 6 holds only blanks and an empty string: like a blank line, it is no record.
    assert_eq!(rows.len(), 4);
}

#[test]
fn reads_back_our_own_writer() {
    let columns = vec![
        Column::new("名称", "", ColumnKind::Text),
        Column::new("数量", "个", ColumnKind::Count),
        Column::new("金额", "元", ColumnKind::Money),
        Column::new("备注", "", ColumnKind::Text),
    ];
    let mut w = XlsxWriter::new(Vec::new());
    w.start_sheet("标题", "说明", &columns).unwrap();
    w.row(&[
        Cell::Text("A & <b> _x0041_".into()),
        Cell::Int(12),
        Cell::Number(3.25),
        Cell::Text("  两端空格 ".into()),
    ])
    .unwrap();
    w.row(&[Cell::Empty, Cell::Empty, Cell::Number(7.0), Cell::Empty])
        .unwrap();
    w.row(&[Cell::Text("=SUM(A1)".into())]).unwrap();
    let bytes = w.finish().unwrap();
    let rows = all_records(bytes).unwrap();
    assert_eq!(rows[0], (1, vec!["标题".to_string()]));
    assert_eq!(rows[1], (2, vec!["说明".to_string()]));
    assert_eq!(rows[2].1, vec!["名称", "数量（个）", "金额（元）", "备注"]);
    assert_eq!(
        rows[3],
        (
            4,
            vec![
                "A & <b> _x0041_".to_string(),
                "12".into(),
                "3.25".into(),
                "  两端空格 ".into()
            ]
        )
    );
    assert_eq!(rows[4], (5, vec![String::new(), String::new(), "7".into()]));
    assert_eq!(rows[5], (6, vec!["=SUM(A1)".to_string()]));
    assert_eq!(rows.len(), 6);
}

#[test]
fn drop_downs_are_written_where_excel_expects_them() {
    let mut w = XlsxWriter::new(Vec::new());
    w.start_named_sheet(
        "导入",
        "",
        "",
        &[Column::new("类型", "", ColumnKind::Text)],
        &[],
    )
    .unwrap();
    w.list_validation("A2:A1048576", "'字典'!$A$2:$A$5", "请从列表中选择")
        .unwrap();
    let bytes = w.finish().unwrap();
    let entries = crate::export::zip::read_entries(&bytes).unwrap();
    let sheet = entries
        .iter()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
        .unwrap();
    let at = sheet.find("<dataValidations count=\"1\">").unwrap();
    assert!(at > sheet.find("</sheetData>").unwrap());
    assert!(at < sheet.find("<pageMargins").unwrap());
    assert!(sheet.contains(
        r#"<dataValidation type="list" allowBlank="1" showErrorMessage="1" error="请从列表中选择" sqref="A2:A1048576"><formula1>&apos;字典&apos;!$A$2:$A$5</formula1></dataValidation>"#
    ));
    // The header is in row 1: no title or note rows above it.
    assert_eq!(
        all_records(bytes).unwrap()[0],
        (1, vec!["类型".to_string()])
    );
}

#[test]
fn a_zip_bomb_is_refused() {
    // 16 MiB of blanks inside a sheet deflate to a few KiB: a ratio far past any real sheet.
    let mut sheet = String::from("<worksheet><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>");
    sheet.push_str(&" ".repeat(16 << 20));
    sheet.push_str("</t></is></c></row></sheetData></worksheet>");
    let bytes = workbook(&[
        ("xl/workbook.xml", "<workbook/>"),
        ("xl/worksheets/sheet1.xml", &sheet),
    ]);
    assert!(bytes.len() < 100_000);
    let e = all_records(bytes).err().unwrap();
    assert_eq!(key_of(&e), "xlsx.error.too_large");

    // The same under a declared size that lies (a few bytes): inflating stops there.
    let small = String::from(
        "<worksheet><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>x</t></is></c></row></sheetData></worksheet>",
    );
    let mut bytes = workbook(&[
        ("xl/workbook.xml", "<workbook/>"),
        ("xl/worksheets/sheet1.xml", &small),
    ]);
    let name = b"xl/worksheets/sheet1.xml";
    let at = bytes.windows(name.len()).rposition(|w| w == name).unwrap();
    bytes[at - 46 + 24..at - 46 + 28].copy_from_slice(&10u32.to_le_bytes());
    let e = all_records(bytes).err().unwrap();
    assert_eq!(key_of(&e), "xlsx.error.too_large");
}

#[test]
fn not_a_workbook_and_damage_are_errors() {
    let e = all_records(b"name,kind\n".to_vec()).err().unwrap();
    assert_eq!(key_of(&e), "xlsx.error.not_xlsx");
    let e = all_records(workbook(&[("a.txt", "x")])).err().unwrap();
    assert_eq!(key_of(&e), "xlsx.error.not_xlsx");
    // Every truncation of a good workbook is an error, never a panic.
    let mut w = XlsxWriter::new(Vec::new());
    w.start_sheet("t", "", &[Column::new("a", "", ColumnKind::Text)])
        .unwrap();
    w.row(&[Cell::Text("x".into())]).unwrap();
    let good = w.finish().unwrap();
    for cut in (0..good.len()).step_by(97) {
        assert!(all_records(good[..cut].to_vec()).is_err(), "cut at {cut}");
    }
    // A flipped byte in the sheet's data: the CRC or the inflater catches it.
    let mut bad = good.clone();
    let at = good
        .windows(24)
        .position(|w| w == b"xl/worksheets/sheet1.xml")
        .unwrap()
        + 24
        + 20;
    bad[at] ^= 0x55;
    assert!(all_records(bad).is_err());
}

/// Found by the `import_xlsx` fuzz target: a sheet with two rows numbered 1 gave the second
/// the first's number, so its errors would have been reported against the wrong row.
#[test]
fn rows_that_repeat_or_go_back_are_refused_naming_them() {
    let sheet = |rows: &str| {
        workbook(&[
            ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", RELS),
            (
                "xl/worksheets/data.xml",
                &format!("<worksheet><sheetData>{rows}</sheetData></worksheet>"),
            ),
        ])
    };
    let cell = |v: &str| format!("<c t=\"inlineStr\"><is><t>{v}</t></is></c>");
    let ok = sheet(&format!(
        "<row r=\"1\">{}</row><row>{}</row><row r=\"9\">{}</row>",
        cell("a"),
        cell("b"),
        cell("c")
    ));
    let rows: Vec<u64> = all_records(ok).unwrap().iter().map(|(r, _)| *r).collect();
    assert_eq!(rows, [1, 2, 9]);
    for (rows, row, after) in [
        (
            format!("<row r=\"1\">{0}</row><row r=\"1\">{0}</row>", cell("a")),
            "1",
            "1",
        ),
        (
            format!("<row r=\"5\">{0}</row><row r=\"3\">{0}</row>", cell("a")),
            "3",
            "5",
        ),
        (
            format!("<row r=\"2\"/><row r=\"2\">{}</row>", cell("a")),
            "2",
            "2",
        ),
        (format!("<row r=\"0\">{}</row>", cell("a")), "0", "0"),
        (
            format!("<row r=\"1048577\">{}</row>", cell("a")),
            "1048577",
            "0",
        ),
    ] {
        let e = all_records(sheet(&rows)).expect_err(&rows);
        let msg = error_message(&e).expect("a message");
        assert_eq!(msg.key, "xlsx.error.row_order", "{rows}");
        let text = msg.render(crate::i18n::Lang::Zh);
        assert!(
            text.contains(&format!("第 {row} 行")) && text.contains(&format!("第 {after} 行")),
            "{rows}: {text}"
        );
    }
}

#[test]
fn numbers_and_dates_read_as_excel_shows_them() {
    // (Pairs in arrays: a literal right after a call reads as a message key to the catalogue test.)
    for (raw, want) in [
        ("42", "42"),
        ("42.0", "42"),
        ("1.5E-3", "0.0015"),
        ("-0", "0"),
        ("0.1", "0.1"),
        ("abc", "abc"),
    ] {
        assert_eq!(number_text(raw), want);
    }
    for (raw, date1904, want) in [
        ("1", false, "1900-01-01"),
        ("59", false, "1900-02-28"),
        ("61", false, "1900-03-01"),
        ("45658", false, "2025-01-01"),
        ("0", true, "1904-01-01"),
        ("0.75", false, "18:00:00"),
        ("45658.99999999", false, "2025-01-02"),
    ] {
        assert_eq!(serial_date_text(raw, date1904), want);
    }
    assert!(is_date_format(164, Some("yyyy\"年\"m\"月\"d\"日\"")));
    assert!(!is_date_format(165, Some("#,##0.00\"元\"")));
    assert!(!is_date_format(166, Some("[Red]0.00")));
    assert!(!is_date_format(0, Some("General")));
    assert_eq!(column_index("A"), Some(0));
    assert_eq!(column_index("AA"), Some(26));
    assert_eq!(column_index("XFD"), Some(16_383));
    assert_eq!(column_index("XFE"), None);
}
