-- The PMP mart and the last point of the trend come from the same macros: they must agree.
with

pmp as (

    select * from {{ ref('pmp') }}
    where paid_count + pending_count > 0

),

trend as (

    select * from {{ ref('pmp_trend') }}
    where period = '{{ var("period_label") }}' and paid_count + pending_count > 0

)

select pmp.entity_nif, pmp.pmp, trend.pmp as trend_pmp
from pmp
full outer join trend on trend.entity_nif = pmp.entity_nif
    and trend.administration_id is not distinct from pmp.administration_id
where pmp.entity_nif is null
    or trend.entity_nif is null
    or pmp.paid_count <> trend.paid_count
    or pmp.pending_count <> trend.pending_count
    or abs(coalesce(pmp.pmp, 0) - coalesce(trend.pmp, 0)) > 1e-9
