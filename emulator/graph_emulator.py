#!/usr/bin/python3
"""Microsoft Graph call-records emulator for callrecords_fdw tests.

Standard library only (and python3-cryptography for client assertions, in
signin.py).  See README.md next to this file for the data model and the
control API.  Usage:

  python3 emulator/graph_emulator.py [--port 0] [--port-file PATH] [--seed 42]
      [--records 50] [--latency-ms 0] [--tenant-id contoso] [--client-id test-client]
      [--client-secret test-secret] [--token-lifetime 3599] [--verbose]
      [--clock moving|fixed] [--fixed-time]
"""

import argparse
import base64
import collections
import http
import json
import math
import os
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import datagen as dg                      # noqa: E402
import odata                              # noqa: E402
import rawjson                            # noqa: E402
import signin                             # noqa: E402
from odata import ODataError, bad         # noqa: E402
from store import DOC_SESSIONS_LINK, LOG_FUNCS, LOG_FUNC_BY_NAME, Store, dumps   # noqa: E402

GRAPH_CT = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
JSON_CT = "application/json"
TEXT_CT = "text/plain; charset=utf-8"
SESSIONS_MAX = 60
PARTICIPANTS_MAX = 130
RECORDS_MAX = 60
LOG_ROWS_MAX = 1000
MAX_WINDOW = 90 * dg.DAY


def now_stamp():
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


class Resp:
    __slots__ = ("status", "body", "ctype", "headers")

    def __init__(self, status, body=b"", ctype=JSON_CT, headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = list(headers or [])


class Ctx:
    """Per-request context."""

    def __init__(self, state, handler):
        self.state = state
        self.request_id = str(uuid.uuid4())
        self.client_request_id = handler.headers.get("client-request-id") or str(uuid.uuid4())
        self.base = state.base
        self.ver = None
        prefer = handler.headers.get_all("Prefer") or []
        self.maxpagesize, self.omit_nulls, self.include_unknown = odata.parse_prefer(prefer)
        self.applied = []


# ---------------------------------------------------------------------------- errors

def graph_error(ctx, status, code, message, inner=None, headers=None):
    ie = {"date": now_stamp(), "request-id": ctx.request_id, "client-request-id": ctx.client_request_id}
    if inner:
        ie = dict(inner, **ie)
    body = {"error": {"code": code, "message": message, "innerError": ie}}
    return Resp(status, dumps(body), JSON_CT, headers)


def not_found_record(ctx):
    return graph_error(ctx, 404, "NotFound",
                       "Could not find the requested call record. Records about calls or online meetings that "
                       "started more than 30 days ago are not available.")


def entra_error(ctx, status, error, code, text, headers=None):
    trace, corr = str(uuid.uuid4()), ctx.client_request_id
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    desc = "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s" % (code, text, trace, corr, stamp)
    body = {"error": error, "error_description": desc, "error_codes": [code], "timestamp": stamp,
            "trace_id": trace, "correlation_id": corr,
            "error_uri": "https://login.microsoftonline.com/error?code=%d" % code}
    return Resp(status, dumps(body), "application/json; charset=utf-8", headers)


# ---------------------------------------------------------------------------- fault table

FAULT_ERRORS = {  # status -> (code, message, innerError extras)
    400: ("BadRequest", "Bad request (injected by the emulator).", None),
    401: ("InvalidAuthenticationToken", "Access token has expired or is not yet valid.", None),
    403: ("accessDenied", "Either the signed-in user does not have sufficient privileges, or you need to use one "
                          "of the following delegated scopes: CallRecords.Read.All", None),
    404: ("NotFound", "Could not find the requested call record. Records about calls or online meetings that "
                      "started more than 30 days ago are not available.", None),
    406: ("NotAcceptable", "The requested resource is not available in the requested format.", None),
    429: ("activityLimitReached", "The request has been throttled",
          {"code": "throttledRequest", "innerError": {"code": "quota"}}),
    500: ("UnknownError", "Object reference not set to an instance of an object.", None),
    502: ("BadGateway", "The server received an invalid response from an upstream server.", None),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later.", None),
    504: ("GatewayTimeout", "The gateway did not receive a timely response from the upstream server.", None),
}


def _fb_graph_error(rule, status, ctx, normal, is_token):
    if is_token:
        err = "temporarily_unavailable" if status >= 500 or status == 429 else "invalid_request"
        return entra_error(ctx, status, err, rule.get("aadsts", 90033),
                           rule.get("message") or "A transient error has occurred. Please try again.")
    code, msg, inner = FAULT_ERRORS.get(status, ("UnknownError", "Injected error.", None))
    return graph_error(ctx, status, rule.get("code") or code, rule.get("message") or msg, inner)


def _fb_passthrough(rule, status, ctx, normal, is_token):
    r = normal()
    r.status = status
    return r


def _fb_truncated(rule, status, ctx, normal, is_token):
    r = normal()
    r.status = status
    r.body = r.body[:max(1, len(r.body) // 2)]
    return r


def _fb_malformed(rule, status, ctx, normal, is_token):
    return Resp(status, '{"@odata.context":"%s/$metadata#communications/callRecords","value":[{"id":"cafe",,}]'
                % ctx.base, GRAPH_CT)


def _fb_malformed_unread(rule, status, ctx, normal, is_token):
    """The normal body with a syntax error inside the first media's calleeDevice, a part of the
    page that a query reading only stream columns never converts."""
    r = normal()
    r.status = status
    body = r.body if isinstance(r.body, bytes) else r.body.encode()
    r.body = body.replace(b'"calleeDevice":{', b'"calleeDevice":{"x":tru,', 1)
    return r


def _fb_deep_unread(rule, status, ctx, normal, is_token):
    """The normal body with a member no column reads, "zzDeep", put first into the root object:
    arrays nested so that the innermost (empty) one lies at depth rule["depth"], the root
    being at depth 1 (jansson's limit is 2048)."""
    r = normal()
    r.status = status
    body = r.body if isinstance(r.body, bytes) else r.body.encode()
    k = max(int(rule.get("depth", 2049)) - 1, 1)
    r.body = body.replace(b"{", b'{"zzDeep":' + b"[" * k + b"]" * k + b",", 1)
    return r


_PADS = {}


def _fb_pad(rule, status, ctx, normal, is_token):
    """The normal body with a member no column reads, "zzPad", put first into the root object:
    a string of rule["pad_bytes"] bytes (default 10,000,000), built once per size.  A big page
    that costs its client memory to receive, not to parse (the benchmark's fat pages)."""
    r = normal()
    r.status = status
    body = r.body if isinstance(r.body, bytes) else r.body.encode()
    n = int(rule.get("pad_bytes", 10000000))
    pad = _PADS.get(n)
    if pad is None:
        pad = _PADS[n] = b'{"zzPad":"' + b"x" * n + b'",'
    r.body = body.replace(b"{", pad, 1)
    return r


def _fb_not_array(rule, status, ctx, normal, is_token):
    r = normal()
    try:
        doc = rawjson.loads(r.body)
    except ValueError:
        doc = {}
    if isinstance(doc, dict) and "value" in doc:
        doc["value"] = {"unexpected": "object instead of array"}
    elif isinstance(doc, dict) and "sessions" in doc:
        doc["sessions"] = {"unexpected": "object instead of array"}
    elif isinstance(doc, dict) and "participants_v2" in doc:
        doc["participants_v2"] = {"unexpected": "object instead of array"}
    else:
        doc = [doc]
    return Resp(status, dumps(doc), r.ctype)


def _fb_empty(rule, status, ctx, normal, is_token):
    return Resp(status, b"", JSON_CT)


def _fb_html(rule, status, ctx, normal, is_token):
    return Resp(status, "<html><head><title>%d</title></head><body><h1>%d %s</h1></body></html>\n"
                % (status, status, http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_
                   else "Error"), "text/html")


def _token_answer(normal, status, **changes):
    """The normal token answer with some of its members changed."""
    r = normal()
    try:
        doc = json.loads(r.body)
    except ValueError:
        return r
    if r.status == 200:
        doc.update(changes)
    return Resp(status, dumps(doc), r.ctype, r.headers)


def _fb_token_crlf(rule, status, ctx, normal, is_token):
    """A hostile token endpoint: the access token carries a CR/LF and a header line."""
    return _token_answer(normal, status, access_token="eyJhbGciOi.x.y\r\nX-Injected: yes")


def _fb_token_huge_expiry(rule, status, ctx, normal, is_token):
    """A hostile token endpoint: expires_in near the int64 maximum."""
    return _token_answer(normal, status, expires_in=9223372036854775807, ext_expires_in=9223372036854775807)


def _fb_echo_secret(rule, status, ctx, normal, is_token):
    """A hostile token endpoint: an Entra error that quotes the posted form, secret (or assertion) included."""
    posted = {}
    for part in (getattr(ctx, "request_body", b"") or b"").decode("utf-8", "replace").split("&"):
        k, _, v = part.partition("=")
        posted[unquote(k.replace("+", " "))] = unquote(v.replace("+", " "))
    if "client_assertion" in posted:
        echoed = posted["client_assertion"]
        return entra_error(ctx, status if status >= 400 else 401, rule.get("code") or "invalid_client", 700027,
                           "Client assertion contains an invalid signature: '%s' (escaped: %s)."
                           % (echoed, quote(echoed, safe="")))
    echoed = posted.get("client_secret", "")
    return entra_error(ctx, status if status >= 400 else 401, rule.get("code") or "invalid_client", 7000215,
                       "Invalid client secret provided: '%s' (escaped: %s)." % (echoed, quote(echoed, safe="")))


def _fb_tiny_values(rule, status, ctx, normal, is_token):
    """A hostile page: one session whose member "x" is an array of 2,000,000 1s (4 MB of text
    that parses into twenty times as much)."""
    return Resp(status, '{"id":"b16a0000-0000-4000-8000-000000000031","sessions":[{"id":"s1","x":['
                + "1," * 1999999 + '1],"segments":[]}]}', GRAPH_CT)


# body kind -> (builder, default status).  Transport kinds ("disconnect") are
# handled by the sender.  Add new kinds here.
FAULT_BODIES = {
    "graph-error": (_fb_graph_error, 500),
    "passthrough": (_fb_passthrough, 200),
    "truncated-json": (_fb_truncated, 200),
    "malformed-json": (_fb_malformed, 200),
    "malformed-unread": (_fb_malformed_unread, 200),
    "not-array": (_fb_not_array, 200),
    "empty": (_fb_empty, 200),
    "html": (_fb_html, 502),
    "disconnect": (_fb_passthrough, 200),
    "refuse": (_fb_passthrough, 200),
    "pad": (_fb_pad, 200),
    "token-crlf": (_fb_token_crlf, 200),
    "token-huge-expiry": (_fb_token_huge_expiry, 200),
    "echo-secret": (_fb_echo_secret, 401),
    "tiny-values": (_fb_tiny_values, 200),
    "deep-unread": (_fb_deep_unread, 200),
}
FAULT_KEYS = {"match", "status", "times", "retry_after", "body", "delay_ms", "stall_ms", "next_link", "code",
              "message", "aadsts", "method", "every", "depth", "refuse_ms", "pad_bytes"}


def validate_rule(rule):
    if not isinstance(rule, dict):
        raise ValueError("fault rule must be a JSON object")
    extra = set(rule) - FAULT_KEYS
    if extra:
        raise ValueError("unknown fault keys: %s" % ", ".join(sorted(extra)))
    rule.setdefault("match", "")
    rule.setdefault("times", 1)
    if not isinstance(rule["match"], str):
        raise ValueError("match must be a string")
    if not isinstance(rule["times"], int) or rule["times"] == 0 or rule["times"] < -1:
        raise ValueError("times must be a positive integer or -1")
    if rule.get("body") is not None and rule["body"] not in FAULT_BODIES:
        raise ValueError("body must be one of: %s" % ", ".join(FAULT_BODIES))
    if rule.get("status") is not None and not (isinstance(rule["status"], int) and 100 <= rule["status"] <= 599):
        raise ValueError("status must be an HTTP status code")
    for k in ("delay_ms", "stall_ms", "retry_after", "refuse_ms", "pad_bytes"):
        if rule.get(k) is not None and not isinstance(rule[k], (int, float)):
            raise ValueError("%s must be a number" % k)
    if rule.get("every") is not None and not (isinstance(rule["every"], int) and rule["every"] >= 1):
        raise ValueError("every must be a positive integer")
    return rule


def override_next_link(resp, link):
    try:
        doc = rawjson.loads(resp.body)
    except ValueError:
        return resp
    if not isinstance(doc, dict):
        return resp
    keys = [k for k in doc if k.endswith("@odata.nextLink")]
    if link is None:
        for k in keys:
            del doc[k]
    elif keys:
        for k in keys:
            doc[k] = link
    elif "value" in doc:
        doc["@odata.nextLink"] = link
    elif "sessions" in doc:
        doc["sessions@odata.nextLink"] = link
    elif "participants_v2" in doc:
        doc["participants_v2@odata.nextLink"] = link
    resp.body = dumps(doc).encode("utf-8")
    return resp


# ---------------------------------------------------------------------------- state

class State:
    def __init__(self, args):
        self.args = args
        self.verbose = args.verbose
        self.lock = threading.Lock()
        self.log = []                 # [method, target, status or None, began, answered]
        self.log_epoch = time.monotonic()  # log?timed=1 gives ms since the reset
        self.in_flight = 0
        self.max_in_flight = 0
        self.faults = []
        self.latency_ms = args.latency_ms
        self.token_lifetime = args.token_lifetime
        self.tokens = {}              # token -> expiry (time.monotonic)
        self.signin = signin.SignInConfig()   # certificates, token file, managed identities
        self.signin.file_root = (args.file_root or "").rstrip("/")
        self.store = Store(args.seed, args.records)
        self.port = None
        self.base = None
        self.stop = threading.Event()
        self.throttle = None          # {"window_s", "tenant_limit", "record_limit", "log_window_s",
                                      #  "log_tenant_limit", "log_app_limit", "log_function_limit"} or None: off
        self.windows = {}             # scope -> deque of arrival times (time.monotonic)
        self.throttled = 0

    def admit(self, target):
        """Graph's enforcement: per app and tenant, and per call record (or the list), at most
        limit requests in any window_s seconds.  None to serve, else the seconds to wait."""
        cfg = self.throttle
        if cfg is None:
            return None
        path = target.partition("?")[0]
        fn = re.search(r"/communications/callRecords/(?:microsoft\.graph\.callRecords\.)?(get\w+)\(", path)
        m = re.search(r"/communications/callRecords(?:/([^/(]+)(?:/|$)|/?$)", path)
        if fn:
            # Graph counts the log functions (PSTN call records) apart: per tenant, per
            # application and tenant, and per function ("per collection"), over their own window
            window = cfg.get("log_window_s", 60)
            scopes = [("logs:tenant", cfg.get("log_tenant_limit", 0)), ("logs:app", cfg.get("log_app_limit", 0)),
                      ("function:" + fn.group(1).lower(), cfg.get("log_function_limit", 0))]
        else:
            window = cfg["window_s"]
            scopes = [("", cfg.get("tenant_limit", 0))]
            if m:
                scopes.append(("record:" + m.group(1).lower() if m.group(1) else "list", cfg.get("record_limit", 0)))
        now = time.monotonic()
        with self.lock:
            wait = 0.0
            for key, limit in scopes:
                q = self.windows.setdefault(key, collections.deque())
                while q and q[0] <= now - window:
                    q.popleft()
                if limit and len(q) >= limit:
                    wait = max(wait, q[0] + window - now)
            if wait > 0:
                self.throttled += 1
                return wait
            for key, limit in scopes:
                if limit:
                    self.windows[key].append(now)
        return None

    def log_begin(self, method, target):
        entry = [method, target, None, time.monotonic(), None]
        with self.lock:
            self.log.append(entry)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return entry

    def log_done(self):
        with self.lock:
            self.in_flight -= 1

    def take_fault(self, method, target):
        with self.lock:
            for idx, rule in enumerate(self.faults):
                if rule["match"] in target and rule.get("method", method).upper() == method:
                    every = rule.get("every")
                    if every:
                        # only every n-th matching request gets the fault
                        rule["seen"] = rule.get("seen", 0) + 1
                        if rule["seen"] % int(every) != 0:
                            continue
                    if rule["times"] > 0:
                        rule["times"] -= 1
                        if rule["times"] == 0:
                            del self.faults[idx]
                    return dict(rule)
        return None

    def issue_token(self):
        now = time.monotonic()
        lifetime = self.token_lifetime
        iat = int(time.time())
        hdr = {"typ": "JWT", "alg": "none", "kid": "emulator"}
        payload = {"aud": self.base, "iss": "%s/%s/v2.0" % (self.base, self.args.tenant_id), "iat": iat,
                   "nbf": iat, "exp": iat + lifetime, "appid": self.args.client_id,
                   "roles": ["CallRecords.Read.All"], "tid": self.args.tenant_id, "jti": str(uuid.uuid4())}
        enc = lambda o: base64.urlsafe_b64encode(dumps(o).encode()).decode().rstrip("=")
        tok = enc(hdr) + "." + enc(payload) + "." + secrets.token_urlsafe(32)
        with self.lock:
            for t in [t for t, e in self.tokens.items() if e <= now]:
                del self.tokens[t]
            self.tokens[tok] = now + lifetime
        return tok, lifetime

    def check_token(self, tok):
        with self.lock:
            exp = self.tokens.get(tok)
        if exp is None:
            return "unknown"
        if exp <= time.monotonic():
            return "expired"
        return None


# ---------------------------------------------------------------------------- token endpoint

def token_endpoint(ctx, tenant, method, body, headers):
    st = ctx.state
    a = st.args
    if method != "POST":
        return entra_error(ctx, 405, "invalid_request", 900561,
                           "The endpoint only accepts POST, OPTIONS requests. Received a %s request." % method)
    if tenant.lower() != a.tenant_id.lower():
        return entra_error(ctx, 400, "invalid_request", 90002,
                           "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are "
                           "signing into the correct cloud." % tenant)
    form = {}
    text = body.decode("utf-8", "replace")
    for part in text.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        k = unquote(k.replace("+", " "))
        v = unquote(v.replace("+", " "))
        form.setdefault(k, v)
    gt = form.get("grant_type")
    if not gt:
        return entra_error(ctx, 400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'grant_type'.")
    if gt != "client_credentials":
        return entra_error(ctx, 400, "unsupported_grant_type", 70003,
                           "The app requested an unsupported grant type '%s'." % gt[:40])
    cid = form.get("client_id")
    if not cid:
        return entra_error(ctx, 400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'client_id'.")
    if cid != a.client_id:
        return entra_error(ctx, 400, "unauthorized_client", 700016,
                           "Application with identifier '%s' was not found in the directory '%s'. This can happen "
                           "if the application has not been installed by the administrator of the tenant or "
                           "consented to by any user in the tenant. You may have sent your authentication request "
                           "to the wrong tenant." % (cid[:80], a.tenant_id))
    secret = form.get("client_secret")
    if secret is None and "client_assertion" not in form:
        return entra_error(ctx, 401, "invalid_client", 7000218,
                           "The request body must contain the following parameter: 'client_assertion' or "
                           "'client_secret'.")
    if secret is None:
        audiences = {"http://%s:%d/%s/oauth2/v2.0/token" % (h, st.port, tenant) for h in ("127.0.0.1", "localhost")}
        with st.lock:
            refused = signin.check_assertion(st.signin, form, cid, audiences,
                                             lambda status, err, code, text: entra_error(ctx, status, err, code, text))
        if refused is not None:
            return refused
    elif not secrets.compare_digest(secret.encode(), a.client_secret.encode()):
        return entra_error(ctx, 401, "invalid_client", 7000215,
                           "Invalid client secret provided. Ensure the secret being sent in the request is the "
                           "client secret value, not the client secret ID, for a secret added to app '%s'." % cid)
    scope = form.get("scope")
    if not scope:
        return entra_error(ctx, 400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'scope'.")
    scope = scope.strip()
    ok = {"http://127.0.0.1:%d/.default" % st.port, "http://localhost:%d/.default" % st.port}
    if scope not in ok:
        if not scope.endswith("/.default"):
            return entra_error(ctx, 400, "invalid_scope", 1002012,
                               "The provided value for scope %s is not valid. Client credential flows must have a "
                               "scope value with /.default suffixed to the resource identifier (application ID "
                               "URI)." % scope[:200])
        return entra_error(ctx, 400, "invalid_resource", 500011,
                           "The resource principal named %s was not found in the tenant named %s. This can happen "
                           "if the application has not been installed by the administrator of the tenant or "
                           "consented to by any user in the tenant." % (scope[:-len("/.default")][:200],
                                                                         a.tenant_id))
    tok, lifetime = st.issue_token()
    return Resp(200, dumps({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                            "access_token": tok}), "application/json; charset=utf-8",
                [("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache")])


def identity_route(ctx, app_service, query, headers):
    """A managed identity's token: the Instance Metadata Service's form, or App Service's."""
    st = ctx.state
    resources = {"http://127.0.0.1:%d" % st.port, "http://localhost:%d" % st.port}
    status, body = signin.identity_endpoint(st.signin, app_service, query, headers, resources, st.issue_token)
    return Resp(status, dumps(body), "application/json; charset=utf-8")


# ---------------------------------------------------------------------------- Graph endpoints

def ctx_url(ctx, frag):
    return "%s/%s/$metadata#%s" % (ctx.base, ctx.ver, frag)


def rec_url(ctx, rid):
    return "%s/%s/communications/callRecords/%s" % (ctx.base, ctx.ver, rid)


def page_size(ctx, cap):
    n = ctx.maxpagesize
    if n is not None and n < cap:
        ctx.applied.append("odata.maxpagesize=%d" % n)
        return n
    return cap


def session_json(rec, i, with_segments, select):
    head, segs = rec.frag(i)
    if select is None:
        if with_segments:
            return head[:-1] + ',"segments":' + segs + "}"
        return head
    d = rawjson.loads(head)
    keep = set(select) | {"id"}
    out = {k: v for k, v in d.items() if k in keep}
    if with_segments:
        out["segments"] = rawjson.loads(segs)
    return dumps(out)


def sessions_link(ctx, rec, offset, with_segments, select):
    q = []
    if with_segments:
        q.append("$expand=segments")
    if select:
        q.append("$select=" + ",".join(select))
    q.append("$skiptoken=" + odata.make_skiptoken("s", rec.id, offset))
    return rec_url(ctx, rec.id) + "/sessions?" + "&".join(q)


def participants_link(ctx, rec, offset, select):
    q = []
    if select:
        q.append("$select=" + ",".join(select))
    q.append("$skiptoken=" + odata.make_skiptoken("p", rec.id, offset))
    return rec_url(ctx, rec.id) + "/participants_v2?" + "&".join(q)


def select_participant(p, select):
    if select is None:
        return p
    keep = set(select) | {"id"}
    return {k: v for k, v in p.items() if k in keep}


def get_record(ctx, rec, q):
    odata.check_options(q, {"$select", "$expand"})
    select = odata.parse_select(q.get("$select"), "callRecord")
    expand = odata.parse_expand(q.get("$expand"), "callRecord")
    exp_sessions = expand.get("sessions")
    with_segments = bool(exp_sessions and "segments" in exp_sessions["expand"])
    sess_select = exp_sessions["select"] if exp_sessions else None

    # the docs example record: serve the fixture texts verbatim for the documented requests
    is_fixture = rec is ctx.state.store.fixture
    if is_fixture and select is None and set(expand) <= {"organizer_v2"}:
        return Resp(200, rec.verbatim(ctx.ver, rec.text_get), GRAPH_CT)
    if is_fixture and select is None and list(expand) == ["sessions"] and with_segments \
            and sess_select is None:
        text = rec.verbatim(ctx.ver, rec.text_expanded).replace(
            DOC_SESSIONS_LINK.replace("/v1.0/", "/%s/" % ctx.ver),
            sessions_link(ctx, rec, 1, True, None))
        return Resp(200, text, GRAPH_CT)

    fields = rec.fields()
    if select is not None:
        keep = set(select) | {"id"}
        if "participants" in keep and "participants" not in fields:
            fields["participants"] = []
        fields = {k: v for k, v in fields.items() if k in keep}
        ctxfrag = "communications/callRecords(%s)/$entity" % ",".join(select)
    else:
        parts = []
        for nav in ("participants_v2", "sessions"):
            if nav in expand:
                parts.append(nav + ("(segments())" if nav == "sessions" and with_segments else "()"))
        ctxfrag = "communications/callRecords" + ("(%s)" % ",".join(parts) if parts else "") + "/$entity"
    out = {"@odata.context": ctx_url(ctx, ctxfrag)}
    org_ctx = rec.organizer_context(ctx.ver) if hasattr(rec, "organizer_context") else None
    for k, v in fields.items():
        if k == "organizer_v2":
            out["organizer_v2@odata.context"] = org_ctx or ctx_url(
                ctx, "communications/callRecords('%s')/organizer_v2/$entity" % rec.id)
        out[k] = v
    if "participants_v2" in expand:
        psel = expand["participants_v2"]["select"]
        plist = rec.participants()
        n = page_size(ctx, PARTICIPANTS_MAX)
        out["participants_v2@odata.context"] = ctx_url(ctx, "communications/callRecords('%s')/participants_v2"
                                                       % rec.id)
        out["participants_v2"] = [select_participant(p, psel) for p in plist[:n]]
        if len(plist) > n:
            out["participants_v2@odata.nextLink"] = participants_link(ctx, rec, n, psel)
    body = dumps(out)
    if exp_sessions is not None:
        n = page_size(ctx, rec.page_sessions if rec.page_sessions < SESSIONS_MAX else SESSIONS_MAX)
        cnt = min(n, rec.n)
        items = ",".join(session_json(rec, i, with_segments, sess_select) for i in range(cnt))
        tail = ""
        if rec.n > cnt:
            tail = ',"sessions@odata.nextLink":' + dumps(sessions_link(ctx, rec, cnt, with_segments, sess_select))
        body = body[:-1] + ',"sessions":[' + items + "]" + tail + "}"
    return Resp(200, body, GRAPH_CT)


def list_sessions(ctx, rec, q):
    odata.check_options(q, {"$select", "$expand", "$skiptoken"})
    select = odata.parse_select(q.get("$select"), "session")
    expand = odata.parse_expand(q.get("$expand"), "session")
    with_segments = "segments" in expand
    offset = odata.read_skiptoken(q.get("$skiptoken"), "s", rec.id)
    if rec is ctx.state.store.fixture and select is None and offset == 1:
        text = rec.text_sessions_seg if with_segments else rec.text_sessions
        return Resp(200, rec.verbatim(ctx.ver, text), GRAPH_CT)
    n = page_size(ctx, rec.page_sessions if rec.page_sessions < SESSIONS_MAX else SESSIONS_MAX)
    end = min(rec.n, offset + n)
    items = ",".join(session_json(rec, i, with_segments, select) for i in range(offset, end))
    body = '{"@odata.context":' + dumps(ctx_url(ctx, "communications/callRecords('%s')/sessions" % rec.id)) + \
           ',"value":[' + items + "]"
    if end < rec.n:
        body += ',"@odata.nextLink":' + dumps(sessions_link(ctx, rec, end, with_segments, select))
    return Resp(200, body + "}", GRAPH_CT)


def list_participants(ctx, rec, q):
    odata.check_options(q, {"$select", "$skiptoken"})
    select = odata.parse_select(q.get("$select"), "participant")
    offset = odata.read_skiptoken(q.get("$skiptoken"), "p", rec.id)
    plist = rec.participants()
    n = page_size(ctx, PARTICIPANTS_MAX)
    end = min(len(plist), offset + n)
    out = {"@odata.context": ctx_url(ctx, "communications/callRecords('%s')/participants_v2" % rec.id),
           "value": [select_participant(p, select) for p in plist[offset:end]]}
    if end < len(plist):
        out["@odata.nextLink"] = participants_link(ctx, rec, end, select)
    return Resp(200, dumps(out), GRAPH_CT)


def get_organizer(ctx, rec, q):
    odata.check_options(q, {"$select"})
    select = odata.parse_select(q.get("$select"), "participant")
    org = rec.fields().get("organizer_v2")
    if not isinstance(org, dict):
        return not_found_record(ctx)
    out = {"@odata.context": ctx_url(ctx, "communications/callRecords('%s')/organizer_v2/$entity" % rec.id)}
    out.update(select_participant(org, select))
    return Resp(200, dumps(out), GRAPH_CT)


def _qenc(v):
    return quote(v, safe="$:/()',=-._~@*!")


def list_records(ctx, q):
    odata.check_options(q, {"$select", "$filter", "$skiptoken"})
    select = odata.parse_select(q.get("$select"), "callRecord")
    preds = odata.parse_filter(q.get("$filter"))
    offset = odata.read_skiptoken(q.get("$skiptoken"), "r", "list")
    store = ctx.state.store
    hs = [h for h in store.list_headers() if odata.filter_match(h, preds)]
    n = page_size(ctx, RECORDS_MAX)
    end = min(len(hs), offset + n)
    ctxfrag = "communications/callRecords" + ("(%s)" % ",".join(select) if select else "")
    out = {"@odata.context": ctx_url(ctx, ctxfrag), "value": []}
    keep = (set(select) | {"id"}) if select is not None else None
    for h in hs[offset:end]:
        f = store.list_fields(h)
        item = {}
        for k, v in f.items():
            if keep is not None and k not in keep:
                continue
            if k == "organizer_v2":
                item["organizer_v2@odata.context"] = ctx_url(
                    ctx, "communications/callRecords('%s')/organizer_v2/$entity" % h["id"])
            item[k] = v
        if keep is not None and "participants" in keep:
            item["participants"] = []
        out["value"].append(item)
    if end < len(hs):
        qs = []
        if q.get("$filter") is not None:
            qs.append("$filter=" + _qenc(q["$filter"]))
        if select:
            qs.append("$select=" + ",".join(select))
        qs.append("$skiptoken=" + odata.make_skiptoken("r", "list", end))
        out["@odata.nextLink"] = "%s/%s/communications/callRecords?%s" % (ctx.base, ctx.ver, "&".join(qs))
    return Resp(200, dumps(out), GRAPH_CT)


_FUNC_RE = re.compile(r"^((?:microsoft\.graph\.callRecords\.)?(getPstnCalls|getDirectRoutingCalls|getSmsLog|"
                      r"getPstnBlockedUsersLog|getPstnOnlineMeetingDialoutReport))\((.*)\)$", re.I | re.S)


def parse_function(seg, ver=None):
    """-> (fn code 'pstn'|'dr'|'sms'|'blocked'|'dialout', from ticks, to ticks).
    ver='v1.0' rejects the beta-only functions the way Graph does (400, unknown segment)."""
    m = _FUNC_RE.match(seg)
    if not m:
        return None
    fn = LOG_FUNC_BY_NAME[m.group(2).lower()]
    fname, beta_only = LOG_FUNCS[fn][0], LOG_FUNCS[fn][2]
    if beta_only and ver == "v1.0":
        raise bad("Resource not found for the segment '%s'." % m.group(1))
    argtext = m.group(3)
    args = {}
    for part in argtext.split(","):
        k, eq, v = part.partition("=")
        k = k.strip()
        if not eq or not k:
            raise bad("The parameters of function 'microsoft.graph.callRecords.%s' are not valid: '%s'."
                      % (fname, argtext))
        args[k.lower()] = v.strip()
    for need in ("fromdatetime", "todatetime"):
        if need not in args:
            raise bad("The parameter '%s' of function 'microsoft.graph.callRecords.%s' is missing."
                      % ({"fromdatetime": "fromDateTime", "todatetime": "toDateTime"}[need], fname))
    extra = set(args) - {"fromdatetime", "todatetime"}
    if extra:
        raise bad("The function 'microsoft.graph.callRecords.%s' has no parameter named '%s'."
                  % (fname, sorted(extra)[0]))
    ticks = []
    for name in ("fromdatetime", "todatetime"):
        v = args[name]
        t = None if v.startswith("'") else dg.ticks_of(v)
        if t is None:
            raise bad("The parameter '%s' has an invalid value '%s'; expected an Edm.DateTimeOffset literal such "
                      "as 2026-11-01T00:00:00Z." % (name, v))
        ticks.append(t)
    return fn, ticks[0], ticks[1]


def log_function(ctx, seg, q):
    fn, t_from, t_to = parse_function(seg, ctx.ver)
    odata.check_options(q, {"$skip", "$filter"})      # $filter is accepted and ignored, like Graph
    if t_to < t_from:
        raise bad("The fromDateTime must be earlier than the toDateTime.")
    if t_to - t_from > MAX_WINDOW:
        raise ODataError(406, "NotAcceptable", "The requested date range exceeds the maximum allowed range of 90 "
                                               "days. Reduce the range between fromDateTime and toDateTime.")
    skip = 0
    if "$skip" in q:
        try:
            skip = int(q["$skip"])
            if skip < 0:
                raise ValueError
        except ValueError:
            raise bad("Invalid value for $skip query option found. The $skip query option requires a "
                      "non-negative integer value.")
    store = ctx.state.store
    rows = store.log_rows(fn, t_from, t_to, ctx.ver == "beta")
    fixed = store.fixed_count(fn, t_from, t_to)
    typ = LOG_FUNCS[fn][1]
    if fixed is not None:            # a docs example page: its rows and count, and paging ends
        page = rows if skip == 0 else []
        count = fixed if skip == 0 else 0
    else:
        page = rows[skip:skip + LOG_ROWS_MAX]
        count = len(page)
    body = ('{"@odata.context":' + dumps(ctx_url(ctx, "Collection(microsoft.graph.callRecords.%s)" % typ)) +
            ',"@odata.count":%d,"value":[' % count + ",".join(js for _, js in page) + "]")
    if fixed is None and skip + LOG_ROWS_MAX < len(rows):
        link = "%s/%s/communications/callRecords/%s?$skip=%d" % (ctx.base, ctx.ver, seg, skip + LOG_ROWS_MAX)
        body += ',"@odata.nextLink":' + dumps(link)
    return Resp(200, body + "}", GRAPH_CT)


def graph_route(ctx, method, path, query, headers):
    segs = path.split("/")[1:]
    ver = segs[0] if segs else ""
    if ver not in ("v1.0", "beta"):
        return graph_error(ctx, 404, "ResourceNotFound", "Invalid version: %s" % ver[:60] if ver else
                           "Resource not found.")
    ctx.ver = ver
    # authentication
    auth = headers.get("Authorization") or ""
    www = [("WWW-Authenticate", 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
                                'oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"')]
    scheme, _, tok = auth.strip().partition(" ")
    if scheme.lower() != "bearer" or not tok.strip():
        return graph_error(ctx, 401, "InvalidAuthenticationToken", "Access token is empty.", headers=www)
    problem = ctx.state.check_token(tok.strip())
    if problem == "expired":
        return graph_error(ctx, 401, "InvalidAuthenticationToken",
                           "Lifetime validation failed, the token is expired.", headers=www)
    if problem:
        return graph_error(ctx, 401, "InvalidAuthenticationToken",
                           "IDX14100: JWT is not well formed, there are no dots (.). The token needs to be in JWS "
                           "or JWE Compact Serialization Format." if "." not in tok else
                           "Access token validation failure. Invalid audience.", headers=www)
    return cached_route(ctx, method, path, query, segs)


def cached_route(ctx, method, path, query, segs):
    """data_route, with its 200 responses kept in the store's page cache.  Rendering a 416 kB
    page of record 3 takes ~10 ms in the server even with its sessions cached (joining,
    concatenating and encoding strings of 420,000 characters), serving a cached one ~0.3 ms.
    A 200 body depends only on the request line, the page size asked for and the store's
    generation (see Store.pages); the version check, auth, latency, faults and the log still
    apply to every request, around this call.  A hit gives a new Resp each time: fault
    builders and apply_prefs change the Resp they get."""
    store = ctx.state.store
    key = (store.generation, method, path, query, ctx.maxpagesize)
    hit = store.pages.get(key)
    if hit is not None:
        status, body, ctype, headers, applied = hit
        ctx.applied.extend(applied)
        return Resp(status, body, ctype, headers)
    n_applied = len(ctx.applied)
    resp = data_route(ctx, method, query, segs)
    if resp.status == 200:
        store.pages.put(key, (resp.status, resp.body, resp.ctype, tuple(resp.headers),
                              tuple(ctx.applied[n_applied:])), len(resp.body))
    return resp


def data_route(ctx, method, query, segs):
    rest = [unquote(s, errors="replace") for s in segs[1:]]
    while rest and rest[-1] == "":
        rest.pop()
    if len(rest) < 2 or rest[0].lower() != "communications" or rest[1].lower() != "callrecords":
        if len(rest) >= 2 and rest[0].lower() == "communications" and rest[1].lower().startswith("callrecords("):
            m = re.match(r"^callrecords\('([^']*)'\)$", rest[1], re.I)
            if m:
                rest = ["communications", "callRecords", m.group(1)] + rest[2:]
            else:
                return graph_error(ctx, 400, "BadRequest", "Bad Request - Error in query syntax.")
        else:
            seg = rest[0] if rest else ""
            return graph_error(ctx, 404, "ResourceNotFound", "Resource not found for the segment '%s'." % seg[:80])
    if method != "GET":
        return graph_error(ctx, 405, "MethodNotAllowed",
                           "The HTTP method '%s' is not supported by this endpoint. Only GET is supported." % method)
    q = odata.parse_query(query)
    store = ctx.state.store
    if len(rest) == 2:
        return list_records(ctx, q)
    third = rest[2]
    if len(rest) == 3 and _FUNC_RE.match(third):
        return log_function(ctx, third, q)
    rec = store.record(third)
    if rec is None:
        return not_found_record(ctx)
    if len(rest) == 3:
        return get_record(ctx, rec, q)
    if len(rest) == 4:
        nav = rest[3].lower()
        if nav == "sessions":
            return list_sessions(ctx, rec, q)
        if nav == "participants_v2":
            return list_participants(ctx, rec, q)
        if nav == "organizer_v2":
            return get_organizer(ctx, rec, q)
        return graph_error(ctx, 400, "BadRequest", "Resource not found for the segment '%s'." % rest[3][:80])
    return graph_error(ctx, 404, "ResourceNotFound",
                       "Resource not found for the segment '%s'." % rest[4][:80] if len(rest) > 4 else
                       "Resource not found.")


# Evolvable enums: members Graph added after unknownFutureValue.  Graph sends them only to a
# client that asks with "Prefer: include-unknown-enum-members", and unknownFutureValue otherwise.
EVOLVABLE_MEMBERS = {"productFamily": ("azureCommunicationServices",)}
_EVOLVABLE_RE = re.compile(rb'"(%s)":"(%s)"' % (
    "|".join(EVOLVABLE_MEMBERS).encode(),
    "|".join(m for ms in EVOLVABLE_MEMBERS.values() for m in ms).encode()))


def hide_unknown_members(body):
    """The body as a client that did not ask for the evolvable members sees it."""
    def repl(m):
        if m.group(2).decode() in EVOLVABLE_MEMBERS[m.group(1).decode()]:
            return b'"' + m.group(1) + b'":"unknownFutureValue"'
        return m.group(0)
    return _EVOLVABLE_RE.sub(repl, body)


def apply_prefs(ctx, resp):
    if resp.status == 200 and resp.ctype == GRAPH_CT:
        if ctx.include_unknown:
            ctx.applied.append("include-unknown-enum-members")
        elif isinstance(resp.body, (bytes, bytearray)):
            resp.body = hide_unknown_members(bytes(resp.body))
        if ctx.omit_nulls:
            try:
                resp.body = dumps(odata.strip_nulls(rawjson.loads(resp.body))).encode("utf-8")
                ctx.applied.append("omit-values=nulls")
            except ValueError:
                pass
        if ctx.applied:
            resp.headers.append(("Preference-Applied", ", ".join(ctx.applied)))
    return resp


# ---------------------------------------------------------------------------- control API

def log_escape(s):
    out = []
    for ch in s:
        o = ord(ch)
        if o < 0x21 or o > 0x7e or ch == "\\":
            for b in ch.encode("utf-8") if o > 0xff else bytes([o]):
                out.append("%%%02X" % b)
        else:
            out.append(ch)
    return "".join(out)


_SECRET_RE = re.compile(r"(client_secret=)[^&]*", re.I)
SIGNIN_KEYS = {"client_certificates", "clock_skew_s", "federated_token_file", "identity_header",
               "system_identity", "user_identities"}


def control(state, handler, method, path, query, body):
    st = state
    p = path[len("/_emulator"):]
    if p in ("/health", "/") and method == "GET":
        return Resp(200, "ok\n", TEXT_CT)
    if p == "/log" and method == "GET":
        # ?timed=1: each line begins with the ms (since the reset) at which
        # the request came in and was answered, to see what waited on what
        timed = "timed=1" in query.split("&")
        with st.lock:
            lines = [("%.1f %.1f " % ((b - st.log_epoch) * 1000.0, ((a or b) - st.log_epoch) * 1000.0)
                      if timed else "") + "%s %s %d" % (m, log_escape(_SECRET_RE.sub(r"\1***", t)), s)
                     for m, t, s, b, a in st.log if s is not None]
        return Resp(200, "".join(l + "\n" for l in lines), TEXT_CT)
    if p == "/stats" and method == "GET":
        with st.lock:
            return Resp(200, dumps({"max_in_flight": st.max_in_flight, "in_flight": st.in_flight,
                                    "throttled": st.throttled}))
    if p == "/reset" and method == "POST":
        with st.lock:
            st.log = []
            st.log_epoch = time.monotonic()
            st.max_in_flight = st.in_flight
            st.faults = []
            st.latency_ms = st.args.latency_ms
            st.token_lifetime = st.args.token_lifetime
            st.throttle = None
            st.windows = {}
            st.throttled = 0
            st.signin.clock_skew_s = 0
        st.store.reset_custom()
        return Resp(200, "ok\n", TEXT_CT)
    if p == "/records" and method == "GET":
        return Resp(200, dumps([{"id": rec.id, "listed": listed, "sessions": rec.n,
                                 "participants_v2": len(rec.participants())}
                                for rec, listed in st.store.custom.values()]))
    if p.startswith("/records/") and method in ("PUT", "DELETE"):
        rid = unquote(p[len("/records/"):])
        if not rid or "/" in rid:
            return Resp(400, "error: a record id is needed: /_emulator/records/{id}\n", TEXT_CT)
        if method == "DELETE":
            if not st.store.delete_custom(rid):
                return Resp(404, "error: no custom record %s\n" % rid, TEXT_CT)
            return Resp(200, "ok\n", TEXT_CT)
        try:
            st.store.put_custom(rid, body)
        except ValueError as e:
            return Resp(400, "error: %s\n" % e, TEXT_CT)
        return Resp(200, "ok\n", TEXT_CT)
    if p == "/function-rows" and method in ("GET", "DELETE"):
        if method == "DELETE":
            st.store.delete_func_rows()
            return Resp(200, "ok\n", TEXT_CT)
        return Resp(200, dumps({LOG_FUNCS[fn][0]: len(rows) for fn, rows in st.store.func_rows.items()}))
    if p.startswith("/function-rows/") and method in ("PUT", "DELETE"):
        name = unquote(p[len("/function-rows/"):])
        if name.lower().startswith("microsoft.graph.callrecords."):
            name = name[len("microsoft.graph.callRecords."):]
        fn = LOG_FUNC_BY_NAME.get(name.lower())
        if fn is None:
            return Resp(404, "error: unknown function %s (one of: %s)\n"
                        % (name, ", ".join(v[0] for v in LOG_FUNCS.values())), TEXT_CT)
        if method == "DELETE":
            st.store.delete_func_rows(fn)
            return Resp(200, "ok\n", TEXT_CT)
        try:
            st.store.put_func_rows(fn, body)
        except ValueError as e:
            return Resp(400, "error: %s\n" % e, TEXT_CT)
        return Resp(200, "ok\n", TEXT_CT)
    if p == "/config":
        if method == "GET":
            return Resp(200, dumps({"latency_ms": st.latency_ms, "token_lifetime": st.token_lifetime,
                                    "seed": st.args.seed, "records": st.args.records, "port": st.port}))
        if method == "POST":
            try:
                cfg = json.loads(body or b"{}")
                if not isinstance(cfg, dict):
                    raise ValueError("config must be a JSON object")
                for k, v in cfg.items():
                    if k == "latency_ms" and isinstance(v, (int, float)) and v >= 0:
                        continue
                    if k == "token_lifetime" and isinstance(v, int) and v >= 0:
                        continue
                    if k == "revoke_tokens" and isinstance(v, bool):
                        continue
                    if k in SIGNIN_KEYS:
                        with st.lock:
                            signin.configure(st.signin, k, v)
                        continue
                    if k == "throttle" and (v is None or (
                            isinstance(v, dict) and set(v) <= {"window_s", "tenant_limit", "record_limit",
                                                               "log_window_s", "log_tenant_limit",
                                                               "log_app_limit", "log_function_limit"}
                            and isinstance(v.get("window_s"), (int, float)) and v["window_s"] > 0
                            and isinstance(v.get("log_window_s", 60), (int, float)) and v.get("log_window_s", 60) > 0
                            and all(isinstance(v.get(x, 0), int) and v.get(x, 0) >= 0
                                    for x in ("tenant_limit", "record_limit", "log_tenant_limit",
                                              "log_app_limit", "log_function_limit")))):
                        continue
                    raise ValueError("unknown or invalid config key: %s" % k)
            except ValueError as e:
                return Resp(400, "error: %s\n" % e, TEXT_CT)
            with st.lock:
                if "latency_ms" in cfg:
                    st.latency_ms = cfg["latency_ms"]
                if "token_lifetime" in cfg:
                    st.token_lifetime = cfg["token_lifetime"]
                if cfg.get("revoke_tokens"):
                    st.tokens.clear()
                if "throttle" in cfg:
                    st.throttle = cfg["throttle"]
                    st.windows = {}
                    st.throttled = 0
            return Resp(200, "ok\n", TEXT_CT)
    if p == "/faults":
        if method == "GET":
            with st.lock:
                return Resp(200, dumps(st.faults))
        if method == "DELETE":
            with st.lock:
                st.faults = []
            return Resp(200, "ok\n", TEXT_CT)
        if method == "POST":
            try:
                doc = json.loads(body or b"null")
                rules = doc if isinstance(doc, list) else [doc]
                rules = [validate_rule(r) for r in rules]
            except ValueError as e:
                return Resp(400, "error: %s\n" % e, TEXT_CT)
            with st.lock:
                st.faults.extend(rules)
            return Resp(200, "ok\n", TEXT_CT)
    if p == "/signin" and method == "GET":
        with st.lock:
            return Resp(200, dumps(st.signin.summary))
    if p == "/signin/replay" and method == "POST":
        with st.lock:
            r = signin.replay_last(st.signin, lambda status, err, code, text: (status, err, code))
        if r is None:
            return Resp(200, dumps({"status": 200}) if st.signin.last else "null")
        return Resp(200, dumps({"status": r[0], "error": r[1], "code": "AADSTS%d" % r[2]}))
    if p == "/shutdown" and method == "POST":
        st.stop.set()
        return Resp(200, "ok\n", TEXT_CT)
    if p == "/raw" and method == "GET":
        store = st.store
        return Resp(200, dumps([store.list_fields(h) for h in store.list_headers()]))
    if p.startswith("/raw/") and method == "GET":
        arg = unquote(p[len("/raw/"):])
        if _FUNC_RE.match(arg):
            try:
                fn, t_from, t_to = parse_function(arg)
            except ODataError as e:
                return Resp(400, "error: %s\n" % e.message, TEXT_CT)
            beta = "beta" in odata.parse_query(query).get("version", "")
            rows = st.store.log_rows(fn, t_from, t_to, beta)
            return Resp(200, "[" + ",".join(js for _, js in rows) + "]")
        rec = st.store.record(arg)
        if rec is None:
            return Resp(404, "error: no such record\n", TEXT_CT)
        f = rec.fields()
        body = dumps(f)[:-1] + ',"participants_v2":' + dumps(rec.participants()) + ',"sessions":[' + \
            ",".join(session_json(rec, i, True, None) for i in range(rec.n)) + "]}"
        return Resp(200, body)
    return Resp(404, "error: unknown control endpoint %s %s\n" % (method, path), TEXT_CT)


# ---------------------------------------------------------------------------- HTTP plumbing

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GraphEmulator/1.0"
    sys_version = ""
    timeout = 300

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.server.state.verbose:
            sys.stderr.write("emulator: %s\n" % (fmt % args))

    def do_GET(self):
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _dispatch(self):
        st = self.server.state
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        parts = self.requestline.split(" ")
        target = parts[1] if len(parts) >= 2 else self.path
        method = self.command
        path, _, query = target.partition("?")
        ctx = Ctx(st, self)
        ctx.request_body = body
        if path == "/_emulator" or path.startswith("/_emulator/"):
            resp = control(st, self, method, path, query, body)
            self._send(ctx, resp)
            if st.stop.is_set():
                self.close_connection = True
            return
        entry = st.log_begin(method, target)
        done = False
        try:
            rule = st.take_fault(method, target)
            if st.latency_ms:
                time.sleep(st.latency_ms / 1000.0)
            m = re.match(r"^/([^/]+)/oauth2/v2\.0/token/?$", path)
            identity = {"/metadata/identity/oauth2/token": False, "/msi/token": True}.get(path)
            is_token = m is not None or identity is not None

            wait = None if is_token or rule is not None else st.admit(target)

            def normal():
                try:
                    if wait is not None:
                        return graph_error(ctx, 429, *FAULT_ERRORS[429][:2], FAULT_ERRORS[429][2],
                                           headers=[("Retry-After", str(max(1, int(math.ceil(wait)))))])
                    if identity is not None:
                        return identity_route(ctx, identity, query, self.headers)
                    if is_token:
                        return token_endpoint(ctx, unquote(m.group(1)), method, body, self.headers)
                    return apply_prefs(ctx, graph_route(ctx, method, path, query, self.headers))
                except ODataError as e:
                    return graph_error(ctx, e.status, e.code, e.message)
                except Exception as e:  # keep serving; report as Graph 500
                    if st.verbose:
                        import traceback
                        traceback.print_exc()
                    return graph_error(ctx, 500, "UnknownError", "Emulator internal error: %s" % type(e).__name__)

            stall = 0
            disconnect = False
            refuse = False
            if rule is None:
                resp = normal()
            else:
                kind = rule.get("body")
                status = rule.get("status")
                if kind is None and status is not None:
                    kind = "graph-error" if status >= 400 else "passthrough"
                if kind is None:
                    resp = normal()
                else:
                    builder, default_status = FAULT_BODIES[kind]
                    resp = builder(rule, status or default_status, ctx, normal, is_token)
                    disconnect = kind == "disconnect"
                    refuse = kind == "refuse"
                if "next_link" in rule:
                    resp = override_next_link(resp, rule["next_link"])
                if rule.get("retry_after") is not None:
                    ra = rule["retry_after"]
                    resp.headers.append(("Retry-After", str(int(ra)) if float(ra).is_integer() else str(ra)))
                if rule.get("delay_ms"):
                    time.sleep(rule["delay_ms"] / 1000.0)
                stall = rule.get("stall_ms") or 0
            entry[2] = 0 if refuse else resp.status
            if st.verbose:
                sys.stderr.write("emulator: %s %s %d\n" % (method, log_escape(_SECRET_RE.sub(r"\1***", target)),
                                                          resp.status))
            # no longer in flight once answered: the client may send its next
            # request before this thread gets past _send
            entry[4] = time.monotonic()
            st.log_done()
            done = True
            if refuse:
                self._refuse(rule.get("refuse_ms") or 1000)
            else:
                self._send(ctx, resp, stall, disconnect)
        finally:
            if not done:
                st.log_done()
            if entry[2] is None:
                entry[2] = 0

    def _refuse(self, refuse_ms):
        """A restart of Graph or of a proxy: this connection is reset
        without an answer, and new connections are refused for refuse_ms."""
        self.close_connection = True
        self.server.refuse_for(refuse_ms)   # first: a client told at once must find it closed
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _send(self, ctx, resp, stall_ms=0, disconnect=False):
        body = resp.body
        try:
            phrase = http.HTTPStatus(resp.status).phrase
        except ValueError:
            phrase = "Unknown"
        hdrs = [("Date", self.date_time_string()), ("Content-Type", resp.ctype),
                ("Content-Length", str(len(body))), ("Cache-Control", "no-cache"),
                ("request-id", ctx.request_id), ("client-request-id", ctx.client_request_id)]
        if resp.ctype == GRAPH_CT:
            hdrs.append(("OData-Version", "4.0"))
        hdrs.extend(resp.headers)
        if self.close_connection or disconnect:
            hdrs.append(("Connection", "close"))
        head = ("HTTP/1.1 %d %s\r\n" % (resp.status, phrase) +
                "".join("%s: %s\r\n" % kv for kv in hdrs) + "\r\n").encode("latin-1", "replace")
        if self.command == "HEAD":
            body = b""
        try:
            if stall_ms:
                self.wfile.write(head)
                self.wfile.flush()
                time.sleep(stall_ms / 1000.0)
                self.wfile.write(body)
            elif disconnect:
                self.wfile.write(head + body[:len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            else:
                self.wfile.write(head + body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    _refusing = None            # while refusing: the idle socket pair standing in for the listener
    _refuse_lock = threading.Lock()

    def refuse_for(self, ms):
        """Close the listening socket for ms (connections are refused), then
        listen again on the same port.  serve_forever polls the fd number
        (PollSelector), so another socket is put at that number meanwhile:
        one end of an idle socket pair, which never polls readable."""
        with self._refuse_lock:
            if self._refusing is not None:
                return
            fd = self.socket.fileno()
            a, b = socket.socketpair()
            os.dup2(a.fileno(), fd)
            a.close()
            self._refusing = b
        threading.Timer(ms / 1000.0, self._listen_again, args=(fd,)).start()

    def _listen_again(self, fd):
        with self._refuse_lock:
            new = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            new.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            new.bind(self.server_address)
            new.listen(self.request_queue_size)
            os.dup2(new.fileno(), fd)
            new.close()
            self._refusing.close()
            self._refusing = None

    def handle_error(self, request, client_address):
        if self.state.verbose:
            super().handle_error(request, client_address)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Microsoft Graph call-records emulator")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--records", type=int, default=50)
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--tenant-id", default="contoso")
    ap.add_argument("--client-id", default="test-client")
    ap.add_argument("--client-secret", default="test-secret")
    ap.add_argument("--token-lifetime", type=int, default=3599)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--file-root", default="",
                    help="the directory the PostgreSQL server's / is, seen from here (a server in a chroot): "
                         "the token file the tests name is read under it")
    ap.add_argument("--clock", choices=("moving", "fixed"), default="moving",
                    help="moving (default): calls of the last 29 days, the newest a few hours old; "
                         "fixed: the tests' calls of 2026-11-01..20, whatever the date")
    ap.add_argument("--fixed-time", dest="clock", action="store_const", const="fixed",
                    help="the same as --clock fixed")
    args = ap.parse_args(argv)
    if args.records < 0:
        ap.error("--records must be >= 0")
    dg.set_clock(args.clock == "moving")

    state = State(args)
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = state
    state.port = server.server_address[1]
    state.base = "http://127.0.0.1:%d" % state.port

    def on_signal(signum, frame):
        state.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    if args.port_file:
        tmp = "%s.tmp.%d" % (args.port_file, os.getpid())
        with open(tmp, "w") as fh:
            fh.write("%d\n" % state.port)
        os.replace(tmp, args.port_file)
    if args.verbose:
        sys.stderr.write("emulator: listening on %s (seed %d, %d records)\n" % (state.base, args.seed, args.records))
    while not state.stop.wait(0.5):
        pass
    time.sleep(0.05)          # let a /_emulator/shutdown answer go out
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
