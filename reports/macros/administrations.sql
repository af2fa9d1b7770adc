{#- Administrations (RD 635/2014: the global PMP is per administration, the parent entity plus
    its dependent entities). The runner passes the user's declaration as the var
    `administrations`: a list of {id, name, members: [NIF, ...]} (rcflow.reports.administrations
    validates it). With no declaration the warehouse is one administration, 'ALL'. An entity in
    no declaration, and the '(unknown)' group of invoices without an entity NIF, belong to no
    administration: they are reported alone and never pooled into a global PMP. -#}
{% macro declared_administrations() -%}
    {{ return(var('administrations', []) or []) }}
{%- endmacro %}

{#- SQL: the administration id of an entity NIF column (NULL: reported alone). -#}
{% macro administration_id_sql(entity_nif_column) -%}
    {%- set declared = declared_administrations() -%}
    {%- if not declared -%}
        case when {{ entity_nif_column }} <> '(unknown)' then 'ALL' end
    {%- else -%}
        case {{ entity_nif_column }}
        {%- for administration in declared %}
            {%- for nif in administration['members'] %}
            when '{{ nif | replace("'", "''") }}' then '{{ administration['id'] | replace("'", "''") }}'
            {%- endfor %}
        {%- endfor %}
        end
    {%- endif -%}
{%- endmacro %}

{#- SQL relation: one row per administration (administration_id, administration_name,
    member_count); the single 'ALL' row when nothing is declared. -#}
{% macro administrations_relation() -%}
    {%- set declared = declared_administrations() -%}
    {%- if not declared -%}
        select 'ALL' as administration_id,
            'All entities (none declared: one administration)'
                as administration_name,
            cast(null as integer) as member_count
    {%- else -%}
        select * from (values
        {%- for administration in declared %}
            ('{{ administration['id'] | replace("'", "''") }}',
             '{{ administration['name'] | replace("'", "''") }}',
             {{ administration['members'] | length }}){{ ',' if not loop.last }}
        {%- endfor %}
        ) as declared(administration_id, administration_name, member_count)
    {%- endif -%}
{%- endmacro %}
