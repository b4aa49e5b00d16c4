-- Documents attached to applications (charter, address proof, consent…): stored in the
-- database with their SHA-256, so a backup holds everything. Keep in step with
-- migrations/postgres/0005_attachments.sql.
create table attachments (
    id integer primary key,
    application_id integer not null references applications (id),
    doc_type text not null,
    filename text not null,
    content_type text not null,
    size integer not null,
    sha256 text not null,
    -- 'db': the bytes are in `data`; 'dir': in the upload directory under their SHA-256
    -- (`data` is empty).
    storage text not null check (storage in ('db', 'dir')),
    data blob not null,
    uploaded_by integer not null references users (id),
    uploaded_at text not null
);
create index attachments_application on attachments (application_id);

-- The applicant's declaration that the charter carries the party-building clause (党建入章);
-- an establishment without it is flagged for the reviewer.
alter table applications add column charter_party_clause boolean not null default false;
