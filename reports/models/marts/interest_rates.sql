{#- Every legal interest rate the build knew (the project's table plus the user's rates file),
    with how much of this report's accrual used it: the report lists the rates it used and
    their source. -#}
with

rates as (

    select * from {{ ref('int_legal_interest_rates_combined') }}

),

segments as (

    select * from {{ ref('int_late_interest_split_by_half_years') }}

),

usage as (

    select
        rate_start,
        count(distinct invoice_id) as invoice_count,
        sum(accrual_days) as accrual_days,
        {{ interest_to_the_cent('amount', 'legal_rate', 'accrual_days') }} as interest

    from segments
    where not is_rate_missing
    group by rate_start

),

listed as (

    select
        rates.half_year_start,
        rates.half_year_end,
        rates.legal_rate,
        rates.ecb_rate,
        rates.source,
        rates.status,
        rates.source_file,
        coalesce(usage.invoice_count, 0) as invoice_count,
        coalesce(usage.accrual_days, 0) as accrual_days,
        coalesce(usage.interest, 0) as interest,
        usage.invoice_count is not null as is_used

    from rates
    left join usage on usage.rate_start = rates.half_year_start

)

select * from listed
