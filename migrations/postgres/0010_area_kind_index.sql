-- Area-scoped lists and counts (an area officer's, which are counted in SQL) filter by area and
-- kind together. Keep in step with migrations/sqlite/0010.
create index organizations_area_kind on organizations (area_id, kind);
