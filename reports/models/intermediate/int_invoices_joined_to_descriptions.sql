{#- What the outputs print about an invoice, apart from its figures: numbers, names, offices,
    the RCF number and rejection reason (the hub's state first, then its invoice detail, then
    the accounting system's), the quarantine reasons and those of them that hold pushes back,
    and the accounting import's note on a scope exclusion (with its import and line). -#}
with

invoices as (

    select * from {{ ref('stg_efact__invoices') }}

),

states as (

    select * from {{ ref('stg_efact__invoice_states') }}

),

events as (

    select * from {{ ref('stg_rcflow__accounting_events') }}

),

entities as (

    select * from {{ ref('stg_efact__entities') }}

),

quarantine as (

    select * from {{ ref('stg_rcflow__quarantine') }}

),

holds as (

    select * from {{ ref('stg_rcflow__quarantine_holds') }}

),

exclusions as (

    select * from {{ ref('stg_rcflow__scope_exclusions') }}

),

hub_details as (

    select
        invoice_id,
        min(rcf_number) filter (where state = 'ANNOTATED') as rcf_number,
        min(reject_reason) filter (where state = 'REJECTED') as reject_reason

    from states
    where state in ('ANNOTATED', 'REJECTED')
    group by invoice_id

),

accounting_details as (

    select
        invoice_id,
        min(rcf_number) filter (where state = 'ANNOTATED') as rcf_number,
        min(reason) filter (where state = 'REJECTED') as reject_reason

    from events
    where state in ('ANNOTATED', 'REJECTED')
    group by invoice_id

),

quarantine_per_invoice as (

    select
        invoice_id,
        string_agg(distinct stage || ': ' || reason, '; ' order by stage || ': ' || reason)
            as quarantine_reasons

    from quarantine
    where is_unresolved
    group by invoice_id

),

holds_per_invoice as (

    select
        invoice_id,
        string_agg(distinct stage || ': ' || reason, '; ' order by stage || ': ' || reason)
            as push_blocked_reasons

    from holds
    where is_holding
    group by invoice_id

),

described as (

    select
        ----------  ids
        invoices.invoice_id,
        invoices.invoice_number,
        invoices.supplier_nif,
        exclusions.import_id as scope_exclusion_import_id,
        exclusions.line_no as scope_exclusion_line_no,
        coalesce(hub_details.rcf_number, invoices.rcf_number, accounting_details.rcf_number)
            as rcf_number,

        ----------  text
        coalesce(invoices.entity_name, entities.entity_name) as entity_name,
        invoices.supplier_name,
        invoices.accounting_office,
        invoices.managing_body,
        invoices.processing_unit,
        coalesce(
            hub_details.reject_reason, invoices.reject_reason, accounting_details.reject_reason
        ) as reject_reason,
        quarantine_per_invoice.quarantine_reasons,
        holds_per_invoice.push_blocked_reasons,
        exclusions.note as scope_exclusion_note

    from invoices
    left join hub_details on hub_details.invoice_id = invoices.invoice_id
    left join accounting_details on accounting_details.invoice_id = invoices.invoice_id
    left join entities on entities.entity_nif = invoices.entity_nif
    left join quarantine_per_invoice
        on quarantine_per_invoice.invoice_id = invoices.invoice_id
    left join holds_per_invoice on holds_per_invoice.invoice_id = invoices.invoice_id
    left join exclusions on exclusions.invoice_id = invoices.invoice_id

)

select * from described
