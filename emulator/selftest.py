#!/usr/bin/python3
"""Self-test of the Graph call-records emulator (standard library only).

Starts the emulator on an ephemeral port as a subprocess, exercises the Graph
and control endpoints, and prints "N passed, M failed" as its last line.
Exit status 0 only when nothing failed.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
EMU = os.path.join(HERE, "graph_emulator.py")
FIXTURES = os.path.join(HERE, "fixtures")
REC = "cafe0000-0000-4000-8000-%012d"
E523 = "e523d2ed-2966-4b6b-925b-754a88034cc5"
STREAM_KEYS = ["streamId", "streamDirection", "startDateTime", "endDateTime", "audioCodec", "videoCodec",
               "averageAudioDegradation", "averageAudioNetworkJitter", "maxAudioNetworkJitter", "averageJitter",
               "maxJitter", "averagePacketLossRate", "maxPacketLossRate", "averageRatioOfConcealedSamples",
               "maxRatioOfConcealedSamples", "averageRoundTripTime", "maxRoundTripTime",
               "averageBandwidthEstimate", "packetUtilization", "postForwardErrorCorrectionPacketLossRate",
               "isAudioForwardErrorCorrectionUsed", "wasMediaBypassed", "averageReceivedFrameRate",
               "averageVideoFrameRate", "averageVideoFrameLossPercentage", "averageVideoPacketLossRate",
               "averageFreezeDuration", "rmsFreezeDuration", "lowFrameRateRatio",
               "lowVideoProcessingCapabilityRatio"]

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


class Emu:
    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="emu-selftest-")
        self.port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([sys.executable, EMU, "--port", "0", "--port-file", self.port_file] +
                                     list(extra), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 15
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("emulator did not start: %s" % self.proc.stderr.read().decode())
            time.sleep(0.02)
        with open(self.port_file) as fh:
            txt = fh.read()
        assert re.fullmatch(r"\d+\n", txt), repr(txt)
        self.port = int(txt)
        self.base = "http://127.0.0.1:%d" % self.port
        self.token = None

    def req(self, method, url, body=None, headers=None, auth=True):
        if not url.startswith("http"):
            url = self.base + url
        h = dict(headers or {})
        if auth and self.token:
            h["Authorization"] = "Bearer " + self.token
        data = body.encode() if isinstance(body, str) else body
        rq = urllib.request.Request(url, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(rq, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def get(self, url, **kw):
        return self.req("GET", url, **kw)

    def getj(self, url, **kw):
        st, h, b = self.get(url, **kw)
        return st, json.loads(b) if b else None

    def post(self, url, body="", **kw):
        return self.req("POST", url, body, **kw)

    def form_token(self, **over):
        f = {"grant_type": "client_credentials", "client_id": "test-client", "client_secret": "test-secret",
             "scope": "http://127.0.0.1:%d/.default" % self.port}
        f.update(over)
        body = "&".join("%s=%s" % (k, urllib.request.quote(v, safe="")) for k, v in f.items() if v is not None)
        return self.post("/contoso/oauth2/v2.0/token", body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=False)

    def login(self):
        st, h, b = self.form_token()
        self.token = json.loads(b)["access_token"]
        return st, json.loads(b)

    def log(self):
        return self.get("/_emulator/log", auth=False)[2].decode()

    def reset(self):
        self.post("/_emulator/reset", auth=False)

    def stop(self):
        if self.proc.poll() is None:
            self.post("/_emulator/shutdown", auth=False)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return -1
        return self.proc.returncode


def collect_sessions(emu, url, headers=None):
    """Follow the expanded GET and then /sessions pages; returns (sessions, urls)."""
    st, doc = emu.getj(url, headers=headers)
    assert st == 200, (st, doc)
    sessions = list(doc.get("sessions", []))
    urls = [url]
    nxt = doc.get("sessions@odata.nextLink")
    while nxt:
        urls.append(nxt)
        st, page = emu.getj(nxt, headers=headers)
        assert st == 200, (st, page)
        sessions.extend(page["value"])
        nxt = page.get("@odata.nextLink")
    return sessions, urls


def main():
    t_start = time.time()
    emu = Emu("--seed", "42", "--fixed-time")
    try:
        for part in (run, run_additions, run_enum_members, run_signin, run_moving_clock):
            try:
                part(emu)
            except Exception as e:          # report, keep the summary line
                import traceback
                traceback.print_exc()
                check("no unexpected exception in %s" % part.__name__, False, repr(e))
    finally:
        rc = emu.stop()
        check("shutdown via control API exits 0", rc == 0, "rc=%r" % rc)
    print("elapsed %.1fs" % (time.time() - t_start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run_moving_clock(_emu):
    """The default clock moves: the records lie in the 29 days before the
    emulator started (the newest a few hours old), and the log functions
    hold the 90 days up to then and nothing later."""
    moving = Emu("--seed", "42")
    try:
        moving.login()
        started = time.time()
        st, doc = moving.getj("/_emulator/raw")
        starts = sorted(dg_ticks(r["startDateTime"]) / 1e7 for r in doc)
        ages_h = [(started - t) / 3600 for t in starts]
        check("moving clock: 50 records within the last 29 days, newest under 20 h old",
              st == 200 and len(doc) == 50 and 2 < min(ages_h) < 20 and max(ages_h) < 29 * 24 + 4,
              "newest %.1f h, oldest %.1f h" % (min(ages_h), max(ages_h)))
        st, rec = moving.getj("/v1.0/communications/callRecords/" + REC % 1 +
                              "?$expand=sessions($expand=segments)")
        k1 = rec["sessions"][0]
        stream = k1["segments"][0]["media"][0]["streams"][0]
        check("moving clock: record 1 keeps its shape and digits, moved with the clock",
              rec["startDateTime"].endswith(".2169889Z") and not rec["startDateTime"].startswith("2026-11-01") and
              k1["startDateTime"] == rec["startDateTime"] and stream["endDateTime"].endswith(".764Z") and
              dg_ticks(stream["startDateTime"]) - dg_ticks(rec["startDateTime"]) == 10_000_000,
              str((rec["startDateTime"], stream["startDateTime"])))
        day = 86400
        def window(a, b):
            return (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(a)),
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(b)))
        f, t = window(started - 7 * day, started + 7 * day)
        st, doc = moving.getj("/v1.0/communications/callRecords/getPstnCalls(fromDateTime=%s,toDateTime=%s)" % (f, t))
        rows = doc["value"]
        latest = max(dg_ticks(r["startDateTime"]) / 1e7 for r in rows)
        check("moving clock: PSTN rows of the last week, none after the start",
              st == 200 and len(rows) > 100 and latest <= started + 1, "latest %.0f, started %.0f" % (latest, started))
        f, t = window(started - 120 * day, started - 91 * day)
        st, doc = moving.getj("/v1.0/communications/callRecords/getPstnCalls(fromDateTime=%s,toDateTime=%s)" % (f, t))
        check("moving clock: no PSTN rows older than 90 days", st == 200 and doc["value"] == [], str(doc)[:200])
        st, doc = moving.getj("/v1.0/communications/callRecords?$filter=startDateTime%%20ge%%20%s" %
                              window(started - 7 * day, 0)[0])
        check("moving clock: the list filtered on the last 7 days has calls",
              st == 200 and 5 <= len(doc["value"]) <= 20, str(len(doc.get("value", []))))
    finally:
        moving.stop()


def dg_ticks(s):
    sys.path.insert(0, HERE)
    import datagen
    return datagen.ticks_of(s)


def run(emu):
    # ---------------------------------------------------------------- auth
    st, tok = emu.login()
    check("token: 200 + Bearer", st == 200 and tok["token_type"] == "Bearer" and tok["expires_in"] == 3599
          and tok["ext_expires_in"] == 3599 and len(tok["access_token"]) > 20, str(tok))
    st, h, b = emu.form_token()
    check("token: unique per request", json.loads(b)["access_token"] != emu.token)
    st, h, b = emu.form_token(scope="http://localhost:%d/.default" % emu.port)
    check("token: localhost scope accepted", st == 200)
    st, h, b = emu.form_token(client_secret="wr0ng-s3cret")
    d = json.loads(b)
    check("token: bad secret -> invalid_client AADSTS7000215", st == 401 and d["error"] == "invalid_client"
          and "AADSTS7000215" in d["error_description"] and d["error_codes"] == [7000215], b)
    check("token: secret never echoed", b"wr0ng-s3cret" not in b and b"test-secret" not in b)
    st, h, b = emu.form_token(grant_type="password")
    check("token: unsupported_grant_type", st == 400 and json.loads(b)["error"] == "unsupported_grant_type")
    st, h, b = emu.form_token(scope="https://graph.microsoft.com/.default")
    check("token: foreign scope rejected", st == 400 and json.loads(b)["error"] in ("invalid_scope",
                                                                                  "invalid_resource"))
    st, h, b = emu.form_token(client_id="nobody")
    check("token: unknown client", st == 400 and json.loads(b)["error"] == "unauthorized_client")
    st, h, b = emu.post("/fabrikam/oauth2/v2.0/token", "grant_type=client_credentials", auth=False)
    check("token: wrong tenant", st == 400 and "AADSTS90002" in json.loads(b)["error_description"])

    st, h, b = emu.get("/v1.0/communications/callRecords/" + REC % 1, auth=False)
    d = json.loads(b)
    check("401 without token", st == 401 and d["error"]["code"] == "InvalidAuthenticationToken"
          and set(d["error"]["innerError"]) >= {"date", "request-id", "client-request-id"}, b)
    st, h, b = emu.get("/v1.0/communications/callRecords/" + REC % 1, headers={"Authorization": "Bearer nope"},
                       auth=False)
    check("401 with unknown token", st == 401)
    st, h, b = emu.get("/v1.0/communications/callRecords/" + REC % 1, headers={"client-request-id": "abc-123"})
    check("headers: request-id, client-request-id echoed, content type", st == 200
          and h["client-request-id"] == "abc-123" and len(h["request-id"]) == 36
          and h["Content-Type"].startswith("application/json"))

    # ---------------------------------------------------------------- record 1
    st, doc = emu.getj("/v1.0/communications/callRecords/%s?$expand=sessions($expand=segments)" % (REC % 1))
    s = doc["sessions"]
    ok = (st == 200 and doc["type"] == "peerToPeer" and len(s) == 1 and len(s[0]["segments"]) == 1
          and len(s[0]["segments"][0]["media"]) == 1 and s[0]["segments"][0]["media"][0]["label"] == "main-audio"
          and "sessions@odata.nextLink" not in doc)
    check("record 1: 1 session / 1 segment / main-audio", ok)
    streams = s[0]["segments"][0]["media"][0]["streams"]
    check("record 1: 2 streams, every property non-null",
          [x["streamDirection"] for x in streams] == ["callerToCallee", "calleeToCaller"]
          and all(all(x.get(k) is not None for k in STREAM_KEYS) for x in streams))
    check("record 1: sample values", streams[0]["averageJitter"] == "PT0.016S"
          and streams[1]["averagePacketLossRate"] == 0.1234 and streams[0]["streamId"] == "1504545584")
    st, doc = emu.getj("/v1.0/communications/callRecords/" + REC % 1)
    check("GET without $expand: no sessions key, organizer_v2 inline", st == 200 and "sessions" not in doc
          and doc["organizer_v2"]["id"] == "821809f5-0000-0000-0000-3b5136c0e777")
    st, doc = emu.getj("/v1.0/communications/callRecords/%s?$select=id,startDateTime" % (REC % 1))
    check("$select keeps only selected + id", st == 200 and
          sorted(k for k in doc if not k.startswith("@")) == ["id", "startDateTime"], str(doc))

    # ---------------------------------------------------------------- record 2: 150 sessions, 3 requests
    emu.reset()
    url = "%s/v1.0/communications/callRecords/%s?$expand=sessions($expand=segments)" % (emu.base, REC % 2)
    sessions, urls = collect_sessions(emu, url)
    log = emu.log().splitlines()
    check("record 2: 150 sessions", len(sessions) == 150, str(len(sessions)))
    check("record 2: exactly 3 requests", len(log) == 3, "\n".join(log))
    nl_re = re.compile(r"^%s/v1\.0/communications/callRecords/%s/sessions\?\$expand=segments&\$skiptoken=[A-Za-z0-9_-]+$"
                       % (re.escape(emu.base), REC % 2))
    check("record 2: nextLinks point at /sessions?$expand=segments&$skiptoken=", len(urls) == 3 and
          all(nl_re.match(u) for u in urls[1:]), str(urls))
    check("record 2: every session has segments", all(len(x["segments"]) >= 1 for x in sessions))
    st, raw = emu.getj("/_emulator/raw/" + REC % 2, auth=False)
    check("record 2: paged result equals /_emulator/raw", raw["sessions"] == sessions)
    check("log format", log[0] == "GET /v1.0/communications/callRecords/%s?$expand=sessions($expand=segments) 200"
          % (REC % 2) and all(re.fullmatch(r"GET /v1\.0/\S+ 200", l) for l in log), "\n".join(log))
    sessions10, urls10 = collect_sessions(emu, url, headers={"Prefer": "odata.maxpagesize=10"})
    check("Prefer odata.maxpagesize=10 -> 15 requests", len(urls10) == 15 and sessions10 == sessions)
    st, doc = emu.getj("/v1.0/communications/callRecords/%s?$expand=sessions" % (REC % 2))
    check("$expand=sessions: no segments", st == 200 and len(doc["sessions"]) == 60 and
          all("segments" not in x for x in doc["sessions"]) and "$expand" not in doc["sessions@odata.nextLink"])
    st, doc = emu.getj("/v1.0/communications/callRecords/%s?$expand=participants_v2" % (REC % 2))
    st2, page = emu.getj(doc["participants_v2@odata.nextLink"])
    check("participants_v2: 130 inline + nextLink", len(doc["participants_v2"]) == 130 and
          len(page["value"]) == 10 and "@odata.nextLink" not in page)

    # ---------------------------------------------------------------- record 3: 6,000 sessions
    emu.reset()
    url = "%s/v1.0/communications/callRecords/%s?$expand=sessions($expand=segments)" % (emu.base, REC % 3)
    ta = time.time()
    st, h, b = emu.get(url.replace("sessions($expand", "sessions(%24expand"))   # not cached yet
    cold = time.time() - ta
    check("60-session expanded page, uncached, < 200 ms", st == 200 and cold < 0.2, "%.1f ms" % (cold * 1000))
    print("     uncached 60-session page: %.1f ms" % (cold * 1000))
    emu.reset()
    t0 = time.time()
    sessions, urls = collect_sessions(emu, url)
    t1 = time.time()
    n_log = len(emu.log().splitlines())
    check("record 3: 6000 sessions in 100 requests", len(sessions) == 6000 and len(urls) == 100 and n_log == 100,
          "%d sessions, %d urls, %d log" % (len(sessions), len(urls), n_log))
    check("record 3: benchmark shape", all(len(x["segments"]) == 1 and len(x["segments"][0]["media"]) == 1 and
                                           len(x["segments"][0]["media"][0]["streams"]) == 2 for x in sessions))
    t2 = time.time()
    collect_sessions(emu, url)
    t3 = time.time()
    print("     record 3: first pass %.2fs, cached pass %.2fs (100 requests)" % (t1 - t0, t3 - t2))
    # a single 60-session page (not yet cached: record 2 at offset 60 via a fresh record 7x? use record 3 cached)
    best = 1e9
    for _ in range(5):
        ta = time.time()
        st, h, b = emu.get(urls[50])
        best = min(best, time.time() - ta)
    check("60-session expanded page < 50 ms (cached)", st == 200 and best < 0.05, "%.1f ms" % (best * 1000))
    print("     60-session page: %.1f ms, %d bytes" % (best * 1000, len(b)))

    # ---------------------------------------------------------------- records 4, 5
    st, doc = emu.getj("/v1.0/communications/callRecords/%s?$expand=sessions($expand=segments)" % (REC % 4))
    ids = [x["id"] for x in doc["sessions"]]
    labels = {m["label"] for x in doc["sessions"] for g in x["segments"] for m in g["media"]}
    check("record 4: 5 sessions, repeated id, 2-3 segments, audio+video+screen",
          len(ids) == 5 and len(set(ids)) == 4 and max(len(x["segments"]) for x in doc["sessions"]) == 3
          and labels == {"main-audio", "main-video", "applicationsharing-video"})
    st, doc = emu.getj("/v1.0/communications/callRecords/%s?$expand=sessions($expand=segments)" % (REC % 5))
    check("record 5: empty sessions, no nextLink", st == 200 and doc["sessions"] == [] and
          "sessions@odata.nextLink" not in doc)
    st, doc = emu.getj("/beta/communications/callRecords/%s/sessions" % (REC % 5))
    check("beta /sessions of record 5: empty value", st == 200 and doc["value"] == [] and "/beta/" in
          doc["@odata.context"])

    # ---------------------------------------------------------------- errors
    st, doc = emu.getj("/v1.0/communications/callRecords/" + REC % 999)
    check("404 unknown record: Graph shape", st == 404 and doc["error"]["code"] == "NotFound" and
          doc["error"]["message"].startswith("Could not find the requested call record."), str(doc))
    st, doc = emu.getj("/v1.0/communications/callRecords/%s/sessions?$expand=segments)" % (REC % 2))
    check("400 malformed $expand", st == 400 and doc["error"]["code"] == "BadRequest" and
          doc["error"]["message"] == "Parsing OData Select and Expand failed: Term 'segments)' is not valid in a "
                                     "$select or $expand expression.", str(doc))
    st, doc = emu.getj("/v1.0/communications/callRecords/%s?$expand=sessions($expand=segments)&$expand=sessions"
                       % (REC % 2))
    check("400 repeated query option", st == 400)
    st, doc = emu.getj("/v1.0/nothing/here")
    check("404 unknown path", st == 404 and "error" in doc)

    # ---------------------------------------------------------------- list + filter
    allrecs, nxt, pages = [], "/v1.0/communications/callRecords", 0
    while nxt:
        st, doc = emu.getj(nxt, headers={"Prefer": "odata.maxpagesize=20"})
        allrecs += doc["value"]
        nxt = doc.get("@odata.nextLink")
        pages += 1
    check("list: 50 records in 3 pages of 20", len(allrecs) == 50 and pages == 3 and
          all("sessions" not in r and "organizer_v2" in r for r in allrecs))
    lo, hi = "2026-11-05T00:00:00Z", "2026-11-10T00:00:00Z"
    st, doc = emu.getj("/v1.0/communications/callRecords?%24filter=startDateTime%20ge%20" + lo +
                       "%20and%20startDateTime%20lt%20" + hi)
    want = sorted(r["id"] for r in allrecs if lo <= r["startDateTime"][:19] + "Z" < hi)
    check("list: startDateTime filter", st == 200 and sorted(r["id"] for r in doc["value"]) == want and want,
          "%d vs %d" % (len(doc.get("value", [])), len(want)))
    st, doc = emu.getj("/v1.0/communications/callRecords?$filter=participants_v2/any(p:p/id%20eq%20"
                       "'821809f5-0000-0000-0000-3b5136c0e777')")
    got = {r["id"] for r in doc["value"]}
    check("list: participant filter", st == 200 and {REC % 1, REC % 2, REC % 4} <= got and len(got) < 50, str(got))
    st, doc = emu.getj("/v1.0/communications/callRecords?$filter=startDateTime+ge+2026-11-05T00:00:00Z")
    check("list: '+' is not a space -> 400", st == 400 and doc["error"]["code"] == "BadRequest")
    st, doc = emu.getj("/v1.0/communications/callRecords?$filter=endDateTime%20ge%202026-11-05T00:00:00Z")
    check("list: unsupported filter -> 400 BadRequest", st == 400 and doc["error"]["code"] == "BadRequest")

    # ---------------------------------------------------------------- PSTN / direct routing
    fn = "/v1.0/communications/callRecords/getPstnCalls(fromDateTime=2026-11-01T00:00:00Z,toDateTime=2026-12-01T00:00:00Z)"
    rows, nxt, counts = [], fn, []
    while nxt:
        st, doc = emu.getj(nxt)
        assert st == 200, doc
        rows += doc["value"]
        counts.append(doc["@odata.count"])
        nl = doc.get("@odata.nextLink")
        if nl:
            check("pstn: nextLink uses $skip", nl.endswith("?$skip=%d" % (1000 * len(counts))), nl)
        nxt = nl
    st, oracle = emu.getj("/_emulator/raw/getPstnCalls(fromDateTime=2026-11-01T00:00:00Z,toDateTime=2026-12-01T00:00:00Z)",
                          auth=False)
    check("pstn: several pages of 1000, count = page size", len(counts) >= 3 and
          all(c == 1000 for c in counts[:-1]) and counts[-1] == len(rows) - 1000 * (len(counts) - 1), str(counts))
    check("pstn: pages equal oracle", rows == oracle and len(set(r["id"] for r in rows)) == len(rows))
    st, h, b = emu.get(fn)
    check("pstn: charge serialized as decimal", re.search(rb'"charge":\d+\.\d\d[,}]', b) is not None)
    st, doc = emu.getj("/v1.0/communications/callRecords/getPstnCalls(fromDateTime=2026-01-01T00:00:00Z,"
                       "toDateTime=2026-11-01T00:00:00Z)")
    check("pstn: window > 90 days -> 406", st == 406)
    st, doc = emu.getj("/v1.0/communications/callRecords/microsoft.graph.callRecords.getDirectRoutingCalls("
                       "fromDateTime=2026-11-02T00:00:00Z,toDateTime=2026-11-03T00:00:00Z)")
    dr = doc["value"]
    check("direct routing: rows, sentinel failureDateTime", st == 200 and dr and
          any(r["failureDateTime"] == "0001-01-01T00:00:00Z" and r["successfulCall"] for r in dr) and
          any(not r["successfulCall"] for r in dr))
    t_last = dr[-1]["startDateTime"]
    st, doc = emu.getj("/v1.0/communications/callRecords/getDirectRoutingCalls(fromDateTime=2026-11-02T00:00:00Z,"
                       "toDateTime=%s)" % t_last)
    check("direct routing: toDateTime exclusive", st == 200 and len(doc["value"]) == len(dr) - 1)

    # ---------------------------------------------------------------- log function limits
    emu.reset()
    emu.post("/_emulator/config", json.dumps({"throttle": {"window_s": 20, "tenant_limit": 1,
                                                           "log_window_s": 60, "log_function_limit": 2}}), auth=False)
    pstn = "/v1.0/communications/callRecords/getPstnCalls(fromDateTime=2026-11-02T00:00:00Z,toDateTime=2026-11-02T01:00:00Z)"
    drc = "/v1.0/communications/callRecords/getDirectRoutingCalls(fromDateTime=2026-11-02T00:00:00Z,toDateTime=2026-11-02T01:00:00Z)"
    codes = [emu.get(pstn)[0] for _ in range(3)] + [emu.get(drc)[0]]
    check("throttle: log functions counted per function, apart from the call records' tenant window",
          codes == [200, 200, 429, 200], codes)
    emu.post("/_emulator/config", json.dumps({"throttle": None}), auth=False)

    # ---------------------------------------------------------------- faults
    emu.reset()
    r = emu.post("/_emulator/faults", json.dumps({"match": "/sessions?", "status": 429, "times": 1,
                                                  "retry_after": 2}), auth=False)
    check("faults: rule accepted", r[0] == 200 and r[2] == b"ok\n")
    link = "/v1.0/communications/callRecords/%s/sessions?$expand=segments" % (REC % 2)
    st, h, b = emu.get(link)
    d = json.loads(b)
    check("faults: 429 with Retry-After and throttling body", st == 429 and h["Retry-After"] == "2" and
          d["error"]["code"] == "activityLimitReached" and d["error"]["innerError"]["code"] == "throttledRequest")
    st, h, b = emu.get(link)
    check("faults: times=1 consumed", st == 200)
    emu.post("/_emulator/faults", json.dumps({"match": REC % 1, "body": "truncated-json"}), auth=False)
    st, h, b = emu.get("/v1.0/communications/callRecords/" + REC % 1)
    try:
        json.loads(b)
        trunc = False
    except ValueError:
        trunc = True
    check("faults: truncated-json", st == 200 and trunc and len(b) > 10)
    emu.post("/_emulator/faults", json.dumps({"match": "", "next_link": "http://127.0.0.1:1/loop"}), auth=False)
    st, doc = emu.getj("/v1.0/communications/callRecords/%s?$expand=sessions" % (REC % 2))
    check("faults: next_link override", doc.get("sessions@odata.nextLink") == "http://127.0.0.1:1/loop")
    emu.post("/_emulator/faults", json.dumps({"match": "", "status": 503, "times": -1}), auth=False)
    a = emu.get("/v1.0/communications/callRecords")[0]
    b2 = emu.get("/v1.0/communications/callRecords")[0]
    emu.req("DELETE", "/_emulator/faults", auth=False)
    c = emu.get("/v1.0/communications/callRecords")[0]
    check("faults: times=-1 until DELETE", (a, b2, c) == (503, 503, 200), str((a, b2, c)))
    st, h, b = emu.req("POST", "/_emulator/faults", json.dumps({"match": "x", "bogus": 1}), auth=False)
    check("faults: unknown key rejected", st == 400)
    log = emu.log()
    check("log: statuses recorded in order", log.splitlines()[:3] == [
        "GET %s 429" % link, "GET %s 200" % link, "GET /v1.0/communications/callRecords/%s 200" % (REC % 1)], log)

    emu.reset()
    emu.get("/v1.0/communications/callRecords/a%09b\\c")
    emu.get("/_emulator/log", auth=False)
    log = emu.log()
    check("log: tab/backslash escaped, control requests not logged",
          log == "GET /v1.0/communications/callRecords/a%09b%5Cc 404\n", repr(log))

    # ---------------------------------------------------------------- latency / token lifetime config
    emu.post("/_emulator/config", json.dumps({"latency_ms": 150}), auth=False)
    ta = time.time()
    emu.get("/v1.0/communications/callRecords/" + REC % 1)
    slow = time.time() - ta
    emu.reset()
    ta = time.time()
    emu.get("/v1.0/communications/callRecords/" + REC % 1)
    fast = time.time() - ta
    check("config latency_ms, reset restores", slow >= 0.15 and fast < 0.1, "%.3f %.3f" % (slow, fast))
    emu.post("/_emulator/config", json.dumps({"token_lifetime": 1}), auth=False)
    st, tok = emu.login()
    ok1 = emu.get("/v1.0/communications/callRecords/" + REC % 1)[0]
    time.sleep(1.1)
    st2, h, b = emu.get("/v1.0/communications/callRecords/" + REC % 1)
    check("token lifetime: expired token -> 401", tok["expires_in"] == 1 and ok1 == 200 and st2 == 401 and
          b"expired" in b)
    emu.reset()
    emu.login()

    # ---------------------------------------------------------------- docs example record
    with open(os.path.join(FIXTURES, "v1-get-callrecord-expanded.json"), encoding="utf-8") as fh:
        fx = fh.read()
    st, h, b = emu.get("/v1.0/communications/callRecords/%s?$expand=sessions($expand=segments)" % E523)
    body = b.decode()
    m = re.search(r'"sessions@odata.nextLink": "([^"]+)"', body)
    check("e523: expanded GET = fixture except nextLink", m is not None and
          body.replace(m.group(1), "X") == re.sub(r'("sessions@odata.nextLink": ")[^"]+', r"\1X", fx))
    st, h, b = emu.get(m.group(1))
    check("e523: nextLink page keeps duplicated @odata.type key", st == 200 and
          b.count(b'"@odata.type": "#microsoft.graph.callRecords.participantEndpoint",\n                        '
                  b'"@odata.type"') == 1 and b"@odata.nextLink" not in b)

    # ---------------------------------------------------------------- determinism
    st, h, b4 = emu.get("/v1.0/communications/callRecords/%s?$expand=sessions($expand=segments)" % (REC % 4))
    raw4 = emu.get("/_emulator/raw/" + REC % 4, auth=False)[2]
    other = Emu("--seed", "42", "--fixed-time")
    try:
        other.login()
        st, h, c4 = other.get("/v1.0/communications/callRecords/%s?$expand=sessions($expand=segments)" % (REC % 4))
        craw4 = other.get("/_emulator/raw/" + REC % 4, auth=False)[2]
        norm = lambda x, e: x.replace(e.base.encode(), b"BASE")
        check("determinism: same seed, identical record 4 bodies", norm(b4, emu) == norm(c4, other) and
              raw4 == craw4 and len(raw4) > 1000)
        other.proc.send_signal(signal.SIGTERM)
        check("SIGTERM exits cleanly", other.proc.wait(10) == 0)
    finally:
        if other.proc.poll() is None:
            other.proc.kill()
    third = Emu("--seed", "7", "--fixed-time")
    try:
        d3 = third.get("/_emulator/raw/" + REC % 4, auth=False)[2]
        check("determinism: other seed differs", d3 != raw4)
    finally:
        third.stop()


NOV = "fromDateTime=2026-11-01T00:00:00Z,toDateTime=2026-12-01T00:00:00Z"
CR = "/%s/communications/callRecords"


def collect_rows(emu, url):
    """Follow a log function's pages -> (rows, counts, nextLinks, raw bodies)."""
    rows, counts, links, bodies = [], [], [], []
    while url:
        st, h, b = emu.get(url)
        assert st == 200, (url, st, b[:300])
        doc = json.loads(b)
        bodies.append(b)
        rows += doc["value"]
        counts.append(doc["@odata.count"])
        url = doc.get("@odata.nextLink")
        if url:
            links.append(url)
    return rows, counts, links, bodies


def run_additions(emu):
    """Beta-only functions and columns, docs fixtures of the list/function examples,
    custom records and function rows (control API)."""
    emu.reset()
    emu.login()

    # ---------------------------------------------------------------- beta-only functions
    url = CR % "beta" + "/getSmsLog(%s)" % NOV
    rows, counts, links, bodies = collect_rows(emu, url)
    st, oracle = emu.getj("/_emulator/raw/getSmsLog(%s)" % NOV, auth=False)
    check("getSmsLog: > 1000 rows in November, pages of 1000, count = page size",
          len(rows) > 1000 and len(counts) >= 2 and counts[0] == 1000 and counts[-1] == len(rows) - 1000 * (len(counts) - 1),
          "%d rows %s" % (len(rows), counts))
    check("getSmsLog: nextLink with $skip, pages equal oracle", links and links[0] == emu.base + url + "?$skip=1000"
          and rows == oracle, str(links))
    sms_keys = ["id", "smsId", "userId", "userPrincipalName", "userDisplayName", "userCountryCode",
                "tenantCountryCode", "sourceNumber", "destinationNumber", "sentDateTime", "callCharge", "currency",
                "smsType", "destinationContext", "destinationName", "otherPartyCountryCode", "licenseCapability",
                "smsUnits", "administrativeUnitInfos"]
    check("getSmsLog: smsLogRow + callLogRow properties", all(list(r) == sms_keys for r in rows) and
          {r["smsType"] for r in rows} == {"sms_in", "sms_out"} and
          any(r["administrativeUnitInfos"] for r in rows) and
          all(NOV[13:23] <= r["sentDateTime"][:10] < "2026-12-01" for r in rows), str(rows[0]))
    check("getSmsLog: callCharge is a JSON decimal", re.search(rb'"callCharge":\d+\.\d\d,', bodies[0]) is not None)
    st, doc = emu.getj(CR % "beta" + "/microsoft.graph.callRecords.getSmsLog(fromDateTime=2026-11-03,"
                       "toDateTime=2026-11-04)")
    check("getSmsLog: qualified name and bare dates", st == 200 and doc["value"] and "@odata.nextLink" not in doc and
          doc["@odata.context"].endswith("/beta/$metadata#Collection(microsoft.graph.callRecords.smsLogRow)"))
    for fname in ("getSmsLog", "microsoft.graph.callRecords.getPstnBlockedUsersLog",
                  "getPstnOnlineMeetingDialoutReport"):
        st, doc = emu.getj(CR % "v1.0" + "/%s(%s)" % (fname, NOV))
        check("v1.0 %s -> 400 BadRequest, unknown segment" % fname, st == 400 and
              doc["error"]["code"] == "BadRequest" and
              doc["error"]["message"] == "Resource not found for the segment '%s'." % fname, str(doc))
    st, doc = emu.getj(CR % "beta" + "/getSmsLog(fromDateTime=2026-06-01T00:00:00Z,toDateTime=2026-11-01T00:00:00Z)")
    check("getSmsLog: window > 90 days -> 406", st == 406 and doc["error"]["code"] == "NotAcceptable")

    brows, counts, links, bodies = collect_rows(emu, CR % "beta" + "/getPstnBlockedUsersLog(%s)" % NOV)
    check("getPstnBlockedUsersLog: rows in docs key order, capitalised userBlockMode", brows and not links and
          counts == [len(brows)] and all(list(r) == ["userId", "userPrincipalName", "userDisplayName",
                                                     "blockDateTime", "userTelephoneNumber", "userBlockMode",
                                                     "blockReason", "remediationId"] for r in brows) and
          {r["userBlockMode"] for r in brows} == {"Blocked", "Unblocked"} and
          all("2026-11-01" <= r["blockDateTime"][:10] < "2026-12-01" for r in brows), str(brows[:1]))
    drows, counts, links, bodies = collect_rows(emu, CR % "beta" + "/getPstnOnlineMeetingDialoutReport(%s)" % NOV)
    st, pstn = emu.getj("/_emulator/raw/getPstnCalls(%s)" % NOV, auth=False)
    agg = {}
    for r in pstn:
        if r["callType"] == "conf_out":
            a = agg.setdefault((r["userId"], r["usageCountryCode"], r["destinationContext"], r["currency"]),
                               [0, 0, 0])
            a[0] += 1
            a[1] += r["duration"]
            a[2] += round((r["charge"] + r["connectionCharge"]) * 100)
    got = {(r["userId"], r["usageLocation"], r["destinationContext"], r["currency"]):
           [r["totalCalls"], r["totalCallSeconds"], round(r["totalCallCharge"] * 100)] for r in drows}
    check("getPstnOnlineMeetingDialoutReport: one row per organizer/location/context/currency of the conf_out "
          "PSTN calls", drows and 20 < len(drows) < 1000 and got == agg and len(got) == len(drows) and
          list(drows[0]) == ["userId", "userPrincipalName", "userDisplayName", "usageLocation", "destinationContext",
                             "currency", "totalCalls", "totalCallCharge", "totalCallSeconds"], str(drows[:1]))
    check("dial-out report: totalCallCharge is a JSON decimal", re.search(rb'"totalCallCharge":\d+\.\d\d,', bodies[0])
          is not None)

    # ---------------------------------------------------------------- beta-only columns
    v1, _, _, _ = collect_rows(emu, CR % "v1.0" + "/getPstnCalls(fromDateTime=2026-11-02T00:00:00Z,"
                                                  "toDateTime=2026-11-03T00:00:00Z)")
    b1, _, _, _ = collect_rows(emu, CR % "beta" + "/getPstnCalls(fromDateTime=2026-11-02T00:00:00Z,"
                                                  "toDateTime=2026-11-03T00:00:00Z)")
    extra = ["otherPartyCountryCode", "administrativeUnitInfos", "clientLocalIpV4Address", "clientLocalIpV6Address",
             "clientPublicIpV4Address", "clientPublicIpV6Address"]
    check("pstn: /beta rows = /v1.0 rows + the 6 beta columns", v1 and len(v1) == len(b1) and
          all(list(b.items())[:len(a)] == list(a.items()) and list(b)[len(a):] == extra for a, b in zip(v1, b1)) and
          not any(k in a for a in v1 for k in extra))
    v1, _, _, _ = collect_rows(emu, CR % "v1.0" + "/getDirectRoutingCalls(fromDateTime=2026-11-02T00:00:00Z,"
                                                  "toDateTime=2026-11-03T00:00:00Z)")
    b1, _, _, _ = collect_rows(emu, CR % "beta" + "/getDirectRoutingCalls(fromDateTime=2026-11-02T00:00:00Z,"
                                                  "toDateTime=2026-11-03T00:00:00Z)")
    extra = ["userCountryCode", "transferorCorrelationId", "otherPartyCountryCode", "administrativeUnitInfos"]
    check("direct routing: /beta rows = /v1.0 rows + the 4 beta columns", v1 and len(v1) == len(b1) and
          all(list(b.items())[:len(a)] == list(a.items()) and list(b)[len(a):] == extra for a, b in zip(v1, b1)) and
          any(b["transferorCorrelationId"] for b in b1))

    # ---------------------------------------------------------------- docs examples: functions and list
    def fixture(name):
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as fh:
            return fh.read()

    def compact_values(text):
        """The fixture's value rows as compact JSON text, numbers as written."""
        return [re.sub(r'"@NUM@([^"]*)@"', r"\1", json.dumps(r, separators=(",", ":"), ensure_ascii=False))
                for r in json.loads(text, parse_float=lambda x: "@NUM@%s@" % x)["value"]]

    for fname, fx in (("getPstnCalls", "v1-getpstncalls.json"), ("getDirectRoutingCalls", "v1-getdirectroutingcalls.json")):
        want_rows = compact_values(fixture(fx))
        for ver, args in (("v1.0", "fromDateTime=2019-11-01T00:00:00Z,toDateTime=2019-12-01T00:00:00Z"),
                          ("v1.0", "fromDateTime=2019-11-01,toDateTime=2019-12-01"),
                          ("beta", "fromDateTime=2019-11-01,toDateTime=2019-12-01")):
            st, h, b = emu.get(CR % ver + "/%s(%s)" % (fname, args))
            doc = json.loads(b)
            check("docs window %s %s (%s): fixture rows verbatim, count 1000, no nextLink" % (ver, fname, args[13:23]),
                  st == 200 and doc["@odata.count"] == 1000 and "@odata.nextLink" not in doc and
                  b.decode().endswith(',"value":[' + ",".join(want_rows) + "]}") and
                  doc["value"] == json.loads(fixture(fx))["value"], b[:300])
    st, h, b = emu.get(CR % "v1.0" + "/getPstnCalls(fromDateTime=2019-11-01,toDateTime=2019-12-01)")
    check("docs window: charge keeps the text 0.00", b'"charge":0.00,' in b)

    listfx = json.loads(fixture("v1-list-callrecords.json"))
    for item in listfx["value"]:
        rid = item["id"]
        st, h, b = emu.get(CR % "v1.0" + "/" + rid)
        doc = json.loads(b)
        ctxv = doc.pop("@odata.context", None)
        check("docs list record %s: GET = fixture object + @odata.context" % rid[:8], st == 200 and doc == item and
              list(doc) == list(item) and ctxv == emu.base + "/v1.0/$metadata#communications/callRecords/$entity" and
              list(json.loads(b)) == ["@odata.context"] + list(item), b[:300])
        st, doc = emu.getj(CR % "v1.0" + "/%s?$expand=sessions($expand=segments)" % rid)
        st2, doc2 = emu.getj(CR % "beta" + "/%s?$expand=participants_v2" % rid)
        st3, page = emu.getj(CR % "v1.0" + "/%s/sessions?$expand=segments" % rid)
        check("docs list record %s: sessions [], participants_v2 [], /sessions empty" % rid[:8],
              doc["sessions"] == [] and "sessions@odata.nextLink" not in doc and doc2["participants_v2"] == [] and
              "/beta/" in doc2["organizer_v2@odata.context"] and page["value"] == [] and
              {k: v for k, v in doc.items() if "@" not in k and k != "sessions"} ==
              {k: v for k, v in item.items() if "@" not in k})
        st, raw = emu.getj("/_emulator/raw/" + rid, auth=False)
        check("docs list record %s: /_emulator/raw" % rid[:8], st == 200 and raw["sessions"] == [] and
              raw["participants_v2"] == [] and raw["organizer_v2"] == item["organizer_v2"])
    st, raw_list = emu.getj("/_emulator/raw", auth=False)
    check("docs list records are not in the list", len(raw_list) == 50 and
          not {r["id"] for r in raw_list} & {i["id"] for i in listfx["value"]})

    # ---------------------------------------------------------------- custom records
    cid = "c0570000-0000-4000-8000-00000000c001"
    seg = {"startDateTime": "2026-11-10T10:00:00Z", "endDateTime": "2026-11-10T10:05:00Z", "id": "seg",
           "caller": None, "callee": None, "failureInfo": None,
           "media": [{"label": "main-audio", "callerNetwork": None, "calleeNetwork": None, "callerDevice": None,
                      "calleeDevice": None, "streams": [{"streamId": "1", "streamDirection": "callerToCallee",
                                                          "averageJitter": "@JITTER@", "packetUtilization": "@BIG@",
                                                          "averagePacketLossRate": "@HUGE@",
                                                          "maxPacketLossRate": "@STR@",
                                                          "averageRatioOfConcealedSamples": "@DEC@"}]}]}
    sessions = []
    for i in range(70):
        s_ = {"id": "5e55c001-0000-4000-8000-%012d" % i, "modalities": ["audio"], "isTest": False,
              "startDateTime": "2026-11-10T10:00:00Z", "endDateTime": "2026-11-10T10:05:00Z",
              "caller": None, "callee": None, "failureInfo": None, "segments": [dict(seg, id="5e69c001-%d" % i)]}
        sessions.append(s_)
    parts = [{"id": "p%03d" % i, "identity": {"user": {"id": "p%03d" % i, "displayName": "P %d" % i,
                                                        "tenantId": None}}} for i in range(140)]
    rec = {"version": 3, "type": "groupCall", "modalities": ["audio"], "lastModifiedDateTime": "2026-11-10T11:00:00Z",
           "startDateTime": "2026-11-10T10:00:00.5Z", "endDateTime": "2026-11-10T10:05:00Z", "id": cid,
           "joinWebUrl": None, "organizer": None,
           "organizer_v2": {"id": "p000", "identity": {"user": {"id": "p000", "displayName": "P 0", "tenantId": None}}},
           "participants_v2": parts, "sessions": sessions}
    body = json.dumps(rec).replace('"@JITTER@"', '"-PT0.5S"').replace('"@BIG@"', "4294967296").replace(
        '"@HUGE@"', "1e400").replace('"@STR@"', '"12"').replace('"@DEC@"', "0.10")
    r = emu.req("PUT", "/_emulator/records/" + cid, body, auth=False)
    check("custom record: PUT -> ok", r[0] == 200 and r[2] == b"ok\n", r[2])
    url = emu.base + CR % "v1.0" + "/%s?$expand=sessions($expand=segments)" % cid
    st, h, b = emu.get(url)
    check("custom record: values keep their JSON text", st == 200 and b'"averageJitter":"-PT0.5S"' in b and
          b'"packetUtilization":4294967296' in b and b'"averagePacketLossRate":1e400' in b and
          b'"maxPacketLossRate":"12"' in b and b'"averageRatioOfConcealedSamples":0.10' in b and
          b'"version":3' in b and b'"startDateTime":"2026-11-10T10:00:00.5Z"' in b, b[:200])
    emu.reset()          # removes the custom record; it is uploaded again below
    st, doc = emu.getj(CR % "v1.0" + "/" + cid)
    check("custom record: POST /_emulator/reset removes it", st == 404 and doc["error"]["code"] == "NotFound")
    emu.req("PUT", "/_emulator/records/" + cid, body, auth=False)
    n_before = len(emu.log().splitlines())
    got, urls = collect_sessions(emu, url)
    log = emu.log().splitlines()[n_before:]
    st, h, rawb = emu.get("/_emulator/raw/" + cid, auth=False)
    raw_doc = json.loads(rawb)
    check("custom record: 60 inline + nextLink to /sessions (10), equal to raw", len(got) == 70 and len(urls) == 2 and
          len(log) == 2 and "/%s/sessions?$expand=segments&$skiptoken=" % cid in urls[1] and
          got == raw_doc["sessions"] and [x["id"] for x in got] == [x["id"] for x in sessions], str(urls))
    check("custom record: raw keeps the texts, listed/sessions shape", b'"packetUtilization":4294967296' in rawb and
          b"1e400" in rawb and raw_doc["participants_v2"] == parts and "listed" not in raw_doc)
    st, doc = emu.getj(CR % "v1.0" + "/%s?$expand=sessions" % cid)
    check("custom record: $expand=sessions without segments", len(doc["sessions"]) == 60 and
          all("segments" not in x for x in doc["sessions"]) and "$expand" not in doc["sessions@odata.nextLink"])
    st, doc = emu.getj(CR % "v1.0" + "/%s?$expand=participants_v2" % cid)
    st2, page = emu.getj(doc["participants_v2@odata.nextLink"])
    check("custom record: participants_v2 130 + 10", len(doc["participants_v2"]) == 130 and len(page["value"]) == 10
          and doc["participants_v2"] + page["value"] == parts and "@odata.nextLink" not in page)
    st, doc = emu.getj(CR % "v1.0" + "/%s?$select=id,version" % cid)
    check("custom record: $select", sorted(k for k in doc if not k.startswith("@")) == ["id", "version"])
    st, h, b = emu.get(CR % "beta" + "/%s/sessions?$select=id,isTest&$expand=segments" % cid,
                       headers={"Prefer": "odata.maxpagesize=5"})
    doc = json.loads(b)
    check("custom record: /sessions with $select, Prefer maxpagesize", len(doc["value"]) == 5 and
          list(doc["value"][0]) == ["id", "isTest", "segments"] and b"1e400" in b and "@odata.nextLink" in doc)
    st, h, b = emu.get(url, headers={"Prefer": "omit-values=nulls"})
    check("custom record: omit-values=nulls keeps number texts", st == 200 and b"1e400" in b and
          b"4294967296" in b and b'"caller"' not in b)
    st, lst = emu.getj("/_emulator/raw", auth=False)
    check("custom record: not listed by default", cid not in {r["id"] for r in lst})
    st, h, b = emu.get(CR % "v1.0" + "/" + cid + "/organizer_v2")
    check("custom record: organizer_v2", st == 200 and json.loads(b)["id"] == "p000")

    listed = dict(json.loads(body), listed=True)
    listed_body = json.dumps(listed).replace("Infinity", "1e400")
    r = emu.req("PUT", "/_emulator/records/" + cid, listed_body, auth=False)
    allrecs, nxt = [], CR % "v1.0"
    while nxt:
        st, doc = emu.getj(nxt)
        allrecs += doc["value"]
        nxt = doc.get("@odata.nextLink")
    ids = [x["id"] for x in allrecs]
    starts = [x["startDateTime"] for x in allrecs]
    mine = [x for x in allrecs if x["id"] == cid]
    check("custom record listed: in the list, sorted by startDateTime, no 'listed' key", r[0] == 200 and
          len(allrecs) == 51 and len(mine) == 1 and "listed" not in mine[0] and "sessions" not in mine[0] and
          "participants_v2" not in mine[0] and list(mine[0])[0] == "id" and
          starts.index("2026-11-10T10:00:00.5Z") == ids.index(cid) and
          all(a[:19] <= b_[:19] for a, b_ in zip(starts, starts[1:])), str(mine[:1])[:300])
    st, doc = emu.getj(CR % "v1.0" + "?$filter=participants_v2/any(p:p/id%20eq%20'p139')")
    st2, doc2 = emu.getj(CR % "v1.0" + "?$filter=startDateTime%20ge%202026-11-10T10:00:00Z%20and%20"
                         "startDateTime%20lt%202026-11-10T10:00:01Z")
    check("custom record listed: filterable", [x["id"] for x in doc["value"]] == [cid] and
          cid in [x["id"] for x in doc2["value"]])
    st, raw_all = emu.getj("/_emulator/raw", auth=False)
    check("custom record listed: in /_emulator/raw list", [x["id"] for x in raw_all] == ids)
    r = emu.req("DELETE", "/_emulator/records/" + cid, auth=False)
    st, doc = emu.getj(CR % "v1.0" + "/" + cid)
    r2 = emu.req("DELETE", "/_emulator/records/" + cid, auth=False)
    st3, lst = emu.getj("/_emulator/raw", auth=False)
    check("custom record: DELETE -> ok, then 404 and gone from the list", r[0] == 200 and r[2] == b"ok\n" and
          st == 404 and r2[0] == 404 and len(lst) == 50)
    r = emu.req("PUT", "/_emulator/records/x1", "[1,2]", auth=False)
    r2 = emu.req("PUT", "/_emulator/records/x1", '{"id": "other"}', auth=False)
    r3 = emu.req("PUT", "/_emulator/records/x1", '{"sessions": {"a": 1}}', auth=False)
    r4 = emu.req("PUT", "/_emulator/records/x1", '{"id": ', auth=False)
    check("custom record: bad bodies -> 400", [x[0] for x in (r, r2, r3, r4)] == [400] * 4)
    # a tiny record without participants and with an unparseable start, listed
    r = emu.req("PUT", "/_emulator/records/x1", '{"startDateTime": "not a date", "listed": true, '
                '"sessions": [{"id": "s", "segments": []}]}', auth=False)
    st, doc = emu.getj(CR % "v1.0" + "/x1?$expand=sessions($expand=segments),participants_v2")
    st2, lst = emu.getj(CR % "v1.0")
    st3, flt = emu.getj(CR % "v1.0" + "?$filter=startDateTime%20ge%202000-01-01T00:00:00Z")
    check("custom record: minimal record, unparseable start sorts first and never matches a date filter",
          r[0] == 200 and st == 200 and doc["id"] == "x1" and doc["sessions"] == [{"id": "s", "segments": []}] and
          doc["participants_v2"] == [] and lst["value"][0]["id"] == "x1" and
          "x1" not in [x["id"] for x in flt["value"]], str(doc)[:300])
    emu.reset()
    st, doc = emu.getj(CR % "v1.0" + "/x1")
    check("reset removes every custom record", st == 404)

    # ---------------------------------------------------------------- function rows
    rows = ['{"id":"r%04d","charge":0.10,"duration":4294967296,"big":1e400,"s":"12"}' % i for i in range(1001)]
    r = emu.req("PUT", "/_emulator/function-rows/getPstnCalls", "[" + ",".join(rows) + "]", auth=False)
    got, counts, links, bodies = collect_rows(emu, CR % "v1.0" + "/getPstnCalls(fromDateTime=2030-01-01,"
                                                                 "toDateTime=2030-01-02)")
    check("function rows: any window, paged 1000 + 1, verbatim", r[0] == 200 and r[2] == b"ok\n" and
          counts == [1000, 1] and len(got) == 1001 and
          bodies[0].decode().split(',"value":[', 1)[1].startswith(",".join(rows[:1000]) + "]") and
          bodies[1].decode().endswith('"value":[' + rows[1000] + "]}"), str(counts))
    st, doc = emu.getj(CR % "v1.0" + "/getPstnCalls(fromDateTime=2019-11-01,toDateTime=2019-12-01)")
    check("function rows win over the docs window", doc["@odata.count"] == 1000 and doc["value"][0]["id"] == "r0000")
    r = emu.req("PUT", "/_emulator/function-rows/getSmsLog", '[{"smsId":"x","callCharge":1.50}]', auth=False)
    st, h, b = emu.get(CR % "beta" + "/getSmsLog(%s)" % NOV)
    st2, doc2 = emu.getj(CR % "v1.0" + "/getSmsLog(%s)" % NOV)
    check("function rows: getSmsLog replaced (beta), still 400 on v1.0", st == 200 and
          b.endswith(b'"@odata.count":1,"value":[{"smsId":"x","callCharge":1.50}]}') and st2 == 400)
    r = emu.req("PUT", "/_emulator/function-rows/getNothing", "[]", auth=False)
    r2 = emu.req("PUT", "/_emulator/function-rows/getSmsLog", "{}", auth=False)
    check("function rows: unknown function 404, non-array 400", r[0] == 404 and r2[0] == 400)
    emu.reset()
    st, doc = emu.getj(CR % "v1.0" + "/getPstnCalls(fromDateTime=2026-11-02,toDateTime=2026-11-03)")
    check("reset restores generated function rows", st == 200 and doc["value"] and
          not doc["value"][0]["id"].startswith("r0"))



def run_enum_members(emu):
    """Evolvable enums: productFamily's azureCommunicationServices (after unknownFutureValue)
    only with Prefer: include-unknown-enum-members, unknownFutureValue otherwise."""
    emu.reset()
    emu.login()
    cid = "e0e00000-0000-4000-8000-000000000001"
    ua = {"@odata.type": "#microsoft.graph.callRecords.clientUserAgent", "platform": "web",
          "productFamily": "azureCommunicationServices"}
    body = json.dumps({"version": 1, "type": "peerToPeer", "sessions": [
        {"id": "s1", "caller": {"userAgent": ua}, "callee": {"userAgent": dict(ua, productFamily="teams")},
         "segments": []}]})
    emu.req("PUT", "/_emulator/records/" + cid, body, auth=False)
    url = CR % "v1.0" + "/%s?$expand=sessions" % cid
    st, h, b = emu.get(url)
    doc = json.loads(b)
    fams = [doc["sessions"][0][side]["userAgent"]["productFamily"] for side in ("caller", "callee")]
    check("without include-unknown-enum-members: unknownFutureValue", st == 200 and
          fams == ["unknownFutureValue", "teams"] and "Preference-Applied" not in h, str(fams))
    for prefer in ("include-unknown-enum-members", "odata.maxpagesize=10, include-unknown-enum-members"):
        st, h, b = emu.get(url, headers={"Prefer": prefer})
        doc = json.loads(b)
        fams = [doc["sessions"][0][side]["userAgent"]["productFamily"] for side in ("caller", "callee")]
        check("Prefer: %s: the member itself, Preference-Applied" % prefer, st == 200 and
              fams == ["azureCommunicationServices", "teams"] and
              "include-unknown-enum-members" in (h.get("Preference-Applied") or ""), str(fams))
    st, raw = emu.getj("/_emulator/raw/" + cid, auth=False)
    check("raw oracle keeps the member", raw["sessions"][0]["caller"]["userAgent"]["productFamily"] ==
          "azureCommunicationServices")
    emu.reset()


def _assertion(key, cert_der, aud, alg="PS256", thumb="x5t#S256", skew=0, jti=None, client="test-client"):
    """A client assertion as Microsoft documents it, signed with key."""
    import base64
    import hashlib
    import uuid
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    enc = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
    digest = hashlib.sha256 if thumb == "x5t#S256" else hashlib.sha1
    now = int(time.time()) + skew
    head = {"alg": alg, "typ": "JWT", thumb: enc(digest(cert_der).digest())}
    claims = {"aud": aud, "iss": client, "sub": client, "jti": jti or str(uuid.uuid4()),
              "nbf": now, "iat": now, "exp": now + 300}
    signed = enc(json.dumps(head).encode()) + "." + enc(json.dumps(claims).encode())
    pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32) if alg == "PS256" else padding.PKCS1v15()
    return signed + "." + enc(key.sign(signed.encode(), pad, hashes.SHA256()))


def run_signin(emu):
    """Certificate assertions (PS256 and RS256; unknown thumbprint, bad signature, audience,
    time, replay), managed identity forms and the federated token file."""
    try:
        import datetime
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
    except ImportError:
        check("python3-cryptography is installed (sign-in tests)", False)
        return
    from urllib.parse import quote
    emu.reset()

    def make_cert():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "selftest")])
        now = datetime.datetime.utcnow()
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now)
                .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
        return key, cert
    key, cert = make_cert()
    other_key, other_cert = make_cert()
    der = cert.public_bytes(serialization.Encoding.DER)
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    st, _, _ = emu.req("POST", "/_emulator/config", json.dumps({"client_certificates": [pem]}), auth=False)
    check("config registers a certificate", st == 200)
    aud = emu.base + "/contoso/oauth2/v2.0/token"

    def token(assertion, atype="urn:ietf:params:oauth:client-assertion-type:jwt-bearer"):
        body = "grant_type=client_credentials&client_id=test-client&scope=%s&client_assertion_type=%s" \
               "&client_assertion=%s" % (quote(emu.base + "/.default", safe=""), quote(atype, safe=""),
                                         quote(assertion, safe=""))
        st, _, b = emu.req("POST", "/contoso/oauth2/v2.0/token", body,
                           {"Content-Type": "application/x-www-form-urlencoded"}, auth=False)
        doc = json.loads(b)
        return st, doc.get("error_codes", [None])[0], doc
    st, code, doc = token(_assertion(key, der, aud))
    check("PS256 with x5t#S256 is accepted", st == 200 and "access_token" in doc, str(doc)[:200])
    st, code, _ = token(_assertion(key, der, aud, alg="RS256", thumb="x5t"))
    check("RS256 with x5t (SHA-1) is accepted", st == 200)
    st, code, _ = token(_assertion(other_key, other_cert.public_bytes(serialization.Encoding.DER), aud))
    check("an unregistered certificate: 401 AADSTS700027 (key not found)", st == 401 and code == 700027)
    st, code, doc = token(_assertion(other_key, der, aud))
    check("a signature of another key: 401 AADSTS700027", st == 401 and code == 700027 and
          "did not match" in doc.get("error_description", ""))
    st, code, _ = token(_assertion(key, der, emu.base + "/other/oauth2/v2.0/token"))
    check("another audience: 401 AADSTS700023", st == 401 and code == 700023)
    st, code, _ = token(_assertion(key, der, aud, client="someone-else"))
    check("iss/sub not the client id: 401 AADSTS700021", st == 401 and code == 700021)
    st, code, _ = token(_assertion(key, der, aud, skew=-3600))
    check("an expired assertion: 401 AADSTS700024", st == 401 and code == 700024)
    jti = "11111111-2222-4333-8444-555555555555"
    st1, _, _ = token(_assertion(key, der, aud, jti=jti))
    st2, code, _ = token(_assertion(key, der, aud, jti=jti))
    check("a replayed jti is refused", st1 == 200 and st2 == 401 and code == 50013)
    st, code, _ = token("not-a-jwt")
    check("a malformed assertion: 400 AADSTS50027", st == 400 and code == 50027)
    st, code, _ = token(_assertion(key, der, aud), atype="other")
    check("a wrong client_assertion_type is refused", st == 400)

    # the federated token file: its current content only
    fd, path = tempfile.mkstemp(prefix="emu-fed-")
    os.write(fd, b"fed-one\n")
    os.close(fd)
    emu.req("POST", "/_emulator/config", json.dumps({"federated_token_file": path}), auth=False)
    st, _, _ = token("fed-one")
    check("the token file's content is accepted", st == 200)
    with open(path, "w") as fh:
        fh.write("fed-two\n")
    st_old, code_old, _ = token("fed-one")
    st_new, _, _ = token("fed-two")
    check("after rotation the old content is expired (AADSTS700024), the new one accepted",
          st_old == 401 and code_old == 700024 and st_new == 200)
    st, code, _ = token("never-issued")
    check("an unknown federated token: AADSTS70021", st == 401 and code == 70021)
    emu.req("POST", "/_emulator/config", json.dumps({"federated_token_file": None}), auth=False)
    os.unlink(path)

    # managed identity: the Metadata Service's form and App Service's
    q = "?api-version=2018-02-01&resource=" + quote(emu.base, safe="")
    st, _, b = emu.req("GET", "/metadata/identity/oauth2/token" + q, auth=False)
    check("IMDS without Metadata: true: 400", st == 400 and b"metadata header" in b)
    st, _, b = emu.req("GET", "/metadata/identity/oauth2/token" + q, headers={"Metadata": "true"}, auth=False)
    doc = json.loads(b)
    check("IMDS answers numbers as strings", st == 200 and isinstance(doc.get("expires_in"), str) and
          isinstance(doc.get("expires_on"), str))
    st, _, b = emu.req("GET", "/metadata/identity/oauth2/token" + q + "&client_id=nobody",
                       headers={"Metadata": "true"}, auth=False)
    check("IMDS: an unknown user-assigned identity: 400", st == 400 and b"Identity not found" in b)
    emu.req("POST", "/_emulator/config", json.dumps({"identity_header": "hdr"}), auth=False)
    q = "?api-version=2019-08-01&resource=" + quote(emu.base, safe="")
    st, _, b = emu.req("GET", "/msi/token" + q, headers={"X-IDENTITY-HEADER": "hdr"}, auth=False)
    doc = json.loads(b)
    check("App Service: only expires_on", st == 200 and "expires_in" not in doc and "expires_on" in doc)
    st, _, _ = emu.req("GET", "/msi/token" + q, headers={"X-IDENTITY-HEADER": "wrong"}, auth=False)
    check("App Service: a wrong header is refused", st == 401)
    emu.req("POST", "/_emulator/config", json.dumps({"identity_header": None, "client_certificates": []}),
            auth=False)
    emu.reset()


if __name__ == "__main__":
    sys.exit(main())

