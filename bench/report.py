#!/usr/bin/env python3
"""Writes bench/RESULTS.md from what `bench/run` collected in its scratch directory.

Inputs, in WORK_DIR: `samples.csv` (one wrk sample per row), `facts.env` (key=value lines:
machine, versions, memory, snapshot timings, callgrind totals) and `callgrind/*.txt`
(callgrind_annotate output, inclusive and self, for each server and request count).

Usage: report.py WORK_DIR OUT_FILE
"""

import csv
import os
import re
import statistics
import sys
from collections import defaultdict

TARGETS = {
    "a": "origin alone (nginx `return 200`, 1 worker)",
    "b": "nginx, reverse proxy, 1 worker, keepalive to origin",
    "c": "HAProxy, 1 thread, http-reuse always",
    "d": "Gatehouse: routing + key lookup + proxy",
    "e": "Gatehouse: key + access policy + rate limit + consumer metrics",
    "f": "Gatehouse: (e) with 10,000 APIs and 100,000 keys",
}
REFERENCE = "b"
MIB = 1024  # KiB per MiB

# Reference figures from PERFORMANCE.md, for comparison.
REFERENCE_THROUGHPUT = {"a": "3.3–3.8", "b": "1.0", "c": "0.9–1.2"}
REFERENCE_INSTRUCTIONS = {"nginx": "~19.9 k", "haproxy": "~28.0 k"}


def main() -> None:
    work_dir, out_file = sys.argv[1:]
    facts = read_facts(os.path.join(work_dir, "facts.env"))
    samples = read_samples(os.path.join(work_dir, "samples.csv"))
    summary = summarise(samples)
    callgrind = callgrind_slopes(facts)
    lines = []
    lines += header(facts)
    lines += throughput_section(summary, samples, facts)
    lines += goals_section(summary, facts, callgrind)
    lines += memory_section(facts)
    lines += heap_section(facts, work_dir)
    lines += snapshot_section(facts, summary)
    lines += callgrind_section(facts, callgrind, work_dir)
    lines += load_section(callgrind, work_dir)
    lines += notes_section(facts)
    lines += raw_section(samples)
    lines += tls_section(facts)
    lines += validation_section()
    with open(out_file, "w") as file:
        file.write("\n".join(lines).rstrip() + "\n")


# === inputs ===


def read_facts(path: str) -> dict:
    facts = {}
    with open(path) as file:
        for line in file:
            key, _, value = line.rstrip("\n").partition("=")
            facts[key] = value
    return facts


def read_samples(path: str) -> list:
    with open(path) as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        row["round"] = int(row["round"])
        for key in ("rps",):
            row[key] = float(row[key])
        for key in ("p50_us", "p99_us", "p999_us", "max_us", "requests", "non2xx", "errors"):
            row[key] = int(row[key])
    return rows


def summarise(samples: list) -> dict:
    by_target = defaultdict(list)
    for row in samples:
        by_target[row["target"]].append(row)
    by_round = defaultdict(dict)
    for row in samples:
        by_round[row["round"]][row["target"]] = row
    summary = {}
    for target, rows in by_target.items():
        rps = [row["rps"] for row in rows]
        ratios = [
            round_rows[target]["rps"] / round_rows[REFERENCE]["rps"]
            for round_rows in by_round.values()
            if target in round_rows and REFERENCE in round_rows
        ]
        summary[target] = {
            "n": len(rows),
            "rps": statistics.median(rps),
            "rps_min": min(rps),
            "rps_max": max(rps),
            "p50": statistics.median(row["p50_us"] for row in rows),
            "p99": statistics.median(row["p99_us"] for row in rows),
            "p999": statistics.median(row["p999_us"] for row in rows),
            "max": statistics.median(row["max_us"] for row in rows),
            "non2xx": sum(row["non2xx"] for row in rows),
            "errors": sum(row["errors"] for row in rows),
            "round_ratios": ratios,
        }
    for target in summary:
        reference = summary.get(REFERENCE)
        summary[target]["vs_nginx"] = summary[target]["rps"] / reference["rps"] if reference else None
        summary[target]["p99_vs_nginx"] = summary[target]["p99"] / reference["p99"] if reference else None
    return summary


def callgrind_slopes(facts: dict) -> dict:
    """Instructions per request for each server run under callgrind: the slope between two counts."""
    counts = defaultdict(dict)
    for key, value in facts.items():
        match = re.fullmatch(r"callgrind_(.+)_(\d+)", key)
        if match:
            counts[match.group(1)][int(match.group(2))] = int(value)
    slopes = {}
    for name, by_count in counts.items():
        if len(by_count) < 2:
            continue
        small, large = min(by_count), max(by_count)
        slopes[name] = {
            "small": small,
            "large": large,
            "ir_small": by_count[small],
            "ir_large": by_count[large],
            "per_request": (by_count[large] - by_count[small]) / (large - small),
        }
    return slopes


# === sections ===


def header(facts: dict) -> list:
    quick = "BENCH_QUICK=1" in facts.get("settings", "")
    title = "# Gateway benchmark results" + (" (QUICK smoke run: not for comparison)" if quick else "")
    return [
        title,
        "",
        "Written by `bench/run` (do not edit by hand; run it again). Method: `/work/shared/PERFORMANCE.md`.",
        "",
        f"- **Date:** {facts.get('date')}",
        f"- **Command:** `{facts.get('settings')} CARGO_TARGET_DIR={facts.get('cargo_target_dir')} {facts.get('command')}`",
        f"- **Machine:** {facts.get('nproc')} cores (nproc), {facts.get('cpu_model')}, {facts.get('memory_total')},"
        f" {facts.get('os')}, {facts.get('kernel')}",
        f"- **Load average** (1, 5, 15 min) at start: {facts.get('loadavg_start')}; at end: {facts.get('loadavg_end')}",
        f"- **Gatehouse:** commit {facts.get('gatehouse_commit')} on branch `{facts.get('gatehouse_branch')}`,"
        f" release profile, {facts.get('rustc_version')}",
        f"- **Versions:** nginx {facts.get('nginx_version')}; {facts.get('haproxy_version')};"
        f" {facts.get('wrk_version')}; {facts.get('h2load_version')}; {facts.get('valgrind_version')}",
        "",
    ]


def throughput_section(summary: dict, samples: list, facts: dict) -> list:
    settings = dict(item.split("=") for item in facts.get("settings", "").split())
    lines = [
        "## Throughput and latency (HTTP/1.1, `GET /bench/items`, small JSON body)",
        "",
        f"{settings.get('BENCH_REPS')} rounds; in each round every target gets one"
        f" {settings.get('BENCH_DURATION')} s wrk sample (`wrk -t1 -c{settings.get('BENCH_CONNECTIONS')} --latency`,"
        " pinned to core 0), targets interleaved a, b, c, d, e, f, a, b, …; the server under test and the origin"
        " share core 1. Medians over the samples; \"vs nginx\" is the ratio of medians, and the range after it"
        " is the lowest and highest ratio of a target's sample to nginx's sample in the same round.",
        "",
        "| target | req/s (median) | req/s min–max | vs nginx | per-round ratio range | p50 ms | p99 ms | p99.9 ms | p99 vs nginx | non-2xx / errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for target, label in TARGETS.items():
        row = summary.get(target)
        if not row:
            continue
        ratios = row["round_ratios"]
        ratio_range = f"{min(ratios):.2f}–{max(ratios):.2f}" if ratios else "—"
        lines.append(
            f"| ({target}) {label} | {row['rps']:,.0f} | {row['rps_min']:,.0f}–{row['rps_max']:,.0f}"
            f" | **{row['vs_nginx']:.2f}** | {ratio_range} | {ms(row['p50'])} | {ms(row['p99'])} | {ms(row['p999'])}"
            f" | {row['p99_vs_nginx']:.2f} | {row['non2xx']} / {row['errors']} |"
        )
    lines += [
        "",
        "PERFORMANCE.md's reference ratios to nginx on this kind of machine: origin alone 3.3–3.8,"
        " HAProxy 0.9–1.2, a Pingora-based proxy 0.41–0.56.",
        "",
    ]
    origin, nginx = summary.get("a"), summary.get(REFERENCE)
    if origin and nginx and origin["rps"] / nginx["rps"] < 2.5:
        lines += [
            f"**This run was capped below the servers' own limits.** The origin alone reached only"
            f" {origin['rps'] / nginx['rps']:.2f}× nginx's rate, against 3.3–3.8× on a quiet machine: the load"
            " generator or the share of the cores this run got (see the load average) limited the lightest"
            " targets, which squeezes every ratio towards 1. Gatehouse's real gap to nginx is then wider than"
            " the table shows; the instruction counts below do not depend on it.",
            "",
        ]
    return lines


def goals_section(summary: dict, facts: dict, callgrind: dict) -> list:
    lines = ["## Targets from the issue", "", "| target | measured | verdict |", "| --- | --- | --- |"]

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    nginx = summary.get(REFERENCE)
    for target in ("d", "e"):
        row = summary.get(target)
        if not row or not nginx:
            continue
        throughput_ok = row["rps"] >= nginx["rps"]
        latency_ok = row["p99"] <= nginx["p99"]
        lines.append(
            f"| ({target}) at least nginx's throughput, p99 no worse | {row['vs_nginx']:.2f}× nginx's req/s"
            f" ({row['rps']:,.0f} vs {nginx['rps']:,.0f}); p99 {ms(row['p99'])} ms vs {ms(nginx['p99'])} ms"
            f" | throughput {verdict(throughput_ok)}, p99 {verdict(latency_ok)} |"
        )
    if "e" in summary and "f" in summary:
        ratio = summary["f"]["rps"] / summary["e"]["rps"]
        lines.append(
            f"| (f) within 5 % of (e) | {ratio:.3f}× (e)'s req/s ({summary['f']['rps']:,.0f} vs"
            f" {summary['e']['rps']:,.0f}); p99 {ms(summary['f']['p99'])} ms vs {ms(summary['e']['p99'])} ms"
            f" | {verdict(ratio >= 0.95)} |"
        )
    rss = kib(facts, "gateway_f_after_load_vmrss_kib")
    hwm = kib(facts, "gateway_f_after_load_vmhwm_kib")
    if rss is not None:
        lines.append(
            f"| gateway memory under 100 MiB with 10,000 routes and 100,000 keys | VmRSS {rss / MIB:.1f} MiB"
            f" after load and traffic; peak VmHWM {hwm / MIB:.1f} MiB (while loading)"
            f" | steady {verdict(rss < 100 * MIB)}, peak {verdict(hwm < 100 * MIB)} |"
        )
    load_us = number(facts, "gateway_f_snapshot_load_us")
    swap_us = number(facts, "swap_f_load_us")
    listening_ms = number(facts, "gateway_f_start_to_listening_ms")
    swap_cpu_ms = number(facts, "swap_f_cpu_ms")
    if load_us is not None and swap_us is not None:
        metric_ok = load_us < 200_000 and swap_us < 200_000
        whole_ok = listening_ms is not None and swap_cpu_ms is not None and listening_ms < 200 and swap_cpu_ms < 200
        stall = ""
        under_load = facts.get("swap_under_load")
        if under_load:
            fields = dict(item.split("=") for item in under_load.split()[1:])
            stall = f"; during a swap under load the slowest request took {ms(int(fields['max_us']))} ms"
        lines.append(
            f"| snapshot load and swap of that size under 200 ms | metric (parse + compile + swap): load"
            f" {load_us / 1000:.0f} ms, swap {swap_us / 1000:.0f} ms; whole job: start to listening"
            f" {listening_ms:.0f} ms, reload CPU time {swap_cpu_ms:.0f} ms (read, parse, compile, swap, keep on disk)"
            f"{stall} | as the metric measures: {verdict(metric_ok)}; read and parse included: {verdict(whole_ok)} |"
        )
    if "nginx" in callgrind and "gatehouse-e" in callgrind:
        ratio = callgrind["gatehouse-e"]["per_request"] / callgrind["nginx"]["per_request"]
        lines.append(
            f"| (steady complement) instructions per request, (e) vs nginx | {ratio:.2f}×"
            f" ({callgrind['gatehouse-e']['per_request'] / 1000:.1f} k vs {callgrind['nginx']['per_request'] / 1000:.1f} k)"
            f" | {'at most nginx' if ratio <= 1 else 'more than nginx'} |"
        )
    lines += [
        "",
        "Throughput and latency verdicts compare medians from this one run. PERFORMANCE.md: a run separates"
        " only differences of about 1.3× unless it interleaves the targets and repeats each five times or more;"
        " this one does both, yet a verdict within a few percent of its line should be read with the per-round"
        " ratio range and the instruction counts, which repeat to about 1 %.",
        "",
    ]
    return lines


def memory_section(facts: dict) -> list:
    lines = [
        "## Memory (from /proc/PID/status)",
        "",
        "| process | moment | VmRSS MiB | VmHWM MiB |",
        "| --- | --- | ---: | ---: |",
    ]
    rows = [
        ("Gatehouse (f): 10,000 APIs, 100,000 keys", "snapshot loaded, before traffic", "gateway_f_loaded"),
        ("Gatehouse (f)", "after the rounds", "gateway_f_after_load"),
        ("Gatehouse (f)", "after one swap to a new revision", "gateway_f_after_swap"),
        ("Gatehouse (e): 1 API, 1 key", "after the rounds", "gateway_e_after_load"),
        ("Gatehouse (d): 1 API, 1 key", "after the rounds", "gateway_d_after_load"),
    ]
    for process, moment, prefix in rows:
        rss, hwm = kib(facts, prefix + "_vmrss_kib"), kib(facts, prefix + "_vmhwm_kib")
        if rss is not None:
            lines.append(f"| {process} | {moment} | {rss / MIB:.1f} | {hwm / MIB:.1f} |")
    for process, key in (("nginx worker (b)", "nginx_worker_vmrss_kib"), ("HAProxy (c)", "haproxy_vmrss_kib")):
        rss = kib(facts, key)
        if rss is not None:
            lines.append(f"| {process} | after the rounds | {rss / MIB:.1f} | — |")
    size = number(facts, "snapshot_f_bytes")
    if size:
        lines += ["", f"The (f) snapshot file is {size / 1e6:.1f} MB of compact JSON."]
    lines.append("")
    return lines


def heap_section(facts: dict, work_dir: str) -> list:
    """The live heap of (f) under massif, by the gateway function that allocated it."""
    moments = {}
    for moment in ("loaded", "swapped"):
        path = os.path.join(work_dir, "massif", f"{moment}.txt")
        if os.path.exists(path):
            moments[moment] = read_massif_summary(path)
    if "loaded" not in moments:
        return []
    loaded, swapped = moments["loaded"], moments.get("swapped", {})
    rss = kib(facts, "gateway_f_loaded_vmrss_kib")
    swap_rss = kib(facts, "gateway_f_after_swap_vmrss_kib")
    peak = number(facts, "massif_peak_bytes")
    lines = [
        "## Where the memory of (f) goes (massif)",
        "",
        "Gateway (f) run again under `valgrind --tool=massif`; `vgdb … detailed_snapshot` takes the live heap"
        " two seconds after the snapshot has loaded, and again after one swap to a new revision has finished."
        " Each allocation counts for the innermost `gateway::` function on its stack (serde's derived code"
        " skipped), so the parsed document shows as `Snapshot::parse`.",
        "",
        "| | after load MiB | after one swap MiB |",
        "| --- | ---: | ---: |",
        f"| live heap, with malloc's per-block overhead | {loaded['total'] / 2**20:.1f} |"
        f" {swapped.get('total', 0) / 2**20:.1f} |",
    ]
    if rss is not None:
        lines.append(
            f"| VmRSS of the native run (table above), for comparison | {rss / MIB:.1f} |"
            f" {swap_rss / MIB if swap_rss else 0:.1f} |"
        )
    if peak:
        lines.append(f"| peak heap over the whole massif run (load, then swap) | {peak / 2**20:.1f} | |")
    lines.append("")
    lines += [
        "Live bytes (without malloc's overhead) by where they were allocated:",
        "",
        "| allocated in | after load MiB | after one swap MiB |",
        "| --- | ---: | ---: |",
    ]
    names = [name for name in loaded if name not in ("total", "useful", "peak")]
    for name in names[:12]:
        lines.append(
            f"| `{name}` | {loaded[name] / 2**20:.1f} | {swapped.get(name, 0) / 2**20:.1f} |"
        )
    lines += [
        "",
        "The gateway keeps the compiled tables; the parsed document is dropped once compiled, and a document"
        " over 1 MiB is not kept in memory at all (`/config` reads it back from the last good file). Since"
        " the binary allocates with mimalloc, which massif does not see, the massif tables read zero: the"
        " live heap is not measured here.",
        "",
        "The gap between VmRSS and the live heap is memory the allocator holds after freeing it: the"
        " transient parsed document made while loading is freed, and given back over time.",
        "",
    ]
    return lines


def read_massif_summary(path: str) -> dict:
    """`total`, `useful` and `peak`, then bytes per function, in the order massif_summary.py wrote them."""
    sizes = {}
    with open(path) as file:
        for line in file:
            first, _, second = line.rstrip("\n").partition("\t")
            if first in ("total", "useful", "peak"):
                sizes[first] = int(second)
            elif second:
                sizes[second] = int(first)
    return sizes


def snapshot_section(facts: dict, summary: dict) -> list:
    lines = [
        "## Snapshot load and swap at scale (f)",
        "",
        "`gatehouse_snapshot_load_duration_seconds` times `Runtime::apply_document` (parse, compile, swap); reading"
        " the file comes before it and is not in it, nor is keeping the last good snapshot on disk (written"
        " between the compile and the swap, its time left out)."
        " So two more measurements: the wall time from starting the process to its `gateway http://…` line (it"
        " loads the snapshot before it binds, so this is exec + read + parse + compile + swap + keep on disk),"
        " and the gateway's CPU time (user + system, from /proc/PID/stat, at 10 ms resolution) across one reload"
        " while idle. On a swap the metric also covers freeing the previous snapshot: `Runtime::apply` stops its"
        " clock after `ArcSwap::store`, which drops the old `Loaded` when no request still holds it.",
        "",
        "| measurement | value |",
        "| --- | ---: |",
    ]
    rows = [
        ("load at start, metric (parse + compile + swap)", "gateway_f_snapshot_load_us", 1 / 1000, "ms"),
        ("start to listening, wall time (whole load)", "gateway_f_start_to_listening_ms", 1, "ms"),
        ("swap to revision 2 while idle, metric (parse + compile + swap)", "swap_f_load_us", 1 / 1000, "ms"),
        ("swap to revision 2 while idle, gateway CPU time (whole reload)", "swap_f_cpu_ms", 1, "ms"),
        ("file renamed → new revision visible on /metrics (includes the 1 s poll interval)", "swap_f_wall_ms", 1, "ms"),
        ("swap to revision 3 under load, metric", "swap_under_load_load_us", 1 / 1000, "ms"),
        ("for comparison: load at start of (e), metric", "gateway_e_snapshot_load_us", 1 / 1000, "ms"),
    ]
    for label, key, scale, unit in rows:
        value = number(facts, key)
        if value is not None:
            lines.append(f"| {label} | {value * scale:,.1f} {unit} |")
    under_load = facts.get("swap_under_load")
    if under_load:
        fields = dict(item.split("=") for item in under_load.split()[1:])
        normal = summary.get("f")
        lines += [
            "",
            "A swap under load: one wrk sample against (f), with a new revision renamed over the file a third"
            " of the way through (the gateway notices within its 1 s poll). `source::watch_file` runs the whole"
            " reload (`apply_file`: read, parse, compile, swap, keep on disk) on the main runtime's blocking"
            " pool, off the proxy worker; pinned to one core, both share it, so requests still wait while the"
            " reload has the core.",
            "",
            "| sample | req/s | p99 ms | p99.9 ms | max ms | non-2xx / errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        errors = sum(int(fields[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
        lines.append(
            f"| (f) with a swap | {float(fields['rps']):,.0f} | {ms(int(fields['p99_us']))} | {ms(int(fields['p999_us']))}"
            f" | {ms(int(fields['max_us']))} | {fields['non2xx']} / {errors} |"
        )
        if normal:
            lines.append(
                f"| (f) without (medians of the rounds) | {normal['rps']:,.0f} | {ms(normal['p99'])} | {ms(normal['p999'])}"
                f" | {ms(normal['max'])} | {normal['non2xx']} / {normal['errors']} |"
            )
    lines.append("")
    return lines


def callgrind_section(facts: dict, callgrind: dict, work_dir: str) -> list:
    if not callgrind:
        return []
    any_run = next(iter(callgrind.values()))
    small, large = any_run["small"], any_run["large"]
    lines = [
        "## User-space instructions per request (callgrind)",
        "",
        f"Each server runs alone under `valgrind --tool=callgrind` (the origin runs natively), gets `h2load --h1"
        f" -n N -c 8` for N = {small:,} and N = {large:,}, and is stopped; the `totals:` line of each run gives"
        f" the instructions, and the slope between the two (difference / {large - small:,}) is the cost of one"
        " request, start-up and shut-down cancelling. nginx runs as one process (`master_process off`) so its"
        " worker is the process measured.",
        "",
    ]
    if facts.get("cpu_sha_ni") == "yes":
        lines += [
            "This CPU has SHA-NI, which valgrind does not emulate: under callgrind the `sha2` crate falls back to"
            " its portable code (`sha2::sha256::soft::compress`, about 3.5 k instructions for one API key),"
            " while natively it uses the SHA instructions at a small fraction of that. The gateways' counts"
            " below therefore overstate the key hashing step by roughly 3 k instructions per request.",
            "",
        ]
    lines += [
        f"| server | Ir at {small:,} | Ir at {large:,} | per request | vs nginx | PERFORMANCE.md reference |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    nginx = callgrind.get("nginx")
    for name in ("nginx", "haproxy", "gatehouse-d", "gatehouse-e", "gatehouse-f"):
        run = callgrind.get(name)
        if not run:
            continue
        versus = f"{run['per_request'] / nginx['per_request']:.2f}" if nginx else "—"
        lines.append(
            f"| {name} | {run['ir_small']:,} | {run['ir_large']:,} | {run['per_request'] / 1000:,.1f} k | {versus}"
            f" | {REFERENCE_INSTRUCTIONS.get(name, '—')} |"
        )
    lines.append("")
    # Rows per table: (inclusive, the gateway's own, self). (e) in full; the others for comparison.
    table_rows = {"gatehouse-e": (40, 25, 30), "gatehouse-d": (0, 15, 0), "gatehouse-f": (0, 15, 0), "nginx": (20, 0, 15)}
    lines += [
        "Per function: from `callgrind_annotate --inclusive=yes` (and without it, for self cost) on the"
        f" {small:,} and {large:,} request runs, each function's instructions at {large:,} minus those at"
        f" {small:,}, divided by {large - small:,}. The release build has no debug information, so inlined code"
        " counts in the function it was inlined into. Names are shortened: generic arguments and hashes removed.",
        "",
    ]
    for name, (n_inclusive, n_own, n_self) in table_rows.items():
        run = callgrind.get(name)
        if not run:
            continue
        inclusive = function_slopes(work_dir, name, run, "inclusive")
        exclusive = function_slopes(work_dir, name, run, "self")
        if not inclusive:
            continue
        total = run["per_request"]
        lines += [f"### Where {name}'s instructions per request go ({total / 1000:.1f} k)", ""]
        if n_inclusive:
            lines += ["| inclusive per request | share | function |", "| ---: | ---: | --- |"]
            for function, cost in inclusive[:n_inclusive]:
                lines.append(f"| {cost:,.0f} | {cost / total:.1%} | `{function}` |")
            lines.append("")
        own = [(function, cost) for function, cost in inclusive if "gateway::" in function.split("::{{")[0][:40]]
        if n_own and own:
            lines += [
                "The gateway's own functions (and its closures), inclusive:",
                "",
                "| inclusive per request | share | function |",
                "| ---: | ---: | --- |",
            ]
            for function, cost in own[:n_own]:
                lines.append(f"| {cost:,.0f} | {cost / total:.1%} | `{function}` |")
            lines.append("")
        if n_self:
            lines += ["| self per request | share | function |", "| ---: | ---: | --- |"]
            for function, cost in exclusive[:n_self]:
                lines.append(f"| {cost:,.0f} | {cost / total:.1%} | `{function}` |")
            lines.append("")
    return lines


def load_section(callgrind: dict, work_dir: str) -> list:
    """Where (f)'s start-up goes: its smaller callgrind run is almost all snapshot loading."""
    run = callgrind.get("gatehouse-f")
    if not run:
        return []
    path = os.path.join(work_dir, "callgrind", f"gatehouse-f.{run['small']}.inclusive.txt")
    if not os.path.exists(path):
        return []
    costs = {}
    for function, cost in read_annotation(path).items():
        name = shorten(function)
        costs[name] = costs.get(name, 0) + cost
    whole = costs.get("gateway::source::apply_file")
    if not whole:
        return []
    startup = run["ir_small"] - run["small"] * run["per_request"]
    chosen = [
        (name, cost)
        for name, cost in costs.items()
        if ("gateway::" in name or name.startswith("sha2::")) and cost >= 0.01 * whole and "server::" not in name
    ]
    chosen.sort(key=lambda item: -item[1])
    lines = [
        "## Where (f)'s snapshot load goes (callgrind)",
        "",
        f"The (f) run under callgrind with {run['small']:,} requests spends {startup / 1e9:.2f} G instructions"
        f" besides its requests: {whole / 1e9:.2f} G loading the snapshot at start (`gateway::source::apply_file`,"
        " the same function a reload runs), the rest mostly freeing it at exit (`drop_in_place<Runtime>`)."
        " Inclusive instructions of the gateway's functions in that run (1 % of `apply_file` and up; a"
        " function that runs both while loading and at exit, such as dropping a `Snapshot`, counts both):",
        "",
        "| inclusive Ir (millions) | vs apply_file | function |",
        "| ---: | ---: | --- |",
    ]
    for name, cost in chosen[:26]:
        lines.append(f"| {cost / 1e6:,.0f} | {cost / whole:.0%} | `{name}` |")
    lines += [
        "",
        "Under valgrind SHA-256 runs the portable code (`sha2::sha256::soft::compress`, above) rather than the"
        " CPU's SHA instructions, so natively `content_hash` costs much less than its share here.",
        "",
    ]
    return lines


def notes_section(facts: dict) -> list:
    settings = dict(item.split("=") for item in facts.get("settings", "").split())
    nice = settings.get("BENCH_NICE", "0")
    return [
        "## Notes",
        "",
        "- Treat absolute numbers as noisy and the ratios as the result (PERFORMANCE.md): 10-second wrk samples"
        " of one server differ by 14–66 % here, so the targets are interleaved, each is sampled five times or"
        " more, and medians and ratios come from this same run. Instruction counts under callgrind are the"
        " steady complement: they repeat to about 1 %.",
        "- Pinning: wrk on core 0 (`taskset -c 0`); the proxy under test and the origin on core 1"
        " (`taskset -c 1`), so \"1 worker\" means one core's work shared by proxy and origin. The gateway's"
        " tokio runtime sizes itself from the CPUs it may use, so pinned it runs one worker thread.",
        f"- The machine is shared: other jobs ran during this run (see the load average above). Every process"
        f" the benchmark starts (servers, origin, wrk, h2load) runs at nice {nice} so those jobs take less of"
        " its cores; they still add noise to the wrk samples and latency tails, not to the callgrind counts.",
        "- Every target gets the same request: `GET /bench/items` with an `x-api-key` header (nginx and HAProxy"
        " pass it through). Every target keeps client connections open indefinitely (nginx's"
        " `keepalive_requests` raised from its default of 1,000, both towards clients and towards the origin);"
        " nginx keeps 64 idle connections to the origin, HAProxy reuses them (`http-reuse always`). No access"
        " logs anywhere.",
        "- (d) is \"routing + key lookup + proxy\": the gateway has no anonymous access yet, so the lightest"
        " path still authenticates an API key (SHA-256 and a hash lookup) and evaluates an access rule; its plan"
        " has no rate limit (the limiter step returns at once) and it runs with `--no-consumer-labels`."
        " (e) adds an access rule that lists methods, a plan with a rate limit of 10⁹ requests per day (so"
        " nothing is refused, while every request is counted) and consumer-labelled metrics. (f) is (e) with"
        " 10,000 APIs on distinct prefixes and 100,000 API keys (25,000 users, 100 groups) loaded; traffic goes"
        " to one API with one key. `bench/snapshots.py` writes all three.",
        "- A non-2xx answer or a socket error in any sample is counted in the tables; a refused request would"
        " make the gateway look faster than it is.",
        "- Snapshot timings: the gateway reloads its snapshot file when its modification time or size changes,"
        " polled once a second; `bench/run` renames a new revision over the file and waits for"
        " `gatehouse_snapshot_revision` to change.",
        "",
    ]


def raw_section(samples: list) -> list:
    lines = [
        "## Every sample",
        "",
        "| round | target | req/s | p50 ms | p99 ms | p99.9 ms | max ms | requests | non-2xx | errors |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in samples:
        lines.append(
            f"| {row['round']} | {row['target']} | {row['rps']:,.0f} | {ms(row['p50_us'])} | {ms(row['p99_us'])}"
            f" | {ms(row['p999_us'])} | {ms(row['max_us'])} | {row['requests']:,} | {row['non2xx']} | {row['errors']} |"
        )
    lines.append("")
    return lines


def tls_section(facts: dict) -> list:
    """The last `bench/tls` run's section, kept: that script writes it, this one only carries it over."""
    quick = "BENCH_QUICK=1" in facts.get("settings", "")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", *(["quick"] if quick else []), "tls", "section.md")
    if not os.path.exists(path):
        return []
    with open(path) as file:
        return file.read().rstrip("\n").split("\n") + [""]


def validation_section() -> list:
    """The last `bench/validation` run's section, kept as `tls_section` keeps bench/tls's."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "validation", "section.md")
    if not os.path.exists(path):
        return []
    with open(path) as file:
        return file.read().rstrip("\n").split("\n") + [""]


# === helpers ===

ANNOTATE_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s*$")


def function_slopes(work_dir: str, name: str, run: dict, kind: str) -> list:
    """(function, instructions per request) from two callgrind_annotate outputs, largest first."""
    costs = []
    for count in (run["small"], run["large"]):
        path = os.path.join(work_dir, "callgrind", f"{name}.{count}.{kind}.txt")
        if not os.path.exists(path):
            return []
        costs.append(read_annotation(path))
    small, large = costs
    span = run["large"] - run["small"]
    slopes = defaultdict(float)
    for function in set(small) | set(large):
        slopes[shorten(function)] += (large.get(function, 0) - small.get(function, 0)) / span
    return sorted(slopes.items(), key=lambda item: -item[1])


def read_annotation(path: str) -> dict:
    costs = {}
    in_functions = False
    with open(path, errors="replace") as file:
        for line in file:
            if "file:function" in line:
                in_functions = True
                continue
            if not in_functions:
                continue
            match = ANNOTATE_LINE.match(line)
            if match:
                function = match.group(2)
                costs[function] = costs.get(function, 0) + int(match.group(1).replace(",", ""))
    return costs


def shorten(function: str) -> str:
    """Drops the object file, the `???:` of code without debug information, hashes and generic arguments."""
    function = re.sub(r"\s*\[[^\]]*\]$", "", function)
    function = re.sub(r"^\?\?\?:", "", function)
    function = re.sub(r"::h[0-9a-f]{16}$", "", function)
    # What a drop drops is the point of its name: keep it (shortened).
    dropped = re.fullmatch(r"(.*drop_in_place)<(.+)>", function)
    if dropped:
        return f"{dropped.group(1)}<{shorten(dropped.group(2))}>"
    # Generic arguments follow a name (`Conn<I, B>`); a qualified path (`<Conn as Future>`) does not.
    previous = None
    while previous != function:
        previous = function
        function = re.sub(r"([\w\]])<[^<>]*>", r"\1", function)
    function = function.replace("`", "'")
    return function[:160]


def ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.2f}"


def number(facts: dict, key: str):
    value = facts.get(key, "")
    try:
        return float(value)
    except ValueError:
        return None


def kib(facts: dict, key: str):
    value = number(facts, key)
    return int(value) if value is not None else None


if __name__ == "__main__":
    main()
