-- Foundation: the area tree, the domain dictionary, the registry of organizations, its field
-- history, the audit log and the USCC serial counters. Keep in step with
-- migrations/postgres/0001_foundation.sql (same tables, same columns; the parity test checks).

create table areas (
    id integer primary key,
    code text not null unique,
    name text not null,
    level text not null check (level in ('district', 'functional_area', 'street', 'community')),
    parent_id integer references areas (id),
    depth integer not null,
    valid_from date,
    valid_to date
);
create index areas_parent on areas (parent_id);

-- "This area and everything below": one indexed lookup, the same on both databases.
create table area_closure (
    ancestor_id integer not null references areas (id),
    descendant_id integer not null references areas (id),
    distance integer not null,
    primary key (ancestor_id, descendant_id)
);
create index area_closure_descendant on area_closure (descendant_id);

create table domains (
    id integer primary key,
    code text not null unique,
    name_zh text not null,
    name_en text not null,
    direct_registration_eligible boolean not null,
    sort_order integer not null,
    active boolean not null
);

create table organizations (
    id integer primary key,
    uscc text unique,
    name text not null,
    name_key text not null,
    kind text not null check (kind in ('social_group', 'private_non_enterprise', 'foundation', 'community')),
    domain_id integer not null references domains (id),
    direct_registration boolean not null,
    supervisory_unit text,
    legal_representative text,
    contact_person text,
    contact_phone text,
    address text,
    area_id integer not null references areas (id),
    founded_on date,
    registered_on date,
    registration_authority text,
    registered_capital_fen integer,
    members integer,
    staff integer,
    business_scope text,
    status text not null check (status in ('preparing', 'active', 'abnormal', 'deregistered', 'revoked')),
    grade text check (grade in ('1A', '2A', '3A', '4A', '5A')),
    grade_expires_on date,
    brand boolean not null,
    version integer not null,
    created_at text not null,
    updated_at text not null
);
create index organizations_area on organizations (area_id);
create index organizations_kind on organizations (kind, status);
create index organizations_domain on organizations (domain_id);
-- Two live organizations may not share a name (after width and space folding).
create unique index organizations_live_name on organizations (name_key)
    where status in ('preparing', 'active', 'abnormal');

-- One change event per organization write; its fields below.
create table org_changes (
    id integer primary key,
    org_id integer not null references organizations (id),
    changed_at text not null,
    actor text not null,
    action text not null check (action in ('create', 'update')),
    reason text
);
create index org_changes_org on org_changes (org_id, changed_at);

create table org_change_fields (
    change_id integer not null references org_changes (id),
    field text not null,
    before_value text,
    after_value text,
    primary key (change_id, field)
);

-- Append-only, hash-chained audit trail: every entry carries the hash of the one before it
-- (seq is gap-free; audit_head serialises appenders so the chain never forks).
create table audit_log (
    seq integer primary key,
    at text not null,
    actor text not null,
    actor_user_id integer,
    action text not null,
    entity text not null,
    entity_id integer,
    summary text not null,
    changes text,
    ip text,
    prev_hash text not null,
    hash text not null
);
create table audit_head (
    id integer primary key check (id = 1),
    last_seq integer not null,
    last_hash text not null
);
insert into audit_head (id, last_seq, last_hash) values (1, 0, '');
create index audit_log_entity on audit_log (entity, entity_id);
create index audit_log_at on audit_log (at);

-- Next organization-code serial per registering authority (positions 3–8 of a USCC).
create table uscc_serials (
    division text primary key,
    next_serial integer not null
);

-- The domain dictionary (业务领域) as shipped; the bureau edits it in the back office. The first
-- four are the categories that may register directly without a supervisory unit (DOMAIN §2.2).
insert into domains (code, name_zh, name_en, direct_registration_eligible, sort_order, active) values
    ('industry_commerce', '行业协会商会', 'Industry associations & chambers of commerce', true, 10, true),
    ('science_technology', '科技', 'Science & technology', true, 20, true),
    ('charity', '公益慈善', 'Public welfare & charity', true, 30, true),
    ('community_service', '城乡社区服务', 'Urban-rural community service', true, 40, true),
    ('education', '教育', 'Education', false, 50, true),
    ('health', '卫生健康', 'Health', false, 60, true),
    ('culture', '文化', 'Culture', false, 70, true),
    ('sports', '体育', 'Sports', false, 80, true),
    ('elderly_care', '养老服务', 'Elderly care', false, 90, true),
    ('social_work', '社会工作', 'Social work', false, 100, true),
    ('volunteer_service', '志愿服务', 'Volunteer service', false, 110, true),
    ('legal_services', '法律服务', 'Legal services', false, 120, true),
    ('ecology', '生态环境', 'Ecology & environment', false, 130, true),
    ('agriculture', '农业农村', 'Agriculture & rural affairs', false, 140, true),
    ('professional', '职业及从业者', 'Professions & practitioners', false, 150, true),
    ('other', '其他', 'Other', false, 160, true);
