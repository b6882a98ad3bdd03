"""Money as integers of the smallest unit: ISO 4217 minor units for hard currency (exponents from CLDR, through
Babel), hundredths for credits (the ledger's own formatting)."""

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision, list_currencies

from network_credits.selectors import credits_text


def is_currency(code: str) -> bool:
    return code in list_currencies()


def exponent(code: str) -> int:
    """How many decimal places the currency's minor unit has: 2 for EUR, 0 for JPY, 3 for BHD."""
    return int(get_currency_precision(code))


def to_major(amount: int, *, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent(currency))


def text(amount: int, *, currency: str, locale: str = "en") -> str:
    """An amount in minor units as people read it: 1234 EUR → €12.34."""
    return format_currency(to_major(amount, currency=currency), currency, locale=locale)


def credits(hundredths: int) -> str:
    return f"{credits_text(hundredths)} credits"


def parse(value: str, *, currency: str) -> int:
    """A price typed in major units ("12.5") as minor units (1250); ValueError when it has too many decimals."""
    number = Decimal(value.strip().replace(",", ""))
    minor = number.scaleb(exponent(currency))
    if minor != minor.to_integral_value() or minor < 0:
        raise ValueError(f"{value} is not an amount of {currency}.")
    return int(minor)
