{#- The Europe/Madrid calendar date of a timestamptz: every day boundary in the reports. -#}
{% macro madrid_date(column_name) -%}
    cast(timezone('Europe/Madrid', {{ column_name }}) as date)
{%- endmacro %}
