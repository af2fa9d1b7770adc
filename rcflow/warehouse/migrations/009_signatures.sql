-- Legal documents sent for signature: one row per document sent (its reference is rcflow's own,
-- sent to the service among the document's keys, so a send after a crash finds it instead of
-- sending twice), and every state it went through. The PDFs sent and received are blobs in the
-- store, named here by their sha256.
create table ops.signature_requests (
    reference       varchar primary key,   -- '<document>/<period>/<lang>/<sha256 of the PDF, 16 hex>'
    service         varchar not null,      -- 'efirma'
    document        varchar not null,      -- pmp | morosity | art10 | interest
    period          varchar not null,      -- 2025-11 | 2025-Q4
    lang            varchar not null,      -- ca | es | en
    sent_sha256     varchar not null,
    signatories     json not null,         -- [{role, name, email, order}] (no phone numbers)
    operation_id    varchar,               -- the service's id, once it answered
    state           varchar not null,      -- sending | in_process | signed | rejected | cancelled
    signed_sha256   varchar,
    created_at      timestamptz not null,
    updated_at      timestamptz not null
);

create table ops.signature_events (
    reference   varchar not null,
    state       varchar not null,
    detail      varchar,
    event_at    timestamptz not null
);

create or replace view main.signatures as
select r.*, (select max(event_at) from ops.signature_events e where e.reference = r.reference) as last_event_at
from ops.signature_requests r;
