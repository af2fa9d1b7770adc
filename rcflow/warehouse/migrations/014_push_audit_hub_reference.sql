-- The hub's own reference of each push call that answered (FACe's codigoSeguimiento: what its
-- support asks for about a state change), null when the hub gives none (eFACT) or for a call
-- without an answer. main.push_audit (select *) shows it too.
alter table ops.push_audit add column hub_reference varchar;
