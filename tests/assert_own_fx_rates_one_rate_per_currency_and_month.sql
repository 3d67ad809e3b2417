-- The shop's own rates (seed own_fx_rates) give each currency and month once:
-- currencies compare as upper(trim()), so `EUR` and `eur` for one month are the
-- same rate given twice, and fx_rates would keep one of them silently. Each
-- failing row names the currency and the month; the build stops before fx_rates.
{{ config(severity='error') }}

with

own_rates as (

    select * from {{ ref('own_fx_rates') }}

)

select
    rate_month,
    upper(trim(currency)) as currency,
    count(*) as rates_given

from own_rates

group by rate_month, upper(trim(currency))

having count(*) > 1
