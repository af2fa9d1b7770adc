{#- One row per invoice with a hub history or accounting events: the effective date of each
    state, i.e. the date of the legal fact, not the moment the hub recorded it (the hub learns
    most states through rcflow's push, hours or months after the fact, and its PATCH carries no
    date for ANNOTATED..RECOGNISED).
      REGISTERED  the registry entry (dataRegistre), else the hub's state date;
      PAID        the payment date (dataPagament), else the accounting system's PAID date,
                  else the hub's state date (the spec's fallback; flagged);
      any other   the accounting system's own date for that state, else the hub's state date.
    A state the accounting system has and the hub does not yet show is dated all the same:
    the entity's registry is the legal source. The hub's own first date of each state it can
    receive is kept (hub_*_on) to tell what is still owed to it. One pass over the states,
    dates only (the text the outputs print is in int_invoices_joined_to_descriptions).
      CANCELLED   (FACe's 3100: the entity accepted the supplier's cancellation request) the
                  hub's state date: only the hub can cancel, the accounting system never does. -#}
{#- only_states: read only the hub's rows of these states (the others' hub dates are then
    NULL): for a model whose figures use only those dates, the pivot aggregates a fraction of
    the 6M state rows (the PMP: REGISTERED, ACCEPTED, PAID, REJECTED, CANCELLED, under half).
    Without it, every state: what int_invoices_dated_as_of_period reads. Unique by invoice_id
    (grouped, then a full outer join of two grouped sets). -#}
{% macro pivot_invoice_states(only_states=none) -%}
{%- set hub_dated = ['delivered', 'annotated', 'received', 'accepted', 'recognised', 'paid',
                     'rejected', 'cancelled'] -%}
{%- set from_accounting = ['annotated', 'received', 'accepted', 'recognised', 'rejected'] -%}
with

states as (

    select * from {{ ref('stg_efact__invoice_states') }}

),

events as (

    select * from {{ ref('stg_rcflow__accounting_events') }}

),

hub_instants as (

    select
        invoice_id,

        ----------  first instant the hub gives each state: the minimum is taken over the
        -- instants and only then turned into a Europe/Madrid date (the date is monotonic in
        -- the instant, so the same day), once per invoice rather than once per state row.
        -- (case rather than filter: about 5 % less CPU for the whole pivot on a million invoices)
        min(case when state = 'SENT' then state_at end) as hub_sent_at,
        min(case when state = 'REGISTERED' then coalesce(registry_at, state_at) end)
            as hub_registered_at,
        {%- for name in hub_dated if name != 'paid' %}
        min(case when state = '{{ name | upper }}' then state_at end) as hub_{{ name }}_at,
        {%- endfor %}
        -- a PAID row with no state date still shows the payment on the hub
        min(case when state = 'PAID' then coalesce({{ madrid_date('state_at') }}, payment_on) end)
            as hub_paid_on,

        ----------  the payment date the PAID state carries (dataPagament)
        min(case when state = 'PAID' then payment_on end) as hub_payment_on

    from states
    {%- if only_states %}
    where state in ({% for name in only_states %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- endif %}
    group by invoice_id

),

hub as (

    select
        invoice_id,
        {%- for name in ['sent', 'registered'] + hub_dated if name != 'paid' %}
        {{ madrid_date('hub_' ~ name ~ '_at') }} as hub_{{ name }}_on,
        {%- endfor %}
        hub_paid_on,
        hub_payment_on

    from hub_instants

),

accounting as (

    select
        invoice_id,
        {%- for name in from_accounting + ['paid'] %}
        min(case when state = '{{ name | upper }}' then event_on end) as accounting_{{ name }}_on
            {{- ',' if not loop.last }}
        {%- endfor %}

    from events
    group by invoice_id

),

effective as (

    select
        coalesce(hub.invoice_id, accounting.invoice_id) as invoice_id,

        ----------  effective date of each state
        hub.hub_sent_on as sent_on,
        hub.hub_registered_on as registered_on,
        hub.hub_delivered_on as delivered_on,
        {%- for name in from_accounting if name != 'rejected' %}
        coalesce(accounting.accounting_{{ name }}_on, hub.hub_{{ name }}_on) as {{ name }}_on,
        {%- endfor %}
        coalesce(hub.hub_payment_on, accounting.accounting_paid_on, hub.hub_paid_on)
            as payment_on,
        coalesce(accounting.accounting_rejected_on, hub.hub_rejected_on) as rejected_on,
        hub.hub_cancelled_on as cancelled_on,

        ----------  what the hub shows (recording dates), for the updates owed to it
        {%- for name in hub_dated %}
        hub.hub_{{ name }}_on,
        {%- endfor %}

        ----------  flags
        hub.hub_payment_on is null and accounting.accounting_paid_on is null
            and hub.hub_paid_on is not null as is_payment_date_inferred

    from hub
    full outer join accounting on accounting.invoice_id = hub.invoice_id

)

select * from effective
{%- endmacro %}
