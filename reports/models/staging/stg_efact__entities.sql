with

source as (

    select * from {{ source('efact', 'entities') }}

),

renamed as (

    select
        ----------  ids
        entity_nif,
        ine10,

        ----------  text
        entity_name

    from source

)

select * from renamed
