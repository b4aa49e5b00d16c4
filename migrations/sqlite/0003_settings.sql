-- Installation settings with effective dates: a change never overwrites, it adds a row that
-- takes effect on its date, so past figures keep the values that applied then.
-- Keep in step with migrations/postgres/0003_settings.sql.
create table settings_history (
    id integer primary key,
    key text not null,
    value text not null,
    effective_from date not null,
    changed_by text not null,
    changed_at text not null
);
create index settings_history_key on settings_history (key, effective_from);
