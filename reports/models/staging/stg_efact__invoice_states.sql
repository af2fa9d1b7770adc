with

source as (

    select * from {{ source('efact', 'invoice_states') }}

),

renamed as (

    select
        ----------  ids
        invoice_id,
        seq as state_seq,
        rcf_number,

        ----------  text
        state,  -- stored trimmed and upper-cased (rcflow.ingest); unknown names are quarantined
        state_code,
        reject_code,
        reject_reason,

        ----------  dates and timestamps
        state_at,
        {{ madrid_date('state_at') }} as state_on,
        registry_at,
        {{ madrid_date('registry_at') }} as registered_on,
        payment_date as payment_on

    from source

)

select * from renamed
