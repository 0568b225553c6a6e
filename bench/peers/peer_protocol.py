"""The protocol every peer of `loom bench --peers` speaks, and the two ways to run a peer.

Why a long-lived peer: on a shared machine the background load changes from minute to minute, so a ratio between a
Loom figure and a peer figure taken minutes apart swings (0.49, 0.94, 0.47 for the same case in three runs). Loom
therefore starts each peer once per run and, for every benchmark case, alternates short timed rounds of its own with
rounds of the peer (Loom, peer, peer, Loom, Loom, peer, ...): both sides see the same load, and the ratio is the median
of the per-round ratios.

The protocol: JSON lines, one request on stdin, one answer on stdout (nothing else may be printed on stdout).
    peer -> {"peer": NAME, "version": "...", "details": {...}}                      once, at start
    -> {"cmd": "setup", "case": "trainstep/mlp", "threads": 2, "params": {...}, "warmup": 5}
    <- {"ok": true, "step_s": 0.0061}            builds the case, runs `warmup` steps; step_s: seconds of the last one
    -> {"cmd": "run", "iterations": 40}          times that many steps of the case set up last
    <- {"ok": true, "iterations": 40, "median_s": ..., "min_s": ..., "total_s": ...}
    -> {"cmd": "quit"}                           (end of input works too)
Any request that fails is answered {"ok": false, "error": "one line"} and the peer keeps serving.

A peer script defines its cases as {name: make(params) -> step} and calls `main`. Without --serve it runs the cases
on its own and prints a table (for running a peer by hand); --serve speaks the protocol. A peer in another language
(ONNX Runtime from C#, say) only has to answer the same requests.
"""
import argparse
import json
import statistics
import sys
import time


def describe_pool(info):
    """One line for a threadpoolctl entry: library, version, kernel, threading layer, threads."""
    keys = ("internal_api", "version", "architecture", "threading_layer", "filepath")
    return " ".join(str(info[k]) for k in keys if info.get(k)) + " threads=%s" % info.get("num_threads")


def _time_steps(step, iterations):
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def _setup(cases, set_threads, request):
    name = request["case"]
    if name not in cases:
        raise ValueError("unknown case '%s' (this peer has: %s)" % (name, ", ".join(sorted(cases))))
    set_threads(int(request.get("threads", 1)))
    step = cases[name](request.get("params") or {})
    times = _time_steps(step, max(1, int(request.get("warmup", 3))))
    return step, times[-1]


def serve(name, version, details, cases, set_threads, stdin=sys.stdin, stdout=sys.stdout):
    """Answers protocol requests from stdin until "quit" or end of input."""

    def answer(obj):
        stdout.write(json.dumps(obj) + "\n")
        stdout.flush()

    answer({"peer": name, "version": version, "details": details})
    step = None
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            cmd = request.get("cmd")
            if cmd == "quit":
                return
            if cmd == "setup":
                step = None  # a failed setup must not leave the previous case to be timed by mistake
                step, step_s = _setup(cases, set_threads, request)
                answer({"ok": True, "step_s": step_s})
            elif cmd == "run":
                if step is None:
                    raise RuntimeError("'run' before a successful 'setup'")
                iterations = max(1, int(request.get("iterations", 1)))
                t0 = time.perf_counter()
                times = _time_steps(step, iterations)
                answer({"ok": True, "iterations": iterations, "median_s": statistics.median(times),
                        "min_s": min(times), "total_s": time.perf_counter() - t0})
            else:
                raise ValueError("unknown command %r" % cmd)
        except Exception as e:  # one failed request must not end the peer: answer it and go on
            answer({"ok": False, "error": ("%s: %s" % (type(e).__name__, e)).splitlines()[0]})


def main(name, version, details, cases, set_threads):
    """`--serve`: speak the protocol. Otherwise: time each case (after warm-up) for --seconds and print a table."""
    ap = argparse.ArgumentParser(description="%s peer of `loom bench --peers`" % name)
    ap.add_argument("--serve", action="store_true", help="answer JSON-line requests on stdin (what Loom runs)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--only", default=None, help="comma-separated case names (default: all)")
    ap.add_argument("--seconds", type=float, default=2.0, help="timed seconds per case, after warm-up")
    ap.add_argument("--params", default="{}", help='JSON parameters for every case, e.g. \'{"n": 1024}\'')
    args = ap.parse_args()
    if args.serve:
        serve(name, version, details, cases, set_threads)
        return
    print("%s %s %s" % (name, version, json.dumps(details)))
    wanted = sorted(cases) if args.only is None else args.only.split(",")
    params = json.loads(args.params)
    for threads in (int(t) for t in args.threads.split(",")):
        for case in wanted:
            step, step_s = _setup(cases, set_threads, {"case": case, "threads": threads, "params": params, "warmup": 3})
            iterations = max(5, int(args.seconds / max(step_s, 1e-6)))
            times = _time_steps(step, iterations)
            print("%-36s threads %d  median %10.4f ms  min %10.4f ms  n=%d" % (
                case, threads, statistics.median(times) * 1e3, min(times) * 1e3, iterations), flush=True)
