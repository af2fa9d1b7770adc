{#- Rows where `expression` (prefixed by the column, on a column) is not true fail the test.
    Written here because dbt must run offline (no dbt_utils). -#}
{% test expression_is_true(model, expression, column_name=None) %}

select * from {{ model }}
where not coalesce(({{ column_name ~ ' ' if column_name else '' }}{{ expression }}), false)

{% endtest %}
