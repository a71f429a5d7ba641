"""One rounding rule for every figure a person reads: finding messages, reports, agendas.

A measured figure is rounded twice, and both steps are made here:

1. **Stored** (the finding's measures, JSON): areas and lengths to 0.1 m² / 0.1 m, heights
   to 0.1 m, shares to 0.01 %; finer digits are noise, and stable figures make re-runs
   byte-identical.
2. **Shown** (messages, report tables, agendas): areas to whole m², lengths and heights to
   whole metres, shares to 0.1 % — always rounded *from the stored figure*, never from the
   raw measurement.

Step 2 starting from step 1 is what makes every place agree: a message is written while the
rule still has the raw measurement, a report reads the stored one. Rounding the raw value
for the message (61 306,54 → 61 307) but the stored value for the table (61 306,5 → 61 306,
half to even) gave two different figures for one area (issue 20).

Both steps round **half away from zero** (ROUND_HALF_UP) on the decimal value as printed
(repr), not on the binary float: 61 306,5 m² reads 61 307 m², 0,15 % reads 0,2 %. That is
the rule readers apply when they check a figure by hand; round-half-even only pays off when
rounded figures are summed, and nothing here sums shown figures (totals are summed from
stored ones). Python's own `round()` and `format(x, ".0f")` round the binary value half to
even, so 0,15 gives 0,1 and 61 306,5 gives 61 306.

Areas of plan areas and findings are always shown in m², never in hectares or dekar, so
figures compare directly. The one exception is the land account's sums over a municipality
(reserves, capacity; millions of m²), shown in whole dekar (`fmt_daa`) as arealregnskap and
SSB's land statistics give them; its exports keep m².
Norwegian form (Språkrådet, «Skrivemåten av tall»): a space between thousands, a decimal
comma. Heights above sea level are written without the thousands space ("1100 moh."), as
maps and Norwegian place descriptions write them.
"""

from decimal import ROUND_HALF_UP, Decimal

# Decimals kept in stored measures, by what the measure's name says it is.
STORED_DECIMALS_SHARE = 2  # *_pct, *_pct_bra: 0.01 %
STORED_DECIMALS = 1  # m², m, moh.: 0.1
# Decimals shown.
SHOWN_DECIMALS_SHARE = 1
SHOWN_DECIMALS = 0


def round_half_up(value: float, decimals: int = 0) -> float:
    """Round half away from zero on the value's decimal form: 2.5 → 3, 0.15 → 0.2."""
    return float(_decimal(value, decimals))


def _decimal(value: float, decimals: int) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


def stored_decimals(name: str) -> int:
    """The decimals a measure keeps when stored, by its name (shares keep two)."""
    return STORED_DECIMALS_SHARE if "_pct" in name else STORED_DECIMALS


def stored(name: str, value: float) -> float:
    """Round a measured figure as a finding stores it (step 1)."""
    return round_half_up(value, stored_decimals(name))


def shown(value: float, decimals: int = SHOWN_DECIMALS, stored_as: int = STORED_DECIMALS) -> float:
    """Round a figure for reading (step 2), from its stored form (step 1)."""
    return round_half_up(round_half_up(value, stored_as), decimals)


def _grouped(number: Decimal, decimals: int, group: bool = True) -> str:
    text = f"{number:,.{decimals}f}" if group else f"{number:.{decimals}f}"
    return text.replace(",", " ").replace(".", ",")


def fmt_number(value: float, decimals: int = 0) -> str:
    """A plain number with thousands spaces and a decimal comma: '12 345,6'."""
    return _grouped(_decimal(value, decimals), decimals)


def thousands(value: float | None) -> str:
    """A whole number (a count, a population) with spaces between thousands: '12 345'."""
    return fmt_number(value or 0)


def fmt_m2(value: float) -> str:
    """An area, whole m² from the stored 0.1 m²: '61 307 m²' for 61 306,5."""
    return f"{_grouped(_decimal(shown(value), 0), 0)} m²"


def fmt_daa(value_m2: float) -> str:
    """A large area in dekar (1 000 m²), whole dekar: '6 878 daa' for 6 878 352 m²."""
    return f"{_grouped(_decimal(value_m2 / 1000, 0), 0)} daa"


def fmt_m(value: float) -> str:
    """A length or distance, whole metres from the stored 0.1 m: '1 234 m'."""
    return f"{_grouped(_decimal(shown(value), 0), 0)} m"


def fmt_masl(value: float) -> str:
    """A height above sea level, whole metres from the stored 0.1 m: '1100 moh.'."""
    return f"{_grouped(_decimal(shown(value), 0), 0, group=False)} moh."


def fmt_pct(value: float, decimals: int = SHOWN_DECIMALS_SHARE) -> str:
    """A share from its stored 0.01 %, with a decimal comma: '38,0 %'."""
    figure = shown(value, decimals, STORED_DECIMALS_SHARE)
    return f"{_grouped(_decimal(figure, decimals), decimals)} %"
