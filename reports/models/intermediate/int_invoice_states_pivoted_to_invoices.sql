{#- One row per invoice: the effective date of each state, i.e. the date of the legal fact,
    not the moment the hub recorded it (the hub learns most states through rcflow's push, hours
    or months after the fact, and its PATCH carries no date for ANNOTATED..RECOGNISED).
      REGISTERED  the registry entry (dataRegistre), else the hub's state date;
      PAID        the payment date (dataPagament), else the accounting system's PAID date,
                  else the hub's state date (the spec's fallback; flagged);
      any other   the accounting system's own date for that state, else the hub's state date.
    A state the accounting system has and the hub does not yet show is dated all the same:
    the entity's registry is the legal source. The hub's own first date of each state it can
    receive is kept (hub_*_on) to tell what is still owed to it. One pass over the states,
    dates only (the text the outputs print is in int_invoices_joined_to_descriptions).
      CANCELLED   (FACe's 3100: the entity accepted the supplier's cancellation request) the
                  hub's state date: only the hub can cancel, the accounting system never does. -#}
{{ pivot_invoice_states() }}
