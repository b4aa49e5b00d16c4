-- Referral tasks between departments and areas (联动协调机制): a matter about an organization
-- sent to a user elsewhere, with a due date, replies and an end.
-- Keep in step with migrations/postgres/0007_referrals.sql.
create table referrals (
    id integer primary key,
    org_id integer not null references organizations (id),
    subject text not null,
    details text not null,
    from_user_id integer not null references users (id),
    to_user_id integer not null references users (id),
    due_on date not null,
    status text not null check (status in ('open', 'replied', 'closed')),
    created_at text not null,
    closed_at text,
    version integer not null
);
create index referrals_to on referrals (to_user_id, status);
create index referrals_org on referrals (org_id);

create table referral_replies (
    id integer primary key,
    referral_id integer not null references referrals (id),
    at text not null,
    user_id integer not null references users (id),
    body text not null
);
create index referral_replies_referral on referral_replies (referral_id, id);
