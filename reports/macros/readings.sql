{#- Reading settings (dbt vars), validated once so a typo fails the build instead of a figure.
    Their values and the method labels come from rcflow/reports/readings.py (generated below). -#}
{% macro reading(name) -%}
    {%- set allowed = dict(reading_choices(), period_kind=['month', 'quarter']) -%}
    {%- set value = var(name) | string | trim -%}
    {%- if name in allowed and value not in allowed[name] -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ "=" ~ value ~ " is not one of " ~ allowed[name] | join(", ")) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- The reporting period as SQL date literals. -#}
{% macro period_start() -%} date '{{ var("period_start") }}' {%- endmacro %}
{% macro period_end() -%} date '{{ var("period_end") }}' {%- endmacro %}

{#- "Today": the Europe/Madrid date of the run, from rcflow.clock (the runner always sets it;
    there is no default, so dbt never guesses a calendar). -#}
{% macro today() -%}
    {%- set value = var('today', '') | string | trim -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var today must be the Madrid date of the run, YYYY-MM-DD (rcflow.clock.today()); got '"
            ~ value ~ "'") }}
    {%- endif -%}
    date '{{ value }}'
{%- endmacro %}

{#- The day the period is measured at (compliance-rules.md §1.5): its last day once it has
    ended, today while it is still running (facts dated after today are unknown). -#}
{% macro as_of_date() -%} least({{ period_end() }}, {{ today() }}) {%- endmacro %}

{#- PMP method for a period: RD 1040/2017 from the var pmp_method_from on, original RD 635/2014
    before (+30 days). The runner passes rcflow.reports.periods.NEW_METHOD_FROM: one definition. -#}
{% macro pmp_method_sql(period_start_column) -%}
    {%- set method = reading('pmp_method') -%}
    {%- if method == 'auto' -%}
        case when {{ period_start_column }} < date '{{ var("pmp_method_from") }}'
            then 'rd635_2014_original' else 'rd1040_2017' end
    {%- else -%}
        '{{ method }}'
    {%- endif -%}
{%- endmacro %}

{% macro pmp_method_label_sql(method_column) -%}
    case {{ method_column }}
    {%- for method, label in method_labels().items() %}
        when '{{ method }}' then '{{ label }}'
    {%- endfor %}
    end
{%- endmacro %}

{#- BEGIN generated from rcflow/reports/readings.py (write_dbt_macros) -#}
{% macro reading_choices() -%}
{{ return({
    "pmp_method": [
        "auto",
        "rd1040_2017",
        "rd635_2014_original"
    ],
    "pending_without_acceptance": [
        "include_from_registry",
        "exclude_until_accepted"
    ],
    "credit_notes": [
        "exclude_and_flag",
        "include"
    ],
    "partial_payments": [
        "full_amount_until_paid"
    ],
    "quarantined_invoices": [
        "include_and_flag",
        "exclude"
    ],
    "interest_due_date": [
        "earlier_of_conformity_30_registry_60",
        "conformity_plus_30",
        "registry_plus_30"
    ],
    "public_body_rule": [
        "nif_prefix_pqs",
        "declared_only"
    ]
}) }}
{%- endmacro %}

{% macro method_labels() -%}
{{ return({
    "rd1040_2017": "RD 635/2014 in the wording of RD 1040/2017 (from 04/2018)",
    "rd635_2014_original": "RD 635/2014 original wording (until 03/2018): count starts 30 days after registry"
}) }}
{%- endmacro %}
{#- END generated -#}
