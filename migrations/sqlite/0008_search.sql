-- Chinese search over organization names (src/registry/search.rs): the folded strings of each
-- organization, and their pair tokens in a contentless FTS5 table (rowid = organization id).
-- Keep in step with migrations/postgres/0008_search.sql. Rows are written by the application
-- in the same transaction as the registry write; existing organizations are indexed at start.

create table org_search (
    org_id integer primary key references organizations (id),
    name text not null,
    former text not null,
    pinyin text not null,
    initials text not null
);

create virtual table org_search_fts using fts5 (
    org_id unindexed,
    tokens,
    content = '',
    contentless_delete = 1,
    prefix = '4'
);
