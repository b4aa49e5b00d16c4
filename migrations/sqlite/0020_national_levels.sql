-- The national levels above the district (nation, province, prefecture), for a national area tree
-- (`shezu demo --scale`). SQLite cannot change a CHECK constraint in place, so the table is
-- rebuilt: copied aside, dropped, created with the wider check and filled again. Foreign keys
-- that point at areas are deferred to the end of the migration's transaction, by when every row
-- is back under the same id. Keep in step with migrations/postgres/0020_national_levels.sql.
pragma defer_foreign_keys = on;

create table areas_copy as select * from areas;
drop table areas;
create table areas (
    id integer primary key,
    code text not null unique,
    name text not null,
    level text not null check (level in ('nation', 'province', 'prefecture', 'district', 'functional_area', 'street', 'community')),
    parent_id integer references areas (id),
    depth integer not null,
    valid_from date,
    valid_to date
);
insert into areas (id, code, name, level, parent_id, depth, valid_from, valid_to)
    select id, code, name, level, parent_id, depth, valid_from, valid_to from areas_copy order by id;
drop table areas_copy;
create index areas_parent on areas (parent_id);
