-- The keys and flags of the two ephemeral per-invoice steps, checked in one query: a test of
-- an ephemeral model computes it again from the raw tables, so one test instead of four
-- computes the pivot once (reports/README.md, "Speed"). The checks are the YAML tests they
-- replace: int_invoice_states_pivoted_to_invoices.invoice_id unique and not null;
-- int_invoices_joined_to_milestones.invoice_id unique, and invoice_id, entity_nif,
-- is_credit_note, is_quarantined not null. (The pivot's relationship to the invoices is a
-- warning: assert_invoice_milestones_belong_to_invoices.sql.)
with

milestones as (

    select invoice_id from {{ ref('int_invoice_states_pivoted_to_invoices') }}

),

invoices as (

    select * from {{ ref('int_invoices_joined_to_milestones') }}

),

milestone_keys as (

    select
        count(*) filter (where invoice_id is null) as null_ids,
        count(invoice_id) - count(distinct invoice_id) as duplicate_ids
    from milestones

),

invoice_keys as (

    select
        count(*) filter (
            where invoice_id is null or entity_nif is null
                or is_credit_note is null or is_quarantined is null
        ) as incomplete_rows,
        count(invoice_id) - count(distinct invoice_id) as duplicate_ids
    from invoices

),

failures as (

    select 'int_invoice_states_pivoted_to_invoices: invoice_id is null' as failure, null_ids as n
    from milestone_keys
    union all
    select 'int_invoice_states_pivoted_to_invoices: invoice_id is not unique', duplicate_ids
    from milestone_keys
    union all
    select 'int_invoices_joined_to_milestones: invoice_id, entity_nif, is_credit_note or '
        || 'is_quarantined is null', incomplete_rows
    from invoice_keys
    union all
    select 'int_invoices_joined_to_milestones: invoice_id is not unique', duplicate_ids
    from invoice_keys

)

select * from failures where n > 0
