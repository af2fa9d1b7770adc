{#- Late-payment interest (Ley 3/2004 arts. 5-8; LCSP art. 198.4) per late invoice: accrued
    from the day after the interest due date (reading interest_due_date, compliance-rules.md
    §5.2) to the payment date, or to the as-of day while unpaid. The 40 EUR recovery costs
    (art. 8) stand whatever the rate; days in a half-year without a published rate (§5.3) are
    counted apart (unrated_days, unrated_principal) and never make a total vanish. -#}
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
        coalesce(sum(accrual_days) filter (where is_rate_missing), 0) as unrated_days,
        -- Interest on the days that have a rate; the others are listed, not guessed.
        {{ interest_to_the_cent('amount', 'legal_rate', 'accrual_days', where='not is_rate_missing') }}
            as interest,
        string_agg(
            case when is_rate_missing
                then strftime(segment_from, '%Y-%m-%d') || '..' || strftime(segment_to, '%Y-%m-%d')
                    || ' ' || accrual_days || 'd: rate not yet published'
                else strftime(segment_from, '%Y-%m-%d') || '..' || strftime(segment_to, '%Y-%m-%d')
                    || ' ' || accrual_days || 'd @ ' || legal_rate || '% [' || rate_status || ']'
                    || coalesce(' ' || rate_source, '')
            end,
            '; ' order by segment_from
        ) as rate_detail,
        -- Weakest source among the rates used: U (unverified) < S (secondary) < user (the
        -- rates file, with its stated source) < V (BOE).
        case
            when bool_or(rate_status = 'U') then 'U'
            when bool_or(rate_status = 'S') then 'S'
            when bool_or(rate_status = 'user') then 'user'
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
        case dated.morosity_role when 'paid' then 'paid' else 'pending_at_as_of_day' end
            as accrual_end_basis,
        dated.interest_due_basis as due_basis,
        per_invoice.rate_detail,
        per_invoice.weakest_rate_status,
        dated.scope_exclusion,

        ----------  numerics
        dated.amount as principal,
        dated.interest_days_late as days_late,
        per_invoice.interest,
        per_invoice.unrated_days,
        case when per_invoice.is_rate_missing then dated.amount else 0 end as unrated_principal,
        cast({{ var('recovery_costs_eur') }} as decimal(18, 2)) as recovery_costs,
        -- Interest on the rated days plus the recovery costs: never NULL (§5.3).
        per_invoice.interest + {{ var('recovery_costs_eur') }} as total_claimable,

        ----------  booleans
        per_invoice.is_rate_missing,
        dated.is_quarantined,
        dated.is_provisional,

        ----------  dates
        dated.start_on,
        dated.registered_on,
        dated.interest_due_on as due_on,
        dated.as_of_on,
        case dated.morosity_role when 'paid' then dated.payment_on else dated.as_of_on end
            as accrual_to

    from per_invoice
    inner join dated on dated.invoice_id = per_invoice.invoice_id
    inner join descriptions on descriptions.invoice_id = per_invoice.invoice_id

)

select * from described
