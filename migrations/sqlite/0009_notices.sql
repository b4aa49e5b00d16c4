-- Notices and policy documents (通知公告, 政策法规) published on the portal. The body is
-- Markdown, rendered and sanitised by the application. Keep in step with
-- migrations/postgres/0009_notices.sql.
create table notices (
    id integer primary key,
    kind text not null check (kind in ('notice', 'policy')),
    title text not null,
    body text not null,
    published_at text,
    author_user_id integer references users (id),
    created_at text not null,
    updated_at text not null,
    version integer not null
);
create index notices_published on notices (published_at);
