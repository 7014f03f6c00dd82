"""JSON that keeps the text of scalar values.

``loads`` parses a document so that every number (and every string whose text
is not the canonical ``json.dumps`` form, e.g. one written with ``\\u00e9`` or
``\\/`` escapes) is kept as its original JSON text, wrapped in a marker string.
``store.dumps`` (``json.dumps`` + ``restore``) writes such markers back as the
original text.  So ``1e400``, ``4294967296``, ``0.00`` or ``1.50`` come back
exactly as uploaded, where a float round trip would give ``Infinity``,
``0.0`` or ``1.5``.

Objects and arrays stay ordinary dicts and lists (keys are decoded normally),
so code can still select keys, drop nulls and so on.
"""

import json
import json.decoder
import json.scanner
import re

PFX = "\u0000\u0001"          # never produced by the generator, never in real data
NUM = PFX + "N"
STR = PFX + "S"
MARK = '"\\u0000\\u0001'      # how PFX looks inside json.dumps output
_OUT_RE = re.compile(r'"\\u0000\\u0001[NS](?:[^"\\]|\\.)*"')


def _num(text):
    return NUM + text


def _raw_scanstring(s, end, strict=True):
    value, newend = json.decoder.scanstring(s, end, strict)
    raw = s[end - 1:newend]
    if not value.startswith(PFX) and raw == json.dumps(value, ensure_ascii=False):
        return value, newend
    return STR + raw, newend


def _decoder(strings):
    dec = json.JSONDecoder(parse_float=_num, parse_int=_num, parse_constant=_num)
    if strings:
        dec.parse_string = _raw_scanstring
        dec.scan_once = json.scanner.py_make_scanner(dec)
    return dec


_FAST = _decoder(False)
_FULL = _decoder(True)


def loads(text, strings=None):
    """Parse keeping number texts.  strings=True also keeps non-canonical string
    texts (pure-Python scanner, slower).  None (the default) uses that scanner only
    when the text has a backslash: without one every string is already canonical
    (json.dumps with ensure_ascii=False escapes nothing but '"', '\\' and control
    characters, which valid JSON cannot hold unescaped)."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    if strings is None:
        strings = "\\" in text
    return (_FULL if strings else _FAST).decode(text)


def _restore_one(m):
    return json.loads(m.group(0))[len(PFX) + 1:]


def restore(s):
    """Replace the markers in json.dumps output by the original texts."""
    if MARK not in s:
        return s
    return _OUT_RE.sub(_restore_one, s)


def is_raw(v):
    return isinstance(v, str) and v.startswith(PFX)


def value(v):
    """The decoded Python value of a (possibly marked) scalar."""
    if isinstance(v, str) and v.startswith(PFX):
        return json.loads(v[len(PFX) + 1:])
    return v
