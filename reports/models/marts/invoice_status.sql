with

dated as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

descriptions as (

    select * from {{ ref('int_invoices_joined_to_descriptions') }}

),

accounting as (

    select * from {{ ref('int_accounting_events_owed_to_hub') }}

),

owed_per_invoice as (

    select
        invoice_id,
        count(*) filter (where is_owed_to_hub) as owed_to_hub_count,
        count(*) filter (where is_due_to_hub) as owed_due_count,
        count(*) filter (where is_held_back) as owed_held_count,
        count(*) filter (where is_blocked_by_final_state) as owed_blocked_count,
        string_agg(state, ', ' order by event_on, state)
            filter (where is_owed_to_hub or is_blocked_by_final_state) as owed_to_hub_states,
        min(event_on) filter (where is_owed_to_hub or is_blocked_by_final_state) as owed_since_on

    from accounting
    where is_owed_to_hub or is_blocked_by_final_state
    group by invoice_id

),

aged as (

    select
        ----------  ids
        dated.period_label as period,
        dated.invoice_id,
        dated.entity_nif,
        descriptions.supplier_nif,
        descriptions.invoice_number,
        descriptions.rcf_number,

        ----------  text
        descriptions.entity_name,
        descriptions.supplier_name,
        dated.status_at_end as status,
        case
            when dated.status_at_end = 'REJECTED' then 'rejected'
            when dated.status_at_end = 'CANCELLED' then 'cancelled'
            when dated.is_paid_by_end then 'paid'
            when dated.start_on is null then 'not_registered'
            when dated.as_of_on - dated.start_on <= 30 then '0-30'
            when dated.as_of_on - dated.start_on <= 60 then '31-60'
            when dated.as_of_on - dated.start_on <= 90 then '61-90'
            when dated.as_of_on - dated.start_on <= 180 then '91-180'
            else '181+'
        end as ageing_bucket,
        dated.exclusion_reason,
        dated.scope_exclusion,
        dated.scope_exclusion_source,
        dated.pmp_role,
        dated.operation_role,
        dated.morosity_role,
        dated.start_basis,
        descriptions.quarantine_reasons,
        descriptions.push_blocked_reasons,
        descriptions.reject_reason,
        owed_per_invoice.owed_to_hub_states,

        ----------  numerics
        dated.amount,
        case when not dated.is_paid_by_end and not dated.is_rejected_at_end
            then dated.as_of_on - dated.start_on end as days_open,
        case when not dated.is_paid_by_end and not dated.is_rejected_at_end
            then greatest(dated.as_of_on - dated.due_on, 0) end as days_overdue,
        dated.pmp_days,
        coalesce(owed_per_invoice.owed_to_hub_count, 0) as owed_to_hub_count,
        coalesce(owed_per_invoice.owed_due_count, 0) as owed_due_count,
        coalesce(owed_per_invoice.owed_held_count, 0) as owed_held_count,
        coalesce(owed_per_invoice.owed_blocked_count, 0) as owed_blocked_count,

        ----------  booleans
        dated.is_quarantined,
        dated.is_credit_note,
        dated.is_corrective,
        dated.is_start_inferred,
        dated.is_payment_date_inferred,
        dated.is_provisional,
        coalesce(
            not dated.is_paid_by_end and not dated.is_rejected_at_end
            and dated.as_of_on > dated.due_on,
            false
        ) as is_overdue,

        ----------  dates
        dated.status_on,
        dated.registered_on,
        dated.annotated_on,
        dated.accepted_on,
        dated.recognised_on,
        dated.start_on,
        dated.due_on,
        dated.interest_due_on,
        dated.payment_on,
        dated.as_of_on,
        owed_per_invoice.owed_since_on

    from dated
    inner join descriptions on descriptions.invoice_id = dated.invoice_id
    left join owed_per_invoice on owed_per_invoice.invoice_id = dated.invoice_id

)

select * from aged
