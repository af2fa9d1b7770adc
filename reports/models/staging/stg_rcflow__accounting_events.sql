with

source as (

    select * from {{ source('rcflow', 'accounting_events') }}

),

renamed as (

    select
        ----------  ids
        invoice_id,
        import_id,
        line_no,
        rcf_number,

        ----------  text
        upper(trim(state)) as state,
        reason_code,
        reason,

        ----------  dates
        event_date as event_on

    from source

)

select * from renamed
