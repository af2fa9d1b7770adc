{#- PMP per entity and period, plus one 'ALL' row per period and administration (the global
    PMP, RD 635/2014; administrations.sql): each ratio is the amount-weighted mean of the day
    counts, and PMP_global = sum_e PMP(e) * ops(e) / sum_e ops(e) = the amount-weighted mean
    over the administration's operations. An entity in no administration has no global row.
    Ratios are the published figures, 2 decimals rounded half away from zero exactly
    (rounded_quotient); over an empty set they are NULL ("n/a"). Takes date_invoices_as_of() rows.
    The *_findings columns count the operations of each figure that rest on invoices with
    open quality findings (quarantined, counted all the same: compliance-rules.md §4.1);
    scope_excluded_* the invoices RD 635/2014 art. 3 takes out. -#}
{% macro aggregate_pmp(dated) -%}
with

operations as (

    select
        *,
        {{ administration_id_sql('entity_nif') }} as administration_id

    from {{ dated }}

),

sums as (

    select
        period_label,
        period_start,
        period_end,
        pmp_method,
        as_of_on,
        is_provisional,
        administration_id,
        case when grouping(entity_nif) = 1 then 'ALL' else entity_nif end as entity_nif,

        count(*) filter (where pmp_role = 'paid') as paid_count,
        coalesce(sum(amount) filter (where pmp_role = 'paid'), 0) as paid_amount,
        coalesce(sum(pmp_days * amount) filter (where pmp_role = 'paid'), 0)
            as paid_weighted_days,
        count(*) filter (where pmp_role = 'pending') as pending_count,
        coalesce(sum(amount) filter (where pmp_role = 'pending'), 0) as pending_amount,
        coalesce(sum(pmp_days * amount) filter (where pmp_role = 'pending'), 0)
            as pending_weighted_days,

        -- in the registry by the as-of day (RCF), whether or not the figures count them
        count(*) filter (where is_quarantined and registered_on is not null) as quarantined_count,
        count(*) filter (where pmp_role is not null and is_quarantined) as findings_count,
        coalesce(sum(amount) filter (where pmp_role is not null and is_quarantined), 0)
            as findings_amount,
        count(*) filter (where operation_role is not null and scope_exclusion is not null)
            as scope_excluded_count,
        coalesce(sum(amount) filter (
            where operation_role is not null and scope_exclusion is not null), 0)
            as scope_excluded_amount,
        count(*) filter (where exclusion_reason = 'credit_note') as credit_note_count,
        count(*) filter (where pmp_role is not null and is_start_inferred)
            as start_inferred_count,
        count(*) filter (where pmp_role is not null and is_negative_days)
            as negative_days_count

    from operations
    group by grouping sets (
        (period_label, period_start, period_end, pmp_method, as_of_on, is_provisional,
            administration_id, entity_nif),
        (period_label, period_start, period_end, pmp_method, as_of_on, is_provisional,
            administration_id)
    )

),

pooled as (

    -- Never pool what belongs to no administration.
    select * from sums
    where entity_nif <> 'ALL' or administration_id is not null

),

ratios as (

    select
        *,
        {{ rounded_quotient('paid_weighted_days', 'paid_amount') }} as paid_ratio,
        {{ rounded_quotient('pending_weighted_days', 'pending_amount') }} as pending_ratio,
        {{ rounded_quotient('paid_weighted_days + pending_weighted_days',
                            'paid_amount + pending_amount') }} as pmp

    from pooled

)

select * from ratios
{%- endmacro %}
