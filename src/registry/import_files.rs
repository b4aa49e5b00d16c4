//! The workbooks around an import: the template (导入模板) with Chinese headers, a dictionary
//! sheet and drop-downs on the kind, domain, area and status columns; and the error workbook
//! (错误报告): the uploaded rows with a 错误 column naming each bad row's problems, plus a list
//! of every problem. An error workbook fixed in place can be uploaded again: the importer skips
//! its 错误 column.

use super::import::{ImportError, RowError};
use super::open_data::{EXPORT_COLUMNS, column_key};
use super::records::Records;
use super::store::DomainRow;
use super::uscc::Uscc;
use super::{OrgKind, OrgStatus};
use crate::areas::store::AreaRow;
use crate::export::xlsx::XlsxWriter;
use crate::export::{Cell, Column, ColumnKind};
use crate::i18n::Lang;
use std::collections::HashMap;
use std::io::{self, BufReader};
use std::path::Path;

/// Excel's last row, the end of every drop-down's range.
pub(crate) const LAST_ROW: u32 = 1 << 20;

/// The template's columns: the export's, without its internal id.
fn template_columns() -> Vec<&'static str> {
    EXPORT_COLUMNS
        .iter()
        .copied()
        .filter(|c| *c != "id")
        .collect()
}

/// `0` → `A`, `26` → `AA`.
pub(crate) fn letters(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        out.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The import template (Chinese headers, as the export writes them): sheet 导入 to fill in,
/// 字典 with the kinds, domains, statuses and the areas in `areas` (those the user may
/// reach), 填写说明 and 示例 (an example row, not imported).
pub fn template_xlsx(domains: &[DomainRow], areas: &[AreaRow]) -> io::Result<Vec<u8>> {
    let zh = Lang::Zh;
    let columns = template_columns();
    let headers: Vec<Column> = columns
        .iter()
        .map(|c| {
            let kind = if *c == "registered_capital_yuan" {
                ColumnKind::Money
            } else {
                ColumnKind::Text
            };
            Column::new(zh.t(&column_key(c)), "", kind)
        })
        .collect();
    let widths: Vec<f64> = columns
        .iter()
        .map(|c| match *c {
            "uscc" => 22.0,
            "name" | "address" | "scope" | "supervisory_unit" => 30.0,
            _ => 14.0,
        })
        .collect();
    let kinds: Vec<&str> = OrgKind::ALL.iter().map(|k| k.label(zh)).collect();
    let statuses: Vec<&str> = OrgStatus::ALL.iter().map(|s| s.label(zh)).collect();
    let domain_names: Vec<&str> = domains
        .iter()
        .filter(|d| d.active)
        .map(|d| d.name_zh.as_str())
        .collect();
    let area_codes: Vec<&str> = areas.iter().map(|a| a.code.as_str()).collect();
    // A name that repeats (two 新村社区 in different streets) must be given by its code.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for a in areas {
        *seen.entry(a.name.as_str()).or_default() += 1;
    }
    let area_names: Vec<&str> = areas
        .iter()
        .map(|a| a.name.as_str())
        .filter(|n| seen.get(n) == Some(&1))
        .collect();
    let lists: [(&str, &[&str]); 5] = [
        ("kind", &kinds),
        ("domain", &domain_names),
        ("status", &statuses),
        ("area_code", &area_codes),
        ("area_name", &area_names),
    ];

    let mut w = XlsxWriter::new(Vec::new());
    w.start_named_sheet(zh.t("import.template.sheet"), "", "", &headers, &widths)?;
    let dictionary = sheet_ref(zh.t("import.template.dictionary"));
    for (i, (column, values)) in lists.iter().enumerate() {
        let Some(at) = columns.iter().position(|c| c == column) else {
            continue;
        };
        let col = letters(at);
        let list = letters(i);
        let end = values.len().max(1) + 1;
        w.list_validation(
            &format!("{col}2:{col}{LAST_ROW}"),
            &format!("{dictionary}!${list}$2:${list}${end}"),
            zh.t("import.template.pick"),
        )?;
    }

    let dictionary_columns: Vec<Column> = [
        "org.field.kind",
        "org.field.domain",
        "org.field.status",
        "import.template.area_code",
        "import.template.area_name",
    ]
    .iter()
    .map(|k| Column::new(zh.t(k), "", ColumnKind::Text))
    .collect();
    w.start_named_sheet(
        zh.t("import.template.dictionary"),
        "",
        "",
        &dictionary_columns,
        &[14.0, 18.0, 10.0, 16.0, 24.0],
    )?;
    let longest = lists.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    for r in 0..longest {
        let row: Vec<Cell> = lists
            .iter()
            .map(|(_, v)| {
                v.get(r)
                    .map_or(Cell::Empty, |s| Cell::Text((*s).to_owned()))
            })
            .collect();
        w.row(&row)?;
    }

    w.start_named_sheet(
        zh.t("import.template.notes"),
        zh.t("import.template.notes_title"),
        "",
        &[Column::new(
            zh.t("import.template.notes"),
            "",
            ColumnKind::Text,
        )],
        &[110.0],
    )?;
    for key in [
        "import.template.note1",
        "import.template.note2",
        "import.template.note3",
        "import.template.note4",
        "import.template.note5",
        "import.template.note6",
    ] {
        w.row(&[Cell::Text(zh.t(key).to_owned())])?;
    }

    w.start_named_sheet(
        zh.t("import.template.example"),
        zh.t("import.template.example_title"),
        "",
        &headers,
        &widths,
    )?;
    let area = areas.last();
    let example: Vec<Cell> = columns
        .iter()
        .map(|c| {
            let text = match *c {
                "uscc" => Uscc::generate('2', "120116", 1).as_str().to_owned(),
                "name" => "滨海新区示例养老服务中心".into(),
                "kind" => OrgKind::PrivateNonEnterprise.label(zh).into(),
                "domain" => domain_names.first().copied().unwrap_or_default().into(),
                "area_code" => area.map(|a| a.code.clone()).unwrap_or_default(),
                "area_name" => area.map(|a| a.name.clone()).unwrap_or_default(),
                "status" => OrgStatus::Active.label(zh).into(),
                "registered_on" => "2014-05-06".into(),
                "legal_representative" => "张秀英".into(),
                "address" => "滨海新区示例路 1 号".into(),
                "supervisory_unit" => "滨海新区民政局".into(),
                "registered_capital_yuan" => return Cell::Number(30000.0),
                _ => String::new(),
            };
            if text.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(text)
            }
        })
        .collect();
    w.row(&example)?;
    w.finish()
}

/// `name` as a sheet reference in a formula: quoted, inner quotes doubled.
pub(crate) fn sheet_ref(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

/// The error workbook of the file at `path`: sheet 1 its rows as uploaded with a 错误 column
/// first (each bad row's problems, one a line), sheet 2 every problem as 行号 · 字段 · 问题.
pub fn error_workbook(
    path: &Path,
    errors: &[RowError],
    lang: Lang,
) -> Result<Vec<u8>, ImportError> {
    let mut by_line: HashMap<u64, Vec<&RowError>> = HashMap::new();
    for e in errors {
        by_line.entry(e.line).or_default().push(e);
    }
    let problems = |line: u64| -> String {
        by_line
            .get(&line)
            .map(|es| {
                es.iter()
                    .map(|e| format!("{}：{}", lang.t(&e.field), e.msg.render(lang)))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    };
    let mut records = Records::open(BufReader::new(std::fs::File::open(path)?))?;
    let mut w = XlsxWriter::new(Vec::new());
    let error_header = lang.t("import.errors_column");
    match records.next_record()? {
        Some((_, header)) => {
            let mut columns = vec![Column::new(error_header, "", ColumnKind::Text)];
            columns.extend(
                header
                    .iter()
                    .map(|h| Column::new(h.clone(), "", ColumnKind::Text)),
            );
            let mut widths = vec![40.0];
            widths.extend(header.iter().map(|_| 16.0));
            w.start_named_sheet(lang.t("import.template.sheet"), "", "", &columns, &widths)?;
            while let Some((line, record)) = records.next_record()? {
                let mut row = vec![Cell::Text(problems(line))];
                row.extend(record.into_iter().map(Cell::Text));
                w.row(&row)?;
            }
        }
        None => {
            w.start_named_sheet(
                lang.t("import.template.sheet"),
                "",
                "",
                &[Column::new(error_header, "", ColumnKind::Text)],
                &[40.0],
            )?;
        }
    }
    w.start_named_sheet(
        lang.t("import.errors.sheet"),
        "",
        "",
        &[
            Column::new(lang.t("import.errors.line"), "", ColumnKind::Count),
            Column::new(lang.t("import.errors.field"), "", ColumnKind::Text),
            Column::new(lang.t("import.errors.problem"), "", ColumnKind::Text),
        ],
        &[8.0, 20.0, 60.0],
    )?;
    for e in errors {
        w.row(&[
            Cell::Int(e.line as i64),
            Cell::Text(lang.t(&e.field).to_owned()),
            Cell::Text(e.msg.render(lang)),
        ])?;
    }
    Ok(w.finish()?)
}
