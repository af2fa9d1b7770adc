with

source as (

    select * from {{ source('rcflow', 'quarantine_holds') }}

),

renamed as (

    select
        ----------  ids
        invoice_id,

        ----------  text
        stage,
        reason,

        ----------  booleans
        is_holding

    from source

)

select * from renamed
