"""Validates XRPC responses against the official lexicons shipped in Tests/Fixtures/lexicons.

Used by the HTTP tests: every response body of an implemented method goes through
`assert_valid_output(nsid, body)`. lexrpc checks required fields, types, unions and string
formats (did, handle, at-uri, cid, datetime, uri).
"""
import json
import pathlib

from lexrpc.base import Base

LEXICON_DIR = pathlib.Path(__file__).resolve().parents[1] / "Fixtures" / "lexicons"


def _load_lexicons():
    lexicons = []
    for path in sorted(LEXICON_DIR.rglob("*.json")):
        lexicons.append(json.loads(path.read_text()))
    if not lexicons:
        raise RuntimeError(f"no lexicons found under {LEXICON_DIR}")
    return lexicons


_validator = Base(lexicons=_load_lexicons(), validate=True, require_lexicons=True)


def assert_valid_output(nsid, body):
    """Raises lexrpc's ValidationError with the offending path when `body` is not a valid output of `nsid`."""
    _validator.validate(nsid, "output", body)
