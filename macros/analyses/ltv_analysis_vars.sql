{#- The checked vars of the example analyses (analyses/): a var never becomes SQL text
    unchecked. -#}

{#- A date var of an analysis (YYYY-MM-DD), checked, as a SQL date literal. -#}
{%- macro ltv_analysis_date(name, default) -%}
    {%- set value = var(name, default) | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a date YYYY-MM-DD, got: " ~ value
        ) }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{#- A whole-number var of an analysis, checked. -#}
{%- macro ltv_analysis_integer(name, default) -%}
    {%- set value = var(name, default) | string -%}
    {%- if not modules.re.match('^[0-9]+$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a whole number, got: " ~ value
        ) }}
    {%- endif -%}
    {{ value }}
{%- endmacro %}
