{#- Integer cents to DECIMAL(18,2) euros: the warehouse's one definition (its macro
    main.cents_to_euros, rcflow/warehouse/migrations/definitions.sql), called in the snapshot. -#}
{% macro cents_to_euros(column_name) -%}
    wh.main.cents_to_euros({{ column_name }})
{%- endmacro %}
