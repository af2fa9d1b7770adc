with

invoices as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

rates as (

    select * from {{ ref('legal_interest_rates') }}

),

late as (

    select
        invoice_id,
        entity_nif,
        amount,
        pmp_role,
        due_on,
        -- Accrual runs from the day after the due date up to and including the payment date
        -- (the period end while unpaid).
        cast(due_on + 1 as date) as accrual_from,
        case pmp_role when 'paid' then payment_on else period_end end as accrual_to

    from invoices
    where pmp_role is not null and is_late

),

half_years as (

    select
        *,
        cast(unnest(generate_series(
            make_date(year(accrual_from), case when month(accrual_from) <= 6 then 1 else 7 end, 1),
            accrual_to,
            interval 6 month
        )) as date) as half_year_start

    from late

),

half_years_bounded as (

    select
        *,
        cast(half_year_start + interval 6 month - interval 1 day as date) as half_year_end

    from half_years

),

segments as (

    select
        half_years_bounded.invoice_id,
        half_years_bounded.entity_nif,
        half_years_bounded.amount,
        half_years_bounded.half_year_start,
        rates.legal_rate,
        rates.ecb_rate,
        rates.boe_id,
        rates.status as rate_status,
        -- A half-year may hold more than one rate row (2013: margin change on 24 Feb).
        greatest(
            half_years_bounded.accrual_from,
            half_years_bounded.half_year_start,
            rates.half_year_start
        ) as segment_from,
        least(
            half_years_bounded.accrual_to,
            half_years_bounded.half_year_end,
            rates.half_year_end
        ) as segment_to

    from half_years_bounded
    left join rates
        on rates.half_year_start
            <= least(half_years_bounded.accrual_to, half_years_bounded.half_year_end)
        and rates.half_year_end
            >= greatest(half_years_bounded.accrual_from, half_years_bounded.half_year_start)

),

accrued as (

    select
        *,
        segment_to - segment_from + 1 as accrual_days,
        legal_rate is null as is_rate_missing,
        -- Simple interest, base 365 (Ley 3/2004 sets no day basis: usual practice).
        cast(amount as double) * cast(legal_rate as double) / 100
            * (segment_to - segment_from + 1) / 365 as interest

    from segments

)

select * from accrued
