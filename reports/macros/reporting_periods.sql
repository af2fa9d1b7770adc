{#- The reporting period (one row), or the trend series ending with it: the last 12 months
    for a monthly report, the last 4 quarters for a quarterly one. Columns: period_label,
    period_start, period_end, pmp_method, as_of_on (the day the period is measured at: its end,
    or today while it is running, compliance-rules.md §1.5) and is_provisional (still
    running: today is on or before its last day). -#}
{% macro reporting_periods(series=false) -%}
    {%- set kind = reading('period_kind') -%}
    {%- set step = '1 month' if kind == 'month' else '3 month' -%}
    {%- set count = 12 if kind == 'month' else 4 -%}
    select
        *,
        least(period_end, {{ today() }}) as as_of_on,
        {{ today() }} <= period_end as is_provisional
    from (
    select
        {%- if series %}
        case '{{ kind }}'
            when 'month' then strftime(period_start, '%Y-%m')
            else strftime(period_start, '%Y') || '-Q' || cast(quarter(period_start) as varchar)
        end as period_label,
        {%- else %}
        '{{ var("period_label") }}' as period_label,
        {%- endif %}
        period_start,
        {%- if series %}
        cast(period_start + interval {{ step }} - interval 1 day as date) as period_end,
        {%- else %}
        {{ period_end() }} as period_end,
        {%- endif %}
        {{ pmp_method_sql('period_start') }} as pmp_method
    from (
        {%- if series %}
        select cast(unnest(generate_series(
            {{ period_start() }} - interval {{ step }} * {{ count - 1 }},
            {{ period_start() }},
            interval {{ step }}
        )) as date) as period_start
        {%- else %}
        select {{ period_start() }} as period_start
        {%- endif %}
    ) as starts
    ) as periods
{%- endmacro %}
