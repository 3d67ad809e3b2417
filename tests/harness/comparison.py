"""values_match: whether a built value equals the expected one, to a tolerance."""

import math
from decimal import Decimal

RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9


def values_match(expected, actual, exact: bool = False) -> bool:
    """Exact for None, bools, ints, strings and dates; numbers within tolerance, or,
    with `exact`, decimals to the last digit."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int):
        return actual == expected
    if isinstance(expected, (Decimal, float)):
        if exact:
            return isinstance(actual, Decimal) and actual == expected
        return isinstance(actual, (Decimal, float, int)) and math.isclose(
            float(actual),
            float(expected),
            rel_tol=RELATIVE_TOLERANCE,
            abs_tol=ABSOLUTE_TOLERANCE,
        )
    return type(actual) is type(expected) and actual == expected
