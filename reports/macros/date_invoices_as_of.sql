{#- The core date logic, shared by the period's models and the PMP trend so they can never
    disagree. Takes a relation of invoices with the effective date of each state
    (int_invoices_joined_to_milestones; for the trend, int_invoices_dated_as_of_period's dates
    as of the report period's end) and a relation of periods (reporting_periods()), and
    returns one row per (invoice, period) for invoices known by the period end, with: the
    states whose effective date is on or before the period end, status at period end, start
    date of the count (RD 1040/2017), legal due date (start + 30), the invoice's PMP role and
    day counts. A fact dated after the period end never changes the period.
    operations_only=true keeps only the invoices that can be paid in or pending at the end of
    a period (registered by its end, not paid before its start): the trend needs no others. -#}
{% macro date_invoices_as_of(invoices, periods, operations_only=false) -%}
    {%- set pending_reading = reading('pending_without_acceptance') -%}
    {%- set credit_reading = reading('credit_notes') -%}
    {%- set milestones = ['sent_on', 'registered_on', 'delivered_on', 'annotated_on',
                          'received_on', 'accepted_on', 'recognised_on', 'payment_on',
                          'rejected_on'] -%}
with

as_of as (

    select
        periods.period_label,
        periods.period_start,
        periods.period_end,
        periods.pmp_method,
        invoices.* exclude ({{ milestones | join(', ') }}),
        {%- for column in milestones %}
        case when invoices.{{ column }} <= periods.period_end
            then invoices.{{ column }} end as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ invoices }} as invoices
    cross join {{ periods }} as periods
    where invoices.first_known_on <= periods.period_end
    {%- if operations_only %}
        and invoices.registered_on <= periods.period_end
        and (invoices.payment_on is null or invoices.payment_on >= periods.period_start)
    {%- endif %}

),

statuses as (

    select
        *,
        rejected_on is not null
            and (payment_on is null or rejected_on < payment_on)
            as is_rejected_at_end,
        payment_on is not null as is_paid_by_end

    from as_of

),

started as (

    select
        *,
        case
            when is_rejected_at_end then 'REJECTED'
            when payment_on is not null then 'PAID'
            when recognised_on is not null then 'RECOGNISED'
            when accepted_on is not null then 'ACCEPTED'
            when received_on is not null then 'RECEIVED'
            when annotated_on is not null then 'ANNOTATED'
            when delivered_on is not null then 'DELIVERED'
            when registered_on is not null then 'REGISTERED'
            else 'SENT'
        end as status_at_end,
        -- RD 1040/2017: the conformity date, unless the invoice was registered after it
        -- (then the registry date); the registry date when there is no conformity.
        case
            when accepted_on >= registered_on then accepted_on
            else registered_on
        end as start_on,
        case
            when accepted_on is null then 'registry_no_acceptance'
            when accepted_on < registered_on then 'registry_after_acceptance'
            else 'acceptance'
        end as start_basis,
        accepted_on is null as is_start_inferred

    from statuses

),

status_dated as (

    select
        *,
        case status_at_end
            when 'REJECTED' then rejected_on
            when 'PAID' then payment_on
            when 'RECOGNISED' then recognised_on
            when 'ACCEPTED' then accepted_on
            when 'RECEIVED' then received_on
            when 'ANNOTATED' then annotated_on
            when 'DELIVERED' then delivered_on
            when 'REGISTERED' then registered_on
            else sent_on
        end as status_on

    from started

),

scoped as (

    select
        *,
        cast(start_on + 30 as date) as due_on,
        case pmp_method
            when 'rd635_2014_original' then cast(registered_on + 30 as date)
            else start_on
        end as pmp_start_on,
        case
            when is_quarantined then 'quarantined'
            when registered_on is null then 'not_registered'
            {%- if credit_reading == 'exclude_and_flag' %}
            when is_credit_note then 'credit_note'
            {%- endif %}
            when is_rejected_at_end then 'rejected'
            when coalesce(issue_date, registered_on) < date '{{ var("pmp_scope_start") }}'
                then 'issued_before_scope'
            {%- if pending_reading == 'exclude_until_accepted' %}
            when not coalesce(is_paid_by_end, false) and accepted_on is null
                then 'pending_not_yet_accepted'
            {%- endif %}
        end as exclusion_reason

    from status_dated

),

roles as (

    select
        *,
        case
            when exclusion_reason is not null then null
            when is_paid_by_end and payment_on >= period_start then 'paid'
            when is_paid_by_end then null
            else 'pending'
        end as pmp_role

    from scoped

),

counted as (

    select
        *,
        case pmp_role
            when 'paid' then payment_on - pmp_start_on
            when 'pending' then period_end - pmp_start_on
        end as pmp_days,
        case pmp_role
            when 'paid' then payment_on - start_on
            when 'pending' then period_end - start_on
        end as legal_days,
        case pmp_role
            when 'paid' then payment_on - due_on
            when 'pending' then period_end - due_on
        end as days_past_due

    from roles

),

flagged as (

    select
        *,
        coalesce(days_past_due > 0, false) as is_late,
        coalesce(pmp_method = 'rd1040_2017' and pmp_days < 0, false) as is_negative_days

    from counted

)

select * from flagged
{%- endmacro %}
