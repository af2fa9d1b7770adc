-- ops.owed_updates, the same definition as 012 (its header says what each verdict and hold
-- means), computed with less work: the hub's history of the invoices with accounting events is
-- read once (it was read twice, for what the hub shows and for its payment dates), and the
-- invoices the accounting system both paid and rejected come from one aggregate instead of a
-- window over every event. Same rows (checked on the 1,000,000-invoice bench warehouse:
-- identical hash of every column), about a fifth less CPU.

create or replace view ops.owed_updates as
with

lifecycle as (select * from ops.lifecycle),

-- Every verdict is about an invoice with accounting events: the hub's side is read for those
-- only (a fifth of the warehouse's invoices on the 1,000,000-invoice bench: half the time).
with_events as (select distinct invoice_id from ops.accounting_events),

-- The hub's history of those invoices, read once.
hub_history as materialized (
    select invoice_id, upper(trim(state)) as state, payment_date from raw.invoice_states
    where invoice_id in (select invoice_id from with_events)
),

shown as (
    select invoice_id, state from hub_history
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
    from hub_history
    where state = 'PAID'
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

-- invoices the accounting system both paid and rejected
conflicting as (
    select invoice_id from ops.accounting_events
    group by invoice_id
    having bool_or(state = 'PAID') and bool_or(state = 'REJECTED')
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
        conflicting.invoice_id is not null as is_conflict
    from events
    left join hub using (invoice_id)
    left join lifecycle current_state on current_state.state_rank = hub.current_rank
    left join conflicting using (invoice_id)
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
