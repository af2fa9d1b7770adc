"""The dbt runner's CTE splice. (Builds reusing a kept project with other vars are tested
through real builds: test_rep_hand_cases.py, test_rerunning_a_past_period_gives_identical_outputs.)"""

from __future__ import annotations

import pytest

from rcflow.reports.dbt_runner import _install_fast_cte_injection

CTES = [" __dbt__cte__a as (\nselect 1 as x\n)", " __dbt__cte__b as (\nselect * from __dbt__cte__a\n)"]


@pytest.mark.parametrize(
    "sql",
    [
        "with\n\nsource as (\n    select * from __dbt__cte__b\n)\n\nselect * from source",
        "\n\nWITH renamed as (select 1) select * from renamed",
        "-- a comment\n/* and a block\n with */\nwith x as (select 1) select * from x",
        "select * from __dbt__cte__b",
        "with recursive r as (select 1 as n) select * from r",
        "with",
    ],
)
def test_the_fast_cte_splice_builds_what_dbt_builds(sql):
    """Same string as dbt's sqlparse-based injection, or dbt's own function when in doubt."""
    from dbt import compilation
    from dbt.artifacts.resources import InjectedCTE

    _install_fast_cte_injection()
    fast = compilation.inject_ctes_into_sql
    ctes = [InjectedCTE(id=f"model.p.{i}", sql=text) for i, text in enumerate(CTES)]
    assert fast(sql, ctes) == fast.dbt_original(sql, ctes)
    assert fast(sql, []) == sql
