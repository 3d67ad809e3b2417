{#-
    The day-grain time spine of MetricFlow: one row per calendar day from 2015-01-01
    through 2030-12-31. dbt.date_spine stops before its end date, and builds the
    days from a generated series, so the same SQL runs on DuckDB and PostgreSQL.
-#}
with

days as (

    {{
        dbt.date_spine(
            datepart="day",
            start_date="cast('2015-01-01' as date)",
            end_date="cast('2031-01-01' as date)",
        )
    }}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
