{#- The Europe/Madrid calendar date of a timestamptz: every day boundary in the reports.
    Madrid is UTC+1 or UTC+2 (since 1949), and the two offsets give the same calendar day
    except for instants between 22:00 and 23:00 UTC. So from 1980 on the date is plain integer
    arithmetic on the epoch (+2 h), and only that hour (and anything older) goes through the
    time-zone database: the same result as timezone('Europe/Madrid', ts), about 5x faster. -#}
{% macro madrid_date(column_name) -%}
    case
        when epoch_us({{ column_name }}) >= 315532800000000
            and (epoch_us({{ column_name }}) // 3600000000) % 24 <> 22
            then date '1970-01-01'
                + cast((epoch_us({{ column_name }}) + 7200000000) // 86400000000 as integer)
        else cast(timezone('Europe/Madrid', {{ column_name }}) as date)
    end
{%- endmacro %}
