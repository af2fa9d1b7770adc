with

dated as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

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
        and not is_quarantined
        {%- if reading('credit_notes') == 'exclude_and_flag' %}
        and not is_credit_note
        {%- endif %}

),

listed as (

    select
        ----------  ids
        period_label as period,
        invoice_id,
        rcf_number,
        entity_nif,
        supplier_nif,
        invoice_number,

        ----------  text
        entity_name,
        supplier_name,
        accounting_office,
        managing_body,
        processing_unit,
        status_at_end,

        ----------  numerics
        amount,
        period_end - annotated_on as days_since_annotation,

        ----------  dates
        issue_date,
        annotated_on,
        three_months_on,
        status_on,
        cast(period_end + 15 as date) as report_due_on

    from candidates
    -- Ley 25/2013 art. 10.2: "more than three months" since annotation, strictly.
    where three_months_on < period_end

)

select * from listed
