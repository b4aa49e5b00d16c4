//! Search (检索) on any text, as a name and as a query: folding is idempotent, a name is found
//! by itself, the index tokens are plain fixed-width ASCII, and the SQL is built on both
//! engines without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shezu::db::{Backend, Sql};
use shezu::registry::search::{SearchKeys, fold, push_condition, query_terms, tsvector};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (name, query) = text.split_once('\n').unwrap_or((text, text));
    let folded = fold(name);
    assert_eq!(fold(&folded), folded, "fold is idempotent");
    let keys = SearchKeys::of(name, &[query.to_owned()]);
    if !query_terms(name).is_empty() {
        assert!(keys.matches(name), "{name:?} does not find itself");
    }
    let tokens = keys.tokens();
    for token in tokens.split(' ').filter(|t| !t.is_empty()) {
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "token {token:?}"
        );
    }
    let _ = tsvector(&tokens);
    let terms = query_terms(query);
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let mut sql = Sql::new("select o.id from organizations o where 1=1");
        push_condition(&mut sql, backend, &terms);
    }
});
