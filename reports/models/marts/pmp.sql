{#- Dated straight from the invoices with the shared macro (the same logic as
    int_invoices_dated_as_of_period and pmp_trend): the PMP never waits for the wide per-invoice
    table the other marts read. -#}
with

invoices as (

    select * from {{ ref('int_invoices_joined_to_milestones') }}

),

entities as (

    select * from {{ ref('stg_efact__entities') }}

),

periods as (

    {{ reporting_periods() }}

),

dated as (

    {{ date_invoices_as_of('invoices', 'periods') }}

),

aggregated as (

    {{ aggregate_pmp('dated') }}

),

-- Entities with no paid or pending operation still get a row (PMP n/a).
entities_without_operations as (

    select
        periods.period_label,
        periods.period_start,
        periods.period_end,
        periods.pmp_method,
        entities.entity_nif

    from entities
    cross join periods
    where entities.entity_nif not in (select entity_nif from aggregated)

    union all

    -- The global row is always there, n/a when nothing was known by the period end.
    select
        period_label,
        period_start,
        period_end,
        pmp_method,
        'ALL' as entity_nif

    from periods
    where 'ALL' not in (select entity_nif from aggregated)

),

completed as (

    select * from aggregated

    union all by name

    select
        *,
        0 as paid_count,
        0 as paid_amount,
        0 as paid_weighted_days,
        0 as pending_count,
        0 as pending_amount,
        0 as pending_weighted_days,
        0 as quarantined_count,
        0 as credit_note_count,
        0 as start_inferred_count,
        0 as negative_days_count,
        null as paid_ratio,
        null as pending_ratio,
        null as pmp

    from entities_without_operations

),

labelled as (

    select
        completed.period_label as period,
        completed.entity_nif,
        case when completed.entity_nif = 'ALL' then 'All entities (global PMP)'
            else entities.entity_name end as entity_name,
        completed.* exclude (period_label, entity_nif),
        {{ pmp_method_label_sql('completed.pmp_method') }} as method_label

    from completed
    left join entities on entities.entity_nif = completed.entity_nif

)

select * from labelled
