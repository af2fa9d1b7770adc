with

invoices as (

    select * from {{ ref('int_invoices_joined_to_milestones') }}

),

periods as (

    {{ reporting_periods() }}

),

dated as (

    {{ date_invoices_as_of('invoices', 'periods') }}

)

select * from dated
