#!/usr/bin/env python3
"""Write the libFuzzer seed inputs: every query of harness.c over every
example body of the Graph docs (emulator/fixtures), plus two-page chains
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
NUM_QUERIES = 12
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
            seeds = {"": text.encode()}
            if json.loads(text).get("value") is not None:
                seeds["-paged"] = with_next_link(text, 1).encode() + SEPARATOR + text.encode()
                seeds["-as-record"] = as_record(text).encode() + SEPARATOR + text.encode()
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
