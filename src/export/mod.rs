//! Tables of figures that a page shows and a reader downloads: one model ([`Table`]) rendered as
//! an HTML table (templates/export/table.html), as CSV ([`Table::to_csv`]) and as a formatted
//! Excel workbook ([`xlsx`]). Reports build tables; they never format numbers themselves.

pub mod xlsx;
pub mod xlsx_read;
pub mod zip;

/// What a column holds, which decides how every rendering formats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Words (a name, a code, a date as text).
    Text,
    /// A whole number (organizations, people, projects).
    Count,
    /// Money in yuan with two decimals.
    Money,
    /// A quantity with one decimal (hours).
    Decimal,
    /// A fraction 0–1 shown as a percentage with one decimal.
    Percent,
    /// A number shown as it is (up to two decimals), for a column mixing counts, yuan and
    /// rates whose unit stands in another column.
    General,
}

impl ColumnKind {
    /// Whether a totals row adds this column up.
    pub fn sums(self) -> bool {
        matches!(
            self,
            ColumnKind::Count | ColumnKind::Money | ColumnKind::Decimal
        )
    }
}

/// A column: its name and unit as the reader sees them (already translated).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// 列名.
    pub name: String,
    /// 单位 (个, 元, 小时, %), empty when the name says it all.
    pub unit: String,
    /// How its cells are formatted.
    pub kind: ColumnKind,
}

impl Column {
    /// A column of `kind` named `name` with `unit`.
    pub fn new(name: impl Into<String>, unit: impl Into<String>, kind: ColumnKind) -> Column {
        Column {
            name: name.into(),
            unit: unit.into(),
            kind,
        }
    }

    /// The header as printed: the name, then the unit in full-width parentheses (名称（单位）).
    pub fn header(&self) -> String {
        if self.unit.is_empty() {
            self.name.clone()
        } else {
            format!("{}（{}）", self.name, self.unit)
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing (a blank in the totals row under a text column).
    Empty,
    /// Words.
    Text(String),
    /// Words that lead to a page (the link shows in HTML only).
    Link(String, String),
    /// A whole number.
    Int(i64),
    /// A number with decimals (yuan, hours, a fraction for percentages).
    Number(f64),
}

impl Cell {
    /// The cell's number, if it holds one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Cell::Int(n) => Some(*n as f64),
            Cell::Number(x) => Some(*x),
            _ => None,
        }
    }

    /// The cell's words as a download writes them: plain numbers (no separators), percentages
    /// as fractions turned into percent with one decimal, money with two decimals.
    pub fn plain(&self, kind: ColumnKind) -> String {
        match (self, kind) {
            (Cell::Empty, _) => String::new(),
            (Cell::Text(s) | Cell::Link(s, _), _) => s.clone(),
            (Cell::Int(n), ColumnKind::Percent) => format!("{:.1}", *n as f64 * 100.0),
            (Cell::Int(n), ColumnKind::Money) => format!("{n}.00"),
            (Cell::Int(n), _) => n.to_string(),
            (Cell::Number(x), ColumnKind::Percent) => format!("{:.1}", x * 100.0),
            (Cell::Number(x), ColumnKind::Money) => format!("{x:.2}"),
            (Cell::Number(x), ColumnKind::Decimal) => format!("{x:.1}"),
            (Cell::Number(x), ColumnKind::General) => {
                let fixed = format!("{x:.2}");
                fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
            }
            (Cell::Number(x), _) => format!("{x}"),
        }
    }

    /// The cell as a page shows it: thousands separated, percentages with a % sign.
    pub fn display(&self, kind: ColumnKind) -> String {
        match (self, kind) {
            (Cell::Int(_) | Cell::Number(_), ColumnKind::Percent) => {
                format!("{}%", self.plain(kind))
            }
            (Cell::Int(_) | Cell::Number(_), _) => group_thousands(&self.plain(kind)),
            _ => self.plain(kind),
        }
    }

    /// The link target, if any.
    pub fn href(&self) -> Option<&str> {
        match self {
            Cell::Link(_, href) => Some(href),
            _ => None,
        }
    }
}

/// `1234567.5` → `1,234,567.5` (the integer part grouped by three).
fn group_thousands(number: &str) -> String {
    let (sign, rest) = match number.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", number),
    };
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A titled table of rows under typed columns, with an optional totals row.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The table's title (the sheet name in Excel, cut to 31 characters).
    pub title: String,
    /// What the figures are (area, date, source), printed under the title.
    pub note: String,
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows, each as long as `columns`.
    pub rows: Vec<Vec<Cell>>,
    /// The totals row, when the table has one.
    pub totals: Option<Vec<Cell>>,
}

impl Table {
    /// An empty table.
    pub fn new(title: impl Into<String>, note: impl Into<String>, columns: Vec<Column>) -> Table {
        Table {
            title: title.into(),
            note: note.into(),
            columns,
            rows: Vec::new(),
            totals: None,
        }
    }

    /// Adds a totals row labelled `label` in the first column: columns that add up are summed
    /// from the rows; `rates` gives a value for percentage columns (a rate of totals is not a
    /// sum of rates), by column index.
    pub fn with_totals(mut self, label: impl Into<String>, rates: &[(usize, f64)]) -> Table {
        let mut totals: Vec<Cell> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                if column.kind.sums() {
                    let sum: f64 = self.rows.iter().filter_map(|r| r.get(i)?.number()).sum();
                    if column.kind == ColumnKind::Count {
                        Cell::Int(sum.round() as i64)
                    } else {
                        Cell::Number(sum)
                    }
                } else {
                    rates
                        .iter()
                        .find(|(at, _)| *at == i)
                        .map_or(Cell::Empty, |(_, rate)| Cell::Number(*rate))
                }
            })
            .collect();
        if let Some(first) = totals.first_mut() {
            *first = Cell::Text(label.into());
        }
        self.totals = Some(totals);
        self
    }

    /// Every row and then the totals row, each with its column's kind.
    pub fn all_rows(&self) -> impl Iterator<Item = &Vec<Cell>> {
        self.rows.iter().chain(self.totals.iter())
    }

    /// The table as CSV: a UTF-8 byte-order mark (Excel needs it for Chinese), the headers
    /// with their units, the rows, the totals row. Formula-like text is defused.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        self.push_csv(&mut out);
        out
    }

    /// Several tables in one CSV: each preceded by its title and note, a blank line between.
    pub fn many_to_csv(tables: &[Table]) -> String {
        let mut out = String::from("\u{feff}");
        for (i, table) in tables.iter().enumerate() {
            if i > 0 {
                out.push_str("\r\n");
            }
            out.push_str(&crate::registry::open_data::csv_line(
                [table.title.as_str(), table.note.as_str()].into_iter(),
            ));
            table.push_csv(&mut out);
        }
        out
    }

    fn push_csv(&self, out: &mut String) {
        let headers: Vec<String> = self.columns.iter().map(Column::header).collect();
        out.push_str(&crate::registry::open_data::csv_line(
            headers.iter().map(String::as_str),
        ));
        for row in self.all_rows() {
            let cells: Vec<String> = row
                .iter()
                .zip(&self.columns)
                .map(|(cell, column)| cell.plain(column.kind))
                .collect();
            out.push_str(&crate::registry::open_data::csv_line(
                cells.iter().map(String::as_str),
            ));
        }
    }

    /// The column's kind at `index` (text past the end), for templates (which pass references).
    pub fn kind(&self, index: impl std::borrow::Borrow<usize>) -> ColumnKind {
        self.columns
            .get(*index.borrow())
            .map_or(ColumnKind::Text, |column| column.kind)
    }

    /// Whether the column at `index` holds numbers (right-aligned on the page).
    pub fn numeric(&self, index: impl std::borrow::Borrow<usize>) -> bool {
        self.kind(index) != ColumnKind::Text
    }
}

/// A download of `tables` as `format` (`csv` or `xlsx`) named `name` (without extension,
/// Chinese allowed); any other format is refused on the field `format`.
pub fn download(
    tables: &[Table],
    format: &str,
    name: &str,
) -> crate::error::Result<axum::response::Response> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let (body, content_type, extension) = match format {
        "csv" => {
            let text = match tables {
                [one] => one.to_csv(),
                many => Table::many_to_csv(many),
            };
            (text.into_bytes(), "text/csv; charset=utf-8", "csv")
        }
        "xlsx" => (
            xlsx::workbook_bytes(tables).map_err(|e| crate::error::Error::Other(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => {
            return Err(crate::error::Error::field(
                "format",
                crate::i18n::Msg::new("error.field.choice"),
            ));
        }
    };
    let disposition = format!(
        "attachment; filename=\"report.{extension}\"; filename*=UTF-8''{}.{extension}",
        crate::web::percent_encode(name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut table = Table::new(
            "社会组织",
            "2014-12-31",
            vec![
                Column::new("类型", "", ColumnKind::Text),
                Column::new("数量", "个", ColumnKind::Count),
                Column::new("经费", "元", ColumnKind::Money),
                Column::new("比例", "%", ColumnKind::Percent),
            ],
        );
        table.rows.push(vec![
            Cell::Text("=社会团体".into()),
            Cell::Int(1234),
            Cell::Number(1000.5),
            Cell::Number(0.5),
        ]);
        table.rows.push(vec![
            Cell::Link("基金会".into(), "/orgs?kind=foundation".into()),
            Cell::Int(2),
            Cell::Number(0.25),
            Cell::Number(1.0),
        ]);
        table.with_totals("合计", &[(3, 0.75)])
    }

    #[test]
    fn totals_add_counts_and_money_and_take_rates_as_given() {
        let table = sample();
        let totals = table.totals.clone().unwrap();
        assert_eq!(totals[0], Cell::Text("合计".into()));
        assert_eq!(totals[1], Cell::Int(1236));
        assert_eq!(totals[2].plain(ColumnKind::Money), "1000.75");
        assert_eq!(totals[3].plain(ColumnKind::Percent), "75.0");
    }

    #[test]
    fn csv_has_units_in_headers_a_totals_row_and_no_live_formulas() {
        let csv = sample().to_csv();
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "类型,数量（个）,经费（元）,比例（%）");
        assert_eq!(lines[1], "'=社会团体,1234,1000.50,50.0");
        assert_eq!(lines[3], "合计,1236,1000.75,75.0");
    }

    #[test]
    fn display_groups_thousands() {
        assert_eq!(Cell::Int(1234567).display(ColumnKind::Count), "1,234,567");
        assert_eq!(
            Cell::Number(-1234.5).display(ColumnKind::Money),
            "-1,234.50"
        );
        assert_eq!(Cell::Number(0.123).display(ColumnKind::Percent), "12.3%");
        assert_eq!(Cell::Int(12).display(ColumnKind::Count), "12");
        assert_eq!(
            Cell::Number(1228133.31).display(ColumnKind::General),
            "1,228,133.31"
        );
        assert_eq!(Cell::Number(100.0).display(ColumnKind::General), "100");
    }
}
