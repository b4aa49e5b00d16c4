-- Area-scoped lists and counts (an area officer's, which are counted in SQL) filter by area and
-- kind together; with only (kind, status) SQLite checked hundreds of thousands of rows' areas
-- one by one at a million organizations. Keep in step with migrations/postgres/0010.
create index organizations_area_kind on organizations (area_id, kind);
