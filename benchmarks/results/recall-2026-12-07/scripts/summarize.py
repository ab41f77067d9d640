import glob, json, os, re, statistics, sys
RES = '/work/main/benchmarks/results/recall-2026-12-07'
runs = {}
import subprocess, datetime
def windows():
    w = []
    for f in glob.glob('/tmp/verify*.log') + glob.glob('/tmp/tune*.log'):
        b, m = subprocess.check_output(['stat', '-c', '%W %Y', f]).split()
        w.append((int(b), int(m)))
    return w
WIN = windows()
def span(t):
    ts = re.findall(r'(20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ)', t)
    p = lambda x: datetime.datetime.strptime(x, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc).timestamp()
    return p(ts[0]), p(ts[-1])
def contended(t):
    a, b = span(t)
    others = [int(x) for x in re.findall(r'others: (\d+)', t)]
    return any(o > 0 for o in others) or any(min(b, e0) - max(a, s0) > 10 for s0, e0 in WIN)
for f in sorted(glob.glob(RES + '/r*-http-*.txt')):
    m = re.match(r'r(\d+)-http-([ABC])\.txt', os.path.basename(f))
    r, c = int(m.group(1)), m.group(2)
    t = open(f).read()
    if '== done' not in t:
        continue
    rows = [l.split('|')[1:-1] for l in t.splitlines() if l.startswith('| remember-text') or l.startswith('| recall-text')]
    rows = [[x.strip() for x in row] for row in rows]
    loads = [l.split()[1] for l in t.splitlines() if l.startswith('loadavg:')]
    idx = re.search(r'launch-to-indexed ([\d.]+) s', t)
    caught = re.search(r'index caught up ([\d.]+) s later', t)
    d = {'round': r, 'cfg': c, 'busy': contended(t)}
    rem = rows[0]
    d['remember_items_s'] = float(rem[6]); d['remember_errors'] = int(rem[4])
    d['indexed_rate'] = 6400 / float(idx.group(1)); d['catchup_s'] = float(caught.group(1))
    for name, row in zip(['uncached', 'cached16', 'cached1', 'uncached1'], rows[1:5]):
        d[name] = (float(row[7]), float(row[9]), float(row[5]), int(row[3]), int(row[4]), float(row[8]))  # p50, p99, req/s, n, errors
    d['load'] = {'remember': loads[0], 'uncached': loads[2], 'cached16': loads[3], 'cached1': loads[4], 'uncached1': loads[6] if len(loads) > 6 else '-'}
    runs[(r, c)] = d

def stat(vals, fmt):
    return f"{fmt.format(statistics.median(vals))} ({fmt.format(min(vals))}–{fmt.format(max(vals))})" if vals else '-'

names = {'A': 'A before, BGE', 'B': 'B after, E5 + context', 'C': 'C after, BGE, context weight 0'}
out = []
out.append('## Per run (loadavg = 1-min load when the step started)\n')
out.append('| round | config | remember items/s | indexed items/s | catch-up s | load | uncached p50 / p99 ms | load | cached p50 / p99 ms (16 conn) | req/s | load | cached p50 / p99 ms (1 conn) | load | errors | lead build running |')
out.append('|---|---|---:|---:|---:|---|---|---|---|---:|---|---|---|---:|---|')
for (r, c), d in sorted(runs.items()):
    err = d['remember_errors'] + sum(d[k][4] for k in ['uncached', 'cached16', 'cached1', 'uncached1'] if k in d)
    out.append(f"| {r} | {c} | {d['remember_items_s']:.0f} | {d['indexed_rate']:.0f} | {d['catchup_s']:.1f} | {d['load']['remember']} | "
               f"{d['uncached'][0]:.2f} / {d['uncached'][1]:.2f} | {d['load']['uncached']} | {d['cached16'][0]:.2f} / {d['cached16'][1]:.2f} | {d['cached16'][2]:.0f} | {d['load']['cached16']} | "
               f"{d['cached1'][0]:.2f} / {d['cached1'][1]:.2f} | {d['load']['cached1']} | {err} | {'YES' if d['busy'] else 'no'} |")
out.append('\n## Uncached text recall, one connection, after a node restart (rounds 4 and later)\n')
out.append('| round | config | p50 ms | p90 ms | p99 ms | req/s | load | lead build running |')
out.append('|---|---|---:|---:|---:|---:|---|---|')
for (r, c), d in sorted(runs.items()):
    if 'uncached1' in d:
        u = d['uncached1']
        out.append(f"| {r} | {c} | {u[0]:.2f} | {u[5]:.2f} | {u[1]:.2f} | {u[2]:.0f} | {d['load']['uncached1']} | {'YES' if d['busy'] else 'no'} |")
out.append('')
for c, q in [(c, q) for q in (False,) for c in 'ABC']:
    ds = [d for (r, cc), d in sorted(runs.items()) if cc == c and 'uncached1' in d and not (q and d['busy'])]
    if ds:
        out.append(f"- {names[c]}: {len(ds)} runs, p50 {stat([d['uncached1'][0] for d in ds], '{:.2f}')} ms, p99 {stat([d['uncached1'][1] for d in ds], '{:.2f}')} ms")
out.append('\n## Medians (min–max) over rounds\n')
out.append('| config | rounds | remember items/s | indexed items/s | uncached p50 ms | uncached p99 ms | cached p50 ms (16) | cached p99 ms (16) | cached req/s (16) | cached p50 ms (1) | cached p99 ms (1) |')
out.append('|---|---:|---|---|---|---|---|---|---|---|---|')
for c, q in [(c, q) for q in (False, True) for c in 'ABC']:
    ds = [d for (r, cc), d in sorted(runs.items()) if cc == c and not (q and d['busy'])]
    if not ds: continue
    g = lambda f: [f(d) for d in ds]
    out.append(f"| {names[c]}{' (quiet runs only)' if q else ''} | {len(ds)} | {stat(g(lambda d: d['remember_items_s']), '{:.0f}')} | {stat(g(lambda d: d['indexed_rate']), '{:.0f}')} | "
               f"{stat(g(lambda d: d['uncached'][0]), '{:.2f}')} | {stat(g(lambda d: d['uncached'][1]), '{:.2f}')} | "
               f"{stat(g(lambda d: d['cached16'][0]), '{:.2f}')} | {stat(g(lambda d: d['cached16'][1]), '{:.2f}')} | {stat(g(lambda d: d['cached16'][2]), '{:.0f}')} | "
               f"{stat(g(lambda d: d['cached1'][0]), '{:.2f}')} | {stat(g(lambda d: d['cached1'][1]), '{:.2f}')} |")
# JMH
jmh = {}
for f in sorted(glob.glob(RES + '/jmh-r*-*.json')):
    m = re.match(r'jmh-r(\d+)-(before|after)\.json', os.path.basename(f))
    r, b = int(m.group(1)), m.group(2)
    txt = open(RES + f'/r{r}-jmh-{b}.txt').read()
    loads = [l.split()[1] for l in txt.splitlines() if l.startswith('loadavg:')]
    try:
        data = json.load(open(f))
    except Exception:
        continue
    for e in data:
        mode = e['benchmark'].rsplit('.', 1)[1]
        p = e['primaryMetric']['scorePercentiles']
        jmh[(r, b, mode)] = (e['primaryMetric']['score'], p['50.0'], p['99.0'], loads[0] if loads else '?', contended(txt))
if jmh:
    out.append('\n## JMH RecallBenchmark, in process, 20,000 memories (the whole corpus), merged, k=10, one thread\n')
    out.append('| round | build | mode | mean ms | p50 ms | p99 ms | load at start | lead build running |')
    out.append('|---|---|---|---:|---:|---:|---|---|')
    for (r, b, mode), v in sorted(jmh.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1] != 'before')):
        out.append(f"| {r} | {b} | {mode} | {v[0]:.3f} | {v[1]:.3f} | {v[2]:.3f} | {v[3]} | {'YES' if v[4] else 'no'} |")
    out.append('\n| mode | build | rounds | mean ms | p50 ms | p99 ms |')
    out.append('|---|---|---:|---|---|---|')
    for mode in ['vector', 'keyword', 'hybrid']:
        for b, q in [('before', False), ('after', False), ('before', True), ('after', True)]:
            vs = [v for (r, bb, mm), v in jmh.items() if bb == b and mm == mode and not (q and v[4])]
            if vs:
                out.append(f"| {mode} | {b}{' (quiet only)' if q else ''} | {len(vs)} | {stat([v[0] for v in vs], '{:.3f}')} | {stat([v[1] for v in vs], '{:.3f}')} | {stat([v[2] for v in vs], '{:.3f}')} |")
print('\n'.join(out))
