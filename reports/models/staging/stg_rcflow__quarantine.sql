with

source as (

    select * from {{ source('rcflow', 'quarantine') }}

),

renamed as (

    select
        ----------  ids
        invoice_id,

        ----------  text
        stage,
        reason,
        detail,

        ----------  booleans
        resolved_at is null as is_unresolved,

        ----------  timestamps
        detected_at,
        {{ madrid_date('detected_at') }} as detected_on,
        resolved_at

    from source

)

select * from renamed
