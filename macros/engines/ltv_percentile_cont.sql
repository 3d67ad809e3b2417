{#
    Continuous percentile (linear interpolation) as an aggregate. DuckDB and
    PostgreSQL share the ordered-set syntax; other engines override this.
#}
{% macro ltv_percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('ltv_percentile_cont', 'ltv')(expression, fraction)) }}
{%- endmacro %}

{% macro default__ltv_percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{#- DuckDB truncates an interpolated decimal percentile; interpolate in double. -#}
{% macro duckdb__ltv_percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (
        order by cast({{ expression }} as double)
    )
{%- endmacro %}

{#-
    Spark's exact percentile (not percentile_approx) interpolates linearly in
    double, as percentile_cont does; the function exists on every Spark 3 and 4.
-#}
{% macro spark__ltv_percentile_cont(expression, fraction) -%}
    percentile(cast({{ expression }} as double), {{ fraction }})
{%- endmacro %}
