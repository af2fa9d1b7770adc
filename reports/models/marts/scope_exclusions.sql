{#- RD 635/2014 art. 3: one row per invoice known by the as-of day that is outside the PMP
    scope, declared by the accounting import (ops.scope_exclusions) or by the default rule
    (supplier NIF starting with P, Q or S: a public body). They leave the PMP; public bodies
    also leave morosity and interest (Ley 3/2004 covers transactions with businesses). -#}
with

dated as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

descriptions as (

    select * from {{ ref('int_invoices_joined_to_descriptions') }}

),

listed as (

    select
        ----------  ids
        dated.period_label as period,
        dated.invoice_id,
        dated.entity_nif,
        descriptions.supplier_nif,
        descriptions.invoice_number,
        descriptions.scope_exclusion_import_id as import_id,
        descriptions.scope_exclusion_line_no as line_no,

        ----------  text
        descriptions.supplier_name,
        dated.scope_exclusion as reason,
        dated.scope_exclusion_source as source,
        descriptions.scope_exclusion_note as note,
        dated.status_at_end as status,
        dated.operation_role,

        ----------  numerics
        dated.amount,

        ----------  booleans
        dated.morosity_role is null and dated.operation_role is not null
            as is_out_of_morosity,

        ----------  dates
        dated.as_of_on

    from dated
    inner join descriptions on descriptions.invoice_id = dated.invoice_id
    where dated.scope_exclusion is not null

)

select * from listed
