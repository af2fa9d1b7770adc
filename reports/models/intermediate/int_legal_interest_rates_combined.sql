{#- The legal interest rates a build uses: the project's table (seed legal_interest_rates,
    compliance-rules.md §5.1) plus the rows the user added in the rates file (var
    `extra_interest_rates`, validated by rcflow.reports.rates: half-year, rate, source). A
    user row replaces any project row it overlaps (the user adds a new half-year or corrects
    one with its BOE resolution). A half-year in neither is "rate not yet published" (§5.3). -#}
{%- set extra = var('extra_interest_rates', []) or [] -%}
with

project as (

    select
        half_year_start,
        half_year_end,
        ecb_rate,
        legal_rate,
        boe_id as source,
        status,
        'reports/seeds/legal_interest_rates.csv' as source_file

    from {{ ref('legal_interest_rates') }}

),

declared as (

    {%- if extra %}
    select
        cast(half_year_start as date) as half_year_start,
        cast(half_year_end as date) as half_year_end,
        cast(null as decimal(6, 2)) as ecb_rate,
        cast(legal_rate as decimal(6, 2)) as legal_rate,
        source,
        'user' as status,
        source_file

    from (values
        {%- for row in extra %}
        ('{{ row["half_year_start"] }}', '{{ row["half_year_end"] }}', {{ row["legal_rate"] }},
         '{{ row["source"] | replace("'", "''") }}', '{{ row["source_file"] | replace("'", "''") }}')
            {{- ',' if not loop.last }}
        {%- endfor %}
    ) as rows(half_year_start, half_year_end, legal_rate, source, source_file)
    {%- else %}
    select * from project where false
    {%- endif %}

),

combined as (

    select * from project
    where not exists (
        select 1 from declared
        where declared.half_year_start <= project.half_year_end
            and declared.half_year_end >= project.half_year_start
    )

    union all

    select * from declared

)

select * from combined
