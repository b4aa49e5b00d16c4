//! Excel workbooks (.xlsx) written as a stream: [`XlsxWriter`] takes sheets row by row and
//! deflates each sheet's XML straight into the output, so memory stays flat however many rows
//! come (导出 of up to a million rows); [`write_workbook`] and [`workbook_bytes`] write whole
//! [`Table`]s (统计报表) through it.
//!
//! A workbook is a ZIP container of XML parts. The container is written by `ZipWriter` ([`super::zip`]),
//! strictly forward (no seeking, so the output may be an HTTP body): each entry's sizes and CRC
//! follow its data in a data descriptor, and the central directory closes the file. The sheets
//! come first, as they are streamed; the parts that list them (workbook, relationships, content
//! types) are written at [`XlsxWriter::finish`].
//!
//! Each sheet: the table's title (bold, larger), its note (grey, italic), a header row (bold,
//! light fill, borders, wrapped) with frozen panes below it, the rows with real numbers under
//! number formats, and the totals row (bold, heavier top border). Text is written as inline
//! strings (no shared-strings table, which would have to be held in memory until the end).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::zip::ZipWriter;
use super::{Cell, Column, ColumnKind, Table};

/// Excel's last row (1,048,576): a sheet longer than that does not open.
const MAX_ROWS: u32 = 1 << 20;
/// Excel's last column (XFD).
const MAX_COLUMNS: usize = 1 << 14;
/// Excel's longest cell text, in UTF-16 units; longer text makes Excel "repair" the file.
const MAX_CELL_TEXT: usize = 32_767;
/// Excel's longest sheet name, in UTF-16 units.
const MAX_SHEET_NAME: usize = 31;
/// Sheet XML gathered before it is handed to the deflater (bounds memory, batches small writes).
const FLUSH_AT: usize = 64 * 1024;
/// Widest column (in widths of the digit 0) that widths computed from the cells give.
const MAX_WIDTH: f64 = 60.0;
/// The height of a line of 11-point text, in points.
const LINE_HEIGHT: f64 = 14.25;
/// Widest column that a header alone asks for: longer headers wrap onto more lines.
const MAX_HEADER_WIDTH: f64 = 24.0;

// Cell style ids (indexes into cellXfs of styles.xml, see `STYLES`).
const STYLE_TITLE: u32 = 1;
const STYLE_TITLE_CENTERED: u32 = 2;
const STYLE_NOTE: u32 = 3;
const STYLE_HEADER: u32 = 4;
/// Body cells: this plus [`kind_offset`] of the column's kind.
const STYLE_BODY: u32 = 5;
/// Totals cells: this plus [`kind_offset`] of the column's kind.
const STYLE_TOTALS: u32 = 10;

/// The position of a kind's style among the five body (and five totals) styles.
fn kind_offset(kind: ColumnKind) -> u32 {
    match kind {
        // General numbers take the text style: its number format is Excel's General (id 0).
        ColumnKind::Text | ColumnKind::General => 0,
        ColumnKind::Count => 1,
        ColumnKind::Money => 2,
        ColumnKind::Decimal => 3,
        ColumnKind::Percent => 4,
    }
}

/// styles.xml: fonts 0 normal, 1 title, 2 note, 3 bold; fills 2 header; borders 1 thin,
/// 2 thin with a medium top (totals); number formats 164 count, 165 money, 166 decimal,
/// 167 percent (declared even where Excel has a built-in twin, so every reader sees the code).
const STYLES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\n",
    r#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    r#"<numFmts count="4">"#,
    r##"<numFmt numFmtId="164" formatCode="#,##0"/>"##,
    r##"<numFmt numFmtId="165" formatCode="#,##0.00"/>"##,
    r##"<numFmt numFmtId="166" formatCode="#,##0.0"/>"##,
    r##"<numFmt numFmtId="167" formatCode="0.0%"/>"##,
    r#"</numFmts>"#,
    r#"<fonts count="4">"#,
    r#"<font><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font>"#,
    r#"<font><b/><sz val="14"/><name val="宋体"/><family val="3"/><charset val="134"/></font>"#,
    r#"<font><i/><sz val="10"/><color rgb="FF707070"/><name val="宋体"/><family val="3"/><charset val="134"/></font>"#,
    r#"<font><b/><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font>"#,
    r#"</fonts>"#,
    r#"<fills count="3">"#,
    r#"<fill><patternFill patternType="none"/></fill>"#,
    r#"<fill><patternFill patternType="gray125"/></fill>"#,
    r#"<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>"#,
    r#"</fills>"#,
    r#"<borders count="3">"#,
    r#"<border><left/><right/><top/><bottom/><diagonal/></border>"#,
    r#"<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>"#,
    r#"<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border>"#,
    r#"<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>"#,
    r#"<top style="medium"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border>"#,
    r#"</borders>"#,
    r#"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#,
    r#"<cellXfs count="15">"#,
    // 0 default
    r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>"#,
    // 1 title, 2 title centred over the table
    r#"<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment vertical="center"/></xf>"#,
    r#"<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment horizontal="center" vertical="center"/></xf>"#,
    // 3 note
    r#"<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>"#,
    // 4 header
    r#"<xf numFmtId="0" fontId="3" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center" vertical="center" wrapText="1"/></xf>"#,
    // 5–9 body: text, count, money, decimal, percent
    r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1"><alignment vertical="center"/></xf>"#,
    r#"<xf numFmtId="164" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>"#,
    r#"<xf numFmtId="165" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>"#,
    r#"<xf numFmtId="166" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>"#,
    r#"<xf numFmtId="167" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" applyBorder="1"/>"#,
    // 10–14 totals: the same, bold, with the heavier top border
    r#"<xf numFmtId="0" fontId="3" fillId="0" borderId="2" xfId="0" applyFont="1" applyBorder="1" applyAlignment="1"><alignment vertical="center"/></xf>"#,
    r#"<xf numFmtId="164" fontId="3" fillId="0" borderId="2" xfId="0" applyNumberFormat="1" applyFont="1" applyBorder="1"/>"#,
    r#"<xf numFmtId="165" fontId="3" fillId="0" borderId="2" xfId="0" applyNumberFormat="1" applyFont="1" applyBorder="1"/>"#,
    r#"<xf numFmtId="166" fontId="3" fillId="0" borderId="2" xfId="0" applyNumberFormat="1" applyFont="1" applyBorder="1"/>"#,
    r#"<xf numFmtId="167" fontId="3" fillId="0" borderId="2" xfId="0" applyNumberFormat="1" applyFont="1" applyBorder="1"/>"#,
    r#"</cellXfs>"#,
    r#"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>"#,
    r#"<dxfs count="0"/><tableStyles count="0"/>"#,
    r#"</styleSheet>"#,
);

const XML_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
const NS_MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const NS_REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const NS_PKG_REL: &str = "http://schemas.openxmlformats.org/package/2006/relationships";

/// _rels/.rels: where the workbook and the document properties are. Written first, so that
/// tools which sniff the first entries (`file`, some mail filters) see an Office document.
const ROOT_RELS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>"#,
    r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>"#,
    r#"<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>"#,
    r#"</Relationships>"#,
);

/// docProps/app.xml: the minimum (Excel's and WPS's property dialogs read it).
const APP_PROPS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    r#"<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" "#,
    r#"xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">"#,
    r#"<Application>shezu</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"#,
    r#"</Properties>"#,
);

/// A streaming workbook writer (流式 Excel 写入器): sheets are started one after another, rows
/// are written as they come, and [`XlsxWriter::finish`] closes the file.
///
/// Memory does not grow with the number of rows. If any call fails the output is unusable and
/// every later call fails too; dropping the writer without `finish` leaves a truncated file.
pub struct XlsxWriter<W: Write> {
    zip: ZipWriter<W>,
    /// Sheets written or being written, in order.
    sheets: Vec<SheetEntry>,
    /// Lower-cased names in use (Excel compares sheet names without case).
    taken: Vec<String>,
    /// The sheet being written.
    open: Option<OpenSheet>,
    /// Whether _rels/.rels is already out.
    started: bool,
    /// The first sheet's title, for the document properties.
    doc_title: Option<String>,
}

/// A sheet as the workbook lists it.
struct SheetEntry {
    name: String,
    /// The header row (repeated on every printed page).
    header_row: u32,
}

/// The state of the sheet being written.
struct OpenSheet {
    kinds: Vec<ColumnKind>,
    /// Column letters (A, B, …, AA, …), computed once.
    letters: Vec<String>,
    /// The next row's number (1-based).
    next_row: u32,
    /// Whether the totals row is written (it is the last row).
    totals_done: bool,
    /// The title's merged range, written after the rows.
    merge: Option<String>,
    /// Drop-down lists (range, source reference, error text), written after the rows.
    validations: Vec<(String, String, String)>,
    /// XML not yet handed to the deflater.
    buf: String,
}

impl<W: Write> XlsxWriter<W> {
    /// A writer onto `out`; nothing is written until the first sheet starts.
    pub fn new(out: W) -> XlsxWriter<W> {
        XlsxWriter {
            zip: ZipWriter::new(out),
            sheets: Vec::new(),
            taken: Vec::new(),
            open: None,
            started: false,
            doc_title: None,
        }
    }

    /// Starts a sheet titled `title` (its name is derived from it), with `note` under the title
    /// and a header row of `columns`; widths come from the headers and the kinds (for streams,
    /// where the rows are not known yet). Closes the sheet before, if any.
    pub fn start_sheet(&mut self, title: &str, note: &str, columns: &[Column]) -> io::Result<()> {
        self.start_sheet_with_widths(title, note, columns, &[])
    }

    /// [`XlsxWriter::start_sheet`] with the columns' widths (in widths of the digit 0) given;
    /// columns past the end of `widths` get the width their header asks for.
    pub fn start_sheet_with_widths(
        &mut self,
        title: &str,
        note: &str,
        columns: &[Column],
        widths: &[f64],
    ) -> io::Result<()> {
        self.start_named_sheet(title, title, note, columns, widths)
    }

    /// [`XlsxWriter::start_sheet_with_widths`] with the sheet's name (工作表名) derived from
    /// `name` rather than the title; an empty title and note put the header in row 1 (as an
    /// import template needs).
    pub fn start_named_sheet(
        &mut self,
        name: &str,
        title: &str,
        note: &str,
        columns: &[Column],
        widths: &[f64],
    ) -> io::Result<()> {
        if columns.len() > MAX_COLUMNS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("xlsx: {} columns, Excel takes {MAX_COLUMNS}", columns.len()),
            ));
        }
        self.end_sheet()?;
        self.start()?;
        let index = self.sheets.len() + 1;
        let name = sheet_name(name, index, &self.taken);
        self.taken.push(name.to_lowercase());
        if self.doc_title.is_none() {
            self.doc_title = Some(title.to_owned());
        }
        let widths: Vec<f64> = columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                widths
                    .get(i)
                    .copied()
                    .filter(|w| w.is_finite() && *w > 0.0)
                    .map_or_else(|| header_width(column), |w| w.min(255.0))
            })
            .collect();
        let letters: Vec<String> = (0..columns.len()).map(column_letters).collect();

        let mut row = 1;
        let title_row = (!title.trim().is_empty()).then(|| post_inc(&mut row));
        let note_row = (!note.trim().is_empty()).then(|| post_inc(&mut row));
        let header_row = row;
        // A title that fits over the table is centred over it; a longer one stays unmerged and
        // flows to the right (text in a merged range would be cut at its edge).
        let title_fits = text_width(title) * 1.4 + 2.0 <= widths.iter().sum::<f64>();
        let merge = match title_row {
            Some(r) if columns.len() > 1 && title_fits => {
                Some(format!("A{r}:{}{r}", letters[letters.len() - 1]))
            }
            _ => None,
        };

        let mut x = String::with_capacity(FLUSH_AT + 4096);
        x.push_str(XML_HEAD);
        let _ = write!(
            x,
            r#"<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>"#
        );
        let selected = if index == 1 {
            r#" tabSelected="1""#
        } else {
            ""
        };
        let top = header_row + 1;
        let _ = write!(
            x,
            r#"<sheetViews><sheetView workbookViewId="0"{selected}><pane ySplit="{header_row}" topLeftCell="A{top}" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A{top}" sqref="A{top}"/></sheetView></sheetViews>"#
        );
        x.push_str(r#"<sheetFormatPr defaultRowHeight="14.25"/>"#);
        if !widths.is_empty() {
            x.push_str("<cols>");
            for (i, w) in widths.iter().enumerate() {
                let n = i + 1;
                let _ = write!(
                    x,
                    r#"<col min="{n}" max="{n}" width="{:.2}" customWidth="1"/>"#,
                    w
                );
            }
            x.push_str("</cols>");
        }
        x.push_str("<sheetData>");
        if let Some(r) = title_row {
            let style = if merge.is_some() {
                STYLE_TITLE_CENTERED
            } else {
                STYLE_TITLE
            };
            let _ = write!(x, r#"<row r="{r}" ht="24" customHeight="1">"#);
            push_text_cell(&mut x, &format!("A{r}"), style, title);
            x.push_str("</row>");
        }
        if let Some(r) = note_row {
            let _ = write!(x, r#"<row r="{r}">"#);
            push_text_cell(&mut x, &format!("A{r}"), STYLE_NOTE, note);
            x.push_str("</row>");
        }
        if !columns.is_empty() {
            // The row's height is set for the lines the longest header wraps onto: not every
            // reader fits a row to wrapped text by itself (LibreOffice did not).
            let lines = columns
                .iter()
                .zip(&widths)
                .map(|(column, width)| header_lines(column, *width))
                .max()
                .unwrap_or(1);
            let _ = write!(
                x,
                r#"<row r="{header_row}" ht="{:.2}" customHeight="1">"#,
                LINE_HEIGHT * lines as f64 + 4.5
            );
            for (column, letter) in columns.iter().zip(&letters) {
                push_text_cell(
                    &mut x,
                    &format!("{letter}{header_row}"),
                    STYLE_HEADER,
                    &column.header(),
                );
            }
            x.push_str("</row>");
        }

        let path = format!("xl/worksheets/sheet{index}.xml");
        self.zip.begin(&path)?;
        self.sheets.push(SheetEntry { name, header_row });
        self.open = Some(OpenSheet {
            kinds: columns.iter().map(|c| c.kind).collect(),
            letters,
            next_row: header_row + 1,
            totals_done: false,
            merge,
            validations: Vec::new(),
            buf: x,
        });
        self.flush_sheet(false)
    }

    /// The name of the open (or last) sheet, for references to it from other sheets.
    pub fn current_sheet_name(&self) -> Option<&str> {
        self.sheets.last().map(|s| s.name.as_str())
    }

    /// Adds a drop-down (数据有效性, a list validation) to the open sheet: the cells of `range`
    /// (such as `C2:C1048576`) accept only the values of `source` (a reference such as
    /// `'字典'!$A$2:$A$9`); `error` is what Excel says to a value not on the list.
    pub fn list_validation(&mut self, range: &str, source: &str, error: &str) -> io::Result<()> {
        let Some(sheet) = self.open.as_mut() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "xlsx: a validation before any sheet",
            ));
        };
        sheet
            .validations
            .push((range.to_owned(), source.to_owned(), error.to_owned()));
        Ok(())
    }

    /// Writes a row of the open sheet, each cell formatted by its column's kind.
    pub fn row(&mut self, cells: &[Cell]) -> io::Result<()> {
        self.body_row(cells, STYLE_BODY)
    }

    /// How many more rows the open sheet takes before Excel's last row (0 with no sheet open
    /// or after the totals row): a long stream starts its next sheet when this reaches 0.
    pub fn rows_left(&self) -> u32 {
        match &self.open {
            Some(sheet) if !sheet.totals_done => (MAX_ROWS + 1).saturating_sub(sheet.next_row),
            _ => 0,
        }
    }

    /// Writes the totals row (合计) of the open sheet: bold, under a heavier line; the sheet
    /// takes no rows after it.
    pub fn totals(&mut self, cells: &[Cell]) -> io::Result<()> {
        self.body_row(cells, STYLE_TOTALS)?;
        if let Some(sheet) = self.open.as_mut() {
            sheet.totals_done = true;
        }
        Ok(())
    }

    /// Closes the open sheet and writes the parts that list the sheets, the document properties
    /// and the ZIP directory; returns the output. A workbook with no sheet gets an empty one
    /// (Excel refuses a workbook without sheets).
    pub fn finish(mut self) -> io::Result<W> {
        if self.sheets.is_empty() {
            self.start_sheet("", "", &[])?;
        }
        self.end_sheet()?;
        self.zip
            .add("docProps/core.xml", self.core_props().as_bytes())?;
        self.zip.add("docProps/app.xml", APP_PROPS.as_bytes())?;
        self.zip
            .add("xl/workbook.xml", self.workbook_xml().as_bytes())?;
        self.zip.add(
            "xl/_rels/workbook.xml.rels",
            self.workbook_rels().as_bytes(),
        )?;
        self.zip.add("xl/styles.xml", STYLES.as_bytes())?;
        self.zip
            .add("[Content_Types].xml", self.content_types().as_bytes())?;
        self.zip.finish()
    }

    /// Writes _rels/.rels once, before the first sheet.
    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            self.zip.add("_rels/.rels", ROOT_RELS.as_bytes())?;
            self.started = true;
        }
        Ok(())
    }

    fn body_row(&mut self, cells: &[Cell], base: u32) -> io::Result<()> {
        let Some(sheet) = self.open.as_mut() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "xlsx: a row before any sheet",
            ));
        };
        if sheet.totals_done {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "xlsx: a row after the totals row",
            ));
        }
        if sheet.next_row > MAX_ROWS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("xlsx: more than {MAX_ROWS} rows in a sheet"),
            ));
        }
        let r = sheet.next_row;
        sheet.next_row += 1;
        let x = &mut sheet.buf;
        let _ = write!(x, r#"<row r="{r}">"#);
        // Short rows are padded with empty cells so the grid's borders stay whole.
        let width = cells.len().max(sheet.kinds.len());
        for i in 0..width {
            let kind = sheet.kinds.get(i).copied().unwrap_or(ColumnKind::Text);
            let style = base + kind_offset(kind);
            let letter = match sheet.letters.get(i) {
                Some(l) => l.as_str(),
                None if i < MAX_COLUMNS => &column_letters(i),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("xlsx: a row of {} cells", cells.len()),
                    ));
                }
            };
            match cells.get(i).unwrap_or(&Cell::Empty) {
                Cell::Empty => {
                    let _ = write!(x, r#"<c r="{letter}{r}" s="{style}"/>"#);
                }
                Cell::Text(s) | Cell::Link(s, _) => {
                    push_text_cell(x, &format!("{letter}{r}"), style, s);
                }
                Cell::Int(n) => {
                    let _ = write!(x, r#"<c r="{letter}{r}" s="{style}"><v>{n}</v></c>"#);
                }
                Cell::Number(v) if v.is_finite() => {
                    // `+ 0.0` turns -0 into 0; Display never uses an exponent, which
                    // xsd:double does not need but some readers choke on.
                    let v = v + 0.0;
                    let _ = write!(x, r#"<c r="{letter}{r}" s="{style}"><v>{v}</v></c>"#);
                }
                // NaN and infinities have no cell value in a workbook: left blank.
                Cell::Number(_) => {
                    let _ = write!(x, r#"<c r="{letter}{r}" s="{style}"/>"#);
                }
            }
        }
        x.push_str("</row>");
        self.flush_sheet(false)
    }

    /// Hands the gathered sheet XML to the deflater once there is enough of it (or `all` of it).
    fn flush_sheet(&mut self, all: bool) -> io::Result<()> {
        if let Some(sheet) = self.open.as_mut()
            && (all || sheet.buf.len() >= FLUSH_AT)
        {
            self.zip.write(sheet.buf.as_bytes())?;
            sheet.buf.clear();
        }
        Ok(())
    }

    /// Writes the open sheet's tail and closes its ZIP entry.
    fn end_sheet(&mut self) -> io::Result<()> {
        let Some(sheet) = self.open.as_mut() else {
            return Ok(());
        };
        let x = &mut sheet.buf;
        x.push_str("</sheetData>");
        if let Some(range) = &sheet.merge {
            let _ = write!(
                x,
                r#"<mergeCells count="1"><mergeCell ref="{range}"/></mergeCells>"#
            );
        }
        if !sheet.validations.is_empty() {
            let _ = write!(
                x,
                r#"<dataValidations count="{}">"#,
                sheet.validations.len()
            );
            for (range, source, error) in &sheet.validations {
                x.push_str(
                    r#"<dataValidation type="list" allowBlank="1" showErrorMessage="1" error=""#,
                );
                push_escaped(x, cut_utf16(error, 225), false);
                x.push_str(r#"" sqref=""#);
                push_escaped(x, range, false);
                x.push_str(r#""><formula1>"#);
                push_escaped(x, source, false);
                x.push_str("</formula1></dataValidation>");
            }
            x.push_str("</dataValidations>");
        }
        x.push_str(concat!(
            r#"<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>"#,
            // A4, all columns on the width of one page, as many pages down as needed.
            r#"<pageSetup paperSize="9" fitToWidth="1" fitToHeight="0" orientation="portrait"/>"#,
            // Page numbers as "3 / 12", in no language.
            r#"<headerFooter><oddFooter>&amp;C&amp;P / &amp;N</oddFooter></headerFooter>"#,
            "</worksheet>",
        ));
        self.flush_sheet(true)?;
        self.open = None;
        self.zip.end()
    }

    fn core_props(&self) -> String {
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        let mut x = String::from(XML_HEAD);
        x.push_str(concat!(
            r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" "#,
            r#"xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" "#,
            r#"xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
        ));
        if let Some(title) = self.doc_title.as_deref().filter(|t| !t.trim().is_empty()) {
            x.push_str("<dc:title>");
            push_escaped(&mut x, title, false);
            x.push_str("</dc:title>");
        }
        let _ = write!(
            x,
            concat!(
                "<dc:creator>shezu</dc:creator>",
                r#"<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>"#,
                r#"<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>"#,
                "</cp:coreProperties>"
            ),
            now = now
        );
        x
    }

    fn workbook_xml(&self) -> String {
        let mut x = String::from(XML_HEAD);
        let _ = write!(
            x,
            r#"<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><bookViews><workbookView activeTab="0"/></bookViews><sheets>"#
        );
        for (i, sheet) in self.sheets.iter().enumerate() {
            x.push_str(r#"<sheet name=""#);
            push_escaped(&mut x, &sheet.name, false);
            let _ = write!(x, r#"" sheetId="{n}" r:id="rId{n}"/>"#, n = i + 1);
        }
        x.push_str("</sheets><definedNames>");
        // The header row is printed at the top of every page.
        for (i, sheet) in self.sheets.iter().enumerate() {
            let _ = write!(
                x,
                r#"<definedName name="_xlnm.Print_Titles" localSheetId="{i}">"#
            );
            let reference = format!(
                "'{}'!${r}:${r}",
                sheet.name.replace('\'', "''"),
                r = sheet.header_row
            );
            push_escaped(&mut x, &reference, false);
            x.push_str("</definedName>");
        }
        x.push_str("</definedNames></workbook>");
        x
    }

    fn workbook_rels(&self) -> String {
        let mut x = String::from(XML_HEAD);
        let _ = write!(x, r#"<Relationships xmlns="{NS_PKG_REL}">"#);
        for i in 1..=self.sheets.len() {
            let _ = write!(
                x,
                r#"<Relationship Id="rId{i}" Type="{NS_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>"#
            );
        }
        let _ = write!(
            x,
            r#"<Relationship Id="rId{}" Type="{NS_REL}/styles" Target="styles.xml"/></Relationships>"#,
            self.sheets.len() + 1
        );
        x
    }

    fn content_types(&self) -> String {
        const OFFICE: &str = "application/vnd.openxmlformats-officedocument";
        let mut x = String::from(XML_HEAD);
        let _ = write!(
            x,
            concat!(
                r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
                r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#,
                r#"<Default Extension="xml" ContentType="application/xml"/>"#,
                r#"<Override PartName="/xl/workbook.xml" ContentType="{o}.spreadsheetml.sheet.main+xml"/>"#,
                r#"<Override PartName="/xl/styles.xml" ContentType="{o}.spreadsheetml.styles+xml"/>"#,
                r#"<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>"#,
                r#"<Override PartName="/docProps/app.xml" ContentType="{o}.extended-properties+xml"/>"#,
            ),
            o = OFFICE
        );
        for i in 1..=self.sheets.len() {
            let _ = write!(
                x,
                r#"<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{OFFICE}.spreadsheetml.worksheet+xml"/>"#
            );
        }
        x.push_str("</Types>");
        x
    }
}

/// Writes `tables` as one workbook, a sheet per table, to `out`.
pub fn write_workbook<W: Write>(tables: &[Table], out: W) -> io::Result<()> {
    let mut writer = XlsxWriter::new(out);
    for table in tables {
        writer.start_sheet_with_widths(
            &table.title,
            &table.note,
            &table.columns,
            &column_widths(table),
        )?;
        for row in &table.rows {
            writer.row(row)?;
        }
        if let Some(totals) = &table.totals {
            writer.totals(totals)?;
        }
    }
    writer.finish()?;
    Ok(())
}

/// The workbook of `tables` in memory (for a download of a report).
pub fn workbook_bytes(tables: &[Table]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    write_workbook(tables, &mut out)?;
    Ok(out)
}

/// Column widths (列宽, in widths of the digit 0) fitting every cell of `table` as a page shows
/// it, its header (up to a width past which the header wraps) and its kind's least width.
pub fn column_widths(table: &Table) -> Vec<f64> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            table
                .all_rows()
                .filter_map(|row| row.get(i))
                .map(|cell| text_width(&cell.display(column.kind)) + 2.0)
                .fold(header_width(column), f64::max)
                .min(MAX_WIDTH)
        })
        .collect()
}

/// The width a column gets from its header and kind alone: the header on one line up to
/// [`MAX_HEADER_WIDTH`] (bold, so a tenth wider), and at least room for typical figures.
fn header_width(column: &Column) -> f64 {
    let least = match column.kind {
        ColumnKind::Text => 12.0,
        ColumnKind::Count => 10.0,
        ColumnKind::Money => 14.0,
        ColumnKind::Decimal => 10.0,
        ColumnKind::Percent => 9.0,
        ColumnKind::General => 12.0,
    };
    (text_width(&column.header()) * 1.1 + 2.0)
        .min(MAX_HEADER_WIDTH)
        .max(least)
}

/// How many lines the header of `column` takes in a column `width` wide (bold text, and a
/// cell's margins take about one and a half widths of the digit 0).
fn header_lines(column: &Column, width: f64) -> u32 {
    let room = (width - 1.5).max(1.0);
    ((text_width(&column.header()) * 1.1 / room).ceil() as u32).clamp(1, 10)
}

/// The width of `text` in widths of the digit 0: CJK and other full-width characters take two.
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| if is_wide(c) { 2.0 } else { 1.0 })
        .sum()
}

/// Whether `c` is East Asian wide or full-width (汉字, kana, hangul, full-width forms).
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// `0` → `A`, `25` → `Z`, `26` → `AA`.
fn column_letters(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

fn post_inc(n: &mut u32) -> u32 {
    *n += 1;
    *n - 1
}

/// A sheet name (工作表名) from `title` that Excel accepts and that is not in `taken`
/// (lower-cased): no `[]:*?/\` (each becomes `_`) nor characters XML forbids, no apostrophe at
/// either end, at most 31 characters, never empty (`Sheet{index}`), and unique without case
/// (a repeat gets ` (2)`, ` (3)`…, the name cut to leave room).
fn sheet_name(title: &str, index: usize, taken: &[String]) -> String {
    let cleaned: String = title
        .chars()
        .filter(|c| xml_allowed(*c) && !c.is_control())
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let mut base = cleaned.trim().trim_matches('\'').trim().to_owned();
    if base.is_empty() {
        base = format!("Sheet{index}");
    }
    let base = cut_utf16(&base, MAX_SHEET_NAME);
    // Excel reserves "History" (for change tracking).
    let used = |name: &str| {
        let lower = name.to_lowercase();
        lower == "history" || taken.contains(&lower)
    };
    if !used(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| {
            let suffix = format!("({n})");
            let room = MAX_SHEET_NAME - suffix.len();
            format!("{}{suffix}", cut_utf16(base, room).trim_end())
        })
        .find(|name| !used(name))
        .unwrap_or_default()
}

/// The longest prefix of `s` that is at most `units` UTF-16 units long (Excel's measure).
fn cut_utf16(s: &str, units: usize) -> &str {
    let mut used = 0;
    for (at, c) in s.char_indices() {
        used += c.len_utf16();
        if used > units {
            return &s[..at];
        }
    }
    s
}

/// Whether XML 1.0 allows `c` in a document (Rust chars are never surrogates).
fn xml_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..) && c != '\u{FFFE}'
}

/// An inline-string cell at `at` in `style` holding `text` (an empty text gives a blank cell).
///
/// Text that starts with `=`, `+`, `-` or `@` is written as it is: an inline string is never
/// evaluated as a formula (formulas live in `<f>`), so unlike CSV nothing needs defusing.
fn push_text_cell(x: &mut String, at: &str, style: u32, text: &str) {
    if text.is_empty() {
        let _ = write!(x, r#"<c r="{at}" s="{style}"/>"#);
        return;
    }
    let text = cut_utf16(text, MAX_CELL_TEXT);
    let _ = write!(x, r#"<c r="{at}" s="{style}" t="inlineStr"><is>"#);
    // Without xml:space="preserve" readers drop leading and trailing blanks.
    let edges = |c: Option<char>| c.is_some_and(char::is_whitespace);
    if edges(text.chars().next()) || edges(text.chars().next_back()) {
        x.push_str(r#"<t xml:space="preserve">"#);
    } else {
        x.push_str("<t>");
    }
    push_escaped(x, text, true);
    x.push_str("</t></is></c>");
}

/// Appends `text` escaped for XML text or attributes: `&<>"'` as entities, characters XML 1.0
/// forbids dropped, a carriage return kept as `&#13;` (a parser would turn a bare one into a
/// line feed). With `cell_text`, an underscore that starts something like `_x0041_` is written
/// `_x005F_`, because Excel reads `_xHHHH_` in cell text as an escaped character.
fn push_escaped(x: &mut String, text: &str, cell_text: bool) {
    for (at, c) in text.char_indices() {
        match c {
            '&' => x.push_str("&amp;"),
            '<' => x.push_str("&lt;"),
            '>' => x.push_str("&gt;"),
            '"' => x.push_str("&quot;"),
            '\'' => x.push_str("&apos;"),
            '\r' => x.push_str("&#13;"),
            '_' if cell_text && is_excel_escape(&text[at..]) => x.push_str("_x005F_"),
            c if xml_allowed(c) => x.push(c),
            _ => {}
        }
    }
}

/// Whether `s` starts with `_xHHHH_` (Excel's escape of a character in cell text).
fn is_excel_escape(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 7 && b[1] == b'x' && b[2..6].iter().all(u8::is_ascii_hexdigit) && b[6] == b'_'
}

#[cfg(test)]
#[path = "xlsx_tests.rs"]
mod tests;
