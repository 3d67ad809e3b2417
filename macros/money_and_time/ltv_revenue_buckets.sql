{#
    The fixed grid of ltv_distribution from var `ltv_bucket_edges`: bucket 0
    holds revenue of exactly 0; bucket i holds positive revenue in
    [edge(i-1), edge(i)); the last bucket is open above (upper bound none).
    The edges must ascend from 0 so that every positive revenue has a bucket.
#}
{% macro ltv_revenue_buckets() -%}
    {#- Numbers from 0 up, else one error naming the var (ltv_bucket_edge_problems). -#}
    {%- do ltv_check_vars() -%}
    {%- set edges = var('ltv_bucket_edges') -%}

    {%- set buckets = [{'order': 0, 'label': '$0', 'lower': 0, 'upper': 0}] -%}
    {%- for edge in edges -%}
        {%- set lower = ltv_format_edge(edge) -%}
        {%- if loop.last -%}
            {%- do buckets.append({
                'order': loop.index, 'label': '$' ~ lower ~ '+',
                'lower': edge, 'upper': none,
            }) -%}
        {%- else -%}
            {%- do buckets.append({
                'order': loop.index,
                'label': '$' ~ lower ~ '-$' ~ ltv_format_edge(edges[loop.index]),
                'lower': edge, 'upper': edges[loop.index],
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(buckets) }}
{%- endmacro %}

{#- 50.0 prints as 50, 12.5 as 12.5. -#}
{% macro ltv_format_edge(edge) -%}
    {{ return(edge | int if edge == edge | int else edge) }}
{%- endmacro %}
