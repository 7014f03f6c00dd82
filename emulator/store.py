"""Record store for the Graph emulator: lazily generated records, LRU caches of
serialized session fragments and of rendered responses, the docs-example record,
PSTN/direct-routing days."""

import json
import os
import re
import threading
from collections import OrderedDict

import datagen as dg
import rawjson

FIXTURE_ID = "e523d2ed-2966-4b6b-925b-754a88034cc5"
FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
DOC_SESSIONS_LINK = ("https://graph.microsoft.com/v1.0/$metadata#communications/callRecords('" + FIXTURE_ID +
                     "')/sessions?$expand=segments&$skiptoken=abc")
_NEXTLINK_TAIL_RE = re.compile(r',\s*"@odata\.nextLink"\s*:\s*"[^"]*"')

# docs examples of the list and function endpoints (fixtures/v1-*.json)
DOC_LIST_FILE = "v1-list-callrecords.json"
DOC_FN_FILES = {"pstn": "v1-getpstncalls.json", "dr": "v1-getdirectroutingcalls.json"}
DOC_FN_WINDOW = (dg.ticks_of("2019-11-01T00:00:00Z"), dg.ticks_of("2019-12-01T00:00:00Z"))
# windows ending before this hold the docs' example rows and nothing generated
DOC_ERA_END = dg.ticks_of("2020-01-01T00:00:00Z")

# log functions: code -> (name, row type, beta only)
LOG_FUNCS = {
    "pstn": ("getPstnCalls", "pstnCallLogRow", False),
    "dr": ("getDirectRoutingCalls", "directRoutingLogRow", False),
    "sms": ("getSmsLog", "smsLogRow", True),
    "blocked": ("getPstnBlockedUsersLog", "pstnBlockedUsersLogRow", True),
    "dialout": ("getPstnOnlineMeetingDialoutReport", "pstnOnlineMeetingDialoutReport", True),
}
LOG_FUNC_BY_NAME = {v[0].lower(): k for k, v in LOG_FUNCS.items()}
_DAY_GEN = {"pstn": dg.pstn_day, "dr": dg.dr_day, "sms": dg.sms_day, "blocked": dg.blocked_day}
# rendered Graph responses (graph_emulator.cached_route): at most this many bytes in all,
# and no single body above PAGE_CACHE_ITEM
PAGE_CACHE_BYTES = 256 * 1024 * 1024
PAGE_CACHE_ITEM = 64 * 1024 * 1024


def dumps(obj):
    """Compact UTF-8 JSON.  Values parsed with rawjson.loads come back as their original text."""
    return rawjson.restore(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


class LRU:
    def __init__(self, cap):
        self.cap = cap
        self.d = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key, make):
        with self.lock:
            v = self.d.get(key)
            if v is not None:
                self.d.move_to_end(key)
                return v
        v = make()
        with self.lock:
            self.d[key] = v
            self.d.move_to_end(key)
            while len(self.d) > self.cap:
                self.d.popitem(last=False)
        return v


class ByteLRU:
    """LRU bounded by the total size of its values (bytes), not by their count: a page of
    record 3 is 416 kB, a page of record 1 a few kB.  Values larger than max_item are
    not kept, so one huge body cannot flush everything else."""

    def __init__(self, max_bytes, max_item):
        self.max_bytes = max_bytes
        self.max_item = max_item
        self.size = 0
        self.d = OrderedDict()          # key -> (value, size)
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            hit = self.d.get(key)
            if hit is None:
                return None
            self.d.move_to_end(key)
            return hit[0]

    def put(self, key, value, size):
        if size > self.max_item:
            return
        with self.lock:
            old = self.d.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self.d[key] = (value, size)
            self.size += size
            while self.size > self.max_bytes:
                self.size -= self.d.popitem(last=False)[1][1]

    def clear(self):
        with self.lock:
            self.d.clear()
            self.size = 0


class GeneratedRecord:
    """One call record.  Session i is generated on demand and kept as two JSON
    fragments: the session without segments, and the segments array."""
    page_sessions = 60

    def __init__(self, store, h):
        self.store = store
        self.h = h
        self.id = h["id"]
        self.n = h["nsessions"]
        self._frags = [None] * self.n
        self._participants = None

    def fields(self):
        return dg.record_fields(self.h, self.store.users, "get")

    def frag(self, i):
        f = self._frags[i]
        if f is None:
            s = dg.gen_session(self.store.seed, self.h, i, self.store.users)
            segs = s.pop("segments")
            f = (dumps(s), dumps(segs))
            self._frags[i] = f
        return f

    def participants(self):
        if self._participants is None:
            users = self.store.users
            self._participants = [dg.participant_entity(p, users) for p in self.h["participants"]]
        return self._participants


class FixtureRecord:
    """The docs example record e523d2ed-...: session A is the one inline in the
    expanded GET example, session B the one of the /sessions?$expand=segments
    example.  Pages hold one session each, like the docs."""
    page_sessions = 1

    def __init__(self):
        def load(name):
            with open(os.path.join(FIXTURE_DIR, name), encoding="utf-8") as fh:
                return fh.read()
        self.id = FIXTURE_ID
        self.text_get = load("v1-get-callrecord.json")
        self.text_expanded = load("v1-get-callrecord-expanded.json")
        self.text_sessions_seg = _NEXTLINK_TAIL_RE.sub("", load("v1-list-sessions-expanded-segments.json"), 1)
        self.text_sessions = _NEXTLINK_TAIL_RE.sub("", load("v1-list-sessions.json"), 1)
        assert DOC_SESSIONS_LINK in self.text_expanded
        exp = json.loads(self.text_expanded)
        sess_a = exp["sessions"][0]
        sess_b = json.loads(self.text_sessions_seg)["value"][0]     # duplicate key collapses here only
        self._fields = {k: v for k, v in exp.items()
                        if not k.startswith("@") and "@odata" not in k and k != "sessions"}
        self._frags = []
        for s in (sess_a, sess_b):
            s = dict(s)
            segs = s.pop("segments")
            self._frags.append((dumps(s), dumps(segs)))
        self.n = 2
        org = exp["organizer_v2"]
        owen = sess_a["callee"]["associatedIdentity"]
        self._participants = [org, {"id": owen["id"], "identity": {"user": {
            "id": owen["id"], "displayName": owen["displayName"], "tenantId": owen["tenantId"]}}}]

    def fields(self):
        return json.loads(json.dumps(self._fields))

    def frag(self, i):
        return self._frags[i]

    def participants(self):
        return self._participants

    def verbatim(self, ver, text):
        if ver != "v1.0":
            text = text.replace("https://graph.microsoft.com/v1.0/", "https://graph.microsoft.com/" + ver + "/")
        return text


def _is_annotation(key):
    return key.startswith("@") or "@odata." in key


def _load_fixture(name):
    with open(os.path.join(FIXTURE_DIR, name), encoding="utf-8") as fh:
        return fh.read()


class CustomRecord:
    """A record given as a whole: uploaded with PUT /_emulator/records/{id}, or one of the two
    records of the docs' list example.  Built from rawjson.loads output, so every value is
    served with the JSON text it was given in.  Sessions are kept as (session without
    segments, segments array) JSON fragments like generated ones; pages of 60 and 130."""
    page_sessions = 60

    def __init__(self, rid, doc, org_ctx=None, start=None, participant_ids=()):
        self.id = rid
        self.org_ctx = org_ctx          # fixed organizer_v2@odata.context text (docs list records)
        self.start = start              # startDateTime ticks or None
        self.participant_ids = list(participant_ids)
        self._fields = {k: v for k, v in doc.items()
                        if k not in ("sessions", "participants_v2") and not _is_annotation(k)}
        self._frags = []
        for sess in doc.get("sessions") or []:
            sess = dict(sess)
            segs = sess.pop("segments", None)
            self._frags.append((dumps(sess), dumps(segs if segs is not None else [])))
        self.n = len(self._frags)
        self._participants = list(doc.get("participants_v2") or [])

    def fields(self):
        return dict(self._fields)

    def list_fields(self):
        f = {"id": self._fields.get("id", self.id)}
        f.update((k, v) for k, v in self._fields.items() if k != "id")
        return f

    def frag(self, i):
        return self._frags[i]

    def participants(self):
        return self._participants

    def organizer_context(self, ver):
        if self.org_ctx is None:
            return None
        return self.org_ctx.replace("https://graph.microsoft.com/v1.0/", "https://graph.microsoft.com/%s/" % ver)

    def header(self):
        return {"id": self.id, "start": self.start, "participant_ids": self.participant_ids, "rec": self}


def parse_custom_record(rid, body):
    """PUT /_emulator/records/{id} body -> (CustomRecord, listed).  ValueError on a bad body."""
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    plain = json.loads(text)
    if not isinstance(plain, dict):
        raise ValueError("the body must be a JSON object (a callRecord)")
    raw = rawjson.loads(text)
    listed = plain.pop("listed", False)
    raw.pop("listed", None)
    if not isinstance(listed, bool):
        raise ValueError("'listed' must be true or false")
    bid = plain.get("id")
    if bid is not None and (not isinstance(bid, str) or bid.lower() != rid.lower()):
        raise ValueError("the id in the body (%r) differs from the id in the path (%s)" % (bid, rid))
    if "id" not in raw:
        raw = dict([("id", rid)] + list(raw.items()))
    sessions = plain.get("sessions")
    if sessions is not None:
        if not isinstance(sessions, list) or not all(isinstance(x, dict) for x in sessions):
            raise ValueError("'sessions' must be an array of session objects")
        for i, x in enumerate(sessions):
            if x.get("segments") is not None and not isinstance(x["segments"], list):
                raise ValueError("'segments' of session %d must be an array" % i)
    parts = plain.get("participants_v2")
    if parts is not None and (not isinstance(parts, list) or not all(isinstance(x, dict) for x in parts)):
        raise ValueError("'participants_v2' must be an array of participant objects")
    sdt = plain.get("startDateTime")
    start = dg.ticks_of(sdt) if isinstance(sdt, str) else None
    pids = [p["id"] for p in parts or [] if isinstance(p.get("id"), str)]
    return CustomRecord(rid, raw, None, start, pids), listed


class Store:
    def __init__(self, seed, nrec):
        self.seed = seed
        self.nrec = nrec
        self.users = dg.build_directory(seed)
        self._headers = {}
        self._hlock = threading.Lock()
        self._records = LRU(6)
        self._days = LRU(256)
        self._sorted = None
        self.fixture = FixtureRecord()
        self._dialout = LRU(16)
        self.lock = threading.Lock()
        self.custom = {}              # lower id -> (CustomRecord, listed); replaced, never mutated
        self.func_rows = {}           # fn code -> [row json]; replaced, never mutated
        # rendered 200 responses of the Graph endpoints.  Their bodies depend only on the request
        # and on the data the control API can change (custom records, function rows); every such
        # change bumps the generation, which is part of each key, and empties the cache.
        self.generation = 0
        self.pages = ByteLRU(PAGE_CACHE_BYTES, PAGE_CACHE_ITEM)
        # the docs' list example: two records served by GET {id}, not part of the list
        self.doclist = {}
        for item in rawjson.loads(_load_fixture(DOC_LIST_FILE))["value"]:
            rid = item["id"]
            self.doclist[rid.lower()] = CustomRecord(rid, item, org_ctx=item.get("organizer_v2@odata.context"))
        # the docs' getPstnCalls / getDirectRoutingCalls examples: (@odata.count, [(0, row json)])
        self.doc_fn = {}
        for fn, name in DOC_FN_FILES.items():
            doc = rawjson.loads(_load_fixture(name))
            self.doc_fn[fn] = (int(rawjson.value(doc["@odata.count"])),
                               [(dg.ticks_of(rawjson.value(r["startDateTime"])), dumps(r)) for r in doc["value"]])

    # ---- custom records and function rows (control API)
    def put_custom(self, rid, body):
        rec, listed = parse_custom_record(rid, body)
        with self.lock:
            d = dict(self.custom)
            d[rid.lower()] = (rec, listed)
            self.custom = d
            self._changed()

    def delete_custom(self, rid):
        with self.lock:
            if rid.lower() not in self.custom:
                return False
            d = dict(self.custom)
            del d[rid.lower()]
            self.custom = d
            self._changed()
            return True

    def put_func_rows(self, fn, body):
        text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
        if not isinstance(json.loads(text), list):
            raise ValueError("the body must be a JSON array of rows")
        rows = [dumps(r) for r in rawjson.loads(text)]
        with self.lock:
            d = dict(self.func_rows)
            d[fn] = rows
            self.func_rows = d
            self._changed()

    def delete_func_rows(self, fn=None):
        with self.lock:
            d = dict(self.func_rows)
            if fn is None:
                d.clear()
            else:
                d.pop(fn, None)
            if d != self.func_rows:
                self.func_rows = d
                self._changed()

    def reset_custom(self):
        with self.lock:
            # a reset with nothing custom changes no body: keep the cache warm (the benchmark
            # resets before each run of the same 100 pages)
            if self.custom or self.func_rows:
                self.custom = {}
                self.func_rows = {}
                self._changed()

    def _changed(self):
        """Called with self.lock held after custom or func_rows was replaced."""
        self.generation += 1
        self.pages.clear()

    # ---- records
    def header(self, k):
        h = self._headers.get(k)
        if h is None:
            h = dg.make_header(self.seed, self.nrec, k, self.users)
            with self._hlock:
                self._headers[k] = h
        return h

    def record(self, rid):
        c = self.custom.get(rid.lower())
        if c is not None:
            return c[0]
        d = self.doclist.get(rid.lower())
        if d is not None:
            return d
        if rid.lower() == FIXTURE_ID:
            return self.fixture
        k = dg.record_number(rid)
        if k is None or not (1 <= k <= self.nrec):
            return None
        return self._records.get(k, lambda: GeneratedRecord(self, self.header(k)))

    def all_headers_sorted(self):
        """Headers of every generated record, ordered by startDateTime then id."""
        if self._sorted is None:
            hs = [self.header(k) for k in range(1, self.nrec + 1)]
            hs.sort(key=lambda h: (h["start"], h["id"]))
            self._sorted = hs
        return self._sorted

    def list_headers(self):
        """What the list endpoint shows: the generated records plus the custom records uploaded
        with "listed": true (a custom record replaces a generated one with the same id), ordered
        by startDateTime (unparseable ones first), then id."""
        hs = self.all_headers_sorted()
        custom = self.custom
        if not custom:
            return hs
        out = [h for h in hs if h["id"].lower() not in custom]
        out.extend(rec.header() for rec, listed in custom.values() if listed)
        out.sort(key=lambda h: (-1 if h["start"] is None else h["start"], h["id"]))
        return out

    def list_fields(self, h):
        if "rec" in h:
            return h["rec"].list_fields()
        return dg.record_fields(h, self.users, "list")

    # ---- PSTN / direct routing
    def day_rows(self, fn, day, beta):
        def make():
            gen = _DAY_GEN[fn]
            out = []
            for t, row in gen(self.seed, day, self.users, beta):
                out.append((t, dg.DEC_RE.sub(r"\1", dumps(row))))
            return out
        return self._days.get((fn, day, beta), make)

    def fixed_count(self, fn, t_from, t_to):
        """@odata.count of a docs example page (getPstnCalls / getDirectRoutingCalls for
        2019-11-01..2019-12-01), or None when the rows are paged normally."""
        if fn in self.doc_fn and fn not in self.func_rows and (t_from, t_to) == DOC_FN_WINDOW:
            return self.doc_fn[fn][0]
        return None

    def log_rows(self, fn, t_from, t_to, beta):
        """(start ticks, row json) in the window; to inclusive, except for direct routing.
        Rows set with PUT /_emulator/function-rows/{name} win for any window; the docs window
        2019-11-01..2019-12-01 of getPstnCalls / getDirectRoutingCalls gives the docs rows."""
        over = self.func_rows.get(fn)
        if over is not None:
            return [(0, js) for js in over]
        if fn in self.doc_fn and (t_from, t_to) == DOC_FN_WINDOW:
            return list(self.doc_fn[fn][1])
        if fn in self.doc_fn and t_to < DOC_ERA_END:
            # before 2020 the tenant holds only the docs' example rows
            return [(t, js) for t, js in self.doc_fn[fn][1]
                    if t_from <= t and (t < t_to or (t == t_to and fn != "dr"))]
        if dg.LOG_WINDOW is not None:
            # the moving clock: rows only within the 90 days up to the emulator's start
            t_from, t_to = max(t_from, dg.LOG_WINDOW[0]), min(t_to, dg.LOG_WINDOW[1])
            if t_from > t_to:
                return []
        if fn == "dialout":
            return self.dialout_rows(t_from, t_to)
        if fn in ("sms", "blocked"):
            beta = True
        out = []
        d0, d1 = t_from // dg.DAY, t_to // dg.DAY
        for day in range(d0, d1 + 1):
            for t, js in self.day_rows(fn, day, beta):
                if t < t_from:
                    continue
                if t > t_to or (fn == "dr" and t == t_to):
                    continue
                out.append((t, js))
        return out

    def dialout_rows(self, t_from, t_to):
        def make():
            rows = []
            for day in range(t_from // dg.DAY, t_to // dg.DAY + 1):
                rows.extend(r for t, r in dg.pstn_day(self.seed, day, self.users, False) if t_from <= t <= t_to)
            return [(0, dg.DEC_RE.sub(r"\1", dumps(r))) for r in dg.dialout_report(rows)]
        return self._dialout.get((t_from, t_to), make)
