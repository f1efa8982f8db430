#!/usr/bin/env python3
"""Tables for the CLV benchmark, from the run directory benches/clv/run fills.

    compare.py RUN_DIR [--markdown FILE]

RUN_DIR/cases.txt lists one case a line: `label<TAB>customers-label<TAB>stem`. For a stem there are
STEM.strata.json / STEM.strata.time (stdout and `/usr/bin/time -v` of `strata clv --json`) and
STEM.peer.json / STEM.peer.time (of peer_lifetimes.py), plus optionally STEM.peerc.* (the peer
with --compress). A missing side is shown as not run.

Two parameters agree to 3 significant digits when |a - b| / max(|a|, |b|) < 5e-4.
"""
import argparse
import json
import os
import re
import sys

TOL = 5e-4
MODELS = [("bgnbd", "BG/NBD", ("r", "alpha", "a", "b")),
          ("mbgnbd", "MBG/NBD", ("r", "alpha", "a", "b")),
          ("pareto_nbd", "Pareto/NBD", ("r", "alpha", "s", "beta")),
          ("gamma_gamma", "Gamma-Gamma", ("p", "q", "gamma"))]
SYM = {"alpha": "α", "beta": "β", "gamma": "γ"}


def load_json(path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as f:
        text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        i = text.find("{")  # tolerate a line printed before the JSON
        return json.loads(text[i:]) if i >= 0 else None


def load_time(path):
    """(wall seconds, max RSS MB, exit status) from `/usr/bin/time -v` output."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        text = f.read()
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    r = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    e = re.search(r"Exit status: (\d+)", text)
    if not m or not r:
        return None
    secs = 0.0
    for part in m.group(1).split(":"):
        secs = secs * 60 + float(part)
    return secs, int(r.group(1)) / 1024.0, int(e.group(1)) if e else None


def param(d, key):
    if d is None:
        return None
    v = d.get(key)
    if v is None and key == "gamma":
        v = d.get("v")
    return v if isinstance(v, (int, float)) else None


def rel(a, b):
    if a is None or b is None:
        return None
    m = max(abs(a), abs(b))
    return 0.0 if m == 0 else abs(a - b) / m


def fmt(v, digits=5):
    if v is None:
        return "–"
    return f"{v:.{digits}g}"


def fmt_s(v):
    return "–" if v is None else (f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}")


def params_str(d, keys):
    if d is None:
        return "not run"
    if any(param(d, k) is None for k in keys):
        return "failed"
    return ", ".join(f"{SYM.get(k, k)} {fmt(param(d, k))}" for k in keys)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    cases = []
    with open(os.path.join(args.run_dir, "cases.txt")) as f:
        for line in f:
            if line.strip():
                cases.append(line.rstrip("\n").split("\t"))

    lines = []
    lines.append("| data set | customers | side | time (s) | peak memory (MB) | stages (s) |")
    lines.append("|---|---:|---|---:|---:|---|")
    params_lines = []
    params_lines.append("| data set | model | Strata | lifetimes | max rel. diff | 3 digits | LL Strata | LL lifetimes |")
    params_lines.append("|---|---|---|---|---:|---|---:|---:|")
    notes = []
    for label, customers, stem in cases:
        customers = f"{int(customers):,}" if customers.isdigit() else customers
        base = os.path.join(args.run_dir, stem)
        st, st_t = load_json(base + ".strata.json"), load_time(base + ".strata.time")
        sides = [("Strata", st, st_t, None)]
        for suffix, name in ((".peer", "lifetimes"), (".peerc", "lifetimes, compressed")):
            pj, pt = load_json(base + suffix + ".json"), load_time(base + suffix + ".time")
            if pj is not None or pt is not None or suffix == ".peer":
                sides.append((name, pj, pt, suffix))
        for name, j, t, suffix in sides:
            if j is None and t is None:
                lines.append(f"| {label} | {customers} | {name} | not run | | |")
                continue
            stages = ""
            if suffix and j:
                sec = j.get("seconds", {})
                parts = [("read", "read"), ("summary", "summary"), ("compress", "compress"), ("BG", "bgnbd"),
                         ("MBG", "mbgnbd"), ("Pareto", "pareto_nbd"), ("GG", "gamma_gamma")]
                stages = ", ".join(f"{n} {fmt_s(sec[k])}" for n, k in parts if k in sec)
                if j.get("pareto_nbd", {}).get("skipped"):
                    stages += " (Pareto/NBD skipped)"
                if "n_distinct_frt" in j:
                    stages += f"; {j['n_distinct_frt']:,} distinct (x, t_x, T)"
            ok = "" if t is None or t[2] in (0, None) else f" (exit {t[2]})"
            lines.append(f"| {label} | {customers} | {name}{ok} | {fmt_s(t[0]) if t else '–'} | "
                         f"{(f'{t[1]:.0f}' if t else '–')} | {stages} |")
            if j and suffix:
                for w in j.get("warnings", []):
                    notes.append(f"{label}, {name}: warning {w}")
                for m, e in j.get("errors", {}).items():
                    notes.append(f"{label}, {name}: {m} {e}")
        pe = load_json(base + ".peer.json")
        if st and pe:
            if st.get("n_customers") != pe.get("n_customers"):
                notes.append(f"{label}: customers differ: Strata {st.get('n_customers')}, lifetimes {pe.get('n_customers')}")
            if st.get("n_repeat_customers") != pe.get("n_repeat_customers"):
                notes.append(f"{label}: repeat customers differ: Strata {st.get('n_repeat_customers')}, "
                             f"lifetimes {pe.get('n_repeat_customers')}")
        if st and st.get("warnings"):
            for w in st["warnings"]:
                notes.append(f"{label}, Strata: warning {w}")
        for key, mlabel, keys in MODELS:
            s_d = st.get(key) if st else None
            p_d = pe.get(key) if pe else None
            diffs = {k: rel(param(s_d, k), param(p_d, k)) for k in keys}
            if all(v is not None for v in diffs.values()):
                worst = max(diffs.values())
                bad = [SYM.get(k, k) for k, v in diffs.items() if v >= TOL]
                agree = "yes" if not bad else "no: " + ", ".join(bad)
                wd = f"{worst:.1e}"
            else:
                agree, wd = "–", "–"
            if s_d and s_d.get("converged") is False:
                agree += " (Strata: not converged)"
            if s_d and s_d.get("issues"):
                notes.append(f"{label}, Strata {mlabel}: issues {s_d['issues']}")
            params_lines.append(
                f"| {label} | {mlabel} | {params_str(s_d, keys)} | {params_str(p_d, keys)} | {wd} | {agree} | "
                f"{fmt((s_d or {}).get('log_likelihood'), 10)} | {fmt((p_d or {}).get('log_likelihood'), 10)} |")
    out = ["Time and peak memory (`/usr/bin/time -v`: wall clock of the whole process, maximum resident set size):",
           "", *lines, "",
           "Parameters (lifetimes: one row per customer, penalizer 0, default tolerances; 3 digits = relative "
           "difference below 5e-4 on every parameter; LL = total log-likelihood at each side's parameters, "
           "time in weeks):", "", *params_lines]
    if notes:
        out += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
