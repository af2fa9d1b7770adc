-- Every row stored from a hub says which hub it came from ('efact' today; 'face' next). The
-- column is source_hub, not source: raw.invoices.source ('pending' | 'backfill') and
-- raw.attachments.source ('invoice' | 'pending') already name how a row was fetched.
alter table raw.entities add column source_hub varchar not null default 'efact';
alter table raw.invoices add column source_hub varchar not null default 'efact';
alter table raw.invoice_states add column source_hub varchar not null default 'efact';
alter table raw.attachments add column source_hub varchar not null default 'efact';
alter table raw.facturae_documents add column source_hub varchar not null default 'efact';
alter table raw.facturae_lines add column source_hub varchar not null default 'efact';
alter table raw.facturae_installments add column source_hub varchar not null default 'efact';
alter table raw.facturae_centres add column source_hub varchar not null default 'efact';
alter table raw.facturae_mismatches add column source_hub varchar not null default 'efact';
