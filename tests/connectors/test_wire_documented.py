"""Every field a platform's wire structs read is named in that platform's page under docs/platforms/.

The page cites each field's public source or marks it unverified (and the mapping fails safe on an
unverified one); a field added to a wire struct without a word in the page fails here, so no field
can rest on a reading nobody wrote down.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import msgspec
import pytest

from connectors.registry import PLATFORMS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "platforms"


def wire_fields(platform: str) -> set[str]:
    module = importlib.import_module(f"connectors.{platform}.wire")
    return {name for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, msgspec.Struct) and obj.__module__ == module.__name__
            for name in obj.__struct_encode_fields__}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_wire_field_is_in_the_platform_page(platform):
    page = (DOCS / f"{platform}.md").read_text()
    named = set(re.findall(r"`([^`\s]+)`", page)) | {
        part for quoted in re.findall(r"`([^`]+)`", page) for part in re.split(r"[\s,./\[\]{}()=:]+", quoted)}
    missing = sorted(wire_fields(platform) - named)
    assert not missing, f"docs/platforms/{platform}.md does not name (in backticks) {missing}"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_unverified_field_in_a_page_is_said_to_be_so(platform):
    """A page's field table marks a field it has no source for as unverified, never leaves the cell empty."""
    page = (DOCS / f"{platform}.md").read_text()
    for row in re.findall(r"^\|(.+)\|\s*$", page, flags=re.MULTILINE):
        cells = [c.strip() for c in row.split("|")]
        if cells and cells[-1] == "" and not set(cells) <= {"", "---"}:
            pytest.fail(f"docs/platforms/{platform}.md: a row with no source: |{row}|")
