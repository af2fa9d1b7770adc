-- Every invoice with a hub history or accounting events is a hub invoice (a warning: events
-- may arrive before the invoice is synced). Reads only the ids (reports/README.md, "Speed").
{{ config(severity='warn') }}

with

histories as (

    select invoice_id from {{ ref('stg_efact__invoice_states') }}
    union
    select invoice_id from {{ ref('stg_rcflow__accounting_events') }}

),

invoices as (

    select invoice_id from {{ ref('stg_efact__invoices') }}

)

select histories.invoice_id
from histories
left join invoices on invoices.invoice_id = histories.invoice_id
where histories.invoice_id is not null and invoices.invoice_id is null
