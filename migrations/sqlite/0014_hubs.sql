-- Hub management (枢纽式服务管理, 以社管社): a federation of social organizations
-- (社会组织联合会) per street or town with its member organizations, and a liaison point
-- (社会组织联络点) with its liaison person (联络员) per community or village. SPEC §3.7.
-- Keep in step with migrations/postgres/0014_hubs.sql.
create table federations (
    id integer primary key,
    area_id integer not null unique references areas (id),
    name text not null,
    founded_on date,
    chair text not null,
    secretary_general text not null,
    contact_phone text not null,
    version integer not null,
    created_at text not null,
    updated_at text not null
);

create table federation_members (
    id integer primary key,
    federation_id integer not null references federations (id),
    org_id integer not null references organizations (id),
    joined_on date not null,
    left_on date
);
create index federation_members_federation on federation_members (federation_id, left_on);
create index federation_members_org on federation_members (org_id);

create table liaison_points (
    id integer primary key,
    area_id integer not null unique references areas (id),
    name text not null,
    address text not null,
    established_on date,
    liaison_name text not null,
    liaison_phone text not null,
    version integer not null,
    created_at text not null,
    updated_at text not null
);
