{#- Lean on purpose: only what the date logic and the figures need (ids, amount, flags, dates).
    Names, numbers and offices are in int_invoices_joined_to_descriptions, joined by the marts
    that print them, so the million-row steps in between never copy text. -#}
{{ join_invoices_to_milestones(ref('int_invoice_states_pivoted_to_invoices')) }}
