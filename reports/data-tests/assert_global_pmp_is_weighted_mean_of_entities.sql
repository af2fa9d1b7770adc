-- RD 635/2014: PMP_global = sum_e PMP(e) * ops(e) / sum_e ops(e).
with

entities as (

    select * from {{ ref('pmp') }}
    where entity_nif <> 'ALL' and pmp is not null

),

global as (

    select * from {{ ref('pmp') }}
    where entity_nif = 'ALL'

),

recomputed as (

    select
        sum(pmp * cast(paid_amount + pending_amount as double))
            / sum(cast(paid_amount + pending_amount as double)) as pmp_global

    from entities

)

select global.pmp, recomputed.pmp_global
from global
cross join recomputed
where abs(coalesce(global.pmp, 0) - coalesce(recomputed.pmp_global, 0)) > 1e-6
