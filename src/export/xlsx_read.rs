//! Reading Excel workbooks (读取 .xlsx): the first worksheet as records (row number and cells
//! as text), for imports. The sheet's XML is inflated and scanned as a stream straight from the
//! file, so memory does not grow with the number of rows; what is held is the ZIP directory,
//! the shared-strings table (Excel puts every text there, so it grows with the distinct texts,
//! capped at [`Limits::max_shared_strings`]) and the date styles.
//!
//! Cells come out as an import wants them: shared and inline strings as written (Excel's
//! `_xHHHH_` escapes decoded), whole numbers without `.0`, other numbers to 15 significant
//! digits (what Excel shows), numbers in date-formatted cells as `YYYY-MM-DD`, booleans as
//! `true`/`false`, formulas by their cached value; blanks by the position their column letter
//! gives. A file that is not a workbook, a zip bomb (an entry whose declared size or whose
//! ratio to its compressed size is past the limits, or that inflates past its declared size)
//! and a damaged entry (CRC) are [`XlsxError`]s wrapped in `io::Error`, never a panic.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use flate2::Crc;

use crate::i18n::{Lang, Msg};

/// How much a workbook may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest inflated size of the worksheet XML.
    pub max_sheet_bytes: u64,
    /// Largest inflated size of each other part read (shared strings, styles, workbook).
    pub max_shared_strings: u64,
    /// Largest ratio of inflated to compressed size for an entry past [`RATIO_FLOOR`] bytes.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // A million rows of twenty columns in Excel's XML is about 1.5 GB.
            max_sheet_bytes: 2 << 30,
            max_shared_strings: 256 << 20,
            // Sheet XML compresses 8–30 times; sparse sheets of styled blanks a little more.
            max_ratio: 200,
        }
    }
}

/// Entries smaller than this (inflated) are not held to the ratio: they are harmless.
pub const RATIO_FLOOR: u64 = 1 << 20;

/// Why a workbook could not be read, as a catalogue message.
#[derive(Debug)]
pub struct XlsxError(pub Msg);

impl std::fmt::Display for XlsxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.render(Lang::Zh))
    }
}

impl std::error::Error for XlsxError {}

/// An `io::Error` carrying the message `key` (with `args`).
fn fail(key: &'static str) -> io::Error {
    fail_with(Msg::new(key))
}

/// [`fail`] with a message that carries details.
fn fail_with(msg: Msg) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, XlsxError(msg))
}

/// The last row a worksheet can have (Excel 2007 and later, WPS).
const MAX_ROW: u64 = 1 << 20;

/// The catalogue message inside `e`, if it came from this reader.
pub fn error_message(e: &io::Error) -> Option<&Msg> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<XlsxError>())
        .map(|x| &x.0)
}

/// Whether `head` (the first bytes of a file) starts a ZIP archive, as every .xlsx does.
pub fn looks_like_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// An entry as the ZIP central directory lists it.
#[derive(Debug, Clone)]
struct Entry {
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    local: u64,
}

/// Reads the central directory of the archive `input` (name → entry).
fn directory<R: Read + Seek>(input: &mut R) -> io::Result<HashMap<String, Entry>> {
    let len = input.seek(SeekFrom::End(0))?;
    if len < 22 {
        return Err(fail("xlsx.error.not_xlsx"));
    }
    // The end record is the last 22 bytes plus a comment of up to 65,535.
    let tail_len = len.min(22 + 0xFFFF);
    input.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0; tail_len as usize];
    input.read_exact(&mut tail)?;
    let end = (0..=tail.len() - 22)
        .rev()
        .find(|&at| tail[at..at + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or_else(|| fail("xlsx.error.not_xlsx"))?;
    let count = u16le(&tail, end + 10)? as usize;
    let dir_size = u32le(&tail, end + 12)? as u64;
    let dir_start = u32le(&tail, end + 16)? as u64;
    if dir_size > 16 << 20 || dir_start + dir_size > len {
        return Err(fail("xlsx.error.damaged"));
    }
    input.seek(SeekFrom::Start(dir_start))?;
    let mut dir = vec![0; dir_size as usize];
    input.read_exact(&mut dir)?;
    let mut entries = HashMap::new();
    let mut at = 0;
    for _ in 0..count {
        if u32le(&dir, at)? != 0x0201_4b50 {
            return Err(fail("xlsx.error.damaged"));
        }
        let name_len = u16le(&dir, at + 28)? as usize;
        let skip = u16le(&dir, at + 30)? as usize + u16le(&dir, at + 32)? as usize;
        let name = dir
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| fail("xlsx.error.damaged"))?;
        entries.insert(
            String::from_utf8_lossy(name).into_owned(),
            Entry {
                method: u16le(&dir, at + 10)?,
                crc: u32le(&dir, at + 16)?,
                compressed: u32le(&dir, at + 20)? as u64,
                size: u32le(&dir, at + 24)? as u64,
                local: u32le(&dir, at + 42)? as u64,
            },
        );
        at += 46 + name_len + skip;
    }
    Ok(entries)
}

fn u16le(b: &[u8], at: usize) -> io::Result<u16> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| fail("xlsx.error.damaged"))
}

fn u32le(b: &[u8], at: usize) -> io::Result<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| fail("xlsx.error.damaged"))
}

/// An entry's inflated bytes as a stream: counted and checked against the declared size and
/// CRC, so a lying header cannot inflate past what the limits allowed.
struct EntryReader<R: Read> {
    inner: EntryData<R>,
    crc: Crc,
    read: u64,
    size: u64,
    expected_crc: u32,
}

enum EntryData<R: Read> {
    Stored(io::Take<R>),
    Deflated(flate2::read::DeflateDecoder<io::Take<R>>),
}

impl<R: Read> Read for EntryReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.inner {
            EntryData::Stored(r) => r.read(buf)?,
            EntryData::Deflated(r) => r.read(buf)?,
        };
        self.read += n as u64;
        if self.read > self.size {
            return Err(fail("xlsx.error.too_large"));
        }
        self.crc.update(&buf[..n]);
        if n == 0
            && !buf.is_empty()
            && (self.read != self.size || self.crc.sum() != self.expected_crc)
        {
            return Err(fail("xlsx.error.damaged"));
        }
        Ok(n)
    }
}

/// Opens the entry `entry` of `input` for reading, after checking it against `max` and the
/// ratio of `limits`.
fn open_entry<R: Read + Seek>(
    mut input: R,
    entry: &Entry,
    max: u64,
    limits: &Limits,
) -> io::Result<EntryReader<R>> {
    if entry.size > max
        || entry.size > RATIO_FLOOR && entry.size > entry.compressed.max(1) * limits.max_ratio
    {
        return Err(fail("xlsx.error.too_large"));
    }
    input.seek(SeekFrom::Start(entry.local))?;
    let mut header = [0u8; 30];
    input.read_exact(&mut header)?;
    if u32le(&header, 0)? != 0x0403_4b50 {
        return Err(fail("xlsx.error.damaged"));
    }
    let skip = u16le(&header, 26)? as i64 + u16le(&header, 28)? as i64;
    input.seek(SeekFrom::Current(skip))?;
    let data = input.take(entry.compressed);
    let inner = match entry.method {
        0 => EntryData::Stored(data),
        8 => EntryData::Deflated(flate2::read::DeflateDecoder::new(data)),
        _ => return Err(fail("xlsx.error.damaged")),
    };
    Ok(EntryReader {
        inner,
        crc: Crc::new(),
        read: 0,
        size: entry.size,
        expected_crc: entry.crc,
    })
}

/// A whole (small) entry as text.
fn read_part<R: Read + Seek>(
    input: &mut R,
    entries: &HashMap<String, Entry>,
    name: &str,
    limits: &Limits,
) -> io::Result<Option<String>> {
    let Some(entry) = entries.get(name) else {
        return Ok(None);
    };
    let mut reader = open_entry(&mut *input, entry, limits.max_shared_strings, limits)?;
    let mut out = Vec::with_capacity(entry.size.min(1 << 24) as usize);
    reader.read_to_end(&mut out)?;
    Ok(Some(String::from_utf8_lossy(&out).into_owned()))
}

/// One piece of XML as the scanner sees it.
#[derive(Debug, PartialEq)]
enum Token {
    /// `<name attrs…>` (names without their namespace prefix); `true` when self-closing.
    Start(String, Vec<(String, String)>, bool),
    /// `</name>`.
    End(String),
    /// Character data, entities decoded.
    Text(String),
}

/// Longest tag or text run the scanner holds (a cell's text is at most 32,767 characters).
const MAX_TOKEN: usize = 4 << 20;

/// A small pull scanner for the flat XML of workbook parts: tags, attributes and text; comments,
/// processing instructions and declarations are skipped, CDATA is text.
struct Scanner<R: BufRead> {
    input: R,
    buf: Vec<u8>,
    /// The `<` that ended the last text run was consumed with it.
    pending_lt: bool,
}

impl<R: BufRead> Scanner<R> {
    fn new(input: R) -> Scanner<R> {
        Scanner {
            input,
            buf: Vec::new(),
            pending_lt: false,
        }
    }

    /// Reads up to and including `stop` into `buf` (appending), within [`MAX_TOKEN`].
    fn read_until(&mut self, stop: u8) -> io::Result<bool> {
        let before = self.buf.len();
        (&mut self.input)
            .take(MAX_TOKEN as u64)
            .read_until(stop, &mut self.buf)?;
        if self.buf.len() >= MAX_TOKEN {
            return Err(fail("xlsx.error.damaged"));
        }
        Ok(self.buf.len() > before && self.buf.last() == Some(&stop))
    }

    /// The next token, or `None` at the end.
    fn next(&mut self) -> io::Result<Option<Token>> {
        loop {
            self.buf.clear();
            if !self.pending_lt {
                let first = match self.input.fill_buf()?.first() {
                    None => return Ok(None),
                    Some(b) => *b,
                };
                if first != b'<' {
                    if self.read_until(b'<')? {
                        self.buf.pop();
                        self.pending_lt = true;
                    }
                    return Ok(Some(Token::Text(decode_entities(&self.buf))));
                }
                self.input.consume(1);
            }
            self.pending_lt = false;
            self.buf.clear();
            if !self.read_until(b'>')? {
                return Err(fail("xlsx.error.damaged"));
            }
            match self.buf.first() {
                Some(b'?') => {
                    while !self.buf.ends_with(b"?>") {
                        if !self.read_until(b'>')? {
                            return Err(fail("xlsx.error.damaged"));
                        }
                    }
                }
                Some(b'!') if self.buf.starts_with(b"![CDATA[") => {
                    while !self.buf.ends_with(b"]]>") {
                        if !self.read_until(b'>')? {
                            return Err(fail("xlsx.error.damaged"));
                        }
                    }
                    let inner = &self.buf[8..self.buf.len() - 3];
                    return Ok(Some(Token::Text(
                        String::from_utf8_lossy(inner).into_owned(),
                    )));
                }
                Some(b'!') => {
                    if self.buf.starts_with(b"!--") {
                        while !self.buf.ends_with(b"-->") {
                            if !self.read_until(b'>')? {
                                return Err(fail("xlsx.error.damaged"));
                            }
                        }
                    }
                }
                Some(b'/') => {
                    let name = &self.buf[1..self.buf.len() - 1];
                    let name = String::from_utf8_lossy(name);
                    return Ok(Some(Token::End(local(name.trim()).to_owned())));
                }
                _ => {
                    // A `>` inside a quoted attribute value does not end the tag.
                    while in_quotes(&self.buf) {
                        if !self.read_until(b'>')? {
                            return Err(fail("xlsx.error.damaged"));
                        }
                    }
                    return Ok(Some(parse_start(&self.buf[..self.buf.len() - 1])));
                }
            }
        }
    }
}

/// Whether `tag` ends inside a quoted attribute value.
fn in_quotes(tag: &[u8]) -> bool {
    let mut quote = None;
    for &b in tag {
        match quote {
            Some(q) if b == q => quote = None,
            None if b == b'"' || b == b'\'' => quote = Some(b),
            _ => {}
        }
    }
    quote.is_some()
}

/// A name without its namespace prefix (`x:row` → `row`).
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// A start tag's text (between `<` and `>`) as a token.
fn parse_start(tag: &[u8]) -> Token {
    let text = String::from_utf8_lossy(tag);
    let (text, closed) = match text.trim_end().strip_suffix('/') {
        Some(t) => (t, true),
        None => (text.trim_end(), false),
    };
    let name_end = text
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(text.len());
    let name = local(&text[..name_end]).to_owned();
    let mut attrs = Vec::new();
    let mut rest = &text[name_end..];
    while let Some(eq) = rest.find('=') {
        let key = local(rest[..eq].trim()).to_owned();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(end) = after[1..].find(q) else { break };
        attrs.push((key, decode_entities(&after.as_bytes()[1..1 + end])));
        rest = &after[end + 2..];
    }
    Token::Start(name, attrs, closed)
}

/// The value of attribute `key` in `attrs`.
fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// XML text with its five entities and character references decoded.
fn decode_entities(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    if !text.contains('&') {
        return text.into_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_ref();
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Cell text with Excel's `_xHHHH_` character escapes decoded (`_x000D_` is a carriage
/// return, `_x005F_` a literal underscore).
fn decode_excel_escapes(text: String) -> String {
    if !text.contains("_x") {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("_x") {
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        let b = candidate.as_bytes();
        let escape = b.len() >= 7 && b[2..6].iter().all(u8::is_ascii_hexdigit) && b[6] == b'_';
        match escape
            .then(|| u32::from_str_radix(&candidate[2..6], 16).ok())
            .flatten()
            .and_then(char::from_u32)
        {
            Some(c) => {
                out.push(c);
                rest = &candidate[7..];
            }
            None => {
                out.push_str("_x");
                rest = &candidate[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `A` → 0, `Z` → 25, `AA` → 26; `None` past Excel's last column.
fn column_index(letters: &str) -> Option<usize> {
    let mut n = 0usize;
    for c in letters.chars() {
        if !c.is_ascii_alphabetic() {
            return None;
        }
        n = n * 26 + (c.to_ascii_uppercase() as usize - 'A' as usize + 1);
        if n > 1 << 14 {
            return None;
        }
    }
    n.checked_sub(1)
}

/// Whether number format `id` (with its code, for custom formats) shows a date or a time.
fn is_date_format(id: u32, code: Option<&str>) -> bool {
    // Built-in date and time formats; 27–36 and 50–58 are the CJK locales' dates (年月日).
    if matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58) {
        return true;
    }
    let Some(code) = code else { return false };
    // Quoted text, [colour]/[locale] sections and escaped characters say nothing of dates.
    let mut plain = String::new();
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                for d in chars.by_ref() {
                    if d == '"' {
                        break;
                    }
                }
            }
            '[' => {
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                }
            }
            '\\' | '_' | '*' => {
                chars.next();
            }
            c => plain.push(c.to_ascii_lowercase()),
        }
    }
    plain.contains(['y', 'm', 'd', 'h', 's']) && !plain.contains("general")
}

/// A number as Excel shows it in a General cell: whole numbers without `.0`, others rounded to
/// 15 significant digits (so 0.1 + 0.2 reads 0.3), never an exponent.
pub fn number_text(raw: &str) -> String {
    let raw = raw.trim();
    let Ok(x) = raw.parse::<f64>() else {
        return raw.to_owned();
    };
    if !x.is_finite() {
        return raw.to_owned();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let rounded: f64 = format!("{x:.14e}").parse().unwrap_or(x);
    format!("{}", rounded + 0.0)
}

/// A serial date (days since 1900-01-00 with Excel's 1900 leap-year bug, or since 1904-01-01)
/// as `YYYY-MM-DD`, with ` HH:MM:SS` when it has a time of day.
pub fn serial_date_text(raw: &str, date1904: bool) -> String {
    let Ok(x) = raw.trim().parse::<f64>() else {
        return raw.trim().to_owned();
    };
    if !x.is_finite() || !(0.0..2_958_466.0).contains(&x) {
        return number_text(raw);
    }
    let mut days = x.floor() as i64;
    let mut secs = ((x - x.floor()) * 86_400.0).round() as i64;
    if secs >= 86_400 {
        days += 1;
        secs -= 86_400;
    }
    let time = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    let base = if date1904 {
        chrono::NaiveDate::from_ymd_opt(1904, 1, 1)
    } else if days >= 61 {
        chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
    } else if days >= 1 {
        chrono::NaiveDate::from_ymd_opt(1899, 12, 31)
    } else {
        // A time of day alone.
        return time;
    };
    let Some(date) = base.and_then(|b| b.checked_add_signed(chrono::Duration::days(days))) else {
        return number_text(raw);
    };
    if secs == 0 {
        date.format("%Y-%m-%d").to_string()
    } else {
        format!("{} {time}", date.format("%Y-%m-%d"))
    }
}

/// The rows of the first worksheet of a workbook, read as a stream (see the module doc).
pub struct XlsxRecords<R: Read> {
    sheet: Scanner<BufReader<EntryReader<R>>>,
    shared: Vec<String>,
    /// Per cell style (cellXfs index): whether its number format is a date.
    date_styles: Vec<bool>,
    date1904: bool,
    last_row: u64,
    done: bool,
}

impl<R: Read + Seek> XlsxRecords<R> {
    /// Opens the workbook `input` under `limits`: reads its directory, workbook, styles and
    /// shared strings, and positions on the first worksheet.
    pub fn open(mut input: R, limits: Limits) -> io::Result<XlsxRecords<R>> {
        let entries = directory(&mut input)?;
        let workbook = read_part(&mut input, &entries, "xl/workbook.xml", &limits)?
            .ok_or_else(|| fail("xlsx.error.not_xlsx"))?;
        let rels = read_part(&mut input, &entries, "xl/_rels/workbook.xml.rels", &limits)?
            .unwrap_or_default();
        let (first_rid, date1904) = first_sheet(&workbook)?;
        let targets = relationships(&rels)?;
        let target = |rid: Option<&str>, kind: &str, default: &str| -> String {
            let found = targets.iter().find(|(id, ty, _)| match rid {
                Some(rid) => id == rid,
                None => ty.ends_with(kind),
            });
            match found.map(|(_, _, t)| t.as_str()) {
                Some(t) if t.starts_with('/') => t.trim_start_matches('/').to_owned(),
                Some(t) => format!("xl/{t}"),
                None => default.to_owned(),
            }
        };
        let sheet_name = target(
            first_rid.as_deref(),
            "/worksheet",
            "xl/worksheets/sheet1.xml",
        );
        let shared = match read_part(
            &mut input,
            &entries,
            &target(None, "/sharedStrings", "xl/sharedStrings.xml"),
            &limits,
        )? {
            Some(xml) => shared_strings(&xml)?,
            None => Vec::new(),
        };
        let date_styles = match read_part(
            &mut input,
            &entries,
            &target(None, "/styles", "xl/styles.xml"),
            &limits,
        )? {
            Some(xml) => date_styles(&xml)?,
            None => Vec::new(),
        };
        let entry = entries
            .get(&sheet_name)
            .ok_or_else(|| fail("xlsx.error.not_xlsx"))?;
        let reader = open_entry(input, entry, limits.max_sheet_bytes, &limits)?;
        Ok(XlsxRecords {
            sheet: Scanner::new(BufReader::with_capacity(64 * 1024, reader)),
            shared,
            date_styles,
            date1904,
            last_row: 0,
            done: false,
        })
    }
}

impl<R: Read> XlsxRecords<R> {
    /// The next row that has a value: its number and its cells (blanks where the sheet has
    /// none, up to the last cell with something in it); `None` after the last.
    pub fn next_record(&mut self) -> io::Result<Option<(u64, Vec<String>)>> {
        while !self.done {
            let Some(token) = self.sheet.next()? else {
                self.done = true;
                break;
            };
            match token {
                Token::Start(name, attrs, closed) if name == "row" => {
                    let row = attr(&attrs, "r")
                        .and_then(|r| r.trim().parse().ok())
                        .unwrap_or(self.last_row + 1);
                    // Rows come in ascending order (ECMA-376 §18.3.1.73); a sheet whose numbers
                    // repeat or go back would have its errors reported against the wrong rows.
                    if row <= self.last_row || row > MAX_ROW {
                        return Err(fail_with(
                            Msg::new("xlsx.error.row_order")
                                .with("row", row)
                                .with("after", self.last_row),
                        ));
                    }
                    self.last_row = row;
                    if closed {
                        continue;
                    }
                    let cells = self.row_cells()?;
                    if cells.iter().any(|c| !c.trim().is_empty()) {
                        return Ok(Some((row, cells)));
                    }
                }
                Token::End(name) if name == "sheetData" => {
                    self.done = true;
                    // The rest of the entry is read too, so that its size and CRC are checked.
                    io::copy(&mut self.sheet.input, &mut io::sink())?;
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// The cells of the open `<row>`, up to its end tag.
    fn row_cells(&mut self) -> io::Result<Vec<String>> {
        let mut cells: Vec<String> = Vec::new();
        let mut next_col = 0usize;
        loop {
            match self
                .sheet
                .next()?
                .ok_or_else(|| fail("xlsx.error.damaged"))?
            {
                Token::End(name) if name == "row" => break,
                Token::Start(name, attrs, closed) if name == "c" => {
                    let col = match attr(&attrs, "r") {
                        Some(r) => column_index(r.trim_end_matches(|c: char| c.is_ascii_digit()))
                            .ok_or_else(|| fail("xlsx.error.damaged"))?,
                        None => next_col,
                    };
                    if col >= 1 << 14 {
                        return Err(fail("xlsx.error.damaged"));
                    }
                    next_col = col + 1;
                    if closed {
                        continue;
                    }
                    let kind = attr(&attrs, "t").unwrap_or("n").to_owned();
                    let style: usize = attr(&attrs, "s").and_then(|s| s.parse().ok()).unwrap_or(0);
                    let (value, inline) = self.cell_contents()?;
                    let text = match kind.as_str() {
                        "s" => {
                            let i: usize = value
                                .trim()
                                .parse()
                                .map_err(|_| fail("xlsx.error.damaged"))?;
                            self.shared
                                .get(i)
                                .cloned()
                                .ok_or_else(|| fail("xlsx.error.damaged"))?
                        }
                        "inlineStr" => decode_excel_escapes(inline),
                        "str" | "e" => decode_excel_escapes(value),
                        "b" => if value.trim() == "1" { "true" } else { "false" }.to_owned(),
                        "d" => value
                            .trim()
                            .strip_suffix("T00:00:00")
                            .unwrap_or(value.trim())
                            .to_owned(),
                        _ if value.trim().is_empty() => String::new(),
                        _ if self.date_styles.get(style).copied().unwrap_or(false) => {
                            serial_date_text(&value, self.date1904)
                        }
                        _ => number_text(&value),
                    };
                    if !text.is_empty() {
                        if cells.len() <= col {
                            cells.resize(col + 1, String::new());
                        }
                        cells[col] = text;
                    }
                }
                _ => {}
            }
        }
        Ok(cells)
    }

    /// The `<v>` text and the inline-string text of the open `<c>`, up to its end tag.
    fn cell_contents(&mut self) -> io::Result<(String, String)> {
        let mut value = String::new();
        let mut inline = String::new();
        // Where the text goes: 1 in <v>, 2 in <is>…<t>; <rPh> (phonetic guides) is skipped.
        let mut into = 0;
        let mut in_is = false;
        let mut phonetic = 0;
        loop {
            match self
                .sheet
                .next()?
                .ok_or_else(|| fail("xlsx.error.damaged"))?
            {
                Token::End(name) if name == "c" => return Ok((value, inline)),
                Token::Start(name, _, closed) => match name.as_str() {
                    "v" if !closed => into = 1,
                    "is" if !closed => in_is = true,
                    "rPh" if !closed => phonetic += 1,
                    "t" if !closed && in_is && phonetic == 0 => into = 2,
                    _ => {}
                },
                Token::End(name) => match name.as_str() {
                    "v" | "t" => into = 0,
                    "is" => in_is = false,
                    "rPh" => phonetic -= 1,
                    _ => {}
                },
                Token::Text(t) => match into {
                    1 => value.push_str(&t),
                    2 => inline.push_str(&t),
                    _ => {}
                },
            }
        }
    }
}

/// The relationship id of the workbook's first sheet and whether it counts dates from 1904.
fn first_sheet(xml: &str) -> io::Result<(Option<String>, bool)> {
    let mut scanner = Scanner::new(xml.as_bytes());
    let mut rid = None;
    let mut date1904 = false;
    while let Some(token) = scanner.next()? {
        if let Token::Start(name, attrs, _) = token {
            match name.as_str() {
                "workbookPr" => {
                    date1904 = matches!(attr(&attrs, "date1904"), Some("1" | "true"));
                }
                "sheet" if rid.is_none() => rid = attr(&attrs, "id").map(str::to_owned),
                _ => {}
            }
        }
    }
    Ok((rid, date1904))
}

/// The relationships of a .rels part: (id, type, target).
fn relationships(xml: &str) -> io::Result<Vec<(String, String, String)>> {
    let mut scanner = Scanner::new(xml.as_bytes());
    let mut out = Vec::new();
    while let Some(token) = scanner.next()? {
        if let Token::Start(name, attrs, _) = token
            && name == "Relationship"
        {
            let get = |k| attr(&attrs, k).unwrap_or_default().to_owned();
            out.push((get("Id"), get("Type"), get("Target")));
        }
    }
    Ok(out)
}

/// The shared-strings table: each `<si>`'s text (its runs joined, phonetic guides left out).
fn shared_strings(xml: &str) -> io::Result<Vec<String>> {
    let mut scanner = Scanner::new(xml.as_bytes());
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut in_si, mut in_t, mut phonetic) = (false, false, 0);
    while let Some(token) = scanner.next()? {
        match token {
            Token::Start(name, _, closed) => match name.as_str() {
                "si" if closed => out.push(String::new()),
                "si" => {
                    in_si = true;
                    current.clear();
                }
                "rPh" if !closed => phonetic += 1,
                "t" if !closed && in_si && phonetic == 0 => in_t = true,
                _ => {}
            },
            Token::End(name) => match name.as_str() {
                "si" => {
                    in_si = false;
                    out.push(decode_excel_escapes(std::mem::take(&mut current)));
                }
                "rPh" => phonetic -= 1,
                "t" => in_t = false,
                _ => {}
            },
            Token::Text(t) if in_t => current.push_str(&t),
            Token::Text(_) => {}
        }
    }
    Ok(out)
}

/// For each cell style of styles.xml (the `<xf>`s of `<cellXfs>`), whether it shows a date.
fn date_styles(xml: &str) -> io::Result<Vec<bool>> {
    let mut scanner = Scanner::new(xml.as_bytes());
    let mut formats: HashMap<u32, String> = HashMap::new();
    let mut styles = Vec::new();
    let mut in_cell_xfs = false;
    while let Some(token) = scanner.next()? {
        match token {
            Token::Start(name, attrs, closed) => match name.as_str() {
                "numFmt" => {
                    if let (Some(id), Some(code)) = (
                        attr(&attrs, "numFmtId").and_then(|i| i.parse().ok()),
                        attr(&attrs, "formatCode"),
                    ) {
                        formats.insert(id, code.to_owned());
                    }
                }
                "cellXfs" if !closed => in_cell_xfs = true,
                "xf" if in_cell_xfs => {
                    let id = attr(&attrs, "numFmtId")
                        .and_then(|i| i.parse().ok())
                        .unwrap_or(0);
                    styles.push(is_date_format(id, formats.get(&id).map(String::as_str)));
                }
                _ => {}
            },
            Token::End(name) if name == "cellXfs" => in_cell_xfs = false,
            _ => {}
        }
    }
    Ok(styles)
}

#[cfg(test)]
#[path = "xlsx_read_tests.rs"]
mod tests;
