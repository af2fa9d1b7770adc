with

dated as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

transitions as (

    select
        entity_nif,
        'REGISTERED>ANNOTATED' as transition,
        annotated_on - registered_on as lag_days,
        annotated_on as reached_on,
        period_label,
        period_start,
        period_end

    from dated

    union all

    select
        entity_nif,
        'ANNOTATED>RECOGNISED',
        recognised_on - annotated_on,
        recognised_on,
        period_label,
        period_start,
        period_end

    from dated

    union all

    select
        entity_nif,
        'RECOGNISED>PAID',
        payment_on - recognised_on,
        payment_on,
        period_label,
        period_start,
        period_end

    from dated

),

in_period as (

    select * from transitions
    where reached_on between period_start and period_end and lag_days is not null

),

distribution as (

    select
        period_label as period,
        transition,
        case when grouping(entity_nif) = 1 then 'ALL' else entity_nif end as entity_nif,
        count(*) as transition_count,
        avg(lag_days) as mean_days,
        median(lag_days) as median_days,
        quantile_cont(lag_days, 0.95) as p95_days,
        max(lag_days) as max_days

    from in_period
    group by grouping sets ((period_label, transition, entity_nif), (period_label, transition))

)

select * from distribution
