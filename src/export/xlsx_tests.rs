//! Tests of the Excel writer: a test-only reader walks the ZIP and checks every part.

use super::*;
use crate::export::zip::fits_u32;
use flate2::Crc;
use std::collections::BTreeMap;
use std::io::Read;

/// Reads a ZIP as the writer makes it: walks the central directory, checks each local
/// header and data descriptor against it, inflates each entry and checks its CRC and size.
fn unzip(bytes: &[u8]) -> BTreeMap<String, String> {
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let end = bytes.len() - 22;
    assert_eq!(u32_at(end), 0x0605_4b50, "end record last, no comment");
    let count = u16_at(end + 10);
    let mut at = u32_at(end + 16) as usize;
    assert_eq!(at + u32_at(end + 12) as usize, end, "directory size");
    let mut entries = BTreeMap::new();
    for _ in 0..count {
        assert_eq!(u32_at(at), 0x0201_4b50);
        assert_eq!(u16_at(at + 8), 0x0808, "flags: descriptor, UTF-8");
        assert_eq!(u16_at(at + 10), 8, "deflate");
        let crc = u32_at(at + 16);
        let compressed = u32_at(at + 20) as usize;
        let size = u32_at(at + 24) as usize;
        let name_len = u16_at(at + 28);
        let skip = u16_at(at + 30) + u16_at(at + 32);
        let local = u32_at(at + 42) as usize;
        let name = std::str::from_utf8(&bytes[at + 46..at + 46 + name_len]).unwrap();
        at += 46 + name_len + skip;

        assert_eq!(u32_at(local), 0x0403_4b50, "{name}: local header");
        assert_eq!(u16_at(local + 6), 0x0808);
        assert_eq!(u32_at(local + 14), 0, "{name}: CRC deferred");
        let local_name_len = u16_at(local + 26);
        assert_eq!(
            &bytes[local + 30..local + 30 + local_name_len],
            name.as_bytes()
        );
        let data = local + 30 + local_name_len + u16_at(local + 28);
        let descriptor = data + compressed;
        assert_eq!(u32_at(descriptor), 0x0807_4b50, "{name}: descriptor");
        assert_eq!(u32_at(descriptor + 4), crc);
        assert_eq!(u32_at(descriptor + 8) as usize, compressed);
        assert_eq!(u32_at(descriptor + 12) as usize, size);

        let mut text = Vec::new();
        flate2::read::DeflateDecoder::new(&bytes[data..descriptor])
            .read_to_end(&mut text)
            .unwrap();
        assert_eq!(text.len(), size, "{name}: size");
        let mut check = Crc::new();
        check.update(&text);
        assert_eq!(check.sum(), crc, "{name}: CRC");
        entries.insert(name.to_owned(), String::from_utf8(text).unwrap());
    }
    entries
}

fn sample() -> Table {
    let mut table = Table::new(
        "社会组织统计",
        "全区 · 截至 2024-12-31",
        vec![
            Column::new("类型", "", ColumnKind::Text),
            Column::new("数量", "个", ColumnKind::Count),
            Column::new("经费", "元", ColumnKind::Money),
            Column::new("服务时长", "小时", ColumnKind::Decimal),
            Column::new("合格率", "%", ColumnKind::Percent),
        ],
    );
    table.rows.push(vec![
        Cell::Text("社会团体".into()),
        Cell::Int(1234),
        Cell::Number(1000.5),
        Cell::Number(12.25),
        Cell::Number(0.5),
    ]);
    table.rows.push(vec![
        Cell::Link("基金会".into(), "/orgs?kind=foundation".into()),
        Cell::Int(2),
        Cell::Number(0.25),
        Cell::Number(3.0),
        Cell::Number(1.0),
    ]);
    table.with_totals("合计", &[(4, 0.75)])
}

#[test]
fn a_workbook_has_every_part_listed_and_intact() {
    let mut second = sample();
    second.title = "第二张".into();
    let parts = unzip(&workbook_bytes(&[sample(), second]).unwrap());
    let names: Vec<&str> = parts.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "[Content_Types].xml",
            "_rels/.rels",
            "docProps/app.xml",
            "docProps/core.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "xl/workbook.xml",
            "xl/worksheets/sheet1.xml",
            "xl/worksheets/sheet2.xml",
        ]
    );
    let types = &parts["[Content_Types].xml"];
    assert!(types.contains(r#"PartName="/xl/worksheets/sheet2.xml""#));
    assert!(types.contains(r#"PartName="/docProps/core.xml""#));
    let rels = &parts["xl/_rels/workbook.xml.rels"];
    assert!(rels.contains(r#"Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml""#));
    assert!(rels.contains(r#"Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles""#));
    let workbook = &parts["xl/workbook.xml"];
    assert!(workbook.contains(r#"<sheet name="社会组织统计" sheetId="1" r:id="rId1"/>"#));
    assert!(workbook.contains(r#"<sheet name="第二张" sheetId="2" r:id="rId2"/>"#));
    assert!(
        workbook.contains("&apos;第二张&apos;!$3:$3"),
        "print titles"
    );
    assert!(parts["docProps/core.xml"].contains("<dc:title>社会组织统计</dc:title>"));
    assert!(parts["xl/styles.xml"].contains(r#"<cellXfs count="15">"#));
    assert_eq!(parts["xl/styles.xml"].matches("<xf ").count(), 16);
}

#[test]
fn a_sheet_has_title_note_header_frozen_below_it_numbers_and_totals() {
    let parts = unzip(&workbook_bytes(&[sample()]).unwrap());
    let sheet = &parts["xl/worksheets/sheet1.xml"];
    assert!(
        sheet.contains(
            r#"<pane ySplit="3" topLeftCell="A4" activePane="bottomLeft" state="frozen"/>"#
        )
    );
    // The title is centred over the five columns; the note is grey.
    assert!(sheet.contains(r#"<c r="A1" s="2" t="inlineStr"><is><t>社会组织统计</t></is></c>"#));
    assert!(sheet.contains(r#"<mergeCell ref="A1:E1"/>"#));
    assert!(sheet.contains(r#"<c r="A2" s="3" t="inlineStr"><is><t>全区 · 截至 2024-12-31</t>"#));
    for (at, header) in [
        ("A3", "类型"),
        ("B3", "数量（个）"),
        ("C3", "经费（元）"),
        ("D3", "服务时长（小时）"),
        ("E3", "合格率（%）"),
    ] {
        let cell = format!(r#"<c r="{at}" s="4" t="inlineStr"><is><t>{header}</t></is></c>"#);
        assert!(sheet.contains(&cell), "{cell}");
    }
    assert!(sheet.contains(r#"<c r="A4" s="5" t="inlineStr"><is><t>社会团体</t></is></c>"#));
    assert!(sheet.contains(r#"<c r="B4" s="6"><v>1234</v></c>"#));
    assert!(sheet.contains(r#"<c r="C4" s="7"><v>1000.5</v></c>"#));
    assert!(sheet.contains(r#"<c r="D4" s="8"><v>12.25</v></c>"#));
    assert!(sheet.contains(r#"<c r="E4" s="9"><v>0.5</v></c>"#));
    assert!(sheet.contains(r#"<c r="A5" s="5" t="inlineStr"><is><t>基金会</t>"#));
    assert!(!sheet.contains("/orgs"), "links are written as their text");
    assert!(sheet.contains(concat!(
        r#"<row r="6"><c r="A6" s="10" t="inlineStr"><is><t>合计</t></is></c>"#,
        r#"<c r="B6" s="11"><v>1236</v></c><c r="C6" s="12"><v>1000.75</v></c>"#,
        r#"<c r="D6" s="13"><v>15.25</v></c><c r="E6" s="14"><v>0.75</v></c></row>"#
    )));
    // The style ids above are the number formats asked for.
    let styles = &parts["xl/styles.xml"];
    for format in [
        r##"numFmtId="164" formatCode="#,##0""##,
        r##"numFmtId="165" formatCode="#,##0.00""##,
        r##"numFmtId="166" formatCode="#,##0.0""##,
        r##"numFmtId="167" formatCode="0.0%""##,
    ] {
        assert!(styles.contains(format), "{format}");
    }
    let xfs: Vec<&str> = styles
        .split("<cellXfs")
        .nth(1)
        .unwrap()
        .split("<xf ")
        .skip(1)
        .collect();
    assert!(xfs[6].starts_with(r#"numFmtId="164""#));
    assert!(xfs[9].starts_with(r#"numFmtId="167""#));
    assert!(xfs[13].starts_with(r#"numFmtId="166" fontId="3""#));
    // Widths: the wide CJK header of D and the kinds' least widths.
    assert!(sheet.contains(r#"<col min="1" max="1" width="12.00" customWidth="1"/>"#));
    assert!(sheet.contains(r#"<col min="4" max="4" width="19.60" customWidth="1"/>"#));
    assert!(sheet.find("<cols>").unwrap() < sheet.find("<sheetData>").unwrap());
    assert!(sheet.find("</sheetData>").unwrap() < sheet.find("<mergeCells").unwrap());
}

#[test]
fn sheets_without_title_or_note_start_with_the_header() {
    let mut table = sample();
    table.title.clear();
    table.note.clear();
    let parts = unzip(&workbook_bytes(&[table]).unwrap());
    let sheet = &parts["xl/worksheets/sheet1.xml"];
    assert!(sheet.contains(r#"<pane ySplit="1" topLeftCell="A2""#));
    assert!(sheet.contains(concat!(
        r#"<row r="1" ht="18.75" customHeight="1">"#,
        r#"<c r="A1" s="4" t="inlineStr"><is><t>类型</t>"#
    )));
    assert!(!sheet.contains("mergeCell"));
    assert!(parts["xl/workbook.xml"].contains(r#"<sheet name="Sheet1""#));
}

#[test]
fn a_workbook_without_tables_still_has_a_sheet() {
    let parts = unzip(&workbook_bytes(&[]).unwrap());
    assert!(parts["xl/worksheets/sheet1.xml"].contains("<sheetData></sheetData>"));
    assert!(parts["xl/workbook.xml"].contains(r#"<sheet name="Sheet1" sheetId="1""#));
}

#[test]
fn sheet_names_are_cleaned_cut_and_unique() {
    let mut taken: Vec<String> = Vec::new();
    let mut name = |title: &str| {
        let name = sheet_name(title, taken.len() + 1, &taken);
        taken.push(name.to_lowercase());
        name
    };
    assert_eq!(name("报表[2024]: a/b\\c*d?"), "报表_2024__ a_b_c_d_");
    assert_eq!(name("报表[2024]: a/b\\c*d?"), "报表_2024__ a_b_c_d_(2)");
    assert_eq!(name("报表[2024]: A/B\\C*D?"), "报表_2024__ A_B_C_D_(3)");
    assert_eq!(name(""), "Sheet4");
    assert_eq!(name("  '\u{1}\u{7}'  "), "Sheet5");
    assert_eq!(name("history"), "history(2)");
    let long = "社会组织年度检查结果统计表按登记管理机关业务主管单位分列汇总";
    assert_eq!(long.chars().count(), 30);
    let cut = name(&format!("{long}附表"));
    assert_eq!(cut, format!("{long}附"));
    let again = name(&format!("{long}附表"));
    assert_eq!(again.chars().count(), 31);
    assert!(again.ends_with("分列(2)"), "{again}");
    // Characters beyond the BMP count two, as Excel counts them.
    let emoji = name(&"😀".repeat(20));
    assert_eq!(emoji.encode_utf16().count(), 30);
    // Each name is unique without case.
    let mut lower: Vec<&String> = taken.iter().collect();
    lower.sort();
    lower.dedup();
    assert_eq!(lower.len(), taken.len());
}

#[test]
fn hostile_text_is_escaped_and_stays_data() {
    let mut table = Table::new(
        "<script>alert('x')</script>",
        "A & B \"quoted\"\u{0}\u{1b}[31m",
        vec![Column::new("名称<b>", "&", ColumnKind::Text)],
    );
    for text in [
        "=HYPERLINK(\"http://evil\",\"点我\")",
        "+1+1",
        "-2",
        "@SUM(A1)",
        "a\u{0}b\u{8}c\u{b}d\u{c}e\u{1f}f\u{fffe}g",
        "line\r\nnext\ttab",
        "_x0041_ and _x00_ _xZZZZ_",
        "  padded  ",
    ] {
        table.rows.push(vec![Cell::Text(text.into())]);
    }
    let parts = unzip(&workbook_bytes(&[table]).unwrap());
    let sheet = &parts["xl/worksheets/sheet1.xml"];
    assert!(sheet.contains("<t>&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;</t>"));
    assert!(sheet.contains("<t>A &amp; B &quot;quoted&quot;[31m</t>"));
    assert!(sheet.contains("<t>名称&lt;b&gt;（&amp;）</t>"));
    assert!(sheet.contains("<t>=HYPERLINK(&quot;http://evil&quot;,&quot;点我&quot;)</t></is></c>"));
    assert!(!sheet.contains("<f>"), "no formulas");
    assert!(sheet.contains("<t>+1+1</t>"));
    assert!(sheet.contains("<t>-2</t>"));
    assert!(sheet.contains("<t>@SUM(A1)</t>"));
    assert!(sheet.contains("<t>abcdefg</t>"));
    assert!(sheet.contains("<t>line&#13;\nnext\ttab</t>"));
    assert!(sheet.contains("<t>_x005F_x0041_ and _x00_ _xZZZZ_</t>"));
    assert!(sheet.contains(r#"<t xml:space="preserve">  padded  </t>"#));
    assert!(!sheet.bytes().any(|b| b < 0x20 && !b"\t\n".contains(&b)));
    let workbook = &parts["xl/workbook.xml"];
    assert!(
        workbook.contains(r#"<sheet name="&lt;script&gt;alert(&apos;x&apos;)&lt;_script&gt;""#)
    );
    assert!(workbook.contains("&apos;&lt;script&gt;alert(&apos;&apos;x&apos;&apos;)"));
    assert!(parts["docProps/core.xml"].contains("<dc:title>&lt;script&gt;"));
}

#[test]
fn overlong_text_is_cut_to_excels_limit() {
    let mut table = Table::new("t", "", vec![Column::new("a", "", ColumnKind::Text)]);
    table.rows.push(vec![Cell::Text("字".repeat(40_000))]);
    let parts = unzip(&workbook_bytes(&[table]).unwrap());
    assert_eq!(
        parts["xl/worksheets/sheet1.xml"].matches('字').count(),
        MAX_CELL_TEXT
    );
}

#[test]
fn odd_cells_and_rows_still_give_a_sound_grid() {
    let mut writer = XlsxWriter::new(Vec::new());
    assert!(writer.row(&[Cell::Int(1)]).is_err(), "no sheet yet");
    let columns = [
        Column::new("a", "", ColumnKind::Text),
        Column::new("b", "", ColumnKind::Money),
    ];
    writer.start_sheet("t", "", &columns).unwrap();
    writer.row(&[Cell::Text("short".into())]).unwrap();
    writer
        .row(&[
            Cell::Number(f64::NAN),
            Cell::Number(-0.0),
            Cell::Number(1e21),
        ])
        .unwrap();
    writer.totals(&[]).unwrap();
    assert!(writer.row(&[]).is_err(), "no rows after the totals");
    let parts = unzip(&writer.finish().unwrap());
    let sheet = &parts["xl/worksheets/sheet1.xml"];
    assert!(sheet.contains(r#"<c r="B3" s="7"/></row>"#), "padded");
    assert!(sheet.contains(r#"<c r="A4" s="5"/><c r="B4" s="7"><v>0</v></c>"#));
    assert!(sheet.contains(r#"<c r="C4" s="5"><v>1000000000000000000000</v></c>"#));
    assert!(sheet.contains(r#"<row r="5"><c r="A5" s="10"/><c r="B5" s="12"/></row>"#));
}

#[test]
fn rows_past_excels_last_row_are_refused() {
    let mut writer = XlsxWriter::new(io::sink());
    writer
        .start_sheet("t", "", &[Column::new("a", "", ColumnKind::Count)])
        .unwrap();
    assert_eq!(
        writer.rows_left(),
        MAX_ROWS - 2,
        "title and header rows are taken"
    );
    writer.open.as_mut().unwrap().next_row = MAX_ROWS;
    assert_eq!(writer.rows_left(), 1);
    writer.row(&[Cell::Int(1)]).unwrap();
    assert_eq!(writer.rows_left(), 0);
    let error = writer.row(&[Cell::Int(1)]).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn sizes_past_four_gib_are_an_error_not_a_corrupt_file() {
    assert_eq!(fits_u32(u32::MAX as u64, "size").unwrap(), u32::MAX);
    assert!(fits_u32(u32::MAX as u64 + 1, "size").is_err());
}

#[test]
fn widths_count_cjk_twice_and_fit_the_cells() {
    assert_eq!(text_width("ab"), 2.0);
    assert_eq!(text_width("社会（个）"), 10.0);
    assert_eq!(column_letters(0), "A");
    assert_eq!(column_letters(25), "Z");
    assert_eq!(column_letters(26), "AA");
    assert_eq!(column_letters(MAX_COLUMNS - 1), "XFD");
    let mut table = sample();
    table.rows[0][0] = Cell::Text("中华人民共和国民政部社会组织管理局".into());
    table.rows[0][1] = Cell::Int(1_234_567_890);
    let widths = column_widths(&table);
    assert_eq!(widths[0], 36.0, "17 CJK characters and padding");
    assert_eq!(widths[1], 15.0, "1,234,567,890 and padding");
    assert!((widths[4] - 14.1).abs() < 1e-9, "the header 合格率（%）");
    table.rows[0][0] = Cell::Text("字".repeat(100));
    assert_eq!(column_widths(&table)[0], MAX_WIDTH);
    let long = Column::new("这是一个非常非常非常长的列名", "个", ColumnKind::Count);
    assert_eq!(header_width(&long), MAX_HEADER_WIDTH, "wraps instead");
    assert_eq!(header_lines(&long, MAX_HEADER_WIDTH), 2);
    assert_eq!(header_lines(&long, 10.0), 5);
    assert_eq!(header_lines(&sample().columns[3], 19.6), 1);
    let mut writer = XlsxWriter::new(Vec::new());
    writer.start_sheet("", "", &[long]).unwrap();
    let parts = unzip(&writer.finish().unwrap());
    assert!(
        parts["xl/worksheets/sheet1.xml"].contains(r#"<row r="1" ht="33.00" customHeight="1">"#)
    );
}

/// A sink that counts what it is given and keeps only the last bytes.
struct CountingSink {
    bytes: u64,
    tail: Vec<u8>,
}

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes += buf.len() as u64;
        self.tail
            .extend_from_slice(&buf[buf.len().saturating_sub(22)..]);
        let cut = self.tail.len().saturating_sub(22);
        self.tail.drain(..cut);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_long_sheet_streams_through_without_being_held() {
    const ROWS: i64 = 200_000;
    let started = std::time::Instant::now();
    let mut writer = XlsxWriter::new(CountingSink {
        bytes: 0,
        tail: Vec::new(),
    });
    let columns = sample().columns;
    writer.start_sheet("登记", "流式导出", &columns).unwrap();
    let mut row = Vec::with_capacity(columns.len());
    for i in 0..ROWS {
        row.clear();
        row.extend([
            Cell::Text(format!("社会组织{i}")),
            Cell::Int(i),
            Cell::Number(i as f64 * 1.25),
            Cell::Number((i % 100) as f64 / 10.0),
            Cell::Number((i % 1000) as f64 / 1000.0),
        ]);
        writer.row(&row).unwrap();
    }
    writer.totals(&[Cell::Text("合计".into())]).unwrap();
    let sink = writer.finish().unwrap();
    let end = &sink.tail;
    assert_eq!(&end[..4], &0x0605_4b50_u32.to_le_bytes(), "end record last");
    assert_eq!(u16::from_le_bytes([end[10], end[11]]), 8, "entries");
    let directory_end = u32::from_le_bytes(end[12..16].try_into().unwrap()) as u64
        + u32::from_le_bytes(end[16..20].try_into().unwrap()) as u64;
    assert_eq!(directory_end + 22, sink.bytes);
    eprintln!(
        "{ROWS} rows: {} bytes in {:?}",
        sink.bytes,
        started.elapsed()
    );
    assert!(sink.bytes > 1_000_000, "{}", sink.bytes);
}
