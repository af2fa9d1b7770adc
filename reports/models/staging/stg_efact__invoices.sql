with

source as (

    select * from {{ source('efact', 'invoices') }}

),

renamed as (

    select
        ----------  ids
        invoice_id,
        invoice_number,
        entity_nif,
        supplier_nif,
        registry_number,
        rcf_number,

        ----------  text
        entity_name,
        supplier_name,
        accounting_office,
        managing_body,
        processing_unit,
        upper(trim(hub_state)) as hub_state,
        reject_reason,

        ----------  numerics
        amount_cents,
        {{ cents_to_euros('amount_cents') }} as amount,

        ----------  dates and timestamps
        issue_date,
        registry_at,
        {{ madrid_date('registry_at') }} as registered_on,
        hub_state_at,
        payment_date as payment_on

    from source

)

select * from renamed
