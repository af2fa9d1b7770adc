{#- The one place integer cents become euros (DECIMAL(18,2)). -#}
{% macro cents_to_euros(column_name) -%}
    cast(cast({{ column_name }} as decimal(18, 0)) / 100 as decimal(18, 2))
{%- endmacro %}
