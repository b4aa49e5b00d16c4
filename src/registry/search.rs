//! Chinese search over organization names (名称检索): exact substring semantics for queries of
//! any length, pinyin and pinyin initials, full-width/half-width, case and
//! traditional/simplified folding, identical on SQLite and PostgreSQL.
//!
//! How: every searchable string of an organization (its name, its former names, their full
//! pinyin and their pinyin initials) is folded, then cut into overlapping two-character tokens
//! plus a one-character token for its last character. A query of two or more characters is the
//! phrase of its own two-character tokens, which matches exactly where the query is a
//! substring; a one-character query is a prefix match on the tokens. SQLite keeps the tokens in
//! a contentless FTS5 table, PostgreSQL in a GIN-indexed `tsvector`; both are written in the
//! same transaction as the registry write. Tokens are encoded as base-32 code points so that
//! neither database's tokenizer ever splits or normalises them.
//! (Datasette's trigram FTS returns nothing for 2-character words; jieba segmentation misses a
//! fifth of them — see ARCHITECTURE.md.)

use super::OrgId;
use crate::db::{Backend, Conn, Sql};
use crate::error::Result;
use pinyin::ToPinyin;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The longest query term considered (characters); longer input is cut.
const MAX_TERM_CHARS: usize = 40;
/// At most this many whitespace-separated terms are combined (AND).
const MAX_TERMS: usize = 6;
/// Separates the strings of one organization inside its token stream, so that no phrase spans
/// two of them ('z' never occurs in an encoded code point).
const SEPARATOR: &str = "zz";

/// Traditional → simplified characters (fast2s's table, MIT; see data/vendor/t2s.LICENSE).
fn traditional_to_simplified() -> &'static HashMap<char, char> {
    static MAP: OnceLock<HashMap<char, char>> = OnceLock::new();
    MAP.get_or_init(|| {
        include_str!("../../data/vendor/t2s.txt")
            .lines()
            .filter_map(|line| {
                let mut chars = line.split_whitespace().map(|w| w.chars().next());
                Some((chars.next()??, chars.next()??))
            })
            .collect()
    })
}

/// Folds text for search: full-width → half-width, lower case, traditional → simplified
/// characters, whitespace removed. Queries and stored strings go through the same fold.
pub fn fold(text: &str) -> String {
    let t2s = traditional_to_simplified();
    text.chars()
        .filter_map(|c| {
            let c = match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '\u{3000}' => ' ',
                _ => c,
            };
            if c.is_whitespace() {
                return None;
            }
            let c = c.to_lowercase().next().unwrap_or(c);
            Some(*t2s.get(&c).unwrap_or(&c))
        })
        .collect()
}

/// Words whose characters read differently from their most common reading (多音字), as they
/// occur in organization names.
const WORD_READINGS: &[(&str, &[&str])] = &[
    ("行业", &["hang", "ye"]),
    ("银行", &["yin", "hang"]),
    ("音乐", &["yin", "yue"]),
    ("乐团", &["yue", "tuan"]),
    ("乐器", &["yue", "qi"]),
    ("长城", &["chang", "cheng"]),
    ("长寿", &["chang", "shou"]),
    ("长跑", &["chang", "pao"]),
    ("重庆", &["chong", "qing"]),
    ("单亲", &["dan", "qin"]),
    ("调解", &["tiao", "jie"]),
    ("朝阳", &["chao", "yang"]),
];

/// The pinyin syllable of every character of folded text, `ü` written `v` as keyboards do;
/// letters and digits stand for themselves, other characters are dropped.
fn syllables(folded: &str) -> Vec<String> {
    let chars: Vec<char> = folded.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if let Some((word, readings)) = WORD_READINGS.iter().find(|(word, _)| {
            let n = word.chars().count();
            i + n <= chars.len() && chars[i..i + n].iter().copied().eq(word.chars())
        }) {
            out.extend(readings.iter().map(|r| (*r).to_owned()));
            i += word.chars().count();
            continue;
        }
        let c = chars[i];
        if let Some(p) = c.to_pinyin() {
            out.push(p.plain().replace('ü', "v"));
        } else if c.is_ascii_alphanumeric() {
            out.push(c.to_string());
        }
        i += 1;
    }
    out
}

/// The full pinyin and the pinyin initials of folded text (九九华龄 → `jiujiuhualing`, `jjhl`).
pub fn pinyin_keys(folded: &str) -> (String, String) {
    let syllables = syllables(folded);
    let initials = syllables
        .iter()
        .filter_map(|s| s.chars().next())
        .collect::<String>();
    (syllables.concat(), initials)
}

/// The searchable strings of one organization, folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchKeys {
    /// The current name.
    pub name: String,
    /// Former names, `|`-separated.
    pub former: String,
    /// Full pinyin of the name and former names, `|`-separated.
    pub pinyin: String,
    /// Pinyin initials of the name and former names, `|`-separated.
    pub initials: String,
}

impl SearchKeys {
    /// The keys of a name and its former names.
    pub fn of(name: &str, former_names: &[String]) -> SearchKeys {
        let name = fold(name);
        let mut former: Vec<String> = former_names
            .iter()
            .map(|n| fold(n))
            .filter(|n| !n.is_empty() && *n != name)
            .collect();
        former.sort();
        former.dedup();
        let (mut pinyin, mut initials) = (Vec::new(), Vec::new());
        for text in std::iter::once(&name).chain(&former) {
            let (full, first) = pinyin_keys(text);
            pinyin.push(full);
            initials.push(first);
        }
        SearchKeys {
            name,
            former: former.join("|"),
            pinyin: pinyin.join("|"),
            initials: initials.join("|"),
        }
    }

    /// Every string a query is matched against.
    pub fn strings(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain(self.former.split('|'))
            .chain(self.pinyin.split('|'))
            .chain(self.initials.split('|'))
            .filter(|s| !s.is_empty())
    }

    /// True when every term of `query` is a substring of one of the strings: the definition
    /// the index implements, used by tests as the brute-force reference.
    pub fn matches(&self, query: &str) -> bool {
        let terms = query_terms(query);
        !terms.is_empty()
            && terms
                .iter()
                .all(|t| self.strings().any(|s| s.contains(t.as_str())))
    }

    /// The token stream stored in the index (space-separated; FTS5 takes it as is).
    pub fn tokens(&self) -> String {
        let mut out = String::new();
        for s in self.strings() {
            if !out.is_empty() {
                out.push(' ');
                out.push_str(SEPARATOR);
            }
            for token in string_tokens(s) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&token);
            }
        }
        out
    }
}

/// A code point as four base-32 digits (0-9, a-v): every token the tokenizers see is plain
/// ASCII of fixed width. Code points above U+FFFFF (private use only) share one value.
fn encode(c: char, out: &mut String) {
    const DIGITS: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let n = (c as u32).min(0xF_FFFF);
    for shift in [15, 10, 5, 0] {
        out.push(DIGITS[((n >> shift) & 31) as usize] as char);
    }
}

/// The tokens of one folded string: its overlapping character pairs, then its last character.
fn string_tokens(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut tokens: Vec<String> = chars
        .windows(2)
        .map(|pair| {
            let mut t = String::with_capacity(8);
            encode(pair[0], &mut t);
            encode(pair[1], &mut t);
            t
        })
        .collect();
    if let Some(last) = chars.last() {
        let mut t = String::with_capacity(4);
        encode(*last, &mut t);
        tokens.push(t);
    }
    tokens
}

/// The folded terms of a query: split at whitespace (before folding, which removes it), at
/// most `MAX_TERMS` of at most `MAX_TERM_CHARS` characters.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = query
        .split(|c: char| c.is_whitespace() || c == '\u{3000}')
        .map(fold)
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(MAX_TERM_CHARS).collect())
        .collect();
    let mut seen = std::collections::HashSet::new();
    terms.retain(|t| seen.insert(t.clone()));
    terms.truncate(MAX_TERMS);
    terms
}

/// One term as an FTS5 query (a phrase of its pair tokens, or a prefix for one character).
fn fts5_query(term: &str) -> String {
    let tokens = query_tokens(term);
    match tokens.as_slice() {
        [single] if single.len() == 4 => format!("{single}*"),
        _ => format!("\"{}\"", tokens.join(" ")),
    }
}

/// One term as a PostgreSQL `tsquery` literal.
fn tsquery(term: &str) -> String {
    let tokens = query_tokens(term);
    match tokens.as_slice() {
        [single] if single.len() == 4 => format!("'{single}':*"),
        _ => tokens
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(" <-> "),
    }
}

/// A term's tokens: its character pairs, or the one character of a one-character term.
fn query_tokens(term: &str) -> Vec<String> {
    let chars: Vec<char> = term.chars().collect();
    if chars.len() == 1 {
        let mut t = String::new();
        encode(chars[0], &mut t);
        return vec![t];
    }
    let mut tokens = string_tokens(term);
    tokens.pop(); // the last-character token is for stored strings only
    tokens
}

/// Adds ` and …` conditions on `o.id` so that only organizations matching every term of
/// `query` remain; a term that looks like the start of a credit code also matches codes that
/// begin with it.
pub fn push_condition(sql: &mut Sql, backend: Backend, terms: &[String]) {
    for term in terms {
        sql.push(" and (o.id in (");
        if backend == Backend::Postgres {
            sql.push("select org_id from org_search_fts where tokens @@ ")
                .push_arg(tsquery(term))
                .push("::tsquery");
        } else {
            sql.push("select rowid from org_search_fts where org_search_fts match ")
                .push_arg(fts5_query(term));
        }
        sql.push(")");
        if looks_like_code_prefix(term) {
            sql.push(" or o.uscc like ")
                .push_arg(format!("{}%", term.to_ascii_uppercase()));
        }
        sql.push(")");
    }
}

/// The organizations a search matches, in id order, each with its relevance to the first term
/// (so that the in-memory index can order a search without holding every name).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SearchMatches {
    /// Matching organization ids, ascending.
    pub ids: Vec<i64>,
    /// The relevance of `ids[i]` to the first term, smaller first: its category in
    /// [`push_relevance_order`] (exact name 0, name begins with the term 1, pinyin or initials
    /// begin with it 2, else 3) times [`RELEVANCE_CATEGORY`], plus the name's length in
    /// characters. A credit code typed in full is the caller's to rank first.
    pub relevance: Vec<u32>,
}

/// The factor of the category in [`SearchMatches::relevance`] (names are shorter than this).
pub const RELEVANCE_CATEGORY: u32 = 1 << 16;

/// Every organization matching every term, read from the full-text index (joined only with the
/// search rows, for the first term's relevance: the district-wide scopes see every
/// organization); credit-code prefixes add the organizations whose code begins with the term.
pub async fn matching(conn: &mut Conn<'_>, terms: &[String]) -> Result<SearchMatches> {
    let pg = conn.backend() == Backend::Postgres;
    let mut result: Option<SearchMatches> = None;
    for (n, term) in terms.iter().enumerate() {
        let first = n == 0;
        // Tens of thousands of matches come back as one comma-separated text value: one row to
        // decode instead of one per match, which is where the time went. The first term's
        // matches carry `id:category:length`.
        let mut sql = Sql::new("select coalesce(");
        match (first, pg) {
            (false, true) => sql.push("string_agg(m.id::text, ',')"),
            (false, false) => sql.push("group_concat(m.id)"),
            (true, true) => {
                sql.push("string_agg(m.id::text || ':' || (");
                push_relevance_category(&mut sql, term, false);
                sql.push(")::text || ':' || coalesce(length(s.name), 0)::text, ',')")
            }
            (true, false) => {
                sql.push("group_concat(m.id || ':' || (");
                push_relevance_category(&mut sql, term, false);
                sql.push(") || ':' || coalesce(length(s.name), 0))")
            }
        };
        sql.push(if pg {
            ", '') from (select org_id as id from org_search_fts where tokens @@ "
        } else {
            ", '') from (select rowid as id from org_search_fts where org_search_fts match "
        });
        if pg {
            sql.push_arg(tsquery(term)).push("::tsquery");
        } else {
            sql.push_arg(fts5_query(term));
        }
        if looks_like_code_prefix(term) {
            sql.push(" union select id from organizations where uscc like ")
                .push_arg(format!("{}%", term.to_ascii_uppercase()));
        }
        sql.push(") m");
        if first {
            sql.push(" left join org_search s on s.org_id = m.id");
        }
        let (text,): (String,) = sql.fetch_one(conn).await?;
        let mut found: Vec<(i64, u32)> = text.split(',').filter_map(parse_match).collect();
        found.sort_unstable();
        found.dedup_by_key(|(id, _)| *id);
        result = Some(match result {
            None => SearchMatches {
                ids: found.iter().map(|(id, _)| *id).collect(),
                relevance: found.iter().map(|(_, r)| *r).collect(),
            },
            Some(before) => before.keep(&found),
        });
        if result.as_ref().is_some_and(|r| r.ids.is_empty()) {
            break;
        }
    }
    Ok(result.unwrap_or_default())
}

/// One match as the search query spells it: `id`, or `id:category:length`.
fn parse_match(item: &str) -> Option<(i64, u32)> {
    let mut parts = item.split(':');
    let id = parts.next()?.parse().ok()?;
    let category: u32 = parts.next().and_then(|c| c.parse().ok()).unwrap_or(3);
    let length: u32 = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
    Some((
        id,
        category * RELEVANCE_CATEGORY + length.min(RELEVANCE_CATEGORY - 1),
    ))
}

impl SearchMatches {
    /// The matches also among `other` (sorted by id), keeping this search's relevance.
    fn keep(self, other: &[(i64, u32)]) -> SearchMatches {
        let mut kept = SearchMatches::default();
        let mut j = 0;
        for (id, relevance) in self.ids.into_iter().zip(self.relevance) {
            while j < other.len() && other[j].0 < id {
                j += 1;
            }
            if other.get(j).is_some_and(|(o, _)| *o == id) {
                kept.ids.push(id);
                kept.relevance.push(relevance);
            }
        }
        kept
    }
}

/// Six or more letters and digits with at least one digit: a credit code or its beginning.
fn looks_like_code_prefix(term: &str) -> bool {
    term.len() >= 6
        && term.len() <= 18
        && term.chars().all(|c| c.is_ascii_alphanumeric())
        && term.chars().any(|c| c.is_ascii_digit())
}

/// Relevance order for a query: exact name or code first, then names that begin with the first
/// term, then pinyin that begins with it, then the rest; shorter names before longer ones.
pub fn push_relevance_order(sql: &mut Sql, first_term: &str) {
    sql.push(" order by ");
    push_relevance_category(sql, first_term, true);
    sql.push(", length(s.name), o.id");
}

/// The relevance category of search row `s` for `first_term`: 0 exact name (or, with
/// `with_code`, the credit code of organization `o`), 1 name begins with it, 2 pinyin or
/// initials begin with it, 3 anything else. The index's order ([`SearchMatches`]) and SQL's
/// ([`push_relevance_order`]) both come from here.
fn push_relevance_category(sql: &mut Sql, first_term: &str, with_code: bool) {
    let prefix = format!("{}%", like_escape(first_term));
    sql.push("case when s.name = ").push_arg(first_term);
    if with_code {
        sql.push(" or lower(o.uscc) = ").push_arg(first_term);
    }
    sql.push(" then 0 when s.name like ")
        .push_arg(prefix.clone())
        .push(" escape '\\' then 1 when s.pinyin like ")
        .push_arg(prefix.clone())
        .push(" escape '\\' or s.initials like ")
        .push_arg(prefix)
        .push(" escape '\\' then 2 else 3 end");
}

/// Escapes `%`, `_` and `\` for a `like … escape '\'` pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Former names of an organization, from its field history.
async fn former_names(conn: &mut Conn<'_>, id: OrgId) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = Sql::new(
        "select f.before_value from org_change_fields f join org_changes c on c.id = f.change_id where c.org_id = $1 and f.field = 'name' and f.before_value is not null",
    )
    .arg(id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

/// (Re)writes the search entry of one organization in the caller's transaction; called by every
/// registry write, after the field history is recorded.
pub async fn index_org(conn: &mut Conn<'_>, id: OrgId, name: &str) -> Result<()> {
    let keys = SearchKeys::of(name, &former_names(conn, id).await?);
    Sql::new("delete from org_search where org_id = $1")
        .arg(id)
        .execute(conn)
        .await?;
    Sql::new(
        "insert into org_search (org_id, name, former, pinyin, initials) values ($1, $2, $3, $4, $5)",
    )
    .arg(id)
    .arg(keys.name.as_str())
    .arg(keys.former.as_str())
    .arg(keys.pinyin.as_str())
    .arg(keys.initials.as_str())
    .execute(conn)
    .await?;
    let tokens = keys.tokens();
    if conn.backend() == Backend::Postgres {
        Sql::new("delete from org_search_fts where org_id = $1")
            .arg(id)
            .execute(conn)
            .await?;
        Sql::new("insert into org_search_fts (org_id, tokens) values ($1, $2::tsvector)")
            .arg(id)
            .arg(tsvector(&tokens))
            .execute(conn)
            .await?;
    } else {
        Sql::new("delete from org_search_fts where rowid = $1")
            .arg(id)
            .execute(conn)
            .await?;
        Sql::new("insert into org_search_fts (rowid, tokens) values ($1, $2)")
            .arg(id)
            .arg(tokens)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// A token stream as a `tsvector` literal with positions (1-based, at most 16383, PostgreSQL's
/// limit; names never come near it).
pub fn tsvector(tokens: &str) -> String {
    tokens
        .split(' ')
        .enumerate()
        .take(16_383)
        .map(|(i, t)| format!("'{t}':{}", i + 1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Indexes every organization that has no search entry yet (after an upgrade, or a load that
/// bypassed the registry store); returns how many were indexed.
pub async fn index_missing(conn: &mut Conn<'_>) -> Result<usize> {
    let missing: Vec<(i64, String)> = Sql::new(
        "select o.id, o.name from organizations o where not exists (select 1 from org_search s where s.org_id = o.id) order by o.id",
    )
    .fetch_all(conn)
    .await?;
    for (id, name) in &missing {
        index_org(conn, OrgId(*id), name).await?;
    }
    Ok(missing.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_covers_width_case_space_and_traditional_characters() {
        assert_eq!(fold("滨海 新区（塘沽）ＡＢＣ協會"), "滨海新区(塘沽)abc协会");
        assert_eq!(fold("九九華齡"), "九九华龄");
        assert_eq!(fold("\u{3000}养老 "), "养老");
    }

    #[test]
    fn pinyin_and_initials_follow_the_usual_readings() {
        assert_eq!(
            pinyin_keys("九九华龄居家养老服务中心"),
            (
                "jiujiuhualingjujiayanglaofuwuzhongxin".to_owned(),
                "jjhljjylfwzx".to_owned()
            )
        );
        assert_eq!(pinyin_keys("行业协会").0, "hangyexiehui");
        assert_eq!(pinyin_keys("绿色").0, "lvse");
        assert_eq!(pinyin_keys("abc英语").1, "abcyy");
    }

    #[test]
    fn keys_match_substrings_of_names_pinyin_and_initials() {
        let keys = SearchKeys::of("颐养老年服务社", &["旧名养生会".to_owned()]);
        for hit in [
            "养老",
            "养",
            "颐养老年服务社",
            "yanglao",
            "yylnfws",
            "养生",
            "ysh",
        ] {
            assert!(keys.matches(hit), "{hit}");
        }
        for miss in ["养老院", "服务中心", "", "   ", "xyz"] {
            assert!(!keys.matches(miss), "{miss}");
        }
        assert!(keys.matches("养老 服务"), "terms are ANDed");
        assert!(!keys.matches("养老 中心"));
    }

    #[test]
    fn tokens_are_pairs_then_the_last_character_in_fixed_width_ascii() {
        let t = string_tokens("养老院");
        assert_eq!(t.len(), 3);
        assert!(t[0].len() == 8 && t[1].len() == 8 && t[2].len() == 4);
        assert!(
            t.iter()
                .all(|t| t.chars().all(|c| c.is_ascii_alphanumeric()))
        );
        assert_eq!(query_tokens("养老院"), t[..2].to_vec());
        assert!(fts5_query("养").ends_with('*'));
        assert_eq!(tsquery("养老院").matches("<->").count(), 1);
    }

    #[test]
    fn query_terms_are_folded_deduplicated_and_bounded() {
        assert_eq!(query_terms("  養老　服务 养老 "), vec!["养老", "服务"]);
        assert_eq!(
            query_terms(&"长".repeat(100))[0].chars().count(),
            MAX_TERM_CHARS
        );
        assert_eq!(query_terms("a b c d e f g h").len(), MAX_TERMS);
    }

    #[test]
    fn later_terms_keep_the_first_terms_relevance() {
        let first = SearchMatches {
            ids: vec![1, 3, 5, 9],
            relevance: vec![10, 30, 50, 90],
        };
        let kept = first.keep(&[(2, 0), (3, 0), (9, 0), (10, 0)]);
        assert_eq!(kept.ids, vec![3, 9]);
        assert_eq!(kept.relevance, vec![30, 90]);
        assert!(SearchMatches::default().keep(&[(1, 0)]).ids.is_empty());
    }

    #[test]
    fn matches_are_read_with_or_without_relevance() {
        assert_eq!(parse_match("42"), Some((42, 3 * RELEVANCE_CATEGORY)));
        assert_eq!(parse_match("7:1:12"), Some((7, RELEVANCE_CATEGORY + 12)));
        assert_eq!(parse_match(""), None);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_escape("100%_a\\"), "100\\%\\_a\\\\");
    }

    #[test]
    fn code_prefixes_are_recognised() {
        assert!(looks_like_code_prefix("52120116"));
        assert!(!looks_like_code_prefix("yanglao"));
        assert!(!looks_like_code_prefix("123"));
    }
}
