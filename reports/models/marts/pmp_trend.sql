with

invoices as (

    select * from {{ ref('int_invoices_joined_to_milestones') }}

),

periods as (

    {{ reporting_periods(series=true) }}

),

dated as (

    {{ date_invoices_as_of('invoices', 'periods', operations_only=true) }}

),

aggregated as (

    {{ aggregate_pmp('dated') }}

),

-- Every period keeps an ALL row, even with no operations, so the series has no holes.
completed as (

    select * from aggregated

    union all by name

    select
        *,
        'ALL' as entity_nif,
        0 as paid_count,
        0 as paid_amount,
        0 as pending_count,
        0 as pending_amount,
        null as paid_ratio,
        null as pending_ratio,
        null as pmp

    from periods
    where period_label not in (select period_label from aggregated)

),

labelled as (

    select
        period_label as period,
        entity_nif,
        period_start,
        period_end,
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
            pmp_method <> lag(pmp_method) over (partition by entity_nif order by period_start),
            false
        ) as is_method_break,
        {{ pmp_method_label_sql('pmp_method') }} as method_label

    from completed

)

select * from labelled
