-- The stable, documented views for dashboards and ad-hoc audits (see README "Querying").

create or replace view main.invoices as
select
    i.invoice_id,
    i.invoice_number,
    i.issue_date,
    cents_to_euros(i.amount_cents) as amount,
    f.currency,
    i.supplier_nif,
    i.supplier_name,
    i.entity_nif,
    coalesce(i.entity_name, e.entity_name) as entity_name,
    i.accounting_office,
    i.managing_body,
    i.processing_unit,
    i.registry_number,
    i.registry_at as registry_date,
    i.rcf_number,
    i.hub_state,
    i.hub_state_at,
    i.payment_date,
    i.reject_reason,
    i.source,
    i.delivered_at,
    exists (
        select 1 from ops.quarantine q
        where q.invoice_id = i.invoice_id and q.resolved_at is null
    ) as is_quarantined
from raw.invoices i
left join raw.facturae_documents f using (invoice_id)
left join raw.entities e on e.entity_nif = i.entity_nif;

create or replace view main.invoice_states as
select
    invoice_id,
    seq,
    state,
    state_code,
    state_at,
    registry_number,
    registry_at,
    rcf_number,
    reject_code,
    reject_reason,
    payment_date
from raw.invoice_states;

create or replace view main.attachments as
select
    invoice_id,
    attachment_id,
    name,
    media_type,
    size_bytes as size,
    sha256,
    source,
    fetched_at,
    released_at
from raw.attachments;

create or replace view main.invoice_lines as
select
    invoice_id,
    line_no,
    description,
    quantity,
    unit_of_measure,
    unit_price,
    cents_to_euros(total_cost_cents) as total_cost,
    cents_to_euros(gross_amount_cents) as gross_amount,
    tax_rate
from raw.facturae_lines;

create or replace view main.installments as
select
    invoice_id,
    seq,
    due_date,
    cents_to_euros(amount_cents) as amount,
    payment_means
from raw.facturae_installments;

create or replace view main.entities as
select entity_nif, entity_name, ine10 from raw.entities;

create or replace view main.quarantine as
select invoice_id, stage, reason, detail, detected_at, resolved_at from ops.quarantine;

create or replace view main.push_audit as
select * from ops.push_audit;

create or replace view main.quality_results as
select * from ops.quality_results;
