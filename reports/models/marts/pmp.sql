{#- Dated straight from the invoices with the shared macros (the same logic as
    int_invoices_dated_as_of_period and pmp_trend): the PMP never waits for the wide per-invoice
    table the other marts read, and pivots only the states its figures use (the trend, dated
    from every state, must agree: data-tests/assert_pmp_matches_trend_for_the_period.sql). -#}
with

-- The hub's rows of the states the PMP's dates read (registry, conformity, payment, refusals):
-- under half of the 6M state rows.
milestones_of_pmp_states as (

    {{ pivot_invoice_states(only_states=['REGISTERED', 'ACCEPTED', 'PAID', 'REJECTED',
                                         'CANCELLED']) }}

),

invoices as (

    {{ join_invoices_to_milestones('milestones_of_pmp_states', complete=false) }}

),

entities as (

    select * from {{ ref('stg_efact__entities') }}

),

periods as (

    {{ reporting_periods() }}

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

-- Entities with no paid or pending operation still get a row (PMP n/a).
entities_without_operations as (

    select
        periods.period_label,
        periods.period_start,
        periods.period_end,
        periods.pmp_method,
        periods.as_of_on,
        periods.is_provisional,
        {{ administration_id_sql('entities.entity_nif') }} as administration_id,
        entities.entity_nif

    from entities
    cross join periods
    where entities.entity_nif not in (select entity_nif from aggregated)

    union all

    -- Each administration's global row is always there, n/a when it had no operations.
    select
        periods.period_label,
        periods.period_start,
        periods.period_end,
        periods.pmp_method,
        periods.as_of_on,
        periods.is_provisional,
        administrations.administration_id,
        'ALL' as entity_nif

    from periods
    cross join administrations
    where administrations.administration_id not in (
        select administration_id from aggregated where entity_nif = 'ALL'
    )

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
        0 as findings_count,
        0 as findings_amount,
        0 as scope_excluded_count,
        0 as scope_excluded_amount,
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
        case when completed.entity_nif = 'ALL'
            then administrations.administration_name || ' (global PMP)'
            else entities.entity_name end as entity_name,
        completed.* exclude (period_label, entity_nif),
        administrations.administration_name,
        completed.entity_nif = 'ALL' as is_global,
        -- LO 2/2012 art. 13.6: the 30-day maximum only means something for the current
        -- method (compliance-rules.md §1.3); NULL = no verdict. Judged on the published
        -- figure (2 decimals), so the page never says 30.00 exceeds 30.
        case when completed.pmp_method = 'rd1040_2017' and completed.pmp is not null
            then completed.pmp <= 30 end as is_within_30_days,
        {{ pmp_method_label_sql('completed.pmp_method') }} as method_label

    from completed
    left join entities on entities.entity_nif = completed.entity_nif
    left join administrations
        on administrations.administration_id = completed.administration_id

)

select * from labelled
