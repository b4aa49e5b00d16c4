//! The area tree with official statistical division codes (统计用区划代码): the four-level network
//! of a district (district → functional area → street/town → community/village) and, above it for
//! a national registry, the nation, provinces and prefecture-level cities (`shezu demo --scale`).

pub mod api;
pub mod store;

use crate::i18n::Lang;
use std::collections::HashMap;

/// Database id of an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct AreaId(pub i64);

impl From<AreaId> for crate::db::Arg {
    fn from(id: AreaId) -> Self {
        crate::db::Arg::Int(id.0)
    }
}

/// Level of an area: the four-level network (四级网络) from the district down, and the national
/// levels above it, which only a national tree has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AreaLevel {
    /// 全国: the root of a national tree.
    Nation,
    /// 省级 (province, autonomous region, municipality).
    Province,
    /// 地级 (prefecture-level city, league, autonomous prefecture; 市辖区 of a municipality).
    Prefecture,
    /// 新区 / 区县 (county level).
    District,
    /// 功能区 (development zone, bonded zone, eco-city…).
    FunctionalArea,
    /// 街道 / 乡镇.
    Street,
    /// 社区 / 村.
    Community,
}

impl AreaLevel {
    /// Every level, top down.
    pub const ALL: [AreaLevel; 7] = [
        AreaLevel::Nation,
        AreaLevel::Province,
        AreaLevel::Prefecture,
        AreaLevel::District,
        AreaLevel::FunctionalArea,
        AreaLevel::Street,
        AreaLevel::Community,
    ];

    /// The machine name stored in the database and used by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::Nation => "nation",
            AreaLevel::Province => "province",
            AreaLevel::Prefecture => "prefecture",
            AreaLevel::District => "district",
            AreaLevel::FunctionalArea => "functional_area",
            AreaLevel::Street => "street",
            AreaLevel::Community => "community",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<AreaLevel> {
        AreaLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The level's name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(match self {
            AreaLevel::Nation => "area.level.nation",
            AreaLevel::Province => "area.level.province",
            AreaLevel::Prefecture => "area.level.prefecture",
            AreaLevel::District => "area.level.district",
            AreaLevel::FunctionalArea => "area.level.functional_area",
            AreaLevel::Street => "area.level.street",
            AreaLevel::Community => "area.level.community",
        })
    }

    /// The level a division code stands for (DOMAIN §7): 6 digits a county-level district;
    /// 9 digits a township-level unit, where segment 400–599 is a 政企合一 unit (development
    /// zone, bonded zone…), which the four-level network treats as a functional area; 12 digits
    /// a community or village.
    pub fn of_code(code: &str) -> Option<AreaLevel> {
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match code.len() {
            6 => Some(AreaLevel::District),
            9 => {
                let segment: u32 = code[6..9].parse().ok()?;
                if (400..600).contains(&segment) {
                    Some(AreaLevel::FunctionalArea)
                } else {
                    Some(AreaLevel::Street)
                }
            }
            12 => Some(AreaLevel::Community),
            _ => None,
        }
    }
}

/// One row of a divisions file, as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    /// Official code (6, 9 or 12 digits).
    pub code: String,
    /// Official name.
    pub name: String,
    /// Level in the four-level network.
    pub level: AreaLevel,
    /// Code of the parent inside the file; `None` for the root.
    pub parent_code: Option<String>,
}

/// A divisions file that cannot be loaded, with the line at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct DivisionError {
    /// 1-based line number in the file.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// Parses `code,name,level,parent_code` rows (the statistics bureau layout of
/// `data/binhai_divisions.csv`) and applies `overrides` (`code,parent_code,note`: areas the
/// four-level network hangs under another parent, e.g. 泰达街道 under the development zone).
/// The level comes from the code itself; the first row whose parent is not in the file is the
/// root. The result lists parents before their children.
pub fn parse_divisions(csv: &str, overrides: &str) -> Result<Vec<Division>, DivisionError> {
    let reparent: HashMap<&str, &str> = overrides
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let mut cols = l.split(',');
            Some((cols.next()?.trim(), cols.next()?.trim()))
        })
        .collect();
    // First pass: every row's own facts, so a parent may appear after its children in the file.
    let mut rows: Vec<(usize, Division, String)> = Vec::new();
    let mut levels: HashMap<String, AreaLevel> = HashMap::new();
    for (i, line) in csv.lines().enumerate().skip(1) {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let err = |problem: String| DivisionError {
            line: line_no,
            problem,
        };
        if cols.len() < 4 {
            return Err(err(format!("expected 4 columns, found {}", cols.len())));
        }
        let (code, name) = (cols[0], cols[1]);
        let level = AreaLevel::of_code(code)
            .ok_or_else(|| err(format!("'{code}' is not a 6, 9 or 12 digit division code")))?;
        if name.is_empty() {
            return Err(err("empty name".into()));
        }
        if levels.insert(code.to_owned(), level).is_some() {
            return Err(err(format!("duplicate code {code}")));
        }
        let parent = reparent.get(code).copied().unwrap_or(cols[3]).to_owned();
        let division = Division {
            code: code.to_owned(),
            name: name.to_owned(),
            level,
            parent_code: None,
        };
        rows.push((line_no, division, parent));
    }
    // Second pass: link parents. The first row whose parent is outside the file is the root.
    let mut out = Vec::with_capacity(rows.len());
    for (index, (line, mut division, parent)) in rows.into_iter().enumerate() {
        match levels.get(&parent) {
            Some(parent_level) if *parent_level < division.level => {
                division.parent_code = Some(parent);
            }
            Some(_) => {
                return Err(DivisionError {
                    line,
                    problem: format!("parent {parent} is not above {}", division.code),
                });
            }
            None if index == 0 => {}
            None => {
                return Err(DivisionError {
                    line,
                    problem: format!("parent {parent} of {} is not in the file", division.code),
                });
            }
        }
        out.push(division);
    }
    // Parents are always at a higher level, so ordering by level puts them first.
    out.sort_by_key(|d| d.level);
    if out.is_empty() {
        return Err(DivisionError {
            line: 1,
            problem: "no divisions".into(),
        });
    }
    Ok(out)
}

/// The code of the root a national tree adds above the provinces (中华人民共和国).
pub const NATION_CODE: &str = "000000";

/// Parses the national county-level divisions (`code,name,level,parent_code`, levels
/// `province`, `city`, `county`, 6-digit codes, as in `data/china_divisions_county.csv`) and
/// puts them under one nation root ([`NATION_CODE`]). Unlike [`parse_divisions`], the level comes
/// from the level column, since a 6-digit code alone does not tell a province from a county.
/// The result lists parents before their children.
pub fn parse_national_divisions(csv: &str) -> Result<Vec<Division>, DivisionError> {
    let mut out = vec![Division {
        code: NATION_CODE.to_owned(),
        name: "中华人民共和国".to_owned(),
        level: AreaLevel::Nation,
        parent_code: None,
    }];
    let mut levels: HashMap<String, AreaLevel> = HashMap::new();
    levels.insert(NATION_CODE.to_owned(), AreaLevel::Nation);
    let mut rows = Vec::new();
    for (i, line) in csv.lines().enumerate().skip(1) {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let err = |problem: String| DivisionError {
            line: line_no,
            problem,
        };
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if cols.len() < 4 {
            return Err(err(format!("expected 4 columns, found {}", cols.len())));
        }
        let (code, name) = (cols[0], cols[1]);
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) || code == NATION_CODE {
            return Err(err(format!("'{code}' is not a 6-digit division code")));
        }
        let level = match cols[2] {
            "province" => AreaLevel::Province,
            "city" => AreaLevel::Prefecture,
            "county" => AreaLevel::District,
            other => return Err(err(format!("unknown level '{other}'"))),
        };
        if name.is_empty() {
            return Err(err("empty name".into()));
        }
        if levels.insert(code.to_owned(), level).is_some() {
            return Err(err(format!("duplicate code {code}")));
        }
        let parent = if level == AreaLevel::Province {
            NATION_CODE.to_owned()
        } else {
            cols[3].to_owned()
        };
        rows.push((line_no, code.to_owned(), name.to_owned(), level, parent));
    }
    for (line, code, name, level, parent) in rows {
        match levels.get(&parent) {
            Some(above) if *above < level => {}
            _ => {
                return Err(DivisionError {
                    line,
                    problem: format!("parent {parent} of {code} is not in the file above it"),
                });
            }
        }
        out.push(Division {
            code,
            name,
            level,
            parent_code: Some(parent),
        });
    }
    out.sort_by_key(|d| d.level);
    Ok(out)
}

/// The embedded national tree: nation, 31 provinces, 342 prefectures, 2,975 counties (2023
/// statistical codes).
pub fn national_divisions() -> Vec<Division> {
    parse_national_divisions(include_str!("../../data/china_divisions_county.csv"))
        .expect("the embedded national divisions file is valid")
}

/// The embedded divisions of the demo district (Binhai New Area, 2023 statistical codes).
pub fn binhai_divisions() -> Vec<Division> {
    parse_divisions(
        include_str!("../../data/binhai_divisions.csv"),
        include_str!("../../data/area_overrides.csv"),
    )
    .expect("the embedded divisions file is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_follows_the_code() {
        assert_eq!(AreaLevel::of_code("120116"), Some(AreaLevel::District));
        assert_eq!(AreaLevel::of_code("120116001"), Some(AreaLevel::Street));
        assert_eq!(AreaLevel::of_code("120116135"), Some(AreaLevel::Street));
        assert_eq!(
            AreaLevel::of_code("120116400"),
            Some(AreaLevel::FunctionalArea)
        );
        assert_eq!(
            AreaLevel::of_code("120116001016"),
            Some(AreaLevel::Community)
        );
        assert_eq!(AreaLevel::of_code("12011"), None);
        assert_eq!(AreaLevel::of_code("12011600A"), None);
    }

    #[test]
    fn binhai_tree_has_the_published_shape() {
        let d = binhai_divisions();
        let count = |l| d.iter().filter(|x| x.level == l).count();
        assert_eq!(d.len(), 532);
        assert_eq!(count(AreaLevel::District), 1);
        assert_eq!(count(AreaLevel::FunctionalArea), 5);
        assert_eq!(count(AreaLevel::Street), 21);
        assert_eq!(count(AreaLevel::Community), 505);
        let teda = d.iter().find(|x| x.code == "120116014").unwrap();
        assert_eq!(teda.parent_code.as_deref(), Some("120116400"));
        assert!(d[0].parent_code.is_none());
    }

    #[test]
    fn national_tree_has_the_published_shape() {
        let d = national_divisions();
        let count = |l| d.iter().filter(|x| x.level == l).count();
        assert_eq!(d.len(), 3_349);
        assert_eq!(count(AreaLevel::Nation), 1);
        assert_eq!(count(AreaLevel::Province), 31);
        assert_eq!(count(AreaLevel::Prefecture), 342);
        assert_eq!(count(AreaLevel::District), 2_975);
        let haidian = d.iter().find(|x| x.code == "110108").unwrap();
        assert_eq!(haidian.parent_code.as_deref(), Some("110100"));
        assert_eq!(d[0].code, NATION_CODE);
        let bad =
            "code,name,level,parent_code\n110000,北京市,province,\n110101,东城区,county,110100\n";
        assert_eq!(parse_national_divisions(bad).unwrap_err().line, 3);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let csv = "code,name,level,parent_code\n120116,滨海新区,district,120100\n120116001,,street,120116\n";
        assert_eq!(parse_divisions(csv, "").unwrap_err().line, 3);
        let csv = "code,name,level,parent_code\n120116,滨海新区,district,120100\n120116001001,X社区,community,120116009\n";
        let e = parse_divisions(csv, "").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.problem.contains("120116009"));
    }
}
