#!/usr/bin/env python3
"""bench/scale.sh's measurements -> markdown tables, the issue's goals, a
least-squares line of wall time and peak RSS against rows, and a plot.

    bench/scale_report.py [--out PREFIX] RUN.csv [RUN.csv ...]

Several CSVs (e.g. one run of scales 10 and 100, another of 300) are read
as one set; a round's ratios pair measurements of the same run and round.
Writes PREFIX.md and PREFIX.png (gnuplot) when --out is given; prints the
markdown. Exit 2 on unusable input.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict

MIB = 1024 * 1024


def load(paths):
    """{(run, scale, round, kind, variant, metric): value}, {scale: rows}, {(run, scale, round, kind, variant): load1}"""
    values, rows, loads = {}, {}, {}
    for run, path in enumerate(paths):
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                scale = int(r["scale"])
                rows[scale] = int(r["rows"])
                key = (run, scale, int(r["round"]), r["kind"], r["variant"])
                values[key + (r["metric"],)] = r["value"]
                loads[key] = float(r["load1"])
    return values, rows, loads


def series(values, scale, kind, variant, metric):
    """[(run, round, float value)] of one measure at one scale."""
    out = []
    for (run, s, rnd, k, v, m), value in values.items():
        if (s, k, v, m) == (scale, kind, variant, metric):
            try:
                out.append((run, rnd, float(value)))
            except ValueError:
                pass
    return sorted(out)


def spread(vals, fmt="{:.2f}"):
    """'median [min-max] (n)' or '–'."""
    if not vals:
        return "–"
    text = fmt.format(statistics.median(vals))
    if len(vals) > 1:
        text += f" [{fmt.format(min(vals))}-{fmt.format(max(vals))}]"
    return f"{text} ({len(vals)})"


def paired(values, scale, kind, num, den, metric="wall_s"):
    """Per round: num / den of the same run and round."""
    a = {(run, rnd): v for run, rnd, v in series(values, scale, kind, num, metric)}
    b = {(run, rnd): v for run, rnd, v in series(values, scale, kind, den, metric)}
    return [a[k] / b[k] for k in sorted(a) if k in b and b[k] > 0]


def fit(points):
    """Least squares y = intercept + slope * x; None for fewer than 2 distinct x."""
    if len({x for x, _ in points}) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return slope, my - slope * mx


def variants_of(values, kind):
    """The variants measured, the baselines (unlimited, copy) first."""
    return sorted({k[4] for k in values if k[3] == kind}, key=lambda v: (v not in ("unlimited", "copy"), v))


def per_row(values, scale, variant, metric="shadow_bytes"):
    """the report's METRIC (memory bytes; shadow_store_bytes: on disk) per tracked row, per verify measurement."""
    b = {(run, rnd): v for run, rnd, v in series(values, scale, "verify", variant, metric)}
    n = {(run, rnd): v for run, rnd, v in series(values, scale, "verify", variant, "shadow_rows")}
    return [b[k] / n[k] for k in b if n.get(k)]


def total_per_row(values, scale, variant):
    """(shadow bytes in memory + the row store's on disk) per tracked row."""
    mem, disk = per_row(values, scale, variant), per_row(values, scale, variant, "shadow_store_bytes")
    return [m + d for m, d in zip(mem, disk)] if len(disk) == len(mem) else mem


def verdicts(values, scale, variant):
    found = [v for (run, s, rnd, k, var, m), v in values.items()
             if (s, k, var, m) == (scale, "verify", variant, "verdict")]
    return ", ".join(f"{v} ×{found.count(v)}" for v in sorted(set(found))) or "–"


def verify_table(values, rows, loads, scales):
    out = [f"| verify, idle pair; median [min-max] (rounds) | " + " | ".join(
        f"scale {s}: {rows[s]:,} rows" for s in scales) + " |", "|---|" + "---|" * len(scales)]

    def line(label, cells):
        out.append(f"| {label} | " + " | ".join(cells) + " |")

    for v in variants_of(values, "verify"):
        line(f"{v}: wall (s)", [spread([x for *_, x in series(values, s, "verify", v, "wall_s")]) for s in scales])
        line(f"{v}: seconds per million rows", [spread(
            [x / rows[s] * 1e6 for *_, x in series(values, s, "verify", v, "wall_s")]) for s in scales])
        line(f"{v}: peak RSS (MiB)", [spread(
            [x / 1024 for *_, x in series(values, s, "verify", v, "rss_kib")], "{:.0f}") for s in scales])
        line(f"{v}: shadow bytes/row in memory (report)", [spread(per_row(values, s, v), "{:.1f}") for s in scales])
        if any(x for s in scales for x in per_row(values, s, v, "shadow_store_bytes")):
            line(f"{v}: row store bytes/row on disk (report)",
                 [spread(per_row(values, s, v, "shadow_store_bytes"), "{:.1f}") for s in scales])
        extra = sorted({k[5] for k in values if k[3] == "verify" and k[4] == v and k[5].startswith("shadow_")}
                       - {"shadow_bytes", "shadow_rows", "shadow_memory_limit"})
        for m in extra:
            line(f"{v}: report {m.replace('_', '.', 1)}", [spread(
                [x for *_, x in series(values, s, "verify", v, m)], "{:.0f}") for s in scales])
        line(f"{v}: verdict", [verdicts(values, s, v) for s in scales])
    if "limited" in variants_of(values, "verify"):
        line("**limited / unlimited wall, same round**",
             [spread(paired(values, s, "verify", "limited", "unlimited")) for s in scales])
    line("1-minute load average at each verify", [spread(
        [l for (run, sc, rnd, k, v), l in loads.items() if sc == s and k == "verify"], "{:.1f}") for s in scales])
    return out


def scan_table(values, rows, loads, scales):
    out = ["| scan of pgbench_accounts on the target; median [min-max] (rounds) | " + " | ".join(
        f"scale {s}" for s in scales) + " |", "|---|" + "---|" * len(scales)]
    for v in variants_of(values, "scan"):
        label = {"copy": "psql COPY ... TO STDOUT > /dev/null", "stream": "pgparity digest (one stream)"}.get(
            v, f"pgparity digest --jobs {v[4:]}")
        out.append(f"| {label}: wall (s) | " + " | ".join(
            spread([x for *_, x in series(values, s, "scan", v, "wall_s")]) for s in scales) + " |")
        out.append(f"| {label}: M rows/s | " + " | ".join(
            spread([rows[s] / x / 1e6 for *_, x in series(values, s, "scan", v, "wall_s")]) for s in scales) + " |")
        if v != "copy":
            out.append(f"| **COPY time / {label} time, same round** | " + " | ".join(
                spread(paired(values, s, "scan", "copy", v)) for s in scales) + " |")
    out.append("| 1-minute load average at each scan | " + " | ".join(spread(
        [l for (run, sc, rnd, k, v), l in loads.items() if sc == s and k == "scan"], "{:.1f}") for s in scales) + " |")
    return out


def audit_table(values, scales):
    out = []
    for v in variants_of(values, "audit"):
        cap = float(v[4:])
        cells = []
        for s in scales:
            got = [x for *_, x in series(values, s, "audit", v, "tuples_per_s")]
            cells.append(spread(got, "{:.0f}") + (f", {spread([x / cap for x in got])} of the cap" if got else ""))
        out.append(f"| audit --scan-rate {cap:.0f}: target tuples read/s | " + " | ".join(cells) + " |")
    return out


def fits(values, rows, scales):
    """{(variant, metric): (slope, intercept)} over every round's point."""
    result = {}
    for v in variants_of(values, "verify"):
        for metric, scale_y in (("wall_s", 1.0), ("rss_kib", 1 / 1024)):
            pts = [(rows[s], x * scale_y) for s in scales for *_, x in series(values, s, "verify", v, metric)]
            f = fit(pts)
            if f:
                result[(v, metric)] = f
    return result


def fit_lines(fitted):
    out = ["| least-squares line over every round (rows = pgbench_accounts rows) | slope | intercept |", "|---|---|---|"]
    for (v, metric), (slope, icpt) in sorted(fitted.items()):
        if metric == "wall_s":
            out.append(f"| {v}: wall time (s) | {slope * 1e6:.3f} µs/row ({slope * 1e7:.1f} s per 10 M rows) | {icpt:.2f} s |")
        else:
            out.append(f"| {v}: peak RSS (MiB) | {slope * MIB:.1f} bytes/row | {icpt:.0f} MiB |")
    return out


def flat(vals_by_scale):
    """max/min - 1 of the per-scale medians, or None."""
    meds = [statistics.median(v) for v in vals_by_scale if v]
    return max(meds) / min(meds) - 1 if len(meds) > 1 and min(meds) > 0 else None


def verdict(ok):
    return "not measured" if ok is None else ("**met**" if ok else "**missed**")


def goals(values, rows, scales):
    big = scales[-1]
    out = [f"| goal (as measured; largest scale {big}, {rows[big]:,} rows) | measured | |", "|---|---|---|"]
    lim_rss = [x / 1024 for *_, x in series(values, big, "verify", "limited", "rss_kib")]
    out.append(f"| --memory-limit: peak RSS <= 400 MiB | {spread(lim_rss, '{:.0f}')} MiB | "
               f"{verdict(max(lim_rss) <= 400 if lim_rss else None)} |")
    ratio = paired(values, big, "verify", "limited", "unlimited")
    out.append(f"| --memory-limit: wall <= 1.5x unlimited (same round) | {spread(ratio)} | "
               f"{verdict(statistics.median(ratio) <= 1.5 if ratio else None)} |")
    same = None
    if lim_rss:
        same = verdicts(values, big, "limited") == verdicts(values, big, "unlimited") and \
            "consistent" in verdicts(values, big, "unlimited")
    out.append(f"| --memory-limit: same verdict | limited {verdicts(values, big, 'limited')}; unlimited "
               f"{verdicts(values, big, 'unlimited')} | {verdict(same)} |")
    best = None
    for v in variants_of(values, "scan"):
        if v != "copy":
            r = paired(values, big, "scan", "copy", v)
            if r and (best is None or statistics.median(r) > statistics.median(best[1])):
                best = (v, r)
    out.append(f"| scan >= 1.2x COPY (best digest variant, median of rounds) | "
               f"{(best[0] + ': ' + spread(best[1])) if best else '–'} | "
               f"{verdict(statistics.median(best[1]) >= 1.2 if best and best[0] != 'stream' else None)} |")
    for v in variants_of(values, "audit"):
        cap = float(v[4:])
        got = [x / cap for s in scales for *_, x in series(values, s, "audit", v, "tuples_per_s")]
        out.append(f"| rolling check cap within +-10 % (--scan-rate {cap:.0f}, every scale) | {spread(got)} of the cap | "
                   f"{verdict(all(abs(x - 1) <= 0.10 for x in got) if got else None)} |")
    for v in variants_of(values, "verify"):
        b = flat([total_per_row(values, s, v) for s in scales])
        t = flat([[x / rows[s] for *_, x in series(values, s, "verify", v, "wall_s")] for s in scales])
        out.append(f"| {v}: shadow bytes/row (memory + on-disk store) flat within 20 % from {rows[scales[0]]:,} to {rows[big]:,} rows (max/min of medians - 1) | "
                   f"{'–' if b is None else f'{b * 100:+.0f} %'} | {verdict(None if b is None else b <= 0.2)} |")
        out.append(f"| {v}: seconds/row flat within 20 % (max/min of medians - 1) | "
                   f"{'–' if t is None else f'{t * 100:+.0f} %'} | {verdict(None if t is None else t <= 0.2)} |")
    return out


def plot(values, rows, scales, fitted, png):
    """Wall time and peak RSS against rows, points per round, fitted lines."""
    with tempfile.TemporaryDirectory() as tmp:
        cmds = [f"set terminal pngcairo size 1200,480 font ',10'", f"set output '{png}'",
                "set multiplot layout 1,2", "set key top left", "set grid", "set xlabel 'rows (millions)'"]
        for metric, ylabel, scale_y in (("wall_s", "verify wall time (s)", 1.0), ("rss_kib", "verify peak RSS (MiB)", 1 / 1024)):
            parts = []
            for i, v in enumerate(variants_of(values, "verify")):
                data = os.path.join(tmp, f"{metric}-{v}.dat")
                with open(data, "w") as f:
                    for s in scales:
                        for *_, x in series(values, s, "verify", v, metric):
                            f.write(f"{rows[s] / 1e6} {x * scale_y}\n")
                parts.append(f"'{data}' using 1:2 with points pt {7 + i} lc {i + 1} title '{v}'")
                if (v, metric) in fitted:
                    slope, icpt = fitted[(v, metric)]
                    parts.append(f"{icpt} + {slope * 1e6}*x with lines lc {i + 1} title '{v} fit'")
            if metric == "rss_kib":
                parts.append("400 with lines dt 2 lc rgb 'gray' title 'goal, limited: 400 MiB'")
            cmds += [f"set ylabel '{ylabel}'", f"set xrange [0:{rows[scales[-1]] / 1e6 * 1.05}]", "set yrange [0:*]",
                     "plot " + ", ".join(parts)]
        cmds.append("unset multiplot")
        subprocess.run(["gnuplot"], input="\n".join(cmds), text=True, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write PREFIX.md and PREFIX.png")
    ap.add_argument("csv", nargs="+")
    args = ap.parse_args()
    try:
        values, rows, loads = load(args.csv)
    except (OSError, KeyError, ValueError) as e:
        print(f"scale_report: error: cannot read {args.csv}: {e} (a bench/scale.sh CSV)", file=sys.stderr)
        return 2
    scales = sorted(s for s in rows if any(k[1] == s and k[3] != "setup" for k in values))
    if not scales:
        print("scale_report: error: no measurement in the input (did bench/scale.sh finish a step?)", file=sys.stderr)
        return 2
    fitted = fits(values, rows, scales)
    md = ["", *verify_table(values, rows, loads, scales), "", *scan_table(values, rows, loads, scales)]
    audit = audit_table(values, scales)
    if audit:
        md += ["", "| rolling check; median [min-max] (rounds) | " + " | ".join(f"scale {s}" for s in scales) + " |",
               "|---|" + "---|" * len(scales), *audit]
    md += ["", *fit_lines(fitted), "", *goals(values, rows, scales), ""]
    text = "\n".join(md)
    print(text)
    if args.out:
        with open(args.out + ".md", "w") as f:
            f.write(f"Input: {', '.join(os.path.basename(p) for p in args.csv)}\n{text}")
        if variants_of(values, "verify"):
            plot(values, rows, scales, fitted, args.out + ".png")
        else:
            print("scale_report: no verify measurement: no plot", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
