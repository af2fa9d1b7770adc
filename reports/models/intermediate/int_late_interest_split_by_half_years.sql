with

invoices as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

rates as (

    select * from {{ ref('int_legal_interest_rates_combined') }}

),

late as (

    select
        invoice_id,
        entity_nif,
        amount,
        morosity_role,
        interest_due_on,
        -- Accrual runs from the day after the interest due date up to and including the
        -- payment date (the as-of day while unpaid: the period end, or today while the
        -- period is running; compliance-rules.md §1.5).
        cast(interest_due_on + 1 as date) as accrual_from,
        case morosity_role when 'paid' then payment_on else as_of_on end as accrual_to

    from invoices
    -- Ley 3/2004 covers transactions with businesses: public-body suppliers are out
    -- (morosity_role), the other RD 635/2014 art. 3 exclusions stay.
    where morosity_role is not null and is_interest_late

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
        rates.half_year_start as rate_start,
        rates.legal_rate,
        rates.ecb_rate,
        rates.source as rate_source,
        rates.source_file as rate_source_file,
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
        legal_rate is null as is_rate_missing

    from segments

)

select * from accrued
