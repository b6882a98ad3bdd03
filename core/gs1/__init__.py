"""The GS1 layer: identifiers, Digital Link URIs and EPC URNs, each rule written once.

- `keys`: the CSET 82 character set, primary keys and their key qualifiers in Digital Link order, GTIN padding and
  check digits, the platform's own product reference, percent-encoding;
- `ai`: GS1's application identifier dictionary (from biip): names and value formats, for data attributes;
- `digital_link`: reading and writing Digital Link URIs, and the URI of a product, batch or item on any root;
- `epc`: EPC URN ↔ Digital Link, and the canonical id.gs1.org form of EPCIS identifiers;
- `validators`: the same rules as Django validators for model fields and forms.

What the apps use is imported here, so that callers write `gs1.batch_uri(batch)` or `gs1.canonical(identifier)`.
"""

from core.gs1.digital_link import (
    CANONICAL_ROOT,
    AmbiguousPath,
    DigitalLink,
    InvalidDigitalLink,
    batch_uri,
    gtin_uri,
    item_uri,
    parse,
    product_uri,
)
from core.gs1.epc import canonical, canonical_and_class, is_class, urn
from core.gs1.keys import (
    CSET82,
    INTERNAL_REF_ALPHABET,
    INTERNAL_REF_LENGTH,
    LOT_MAX_LENGTH,
    gtin_with_check_digit,
    percent_decode,
    percent_encode,
)
from core.gs1.validators import gln_validate, gtin_normalize, lot_validate

__all__ = [
    "CANONICAL_ROOT",
    "CSET82",
    "INTERNAL_REF_ALPHABET",
    "INTERNAL_REF_LENGTH",
    "LOT_MAX_LENGTH",
    "AmbiguousPath",
    "DigitalLink",
    "InvalidDigitalLink",
    "batch_uri",
    "canonical",
    "canonical_and_class",
    "gln_validate",
    "gtin_normalize",
    "gtin_uri",
    "gtin_with_check_digit",
    "is_class",
    "item_uri",
    "lot_validate",
    "parse",
    "percent_decode",
    "percent_encode",
    "product_uri",
    "urn",
]
