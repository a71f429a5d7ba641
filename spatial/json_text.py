"""Reading JSON text fast with orjson without changing any number it holds."""

import json
from typing import Any

import orjson

# orjson reads integers of up to 64 bits exactly and longer ones as doubles, rounding them;
# 2**64 has 20 digits. Any run of 20 digits (also in a long fraction) takes the exact path.
_DIGITS_AS_NINES = bytes.maketrans(b"0123456789", b"9999999999")
_TWENTY_DIGITS = b"9" * 20


def loads_exact(text: str | bytes, **json_options: Any) -> Any:
    """Parse JSON with orjson, or with Python's `json.loads(text, **json_options)` where
    orjson refuses the text (to say where and why) or would round an integer of 20+ digits.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data.translate(_DIGITS_AS_NINES).find(_TWENTY_DIGITS) < 0:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # Python's json module below reads what orjson refuses, or says why not
    return json.loads(text, **json_options)
