"""Record store for the Graph emulator: lazily generated records, LRU caches of
serialized session fragments, the docs-example record, PSTN/direct-routing days."""

import json
import os
import re
import threading
from collections import OrderedDict

import datagen as dg

FIXTURE_ID = "e523d2ed-2966-4b6b-925b-754a88034cc5"
FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
DOC_SESSIONS_LINK = ("https://graph.microsoft.com/v1.0/$metadata#communications/callRecords('" + FIXTURE_ID +
                     "')/sessions?$expand=segments&$skiptoken=abc")
_NEXTLINK_TAIL_RE = re.compile(r',\s*"@odata\.nextLink"\s*:\s*"[^"]*"')


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


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

    # ---- records
    def header(self, k):
        h = self._headers.get(k)
        if h is None:
            h = dg.make_header(self.seed, self.nrec, k, self.users)
            with self._hlock:
                self._headers[k] = h
        return h

    def record(self, rid):
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

    def list_fields(self, h):
        return dg.record_fields(h, self.users, "list")

    # ---- PSTN / direct routing
    def day_rows(self, fn, day, beta):
        def make():
            gen = dg.pstn_day if fn == "pstn" else dg.dr_day
            out = []
            for t, row in gen(self.seed, day, self.users, beta):
                out.append((t, dg.DEC_RE.sub(r"\1", dumps(row))))
            return out
        return self._days.get((fn, day, beta), make)

    def log_rows(self, fn, t_from, t_to, beta):
        """(start ticks, row json) in the window; PSTN: to inclusive, DR: to exclusive."""
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
