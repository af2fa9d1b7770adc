with

source as (

    select * from {{ source('rcflow', 'owed_updates') }}

),

renamed as (

    select
        ----------  ids
        invoice_id,
        state,

        ----------  text
        verdict,
        hold_kind,
        hold_reason,
        detail,

        ----------  booleans
        is_owed,
        is_due

    from source

)

select * from renamed
