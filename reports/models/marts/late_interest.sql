with

dated as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

descriptions as (

    select * from {{ ref('int_invoices_joined_to_descriptions') }}

),

segments as (

    select * from {{ ref('int_late_interest_split_by_half_years') }}

),

per_invoice as (

    select
        invoice_id,
        bool_or(is_rate_missing) as is_rate_missing,
        sum(accrual_days) as accrual_days,
        -- Refuse rather than guess: no total when any half-year has no published rate.
        case when not bool_or(is_rate_missing) then round(sum(interest), 2) end as interest,
        string_agg(
            case when is_rate_missing
                then strftime(half_year_start, '%Y-%m-%d') || ': NO RATE ROW'
                else strftime(segment_from, '%Y-%m-%d') || '..' || strftime(segment_to, '%Y-%m-%d')
                    || ' ' || accrual_days || 'd @ ' || legal_rate || '% [' || rate_status || ']'
                    || coalesce(' ' || boe_id, '')
            end,
            '; ' order by segment_from
        ) as rate_detail,
        -- Weakest source among the rates used: U (unverified) < S (secondary) < V (BOE).
        case
            when bool_or(rate_status = 'U') then 'U'
            when bool_or(rate_status = 'S') then 'S'
            when bool_or(rate_status = 'V') then 'V'
        end as weakest_rate_status

    from segments
    group by invoice_id

),

described as (

    select
        ----------  ids
        dated.period_label as period,
        dated.invoice_id,
        dated.entity_nif,
        descriptions.supplier_nif,
        descriptions.invoice_number,
        descriptions.rcf_number,

        ----------  text
        descriptions.supplier_name,
        case dated.pmp_role when 'paid' then 'paid' else 'pending_at_period_end' end
            as accrual_end_basis,
        per_invoice.rate_detail,
        per_invoice.weakest_rate_status,

        ----------  numerics
        dated.amount as principal,
        dated.days_past_due as days_late,
        per_invoice.interest,
        cast({{ var('recovery_costs_eur') }} as decimal(18, 2)) as recovery_costs,
        per_invoice.interest + {{ var('recovery_costs_eur') }} as total_claimable,

        ----------  booleans
        per_invoice.is_rate_missing,

        ----------  dates
        dated.start_on,
        dated.due_on,
        case dated.pmp_role when 'paid' then dated.payment_on else dated.period_end end
            as accrual_to

    from per_invoice
    inner join dated on dated.invoice_id = per_invoice.invoice_id
    inner join descriptions on descriptions.invoice_id = per_invoice.invoice_id

)

select * from described
