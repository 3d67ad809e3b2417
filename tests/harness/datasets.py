"""Raw data: the Dataset of users and orders, the generated one, raw column layouts."""

from datetime import date
from typing import NamedTuple

import harness  # noqa: F401  (puts scripts/ on the path)
import demo_data

# The raw layout of the real shop, table -> {column: type}, in load order. Other
# layouts change some types (layout()).
RAW_COLUMNS = demo_data.RAW_COLUMN_TYPES


class Dataset(NamedTuple):
    users: list
    orders: list

    def rows(self, table: str) -> list:
        return self.users if table == "users" else self.orders


def generated_dataset(n_users: int, seed: int, as_of: date) -> Dataset:
    """The demo generator's dirty data."""
    users, orders = demo_data.generate(n_users, seed, as_of)
    return Dataset(users, orders)


def layout(**changes) -> dict:
    """RAW_COLUMNS with some types changed.

    layout(orders={"total_amount": "text"}): amounts stored as text.
    """
    columns = {table: dict(types) for table, types in RAW_COLUMNS.items()}
    for table, types in changes.items():
        columns[table].update(types)
    return columns
