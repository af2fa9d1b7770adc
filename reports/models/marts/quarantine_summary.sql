with

quarantine as (

    select * from {{ ref('stg_rcflow__quarantine') }}

),

dated as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

reasons as (

    select distinct
        quarantine.invoice_id,
        quarantine.stage,
        quarantine.reason

    from quarantine
    where quarantine.is_unresolved

),

counted as (

    select
        dated.period_label as period,
        dated.entity_nif,
        reasons.stage,
        reasons.reason,
        count(*) as invoice_count,
        sum(dated.amount) as amount

    from reasons
    -- Only invoices that existed by the period end; the quarantine itself is applied as it
    -- stands now (it is about trusting the data, not about history).
    inner join dated on dated.invoice_id = reasons.invoice_id
    group by all

)

select * from counted
