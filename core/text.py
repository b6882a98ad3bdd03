"""Text that people type, made safe to keep and to show.

Escaping on output (Django's templates, JSON, XML) stops markup; what escaping does not stop is kept out here, on
the way in: control characters (a NUL, a bell, an escape sequence that would repaint a terminal reading a log or an
export) and the Unicode bidirectional embeddings, overrides and isolates, which make text display in an order other
than the one it is stored in (the "Trojan Source" trick: a review that reads one way and says another, or one that
reverses the text after it on the page). Pages also show people's text with `dir="auto"`, so right-to-left writing
displays as it should without reaching outside its element.
"""

import re
import unicodedata

# U+202A–U+202E: LRE, RLE, PDF, LRO, RLO; U+2066–U+2069: LRI, RLI, FSI, PDI; U+200E/U+200F and U+061C: the marks.
BIDI_CONTROLS = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]+")


def _kept(char: str, *, multiline: bool) -> bool:
    if char == "\n":
        return multiline
    if ord(char) in BIDI_CONTROLS:
        return False
    return unicodedata.category(char) != "Cc"


def clean_text(value: str, *, multiline: bool = True) -> str:
    """`value` in NFC without control characters or bidirectional controls, with line ends as `\\n`, runs of spaces
    and tabs made one space, at most one empty line in a row, and no space around it; one line when not
    `multiline` (line breaks become spaces)."""
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = text.replace("\n", " ")
    text = "".join(char if _kept(char, multiline=multiline) else (" " if char == "\t" else "") for char in text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
