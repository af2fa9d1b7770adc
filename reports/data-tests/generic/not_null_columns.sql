{#- The model's `columns` have no NULL: one query and one dbt node for all of them, where a
    not_null test per column costs a node each (about 15 ms of dbt's own work per node, most of
    an empty build's time). A failing test returns one row per column holding NULLs (its name
    and how many rows), so the failure count is the number of such columns; the compiled test
    under target/ lists them. -#}
{% test not_null_columns(model, columns) %}

with null_rows as (

    select
        {%- for column in columns %}
        count(*) filter (where {{ column }} is null) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}

)

{% for column in columns %}
select '{{ column }}' as column_name, {{ column }} as null_row_count from null_rows
where {{ column }} > 0
{{ 'union all' if not loop.last }}
{% endfor %}

{% endtest %}
