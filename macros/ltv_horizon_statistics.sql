{#
    The aggregates of one group of eligible users of a horizon, over
    int_user_horizons_unpivoted: shared by ltv_summary and ltv_by_channel so
    that both compute LTV the same way. A group has at least one user, so the
    ratios need no guard; a horizon or channel without eligible users gets no
    group, and its statistics are null after the outer join.
#}
{% macro ltv_horizon_statistics() -%}
    count(*) as eligible_users,
    sum(case when orders > 0 then 1 else 0 end) as active_users,
    sum(revenue) as total_revenue,
    sum(orders) as total_orders,
    1.0 * sum(case when orders > 0 then 1 else 0 end) / count(*) as active_share,
    sum(revenue) / count(*) as ltv_mean,
    {{ ltv_percentile_cont('revenue', 0.5) }} as ltv_median,
    {{ ltv_percentile_cont('revenue', 0.95) }} as ltv_p95
{%- endmacro %}
