-- The national levels above the district (nation, province, prefecture), for a national area tree
-- (`shezu demo --scale`). Keep in step with migrations/sqlite/0020_national_levels.sql.
alter table areas drop constraint areas_level_check;
alter table areas add constraint areas_level_check
    check (level in ('nation', 'province', 'prefecture', 'district', 'functional_area', 'street', 'community'));
