-- Online consultation (在线咨询): questions from anyone, answered by window staff under
-- first-inquiry ownership; answered ones may be published as a public FAQ.
-- Keep in step with migrations/postgres/0006_consultations.sql.
create table consultations (
    id integer primary key,
    asked_at text not null,
    name text not null,
    contact text not null,
    question text not null,
    ip text,
    owner_user_id integer references users (id),
    answer text,
    answered_at text,
    published boolean not null,
    version integer not null
);
create index consultations_open on consultations (answered_at, id);
create index consultations_ip on consultations (ip, asked_at);
