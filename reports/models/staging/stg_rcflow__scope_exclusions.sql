with

source as (

    select * from {{ source('rcflow', 'scope_exclusions') }}

),

renamed as (

    select
        ----------  ids
        invoice_id,
        import_id,
        line_no,

        ----------  text
        lower(trim(reason)) as reason,  -- public_body | embargo | set_off | supplier_fund | other
        note,

        ----------  timestamps
        recorded_at

    from source

)

select * from renamed
