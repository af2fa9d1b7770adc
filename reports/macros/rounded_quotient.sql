{#- numerator / denominator to `places` decimals, half away from zero, computed exactly: both
    are exact numbers with at most two decimals (euros, days, euro-days), so each is a whole
    number of hundredths, and the rounding is integer arithmetic on HUGEINTs. A DOUBLE quotient
    cast to DECIMAL rounds its binary value instead: 4005 / 200 = 20.025 is 20.0249999… as a
    DOUBLE and became 20.02, where the law's 2 decimals and every other output say 20.03.
    NULL when the denominator is zero or NULL. The one rounding of the reports' day ratios. -#}
{% macro rounded_quotient(numerator, denominator, places=2) -%}
    {%- set n = 'cast((' ~ numerator ~ ') * 100 as hugeint)' -%}
    {%- set d = 'cast((' ~ denominator ~ ') * 100 as hugeint)' -%}
    case when ({{ denominator }}) <> 0 then cast(
        sign({{ n }}) * sign({{ d }})
            * ((abs({{ n }}) * {{ 2 * 10 ** places }} + abs({{ d }})) // (2 * abs({{ d }})))
            * {{ 1 / 10 ** places }}
        as decimal(18, {{ places }}))
    end
{%- endmacro %}

{#- Late-payment interest in euros, rounded half away from zero to the cent, exactly: the sum
    over the accrual's segments (those matching `where`) of amount x rate% x days / 365 (simple
    interest, base 365), each term a whole number of cent x basis points x days (amounts have
    2 decimals, legal rates DECIMAL(6, 2)), divided once. 0 when no segment matches. An
    aggregate: call it in a GROUP BY. -#}
{% macro interest_to_the_cent(amount, rate, days, where='true') -%}
    {%- set total = 'coalesce(sum(cast((' ~ amount ~ ') * 100 as hugeint) * cast((' ~ rate
        ~ ') * 100 as hugeint) * (' ~ days ~ ')) filter (where ' ~ where ~ '), 0)' -%}
    cast(sign({{ total }}) * ((abs({{ total }}) * 2 + 3650000) // 7300000) * 0.01 as decimal(18, 2))
{%- endmacro %}
