// The peer of bench case b: Microsoft's Graph JavaScript client
// (@microsoft/microsoft-graph-client, installed by bench/throughput.py into
// a temporary directory, never committed), as a user of the SDK reads the
// sessions of many call records: N workers, each taking the next call
// record and reading its sessions with the SDK's PageIterator, which
// follows each page's @odata.nextLink once the page is read.
//
// The emulator speaks plain http on 127.0.0.1; the SDK recognises
// absolute (next link) URLs and adds the token only for https Graph hosts.
// The two middlewares below adapt that and nothing else: one adds the
// bearer token held, one undoes the doubled base the SDK builds from an
// http next link and sends the request with Node's fetch, as the SDK's own
// HTTPMessageHandler does.
//
// usage: node sdk_client.cjs BASE_URL TOKEN WORKERS < ids.json
// prints {"ms": wall time, "streams": streams counted, "requests": GETs}
"use strict";

const { Client, PageIterator } = require("@microsoft/microsoft-graph-client");

const [base, token, workersArg] = process.argv.slice(2);
const workers = parseInt(workersArg, 10);
const ids = JSON.parse(require("fs").readFileSync(0, "utf8"));
let requests = 0;

const auth = {
    setNext(next) { this.next = next; },
    async execute(context) {
        context.options = context.options || {};
        context.options.headers = Object.assign({}, context.options.headers,
            { Authorization: "Bearer " + token });
        return this.next.execute(context);
    },
};

const transport = {
    async execute(context) {
        let url = typeof context.request === "string" ? context.request : context.request.url;
        const again = url.lastIndexOf("http://");
        if (again > 0)
            url = url.slice(again);
        requests++;
        context.response = await fetch(url, context.options);
    },
};
auth.setNext(transport);

const client = Client.initWithMiddleware({
    middleware: auth, baseUrl: base + "/", defaultVersion: "v1.0",
});

function streamsOf(session) {
    let n = 0;
    for (const g of session.segments || [])
        for (const m of g.media || [])
            n += (m.streams || []).length;
    return n;
}

async function readRecord(id) {
    let streams = 0;
    const first = await client.api("/communications/callRecords/" + id + "/sessions")
        .expand("segments").get();
    const it = new PageIterator(client, first, (s) => { streams += streamsOf(s); return true; });
    await it.iterate();
    return streams;
}

async function main() {
    const start = process.hrtime.bigint();
    let next = 0;
    let streams = 0;
    async function worker() {
        while (next < ids.length) {
            const n = await readRecord(ids[next++]);
            streams += n;
        }
    }
    await Promise.all(Array.from({ length: workers }, worker));
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    process.stdout.write(JSON.stringify({ ms, streams, requests }) + "\n");
}

main().catch((e) => { console.error(e); process.exit(1); });
