-- Every invoice with a hub history or accounting events is a hub invoice (a warning: events
-- may arrive before the invoice is synced). The YAML relationships test on
-- int_invoice_states_pivoted_to_invoices.invoice_id, as a singular test that reads only the
-- ids (reports/README.md, "Speed").
{{ config(severity='warn') }}

with

milestones as (

    select invoice_id from {{ ref('int_invoice_states_pivoted_to_invoices') }}

),

invoices as (

    select invoice_id from {{ ref('stg_efact__invoices') }}

)

select milestones.invoice_id
from milestones
left join invoices on invoices.invoice_id = milestones.invoice_id
where milestones.invoice_id is not null and invoices.invoice_id is null
