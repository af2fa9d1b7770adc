-- ops.quality_results: the suite's version in a column of its own (rows written before this kept
-- "name@version" in suite), and each expectation's severity and evaluation error, so an audit
-- reads them from the table rather than from the run's JSON. Rows written before this migration
-- have no severity or error recorded (null).
alter table ops.quality_results add column suite_version varchar;
alter table ops.quality_results add column severity varchar;     -- critical | warning | info
alter table ops.quality_results add column error varchar;        -- GX could not evaluate it

update ops.quality_results
set suite_version = split_part(suite, '@', 2), suite = split_part(suite, '@', 1)
where contains(suite, '@');

create or replace view main.quality_results as
select * from ops.quality_results;
