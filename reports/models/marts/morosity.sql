with

dated as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

entities as (

    select * from {{ ref('stg_efact__entities') }}

),

administrations as (

    {{ administrations_relation() }}

),

periods as (

    {{ reporting_periods() }}

),

operations as (

    select
        *,
        {{ administration_id_sql('entity_nif') }} as administration_id

    from dated

),

sums as (

    select
        period_label,
        as_of_on,
        is_provisional,
        administration_id,
        case when grouping(entity_nif) = 1 then 'ALL' else entity_nif end as entity_nif,

        ----------  payments made in the period (legal period: due = start + 30 days)
        count(*) filter (where morosity_role = 'paid' and not is_late) as paid_in_time_count,
        coalesce(sum(amount) filter (where morosity_role = 'paid' and not is_late), 0)
            as paid_in_time_amount,
        count(*) filter (where morosity_role = 'paid' and is_late) as paid_late_count,
        coalesce(sum(amount) filter (where morosity_role = 'paid' and is_late), 0)
            as paid_late_amount,
        sum(legal_days * amount) filter (where morosity_role = 'paid') as paid_weighted_days,
        sum(amount) filter (where morosity_role = 'paid') as paid_amount,
        sum(days_past_due * amount) filter (where morosity_role = 'paid' and is_late)
            as paid_late_weighted_days,

        ----------  pending at the period end
        count(*) filter (where morosity_role = 'pending' and not is_late) as pending_in_time_count,
        coalesce(sum(amount) filter (where morosity_role = 'pending' and not is_late), 0)
            as pending_in_time_amount,
        count(*) filter (where morosity_role = 'pending' and is_late) as pending_late_count,
        coalesce(sum(amount) filter (where morosity_role = 'pending' and is_late), 0)
            as pending_late_amount,
        sum(legal_days * amount) filter (where morosity_role = 'pending') as pending_weighted_days,
        sum(amount) filter (where morosity_role = 'pending') as pending_amount,
        sum(days_past_due * amount) filter (where morosity_role = 'pending' and is_late)
            as pending_late_weighted_days,

        ----------  flags and exclusions
        -- in the registry by the as-of day (RCF), whether or not the figures count them
        count(*) filter (where is_quarantined and registered_on is not null) as quarantined_count,
        count(*) filter (where morosity_role is not null and is_quarantined) as findings_count,
        coalesce(sum(amount) filter (where morosity_role is not null and is_quarantined), 0)
            as findings_amount,
        count(*) filter (where operation_role is not null and morosity_role is null)
            as scope_excluded_count,
        coalesce(sum(amount) filter (where operation_role is not null and morosity_role is null),
            0) as scope_excluded_amount

    from operations
    group by grouping sets (
        (period_label, as_of_on, is_provisional, administration_id, entity_nif),
        (period_label, as_of_on, is_provisional, administration_id)
    )

),

pooled as (

    -- Never pool what belongs to no administration.
    select * from sums
    where entity_nif <> 'ALL' or administration_id is not null

),

averaged as (

    select
        period_label as period,
        entity_nif,
        administration_id,
        as_of_on,
        is_provisional,
        paid_in_time_count,
        paid_in_time_amount,
        paid_late_count,
        paid_late_amount,
        -- No interest payments are recorded in the hub history or the accounting import.
        0 as interest_paid_count,
        cast(0 as decimal(18, 2)) as interest_paid_amount,
        pending_in_time_count,
        pending_in_time_amount,
        pending_late_count,
        pending_late_amount,
        {{ rounded_quotient('paid_weighted_days', 'paid_amount') }} as pmp_days,
        {{ rounded_quotient('pending_weighted_days', 'pending_amount') }} as pmpp_days,
        {{ rounded_quotient('paid_late_weighted_days', 'paid_late_amount') }} as pmpe_days,
        {{ rounded_quotient('pending_late_weighted_days', 'pending_late_amount') }} as pmppe_days,
        quarantined_count,
        findings_count,
        findings_amount,
        scope_excluded_count,
        scope_excluded_amount

    from pooled

),

-- Every entity reports each quarter, zeros when the hub holds none of its invoices, and each
-- administration keeps its 'ALL' row, as the PMP does.
without_invoices as (

    select
        periods.period_label as period,
        entities.entity_nif,
        {{ administration_id_sql('entities.entity_nif') }} as administration_id,
        periods.as_of_on,
        periods.is_provisional

    from entities
    cross join periods
    where entities.entity_nif not in (select entity_nif from averaged)

    union all

    select
        periods.period_label as period,
        'ALL' as entity_nif,
        administrations.administration_id,
        periods.as_of_on,
        periods.is_provisional

    from periods
    cross join administrations
    where administrations.administration_id not in (
        select administration_id from averaged where entity_nif = 'ALL'
    )

),

completed as (

    select * from averaged

    union all by name

    select
        *,
        {%- for block in ['paid_in_time', 'paid_late', 'interest_paid', 'pending_in_time',
                          'pending_late'] %}
        0 as {{ block }}_count,
        cast(0 as decimal(18, 2)) as {{ block }}_amount,
        {%- endfor %}
        {%- for ratio in ['pmp_days', 'pmpp_days', 'pmpe_days', 'pmppe_days'] %}
        cast(null as decimal(18, 2)) as {{ ratio }},
        {%- endfor %}
        0 as quarantined_count,
        0 as findings_count,
        cast(0 as decimal(18, 2)) as findings_amount,
        0 as scope_excluded_count,
        cast(0 as decimal(18, 2)) as scope_excluded_amount

    from without_invoices

),

labelled as (

    select
        completed.period,
        completed.entity_nif,
        case when completed.entity_nif = 'ALL' then administrations.administration_name
            else entities.entity_name end as entity_name,
        completed.* exclude (period, entity_nif),
        'Ley 15/2010 art. 4 / Ley 3/2004: due date = start of the count (RD 1040/2017 rule)'
            || ' + 30 days (LCSP art. 198.4); on the due date counts as in time'
            as method_label,
        'none recorded: the hub and accounting data carry no interest payments'
            as interest_paid_basis

    from completed
    left join entities on entities.entity_nif = completed.entity_nif
    left join administrations on administrations.administration_id = completed.administration_id

)

select * from labelled
