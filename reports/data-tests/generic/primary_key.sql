{#- The column is a primary key: never null and never repeated (one query instead of two). -#}
{% test primary_key(model, column_name) %}

select {{ column_name }}, count(*) as n_records
from {{ model }}
group by {{ column_name }}
having {{ column_name }} is null or count(*) > 1

{% endtest %}
