#!/usr/bin/env python3
"""Pairs the 1- and 2-thread rows of `loom bench` JSON reports (schema 2) into one markdown table: Loom ms, peer ms,
Loom/peer ratio, 2-thread scaling, and flags (a) ratio > 1, (b) 2 threads slower, (b?) scaling < 1.3, (c) unstable.
Usage: python3 bench/thread_table.py report.json [more.json ...]  (Note [Bench], session 36)."""
import json, re, sys

rows = {}
order = []
def norm(c):
    c2 = re.sub(r'(\s|^)(t[12]|@[12]t|threads[ =][12]|[12]t)(\s|$)', ' ', c)
    c2 = re.sub(r'threads=[12]', '', c2)
    return re.sub(r'\s+', ' ', c2).strip()
def threads(c, r):
    m = re.search(r'(?:^|\s)(?:t([12])|@([12])t|threads[ =]([12])|([12])t)(?:\s|$)', c) or re.search(r'threads=([12])', c)
    if m: return int([g for g in m.groups() if g][0])
    return r.get('threads')
def ms(r):
    if 'ratio' in r and 'peer_ms' in r and r['benchmark'] != 'linear-fused': return r['ratio'] * r['peer_ms'], 'ms'
    for k in ['ms', 'median_ms', 'kv_cache_ms', 'fused_ms', 'direct_ms', 'int8_ms', 'loom_ms', 'step_ms', 'ms_per_step', 'epoch_s']:
        if k in r: return r[k], k
    if 'us' in r: return r['us'] / 1000, 'ms'
    for k in ['gflops', 'GFLOP/s', 'GB/s', 'samples/s', 'samples_per_s', 'images/s']:
        if k in r: return 1 / r[k], '1/' + k
    return None, None
for f in sys.argv[1:]:
    for r in json.load(open(f))['results']:
        key = (r['benchmark'], norm(r['case']))
        t = threads(r['case'], r)
        if key not in rows: rows[key] = {}; order.append(key)
        rows[key][t] = r
print('| bench | case | Loom 1t ms | Loom 2t ms | 2t scaling | peer | peer 1t ms | peer 2t ms | ratio 1t | ratio 2t | flags |')
print('|---|---|---|---|---|---|---|---|---|---|---|')
def f(x): return '' if x is None else (f'{x:.4g}')
for key in order:
    d = rows[key]; r1 = d.get(1); r2 = d.get(2)
    m1, k1 = ms(r1) if r1 else (None, None); m2, k2 = ms(r2) if r2 else (None, None)
    if m1 is None and m2 is None: continue
    sc = m1 / m2 if m1 and m2 else None
    peer = (r1 or r2).get('peer', '')
    p1 = r1.get('peer_ms') if r1 else None; p2 = r2.get('peer_ms') if r2 else None
    q1 = r1.get('ratio') if r1 and 'peer' in r1 else None; q2 = r2.get('ratio') if r2 and 'peer' in r2 else None
    flags = []
    if (q1 and q1 > 1) or (q2 and q2 > 1): flags.append('(a)')
    if sc is not None and sc < 1.3: flags.append('(b)' if sc < 1 else '(b?)')
    if (r1 and r1.get('unstable')) or (r2 and r2.get('unstable')): flags.append('(c)')
    unit = '' if k1 in (None, 'ms', 'median_ms', 'kv_cache_ms', 'fused_ms', 'direct_ms', 'step_ms', 'int8_ms') else f' [{k1 or k2}]'
    if unit.startswith(' [1/'): m1v = f(1/m1) if m1 else ''; m2v = f(1/m2) if m2 else ''; unit = ' [' + (k1 or k2)[2:] + ']'
    else: m1v, m2v = f(m1), f(m2)
    print(f'| {key[0]} | {key[1]}{unit} | {m1v} | {m2v} | {f(sc)} | {peer} | {f(p1)} | {f(p2)} | {f(q1)} | {f(q2)} | {" ".join(flags)} |')
