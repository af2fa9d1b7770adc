-- rcflow warehouse, version 1.
-- raw.*  what the hub sent (raw JSON kept as received) and what rcflow parsed from it.
-- ops.*  rcflow's own bookkeeping: runs, outbox, audit, imports, quality, quarantine.
-- main.* (views, 002) the stable names dashboards and auditors query.
-- Money is integer cents in raw tables; views expose DECIMAL(18,2).

create schema if not exists raw;
create schema if not exists ops;

create table raw.entities (
    entity_nif      varchar primary key,
    entity_name     varchar,
    ine10           varchar,
    raw_json        json,
    fetched_at      timestamptz not null
);

-- One row per hub invoice (hub id). Upserted on every fetch of the detail.
create table raw.invoices (
    invoice_id          varchar primary key,
    invoice_number      varchar,
    issue_date          date,
    amount_cents        bigint,
    supplier_nif        varchar,
    supplier_name       varchar,
    entity_nif          varchar,
    entity_name         varchar,
    registry_number     varchar,
    registry_at         timestamptz,
    rcf_number          varchar,
    accounting_office   varchar,
    managing_body       varchar,
    processing_unit     varchar,
    hub_state           varchar,
    hub_state_at        timestamptz,
    reject_code         varchar,
    reject_reason       varchar,
    payment_date        date,
    face_registry_number varchar,
    face_registry_at    timestamptz,
    xml_sha256          varchar,        -- Facturae file in the blob store
    receipt_sha256      varchar,        -- PDF receipt, when fetched
    source              varchar not null,  -- 'pending' | 'backfill'
    raw_json            json not null,  -- the detail exactly as received
    first_seen_at       timestamptz not null,
    fetched_at          timestamptz not null,
    delivered_at        timestamptz     -- when rcflow acknowledged it (PATCH DELIVERED)
);

-- The hub's state history, replaced whole per invoice on each read of /estats.
create table raw.invoice_states (
    invoice_id      varchar not null,
    seq             integer not null,   -- position in the hub's answer
    state           varchar not null,   -- name, trimmed and upper-cased
    state_code      varchar,            -- as received (technical or public)
    state_at        timestamptz,
    registry_number varchar,
    registry_at     timestamptz,
    rcf_number      varchar,
    reject_code     varchar,
    reject_reason   varchar,
    payment_date    date,
    raw_json        json not null,
    fetched_at      timestamptz not null,
    primary key (invoice_id, seq)
);

create table raw.attachments (
    attachment_id   varchar primary key,
    invoice_id      varchar not null,
    name            varchar,            -- as sent by the issuer: data, never a path
    media_type      varchar,
    size_bytes      bigint,
    sha256          varchar,
    source          varchar not null,   -- 'invoice' | 'pending'
    fetched_at      timestamptz not null,
    released_at     timestamptz         -- DELETE /adjunts-pendents acknowledged
);

-- Parsed Facturae (one row per hub invoice; the first Invoice of the file).
create table raw.facturae_documents (
    invoice_id          varchar primary key,
    sha256              varchar not null,
    parse_status        varchar not null,  -- 'ok' | 'quarantined'
    parse_error         varchar,
    schema_version      varchar,           -- '3.2' | '3.2.1' | '3.2.2'
    namespace           varchar,
    invoice_number      varchar,
    invoice_series      varchar,
    document_type       varchar,           -- FC | FA | AF
    invoice_class       varchar,           -- OO original | OR corrective | ...
    seller_nif          varchar,
    seller_name         varchar,
    buyer_nif           varchar,
    buyer_name          varchar,
    issue_date          date,
    currency            varchar,
    gross_amount_cents  bigint,            -- TotalGrossAmountBeforeTaxes
    tax_output_cents    bigint,
    tax_withheld_cents  bigint,
    total_cents         bigint,            -- InvoiceTotal
    outstanding_cents   bigint,
    executable_cents    bigint,
    is_signed           boolean,
    installment_count   integer,
    line_count          integer,
    parsed_at           timestamptz not null
);

create table raw.facturae_lines (
    invoice_id          varchar not null,
    line_no             integer not null,
    description         varchar,
    quantity            double,
    unit_of_measure     varchar,
    unit_price          double,
    total_cost_cents    bigint,
    gross_amount_cents  bigint,
    tax_rate            double,
    primary key (invoice_id, line_no)
);

create table raw.facturae_installments (
    invoice_id      varchar not null,
    seq             integer not null,
    due_date        date,
    amount_cents    bigint,
    payment_means   varchar,
    primary key (invoice_id, seq)
);

create table raw.facturae_centres (
    invoice_id      varchar not null,
    role_code       varchar not null,   -- 01 accounting office, 02 managing body, 03 processing unit
    centre_code     varchar,
    centre_name     varchar,
    primary key (invoice_id, role_code)
);

-- XML vs hub detail cross-checks (only mismatches are recorded).
create table raw.facturae_mismatches (
    invoice_id  varchar not null,
    field       varchar not null,       -- 'total' | 'seller_nif' | 'buyer_nif' | ...
    hub_value   varchar,
    xml_value   varchar,
    primary key (invoice_id, field)
);

-- Anything rcflow kept but could not trust, with the reason. Never deleted, only resolved.
create table ops.quarantine (
    invoice_id      varchar not null,
    stage           varchar not null,   -- 'facturae' | 'attachment' | 'quality' | ...
    reason          varchar not null,
    detail          varchar,
    detected_at     timestamptz not null,
    resolved_at     timestamptz,
    primary key (invoice_id, stage, reason)
);

create table ops.runs (
    run_id      varchar primary key,
    kind        varchar not null,       -- sync | backfill | push | check | report | import
    started_at  timestamptz not null,
    finished_at timestamptz,
    status      varchar not null,       -- running | ok | failed
    summary     json
);

-- Accounting-system events, as imported.
create table ops.accounting_imports (
    import_id   varchar primary key,    -- sha256 of the file
    file_name   varchar not null,
    row_count   integer not null,
    imported_at timestamptz not null
);

create table ops.accounting_events (
    invoice_id  varchar not null,
    state       varchar not null,
    event_date  date not null,
    rcf_number  varchar,
    reason_code varchar,
    reason      varchar,
    import_id   varchar not null,
    line_no     integer not null,
    primary key (invoice_id, state)
);

-- Push outbox: the intent is written before the PATCH, the outcome after.
create table ops.push_outbox (
    invoice_id      varchar not null,
    state           varchar not null,
    payload         json not null,
    status          varchar not null,   -- pending | sent | failed | refused
    attempts        integer not null default 0,
    http_status     integer,
    error_code      varchar,
    error_message   varchar,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    run_id          varchar,
    primary key (invoice_id, state)
);

-- Append-only log of every PATCH rcflow made.
create table ops.push_audit (
    invoice_id      varchar not null,
    state           varchar not null,
    payload         json not null,
    http_status     integer,
    error_code      varchar,
    error_message   varchar,
    called_at       timestamptz not null,
    run_id          varchar not null
);

create table ops.quality_results (
    run_id              varchar not null,
    suite               varchar not null,
    expectation         varchar not null,
    column_name         varchar,
    success             boolean not null,
    blocking            boolean not null,
    unexpected_count    bigint,
    sample_invoice_ids  varchar[],
    checked_at          timestamptz not null
);
