-- RD 635/2014: PMP_global = sum_e PMP(e) * ops(e) / sum_e ops(e), over each administration's
-- entities (administrations.sql); entities in no administration have no global row. PMP(e) *
-- ops(e) is the entity's weighted days exactly (the published PMP(e) is rounded), so the global
-- figure must be that quotient, rounded as every published ratio is.
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
        {{ rounded_quotient('sum(paid_weighted_days + pending_weighted_days)',
                            'sum(paid_amount + pending_amount)') }} as pmp_global

    from entities
    group by administration_id

)

select global.administration_id, global.pmp, recomputed.pmp_global
from global
left join recomputed on recomputed.administration_id = global.administration_id
where global.pmp is distinct from recomputed.pmp_global
