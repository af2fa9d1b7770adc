{#- One row per hub invoice, lean on purpose: only what the date logic and the figures need
    (ids, amount tax included, credit-note, corrective, quarantine and scope flags, the
    effective date of each state and the hub's recording dates). Names, numbers and offices
    are in int_invoices_joined_to_descriptions, joined by the marts that print them, so the
    million-row steps in between never copy text. `milestones` is a relation or CTE made by
    pivot_invoice_states(). complete=false: they come from some states only
    (pivot_invoice_states(only_states=...)), so first_known_on is NULL: only
    date_invoices_as_of(..., operations_only=true) may read such rows, and it never reads it. -#}
{% macro join_invoices_to_milestones(milestones, complete=true) -%}
with

invoices as (

    select * from {{ ref('stg_efact__invoices') }}

),

milestones as (

    select * from {{ milestones }}

),

documents as (

    select * from {{ ref('stg_efact__facturae_documents') }}

),

quarantine as (

    select * from {{ ref('stg_rcflow__quarantine') }}

),

exclusions as (

    select * from {{ ref('stg_rcflow__scope_exclusions') }}

),

quarantined as (

    select distinct invoice_id
    from quarantine
    where is_unresolved

),

joined as (

    select
        ----------  ids
        invoices.invoice_id,
        coalesce(invoices.entity_nif, '(unknown)') as entity_nif,

        ----------  amounts (invoice total, tax included; the Facturae total if the hub had none)
        coalesce(invoices.amount, documents.total) as amount,

        ----------  booleans
        -- A credit note by the amount the figures count (the hub's; the Facturae total only
        -- when the hub gave none): a Facturae total whose sign disagrees with the hub's is a
        -- quality finding (quarantine), which counts with the hub's amount (§4.1).
        coalesce(coalesce(invoices.amount, documents.total) < 0, false) as is_credit_note,
        coalesce(documents.is_corrective, false) as is_corrective,
        quarantined.invoice_id is not null as is_quarantined,
        coalesce(milestones.is_payment_date_inferred, false) as is_payment_date_inferred,

        ----------  RD 635/2014 art. 3 scope: the accounting system's reason, else the default
        -- rule that a supplier whose NIF starts with P, Q or S (optionally after 'ES') is a
        -- public body (reading public_body_rule).
        coalesce(
            exclusions.reason
            {%- if reading('public_body_rule') == 'nif_prefix_pqs' %},
            case when regexp_matches(upper(trim(invoices.supplier_nif)), '^(ES)?[PQS]')
                then 'public_body' end
            {%- endif %}
        ) as scope_exclusion,
        case
            when exclusions.reason is not null then 'accounting'
            {%- if reading('public_body_rule') == 'nif_prefix_pqs' %}
            when regexp_matches(upper(trim(invoices.supplier_nif)), '^(ES)?[PQS]') then 'nif_rule'
            {%- endif %}
        end as scope_exclusion_source,

        ----------  dates: the effective date of each state (the legal fact)
        coalesce(invoices.issue_date, documents.issue_date) as issue_date,
        milestones.sent_on,
        coalesce(milestones.registered_on, invoices.registered_on) as registered_on,
        milestones.delivered_on,
        milestones.annotated_on,
        milestones.received_on,
        milestones.accepted_on,
        milestones.recognised_on,
        milestones.payment_on,
        milestones.rejected_on,
        -- the history's CANCELLED, else the hub's current state when it is CANCELLED
        coalesce(
            milestones.cancelled_on,
            case when invoices.hub_state = 'CANCELLED' then {{ madrid_date('invoices.hub_state_at') }} end
        ) as cancelled_on,

        ----------  dates: when the hub recorded each state it can receive (null: not on the hub)
        milestones.hub_delivered_on,
        milestones.hub_annotated_on,
        milestones.hub_received_on,
        milestones.hub_accepted_on,
        milestones.hub_recognised_on,
        milestones.hub_paid_on,
        milestones.hub_rejected_on,
        milestones.hub_cancelled_on

    from invoices
    left join milestones on milestones.invoice_id = invoices.invoice_id
    left join documents on documents.invoice_id = invoices.invoice_id
    left join quarantined on quarantined.invoice_id = invoices.invoice_id
    left join exclusions on exclusions.invoice_id = invoices.invoice_id

),

known_since as (

    select
        *,
        {%- if complete %}
        least(
            registered_on, sent_on, delivered_on, annotated_on, received_on,
            accepted_on, recognised_on, payment_on, rejected_on, cancelled_on
        ) as first_known_on
        {%- else %}
        -- milestones of some states only: no first date can be told, so none is given
        cast(null as date) as first_known_on
        {%- endif %}

    from joined

)

select * from known_since
{%- endmacro %}
