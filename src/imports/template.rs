//! The import template (导入模板) of each kind of record: sheet 导入 with the Chinese headers
//! the importer reads and a drop-down on every choice column, 字典 with the choices, 填写说明
//! and 示例 (an example row, not imported). Built from the kind's [`Column`] list, so the
//! template and the importer cannot disagree.

use super::{Column, ImportKind};
use crate::export::xlsx::XlsxWriter;
use crate::export::{Cell, Column as SheetColumn, ColumnKind};
use crate::i18n::Lang;
use crate::registry::import_files::{LAST_ROW, letters, sheet_ref};
use crate::registry::uscc::Uscc;
use chrono::Datelike;
use std::io;

/// The template of `kind` as XLSX bytes.
pub fn template_xlsx(kind: ImportKind) -> io::Result<Vec<u8>> {
    let zh = Lang::Zh;
    let columns = kind.columns();
    let headers: Vec<SheetColumn> = columns
        .iter()
        .map(|c| SheetColumn::new(zh.t(c.label), "", ColumnKind::Text))
        .collect();
    let widths: Vec<f64> = columns.iter().map(width).collect();
    let choices: Vec<(usize, &Column)> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.choices.1.is_empty())
        .collect();

    let mut w = XlsxWriter::new(Vec::new());
    w.start_named_sheet(zh.t("import.template.sheet"), "", "", &headers, &widths)?;
    let dictionary = sheet_ref(zh.t("import.template.dictionary"));
    for (i, (at, column)) in choices.iter().enumerate() {
        let col = letters(*at);
        let list = letters(i);
        let end = column.choices.1.len() + 1;
        w.list_validation(
            &format!("{col}2:{col}{LAST_ROW}"),
            &format!("{dictionary}!${list}$2:${list}${end}"),
            zh.t("import.template.pick"),
        )?;
    }

    let dictionary_columns: Vec<SheetColumn> = choices
        .iter()
        .map(|(_, c)| SheetColumn::new(zh.t(c.label), "", ColumnKind::Text))
        .collect();
    let dictionary_widths: Vec<f64> = choices.iter().map(|_| 16.0).collect();
    w.start_named_sheet(
        zh.t("import.template.dictionary"),
        "",
        "",
        &dictionary_columns,
        &dictionary_widths,
    )?;
    let longest = choices
        .iter()
        .map(|(_, c)| c.choices.1.len())
        .max()
        .unwrap_or(0);
    for r in 0..longest {
        let row: Vec<Cell> = choices
            .iter()
            .map(|(_, c)| {
                c.choices.1.get(r).map_or(Cell::Empty, |v| {
                    Cell::Text(c.choice_label(v, zh).to_owned())
                })
            })
            .collect();
        w.row(&row)?;
    }

    let title = zh.t(kind.title_key());
    w.start_named_sheet(
        zh.t("import.template.notes"),
        &zh.tf("imports.template.notes_title", &[("kind", title)]),
        "",
        &[SheetColumn::new(
            zh.t("import.template.notes"),
            "",
            ColumnKind::Text,
        )],
        &[110.0],
    )?;
    let notes = [
        "imports.template.note1",
        "imports.template.note2",
        "imports.template.note3",
        "imports.template.note4",
        match kind {
            ImportKind::AnnualReports => "imports.template.note.annual_reports",
            ImportKind::VolunteerServices => "imports.template.note.volunteer_services",
            ImportKind::Donations => "imports.template.note.donations",
        },
    ];
    for key in notes {
        w.row(&[Cell::Text(zh.t(key).to_owned())])?;
    }

    w.start_named_sheet(
        zh.t("import.template.example"),
        zh.t("import.template.example_title"),
        "",
        &headers,
        &widths,
    )?;
    let example: Vec<Cell> = columns
        .iter()
        .map(|c| match example(kind, c.key) {
            "" => Cell::Empty,
            "{code}" => Cell::Text(Uscc::generate('2', "120116", 1).as_str().to_owned()),
            "{last_year}" => Cell::Text((chrono::Utc::now().year() - 1).to_string()),
            v if !c.choices.1.is_empty() => Cell::Text(c.choice_label(v, zh).to_owned()),
            v => Cell::Text(v.to_owned()),
        })
        .collect();
    w.row(&example)?;
    w.finish()
}

/// Column width in the template.
fn width(c: &Column) -> f64 {
    match c.key {
        "org" => 30.0,
        "activities"
        | "party_building"
        | "officers"
        | "changes"
        | "donations_and_grants"
        | "awards"
        | "rectification"
        | "reasons"
        | "supervisor_opinion"
        | "purpose" => 36.0,
        "id_number" | "counterpart" | "project" => 22.0,
        _ => 14.0,
    }
}

/// The example row's value of column `key` (a choice by its machine value; `{code}` and
/// `{last_year}` are filled in).
fn example(kind: ImportKind, key: &str) -> &'static str {
    match (kind, key) {
        (_, "org") => "{code}",
        (ImportKind::AnnualReports, k) => match k {
            "year" => "{last_year}",
            "income_donations" => "52000",
            "income_government" => "180000",
            "income_services" => "36500.5",
            "expenditure_programmes" => "198000",
            "expenditure_total" => "246000",
            "assets" => "320000",
            "liabilities" => "15000",
            "staff" => "6",
            "members" => "9",
            "volunteers" => "48",
            "party_members" => "3",
            "activities" => "开展社区助餐、上门探访等助老服务 126 场，服务老年人 3,200 人次。",
            "party_building" => "建立党的工作小组，开展主题党日活动 12 次。",
            "result" => "pass",
            _ => "",
        },
        (ImportKind::VolunteerServices, k) => match k {
            "name" => "张秀英",
            "id_number" => "11010519491231002X",
            "gender" => "female",
            "project" => "社区助餐送餐",
            "domain" => "elderly_care",
            "served_on" => "2024-10-12",
            "hours" => "2.5",
            "state" => "confirmed",
            _ => "",
        },
        (ImportKind::Donations, k) => match k {
            "direction" => "received",
            "counterpart" => "天津港集团有限公司",
            "counterpart_kind" => "organization",
            "project" => "重阳敬老",
            "kind" => "money",
            "amount_yuan" => "50000",
            "donated_on" => "2024-10-02",
            "purpose" => "社区老年人助餐",
            _ => "",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::xlsx_read::{Limits, XlsxRecords};
    use std::io::Cursor;

    /// The sheet to fill in starts with exactly the headers the importer reads.
    #[test]
    fn every_template_opens_with_the_importers_headers() {
        for kind in ImportKind::ALL {
            let bytes = template_xlsx(kind).unwrap();
            let mut rows = XlsxRecords::open(Cursor::new(bytes), Limits::default()).unwrap();
            let (_, header) = rows.next_record().unwrap().unwrap();
            let expected: Vec<String> = kind
                .columns()
                .iter()
                .map(|c| Lang::Zh.t(c.label).to_owned())
                .collect();
            assert_eq!(header, expected, "{kind:?}");
        }
    }
}
