{#- The facts known by the report period's end are all any period of the trend can use, and
    int_invoices_dated_as_of_period holds exactly those (each state dated, null when after that
    end): each trend period dates them again as of its own end, so the trend reads that table
    instead of recomputing the per-invoice dates. -#}
with

periods as (

    {{ reporting_periods(series=true) }}

),

invoices as (

    select
        ----------  ids
        invoice_id,
        entity_nif,

        ----------  amounts
        amount,

        ----------  booleans
        is_credit_note,
        is_quarantined,

        ----------  text
        scope_exclusion,
        scope_exclusion_source,

        ----------  dates
        issue_date,
        first_known_on,
        sent_on,
        registered_on,
        delivered_on,
        annotated_on,
        received_on,
        accepted_on,
        recognised_on,
        payment_on,
        rejected_on,
        cancelled_on

    from {{ ref('int_invoices_dated_as_of_period') }}
    -- what no period of the series can count is left out before the series multiplies the rows
    -- (the same test date_invoices_as_of(operations_only=true) makes for each period)
    where payment_on is null
        or payment_on >= (select min(period_start) from periods)
        or is_quarantined
        or is_credit_note

),

administrations as (

    {{ administrations_relation() }}

),

dated as (

    {{ date_invoices_as_of('invoices', 'periods', operations_only=true) }}

),

aggregated as (

    {{ aggregate_pmp('dated') }}

),

-- Every period keeps each administration's ALL row, even with no operations, so the series
-- has no holes.
completed as (

    select * from aggregated

    union all by name

    select
        periods.*,
        administrations.administration_id,
        'ALL' as entity_nif,
        0 as paid_count,
        0 as paid_amount,
        0 as pending_count,
        0 as pending_amount,
        null as paid_ratio,
        null as pending_ratio,
        null as pmp

    from periods
    cross join administrations
    where not exists (
        select 1 from aggregated
        where aggregated.entity_nif = 'ALL'
            and aggregated.period_label = periods.period_label
            and aggregated.administration_id = administrations.administration_id
    )

),

labelled as (

    select
        period_label as period,
        entity_nif,
        administration_id,
        period_start,
        period_end,
        as_of_on,
        is_provisional,
        pmp_method,
        paid_count,
        paid_amount,
        paid_ratio,
        pending_count,
        pending_amount,
        pending_ratio,
        pmp,
        -- True on the first period of a series computed with a different method than the one
        -- before it: the two methods must never be read as one series.
        coalesce(
            pmp_method <> lag(pmp_method) over (
                partition by entity_nif, administration_id order by period_start),
            false
        ) as is_method_break,
        {{ pmp_method_label_sql('pmp_method') }} as method_label

    from completed

)

select * from labelled
