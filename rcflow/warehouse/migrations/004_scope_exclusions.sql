-- ops.scope_exclusions: invoices outside the scope of the payment-period rules (RD 635/2014 art. 3),
-- as the accounting system declares them (a reason column in the accounting import). One row per
-- invoice; a later import of the same invoice replaces its row. The default rule (a supplier whose
-- NIF starts with P, Q or S is a public body) is applied by the reports, not stored here.
create table ops.scope_exclusions (
    invoice_id  varchar primary key,
    reason      varchar not null,   -- public_body | embargo | set_off | supplier_fund | other
    note        varchar,            -- free text as the accounting system wrote it
    import_id   varchar not null,   -- ops.accounting_imports.import_id
    line_no     integer not null,
    recorded_at timestamptz not null
);

create or replace view main.scope_exclusions as
select * from ops.scope_exclusions;
