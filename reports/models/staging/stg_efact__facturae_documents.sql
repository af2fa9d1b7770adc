with

source as (

    select * from {{ source('efact', 'facturae_documents') }}

),

renamed as (

    select
        ----------  ids
        invoice_id,
        invoice_number,
        seller_nif,
        buyer_nif,

        ----------  text
        parse_status,
        document_type,
        invoice_class,
        currency,

        ----------  numerics
        total_cents,
        {{ cents_to_euros('total_cents') }} as total,

        ----------  booleans
        coalesce(invoice_class = 'OR', false) as is_corrective,

        ----------  dates
        issue_date

    from source

)

select * from renamed
