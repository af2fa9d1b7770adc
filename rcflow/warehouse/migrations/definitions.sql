-- Definitions every warehouse carries, re-created on each migration run (idempotent), so the
-- views, auditors' SQL and the reports (dbt calls wh.main.cents_to_euros) share one rule.

-- The one place integer cents become euros: DECIMAL(18,2), exact.
create or replace macro main.cents_to_euros(cents) as
    cast(cast(cents as decimal(18, 0)) / 100 as decimal(18, 2));
