"""Validates XRPC responses against the official lexicons shipped in Tests/Fixtures/lexicons.

Used by the HTTP tests: every response body of an implemented method goes through
`assert_valid_output(nsid, body)`. lexrpc checks required fields, types, unions, lengths and
string formats, but two of its format checks are looser than the atproto specs, so they are
tightened here (proved by Tests/http/test_lexicon_conformance.py):
- `cid`: lexrpc only wants 8+ alphanumerics (`notacid12345` passes); here the value must decode
  as a CID (multiformats).
- `datetime`: lexrpc accepts a missing seconds field (`2026-07-04T14:38Z`) and unbounded
  fractions; here the value must match the atproto datetime syntax (seconds required, upper-case
  `T`, `Z` or a `±hh:mm` offset other than `-00:00`).
`did`, `handle`, `at-uri`, `uri` are checked by lexrpc as the specs say.
"""
import json
import pathlib
import re

from lexrpc.base import Base, ValidationError
from multiformats import CID

LEXICON_DIR = pathlib.Path(__file__).resolve().parents[1] / "Fixtures" / "lexicons"

# https://atproto.com/specs/lexicon#datetime
DATETIME_RE = re.compile(
    r"[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{1,20})?(Z|[+-][0-2][0-9]:[0-5][0-9])")


def _load_lexicons():
    lexicons = []
    for path in sorted(LEXICON_DIR.rglob("*.json")):
        lexicons.append(json.loads(path.read_text()))
    if not lexicons:
        raise RuntimeError(f"no lexicons found under {LEXICON_DIR}")
    return lexicons


class StrictFormatValidator(Base):
    """lexrpc's validator with the spec's `cid` and `datetime` syntax."""

    def _validate_string_format(self, val, format):
        super()._validate_string_format(val, format)
        if format == "cid":
            try:
                CID.decode(val)
            except Exception:
                raise ValidationError(f"{val} is invalid for format cid (does not decode as a CID)")
        elif format == "datetime":
            if not DATETIME_RE.fullmatch(val) or val.endswith("-00:00"):
                raise ValidationError(f"{val} is invalid for format datetime (atproto datetime syntax)")


_validator = StrictFormatValidator(lexicons=_load_lexicons(), validate=True, require_lexicons=True)


def assert_valid_output(nsid, body):
    """Raises lexrpc's ValidationError with the offending path when `body` is not a valid output of `nsid`."""
    _validator.validate(nsid, "output", body)


def check_format(value, format):
    """Raises ValidationError when `value` is not a valid string of the lexicon `format`."""
    _validator._validate_string_format(value, format)
