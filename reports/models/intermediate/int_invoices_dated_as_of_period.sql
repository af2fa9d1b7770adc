{#- One row per invoice known by the period's as-of day: its dates then, its role and days in
    each figure. Built straight from the staging models with the two per-invoice macros, as pmp
    is: the model most marts wait for then depends on nothing but staging, and dbt starts it
    first (reports/README.md, "Speed"). -#}
with

milestones as (

    {{ pivot_invoice_states() }}

),

invoices as (

    {{ join_invoices_to_milestones('milestones') }}

),

periods as (

    {{ reporting_periods() }}

),

dated as (

    {{ date_invoices_as_of('invoices', 'periods') }}

)

select * from dated
