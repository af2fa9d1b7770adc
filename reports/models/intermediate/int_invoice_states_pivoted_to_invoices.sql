with

states as (

    select * from {{ ref('stg_efact__invoice_states') }}

),

dated as (

    select
        invoice_id,
        state,
        rcf_number,
        reject_reason,
        payment_on,
        -- REGISTERED is dated by the registry entry itself; a PAID row with no state date by
        -- its payment date (the hub fills one from the other, spec op. 6).
        case
            when state = 'REGISTERED' then coalesce(registered_on, state_on)
            else coalesce(state_on, payment_on)
        end as event_on

    from states

),

pivoted as (

    select
        invoice_id,

        ----------  first date of each state in the history
        min(event_on) filter (where state = 'SENT') as sent_on,
        min(event_on) filter (where state = 'REGISTERED') as registered_on,
        min(event_on) filter (where state = 'DELIVERED') as delivered_on,
        min(event_on) filter (where state = 'ANNOTATED') as annotated_on,
        min(event_on) filter (where state = 'RECEIVED') as received_on,
        min(event_on) filter (where state = 'ACCEPTED') as accepted_on,
        min(event_on) filter (where state = 'RECOGNISED') as recognised_on,
        min(event_on) filter (where state = 'PAID') as paid_recorded_on,
        min(event_on) filter (where state = 'REJECTED') as rejected_on,

        ----------  details carried by those states
        arg_min(coalesce(payment_on, event_on), event_on)
            filter (where state = 'PAID') as payment_on,
        arg_min(payment_on is null, event_on)
            filter (where state = 'PAID') as is_payment_date_inferred,
        arg_min(rcf_number, event_on) filter (where state = 'ANNOTATED') as annotated_rcf_number,
        arg_min(reject_reason, event_on) filter (where state = 'REJECTED') as reject_reason,

        ----------  history quality
        count(*) as count_states,
        count(*) filter (where event_on is null) as count_undated_states

    from dated
    group by invoice_id

)

select * from pivoted
