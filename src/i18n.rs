//! The message catalogue: every text a user reads, in Simplified Chinese (the default) and
//! English. Texts live in `locales/zh-CN.txt` and `locales/en.txt` (`key = text`, `{name}`
//! placeholders), embedded in the binary; a test keeps the two files' keys identical.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The language of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Lang {
    /// 简体中文 (default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Parses a `lang` parameter or cookie value (`zh`, `zh-CN`, `en`, …).
    pub fn parse(value: &str) -> Option<Lang> {
        let v = value.trim().to_ascii_lowercase();
        if v == "en" || v.starts_with("en-") {
            Some(Lang::En)
        } else if v == "zh" || v.starts_with("zh-") {
            Some(Lang::Zh)
        } else {
            None
        }
    }

    /// The BCP 47 tag for `<html lang>` and cookies.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The catalogue text for `key`; a missing key shows the key itself (and fails the catalogue
    /// test) rather than crashing a page.
    pub fn t(self, key: &str) -> &'static str {
        let catalogue = match self {
            Lang::Zh => &*ZH,
            Lang::En => &*EN,
        };
        match catalogue.get(key) {
            Some(text) => text,
            None => {
                tracing::warn!(key, "missing message");
                Box::leak(key.to_owned().into_boxed_str())
            }
        }
    }

    /// The catalogue text for `key` with `{name}` placeholders filled from `args`.
    pub fn tf(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

static ZH: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| parse_catalogue(include_str!("../locales/zh-CN.txt")));
static EN: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| parse_catalogue(include_str!("../locales/en.txt")));

/// Parses `key = text` lines; blank lines and `#` comments are skipped.
pub fn parse_catalogue(source: &'static str) -> HashMap<&'static str, &'static str> {
    source
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

/// A message not yet rendered: a catalogue key and its arguments, rendered in the reader's
/// language when it is shown (field errors, flash messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Catalogue key.
    pub key: &'static str,
    /// Placeholder values.
    pub args: Vec<(&'static str, String)>,
    /// Placeholder values that are themselves catalogue keys, translated when rendered.
    pub key_args: Vec<(&'static str, String)>,
}

impl Msg {
    /// A message without arguments.
    pub fn new(key: &'static str) -> Msg {
        Msg {
            key,
            args: Vec::new(),
            key_args: Vec::new(),
        }
    }

    /// Adds a placeholder value.
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Msg {
        self.args.push((name, value.to_string()));
        self
    }

    /// Adds a placeholder whose value is the catalogue text of `key`.
    pub fn with_key(mut self, name: &'static str, key: impl ToString) -> Msg {
        self.key_args.push((name, key.to_string()));
        self
    }

    /// The text in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        let mut args: Vec<(&str, &str)> = self.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        args.extend(self.key_args.iter().map(|(k, key)| (*k, lang.t(key))));
        lang.tf(self.key, &args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let mut zh: Vec<_> = ZH.keys().collect();
        let mut en: Vec<_> = EN.keys().collect();
        zh.sort();
        en.sort();
        let only_zh: Vec<_> = zh.iter().filter(|k| !EN.contains_key(**k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !ZH.contains_key(**k)).collect();
        assert!(only_zh.is_empty(), "keys only in zh-CN: {only_zh:?}");
        assert!(only_en.is_empty(), "keys only in en: {only_en:?}");
    }

    #[test]
    fn no_key_is_defined_twice() {
        // A second definition silently replaces the first (one page's label changes another's).
        for source in [
            include_str!("../locales/zh-CN.txt"),
            include_str!("../locales/en.txt"),
        ] {
            let mut seen = std::collections::HashSet::new();
            for line in source.lines().map(str::trim) {
                if let Some((key, _)) = line.split_once(" = ").filter(|_| !line.starts_with('#')) {
                    assert!(seen.insert(key.trim()), "{} defined twice", key.trim());
                }
            }
        }
    }

    #[test]
    fn every_key_used_in_code_and_templates_exists() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut missing = Vec::new();
        for dir in ["src", "templates"] {
            visit(&root.join(dir), &mut |text| {
                for key in used_keys(text) {
                    if !ZH.contains_key(key.as_str()) {
                        missing.push(key);
                    }
                }
            });
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "message keys used but not in the catalogue: {missing:?}"
        );
    }

    /// English texts that quote Chinese on purpose (a search example, a term of art).
    const ENGLISH_QUOTING_CHINESE: [&str; 2] =
        ["application.charter_clause", "portal.search.placeholder"];

    #[test]
    fn every_english_text_is_translated_with_the_same_placeholders() {
        let placeholders = |s: &str| {
            let mut names: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(n, _)| n.to_owned()))
                .collect();
            names.sort();
            names
        };
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        for (key, en) in EN.iter() {
            let zh = ZH.get(key).copied().unwrap_or_default();
            assert!(!en.trim().is_empty(), "{key}: empty English text");
            assert!(
                !cjk(en) || ENGLISH_QUOTING_CHINESE.contains(key),
                "{key}: English text is untranslated: {en}"
            );
            assert_eq!(
                placeholders(en),
                placeholders(zh),
                "{key}: placeholders differ"
            );
        }
    }

    #[test]
    fn placeholders_are_filled_and_lang_parses() {
        assert_eq!(Lang::parse("en-GB"), Some(Lang::En));
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::parse("fr"), None);
        let m = Msg::new("error.field.too_long").with("max", 100);
        assert!(m.render(Lang::En).contains("100"));
        assert!(m.render(Lang::Zh).contains("100"));
    }

    fn visit(dir: &std::path::Path, f: &mut dyn FnMut(&str)) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, f);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                f(&text);
            }
        }
    }

    /// Keys passed as string literals to `t(`, `tf(` or `Msg::new(`.
    fn used_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for marker in ["t(\"", "tf(\"", "Msg::new(\"", "flash(\""] {
            let mut rest = text;
            while let Some(pos) = rest.find(marker) {
                rest = &rest[pos + marker.len()..];
                if let Some(end) = rest.find('"') {
                    let key = &rest[..end];
                    let looks_like_key = key.contains('.')
                        && key
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
                    if looks_like_key {
                        keys.push(key.to_owned());
                    }
                }
            }
        }
        keys
    }
}
