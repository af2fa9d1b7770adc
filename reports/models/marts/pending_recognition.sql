with

dated as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

descriptions as (

    select * from {{ ref('int_invoices_joined_to_descriptions') }}

),

candidates as (

    select
        *,
        cast(annotated_on + interval 3 month as date) as three_months_on

    from dated
    where annotated_on is not null
        and recognised_on is null
        -- Paid without a RECOGNISED state: the obligation was recognised (the missing hub
        -- update is listed in `obligations`).
        and payment_on is null
        and not is_rejected_at_end
        -- Quarantined invoices are listed (flagged): a quality finding is not a legal
        -- exclusion (compliance-rules.md §4.1), unless the opt-in reading excludes them.
        {%- if reading('quarantined_invoices') == 'exclude' %}
        and not is_quarantined
        {%- endif %}
        {%- if reading('credit_notes') == 'exclude_and_flag' %}
        and not is_credit_note
        {%- endif %}

),

listed as (

    select
        ----------  ids
        candidates.period_label as period,
        candidates.invoice_id,
        descriptions.rcf_number,
        candidates.entity_nif,
        descriptions.supplier_nif,
        descriptions.invoice_number,

        ----------  text
        descriptions.entity_name,
        descriptions.supplier_name,
        descriptions.accounting_office,
        descriptions.managing_body,
        descriptions.processing_unit,
        candidates.status_at_end,
        descriptions.quarantine_reasons,
        candidates.scope_exclusion,

        ----------  numerics
        candidates.amount,
        candidates.as_of_on - candidates.annotated_on as days_since_annotation,

        ----------  booleans
        candidates.is_quarantined,
        candidates.is_provisional,

        ----------  dates
        candidates.as_of_on,
        candidates.issue_date,
        candidates.annotated_on,
        candidates.three_months_on,
        candidates.status_on,
        cast(candidates.period_end + 15 as date) as report_due_on

    from candidates
    inner join descriptions on descriptions.invoice_id = candidates.invoice_id
    -- Ley 25/2013 art. 10.2: "more than three months" since annotation, strictly.
    -- Judged at the as-of day: today while the quarter is running (§1.5).
    where candidates.three_months_on < candidates.as_of_on

)

select * from listed
