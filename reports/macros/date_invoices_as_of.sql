{#- The core date logic, shared by the period's models and the PMP trend so they can never
    disagree. Takes a relation of invoices with the effective date of each state
    (join_invoices_to_milestones(); for the trend, int_invoices_dated_as_of_period's dates
    as of the report period's end) and a relation of periods (reporting_periods()), and
    returns one row per (invoice, period) for invoices known by the period's as-of day
    (as_of_on: the period end, or today while the period is running), with: the states whose
    effective date is on or before that day, status then, start date of the count
    (RD 1040/2017), legal due date (start + 30), interest due date (reading
    interest_due_date), the invoice's roles and day counts. A fact dated after as_of_on never
    changes the period.
    Roles: operation_role ('paid' | 'pending' | null) is the invoice's part in the payment
    figures before the RD 635/2014 art. 3 scope exclusions (issued before 2014 among them);
    pmp_role is the same with those exclusions out; morosity_role keeps them except public bodies (Ley 3/2004 covers
    transactions with businesses only).
    operations_only=true keeps only the rows aggregate_pmp() reads: the invoices in the
    registry by the as-of day that can be paid in or pending at the end of the period (not paid
    before its start), plus the flagged ones it counts whatever their role (open quality
    findings, credit notes). The PMP and its trend need no others (about a sixth of the
    invoices for a month), and, as a registered invoice is known by then, no first_known_on:
    DuckDB then skips the states only that date needs. -#}
{% macro date_invoices_as_of(invoices, periods, operations_only=false) -%}
    {%- set pending_reading = reading('pending_without_acceptance') -%}
    {%- set credit_reading = reading('credit_notes') -%}
    {%- set quarantine_reading = reading('quarantined_invoices') -%}
    {%- set interest_due_reading = reading('interest_due_date') -%}
    {%- set milestones = ['sent_on', 'registered_on', 'delivered_on', 'annotated_on',
                          'received_on', 'accepted_on', 'recognised_on', 'payment_on',
                          'rejected_on', 'cancelled_on'] -%}
with

as_of as (

    select
        periods.period_label,
        periods.period_start,
        periods.period_end,
        periods.pmp_method,
        periods.as_of_on,
        periods.is_provisional,
        invoices.* exclude ({{ milestones | join(', ') }}),
        {%- for column in milestones %}
        case when invoices.{{ column }} <= periods.as_of_on
            then invoices.{{ column }} end as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ invoices }} as invoices
    cross join {{ periods }} as periods
    {%- if operations_only %}
    where invoices.registered_on <= periods.as_of_on
        and (
            invoices.payment_on is null
            or invoices.payment_on >= periods.period_start
            or invoices.is_quarantined
            or invoices.is_credit_note
        )
    {%- else %}
    where invoices.first_known_on <= periods.as_of_on
    {%- endif %}

),

statuses as (

    select
        *,
        -- Refused for good by the as-of day, and so out of every payment figure: REJECTED, or
        -- CANCELLED (FACe's 3100, an accepted cancellation request), unless paid before. The
        -- one definition every mart's "not rejected" reads; status_at_end and
        -- exclusion_reason tell the two apart.
        (rejected_on is not null and (payment_on is null or rejected_on < payment_on))
            or (cancelled_on is not null and (payment_on is null or cancelled_on < payment_on))
            as is_rejected_at_end,
        cancelled_on is not null and (payment_on is null or cancelled_on < payment_on)
            as is_cancelled_at_end,
        payment_on is not null as is_paid_by_end

    from as_of

),

started as (

    select
        *,
        case
            when is_cancelled_at_end then 'CANCELLED'
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
            when 'CANCELLED' then cancelled_on
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
        * replace (
            -- RD 635/2014 art. 3 (§3.1, §4 case 20): invoices issued before 1-1-2014 are out
            -- of the PMP only; the Ley 3/2004 (morosity, interest) and the art. 10 list have
            -- no such start. An art. 3 exclusion stated for the invoice comes first.
            coalesce(scope_exclusion, case when coalesce(issue_date, registered_on)
                < date '{{ var("pmp_scope_start") }}' then 'issued_before_scope' end)
                as scope_exclusion,
            coalesce(scope_exclusion_source, case when coalesce(issue_date, registered_on)
                < date '{{ var("pmp_scope_start") }}' then 'issue_date' end)
                as scope_exclusion_source
        ),
        cast(start_on + 30 as date) as due_on,
        -- Interest (compliance-rules.md §5.2): the Supreme Court's reading of LCSP art. 198.4
        -- gives 30 days to approve and 30 to pay, so a late or missing conformity is capped at
        -- registry + 60 (with no conformity by the as-of day, registry + 60 itself); the
        -- alternatives are selectable. interest_due_basis names the rule that gave the date.
        {%- if interest_due_reading == 'earlier_of_conformity_30_registry_60' %}
        cast(case when accepted_on is null then registered_on + 60
            else least(start_on + 30, registered_on + 60) end as date) as interest_due_on,
        case
            when accepted_on is null or start_on + 30 > registered_on + 60
                then 'registry_plus_60'
            when start_basis = 'acceptance' then 'conformity_plus_30'
            else 'registry_plus_30'
        end as interest_due_basis,
        {%- elif interest_due_reading == 'conformity_plus_30' %}
        cast(start_on + 30 as date) as interest_due_on,
        case when start_basis = 'acceptance' then 'conformity_plus_30' else 'registry_plus_30' end
            as interest_due_basis,
        {%- else %}
        cast(registered_on + 30 as date) as interest_due_on,
        'registry_plus_30' as interest_due_basis,
        {%- endif %}
        case pmp_method
            when 'rd635_2014_original' then cast(registered_on + 30 as date)
            else start_on
        end as pmp_start_on,
        case
            {%- if quarantine_reading == 'exclude' %}
            when is_quarantined then 'quarantined'
            {%- endif %}
            when registered_on is null then 'not_registered'
            {%- if credit_reading == 'exclude_and_flag' %}
            when is_credit_note then 'credit_note'
            {%- endif %}
            when is_cancelled_at_end then 'cancelled'
            when is_rejected_at_end then 'rejected'
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
        end as operation_role

    from scoped

),

scope_roles as (

    select
        *,
        case when scope_exclusion is null then operation_role end as pmp_role,
        case when scope_exclusion is distinct from 'public_body' then operation_role end
            as morosity_role

    from roles

),

counted as (

    select
        *,
        case pmp_role
            when 'paid' then payment_on - pmp_start_on
            when 'pending' then as_of_on - pmp_start_on
        end as pmp_days,
        case operation_role
            when 'paid' then payment_on - start_on
            when 'pending' then as_of_on - start_on
        end as legal_days,
        case operation_role
            when 'paid' then payment_on - due_on
            when 'pending' then as_of_on - due_on
        end as days_past_due,
        case operation_role
            when 'paid' then payment_on - interest_due_on
            when 'pending' then as_of_on - interest_due_on
        end as interest_days_late

    from scope_roles

),

flagged as (

    select
        *,
        coalesce(days_past_due > 0, false) as is_late,
        coalesce(interest_days_late > 0, false) as is_interest_late,
        coalesce(pmp_method = 'rd1040_2017' and pmp_days < 0, false) as is_negative_days

    from counted

)

select * from flagged
{%- endmacro %}
