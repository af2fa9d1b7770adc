-- Quarantine review: an operator releases a quarantined finding (the invoice may be pushed) or
-- reopens it, with who, when and why. Append-only: a review is never updated or deleted, and
-- neither is an ops.quarantine row.
--
-- A release covers a finding *as it stood* when it was reviewed (its detail and detection time
-- are copied here): if the problem is found again after being resolved (a new detected_at) or
-- changes (a different detail), or a new finding appears, the invoice is held again.
create table ops.quarantine_reviews (
    review_id   integer not null,       -- 1, 2, … one per command; later reviews win
    invoice_id  varchar not null,
    stage       varchar not null,
    reason      varchar not null,
    action      varchar not null,       -- release | reopen
    detail      varchar,                -- the finding's detail when reviewed
    detected_at timestamptz not null,   -- the finding's detection time when reviewed
    reviewed_by varchar not null,
    reviewed_at timestamptz not null,
    note        varchar not null,       -- why (mandatory)
    primary key (review_id, invoice_id, stage, reason)
);

-- Every open quarantine finding and whether it holds the invoice's updates back from the hub.
-- The one definition of "blocked" used by the push plan, `rcflow status` and
-- `rcflow quarantine list`:
-- * released: the latest review is a release of the finding as it stands now;
-- * passed by rejection: a quality finding about the invoice itself (not about the accounting
--   events) on an invoice the accounting system REJECTED: rejecting is the remedy for bad data.
create or replace view ops.quarantine_holds as
with

last_review as (
    select * from ops.quarantine_reviews
    qualify row_number() over (partition by invoice_id, stage, reason order by review_id desc) = 1
),

rejected as (
    select distinct invoice_id from ops.accounting_events where state = 'REJECTED'
),

about_accounting as (
    select distinct expectation as reason
    from ops.quality_results
    where suite = 'accounting_events_suite'
),

reviewed as (
    select
        q.invoice_id,
        q.stage,
        q.reason,
        q.detail,
        q.detected_at,
        coalesce(
            r.action = 'release' and r.detected_at = q.detected_at and r.detail is not distinct from q.detail,
            false
        ) as is_released,
        q.stage = 'quality' and rejected.invoice_id is not null and about_accounting.reason is null
            as is_passed_by_rejection,
        r.action as review_action,
        r.reviewed_by,
        r.reviewed_at,
        r.note as review_note
    from ops.quarantine q
    left join last_review r using (invoice_id, stage, reason)
    left join rejected on rejected.invoice_id = q.invoice_id
    left join about_accounting on about_accounting.reason = q.reason
    where q.resolved_at is null
)

select *, not is_released and not is_passed_by_rejection as is_holding from reviewed;

create or replace view main.quarantine_reviews as
select * from ops.quarantine_reviews;

create or replace view main.quarantine_holds as
select * from ops.quarantine_holds;
