-- Chinese search over organization names (src/registry/search.rs): the folded strings of each
-- organization, and their pair tokens as a tsvector built by the application (never by
-- to_tsvector, which would make one lexeme of a whole CJK run). Keep in step with
-- migrations/sqlite/0008_search.sql.

create table org_search (
    org_id bigint primary key references organizations (id),
    name text not null,
    former text not null,
    pinyin text not null,
    initials text not null
);

create table org_search_fts (
    org_id bigint primary key references organizations (id),
    tokens tsvector not null
);
create index org_search_fts_tokens on org_search_fts using gin (tokens);
