-- Accounts, roles with their areas or organizations, database-stored sessions, the login log
-- and department API tokens. Keep in step with migrations/postgres/0002_accounts.sql.

create table users (
    id integer primary key,
    username text not null unique,
    display_name text not null,
    password_hash text not null,
    active boolean not null,
    failed_attempts integer not null,
    locked_until text,
    password_changed_at text not null,
    created_at text not null
);

-- A role held by a user, tied to an area (area officers, liaisons) or to an organization
-- (the organization's own account, instructors, social workers), or to nothing (district-wide).
create table user_roles (
    id integer primary key,
    user_id integer not null references users (id),
    role text not null check (role in ('admin', 'registrar', 'window', 'area_officer', 'liaison', 'party', 'instructor', 'social_worker', 'expert', 'org')),
    area_id integer references areas (id),
    org_id integer references organizations (id)
);
create index user_roles_user on user_roles (user_id);

-- Only a hash of the session token is stored: a copy of the database cannot sign anyone in.
create table sessions (
    token_hash text primary key,
    user_id integer not null references users (id),
    csrf_token text not null,
    created_at text not null,
    last_seen_at text not null,
    ip text,
    user_agent text
);
create index sessions_user on sessions (user_id);

create table login_log (
    id integer primary key,
    at text not null,
    username text not null,
    user_id integer,
    ip text,
    success boolean not null,
    reason text not null
);
create index login_log_at on login_log (at);
create index login_log_ip on login_log (ip, at);

create table api_tokens (
    id integer primary key,
    name text not null,
    token_hash text not null unique,
    scopes text not null,
    area_id integer references areas (id),
    created_by text not null,
    created_at text not null,
    expires_at text,
    last_used_at text,
    revoked boolean not null
);
