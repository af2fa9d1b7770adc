-- RD 635/2014: PMP_global = sum_e PMP(e) * ops(e) / sum_e ops(e), over each administration's
-- entities (administrations.sql); entities in no administration have no global row.
with

entities as (

    select * from {{ ref('pmp') }}
    where entity_nif <> 'ALL' and pmp is not null and administration_id is not null

),

global as (

    select * from {{ ref('pmp') }}
    where entity_nif = 'ALL'

),

recomputed as (

    select
        administration_id,
        sum(pmp * cast(paid_amount + pending_amount as double))
            / sum(cast(paid_amount + pending_amount as double)) as pmp_global

    from entities
    group by administration_id

)

select global.administration_id, global.pmp, recomputed.pmp_global
from global
left join recomputed on recomputed.administration_id = global.administration_id
where abs(coalesce(global.pmp, 0) - coalesce(recomputed.pmp_global, 0)) > 1e-6
