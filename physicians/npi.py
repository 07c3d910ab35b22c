"""NPI check digit: Luhn over the 9 leading digits prefixed with the `80840` issuer code."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def luhn_check_digit(payload: str) -> int:
    """The digit that makes `payload + digit` pass the Luhn check."""
    total = 0
    # Double every second digit counting from the right of the payload (the check digit's left).
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def npi_check_digit(first_nine: str) -> int:
    return luhn_check_digit("80840" + first_nine)


def is_valid_npi(value: str) -> bool:
    return len(value) == 10 and value.isdigit() and npi_check_digit(value[:9]) == int(value[9])


def validate_npi(value: str) -> None:
    if not value:
        return
    if len(value) != 10 or not value.isdigit():
        raise ValidationError("An NPI has exactly 10 digits.", code="npi_format")
    if npi_check_digit(value[:9]) != int(value[9]):
        raise ValidationError("This NPI's check digit is wrong: check for a mistyped digit.", code="npi_check")


def make_npi(first_nine: int | str) -> str:
    """A valid NPI from nine digits (demo data and tests)."""
    nine = f"{int(first_nine):09d}"
    return nine + str(npi_check_digit(nine))
