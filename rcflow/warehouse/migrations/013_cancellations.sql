-- Cancellation requests (FACe's anulaciones: a supplier asks the entity to cancel an invoice),
-- the entity's answers to them, and credit assignments (cesiones). eFACT has neither: the tables
-- stay empty for an eFACT-only warehouse.

-- The hub's request on an invoice, as last listed or answered (upserted). hub_state: requested
-- (waiting for an answer on the hub), accepted, rejected (answered: by rcflow or elsewhere).
create table raw.cancellation_requests (
    invoice_id      varchar primary key,   -- the hub's id, namespaced (face:<numeroRegistro>)
    requested_at    timestamptz,           -- when the supplier asked (fechaHoraSolicitudAnulacion)
    reason          varchar,               -- the supplier's reason (motivo)
    hub_state       varchar not null,      -- requested | accepted | rejected | closed
    raw_json        json not null,
    first_seen_at   timestamptz not null,
    fetched_at      timestamptz not null,
    source_hub      varchar not null default 'efact'
);

-- The audit of every answer an operator decided (`rcflow cancellations accept|reject`, or an
-- accounting file) and what the hub said to it. One row per decision (decision_seq 1, 2, … per
-- invoice; the latest is the one that counts); a row is only updated by the send that carries
-- it, or when a newer decision replaces it before it was sent:
--   pending    decided, never sent (another decision may still replace it)
--   replaced   never sent: a later decision replaced it
--   uncertain  a call was (or may have been) made and no answer is recorded: the send re-reads
--              the hub before calling again; an interrupted send leaves its decision here
--   sent       the hub applied it (answered_at)
--   refused    the hub refused it (hub_code, hub_message): an operator may decide again
create table ops.cancellation_decisions (
    invoice_id      varchar not null,
    decision_seq    integer not null,
    requested_at    timestamptz,           -- the request answered (raw.cancellation_requests)
    decision        varchar not null,      -- accept | reject
    comment         varchar not null,      -- the reason sent to the hub (comentario)
    decided_by      varchar not null,
    decided_at      timestamptz not null,
    via             varchar not null,      -- command | accounting
    import_id       varchar,               -- the accounting file (via = accounting)
    status          varchar not null,      -- pending | uncertain | sent | refused | replaced
    attempts        integer not null default 0,
    hub_code        varchar,
    hub_message     varchar,
    answered_at     timestamptz,
    run_id          varchar,               -- the send that last carried it
    primary key (invoice_id, decision_seq)
);

-- The credit assignment (cesión de crédito) the hub reports for an invoice (upserted).
create table raw.credit_assignments (
    invoice_id      varchar primary key,
    state_code      varchar,
    description     varchar,
    raw_json        json not null,
    first_seen_at   timestamptz not null,
    fetched_at      timestamptz not null,
    source_hub      varchar not null default 'efact'
);

-- THE read model of cancellation requests still to be answered on the hub, with the latest
-- decision and where it stands. `rcflow cancellations list`, `rcflow status`, the send, the
-- accounting import and the dashboard all read this view.
--   decision_status  none (nobody decided yet) | pending | uncertain | refused (decide again)
--   is_decidable     an operator may decide (again): no decision, a pending one, or a refused one
--   is_due           the next send carries it (pending or uncertain)
-- A request whose latest decision was sent is answered on the hub and no longer open, even
-- before the next listing shows it. hub_state 'closed': the hub no longer lists a request rcflow
-- did not answer (answered on the hub's portal, withdrawn, or answered by a call whose answer was
-- lost).
create or replace view ops.open_cancellations as
with

latest as (
    select * from ops.cancellation_decisions
    qualify row_number() over (partition by invoice_id order by decision_seq desc) = 1
)

select
    r.invoice_id,
    r.source_hub,
    r.hub_state as request_state,
    r.requested_at,
    r.reason as requested_reason,
    r.first_seen_at,
    i.registry_number,
    i.supplier_nif,
    i.supplier_name,
    i.amount_cents,
    i.hub_state as invoice_hub_state,
    d.decision_seq,
    d.decision,
    d.comment,
    d.decided_by,
    d.decided_at,
    d.via,
    coalesce(d.status, 'none') as decision_status,
    d.attempts,
    d.hub_code,
    d.hub_message,
    d.run_id,
    coalesce(d.status, 'none') in ('none', 'pending', 'refused') as is_decidable,
    coalesce(d.status in ('pending', 'uncertain'), false) as is_due
from raw.cancellation_requests r
left join raw.invoices i using (invoice_id)
left join latest d
    on d.invoice_id = r.invoice_id
    and d.requested_at is not distinct from r.requested_at
where (r.hub_state = 'requested' and coalesce(d.status, 'none') <> 'sent')
    -- no longer listed, with a decision still to send or to confirm (a lost answer may be why
    -- the hub stopped listing it): the send settles it from the hub's word
    or (r.hub_state = 'closed' and d.status in ('pending', 'uncertain'));

create or replace view main.cancellation_requests as select * from raw.cancellation_requests;
create or replace view main.cancellation_decisions as select * from ops.cancellation_decisions;
create or replace view main.open_cancellations as select * from ops.open_cancellations;
create or replace view main.credit_assignments as select * from raw.credit_assignments;
