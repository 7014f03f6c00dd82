#!/usr/bin/env python3
"""Write the libFuzzer seed inputs: every query of harness.c over every
example body of the Graph docs (emulator/fixtures) as the last page of its
chain and as it is (its next link then answered 404), plus two-page chains
joined by a next link on the harness's graph_url (list pages, and list rows
as the expanded children of a call record followed by their list page) and
an error answer.

usage: seeds.py FIXTURE_DIR OUT_DIR
"""
import json
import os
import sys

GRAPH_URL = "http://127.0.0.1:9"
SEPARATOR = b"\n\x1e\n"
NUM_QUERIES = 16
RECORD_ID = "e523d2ed-2966-4b6b-925b-754a88034cc5"


def bodies(fixture_dir):
    for name in sorted(os.listdir(fixture_dir)):
        if name.endswith(".json"):
            with open(os.path.join(fixture_dir, name), encoding="utf-8") as f:
                text = f.read().replace("https://graph.microsoft.com", GRAPH_URL)
            yield name[:-5], text


def as_record(text):
    """A list page's rows as the expanded children of one call record (the
    first page of a child-table query), its next link pointing at the list
    page that follows it in the seed."""
    value = json.loads(text)["value"]
    link = "%s/v1.0/communications/callRecords/%s/sessions?$skiptoken=page2" % (GRAPH_URL, RECORD_ID)
    return json.dumps({"id": RECORD_ID, "sessions": value, "sessions@odata.nextLink": link,
                       "participants_v2": value, "participants_v2@odata.nextLink": link})


def without_links(text):
    """The body as the last page of its chain: its next links removed (the
    docs' examples all have one, which the harness would answer 404)."""
    doc = json.loads(text)
    for key in [k for k in doc if k.endswith("@odata.nextLink")]:
        del doc[key]
    return json.dumps(doc)


def with_next_link(text, n):
    doc = json.loads(text)
    doc["@odata.nextLink"] = "%s/v1.0/communications/callRecords?$skiptoken=page%d" % (GRAPH_URL, n)
    return json.dumps(doc)


def main():
    fixture_dir, out = sys.argv[1], sys.argv[2]
    error = json.dumps({"error": {"code": "BadRequest", "message": "Invalid filter",
                                  "innerError": {"request-id": "r", "date": "2020-01-01T00:00:00"}}})
    count = 0
    for q in range(NUM_QUERIES):
        for name, text in bodies(fixture_dir):
            last = without_links(text)
            seeds = {"": last.encode(), "-dangling": text.encode()}
            if json.loads(text).get("value") is not None:
                seeds["-paged"] = with_next_link(last, 1).encode() + SEPARATOR + last.encode()
                seeds["-as-record"] = as_record(last).encode() + SEPARATOR + last.encode()
            for suffix, body in seeds.items():
                with open(os.path.join(out, "q%02d-%s%s" % (q, name, suffix)), "wb") as f:
                    f.write(bytes([q]) + body)
                count += 1
        with open(os.path.join(out, "q%02d-error" % q), "wb") as f:
            f.write(bytes([q | 0x80]) + error.encode())
        count += 1
    print("%d seeds" % count)


if __name__ == "__main__":
    main()
