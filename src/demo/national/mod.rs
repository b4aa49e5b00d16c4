//! The national dataset (全国数据集, `shezu demo --scale N`): a registry of N organizations over
//! the real county-level divisions of the mainland (`data/china_divisions_county.csv`), with
//! annual reports and volunteer records in proportion, for measuring shezu at national scale.
//!
//! Deterministic: one seeded generator walks the counties in code order, so the same N and seed
//! always give the same rows (ids included). The proportions are constants below and in
//! [`rows`]; the README ("At national scale") lists them.

pub mod rows;

use super::DemoError;
use super::names;
use super::rng::Rng;
use crate::areas::{self, AreaLevel, Division};
use crate::db::{Backend, Db, Sql};
use crate::registry::OrgKind;
use crate::registry::uscc::Uscc;
use chrono::{Datelike, NaiveDate};
use rows::{OrgRow, Writer};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// The last day of the generated history: registrations, reports and services end here.
pub const AS_OF: (i32, u32, u32) = (2025, 6, 30);

/// Share of each kind in percent (社会团体, 民办非企业单位, 基金会, 社区社会组织): the
/// registered organizations split as the 2023 national statistics do (about 370k social groups,
/// 510k private non-enterprise units, 9.6k foundations), and filed community organizations
/// make up the rest.
pub const KIND_SHARES: [(OrgKind, u32); 4] = [
    (OrgKind::SocialGroup, 25),
    (OrgKind::PrivateNonEnterprise, 34),
    (OrgKind::Foundation, 1),
    (OrgKind::Community, 40),
];

/// The first serial each registering authority issues (not 000001: codes were issued before).
const FIRST_SERIAL: u32 = 100_000;

/// Username of the nationwide administrator the generator creates.
pub const ROOT_ADMIN: &str = "admin";

/// What a national generation wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScaleSummary {
    /// Rows written per table, in writing order.
    pub rows: Vec<(&'static str, u64)>,
    /// Wall time of the whole run, in seconds.
    pub seconds: f64,
}

impl ScaleSummary {
    /// Rows written over every table.
    pub fn total_rows(&self) -> u64 {
        self.rows.iter().map(|(_, n)| n).sum()
    }
}

/// Generates the national dataset of `orgs` organizations into an empty database. Progress
/// goes to `progress` (one line at a time). Refuses a database that has areas or organizations.
pub async fn generate(
    db: &Db,
    orgs: usize,
    seed: u64,
    progress: &mut dyn FnMut(String),
) -> Result<ScaleSummary, DemoError> {
    let started = Instant::now();
    let mut w = Writer::open(db).await?;
    if w.count("select count(*) from areas").await? > 0
        || w.count("select count(*) from organizations").await? > 0
    {
        return Err(DemoError::NotEmpty);
    }
    let divisions = areas::national_divisions();
    let area_ids = w.insert_areas(&divisions).await?;
    let domains: HashMap<String, i64> = Sql::new("select code, id from domains")
        .fetch_all::<(String, i64)>(&mut w.conn())
        .await?
        .into_iter()
        .collect();
    let salt = crate::volunteers::store::salt(&mut w.conn()).await?;
    let places = Places::new(&divisions);
    let counts = allocate(orgs, &places.counties, seed);
    w.prepare_bulk().await?;
    w.begin().await?;

    let mut rng = Rng::new(seed);
    let mut used_names: HashSet<String> = HashSet::with_capacity(orgs);
    let mut serials: HashMap<String, u32> = HashMap::new();
    let mut id = 0i64;
    let mut last_report = Instant::now();
    for (county, &count) in places.counties.iter().zip(&counts) {
        let place = places.place_of(county);
        for _ in 0..count {
            id += 1;
            let org = plan_org(&mut rng, id, &place, &mut used_names, &mut serials);
            let area_id = area_ids[&county.code];
            let domain_id = domains.get(org.domain).copied().unwrap_or_default();
            w.push_org(org, area_id.0, domain_id, &salt, &mut rng)
                .await?;
            if last_report.elapsed().as_secs() >= 5 {
                let s = started.elapsed().as_secs_f64();
                progress(crate::i18n::Lang::Zh.tf(
                    "cli.scale_progress",
                    &[
                        ("orgs", &id.to_string()),
                        ("total", &orgs.to_string()),
                        ("rows", &w.rows_written().to_string()),
                        ("rate", &format!("{:.0}", w.rows_written() as f64 / s)),
                    ],
                ));
                last_report = Instant::now();
            }
        }
    }
    w.finish_bulk().await?;
    // Codes issued from now on continue each authority's series.
    let mut issued: Vec<(&String, &u32)> = serials.iter().collect();
    issued.sort();
    for (division, next) in issued {
        crate::registry::store::set_next_serial(&mut w.conn(), division, i64::from(*next)).await?;
    }
    w.create_root_admin().await?;
    w.commit().await?;
    w.after_load(progress).await?;
    Ok(ScaleSummary {
        rows: w.into_counts(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Each county's share of `total` organizations: a deterministic weight per county (urban
/// districts, 区, weigh about twice as much as counties), split by largest remainder so the
/// shares add up to exactly `total`.
pub fn allocate(total: usize, counties: &[&Division], seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed ^ 0xC0_0E7A);
    let weights: Vec<u64> = counties
        .iter()
        .map(|c| {
            let base = rng.between(20, 200) as u64;
            if c.name.ends_with('区') {
                base * 2
            } else {
                base
            }
        })
        .collect();
    let sum: u64 = weights.iter().sum::<u64>().max(1);
    let exact: Vec<(usize, u64)> = weights
        .iter()
        .map(|w| {
            let scaled = total as u128 * u128::from(*w);
            (
                (scaled / u128::from(sum)) as usize,
                (scaled % u128::from(sum)) as u64,
            )
        })
        .collect();
    let mut counts: Vec<usize> = exact.iter().map(|(n, _)| *n).collect();
    let short = total - counts.iter().sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..counties.len()).collect();
    by_remainder.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for i in by_remainder.into_iter().take(short) {
        counts[i] += 1;
    }
    counts
}

/// Where organizations can be: the counties, and the names around each.
struct Places<'a> {
    counties: Vec<&'a Division>,
    by_code: HashMap<&'a str, &'a Division>,
}

/// One county with the names organizations there carry.
pub struct Place {
    /// The county's 6-digit code (the registering authority of its social groups and
    /// private non-enterprise units).
    pub county_code: String,
    /// The province's code (the registering authority of foundations).
    pub province_code: String,
    /// "海淀区".
    pub county: String,
    /// "海淀".
    pub county_short: String,
    /// "北京市".
    pub province: String,
    /// "北京".
    pub province_short: String,
}

impl<'a> Places<'a> {
    fn new(divisions: &'a [Division]) -> Places<'a> {
        let mut counties: Vec<&Division> = divisions
            .iter()
            .filter(|d| d.level == AreaLevel::District)
            .collect();
        counties.sort_by(|a, b| a.code.cmp(&b.code));
        Places {
            counties,
            by_code: divisions.iter().map(|d| (d.code.as_str(), d)).collect(),
        }
    }

    fn place_of(&self, county: &Division) -> Place {
        let mut province = county;
        while province.level > AreaLevel::Province {
            match province
                .parent_code
                .as_deref()
                .and_then(|p| self.by_code.get(p))
            {
                Some(parent) => province = parent,
                None => break,
            }
        }
        Place {
            county_code: county.code.clone(),
            province_code: province.code.clone(),
            county: county.name.clone(),
            county_short: short_name(&county.name, &["自治县", "区", "县", "市", "旗"]),
            province: province.name.clone(),
            province_short: short_name(
                &province.name,
                &[
                    "壮族自治区",
                    "回族自治区",
                    "维吾尔自治区",
                    "自治区",
                    "省",
                    "市",
                ],
            ),
        }
    }
}

/// A name without its administrative suffix, if at least two characters remain.
fn short_name(name: &str, suffixes: &[&str]) -> String {
    suffixes
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .filter(|stem| stem.chars().count() >= 2)
        .unwrap_or(name)
        .to_owned()
}

/// Moves a text the demo's name tables write for Binhai New Area to `place`.
pub fn localize(text: &str, place: &Place) -> String {
    let full = format!("{}{}", place.province, place.county);
    let short = format!("{}{}", place.province_short, place.county_short);
    text.replace("天津市滨海新区", &full)
        .replace("天津滨海新区", &short)
        .replace("滨海新区", &place.county)
        .replace("天津市滨海", &short)
        .replace("天津市", &place.province)
        .replace("天津", &place.province_short)
        .replace("滨海", &place.county_short)
}

/// Weighted choice from a table of (item, weight).
fn weighted<T: Copy>(rng: &mut Rng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut x = rng.below(total as usize) as u32;
    for (item, w) in table {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    table[0].0
}

/// The day `days` after 1 January of `year`, capped at [`AS_OF`].
fn day_of(year: i32, days: i64) -> NaiveDate {
    let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    (start + chrono::Duration::days(days)).min(as_of())
}

/// [`AS_OF`] as a date.
pub fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(AS_OF.0, AS_OF.1, AS_OF.2).unwrap_or_default()
}

/// Decides one organization (pure given the generator's state): kind, domain, a name unique
/// across the nation, place, dates, status, grade and a valid USCC from its authority's series.
fn plan_org(
    rng: &mut Rng,
    id: i64,
    place: &Place,
    used_names: &mut HashSet<String>,
    serials: &mut HashMap<String, u32>,
) -> OrgRow {
    let kind = weighted(rng, &KIND_SHARES);
    let domain = match kind {
        OrgKind::SocialGroup => weighted(rng, super::SOCIAL_GROUP_DOMAINS),
        OrgKind::PrivateNonEnterprise => weighted(rng, super::PNE_DOMAINS),
        OrgKind::Foundation => weighted(rng, &[("charity", 6), ("education", 2), ("other", 1)]),
        OrgKind::Community => weighted(rng, super::COMMUNITY_DOMAINS),
    };
    // Registrations grow towards the present: the year is drawn with a square bias.
    let u = rng.below(10_000) as f64 / 10_000.0;
    let first_year = if kind == OrgKind::Community {
        2008
    } else {
        1990
    };
    let span = (AS_OF.0 - first_year) as f64;
    let year = AS_OF.0 - (span * u * u) as i32;
    let registered_on = day_of(year, rng.between(0, 364));
    let name = unique_name(rng, used_names, kind, domain, place);
    let registered = kind.is_registered();
    let status = if registered {
        weighted(
            rng,
            &[
                ("active", 90),
                ("abnormal", 4),
                ("deregistered", 4),
                ("revoked", 2),
            ],
        )
    } else {
        weighted(rng, &[("active", 95), ("deregistered", 5)])
    };
    let direct = registered
        && year >= 2013
        && super::DIRECT_DOMAINS.iter().any(|(d, _)| *d == domain)
        && rng.chance(40);
    let uscc = registered.then(|| {
        let (category, division) = match kind {
            OrgKind::SocialGroup => ('1', &place.county_code),
            OrgKind::PrivateNonEnterprise => ('2', &place.county_code),
            _ => ('3', &place.province_code),
        };
        let next = serials.entry(division.clone()).or_insert(FIRST_SERIAL);
        let code = Uscc::generate(category, division, *next);
        *next += 1;
        code.as_str().to_owned()
    });
    let live = matches!(status, "active" | "abnormal");
    let (grade, grade_expires_on) = if registered && live && year <= 2021 && rng.chance(10) {
        let grade = weighted(
            rng,
            &[("1A", 7), ("2A", 15), ("3A", 45), ("4A", 25), ("5A", 8)],
        );
        let graded = day_of(
            rng.between(i64::from(year) + 2, 2024) as i32,
            rng.between(0, 364),
        );
        let expires = graded
            .with_year(graded.year() + 5)
            .unwrap_or(graded + chrono::Duration::days(5 * 365));
        (Some(grade), Some(expires))
    } else {
        (None, None)
    };
    let capital_yuan = match kind {
        OrgKind::SocialGroup => rng.between(3, 50) * 10_000,
        OrgKind::PrivateNonEnterprise => rng.between(3, 200) * 10_000,
        OrgKind::Foundation => rng.between(200, 2_000) * 10_000,
        OrgKind::Community => 0,
    };
    let street = format!("{}街道", place.county_short);
    OrgRow {
        id,
        uscc,
        name_key: crate::registry::name_key(&name),
        name,
        kind,
        domain,
        direct_registration: direct,
        supervisory_unit: (registered && !direct)
            .then(|| localize(&names::supervisory_unit(rng, domain), place)),
        legal_representative: names::person_name(rng),
        contact_person: names::person_name(rng),
        contact_phone: names::phone(rng),
        address: localize(&names::address(rng, &street, None), place),
        founded_on: registered_on - chrono::Duration::days(rng.between(0, 90)),
        registered_on,
        registered_capital_fen: registered.then_some(capital_yuan * 100),
        members: match kind {
            OrgKind::SocialGroup => Some(rng.between(50, 600)),
            OrgKind::Community => Some(rng.between(10, 120)),
            _ => None,
        },
        staff: registered.then(|| rng.between(1, 40)),
        business_scope: names::scope_of_activities(rng, kind.as_str(), domain),
        status,
        grade,
        grade_expires_on,
        brand: live && rng.chance(1),
    }
}

/// A name no other generated organization has (after folding); after a few draws that all
/// clash, the county's name is put in front, then a numbered branch, so the loop always ends.
fn unique_name(
    rng: &mut Rng,
    used: &mut HashSet<String>,
    kind: OrgKind,
    domain: &str,
    place: &Place,
) -> String {
    let street = format!("{}街道", place.county_short);
    let mut name = String::new();
    for attempt in 0.. {
        name = localize(
            &names::org_name(rng, kind.as_str(), domain, &street, None),
            place,
        );
        if attempt >= 8 && !name.starts_with(&place.county) {
            name = format!("{}{name}", place.county);
        }
        if attempt >= 16 {
            name = format!("{name}（{}）", attempt - 14);
        }
        if used.insert(crate::registry::name_key(&name)) {
            break;
        }
    }
    name
}

/// The statement that starts a bulk transaction on `backend`.
fn begin_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "begin immediate",
        Backend::Postgres => "begin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact_and_deterministic() {
        let d = areas::national_divisions();
        let places = Places::new(&d);
        for total in [0, 1, 2_000, 1_000_003] {
            let counts = allocate(total, &places.counties, 5);
            assert_eq!(counts.iter().sum::<usize>(), total);
            assert_eq!(counts, allocate(total, &places.counties, 5));
        }
        assert_ne!(
            allocate(50_000, &places.counties, 5),
            allocate(50_000, &places.counties, 6)
        );
    }

    #[test]
    fn names_move_to_their_county() {
        let d = areas::national_divisions();
        let places = Places::new(&d);
        let haidian = places.counties.iter().find(|c| c.code == "110108").unwrap();
        let place = places.place_of(haidian);
        assert_eq!(place.province_code, "110000");
        assert_eq!(place.county_short, "海淀");
        assert_eq!(
            localize("天津市滨海新区书法家协会", &place),
            "北京市海淀区书法家协会"
        );
        assert_eq!(localize("滨海新区民政局", &place), "海淀区民政局");
        let mut rng = Rng::new(1);
        let mut used = HashSet::new();
        let mut serials = HashMap::new();
        for id in 1..=3_000 {
            let org = plan_org(&mut rng, id, &place, &mut used, &mut serials);
            assert!(
                !org.name.contains("滨海") && !org.name.contains("天津"),
                "{}",
                org.name
            );
            if let Some(code) = &org.uscc {
                assert!(Uscc::parse(code).is_ok(), "{code}");
            }
        }
        assert_eq!(used.len(), 3_000);
    }
}
