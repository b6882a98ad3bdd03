"""GS1 application identifiers (AIs): which exist, what each is called, and what its values look like.

The dictionary is biip's copy of GS1's (the same AIs, titles, format strings and patterns as GS1's syntax
dictionary); biip also checks the dates in date AIs. This module only turns its answers into messages for people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from core.gs1.keys import CSET82_RULE, InvalidValue, shown

_FORMAT_PART = re.compile(r"([NXYZ])(\.\.)?([0-9]+)")


@dataclass(frozen=True)
class ApplicationIdentifier:
    code: str
    title: str
    format: str  # GS1's format string of the value alone: "N6", "X..20", "N14[+X..16]"

    @property
    def name(self) -> str:
        title = self.title[:1].lower() + self.title[1:] if self.title[1:2].islower() else self.title
        return f"{title} (AI {self.code})"


def lookup(code: str) -> ApplicationIdentifier:
    """The AI with this code, or InvalidValue if GS1 defines none."""
    try:
        found = GS1ApplicationIdentifier.extract(code)
    except ParseError:
        found = None
    # extract() matches by prefix; AIs are prefix-free, so anything longer than the AI found is not an AI.
    if found is None or found.ai != code:
        raise InvalidValue(f"{code} is not a GS1 application identifier.", "unknown_ai")
    return ApplicationIdentifier(code, found.description, found.format.split("+", 1)[1])


def validate(code: str, value: str) -> ApplicationIdentifier:
    """The AI `code` if `value` fits its format (and, for dates, is a real date); else InvalidValue."""
    ai = lookup(code)
    if not value:
        raise InvalidValue(f"The {ai.name} is empty.", "empty")
    try:
        # "\n" would slip past the pattern's $; no AI value may contain one.
        if "\n" in value:
            raise ParseError(value)
        GS1ElementString.parse(code + value)
    except ParseError:
        raise InvalidValue(
            f"The {ai.name} {shown(value)} does not fit its format: {_explained(ai)}.", "ai_format"
        ) from None
    return ai


def _explained(ai: ApplicationIdentifier) -> str:
    parts = []
    for optional, part in _format_parts(ai.format):
        match = _FORMAT_PART.fullmatch(part)
        if not match:
            parts.append(part)
            continue
        kind, variable, length = match.groups()
        amount = f"up to {length}" if variable else f"exactly {length}"
        what = "digits" if kind == "N" else f"characters ({CSET82_RULE})" if kind == "X" else "characters"
        parts.append(f"{'optionally ' if optional else ''}{amount} {what}")
    explained = ", then ".join(parts)
    return f"{explained} that make a real date as YYMMDD" if "YYMMDD" in ai.title else explained


def _format_parts(format_string: str) -> list[tuple[bool, str]]:
    parts = []
    for piece in re.split(r"(\[\+?[^\]]*\])", format_string):
        if not piece:
            continue
        optional = piece.startswith("[")
        for part in piece.strip("[]").split("+"):
            if part:
                parts.append((optional, part))
    return parts
