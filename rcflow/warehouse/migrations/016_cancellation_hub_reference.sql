-- The hub's own reference of the call that answered a cancellation decision (FACe's
-- codigoSeguimiento: what its support asks for about an answer), null when the hub gives none
-- or the answer was lost and settled by re-reading the hub. As ops.push_audit.hub_reference
-- (migration 014) for state changes.
alter table ops.cancellation_decisions add column hub_reference varchar;
create or replace view main.cancellation_decisions as select * from ops.cancellation_decisions;
