{#
    dbt.generate_series on Spark: the numbers 1..upper_bound from sequence(),
    in one step instead of dbt's cross join of 2-row tables (one per power of
    two), which Spark plans slowly. Used by ltv_cohorts and by dbt.date_spine.
#}
{% macro spark__generate_series(upper_bound) -%}
    select explode(sequence(1, {{ upper_bound }})) as generated_number
{%- endmacro %}
