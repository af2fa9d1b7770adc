{#- PMP per entity and period, plus one 'ALL' row per period (the global PMP, RD 635/2014):
    each ratio is the amount-weighted mean of the day counts, and
    PMP_global = sum_e PMP(e) * ops(e) / sum_e ops(e) = the amount-weighted mean over all
    operations. Ratios over an empty set are NULL ("n/a"). Takes date_invoices_as_of() rows. -#}
{% macro aggregate_pmp(dated) -%}
with

operations as (

    select * from {{ dated }}

),

sums as (

    select
        period_label,
        period_start,
        period_end,
        pmp_method,
        case when grouping(entity_nif) = 1 then 'ALL' else entity_nif end as entity_nif,

        count(*) filter (where pmp_role = 'paid') as paid_count,
        coalesce(sum(amount) filter (where pmp_role = 'paid'), 0) as paid_amount,
        coalesce(sum(pmp_days * amount) filter (where pmp_role = 'paid'), 0)
            as paid_weighted_days,
        count(*) filter (where pmp_role = 'pending') as pending_count,
        coalesce(sum(amount) filter (where pmp_role = 'pending'), 0) as pending_amount,
        coalesce(sum(pmp_days * amount) filter (where pmp_role = 'pending'), 0)
            as pending_weighted_days,

        count(*) filter (where is_quarantined) as quarantined_count,
        count(*) filter (where exclusion_reason = 'credit_note') as credit_note_count,
        count(*) filter (where pmp_role is not null and is_start_inferred)
            as start_inferred_count,
        count(*) filter (where pmp_role is not null and is_negative_days)
            as negative_days_count

    from operations
    group by grouping sets (
        (period_label, period_start, period_end, pmp_method, entity_nif),
        (period_label, period_start, period_end, pmp_method)
    )

),

ratios as (

    select
        *,
        case when paid_amount <> 0
            then cast(paid_weighted_days as double) / cast(paid_amount as double)
        end as paid_ratio,
        case when pending_amount <> 0
            then cast(pending_weighted_days as double) / cast(pending_amount as double)
        end as pending_ratio,
        case when paid_amount + pending_amount <> 0
            then cast(paid_weighted_days + pending_weighted_days as double)
                / cast(paid_amount + pending_amount as double)
        end as pmp

    from sums

)

select * from ratios
{%- endmacro %}
