#!/usr/bin/env python3
"""The docs test: every ```sql block of README.md runs as written against
the Graph emulator, and gives what the README shows after it.

Usage (inside a cluster with the extension installed, PG* set, e.g. in
scripts/test.sh's pg_virtualenv step):

    python3 scripts/readme_sql.py            # check; non-zero exit on a difference
    python3 scripts/readme_sql.py --update   # rewrite the README's shown outputs

It starts its own emulator with the moving clock (the default of
emulator/graph_emulator.py, what a user following the quick start gets:
calls of the last 29 days), so the examples' relative dates
(now() - interval '7 days') find calls, while the regression suite keeps
the fixed calls of its own emulator.  The blocks run in order, in a fresh
database (readme_sql), each with psql, with the emulator's URL in place of
the README's http://127.0.0.1:8089.

A block's expected output is the ``` block right after it (blank lines
between them only).  Outputs are compared with what varies between runs
masked on both sides: timestamps and dates (the calls move with the
clock), times in ms, the emulator's port, and the padding of psql's
columns.  A block without an output block must run without an error, and
none of its queries may return 0 rows.

An HTML comment on the line before a block changes how it runs:
  <!-- readme_sql: skip (why) -->        not run (listed in the summary)
  <!-- readme_sql: database NAME -->     run in a database of its own
  <!-- readme_sql: emulator credentials -->  a real tenant's block: its
        tenant_id, client_id and client_secret are replaced by the
        emulator's, and graph_url / login_url added
(the last two may be combined with "; ").
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
DOC_URL = "http://127.0.0.1:8089"
DATABASE = "readme_sql"

FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*readme_sql:\s*(.*?)\s*-->\s*$")
MASKS = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}(:\d{2})?|Z)?"), "<time>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "<date>"),
    (re.compile(r"\d+(\.\d+)? ms\b"), "<n> ms"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"^psql:[^:]*:\d+: ", re.M), ""),
]


class Block:
    def __init__(self, start, end, sql, marker):
        self.start, self.end, self.sql, self.marker = start, end, sql, marker
        self.out_start = self.out_end = None      # line range of the shown output's text
        self.shown = None
        self.actual = None
        self.status = ""

    def label(self):
        first = next((l for l in self.sql.splitlines() if l.strip() and not l.startswith("--")),
                     self.sql.splitlines()[0] if self.sql else "")
        comment = next((l[2:].strip() for l in self.sql.splitlines() if l.startswith("--")), None)
        return (comment or first.strip())[:70]


def parse(lines):
    """The sql blocks of the README, with their marker and shown output."""
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        if m.group(1) == "sql":
            k = i - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            mk = MARKER.match(lines[k]) if k >= 0 else None
            b = Block(i, j, "\n".join(lines[i + 1:j]) + "\n", mk.group(1) if mk else "")
            n = j + 1
            while n < len(lines) and not lines[n].strip():
                n += 1
            if n < len(lines) and FENCE.match(lines[n]) and FENCE.match(lines[n]).group(1) in ("", "text"):
                e = n + 1
                while e < len(lines) and not lines[e].startswith("```"):
                    e += 1
                b.out_start, b.out_end = n + 1, e
                b.shown = "\n".join(lines[n + 1:e])
                j = e
            blocks.append(b)
        i = j + 1
    return blocks


def normalise(text):
    for rx, rep in MASKS:
        text = rx.sub(rep, text)
    out = []
    for line in text.strip("\n").splitlines():
        line = re.sub(r"-{2,}", "-", line)
        line = re.sub(r"\s+", " ", line).strip()
        out.append(line)
    return "\n".join(out)


def start_emulator(workdir):
    port_file = os.path.join(workdir, "port")
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "emulator", "graph_emulator.py"),
                             "--port", "0", "--port-file", port_file],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(port_file):
            with open(port_file) as fh:
                return proc, "http://127.0.0.1:%d" % int(fh.read())
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    sys.exit("readme_sql: the emulator did not start")


def psql(db, sql, env):
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-P", "pager=off", "-d", db],
                       input=sql, capture_output=True, text=True, env=env, timeout=300)
    # messages (NOTICE, ERROR) after the output they follow, without psql's prefix
    text = p.stdout + p.stderr
    return p.returncode, re.sub(r"^psql:[^:]*:\d+: ", "", text, flags=re.M).rstrip("\n")


def admin(sql, env):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql],
                   check=True, env=env, capture_output=True, text=True)


def with_emulator_credentials(sql, url):
    sql = re.sub(r"tenant_id '[^']*'",
                 "tenant_id 'contoso', graph_url '%s', login_url '%s'" % (url, url), sql)
    sql = re.sub(r"client_id '[^']*'", "client_id 'test-client'", sql)
    return re.sub(r"client_secret '[^']*'", "client_secret 'test-secret'", sql)


def main():
    update = "--update" in sys.argv[1:]
    with open(README, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    blocks = parse(lines)
    env = dict(os.environ, PGTZ="UTC", PGOPTIONS="-c client_min_messages=notice")
    workdir = tempfile.mkdtemp(prefix="readme-sql-")
    proc, url = start_emulator(workdir)
    databases = set()
    failures = 0
    try:
        for b in blocks:
            opts = [o.strip() for o in b.marker.split(";") if o.strip()]
            if any(o.startswith("skip") for o in opts):
                b.status = "not run: " + next(o for o in opts if o.startswith("skip"))[4:].strip(" ()")
                continue
            db = DATABASE
            for o in opts:
                if o.startswith("database "):
                    db = DATABASE + "_" + o.split()[1]
            if db not in databases:
                admin("DROP DATABASE IF EXISTS %s" % db, env)
                admin("CREATE DATABASE %s" % db, env)
                databases.add(db)
            sql = b.sql.replace(DOC_URL, url)
            if "emulator credentials" in opts:
                sql = with_emulator_credentials(sql, url)
            rc, out = psql(db, sql, env)
            b.actual = out.replace(url, DOC_URL)
            rows = [int(n) for n in re.findall(r"^\((\d+) rows?\)$", out, re.M)]
            if b.shown is not None:
                same = normalise(b.shown) == normalise(b.actual)
                b.status = ("output as shown" if same else "OUTPUT DIFFERS") + \
                    ("" if not rows else ", rows %s" % "/".join(map(str, rows)))
                if not same and not update:
                    failures += 1
                    print("README.md:%d: the output differs from what the README shows:" % (b.start + 1))
                    print("--- shown\n%s\n--- actual\n%s\n---" % (b.shown, b.actual))
            elif rc != 0 or "ERROR:" in out:
                failures += 1
                b.status = "FAILED"
                print("README.md:%d: the block failed:\n%s" % (b.start + 1, out))
            elif 0 in rows:
                failures += 1
                b.status = "NO ROWS (%s)" % "/".join(map(str, rows))
                print("README.md:%d: a query of the block returned no rows:\n%s" % (b.start + 1, out))
            else:
                b.status = "ran" + ("" if not rows else ", rows %s" % "/".join(map(str, rows)))
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
        for db in databases:
            try:
                admin("DROP DATABASE IF EXISTS %s" % db, env)
            except subprocess.CalledProcessError:
                pass

    for b in blocks:
        print("README.md:%-5d %-72s %s" % (b.start + 1, b.label(), b.status))
    if update:
        for b in reversed(blocks):
            if b.out_start is not None and b.actual is not None:
                lines[b.out_start:b.out_end] = b.actual.split("\n")
        with open(README, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
        print("README.md: shown outputs updated")
        return 0
    skipped = sum(1 for b in blocks if b.status.startswith("not run"))
    print("readme_sql: %d blocks, %d run, %d not run, %d failed" %
          (len(blocks), len(blocks) - skipped, skipped, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
