"""Query-string handling for the Graph emulator: OData system query options,
$expand/$select, the two documented $filter forms, skip tokens.

Percent-decoding never turns '+' into a space (Graph doesn't either), and the
'$' of an option name may be literal or %24."""

import base64
import re
from urllib.parse import unquote

import datagen as dg


class ODataError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad(message, code="BadRequest"):
    return ODataError(400, code, message)


SYSTEM_OPTIONS = ("expand", "select", "filter", "skiptoken", "skip", "top", "count", "orderby", "search",
                  "format", "apply", "compute", "deltatoken", "levels", "index", "schemaversion")


def parse_query(qs):
    """Decode a raw query string into {option: value}.  System options are keyed
    with a leading '$' (accepted with or without it, case-insensitively)."""
    out = {}
    if not qs:
        return out
    for part in qs.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        k = unquote(k, errors="replace")
        v = unquote(v, errors="replace")
        kl = k.lower()
        if kl.startswith("$"):
            key = kl
        elif kl in SYSTEM_OPTIONS:
            key = "$" + kl
        else:
            key = k
        if key in out:
            raise bad("Query option '%s' was specified more than once, but it must be specified at most once."
                      % key)
        out[key] = v
    return out


def check_options(q, allowed):
    for k in q:
        if k.startswith("$") and k not in allowed:
            raise bad("Query option '%s' is not supported for this request." % k)


def _term_error(term):
    return bad("Parsing OData Select and Expand failed: Term '%s' is not valid in a $select or $expand expression."
               % term)


def split_top(s, sep):
    """Split on sep outside parentheses and quotes; None if unbalanced."""
    parts, depth, cur, q = [], 0, [], False
    for ch in s:
        if ch == "'":
            q = not q
        elif not q and ch == "(":
            depth += 1
        elif not q and ch == ")":
            depth -= 1
            if depth < 0:
                return None
        if ch == sep and depth == 0 and not q:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth != 0 or q:
        return None
    parts.append("".join(cur))
    return parts


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ITEM = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)(?:\((.*)\))?$", re.S)

ENTITY_PROPS = {
    "callRecord": ["id", "version", "type", "modalities", "lastModifiedDateTime", "startDateTime", "endDateTime",
                   "joinWebUrl", "organizer", "participants", "organizer_v2", "participants_v2", "sessions"],
    "session": ["id", "caller", "callee", "startDateTime", "endDateTime", "failureInfo", "modalities", "isTest",
                "segments"],
    "participant": ["id", "identity", "administrativeUnitInfos"],
}
NAV_PROPS = {"callRecord": {"sessions": "session", "participants_v2": "participant", "organizer_v2": "participant"},
             "session": {"segments": "segment"}, "participant": {}, "segment": {}}


def _canon(name, etype):
    for p in ENTITY_PROPS.get(etype, []):
        if p.lower() == name.lower():
            return p
    return None


def parse_select(value, etype):
    """Comma list of property names -> list of canonical names (None: no $select)."""
    if value is None:
        return None
    items = [x.strip() for x in value.split(",")]
    out = []
    for it in items:
        if it == "*":
            return None
        if not _IDENT.match(it):
            raise _term_error(it)
        c = _canon(it, etype)
        if c is None:
            raise bad("Could not find a property named '%s' on type 'microsoft.graph.callRecords.%s'."
                      % (it, etype))
        if c not in out:
            out.append(c)
    return out


def parse_expand(value, etype):
    """-> {nav: {"expand": {...}, "select": [...] or None}}"""
    if value is None:
        return {}
    items = split_top(value, ",")
    if items is None:
        raise _term_error(value)
    out = {}
    for raw in items:
        it = raw.strip()
        m = _ITEM.match(it)
        if not m or "." in m.group(1):
            raise _term_error(it if it else raw)
        name, inner = m.group(1), m.group(2)
        c = _canon(name, etype)
        if c is None:
            raise bad("Could not find a property named '%s' on type 'microsoft.graph.callRecords.%s'."
                      % (name, etype))
        if c not in NAV_PROPS[etype]:
            raise bad("Property '%s' on type 'microsoft.graph.callRecords.%s' is not a navigation property or "
                      "complex property. Only navigation properties can be expanded." % (c, etype))
        sub = {"expand": {}, "select": None}
        if inner is not None:
            if inner.strip() == "":
                raise _term_error(it)
            opts = split_top(inner, ";")
            if opts is None:
                raise _term_error(it)
            target = NAV_PROPS[etype][c]
            for o in opts:
                ok, _, ov = o.strip().partition("=")
                okl = ok.strip().lower()
                if okl == "$expand":
                    sub["expand"] = parse_expand(ov, target)
                elif okl == "$select":
                    sub["select"] = parse_select(ov, target)
                else:
                    raise _term_error(o.strip())
        out[c] = sub
    return out


# ---------------------------------------------------------------- $filter

_CMP_RE = re.compile(r"^startDateTime\s+(ge|gt|le|lt|eq|ne)\s+(\S+)$", re.I)
_ANY_RE = re.compile(r"^participants_v2/any\(\s*([A-Za-z_]\w*)\s*:\s*([A-Za-z_]\w*)/id\s+eq\s+'((?:[^']|'')*)'\s*\)$",
                     re.I)


def _split_and(s):
    """Split on the keyword 'and' outside parentheses/quotes."""
    parts, depth, q, i, start = [], 0, False, 0, 0
    n = len(s)
    while i < n:
        ch = s[i]
        if ch == "'":
            q = not q
        elif not q and ch == "(":
            depth += 1
        elif not q and ch == ")":
            depth -= 1
        elif not q and depth == 0 and ch in " \t" and s[i:i + 5].lower() in (" and ", "\tand ", " and\t"):
            parts.append(s[start:i])
            i += 5
            start = i
            continue
        i += 1
    if depth != 0 or q:
        return None
    parts.append(s[start:])
    return parts


def parse_filter(value):
    """-> list of predicates (('time', op, ticks) | ('participant', id))"""
    if value is None:
        return []
    parts = _split_and(value.strip())
    if parts is None:
        raise bad("Invalid filter clause: syntax error in '%s'." % value)
    preds = []
    for raw in parts:
        c = raw.strip()
        while c.startswith("(") and c.endswith(")") and split_top(c[1:-1], ",") is not None \
                and _balanced(c[1:-1]):
            c = c[1:-1].strip()
        m = _CMP_RE.match(c)
        if m:
            op, lit = m.group(1).lower(), m.group(2)
            if op not in ("ge", "gt", "le", "lt"):
                raise bad("Invalid filter clause: operator '%s' is not supported on startDateTime; use ge, gt, "
                          "le or lt." % op)
            if lit.startswith("'"):
                raise bad("A binary operator with incompatible types was detected. Found operand types "
                          "'Edm.DateTimeOffset' and 'Edm.String' for operator kind '%s'." %
                          {"ge": "GreaterThanOrEqual", "gt": "GreaterThan", "le": "LessThanOrEqual",
                           "lt": "LessThan"}[op])
            t = dg.ticks_of(lit)
            if t is None or "T" not in lit:
                raise bad("Invalid filter clause: '%s' is not a valid Edm.DateTimeOffset literal." % lit)
            preds.append(("time", op, t))
            continue
        m = _ANY_RE.match(c)
        if m and m.group(1) == m.group(2):
            preds.append(("participant", m.group(3).replace("''", "'")))
            continue
        raise bad("Invalid filter clause: '%s' is not supported. Supported: startDateTime ge|gt|le|lt "
                  "<DateTimeOffset> and participants_v2/any(p:p/id eq '<id>'), combined with 'and'." % c)
    return preds


def _balanced(s):
    """Parentheses balanced and quotes closed: split_top's check, splitting on nothing."""
    return split_top(s, None) is not None


def filter_match(h, preds):
    for p in preds:
        if p[0] == "time":
            _, op, t = p
            v = h["start"]
            if v is None:           # a custom record without a parseable startDateTime
                return False
            if op == "ge" and not v >= t:
                return False
            if op == "gt" and not v > t:
                return False
            if op == "le" and not v <= t:
                return False
            if op == "lt" and not v < t:
                return False
        else:
            pid = p[1].lower()
            if not any(x.lower() == pid for x in h["participant_ids"]):
                return False
    return True


# ---------------------------------------------------------------- skip tokens

def make_skiptoken(kind, key, offset):
    raw = ("%s|%s|%d" % (kind, key, offset)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_skiptoken(tok, kind, key):
    if tok is None:
        return 0
    try:
        pad = "=" * (-len(tok) % 4)
        raw = base64.urlsafe_b64decode(tok + pad).decode()
        k, _, rest = raw.partition("|")
        rk, _, off = rest.rpartition("|")     # custom record ids may contain '|'
        off = int(off)
        if k != kind or rk.lower() != key.lower() or off < 0:
            raise ValueError
        return off
    except Exception:
        raise bad("The $skiptoken value is not valid.", "BadRequest")


# ---------------------------------------------------------------- Prefer

def parse_prefer(values):
    """values: list of Prefer header values -> (maxpagesize or None, omit_nulls, include_unknown)"""
    maxps, omit, unk = None, False, False
    for v in values:
        for p in v.split(","):
            p = p.strip()
            pl = p.lower()
            if pl.startswith("odata.maxpagesize="):
                try:
                    n = int(p.split("=", 1)[1].strip().strip('"'))
                    if n > 0:
                        maxps = n
                except ValueError:
                    pass
            elif pl.replace(" ", "") in ("omit-values=nulls", 'omit-values="nulls"'):
                omit = True
            elif pl == "include-unknown-enum-members":
                unk = True
    return maxps, omit, unk


def strip_nulls(o):
    if isinstance(o, dict):
        return {k: strip_nulls(v) for k, v in o.items() if v is not None}
    if isinstance(o, list):
        return [strip_nulls(v) for v in o]
    return o
