"""Deterministic synthetic data for the Graph call-records emulator.

Everything here is a pure function of (seed, record count, record number,
session number, ...).  Randomness comes only from ``random.Random(int)``
instances and only their ``.random()`` method is used, so the output does not
depend on the Python version (ints are derived as ``int(r.random() * n)``,
choices by index).  The clock is read once, by set_clock(): with the fixed
clock (the tests' and the benchmark's) calls start between 2026-11-01 and
2026-11-20 whatever today is; with the moving clock (the default of
graph_emulator.py) the same records are spread over the 29 days before the
emulator started, the newest a few hours old, and the log functions hold
the 90 days up to then.

Times are handled as integer "ticks" (100 ns units since the Unix epoch, the
precision of .NET DateTimeOffset) and formatted with 0, 3, 6 or 7 fractional
digits; the stored tick value is truncated to what is printed, so the JSON
text is the single source of truth.
"""

import hashlib
import json
import random
import re
import time
import unicodedata

TICKS = 10_000_000                      # ticks per second
MS = 10_000                             # ticks per millisecond
BASE_TICKS = 1793491200 * TICKS         # 2026-11-01T00:00:00Z
DAY = 86400 * TICKS
HOUR = 3600 * TICKS
MINUTE = 60 * TICKS

# The clock (set_clock): SHIFT moves the fixed calendar (ticks, whole
# seconds), SPAN_DAYS is how many days the generated records spread over,
# LOG_WINDOW the (from, to) ticks the log functions hold (None: any day).
SHIFT = 0
SPAN_DAYS = 19
LOG_WINDOW = None
MOVING_SPAN_DAYS = 29     # inside Graph's 30 days of retention
MOVING_LOG_DAYS = 90


def set_clock(moving, now=None):
    """Fixed (the tests' data, 2026-11-01..20) or moving: the records over the
    29 days before now (seconds since the epoch, default the wall clock), the
    newest a few hours old, and log rows only within the 90 days up to now."""
    global SHIFT, SPAN_DAYS, LOG_WINDOW
    if not moving:
        SHIFT, SPAN_DAYS, LOG_WINDOW = 0, 19, None
        return
    now_ticks = int(time.time() if now is None else now) * TICKS
    base = now_ticks - MOVING_SPAN_DAYS * DAY - 3 * HOUR
    SHIFT, SPAN_DAYS = base - BASE_TICKS, MOVING_SPAN_DAYS
    LOG_WINDOW = (now_ticks - MOVING_LOG_DAYS * DAY, now_ticks)


def fixed_ticks(s):
    """A time of the fixed calendar (the hand-written records), on the clock."""
    return ticks_of(s) + SHIFT


def fixed_text(s):
    """A timestamp text of the fixed calendar, on the clock, with as many
    fractional digits as it has (unchanged on the fixed clock)."""
    if SHIFT == 0:
        return s
    digits = len(s.split(".")[1]) - 1 if "." in s else 0
    return fmt_ticks(ticks_of(s) + SHIFT, digits)

HOME_TENANT = "dc368399-474c-4d40-900c-6265431fd81f"   # tenant of the doc examples
GUEST_TENANT = "6b1a7f3e-2c4d-4e5f-8a9b-0c1d2e3f4a5b"
TEAMS_APP_ID = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
ADMIN_UNITS = ["7e1b2c3d-0a0b-4c0d-8e0f-a1b2c3d4e5f6",
               "9f8e7d6c-5b4a-4938-8271-605f4e3d2c1b",
               "0c9b8a7f-6e5d-4c4b-9a39-281706f5e4d3"]

ABBIE = ("821809f5-0000-0000-0000-3b5136c0e777", "Abbie Wilkins", "abbie.wilkins@contoso.com")
OWEN = ("f69e2c00-0000-0000-0000-185e5f5f5d8a", "Owen Franklin", "owen.franklin@contoso.com")

DIRECTORY_SIZE = 3000
SMALL_POOL = 300          # ordinary calls draw users from the first 300


def record_id(k):
    return "cafe0000-0000-4000-8000-%012d" % k


_REC_ID_RE = re.compile(r"^cafe0000-0000-4000-8000-(\d{12})$", re.I)


def record_number(rid):
    m = _REC_ID_RE.match(rid)
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------
# random helpers


class R:
    """Thin wrapper around random.Random that uses only .random()."""
    __slots__ = ("f",)

    def __init__(self, *parts):
        h = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
        self.f = random.Random(int.from_bytes(h, "big")).random

    def i(self, n):                     # 0 <= x < n
        return int(self.f() * n)

    def rng(self, lo, hi):              # lo <= x <= hi
        return lo + int(self.f() * (hi - lo + 1))

    def ch(self, seq):
        return seq[int(self.f() * len(seq))]

    def p(self, prob):
        return self.f() < prob

    def u(self, lo, hi):
        return lo + (hi - lo) * self.f()

    def guid(self):
        f = self.f
        a = int(f() * 4294967296)
        b = int(f() * 65536)
        c = 0x4000 | int(f() * 4096)
        d = 0x8000 | int(f() * 16384)
        e = int(f() * 281474976710656)
        return "%08x-%04x-%04x-%04x-%012x" % (a, b, c, d, e)


def fmt_ticks(t, digits=7):
    secs, frac = divmod(t, TICKS)
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if digits <= 0:
        return s + "Z"
    return s + "." + ("%07d" % frac)[:digits] + "Z"


def trunc_ticks(t, digits):
    q = 10 ** (7 - digits)
    return t - (t % q)


def dur(ms):
    """ISO 8601 duration from milliseconds: PT0.016S, PT1S, PT1.5S."""
    ms = int(ms)
    s, m = divmod(ms, 1000)
    if m == 0:
        return "PT%dS" % s
    return ("PT%d.%03d" % (s, m)).rstrip("0") + "S"


DIGIT_CHOICES = (7, 7, 7, 6, 3, 0)


def dts(r, t):
    """Format ticks with a randomly chosen number of fractional digits."""
    return fmt_ticks(t, r.ch(DIGIT_CHOICES))


def frac(r, lo, hi, nd=6):
    return round(r.u(lo, hi), nd)


def small_ratio(r, lo=0.0, hi=0.2, zero=0.35):
    """A fraction in [lo, hi]; often an exact JSON 0 like the doc examples."""
    if r.p(zero):
        return 0
    return round(r.u(lo, hi), r.ch((2, 4, 6, 8)))


# --------------------------------------------------------------------------
# user directory

FIRST = ["Adele", "Alex", "Diego", "Grady", "Henrietta", "Isaiah", "Johanna", "Joni", "Lee", "Lidia",
         "Lynne", "Megan", "Miriam", "Nestor", "Patti", "Pradeep", "Zoë", "Renée", "Łukasz", "Åsa",
         "Siobhán", "José", "Mei", "Hiroshi", "Fatima", "Olu", "Priya", "Sven", "Irvin", "Christie",
         "Debra", "Allan", "Enrico", "Gerhart", "Isabella", "Ben", "Cameron", "Emily", "Nadia", "Tomás"]
LAST = ["Vance", "Wilber", "Siciliani", "Archie", "Cerveny", "Parker", "Lauer", "Sherman", "Gu",
        "Holgersen", "Robinson", "Bowen", "Graham", "Wilke", "Fernandez", "Chaudhari", "Müller",
        "Lefèvre", "Wróbel", "Ødegård", "O'Brien", "Núñez", "Chen", "Tanaka", "Haddad", "Adeyemi",
        "Sharma", "Lindqvist", "Sayavong", "Cline", "Berger", "Deyo", "Moran", "Moos", "Walters",
        "Kowalski", "Novak", "Rossi", "Dubois", "Kim"]
_ASCII_MAP = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "'": "", " ": ""})


def _ascii(s):
    s = s.translate(_ASCII_MAP)
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii").lower()


def build_directory(seed):
    r = R(seed, "directory")
    users = []
    seen = {}
    for u in range(DIRECTORY_SIZE):
        if u == 0:
            uid, name, upn = ABBIE
            tenant, au = HOME_TENANT, None
        elif u == 1:
            uid, name, upn = OWEN
            tenant, au = HOME_TENANT, None
        else:
            first, last = r.ch(FIRST), r.ch(LAST)
            name = first + " " + last
            base = _ascii(first) + "." + _ascii(last)
            n = seen.get(base, 0)
            seen[base] = n + 1
            uid = r.guid()
            guest = r.p(0.05)
            tenant = GUEST_TENANT if guest else HOME_TENANT
            domain = "fabrikam.com" if guest else "contoso.com"
            upn = base + (str(n + 1) if n else "") + "@" + domain
            au = [ADMIN_UNITS[r.i(3)]] if (not guest and r.p(0.2)) else None
        users.append({"id": uid, "displayName": name, "upn": upn, "tenantId": tenant, "au": au})
    return users


def phone_number(r):
    if r.p(0.8):
        return "+1425555%04d" % r.i(10000)
    return r.ch(["+4930", "+4420", "+3314", "+5564", "+8133"]) + "%08d" % r.i(100000000)


# --------------------------------------------------------------------------
# building blocks (endpoints, devices, networks, streams)

CPUS = [("Intel(R) Core(TM) i7-1185G7 @ 3.00GHz", 8, 2995), ("Intel(R) Core(TM) i5-1145G7 @ 2.60GHz", 8, 2611),
        ("AMD EPYC 7452 32-Core Processor", 8, 2346), ("Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz", 2, 2594),
        ("AMD Ryzen 7 PRO 5850U with Radeon Graphics", 16, 1901), ("Apple M2", 8, 3490),
        ("13th Gen Intel(R) Core(TM) i7-1365U", 12, 1800), ("Qualcomm(R) Snapdragon(TM) 8cx Gen 3", 8, 2995)]
CLIENTS = [
    ("windows", "teams", "RTCC/2024.45.01.17 (TeamsClient/24295.606.3238.6194; Windows NT 10.0; x64)", "24295.606.3238.6194"),
    ("windows", "teams", "RTCC/2024.40.01.12 (TeamsClient/24277.3507.3205.5228; Windows NT 10.0; x64)", "24277.3507.3205.5228"),
    ("macOS", "teams", "RTCC/2024.45.01.17 (TeamsClient/24295.605.3225.8804; macOS 14.6.1)", "24295.605.3225.8804"),
    ("web", "teams", "RTCC/2024.44.01.11 (TeamsWebClient/24.44.1.11; Chrome 130.0.0.0; Windows NT 10.0)", "24.44.1.11"),
    ("android", "teams", "RTCC/2024.43.01.9 (TeamsMobile-Android/1416/1.0.0.2024432701; Pixel 8; Android 15)", "1416/1.0.0.2024432701"),
    ("iOS", "teams", "RTCC/2024.43.01.9 (TeamsMobile-iOS/6.22.2; iPhone15,3; iOS 18.1)", "6.22.2"),
    ("roomSystem", "teams", "RTCC/2024.41.01.5 (TeamsRooms/5.2.115.0; Windows NT 10.0; x64)", "5.2.115.0"),
    ("ipPhone", "teams", "RTCC/2024.38.01.2 (TeamsIPPhone/1449/1.0.94.2024081102; Poly CCX 600)", "1449/1.0.94.2024081102"),
    ("android", "skypeForBusiness", "RTCC/7.0.0.0 UCWA/7.0.0.0 AndroidLync/6.25.0.27 (SM-G930U Android 8.0.0)", None),
    ("windows", "skypeForBusiness", "UCCAPI/16.0.12527.20122 OC/16.0.12527.20194 (Skype for Business)", "16.0.12527.20194"),
]
SERVICE_UA = {
    "skypeForBusinessAudioVideoMcu": "av-mcu.teams.microsoft.com/2024.45.01.3",
    "skypeForBusinessApplicationSharingMcu": "as-mcu.teams.microsoft.com/2024.45.01.3",
    "mediationServer": "Microsoft.PSTNHub.SIPProxy v.2024.10.29.1",
    "gateway": "PSTN Gateway/2024.10.1",
    "mediaController": "Microsoft MediaController/2024.44.1.2",
    "skypeForBusinessAutoAttendant": "Microsoft.Skype.AutoAttendant/2024.10.3.1",
    "skypeForBusinessCallQueues": "Microsoft.Skype.CallQueues/2024.10.3.1",
    "conferencingAnnouncementService": "Microsoft Conferencing Announcement Service/2024.9.1.0",
    "customBot": "Microsoft.Graph.Communications.Client/1.2.0.10563",
}
RATINGS = ["notRated", "bad", "poor", "fair", "good", "excellent"]
FEEDBACK_TEXT = [None, None, "Echo at the start", "Could not hear the presenter", "Great call",
                 "Video froze twice", "Audio was choppy on Wi-Fi", "Fine"]
FEEDBACK_TOKENS = ["NoSound", "OtherNoSound", "Echo", "Noisy", "LowVolume", "Stopped", "DistortedSound", "Interruptions"]
FAILURE_REASONS = [("callSetup", "Media connectivity failure: no reachable ICE candidates"),
                   ("midcall", "Call dropped: network connectivity lost"),
                   ("callSetup", "Call rejected: 480 Temporarily Unavailable"),
                   ("midcall", "Media timeout, no RTP received for 30 seconds"),
                   ("unknown", "Unexpected client error")]
CAPTURE = [("Microphone (Realtek(R) Audio)", "Realtek: 6.0.9235.1"),
           ("Headset Microphone (Jabra Evolve2 65)", "Microsoft: 10.0.22621.1"),
           ("Microphone Array (Intel® Smart Sound Technology for Digital Microphones)", "Intel: 10.29.0.8640"),
           ("Microphone (Microsoft Virtual Audio Device (Simple) (WDM))", "Microsoft: 5.0.8638.1100"),
           ("Default input device", None), ("MacBook Pro Microphone", "Apple: 14.6.1")]
RENDER = [("Speakers (Realtek(R) Audio)", "Realtek: 6.0.9235.1"),
          ("Headset Earphone (Jabra Evolve2 65)", "Microsoft: 10.0.22621.1"),
          ("Speakers (Microsoft Virtual Audio Device (Simple) (WDM))", "Microsoft: 5.0.8638.1100"),
          ("Default output device", None), ("MacBook Pro Speakers", "Apple: 14.6.1")]
WIFI_DRIVERS = [("Intel(R) Wi-Fi 6 AX201 160MHz", "22.250.1.2", "Intel Corporation", "22.250.1.2"),
                ("Qualcomm Atheros QCA61x4A Wireless Network Adapter", "12.0.0.1118", "Qualcomm", "12.0.0.1118"),
                ("Realtek 8822CE Wireless LAN 802.11ac PCI-E NIC", "2024.0.10.131", "Realtek Semiconductor Corp.", "2024.0.10.131")]
LINK_SPEEDS = [4294967295, 1000000000, 100000000, 54000000, 866700000, 1201000000, 300000000]
AUDIO_CODECS = ["opus", "satin", "satinFullband", "silkWide", "silk", "g722", "pcmu", "pcma", "rtAudio16"]
VIDEO_CODECS = ["h264", "h264s", "h264uc", "av1", "h265", "rtVideo"]

STREAM_KEYS = ["streamId", "streamDirection", "startDateTime", "endDateTime", "audioCodec", "videoCodec",
               "averageAudioDegradation", "averageAudioNetworkJitter", "maxAudioNetworkJitter", "averageJitter",
               "maxJitter", "averagePacketLossRate", "maxPacketLossRate", "averageRatioOfConcealedSamples",
               "maxRatioOfConcealedSamples", "averageRoundTripTime", "maxRoundTripTime",
               "averageBandwidthEstimate", "packetUtilization", "postForwardErrorCorrectionPacketLossRate",
               "isAudioForwardErrorCorrectionUsed", "wasMediaBypassed", "averageReceivedFrameRate",
               "averageVideoFrameRate", "averageVideoFrameLossPercentage", "averageVideoPacketLossRate",
               "averageFreezeDuration", "rmsFreezeDuration", "lowFrameRateRatio",
               "lowVideoProcessingCapabilityRatio"]
DEVICE_KEYS = ["captureDeviceName", "captureDeviceDriver", "renderDeviceName", "renderDeviceDriver",
               "captureNotFunctioningEventRatio", "cpuInsufficentEventRatio", "deviceClippingEventRatio",
               "deviceGlitchEventRatio", "howlingEventCount", "initialSignalLevelRootMeanSquare",
               "lowSpeechLevelEventRatio", "lowSpeechToNoiseEventRatio", "micGlitchRate", "speakerGlitchRate",
               "receivedNoiseLevel", "receivedSignalLevel", "sentNoiseLevel", "sentSignalLevel",
               "renderMuteEventRatio", "renderNotFunctioningEventRatio", "renderZeroVolumeEventRatio"]
NETWORK_KEYS = ["ipAddress", "subnet", "reflexiveIPAddress", "relayIPAddress", "relayPort", "port", "macAddress",
                "dnsSuffix", "linkSpeed", "connectionType", "networkTransportProtocol",
                "basicServiceSetIdentifier", "bandwidthLowEventRatio", "delayEventRatio",
                "receivedQualityEventRatio", "sentQualityEventRatio", "wifiBand", "wifiRadioType", "wifiChannel",
                "wifiSignalStrength", "wifiBatteryCharge", "wifiMicrosoftDriver", "wifiMicrosoftDriverVersion",
                "wifiVendorDriver", "wifiVendorDriverVersion", "traceRouteHops"]


def identity_user(u):
    return {"id": u["id"], "displayName": u["displayName"], "tenantId": u["tenantId"]}


def participant_entity(ref, users):
    """participants_v2 / organizer_v2 entity for a user index or a phone number."""
    if isinstance(ref, str):
        return {"id": ref, "identity": {"user": None, "acsUser": None, "spoolUser": None,
                                        "phone": {"id": ref, "displayName": None, "tenantId": None}}}
    u = users[ref]
    ent = {"id": u["id"], "identity": {"user": identity_user(u)}}
    if u["au"]:
        ent["administrativeUnitInfos"] = [{"id": a} for a in u["au"]]
    return ent


def participant_endpoint(r, ref, users, feedback_p=0.1):
    if isinstance(ref, str):            # PSTN caller reached through the gateway
        return {"@odata.type": "#microsoft.graph.callRecords.participantEndpoint",
                "name": None, "cpuName": None, "cpuCoresCount": None, "cpuProcessorSpeedInMhz": None,
                "userAgent": {"@odata.type": "#microsoft.graph.callRecords.clientUserAgent",
                              "headerValue": None, "applicationVersion": None, "platform": "unknown",
                              "productFamily": "unknown", "azureADAppId": None, "communicationServiceId": None},
                "associatedIdentity": {"id": ref, "displayName": None, "tenantId": None,
                                       "userPrincipalName": None},
                "feedback": None}
    u = users[ref]
    cpu = r.ch(CPUS)
    cl = r.ch(CLIENTS)
    name = ("DESKTOP-%05X" % r.i(0x100000)) if r.p(0.7) else ("machineName_%d" % r.rng(1, 99))
    ep = {"@odata.type": "#microsoft.graph.callRecords.participantEndpoint",
          "name": name, "cpuName": cpu[0], "cpuCoresCount": cpu[1], "cpuProcessorSpeedInMhz": cpu[2],
          "userAgent": {"@odata.type": "#microsoft.graph.callRecords.clientUserAgent",
                        "headerValue": cl[2], "applicationVersion": cl[3], "platform": cl[0],
                        "productFamily": cl[1], "azureADAppId": TEAMS_APP_ID if cl[1] == "teams" else None,
                        "communicationServiceId": None},
          "associatedIdentity": {"id": u["id"], "displayName": u["displayName"], "tenantId": u["tenantId"],
                                 "userPrincipalName": u["upn"]},
          "feedback": None}
    if r.p(feedback_p):
        toks = {t: r.p(0.15) for t in FEEDBACK_TOKENS}
        ep["feedback"] = {"rating": r.ch(RATINGS), "text": r.ch(FEEDBACK_TEXT), "tokens": toks}
    return ep


def service_endpoint(role):
    return {"@odata.type": "#microsoft.graph.callRecords.serviceEndpoint",
            "userAgent": {"@odata.type": "#microsoft.graph.callRecords.serviceUserAgent",
                          "headerValue": SERVICE_UA.get(role, "Microsoft Service"),
                          "applicationVersion": None, "role": role}}


def is_client(ep):
    return ep["@odata.type"].endswith("participantEndpoint") and ep.get("name") is not None


def device_info(r, client, sparse):
    if not client:
        d = dict.fromkeys(DEVICE_KEYS)
        return {} if sparse else d
    cap = r.ch(CAPTURE)
    ren = r.ch(RENDER)
    d = {"captureDeviceName": cap[0], "captureDeviceDriver": cap[1],
         "renderDeviceName": ren[0], "renderDeviceDriver": ren[1],
         "captureNotFunctioningEventRatio": small_ratio(r, 0, 0.05, 0.85),
         "cpuInsufficentEventRatio": small_ratio(r, 0, 0.1, 0.7),
         "deviceClippingEventRatio": small_ratio(r, 0, 0.2, 0.6),
         "deviceGlitchEventRatio": small_ratio(r, 0, 0.2, 0.6),
         "howlingEventCount": 0 if r.p(0.9) else r.rng(1, 6),
         "initialSignalLevelRootMeanSquare": round(r.u(15, 220), 5),
         "lowSpeechLevelEventRatio": small_ratio(r, 0, 0.2, 0.5),
         "lowSpeechToNoiseEventRatio": small_ratio(r, 0, 0.2, 0.5),
         "micGlitchRate": r.rng(0, 400) if r.p(0.8) else round(r.u(0, 400), 2),
         "speakerGlitchRate": r.rng(0, 4000),
         "receivedNoiseLevel": -r.rng(50, 95), "receivedSignalLevel": -r.rng(5, 35),
         "sentNoiseLevel": -r.rng(50, 95), "sentSignalLevel": -r.rng(5, 35),
         "renderMuteEventRatio": 1 if r.p(0.05) else small_ratio(r, 0, 0.2, 0.6),
         "renderNotFunctioningEventRatio": small_ratio(r, 0, 0.05, 0.9),
         "renderZeroVolumeEventRatio": 1 if r.p(0.03) else small_ratio(r, 0, 0.2, 0.8)}
    if sparse:
        d = {k: v for k, v in d.items() if v is not None}
    return d


def network_info(r, client, sparse):
    if client:
        conn = r.ch(("wifi", "wifi", "wired", "wired", "wired", "mobile", "tunnel", "unknown"))
        if r.p(0.6):
            a, b, c = r.rng(0, 255), r.rng(0, 255), r.rng(2, 254)
            ip, subnet = "10.%d.%d.%d" % (a, b, c), "10.%d.%d.0" % (a, b)
        else:
            b, c = r.rng(0, 255), r.rng(2, 254)
            ip, subnet = "192.168.%d.%d" % (b, c), "192.168.%d.0" % b
        reflexive = "198.51.100.%d" % r.rng(1, 254)
        mac = r.ch(("00-00-00-00-00-00", "02:00:00:00:00:00", "00-00-00-00-00-00-00-00",
                    "A4-5E-60-%02X-%02X-%02X" % (r.i(256), r.i(256), r.i(256))))
        dns = r.ch(("corp.contoso.com", None, None, "home"))
        port = r.rng(50000, 50059)
        transport = "udp" if r.p(0.9) else "tcp"
    else:
        conn = "wired"
        ip = "52.114.%d.%d" % (r.rng(0, 255), r.rng(1, 254))
        subnet, reflexive, mac, dns = None, None, None, None
        port = r.rng(49152, 53247)
        transport = "udp"
    wifi = conn == "wifi"
    n = {"ipAddress": ip, "subnet": subnet, "reflexiveIPAddress": reflexive,
         "relayIPAddress": "52.114.188.%d" % r.rng(1, 254) if client else None,
         "relayPort": r.ch((3478, 3479, 3480, 3481)) if client and r.p(0.5) else (r.rng(50000, 59999) if client else None),
         "port": port, "macAddress": mac, "dnsSuffix": dns,
         "linkSpeed": r.ch(LINK_SPEEDS) if client else 10000000000,
         "connectionType": conn, "networkTransportProtocol": transport,
         "basicServiceSetIdentifier": ("%02x:%02x:%02x:%02x:%02x:%02x" % tuple(r.i(256) for _ in range(6))) if wifi else None,
         "bandwidthLowEventRatio": small_ratio(r, 0, 0.2, 0.7),
         "delayEventRatio": small_ratio(r, 0, 0.2, 0.7),
         "receivedQualityEventRatio": small_ratio(r, 0, 0.35, 0.6),
         "sentQualityEventRatio": small_ratio(r, 0, 0.35, 0.6),
         "wifiBand": r.ch(("frequency24GHz", "frequency50GHz", "frequency50GHz")) if wifi else "unknown",
         "wifiRadioType": r.ch(("wifi80211n", "wifi80211ac", "wifi80211ax")) if wifi else "unknown",
         "wifiChannel": r.ch((1, 6, 11, 36, 44, 100, 149)) if wifi else None,
         "wifiSignalStrength": r.rng(25, 100) if wifi else None,
         "wifiBatteryCharge": r.rng(5, 100) if wifi else None,
         "wifiMicrosoftDriver": None, "wifiMicrosoftDriverVersion": None,
         "wifiVendorDriver": None, "wifiVendorDriverVersion": None,
         "traceRouteHops": []}
    if wifi:
        drv = r.ch(WIFI_DRIVERS)
        n["wifiMicrosoftDriver"], n["wifiMicrosoftDriverVersion"] = drv[0], drv[1]
        n["wifiVendorDriver"], n["wifiVendorDriverVersion"] = drv[2], drv[3]
    if client and r.p(0.05):
        hops = []
        for h in range(1, r.rng(2, 5) + 1):
            hops.append({"hopCount": h, "ipAddress": "10.%d.%d.1" % (h, r.rng(0, 255)),
                         "roundTripTime": dur(r.rng(1, 40) * h)})
        n["traceRouteHops"] = hops
    if sparse:
        n = {k: v for k, v in n.items() if v is not None}
    return n


def stream(r, direction, video, seg_start, seg_end, style):
    """One mediaStream.  style: 0 full (nulls as null), 1 nulls omitted, 2 late telemetry."""
    q = r.f()
    bucket = 0 if q < 0.78 else (1 if q < 0.9 else 2)          # good / moderate / poor
    if bucket == 0:
        jit, loss, rtt = r.rng(1, 15), (0 if r.p(0.5) else round(r.u(0, 0.01), 8)), r.rng(15, 80)
        deg = None if r.p(0.4) else round(r.u(0, 0.5), 6)
        conceal = round(r.u(0, 0.02), 8)
    elif bucket == 1:
        jit, loss, rtt = r.rng(15, 30), round(r.u(0.01, 0.05), 8), r.rng(80, 200)
        deg = round(r.u(0.5, 1.5), 6)
        conceal = round(r.u(0.02, 0.06), 8)
    else:
        jit, loss, rtt = r.rng(31, 150), round(r.u(0.1, 0.2), 8), r.rng(200, 600)
        deg = round(r.u(1.5, 3.2), 6)
        conceal = round(r.u(0.06, 0.2), 8)
    secs = max(1, (seg_end - seg_start) // TICKS)
    s = {"streamId": str(r.rng(100000000, 2147483647)), "streamDirection": direction,
         "startDateTime": None, "endDateTime": None,
         "audioCodec": None, "videoCodec": None,
         "averageAudioDegradation": None, "averageAudioNetworkJitter": None, "maxAudioNetworkJitter": None,
         "averageJitter": dur(jit), "maxJitter": dur(jit + r.rng(1, 40)),
         "averagePacketLossRate": loss, "maxPacketLossRate": round(min(1.0, loss * r.u(1.2, 3.5)), 8) if loss else 0,
         "averageRatioOfConcealedSamples": None, "maxRatioOfConcealedSamples": None,
         "averageRoundTripTime": dur(rtt), "maxRoundTripTime": dur(rtt + r.rng(5, 200)),
         "averageBandwidthEstimate": r.rng(400000, 25000000),
         "packetUtilization": secs * (r.rng(45, 52) if not video else r.rng(90, 400)),
         "postForwardErrorCorrectionPacketLossRate": None,
         "isAudioForwardErrorCorrectionUsed": None, "wasMediaBypassed": r.p(0.05),
         "averageReceivedFrameRate": None, "averageVideoFrameRate": None,
         "averageVideoFrameLossPercentage": None, "averageVideoPacketLossRate": None,
         "averageFreezeDuration": None, "rmsFreezeDuration": None,
         "lowFrameRateRatio": None, "lowVideoProcessingCapabilityRatio": None}
    if r.p(0.25):
        s["startDateTime"] = dts(r, seg_start + r.rng(0, 3000) * MS)
        s["endDateTime"] = dts(r, seg_end)
    if video:
        s["videoCodec"] = r.ch(VIDEO_CODECS)
        fps = round(r.u(12, 30), 4) if bucket < 2 else round(r.u(4, 12), 4)
        s["averageReceivedFrameRate"] = fps
        s["averageVideoFrameRate"] = round(fps * r.u(0.95, 1.0), 4)
        s["averageVideoFrameLossPercentage"] = round(r.u(0, 3), 4) if bucket < 2 else round(r.u(5, 20), 4)
        s["averageVideoPacketLossRate"] = loss
        s["postForwardErrorCorrectionPacketLossRate"] = round(loss * r.u(0.1, 0.6), 8) if loss else 0
        s["averageFreezeDuration"] = dur(r.rng(50, 900)) if bucket > 0 or r.p(0.2) else None
        s["rmsFreezeDuration"] = dur(r.rng(50, 1200)) if s["averageFreezeDuration"] else None
        s["lowFrameRateRatio"] = small_ratio(r, 0, 0.2, 0.5)
        s["lowVideoProcessingCapabilityRatio"] = small_ratio(r, 0, 0.2, 0.6)
    else:
        s["audioCodec"] = r.ch(AUDIO_CODECS)
        s["averageAudioDegradation"] = deg
        s["averageAudioNetworkJitter"] = dur(jit + r.rng(0, 40))
        s["maxAudioNetworkJitter"] = dur(jit + r.rng(40, 200))
        s["averageRatioOfConcealedSamples"] = conceal
        s["maxRatioOfConcealedSamples"] = round(min(1.0, conceal * r.u(1.1, 2.5)), 8)
        s["isAudioForwardErrorCorrectionUsed"] = r.p(0.4)
    if style == 1:
        s = {k: v for k, v in s.items() if v is not None}
    elif style == 2:
        s = {"streamId": s["streamId"], "streamDirection": direction, "startDateTime": None,
             "endDateTime": None, "averageJitter": s["averageJitter"], "wasMediaBypassed": s["wasMediaBypassed"]}
    return s


def media_obj(r, label, caller_ep, callee_ep, nstreams, seg_start, seg_end, sparse):
    cc, ce = is_client(caller_ep), is_client(callee_ep)
    video = label != "main-audio"
    m = {"label": label,
         "callerNetwork": network_info(r, cc, sparse),
         "calleeNetwork": network_info(r, ce, sparse),
         "callerDevice": device_info(r, cc, sparse),
         "calleeDevice": device_info(r, ce, sparse)}
    style_roll = r.f()
    style = 1 if sparse else (0 if style_roll < 0.85 else (1 if style_roll < 0.95 else 2))
    dirs = ("callerToCallee", "calleeToCaller") if nstreams == 2 else (r.ch(("callerToCallee", "calleeToCaller")),)
    m["streams"] = [stream(r, d, video, seg_start, seg_end, style) for d in dirs]
    return m


def failure_info(r):
    stage, reason = r.ch(FAILURE_REASONS)
    return {"stage": stage, "reason": reason}


LABEL_MODALITY = {"main-audio": "audio", "main-video": "video", "applicationsharing-video": "screenSharing"}
MODALITY_ORDER = ["audio", "video", "screenSharing"]


def modalities_of(labels):
    present = {LABEL_MODALITY[l] for l in labels}
    return [m for m in MODALITY_ORDER if m in present]


def segments_for(r, seg_times, endpoints, labels_per_seg, nstreams_fn, sparse, fail_p=0.04):
    """Build the segment list.  endpoints: list of nseg+1 endpoints along the path."""
    segs = []
    for j, (s0, s1) in enumerate(seg_times):
        caller, callee = endpoints[j], endpoints[j + 1]
        seg = {"id": r.guid(), "startDateTime": dts(r, s0), "endDateTime": dts(r, s1),
               "caller": caller, "callee": callee,
               "failureInfo": failure_info(r) if r.p(fail_p) else None,
               "media": [media_obj(r, lab, caller, callee, nstreams_fn(lab), s0, s1, sparse)
                         for lab in labels_per_seg[j]]}
        if sparse and seg["failureInfo"] is None:
            del seg["failureInfo"]
        segs.append(seg)
    return segs


def split_times(r, s, e, n):
    if n == 1:
        return [(s, e)]
    cuts = sorted(s + int(r.f() * (e - s)) for _ in range(n - 1))
    pts = [s] + cuts + [e]
    return [(pts[j], pts[j + 1]) for j in range(n)]


# --------------------------------------------------------------------------
# record headers


def _distinct(r, n, pool, first=None):
    out, seen = [], set()
    if first is not None:
        out.append(first)
        seen.add(first)
    if n > pool // 3:                                   # partial Fisher-Yates
        idx = list(range(pool))
        for j in range(pool - 1, 0, -1):
            x = int(r.f() * (j + 1))
            idx[j], idx[x] = idx[x], idx[j]
        for v in idx:
            if len(out) >= n:
                break
            if v not in seen:
                out.append(v)
                seen.add(v)
        return out
    while len(out) < n:
        v = r.i(pool)
        if v not in seen:
            out.append(v)
            seen.add(v)
    return out


def join_url(r, org_user):
    thread = "".join(r.ch("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(40))
    return ("https://teams.microsoft.com/l/meetup-join/19%3ameeting_" + thread +
            "%40thread.v2/0?context=%7b%22Tid%22%3a%22" + HOME_TENANT + "%22%2c%22Oid%22%3a%22" +
            org_user["id"] + "%22%7d")


def make_header(seed, nrec, k, users):
    """Cheap, record-level facts: enough for the list endpoint and participant filters."""
    r = R(seed, "rec", k)
    slot = (SPAN_DAYS * DAY) // max(nrec, 50)
    h = {"k": k, "id": record_id(k), "version": 1, "kind": "random", "sparse": False,
         "type": "peerToPeer", "labels": ["main-audio"], "nsessions": 1}
    start = BASE_TICKS + SHIFT + (k - 1) * slot + int(r.f() * slot * 0.8)
    duration = r.rng(30, 3600) * TICKS + r.i(TICKS)
    h["version"] = r.ch((1, 1, 1, 2, 2, 3, 4))
    h["sparse"] = r.p(0.2)
    organizer = 0 if r.p(0.15) else r.i(SMALL_POOL)
    if r.p(0.6):                                         # peer to peer
        h["type"] = "peerToPeer"
        other = phone_number(r) if r.p(0.15) else _distinct(r, 2, SMALL_POOL, organizer)[1]
        parts = [organizer, other]
        h["nsessions"] = 1
        h["labels"] = ["main-audio"] + (["main-video"] if r.p(0.3) else []) + \
                      (["applicationsharing-video"] if r.p(0.15) else [])
    else:
        h["type"] = "groupCall"
        n = r.rng(2, 40)
        p = max(2, n - (r.rng(0, 3) if n > 5 else 0))
        parts = _distinct(r, p, SMALL_POOL, organizer)
        if r.p(0.2):
            parts[-1] = phone_number(r)
        h["nsessions"] = n
        h["labels"] = ["main-audio"] + (["main-video"] if r.p(0.6) else []) + \
                      (["applicationsharing-video"] if r.p(0.4) else [])
    h["organizer"] = organizer
    h["participants"] = parts
    h["start"] = start
    h["end"] = start + duration
    h["lastmod"] = start + duration + r.rng(30, 150) * MINUTE + r.i(TICKS)
    h["digits"] = (r.ch(DIGIT_CHOICES), r.ch(DIGIT_CHOICES), r.ch(DIGIT_CHOICES))
    h["join"] = join_url(r, users[organizer]) if h["type"] == "groupCall" else None

    if k == 1:
        h.update(kind="k1", type="peerToPeer", version=1, sparse=False, nsessions=1, labels=["main-audio"],
                 organizer=0, participants=[0, 1], join=None,
                 start=fixed_ticks("2026-11-01T09:15:21.2169889Z"), end=fixed_ticks("2026-11-01T09:27:46.7640013Z"),
                 lastmod=fixed_ticks("2026-11-01T10:31:02.582757Z"), digits=(6, 7, 7))
    elif k == 2:
        parts = _distinct(r, 140, SMALL_POOL, 0)
        h.update(kind="k2", type="groupCall", version=2, sparse=False, nsessions=150,
                 labels=["main-audio", "main-video", "applicationsharing-video"], organizer=0,
                 participants=parts, start=fixed_ticks("2026-11-01T14:00:03.1234567Z"),
                 end=fixed_ticks("2026-11-01T15:02:41.7654321Z"), lastmod=fixed_ticks("2026-11-01T16:30:00Z"),
                 digits=(0, 7, 7), join=join_url(r, users[0]))
    elif k == 3:
        parts = _distinct(r, 2600, DIRECTORY_SIZE, 1)
        for j in range(2590, 2600):
            parts[j] = "+1425555%04d" % (j - 2590 + 100)
        h.update(kind="k3", type="groupCall", version=3, sparse=False, nsessions=6000, labels=["main-audio"],
                 organizer=1, participants=parts, start=fixed_ticks("2026-11-02T16:00:00.5Z"),
                 end=fixed_ticks("2026-11-02T17:29:59.25Z"), lastmod=fixed_ticks("2026-11-02T19:12:44.123Z"),
                 digits=(3, 3, 3), join=join_url(r, users[1]))
    elif k == 4:
        parts = [2, 0, "+14255550100", 3, 4]
        h.update(kind="k4", type="groupCall", version=2, sparse=False, nsessions=5,
                 labels=["main-audio", "main-video", "applicationsharing-video"], organizer=2,
                 participants=parts, start=fixed_ticks("2026-11-03T10:30:00.0012345Z"),
                 end=fixed_ticks("2026-11-03T11:15:30.9876543Z"), lastmod=fixed_ticks("2026-11-03T12:01:12.5Z"),
                 digits=(7, 7, 7), join=join_url(r, users[2]))
    elif k == 5:
        h.update(kind="k5", type="unknown", version=1, sparse=False, nsessions=0, labels=[],
                 organizer="+5564981205182", participants=["+5564981205182"],
                 start=fixed_ticks("2026-11-03T18:05:00Z"), end=fixed_ticks("2026-11-03T18:05:04Z"),
                 lastmod=fixed_ticks("2026-11-03T19:20:00Z"), digits=(0, 0, 0), join=None)
    # the printed value is the truth
    d = h["digits"]
    h["start"] = trunc_ticks(h["start"], d[1])
    h["end"] = trunc_ticks(h["end"], d[2])
    h["lastmod"] = trunc_ticks(h["lastmod"], d[0])
    h["modalities"] = modalities_of(h["labels"])
    h["participant_ids"] = [p if isinstance(p, str) else users[p]["id"] for p in h["participants"]]
    return h


_TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?"
                    r"(Z|z|[+-]\d{2}:\d{2})?)?$")


def ticks_of(s):
    """Parse an ISO 8601 timestamp (or a bare date) into ticks; None if invalid."""
    import calendar
    m = _TS_RE.match(s)
    if not m:
        return None
    y, mo, d, hh, mi, ss, fr, tz = m.groups()
    if hh is not None and tz is None:
        return None
    try:
        secs = calendar.timegm((int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if not (1 <= int(mo) <= 12 and 1 <= int(d) <= 31 and int(hh or 0) < 24 and int(mi or 0) < 60
            and int(ss or 0) < 61):
        return None
    t = secs * TICKS + (int((fr + "0000000")[:7]) if fr else 0)
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        t -= sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60) * TICKS
    return t


def record_fields(h, users, order="get"):
    """Record-level properties (no sessions / participants_v2), in the docs' key order."""
    d = h["digits"]
    org = h["organizer"]
    org_ent = participant_entity(org, users)
    if isinstance(org, str):
        organizer = {"user": None, "phone": {"id": org, "displayName": None}}
    else:
        organizer = {"user": identity_user(users[org])}
    f = {}
    if order == "list":
        f["id"] = h["id"]
    f["version"] = h["version"]
    f["type"] = h["type"]
    f["modalities"] = list(h["modalities"])
    f["lastModifiedDateTime"] = fmt_ticks(h["lastmod"], d[0])
    f["startDateTime"] = fmt_ticks(h["start"], d[1])
    f["endDateTime"] = fmt_ticks(h["end"], d[2])
    if order != "list":
        f["id"] = h["id"]
    if h["join"]:
        f["joinWebUrl"] = h["join"]
    f["organizer"] = organizer
    f["organizer_v2"] = org_ent
    return f


# --------------------------------------------------------------------------
# sessions

SESSION_TAIL_KEYS = ("segments",)


def gen_session(seed, h, i, users):
    """Session i (0-based) of record h, with segments, as a dict in the docs' key order."""
    kind = h["kind"]
    if kind == "k1":
        return k1_session()
    r = R(seed, "ses", h["k"], i)
    sparse = h["sparse"]
    parts = h["participants"]
    rs, re_ = h["start"], h["end"]
    span = re_ - rs
    if kind == "k4":
        return k4_session(r, h, i, users)
    if h["type"] == "peerToPeer":
        caller = participant_endpoint(r, parts[0], users)
        callee = participant_endpoint(r, parts[1], users, 0.15)
        s0, s1 = rs, re_
        nseg = 1 if r.p(0.8) else 2
    else:
        ref = parts[i % len(parts)]
        caller = participant_endpoint(r, ref, users)
        callee = service_endpoint("conferencingAnnouncementService" if r.p(0.02) else "skypeForBusinessAudioVideoMcu")
        if i == 0:
            s0, s1 = rs, re_
        else:
            s0 = rs + int(r.f() * span * 0.4)
            s1 = re_ - int(r.f() * span * 0.4)
            if s1 <= s0:
                s1 = s0 + 30 * TICKS
        if kind == "k3":
            nseg = 1
        else:
            x = r.f()
            nseg = 1 if x < 0.7 else (2 if x < 0.9 else 3)
    # media labels: the first session carries every label of the call, others a subset
    if kind == "k3":
        labels = ["main-audio"]
    elif i == 0:
        labels = list(h["labels"])
    else:
        labels = [l for l in h["labels"] if l == "main-audio" or r.p(0.5)]
    seg_times = split_times(r, s0, s1, nseg)
    path = [caller]
    for _ in range(nseg - 1):
        path.append(service_endpoint(r.ch(("mediationServer", "mediaController", "gateway"))))
    path.append(callee)
    seg_labels = [labels] + [["main-audio"]] * (nseg - 1)
    if kind == "k3":
        nstreams_fn = lambda lab: 2
    else:
        nstreams_fn = lambda lab: 2 if r.p(0.8) else 1
    sess = {"id": r.guid(), "modalities": modalities_of(labels),
            "startDateTime": dts(r, s0), "endDateTime": dts(r, s1), "isTest": r.p(0.01),
            "caller": caller, "callee": callee,
            "failureInfo": failure_info(r) if r.p(0.04) else None}
    if sparse and sess["failureInfo"] is None:
        del sess["failureInfo"]
    sess["segments"] = segments_for(r, seg_times, path, seg_labels, nstreams_fn, sparse)
    return sess


def k4_session(r, h, i, users):
    """Record 4: 5 sessions, sessions 1 and 2 share one id (auto attendant -> call queue)."""
    rs, re_ = h["start"], h["end"]
    span = re_ - rs
    shared_id = "5e550004-aaaa-4000-8000-00000000a0a0"
    two = lambda lab: 2
    if i == 0:     # organizer in the meeting: audio + video + screen sharing, 1 segment
        caller = participant_endpoint(r, 2, users, 0)
        callee = service_endpoint("skypeForBusinessAudioVideoMcu")
        s0, s1 = rs, re_
        sid = "5e550004-0000-4000-8000-000000000001"
        labels = [["main-audio", "main-video", "applicationsharing-video"]]
        path = [caller, callee]
        fail = None
    elif i in (1, 2):  # PSTN caller, through the gateway, to AA then CQ: same session id
        caller = participant_endpoint(r, "+14255550100", users)
        role = "skypeForBusinessAutoAttendant" if i == 1 else "skypeForBusinessCallQueues"
        callee = service_endpoint(role)
        s0 = rs + 60 * TICKS + (i - 1) * 45 * TICKS
        s1 = s0 + (44 if i == 1 else 300) * TICKS + 1234567
        sid = shared_id
        n = 2 if i == 1 else 3
        path = [caller] + [service_endpoint(x) for x in ("gateway", "mediationServer")[:n - 1]] + [callee]
        labels = [["main-audio"]] * n
        fail = None
    elif i == 3:   # Abbie, audio + video, 2 segments, failed mid call
        caller = participant_endpoint(r, 0, users, 0)
        caller["feedback"] = {"rating": "bad", "text": "Video froze twice",
                              "tokens": {t: t in ("Stopped", "Interruptions") for t in FEEDBACK_TOKENS}}
        callee = service_endpoint("skypeForBusinessAudioVideoMcu")
        s0, s1 = rs + 5 * MINUTE, rs + 35 * MINUTE + 4321
        sid = "5e550004-0000-4000-8000-000000000004"
        path = [caller, service_endpoint("mediaController"), callee]
        labels = [["main-audio", "main-video"], ["main-audio", "main-video"]]
        fail = {"stage": "midcall", "reason": "Call dropped: network connectivity lost"}
    else:          # audio + screen sharing, 1 segment
        caller = participant_endpoint(r, 4, users, 0)
        callee = service_endpoint("skypeForBusinessApplicationSharingMcu")
        s0, s1 = rs + 2 * MINUTE, re_ - 3 * MINUTE
        sid = "5e550004-0000-4000-8000-000000000005"
        path = [caller, callee]
        labels = [["main-audio", "applicationsharing-video"]]
        fail = None
    seg_times = split_times(r, s0, s1, len(labels))
    all_labels = sorted({l for ls in labels for l in ls}, key=["main-audio", "main-video", "applicationsharing-video"].index)
    sess = {"id": sid, "modalities": modalities_of(all_labels),
            "startDateTime": fmt_ticks(s0, 7), "endDateTime": fmt_ticks(s1, 7), "isTest": False,
            "caller": caller, "callee": callee, "failureInfo": fail}
    sess["segments"] = segments_for(r, seg_times, path, labels, two, False, fail_p=0)
    if i == 3:
        sess["segments"][1]["failureInfo"] = dict(fail)
    return sess


# --------------------------------------------------------------------------
# record 1: hand-written, every property present and non-null

K1_CALLER = {"@odata.type": "#microsoft.graph.callRecords.participantEndpoint",
             "name": "DESKTOP-ABBIE01", "cpuName": "Intel(R) Core(TM) i7-1185G7 @ 3.00GHz",
             "cpuCoresCount": 8, "cpuProcessorSpeedInMhz": 2995,
             "userAgent": {"@odata.type": "#microsoft.graph.callRecords.clientUserAgent",
                           "headerValue": "RTCC/2024.45.01.17 (TeamsClient/24295.606.3238.6194; Windows NT 10.0; x64)",
                           "applicationVersion": "24295.606.3238.6194", "platform": "windows",
                           "productFamily": "teams", "azureADAppId": TEAMS_APP_ID,
                           "communicationServiceId": "acs-contoso-prod-01"},
             "associatedIdentity": {"id": ABBIE[0], "displayName": ABBIE[1], "tenantId": HOME_TENANT,
                                    "userPrincipalName": ABBIE[2]},
             "feedback": {"rating": "good", "text": "Fine",
                          "tokens": {"NoSound": False, "OtherNoSound": False, "Echo": False, "Noisy": False,
                                     "LowVolume": False, "Stopped": False, "DistortedSound": False,
                                     "Interruptions": False}}}
K1_CALLEE = {"@odata.type": "#microsoft.graph.callRecords.participantEndpoint",
             "name": "machineName_4", "cpuName": "Apple M2", "cpuCoresCount": 8, "cpuProcessorSpeedInMhz": 3490,
             "userAgent": {"@odata.type": "#microsoft.graph.callRecords.clientUserAgent",
                           "headerValue": "RTCC/2024.45.01.17 (TeamsClient/24295.605.3225.8804; macOS 14.6.1)",
                           "applicationVersion": "24295.605.3225.8804", "platform": "macOS",
                           "productFamily": "teams", "azureADAppId": TEAMS_APP_ID,
                           "communicationServiceId": "acs-contoso-prod-01"},
             "associatedIdentity": {"id": OWEN[0], "displayName": OWEN[1], "tenantId": HOME_TENANT,
                                    "userPrincipalName": OWEN[2]},
             "feedback": {"rating": "poor", "text": "Echo at the start",
                          "tokens": {"NoSound": False, "OtherNoSound": False, "Echo": True, "Noisy": True,
                                     "LowVolume": False, "Stopped": False, "DistortedSound": False,
                                     "Interruptions": False}}}
K1_CALLER_NET = {"ipAddress": "10.150.0.2", "subnet": "10.150.0.0", "reflexiveIPAddress": "198.51.100.23",
                 "relayIPAddress": "52.114.188.32", "relayPort": 3478, "port": 50012,
                 "macAddress": "A4-5E-60-1B-2C-3D", "dnsSuffix": "corp.contoso.com", "linkSpeed": 866700000,
                 "connectionType": "wifi", "networkTransportProtocol": "udp",
                 "basicServiceSetIdentifier": "00:1a:2b:3c:4d:5e", "bandwidthLowEventRatio": 0.02,
                 "delayEventRatio": 0.015, "receivedQualityEventRatio": 0.27, "sentQualityEventRatio": 0.05,
                 "wifiBand": "frequency50GHz", "wifiRadioType": "wifi80211ax", "wifiChannel": 36,
                 "wifiSignalStrength": 78, "wifiBatteryCharge": 64,
                 "wifiMicrosoftDriver": "Intel(R) Wi-Fi 6 AX201 160MHz", "wifiMicrosoftDriverVersion": "22.250.1.2",
                 "wifiVendorDriver": "Intel Corporation", "wifiVendorDriverVersion": "22.250.1.2",
                 "traceRouteHops": [{"hopCount": 1, "ipAddress": "10.150.0.1", "roundTripTime": "PT0.002S"},
                                    {"hopCount": 2, "ipAddress": "192.168.100.1", "roundTripTime": "PT0.011S"}]}
K1_CALLEE_NET = {"ipAddress": "192.168.1.44", "subnet": "192.168.1.0", "reflexiveIPAddress": "198.51.100.87",
                 "relayIPAddress": "52.114.188.102", "relayPort": 52810, "port": 50027,
                 "macAddress": "00-00-00-00-00-00-00-00", "dnsSuffix": "home", "linkSpeed": 4294967295,
                 "connectionType": "wired", "networkTransportProtocol": "udp",
                 "basicServiceSetIdentifier": "00:00:00:00:00:00", "bandwidthLowEventRatio": 0,
                 "delayEventRatio": 0.01, "receivedQualityEventRatio": 0.005, "sentQualityEventRatio": 0.31,
                 "wifiBand": "unknown", "wifiRadioType": "unknown", "wifiChannel": 0, "wifiSignalStrength": 0,
                 "wifiBatteryCharge": 100, "wifiMicrosoftDriver": "n/a", "wifiMicrosoftDriverVersion": "0.0",
                 "wifiVendorDriver": "n/a", "wifiVendorDriverVersion": "0.0", "traceRouteHops": []}
K1_CALLER_DEV = {"captureDeviceName": "Headset Microphone (Jabra Evolve2 65)",
                 "captureDeviceDriver": "Microsoft: 10.0.22621.1",
                 "renderDeviceName": "Headset Earphone (Jabra Evolve2 65)",
                 "renderDeviceDriver": "Microsoft: 10.0.22621.1",
                 "captureNotFunctioningEventRatio": 0, "cpuInsufficentEventRatio": 0.01,
                 "deviceClippingEventRatio": 0.002, "deviceGlitchEventRatio": 0.03, "howlingEventCount": 0,
                 "initialSignalLevelRootMeanSquare": 60.25816, "lowSpeechLevelEventRatio": 0.04,
                 "lowSpeechToNoiseEventRatio": 0.06, "micGlitchRate": 23, "speakerGlitchRate": 3830,
                 "receivedNoiseLevel": -68, "receivedSignalLevel": -10, "sentNoiseLevel": -72,
                 "sentSignalLevel": -12, "renderMuteEventRatio": 1, "renderNotFunctioningEventRatio": 0,
                 "renderZeroVolumeEventRatio": 1}
K1_CALLEE_DEV = {"captureDeviceName": "MacBook Pro Microphone", "captureDeviceDriver": "Apple: 14.6.1",
                 "renderDeviceName": "MacBook Pro Speakers", "renderDeviceDriver": "Apple: 14.6.1",
                 "captureNotFunctioningEventRatio": 0.01, "cpuInsufficentEventRatio": 0,
                 "deviceClippingEventRatio": 0, "deviceGlitchEventRatio": 0.12, "howlingEventCount": 2,
                 "initialSignalLevelRootMeanSquare": 146.7885, "lowSpeechLevelEventRatio": 0,
                 "lowSpeechToNoiseEventRatio": 0.18, "micGlitchRate": 143, "speakerGlitchRate": 182,
                 "receivedNoiseLevel": -86, "receivedSignalLevel": -14, "sentNoiseLevel": -80,
                 "sentSignalLevel": -20, "renderMuteEventRatio": 0, "renderNotFunctioningEventRatio": 0.005,
                 "renderZeroVolumeEventRatio": 0}
K1_STREAMS = [
    {"streamId": "1504545584", "streamDirection": "callerToCallee",
     "startDateTime": "2026-11-01T09:15:22.2169889Z", "endDateTime": "2026-11-01T09:27:46.764Z",
     "audioCodec": "opus", "videoCodec": "unknown",
     "averageAudioDegradation": 0.423311, "averageAudioNetworkJitter": "PT0.043S",
     "maxAudioNetworkJitter": "PT0.046S", "averageJitter": "PT0.016S", "maxJitter": "PT0.021S",
     "averagePacketLossRate": 0.0012, "maxPacketLossRate": 0.0345,
     "averageRatioOfConcealedSamples": 0.006233, "maxRatioOfConcealedSamples": 0.071928,
     "averageRoundTripTime": "PT0.061S", "maxRoundTripTime": "PT0.079S",
     "averageBandwidthEstimate": 9965083, "packetUtilization": 37250,
     "postForwardErrorCorrectionPacketLossRate": 0.0004, "isAudioForwardErrorCorrectionUsed": True,
     "wasMediaBypassed": False, "averageReceivedFrameRate": 0.5, "averageVideoFrameRate": 0.25,
     "averageVideoFrameLossPercentage": 1.5, "averageVideoPacketLossRate": 0.001,
     "averageFreezeDuration": "PT0.25S", "rmsFreezeDuration": "PT0.5S", "lowFrameRateRatio": 0.125,
     "lowVideoProcessingCapabilityRatio": 0.0625},
    {"streamId": "1785122252", "streamDirection": "calleeToCaller",
     "startDateTime": "2026-11-01T09:15:22.5Z", "endDateTime": "2026-11-01T09:27:46.7640013Z",
     "audioCodec": "satin", "videoCodec": "unknown",
     "averageAudioDegradation": 2.160898, "averageAudioNetworkJitter": "PT0.266S",
     "maxAudioNetworkJitter": "PT0.474S", "averageJitter": "PT0.045S", "maxJitter": "PT0.112S",
     "averagePacketLossRate": 0.1234, "maxPacketLossRate": 0.1875,
     "averageRatioOfConcealedSamples": 0.06233422, "maxRatioOfConcealedSamples": 0.1719,
     "averageRoundTripTime": "PT0.264S", "maxRoundTripTime": "PT1.5S",
     "averageBandwidthEstimate": 15644878, "packetUtilization": 709,
     "postForwardErrorCorrectionPacketLossRate": 0.045, "isAudioForwardErrorCorrectionUsed": False,
     "wasMediaBypassed": False, "averageReceivedFrameRate": 12.75, "averageVideoFrameRate": 11.5,
     "averageVideoFrameLossPercentage": 18.25, "averageVideoPacketLossRate": 0.155,
     "averageFreezeDuration": "PT1.234S", "rmsFreezeDuration": "PT2S", "lowFrameRateRatio": 0.2,
     "lowVideoProcessingCapabilityRatio": 0.1},
]


def k1_session():
    c = json.loads(json.dumps(K1_CALLER))
    e = json.loads(json.dumps(K1_CALLEE))
    return {"id": "5e550001-0000-4000-8000-000000000001", "modalities": ["audio"],
            "startDateTime": fixed_text("2026-11-01T09:15:21.2169889Z"),
            "endDateTime": fixed_text("2026-11-01T09:27:46.7640013Z"),
            "isTest": False, "caller": c, "callee": e,
            "failureInfo": None,
            "segments": [{
                "id": "5e690001-0000-4000-8000-000000000001",
                "startDateTime": fixed_text("2026-11-01T09:15:21.2169889Z"),
                "endDateTime": fixed_text("2026-11-01T09:27:46.7640013Z"),
                "caller": json.loads(json.dumps(K1_CALLER)), "callee": json.loads(json.dumps(K1_CALLEE)),
                "failureInfo": None,
                "media": [{"label": "main-audio",
                           "callerNetwork": json.loads(json.dumps(K1_CALLER_NET)),
                           "calleeNetwork": json.loads(json.dumps(K1_CALLEE_NET)),
                           "callerDevice": dict(K1_CALLER_DEV), "calleeDevice": dict(K1_CALLEE_DEV),
                           "streams": [k1_stream(s) for s in K1_STREAMS]}]}]}


def k1_stream(s):
    """A stream of record 1, its times on the clock."""
    s = dict(s)
    for key in ("startDateTime", "endDateTime"):
        s[key] = fixed_text(s[key])
    return s


# --------------------------------------------------------------------------
# PSTN and direct routing logs

PSTN_CALL_TYPES = [("user_in", 30), ("user_out", 30), ("conf_in", 8), ("conf_out", 4), ("user_out_transfer", 3),
                   ("emergency", 1), ("ucap_in", 4), ("ucap_out", 2)]
_PSTN_CT = [ct for ct, w in PSTN_CALL_TYPES for _ in range(w)]
DESTS = [("US", "United States", "+1", 0.0), ("DE", "Germany", "+49", 0.031), ("GB", "United Kingdom", "+44", 0.024),
         ("FR", "France", "+33", 0.027), ("BR", "Brazil", "+55", 0.089), ("JP", "Japan", "+81", 0.112)]
DR_TYPES = ["ByotIn", "ByotOut", "ByotInUserForwarded", "ByotOutUserForwarding", "ByotOut"]
DR_FAIL = [(486, 560486, "Busy Here"), (487, 540487, "Request Terminated"), (408, 560408, "Request Timeout"),
           (480, 560480, "Temporarily Unavailable"), (503, 531503, "Service Unavailable"),
           (404, 560404, "Not Found")]
LOCATIONS = ["USWE", "USEA", "EUNO", "EUWE", "APSE", "USSC"]


def _day_times(r, day_start, n):
    out = []
    for _ in range(n):
        # business hours weighted: 70% between 13:00 and 23:00 UTC
        if r.p(0.7):
            off = 13 * HOUR + int(r.f() * 10 * HOUR)
        else:
            off = int(r.f() * DAY)
        out.append(day_start + off)
    out.sort()
    return out


def dec(v):
    """Marker for a JSON decimal with exactly two fraction digits (replaced after json.dumps)."""
    return "\u0000DEC%.2f" % v


DEC_RE = re.compile(r'"\\u0000DEC(-?[0-9]+\.[0-9]{2})"')


def pstn_day(seed, day, users, beta):
    """Rows of getPstnCalls starting on day (days since epoch): list of (start_ticks, row dict)."""
    r = R(seed, "pstn", day)
    weekday = (day + 3) % 7 < 5          # 1970-01-01 was a Thursday
    n = (120 + r.i(60)) if weekday else (15 + r.i(25))
    rows = []
    for idx, t in enumerate(_day_times(r, day * DAY, n)):
        ct = r.ch(_PSTN_CT)
        bot = ct.startswith("ucap")
        u = users[r.i(SMALL_POOL)]
        inbound = ct.endswith("_in")
        dest = DESTS[0] if r.p(0.75) else r.ch(DESTS)
        durs = 0 if r.p(0.06) else int(r.f() * r.f() * 3600) + 1
        end = t + durs * TICKS
        tenant_no = "+1425555%04d" % r.i(10000)
        other = dest[2] + ("%010d" % (2000000000 + r.i(8000000000)) if dest[0] == "US" else "%09d" % r.i(1000000000))
        rate = 0.0 if inbound else (dest[3] or (0.019 if r.p(0.3) else 0.0))
        charge = round(durs / 60.0 * rate, 2)
        row = {"id": r.guid(),
               "callId": "%d_%d@61.221.%d.%d" % (r.rng(1000000000, 2147483647), r.rng(100000000, 199999999),
                                                 r.i(256), r.i(256)),
               "userId": None if bot else u["id"],
               "userPrincipalName": None if bot else u["upn"],
               "userDisplayName": None if bot else u["displayName"],
               "startDateTime": fmt_ticks(t, 7), "endDateTime": fmt_ticks(end, 7),
               "duration": durs, "charge": dec(charge), "callType": ct, "currency": "USD",
               "calleeNumber": tenant_no if inbound else other,
               "usageCountryCode": "US", "tenantCountryCode": "US",
               "connectionCharge": dec(0.0 if inbound or r.p(0.8) else 0.05),
               "callerNumber": other if inbound else tenant_no,
               "destinationContext": None if inbound else ("Domestic" if dest[0] == "US" else "International"),
               "destinationName": dest[1],
               "conferenceId": ("%08d" % r.i(100000000)) if ct.startswith("conf") else None,
               "licenseCapability": "MCOMEETADV" if ct.startswith("conf") else r.ch(("MCOPSTNU", "MCOPSTN1", "MCOPSTN2")),
               "inventoryType": "Service" if bot or ct.startswith("conf") else "Subscriber",
               "operator": "Microsoft" if r.p(0.8) else "Contoso Telecom",
               "callDurationSource": "microsoft" if r.p(0.85) else "operator"}
        if beta:
            # beta-only columns come from their own random stream, so the /beta rows are the
            # /v1.0 rows (same ids and values) plus these properties
            rb = R(seed, "pstn-beta", day, idx)
            v6 = not bot and rb.p(0.2)
            row["otherPartyCountryCode"] = dest[0]
            row["administrativeUnitInfos"] = [] if bot or not u["au"] else [{"id": a} for a in u["au"]]
            row["clientLocalIpV4Address"] = None if bot else "10.%d.%d.%d" % (rb.i(256), rb.i(256), rb.rng(2, 254))
            row["clientLocalIpV6Address"] = "fd00:%x:%x::%x" % (rb.i(65536), rb.i(65536), rb.rng(1, 65535)) \
                if v6 else None
            row["clientPublicIpV4Address"] = None if bot else "198.51.100.%d" % rb.rng(1, 254)
            row["clientPublicIpV6Address"] = "2001:db8:%x::%x" % (rb.i(65536), rb.rng(1, 65535)) if v6 else None
        rows.append((t, row))
    return rows


def dr_day(seed, day, users, beta):
    r = R(seed, "dr", day)
    weekday = (day + 3) % 7 < 5
    n = (110 + r.i(70)) if weekday else (10 + r.i(30))
    rows = []
    for idx, t in enumerate(_day_times(r, day * DAY, n)):
        u = users[r.i(SMALL_POOL)]
        ok = r.p(0.85)
        invite = t - r.rng(500, 6000) * MS
        durs = (int(r.f() * r.f() * 2400) + 1) if ok else 0
        ct = r.ch(DR_TYPES)
        t3 = trunc_ticks(t, 3)
        if ok:
            sip, sub, phrase = 0, 540000, "BYE"
            fail = "0001-01-01T00:00:00Z"
            end = fmt_ticks(t3 + durs * TICKS, 3)
        else:
            sip, sub, phrase = r.ch(DR_FAIL)
            fail = fmt_ticks(t3 + r.rng(100, 30000) * MS, 3)
            end = "0001-01-01T00:00:00Z"
        row = {"id": r.guid(), "correlationId": r.guid(), "userId": u["id"],
               "userPrincipalName": u["upn"], "userDisplayName": u["displayName"],
               "startDateTime": fmt_ticks(t3, 3), "inviteDateTime": fmt_ticks(invite, 3),
               "failureDateTime": fail, "endDateTime": end, "duration": durs, "callType": ct,
               "successfulCall": ok,
               "callerNumber": "+1425555%01d***" % r.i(10),
               "calleeNumber": "+%d%03d***" % (r.rng(1, 49), r.i(1000)),
               "mediaPathLocation": r.ch(LOCATIONS), "signalingLocation": r.ch(LOCATIONS),
               "finalSipCode": sip, "callEndSubReason": sub, "finalSipCodePhrase": phrase,
               "trunkFullyQualifiedDomainName": r.ch(("sbc1.contoso.com", "sbc2.contoso.com",
                                                      "tll-audiocodes01.adatum.biz")),
               "mediaBypassEnabled": r.p(0.3)}
        if beta:
            rb = R(seed, "dr-beta", day, idx)     # own stream: /beta rows = /v1.0 rows + these
            row["userCountryCode"] = "US" if rb.p(0.9) else rb.ch(("CA", "GB"))
            row["transferorCorrelationId"] = rb.guid() if "Forward" in ct else None
            row["otherPartyCountryCode"] = "US" if rb.p(0.8) else rb.ch(("DE", "GB", "FR"))
            row["administrativeUnitInfos"] = [{"id": a} for a in u["au"]] if u["au"] else []
        rows.append((t3, row))
    return rows


# --------------------------------------------------------------------------
# beta-only logs: SMS, PSTN blocked users, audio-conferencing dial-out report

SMS_DESTS = [("US", "United States", "+1"), ("CA", "Canada", "+1"), ("GB", "United Kingdom", "+44"),
             ("DE", "Germany", "+49"), ("FR", "France", "+33"), ("IN", "India", "+91")]


def _home_user(r, users):
    """A user of the home tenant (guests don't send SMS or get blocked here)."""
    while True:
        u = users[r.i(SMALL_POOL)]
        if u["tenantId"] == HOME_TENANT:
            return u


def sms_day(seed, day, users, beta=True):
    """Rows of getSmsLog sent on day: list of (sent ticks, smsLogRow dict).  About 50-80 rows on
    weekdays and 4-15 on weekends, so any 30-day window has more than 1,000 rows."""
    r = R(seed, "sms", day)
    weekday = (day + 3) % 7 < 5
    n = (50 + r.i(30)) if weekday else (4 + r.i(12))
    rows = []
    last_id = None
    for t in _day_times(r, day * DAY, n):
        u = _home_user(r, users)
        outbound = r.p(0.55)
        dest = SMS_DESTS[0] if r.p(0.8) else r.ch(SMS_DESTS)
        units = 1 if r.p(0.85) else r.rng(2, 4)
        tenant_no = "+1425555%04d" % r.i(10000)
        if dest[2] == "+1":
            other = "+1%010d" % (2000000000 + r.i(8000000000))
        else:
            other = dest[2] + "%09d" % r.i(1000000000)
        if dest[0] not in ("US", "CA") and r.p(0.7):
            other = other[:-3] + "***"              # per-country obfuscation of external numbers
        rate = 0.0 if not outbound else (0.0079 if dest[0] in ("US", "CA") else 0.0519)
        sms_id = last_id if (last_id is not None and r.p(0.03)) else r.guid()   # smsId is not unique
        last_id = sms_id
        row = {"id": r.guid(), "smsId": sms_id,
               "userId": u["id"], "userPrincipalName": u["upn"], "userDisplayName": u["displayName"],
               "userCountryCode": "US", "tenantCountryCode": "US",
               "sourceNumber": tenant_no if outbound else other,
               "destinationNumber": other if outbound else tenant_no,
               "sentDateTime": fmt_ticks(t, 7),
               "callCharge": dec(round(units * rate, 2)), "currency": "USD",
               "smsType": "sms_out" if outbound else "sms_in",
               "destinationContext": "International" if outbound and dest[0] != "US" else "Domestic",
               "destinationName": dest[1] if outbound else "United States",
               "otherPartyCountryCode": dest[0],
               "licenseCapability": "MCOSMS1",
               "smsUnits": units,
               "administrativeUnitInfos": [{"id": a} for a in u["au"]] if u["au"] else []}
        rows.append((t, row))
    return rows


BLOCK_REASONS = ["High Overall Usage", "High International Usage", "Suspicious Activity", "Fraud Suspected"]


def blocked_day(seed, day, users, beta=True):
    """Rows of getPstnBlockedUsersLog on day: 0-3 on weekdays, rarely one on weekends."""
    r = R(seed, "blocked", day)
    weekday = (day + 3) % 7 < 5
    n = r.i(4) if weekday else (1 if r.p(0.2) else 0)
    rows = []
    for t in _day_times(r, day * DAY, n):
        u = _home_user(r, users)
        blocked = r.p(0.65)
        t3 = trunc_ticks(t, 3)
        row = {"userId": u["id"], "userPrincipalName": u["upn"], "userDisplayName": u["displayName"],
               "blockDateTime": fmt_ticks(t3, 3),
               "userTelephoneNumber": "+1425555%04d" % r.i(10000),
               "userBlockMode": "Blocked" if blocked else "Unblocked",      # capitalised, as in the docs
               "blockReason": r.ch(BLOCK_REASONS) if blocked else "Tenant Requested",
               "remediationId": r.guid()}
        rows.append((t3, row))
    return rows


def dialout_report(pstn_rows):
    """Aggregate getPstnCalls rows (dicts, already restricted to the window) of call type conf_out
    (dial-out from online meetings) into pstnOnlineMeetingDialoutReport rows: one per organizer +
    usage location + destination context + currency, sorted by userPrincipalName, then the rest."""
    from decimal import Decimal
    agg = {}
    for row in pstn_rows:
        if row["callType"] != "conf_out":
            continue
        key = (row["userPrincipalName"], row["usageCountryCode"], row["destinationContext"], row["currency"])
        a = agg.get(key)
        if a is None:
            a = agg[key] = {"userId": row["userId"], "userPrincipalName": row["userPrincipalName"],
                            "userDisplayName": row["userDisplayName"], "usageLocation": row["usageCountryCode"],
                            "destinationContext": row["destinationContext"], "currency": row["currency"],
                            "totalCalls": 0, "totalCallCharge": Decimal("0.00"), "totalCallSeconds": 0}
        a["totalCalls"] += 1
        a["totalCallCharge"] += Decimal(row["charge"][4:]) + Decimal(row["connectionCharge"][4:])
        a["totalCallSeconds"] += row["duration"]
    out = []
    for key in sorted(agg, key=lambda k: tuple("" if x is None else x for x in k)):
        a = agg[key]
        a["totalCallCharge"] = "\u0000DEC%s" % a["totalCallCharge"].quantize(Decimal("0.01"))
        out.append(a)
    return out
