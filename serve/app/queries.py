"""Every SQL statement of the service, by name, with bound parameters.

Reads run on the service's in-memory DuckDB snapshot (snapshot.py), whose tables are
copies of the published marts under the marts' names, so one dialect serves both
engines. Identifiers never come from a request: sort columns and revenue horizons are
checked against the whitelists below, schema names are quoted by the engine's rules.
"""

# The contract's columns of user_ltv (models/marts/_marts__models.yml): the list's
# sort whitelist and the columns of every list row.
USER_LTV_COLUMNS = (
    "user_id", "signup_date", "signup_month", "acquisition_channel", "as_of_date",
    "tenure_days", "revenue_3m", "revenue_6m", "revenue_12m", "revenue_lifetime",
    "orders_3m", "orders_6m", "orders_12m", "orders_lifetime", "aov_3m", "aov_6m",
    "aov_12m", "aov_lifetime", "is_3m_complete", "is_6m_complete", "is_12m_complete",
    "first_order_date", "last_order_date", "days_since_last_order", "ltv_segment",
)  # fmt: skip
USER_CLV_COLUMNS = (
    "probability_alive", "expected_purchases_90d", "expected_purchases_365d",
    "expected_order_value", "predicted_clv_12m",
)  # fmt: skip
HORIZONS = ("3m", "6m", "12m", "lifetime")

# The marts the snapshot copies (order_audit stays: only its newest date is read).
SNAPSHOT_MARTS = (
    "user_ltv", "user_clv", "ltv_summary", "ltv_distribution", "ltv_segments",
    "ltv_cohorts", "ltv_by_channel", "clv_backtest", "clv_model_parameters",
    "clv_backtest_measures", "clv_backtest_deciles",
)  # fmt: skip
# Optional: the builds' log (one row per build or run that reached its end).
BUILDS_TABLE = "ltv_builds"

# ------------------------------------------------------------------ the snapshot

# The newest order date of the published build: the sources' freshness as the marts
# know it (order_audit holds every raw order; it is not copied).
NEWEST_ORDER = "select max(order_date) as newest_order_date from {relation}"

DUCKDB_TABLES = """
select table_name from duckdb_tables()
where database_name = ? and schema_name = ?
"""

POSTGRES_TABLES = """
select c.relname from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where n.nspname = %s and c.relkind in ('r', 'p')
"""

# A published build replaces the marts' tables (new oids): their list is the version
# of what PostgreSQL publishes. Readable by any role.
POSTGRES_VERSION = """
select string_agg(c.relname || ':' || c.oid::text, ',' order by c.relname)
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where n.nspname = %s and c.relkind in ('r', 'p')
"""

POSTGRES_COLUMNS = """
select a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
from pg_catalog.pg_attribute as a
where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped
order by a.attnum
"""

# ------------------------------------------------------------------ the API

SUMMARY = "select * from ltv_summary order by coalesce(horizon_months, 1000)"

DISTRIBUTION = """
select * from ltv_distribution
where ? is null or horizon = ?
order by position(horizon in '3m 6m 12m lifetime'), bucket_order
"""

SEGMENTS = "select * from ltv_segments order by segment_order"
COHORTS = "select * from ltv_cohorts order by signup_month, months_since_signup"
CHANNELS = """
select * from ltv_by_channel
order by acquisition_channel, position(horizon in '3m 6m 12m lifetime')
"""
CLV_BACKTEST = "select * from clv_backtest order by bin_order"
# The model first, then the baseline it is measured against.
CLV_BACKTEST_MEASURES = (
    "select * from clv_backtest_measures order by predictor = 'baseline'"
)
CLV_BACKTEST_DECILES = (
    "select * from clv_backtest_deciles order by predictor = 'baseline', decile"
)

ONE_USER = f"""
select
    {", ".join(f"u.{column}" for column in USER_LTV_COLUMNS)},
    c.user_id is not null as is_scored,
    {", ".join(f"c.{column}" for column in USER_CLV_COLUMNS)}
from user_ltv as u
left join user_clv as c on u.user_id = c.user_id
where u.user_id = ?
"""

# Filters of the list: (parameter, condition with one bound value).
USER_FILTERS = (
    ("segment", "ltv_segment = ?"),
    ("channel", "acquisition_channel = ?"),
    ("signup_from", "signup_date >= ?"),
    ("signup_to", "signup_date <= ?"),
    ("min_orders", "orders_lifetime >= ?"),
)
REVENUE_FILTERS = (("min_revenue", ">= ?"), ("max_revenue", "<= ?"))


def user_filter(filters: dict) -> tuple[str, list]:
    """The where clause (`true` without filters) and its values.

    `filters` holds the list's parameters; None means not given. The revenue bounds
    apply to revenue_<revenue_horizon>, a horizon of the whitelist."""
    horizon = filters.get("revenue_horizon") or "lifetime"
    if horizon not in HORIZONS:
        raise ValueError(f"revenue_horizon must be one of {HORIZONS}")
    conditions, values = [], []
    for name, condition in USER_FILTERS:
        if filters.get(name) is not None:
            conditions.append(condition)
            values.append(filters[name])
    for name, comparison in REVENUE_FILTERS:
        if filters.get(name) is not None:
            conditions.append(f"revenue_{horizon} {comparison}")
            values.append(filters[name])
    return " and ".join(conditions) or "true", values


def user_count(where: str) -> str:
    return f"select count(*) from user_ltv where {where}"


def user_page(where: str, sort_by: str, descending: bool) -> str:
    """A page (values: the filter's, then limit and offset) of the list sorted by
    sort_by, nulls as the largest value, ties by user_id ascending."""
    if sort_by not in USER_LTV_COLUMNS:
        raise ValueError(f"sort_by must be a column of user_ltv, not {sort_by!r}")
    order = "desc nulls first" if descending else "asc nulls last"
    return f"""
select {", ".join(USER_LTV_COLUMNS)} from user_ltv
where {where}
order by {sort_by} {order}, user_id asc
limit ? offset ?
"""
