-- ops.owed_updates: THE definition of what the hub is owed (re-created from 011 for the core
-- lifecycle: FACe's CANCELLED, per-hub pushes, hubs that only report an invoice's current state).
-- One row per accounting event, with its verdict against what the hub shows and whether
-- something holds it back. The push plan, `rcflow status`, `rcflow quarantine list` and the
-- reports (dbt) all read this view, so they can never disagree. The push plan only orders and
-- batches the rows whose is_due is true; a hub's pusher only those of its own invoices
-- (source_hub, from raw.invoices; null for an unknown invoice).
--
-- shown: what the hub shows of an invoice = its history's states, its current state, and every
-- state the hub accepted through rcflow (ops.push_outbox sent or confirmed): FACe reports only
-- an invoice's current state, so after RECOGNISED then PAID were pushed its history no longer
-- shows RECOGNISED. Built with `union all` (duplicates are harmless: shown is only read through
-- max() and exists()).
--
-- verdict (the first rule that applies, events taken in lifecycle order):
--   unknown_invoice       the invoice is not in the warehouse
--   conflict              accounting has both PAID and REJECTED (a discrepancy on REJECTED)
--   on_hub                the hub already shows the state
--   paid_date_differs     the hub is PAID on another payment date (a discrepancy)
--   final_on_hub          the hub is PAID/REJECTED (final) and accounting has a later or final
--                         state, or the hub is CANCELLED (final; owed nothing, every event)
--   paid_before_registry  the payment is dated before the registry date (a discrepancy)
--   superseded            the hub has moved past the state (RECEIVED after RECOGNISED): it can no
--                         longer be sent; a discrepancy that blocks only for a mandatory state
--   owed                  the hub is owed it
-- hold_kind (only on owed rows):
--   quarantine            an open finding holds the invoice (ops.quarantine_holds.is_holding)
--   refused               the hub refused (4xx about the data) this very payload, or an earlier
--                         one of the invoice's lifecycle: not re-sent until the data changes
-- is_due = owed and not held: what the next push sends.

create or replace view ops.lifecycle as
select * from (values
    ('SENT', 0, false), ('REGISTERED', 1, false), ('DELIVERED', 2, false),
    ('ANNOTATED', 3, true), ('RECEIVED', 4, false), ('ACCEPTED', 5, false),
    ('RECOGNISED', 6, true), ('PAID', 7, true), ('REJECTED', 8, true), ('CANCELLED', 9, false)
) as t(state, state_rank, is_mandatory);

create or replace view ops.owed_updates as
with

lifecycle as (select * from ops.lifecycle),

-- Every verdict is about an invoice with accounting events: the hub's side is read for those
-- only (a fifth of the warehouse's invoices on the 1,000,000-invoice bench: half the time).
with_events as (select distinct invoice_id from ops.accounting_events),

shown as (
    select invoice_id, upper(trim(state)) as state from raw.invoice_states
    where invoice_id in (select invoice_id from with_events)
    union all
    select invoice_id, upper(trim(hub_state)) from raw.invoices
    where hub_state is not null and invoice_id in (select invoice_id from with_events)
    union all
    select invoice_id, state from ops.push_outbox where status in ('sent', 'confirmed')
),

shown_top as (
    select shown.invoice_id, max(lifecycle.state_rank) as top_rank
    from shown inner join lifecycle using (state)
    group by shown.invoice_id
),

paid_in_history as (
    select invoice_id, max(payment_date) as paid_on
    from raw.invoice_states
    where upper(trim(state)) = 'PAID' and invoice_id in (select invoice_id from with_events)
    group by invoice_id
),

hub as (
    select
        i.invoice_id,
        i.source_hub,
        cast(timezone('Europe/Madrid', i.registry_at) as date) as registry_date,
        coalesce(paid_in_history.paid_on, i.payment_date) as hub_paid_on,
        coalesce(current_state.state_rank, shown_top.top_rank) as current_rank
    from raw.invoices i
    semi join with_events using (invoice_id)
    left join lifecycle current_state on current_state.state = upper(trim(i.hub_state))
    left join shown_top using (invoice_id)
    left join paid_in_history using (invoice_id)
),

holding as (
    select invoice_id, string_agg(distinct stage || ': ' || reason, '; ' order by stage || ': ' || reason) as reason
    from ops.quarantine_holds
    where is_holding
    group by invoice_id
),

events as (
    select
        e.invoice_id,
        e.state,
        lifecycle.state_rank,
        lifecycle.is_mandatory,
        e.event_date,
        e.rcf_number,
        e.reason_code,
        e.reason,
        -- the refusal of this very payload (the outbox keeps the body the hub refused)
        o.invoice_id is not null
            and o.payload->>'estat' = e.state
            and (o.payload->>'numeroRegistreRCF') is not distinct from
                case when e.state = 'ANNOTATED' then nullif(trim(e.rcf_number), '') end
            and (o.payload->>'codiMotiuRebuig') is not distinct from
                case when e.state = 'REJECTED' then nullif(trim(e.reason_code), '') end
            and (o.payload->>'descripcioMotiuRebuig') is not distinct from
                case when e.state = 'REJECTED' then nullif(trim(e.reason), '') end
            and (o.payload->>'dataPagament') is not distinct from
                case when e.state = 'PAID' then strftime(e.event_date, '%Y-%m-%d') end
            as is_refused_payload,
        o.http_status as refused_status,
        o.error_code as refused_code,
        o.error_message as refused_message,
        o.updated_at as refused_at
    from ops.accounting_events e
    inner join lifecycle using (state)
    left join ops.push_outbox o
        on o.invoice_id = e.invoice_id and o.state = e.state and o.status = 'refused'
        -- answers about the request, not its data (credentials, time-outs, rate limits)
        and coalesce(o.http_status, 0) not in (401, 403, 407, 408, 425, 429)
),

facts as (
    select
        events.*,
        hub.invoice_id is not null as is_invoice_known,
        hub.source_hub,
        current_state.state as hub_state,
        hub.current_rank,
        coalesce(current_state.state in ('PAID', 'REJECTED', 'CANCELLED'), false) as is_final_on_hub,
        hub.registry_date,
        hub.hub_paid_on,
        exists (
            select 1 from shown where shown.invoice_id = events.invoice_id and shown.state = events.state
        ) as is_on_hub,
        bool_or(events.state = 'PAID') over by_invoice and bool_or(events.state = 'REJECTED') over by_invoice
            as is_conflict
    from events
    left join hub using (invoice_id)
    left join lifecycle current_state on current_state.state_rank = hub.current_rank
    window by_invoice as (partition by events.invoice_id)
),

judged as (
    select
        *,
        case
            when not is_invoice_known then 'unknown_invoice'
            when is_conflict and state = 'REJECTED' then 'conflict'
            when is_conflict then (case when is_on_hub then 'on_hub' else 'conflict' end)
            when is_on_hub and state = 'PAID' and is_final_on_hub and hub_paid_on is not null
                and event_date <> hub_paid_on then 'paid_date_differs'
            when is_on_hub then 'on_hub'
            when is_final_on_hub and (state in ('PAID', 'REJECTED') or state_rank > current_rank
                or hub_state = 'CANCELLED') then 'final_on_hub'
            when is_final_on_hub then 'superseded'
            when state = 'PAID' and event_date < registry_date then 'paid_before_registry'
            when state <> 'REJECTED' and state_rank < coalesce(current_rank, 0) then 'superseded'
            else 'owed'
        end as verdict
    from facts
),

refusals as (
    -- the first owed update of each invoice whose payload the hub refused: it and every later
    -- one of the invoice wait
    select invoice_id, state_rank as refused_from_rank,
        'refused by the hub' || coalesce(' on ' || strftime(refused_at, '%Y-%m-%d'), '')
        || ' (HTTP ' || coalesce(refused_status::varchar, '?')
        || coalesce(', code ' || refused_code, '') || '): '
        || coalesce(refused_message, 'no reason given') || '; not re-sent until the data changes'
            as refused_reason
    from judged
    where verdict = 'owed' and is_refused_payload
    qualify row_number() over (partition by invoice_id order by state_rank) = 1
),

held as (
    select
        judged.*,
        case
            when verdict <> 'owed' then null
            when holding.invoice_id is not null then 'quarantine'
            when state_rank >= refusals.refused_from_rank then 'refused'
        end as hold_kind,
        case
            when verdict <> 'owed' then null
            when holding.invoice_id is not null then holding.reason
            when state_rank >= refusals.refused_from_rank then refusals.refused_reason
        end as hold_reason
    from judged
    left join holding using (invoice_id)
    left join refusals using (invoice_id)
)

select
    invoice_id,
    source_hub,
    state,
    state_rank,
    event_date,
    rcf_number,
    reason_code,
    reason,
    hub_state,
    verdict,
    case verdict
        when 'unknown_invoice' then 'unknown invoice: not in the warehouse'
        when 'conflict' then 'accounting has both PAID and REJECTED'
        when 'paid_date_differs' then 'hub shows PAID on ' || strftime(hub_paid_on, '%Y-%m-%d')
            || ', accounting on ' || strftime(event_date, '%Y-%m-%d')
        when 'final_on_hub' then 'hub shows ' || hub_state || ' (final) but accounting has ' || state
        when 'superseded' then 'hub is already ' || hub_state || '; ' || state || ' can no longer be sent'
        when 'paid_before_registry' then 'payment ' || strftime(event_date, '%Y-%m-%d')
            || ' is before the registry date ' || strftime(registry_date, '%Y-%m-%d')
    end as detail,
    verdict not in ('owed', 'on_hub') and not (verdict = 'conflict' and state <> 'REJECTED')
        as is_discrepancy,
    verdict not in ('owed', 'on_hub') and not (verdict = 'superseded' and not is_mandatory)
        and not (verdict = 'conflict' and state <> 'REJECTED') as is_blocking,
    verdict = 'owed' as is_owed,
    hold_kind,
    hold_reason,
    verdict = 'owed' and hold_kind is null as is_due,
    is_refused_payload and hold_kind = 'refused' as is_refused,
    refused_status,
    refused_code,
    refused_message,
    refused_at
from held;

create or replace view main.owed_updates as
select * from ops.owed_updates;
