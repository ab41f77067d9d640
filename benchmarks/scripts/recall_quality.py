#!/usr/bin/env python3
"""Recall quality of a running node, through its HTTP API, on both development sets.

LoCoMo's development half (read from --locomo, never copied into the project): each conversation
is a namespace, each turn the memory "SPEAKER: TEXT" with metadata dia_id and session_date, sent
in order in batches, text only (the node embeds). Every question with evidence asks its
conversation's namespace; it counts at k when an evidence turn is in the top k.

The project's own set (memory-node/src/test/resources/recall-quality): each turn the memory
"[date] speaker: text" with metadata speaker, date, session, ts the session date; dev and test
questions reported apart.

Prints recall@1/5/10/20 per mode and set, recall and remember timings, as markdown.
  recall_quality.py --url URL --token-file F [--locomo DIR] [--own DIR] [--modes keyword,vector,hybrid]
                    [--fusion '{"keyword":0.4}'] [--namespace-prefix P]
"""
import argparse, datetime, glob, json, os, statistics, sys, time, urllib.request, urllib.error

KS = (1, 5, 10, 20)


def call(url, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode()[:500]}")


def locomo(directory):
    sets = []
    for f in sorted(glob.glob(os.path.join(directory, "*.json"))):
        conv = json.load(open(f))
        ns = "locomo-" + os.path.basename(f)[:-5]
        turns, ids = [], {}
        s = 1
        while any(k.startswith(f"session_{s}") for k in conv) or f"session_{s + 1}" in conv:
            session = conv.get(f"session_{s}")
            if isinstance(session, list):
                date = conv.get(f"session_{s}_date_time", "")
                for t in session:
                    ids[t["dia_id"]] = len(turns)
                    turns.append({"text": f'{t["speaker"]}: {t["text"]}',
                                  "metadata": {"dia_id": t["dia_id"], "session_date": date}})
            s += 1
        questions = []
        for qa in conv["qa"]:
            evidence = {ids[e.strip()] for ev in qa.get("evidence", []) for e in str(ev).replace(",", ";").split(";")
                        if e.strip() in ids}
            if evidence:
                questions.append((qa["question"], evidence, "locomo"))
        sets.append((ns, turns, questions))
    return sets


def own(directory):
    turns, ids = [], {}
    for line in open(os.path.join(directory, "conversations.jsonl")):
        if not line.strip():
            continue
        t = json.loads(line)
        ids[t["id"]] = len(turns)
        day = datetime.date.fromisoformat(t["date"])
        ts = int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp() * 1000)
        turns.append({"text": f'[{t["date"]}] {t["speaker"]}: {t["text"]}',
                      "metadata": {"speaker": t["speaker"], "date": t["date"], "session": t["session"]},
                      "tags": ["conversation"], "ts": ts + len(turns) * 60_000})
    questions = []
    for line in open(os.path.join(directory, "questions.jsonl")):
        if line.strip():
            q = json.loads(line)
            questions.append((q["question"], {ids[e] for e in q["evidence"]}, "own-" + q["split"]))
    return [("own", turns, questions)]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token-file", required=True)
    p.add_argument("--locomo", default=os.path.normpath(os.path.join(root, "..", "shared", "eval", "locomo-dev")))
    p.add_argument("--own", default=os.path.join(root, "memory-node", "src", "test", "resources", "recall-quality"))
    p.add_argument("--modes", default="keyword,vector,hybrid")
    p.add_argument("--fusion", default=None, help="a JSON object sent as the recall's fusion")
    p.add_argument("--namespace-prefix", default="")
    p.add_argument("--embed-context", default=None,
                   help="comma-separated metadata keys sent as each remember's embedContext (LoCoMo: session_date)")
    p.add_argument("--skip-load", action="store_true", help="the namespaces are loaded already")
    a = p.parse_args()
    token = open(a.token_file).read().strip()
    fusion = json.loads(a.fusion) if a.fusion else None
    sets = (locomo(a.locomo) if os.path.isdir(a.locomo) else []) + own(a.own)
    load = cpu_load()
    remembered, remember_seconds = 0, 0.0
    for ns, turns, _ in sets:
        ns = a.namespace_prefix + ns
        if a.skip_load:
            continue
        t0 = time.monotonic()
        batch_turns = turns
        if a.embed_context:
            keys = a.embed_context.split(",")
            batch_turns = [dict(t, embedContext=[k for k in keys if k in t["metadata"]]) for t in turns]
        for i in range(0, len(batch_turns), 100):
            call(a.url, token, "POST", f"/v1/namespaces/{ns}/memories", {"memories": batch_turns[i:i + 100]})
        remember_seconds += time.monotonic() - t0
        remembered += len(turns)
    cid_index = {}
    # listing is in write order, which is the order the turns were sent in
    for ns, turns, _ in sets:
        ns_full = a.namespace_prefix + ns
        cid_index[ns_full] = {}
        cursor = None
        position = 0
        while True:
            page = call(a.url, token, "GET", f"/v1/namespaces/{ns_full}/memories?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
            for m in page["memories"]:
                cid_index[ns_full][m["cid"]] = position
                position += 1
            cursor = page.get("next")
            if not cursor:
                break
        if position != len(turns):
            sys.exit(f"{ns_full}: {position} memories listed, {len(turns)} turns sent")
    results = {}
    timings = {}
    for mode in a.modes.split(","):
        took, embed = [], []
        for ns, turns, questions in sets:
            ns_full = a.namespace_prefix + ns
            for question, evidence, set_name in questions:
                body = {"query": question, "k": 20, "mode": mode}
                if fusion:
                    body["fusion"] = fusion
                r = call(a.url, token, "POST", f"/v1/namespaces/{ns_full}/recall", body)
                took.append(r.get("tookMs", 0))
                if "embedMs" in r:
                    embed.append(r["embedMs"])
                ranked = [cid_index[ns_full].get(h["cid"], -1) for h in r["results"]]
                rank = next((i + 1 for i, t in enumerate(ranked) if t in evidence), 0)
                results.setdefault((set_name, mode), []).append(rank)
        timings[mode] = (statistics.median(took), statistics.median(embed) if embed else None)
    print(f"machine load before: {load}; after: {cpu_load()}")
    if remembered:
        print(f"remembered {remembered} memories (text only, batches of 100) in {remember_seconds:.1f} s: "
              f"{remembered / remember_seconds:.0f}/s")
    print()
    print("| set | questions | mode | recall@1 | recall@5 | recall@10 | recall@20 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for set_name in ("locomo", "own-dev", "own-test"):
        for mode in a.modes.split(","):
            ranks = results.get((set_name, mode))
            if not ranks:
                continue
            row = [sum(1 for r in ranks if 0 < r <= k) / len(ranks) for k in KS]
            print(f"| {set_name} | {len(ranks)} | {mode} | " + " | ".join(f"{x:.3f}" for x in row) + " |")
    print()
    for mode, (t, e) in timings.items():
        print(f"{mode}: median tookMs {t:.2f}" + (f", embedMs {e:.2f}" if e is not None else ""))


def cpu_load():
    return open("/proc/loadavg").read().split()[:3]


if __name__ == "__main__":
    main()
