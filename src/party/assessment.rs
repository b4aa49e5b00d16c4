//! The standardisation assessment of party organizations (规范化建设考核, SPEC §3.6): an
//! editable scoring template of items grouped by category, each with a maximum score, saved as
//! a new version on every edit so a past assessment keeps the items it was scored against; one
//! assessment per party organization and year, its total and its result band by thresholds
//! that are settings (percent of the template's maximum, in force on the day of scoring).

use super::PartyOrgId;
use super::store::{get, in_area, restrict};
use crate::areas::AreaId;
use crate::audit::Actor;
use crate::audit::store::{NewEntry, append};
use crate::auth::Scope;
use crate::db::{Conn, Sql, Timestamp};
use crate::error::{Error, FieldErrors, Result};
use crate::i18n::{Lang, Msg};
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;

/// Result band of an assessment (优秀／良好／合格／不合格).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Band {
    /// 优秀.
    Excellent,
    /// 良好.
    Good,
    /// 合格.
    Pass,
    /// 不合格.
    Fail,
}

impl Band {
    /// Every band, best first.
    pub const ALL: [Band; 4] = [Band::Excellent, Band::Good, Band::Pass, Band::Fail];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Excellent => "excellent",
            Band::Good => "good",
            Band::Pass => "pass",
            Band::Fail => "fail",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<Band> {
        Band::ALL.into_iter().find(|b| b.as_str() == s.trim())
    }

    /// The name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(&format!("party.band.{}", self.as_str()))
    }
}

/// The lowest share of the maximum (percent) for each band above 不合格.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// 优秀 from (default 90).
    pub excellent: i64,
    /// 良好 from (default 80).
    pub good: i64,
    /// 合格 from (default 60).
    pub pass: i64,
}

impl Thresholds {
    /// The band of `total` out of `max_total`: the best band whose threshold the share reaches
    /// (compared without rounding: total × 100 ≥ threshold × max).
    pub fn band(&self, total: i64, max_total: i64) -> Band {
        let reaches = |pct: i64| total * 100 >= pct * max_total.max(1);
        if reaches(self.excellent) {
            Band::Excellent
        } else if reaches(self.good) {
            Band::Good
        } else if reaches(self.pass) {
            Band::Pass
        } else {
            Band::Fail
        }
    }
}

/// One item of a template as typed or stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDraft {
    /// Category (组织建设, 制度建设…).
    pub category: String,
    /// What is scored.
    pub name: String,
    /// Maximum score.
    pub max_score: i64,
}

/// The template the bureau starts from (100 points), after the usual provincial indicators.
pub const DEFAULT_TEMPLATE: &[(&str, &str, i64)] = &[
    ("组织建设", "按规定单独或联合组建党组织，隶属关系清楚", 8),
    ("组织建设", "按期换届，支部委员会（书记）配备齐全", 6),
    ("组织建设", "有固定活动场所，党组织标识规范", 6),
    ("制度建设", "建立健全党组织议事规则和工作制度", 6),
    ("制度建设", "重大事项征求党组织意见（重大事项请示报告）", 6),
    ("党员教育管理", "党员组织关系接转及时，党费按时足额收缴", 8),
    ("党员教育管理", "开展组织生活会和民主评议党员", 8),
    (
        "党员教育管理",
        "开展谈心谈话，做好发展党员和入党积极分子培养",
        6,
    ),
    ("三会一课", "按期召开支部党员大会、支委会、党小组会", 12),
    ("三会一课", "书记每年讲党课，每月开展主题党日", 10),
    ("党建入章", "章程写入党的建设有关内容", 6),
    ("党建入章", "党建工作经费纳入年度预算并规范使用", 6),
    ("作用发挥", "党员在业务工作和志愿服务中发挥先锋模范作用", 6),
    (
        "作用发挥",
        "党组织在把关定向、服务群众中作用明显，获得表彰",
        6,
    ),
];

/// The default template as items.
pub fn default_items() -> Vec<ItemDraft> {
    DEFAULT_TEMPLATE
        .iter()
        .map(|(c, n, m)| ItemDraft {
            category: (*c).to_owned(),
            name: (*n).to_owned(),
            max_score: *m,
        })
        .collect()
}

/// Items as the template editor shows them: one per line, `category | item | maximum`.
pub fn items_text(items: &[ItemDraft]) -> String {
    items
        .iter()
        .map(|i| format!("{} | {} | {}", i.category, i.name, i.max_score))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses the template editor's text (field `items`): one item per non-empty line,
/// `category | item | maximum` (full-width bars allowed), the maximum a whole number from 1 to
/// 1000; every error names its line.
pub fn parse_items(text: &str) -> Result<Vec<ItemDraft>, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut items: Vec<ItemDraft> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split(['|', '｜']).map(str::trim).collect();
        let [category, name, max] = parts.as_slice() else {
            e.add(
                "items",
                Msg::new("party.error.item_line").with("line", n + 1),
            );
            continue;
        };
        if category.is_empty()
            || name.is_empty()
            || category.chars().count() > 30
            || name.chars().count() > 100
        {
            e.add(
                "items",
                Msg::new("party.error.item_line").with("line", n + 1),
            );
            continue;
        }
        match max.parse::<i64>() {
            Ok(m) if (1..=1000).contains(&m) => {
                if items
                    .iter()
                    .any(|i| i.category == *category && i.name == *name)
                {
                    e.add(
                        "items",
                        Msg::new("party.error.item_duplicate").with("name", *name),
                    );
                }
                items.push(ItemDraft {
                    category: (*category).to_owned(),
                    name: (*name).to_owned(),
                    max_score: m,
                });
            }
            _ => e.add(
                "items",
                Msg::new("party.error.item_max")
                    .with("line", n + 1)
                    .with("name", *name),
            ),
        }
    }
    if items.is_empty() && e.is_empty() {
        e.add("items", Msg::new("error.field.required"));
    }
    if items.len() > 100 {
        e.add("items", Msg::new("error.field.too_long").with("max", 100));
    }
    if e.is_empty() { Ok(items) } else { Err(e) }
}

/// A stored item.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemRow {
    /// Id.
    pub id: i64,
    /// Category.
    pub category: String,
    /// What is scored.
    pub name: String,
    /// Maximum score.
    pub max_score: i64,
}

/// Parses per-item scores from a form (`s{id}` fields): each required, a whole number from 0 to
/// the item's maximum; every error names its item.
pub fn parse_scores(
    items: &[ItemRow],
    form: &HashMap<String, String>,
) -> Result<Vec<(i64, i64)>, FieldErrors> {
    let mut e = FieldErrors::new();
    let mut out = Vec::new();
    for item in items {
        let raw = form
            .get(&format!("s{}", item.id))
            .map(|s| s.trim())
            .unwrap_or("");
        match raw.parse::<i64>() {
            Ok(s) if (0..=item.max_score).contains(&s) => out.push((item.id, s)),
            Ok(_) => e.add(
                "scores",
                Msg::new("party.error.score_range")
                    .with("name", &item.name)
                    .with("max", item.max_score),
            ),
            Err(_) => e.add(
                "scores",
                Msg::new("party.error.score_missing").with("name", &item.name),
            ),
        }
    }
    if e.is_empty() { Ok(out) } else { Err(e) }
}

/// A template version.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TemplateRow {
    /// Id.
    pub id: i64,
    /// Version (1, 2, …).
    pub version: i64,
    /// Who saved it.
    pub created_by: String,
}

/// The newest template version with its items, if any was ever saved.
pub async fn current_template(conn: &mut Conn<'_>) -> Result<Option<(TemplateRow, Vec<ItemRow>)>> {
    let row: Option<TemplateRow> = Sql::new(
        "select id, version, created_by from party_assessment_templates order by version desc limit 1",
    )
    .fetch_optional(conn)
    .await?;
    match row {
        None => Ok(None),
        Some(t) => {
            let items = template_items(conn, t.id).await?;
            Ok(Some((t, items)))
        }
    }
}

/// The items of template `id`, in order.
pub async fn template_items(conn: &mut Conn<'_>, id: i64) -> Result<Vec<ItemRow>> {
    Ok(Sql::new("select id, category, name, max_score from party_assessment_items where template_id = $1 order by position, id")
        .arg(id)
        .fetch_all(conn)
        .await?)
}

/// Saves `items` as a new template version on top of `base` (the version the editor started
/// from, 0 when there was none); refused when someone saved another version meanwhile.
pub async fn save_template(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    base: i64,
    items: &[ItemDraft],
) -> Result<i64> {
    let latest = Sql::new("select coalesce(max(version), 0) from party_assessment_templates")
        .fetch_i64(conn)
        .await?;
    if latest != base {
        return Err(Error::Conflict(Msg::new("party.error.template_stale")));
    }
    let id = Sql::new("insert into party_assessment_templates (version, created_by, created_at) values ($1, $2, $3) returning id")
        .arg(latest + 1)
        .arg(actor.name.as_str())
        .arg(at)
        .fetch_i64(conn)
        .await?;
    for (n, item) in items.iter().enumerate() {
        Sql::new("insert into party_assessment_items (template_id, position, category, name, max_score) values ($1, $2, $3, $4, $5)")
            .arg(id)
            .arg(n as i64)
            .arg(item.category.as_str())
            .arg(item.name.as_str())
            .arg(item.max_score)
            .execute(conn)
            .await?;
    }
    let total: i64 = items.iter().map(|i| i.max_score).sum();
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "save_template",
            "party_assessment_template",
            Some(id),
            &format!("v{} {} items {total}", latest + 1, items.len()),
        ),
    )
    .await?;
    Ok(id)
}

/// The band thresholds in force on `on` (settings with effective dates).
pub async fn thresholds(conn: &mut Conn<'_>, on: NaiveDate) -> Result<Thresholds> {
    let mut values = [90, 80, 60];
    for (slot, key) in values.iter_mut().zip([
        "party_assessment_excellent_percent",
        "party_assessment_good_percent",
        "party_assessment_pass_percent",
    ]) {
        let def = crate::settings::SettingDef::find(key)
            .ok_or_else(|| Error::Other(format!("unknown setting {key}")))?;
        if let Ok(v) = crate::settings::store::value_on(conn, def, on)
            .await?
            .parse()
        {
            *slot = v;
        }
    }
    Ok(Thresholds {
        excellent: values[0],
        good: values[1],
        pass: values[2],
    })
}

/// An assessment as stored, with its party organization.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AssessmentRow {
    /// Id.
    pub id: i64,
    /// Party organization.
    pub party_org_id: i64,
    /// Its name.
    pub party_org_name: String,
    /// Its form (machine name).
    pub form: String,
    /// Area of the organization it sits in.
    pub area_name: String,
    /// Year assessed.
    pub year: i64,
    /// Template scored against.
    pub template_id: i64,
    /// Its version.
    pub template_version: i64,
    /// Total score.
    pub total: i64,
    /// Maximum possible.
    pub max_total: i64,
    /// Band (machine name).
    pub band: String,
    /// Day scored.
    pub assessed_on: NaiveDate,
    /// By whom.
    pub assessed_by: String,
    /// Remarks.
    pub note: String,
    /// Optimistic-concurrency version.
    pub version: i64,
}

impl AssessmentRow {
    /// The band.
    pub fn band(&self) -> Band {
        Band::parse(&self.band).unwrap_or(Band::Fail)
    }
}

const SELECT: &str = "select s.id, s.party_org_id, p.name as party_org_name, p.form, a.name as area_name, s.year, s.template_id, t.version as template_version, s.total, s.max_total, s.band, s.assessed_on, s.assessed_by, s.note, s.version from party_assessments s join party_orgs p on p.id = s.party_org_id join party_assessment_templates t on t.id = s.template_id join organizations o on o.id = p.org_id join areas a on a.id = o.area_id where 1 = 1";

/// Filters of the assessment list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The year (required by the page; `None` for every year).
    pub year: Option<i64>,
    /// Only this band.
    pub band: Option<Band>,
    /// Only party organizations of this form.
    pub form: Option<super::Form>,
    /// Only in this area.
    pub area: Option<AreaId>,
}

/// Assessments in scope matching `filter`, best first then by name.
pub async fn list(
    conn: &mut Conn<'_>,
    scope: &Scope,
    filter: &Filter,
) -> Result<Vec<AssessmentRow>> {
    let mut sql = Sql::new(SELECT);
    if let Some(year) = filter.year {
        sql.push(" and s.year = ").push_arg(year);
    }
    if let Some(band) = filter.band {
        sql.push(" and s.band = ").push_arg(band.as_str());
    }
    if let Some(form) = filter.form {
        sql.push(" and p.form = ").push_arg(form.as_str());
    }
    in_area(&mut sql, filter.area);
    restrict(&mut sql, scope);
    sql.push(" order by s.year desc, s.total desc, p.name, s.id");
    Ok(sql.fetch_all(conn).await?)
}

/// The assessment of party organization `party` for `year`, if any (the caller checked scope).
pub async fn find(
    conn: &mut Conn<'_>,
    party: PartyOrgId,
    year: i64,
) -> Result<Option<AssessmentRow>> {
    let mut sql = Sql::new(SELECT);
    sql.push(" and s.party_org_id = ")
        .push_arg(party)
        .push(" and s.year = ")
        .push_arg(year);
    Ok(sql.fetch_optional(conn).await?)
}

/// The scores of assessment `id` by item.
pub async fn scores(conn: &mut Conn<'_>, id: i64) -> Result<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> =
        Sql::new("select item_id, score from party_assessment_scores where assessment_id = $1")
            .arg(id)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Assessments counted per band for a year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BandCounts {
    /// 优秀.
    pub excellent: i64,
    /// 良好.
    pub good: i64,
    /// 合格.
    pub pass: i64,
    /// 不合格.
    pub fail: i64,
}

impl BandCounts {
    /// Party organizations assessed.
    pub fn assessed(&self) -> i64 {
        self.excellent + self.good + self.pass + self.fail
    }

    /// The count of `band`.
    pub fn of(&self, band: Band) -> i64 {
        match band {
            Band::Excellent => self.excellent,
            Band::Good => self.good,
            Band::Pass => self.pass,
            Band::Fail => self.fail,
        }
    }
}

/// The year's assessments per band in `scope` and `area`, counted from the records.
pub async fn band_counts(
    conn: &mut Conn<'_>,
    scope: &Scope,
    area: Option<AreaId>,
    year: i64,
) -> Result<BandCounts> {
    let mut sql = Sql::new(
        "select s.band, count(*) from party_assessments s join party_orgs p on p.id = s.party_org_id join organizations o on o.id = p.org_id where s.year = ",
    );
    sql.push_arg(year);
    in_area(&mut sql, area);
    restrict(&mut sql, scope);
    sql.push(" group by s.band");
    let rows: Vec<(String, i64)> = sql.fetch_all(conn).await?;
    let mut c = BandCounts::default();
    for (band, n) in rows {
        match Band::parse(&band) {
            Some(Band::Excellent) => c.excellent = n,
            Some(Band::Good) => c.good = n,
            Some(Band::Pass) => c.pass = n,
            Some(Band::Fail) => c.fail = n,
            None => {}
        }
    }
    Ok(c)
}

/// What a person submits when scoring.
#[derive(Debug, Clone, Copy)]
pub struct Scoring<'a> {
    /// The year assessed.
    pub year: i64,
    /// The version the editor started from (`None` for a first assessment).
    pub version: Option<i64>,
    /// The form's fields (`s{item}` scores).
    pub fields: &'a HashMap<String, String>,
    /// Remarks.
    pub note: &'a str,
}

/// Records or re-scores the assessment of party organization `party` for a year, on `today`:
/// a first assessment uses the current template, a re-scoring keeps the template it was first
/// scored against and must carry the version it started from. The year must be one the party
/// organization existed in and not after `today`'s. Nothing is written when refused.
pub async fn save(
    conn: &mut Conn<'_>,
    actor: &Actor,
    at: Timestamp,
    party: PartyOrgId,
    scoring: Scoring<'_>,
    today: NaiveDate,
) -> Result<i64> {
    let row = get(conn, &Scope::All, party).await?;
    let year = scoring.year;
    let existed = i64::from(row.established_on.year()) <= year
        && row.dissolved_on.is_none_or(|d| i64::from(d.year()) >= year);
    if !(2000..=i64::from(today.year())).contains(&year) || !existed {
        return Err(Error::field(
            "year",
            Msg::new("party.error.assessment_year").with("year", year),
        ));
    }
    let note = scoring.note.trim();
    if note.chars().count() > 500 {
        return Err(Error::field(
            "note",
            Msg::new("error.field.too_long").with("max", 500),
        ));
    }
    let existing = find(conn, party, year).await?;
    let template = match (&existing, scoring.version) {
        (Some(e), Some(v)) if e.version == v => e.template_id,
        (Some(_), _) => return Err(Error::Conflict(Msg::new("party.error.assessment_stale"))),
        (None, _) => match current_template(conn).await? {
            Some((t, _)) => t.id,
            None => return Err(Error::Conflict(Msg::new("party.error.no_template"))),
        },
    };
    let items = template_items(conn, template).await?;
    let scores = parse_scores(&items, scoring.fields).map_err(Error::Invalid)?;
    let total: i64 = scores.iter().map(|(_, s)| s).sum();
    let max_total: i64 = items.iter().map(|i| i.max_score).sum();
    let band = thresholds(conn, today).await?.band(total, max_total);
    let id = match &existing {
        Some(e) => {
            let changed = Sql::new("update party_assessments set total = $1, max_total = $2, band = $3, assessed_on = $4, assessed_by = $5, note = $6, version = version + 1, updated_at = $7 where id = $8 and version = $9")
                .arg(total)
                .arg(max_total)
                .arg(band.as_str())
                .arg(today)
                .arg(actor.name.as_str())
                .arg(note)
                .arg(at)
                .arg(e.id)
                .arg(e.version)
                .execute(conn)
                .await?;
            if changed != 1 {
                return Err(Error::Conflict(Msg::new("party.error.assessment_stale")));
            }
            Sql::new("delete from party_assessment_scores where assessment_id = $1")
                .arg(e.id)
                .execute(conn)
                .await?;
            e.id
        }
        None => Sql::new("insert into party_assessments (party_org_id, year, template_id, total, max_total, band, assessed_on, assessed_by, note, version, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10) returning id")
            .arg(party)
            .arg(year)
            .arg(template)
            .arg(total)
            .arg(max_total)
            .arg(band.as_str())
            .arg(today)
            .arg(actor.name.as_str())
            .arg(note)
            .arg(at)
            .fetch_i64(conn)
            .await?,
    };
    for (item, score) in &scores {
        Sql::new("insert into party_assessment_scores (assessment_id, item_id, score) values ($1, $2, $3)")
            .arg(id)
            .arg(*item)
            .arg(*score)
            .execute(conn)
            .await?;
    }
    append(
        conn,
        at,
        actor,
        NewEntry::of(
            "assess",
            "party_org",
            Some(party.0),
            &format!("{year} {total}/{max_total} {}", band.as_str()),
        ),
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_the_share_of_the_maximum() {
        let t = Thresholds {
            excellent: 90,
            good: 80,
            pass: 60,
        };
        assert_eq!(t.band(90, 100), Band::Excellent);
        assert_eq!(t.band(89, 100), Band::Good);
        assert_eq!(t.band(60, 100), Band::Pass);
        assert_eq!(t.band(59, 100), Band::Fail);
        // 45 of 50 is 90 %.
        assert_eq!(t.band(45, 50), Band::Excellent);
    }

    #[test]
    fn the_default_template_is_worth_a_hundred() {
        assert_eq!(
            default_items().iter().map(|i| i.max_score).sum::<i64>(),
            100
        );
        let text = items_text(&default_items());
        assert_eq!(parse_items(&text).unwrap(), default_items());
    }

    #[test]
    fn template_lines_are_checked_by_line() {
        let e =
            parse_items("组织建设 | 建立党组织 | 10\n制度建设 | 议事规则\n作用发挥｜发挥作用｜0")
                .unwrap_err();
        let keys: Vec<_> = e.0.iter().map(|(_, m)| m.key).collect();
        assert_eq!(keys, ["party.error.item_line", "party.error.item_max"]);
        assert!(parse_items("  \n").is_err());
    }
}
