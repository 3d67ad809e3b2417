-- Is each channel worth what it costs? 12-month LTV against CAC, best ratio first.
select
    acquisition_channel,
    eligible_users,
    round(ltv_mean, 2) as ltv_mean_12m,
    round(cac, 2) as cac,
    round(cast(ltv_to_cac as numeric), 2) as ltv_to_cac,
    round(recommended_max_cac, 2) as recommended_max_cac
from {{ ref('ltv_by_channel') }}
where horizon = '12m'
order by ltv_to_cac desc nulls last, acquisition_channel asc
