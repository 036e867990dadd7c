#!/usr/bin/env python3
"""The TLS benchmark's numbers and report, for `bench/tls`.

Usage:
  tls_report.py h2load SECONDS LOG_FILE < h2load-output
      One h2load sample as `rps p50 p99 p999 max requests non2xx errors` (latencies in microseconds,
      from h2load's per-request log, which its own summary has no percentiles for).
  tls_report.py section WORK_DIR OUT_FILE
      The TLS section of RESULTS.md from `samples.csv` and `facts.env` in WORK_DIR.
  tls_report.py splice SECTION_FILE RESULTS_FILE
      Puts the section into RESULTS_FILE between its markers (replacing an earlier one), or at its end.
"""

import csv
import os
import re
import statistics
import sys
from collections import defaultdict

BEGIN = "<!-- bench/tls: begin -->"
END = "<!-- bench/tls: end -->"
REFERENCE = "n"
TARGETS = {
    "n": "nginx 1 worker, `listen ssl http2`, keepalive to origin",
    "g": "Gatehouse, 1 proxy worker, `--tls-listen`",
}
SCENARIOS = {
    "h1-tls13": "HTTP/1.1, keep-alive, TLS 1.3",
    "h1-tls12": "HTTP/1.1, keep-alive, TLS 1.2",
    "h2-tls13": "HTTP/2 (ALPN h2), TLS 1.3",
    "close-tls13": "HTTP/1.1, a new connection per request (`Connection: close`), TLS 1.3",
    "close-tls12": "HTTP/1.1, a new connection per request (`Connection: close`), TLS 1.2",
}


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "h2load":
        h2load_sample(float(args[0]), args[1], sys.stdin.read())
    elif mode == "section":
        write_section(*args)
    elif mode == "splice":
        splice(*args)
    else:
        sys.exit(f"tls_report.py: unknown mode {mode}")


# === one h2load sample ===


def h2load_sample(seconds: float, log_file: str, output: str) -> None:
    finished = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", output)
    requests = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", output)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output)
    if not (finished and requests and codes):
        sys.exit(f"h2load printed no result: {output}")
    durations = []
    with open(log_file) as file:
        for line in file:
            fields = line.split()
            # start (µs since the epoch), status, duration (µs)
            if len(fields) >= 3:
                durations.append(int(fields[2]))
    durations.sort()
    done, succeeded = int(requests.group(3)), int(requests.group(4))
    non2xx = int(codes.group(2)) + int(codes.group(3)) + int(codes.group(4))
    errors = int(requests.group(5)) + int(requests.group(6))
    print(
        f"{float(finished.group(3)):.1f} {percentile(durations, 50)} {percentile(durations, 99)}"
        f" {percentile(durations, 99.9)} {durations[-1] if durations else 0} {done} {non2xx} {errors}"
    )
    if succeeded == 0:
        sys.exit("h2load: no request succeeded")


def percentile(values: list, p: float) -> int:
    if not values:
        return 0
    index = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return values[index]


# === the section ===


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
        row["rps"] = float(row["rps"])
        for key in ("p50_us", "p99_us", "p999_us", "max_us", "requests", "non2xx", "errors", "opens"):
            row[key] = int(row[key])
    return rows


def summarise(rows: list) -> dict:
    """Per target of one scenario: medians, and each round's ratio to nginx's sample of that round."""
    by_target = defaultdict(list)
    by_round = defaultdict(dict)
    for row in rows:
        by_target[row["target"]].append(row)
        by_round[row["round"]][row["target"]] = row
    summary = {}
    for target, samples in by_target.items():
        summary[target] = {
            "rps": statistics.median(row["rps"] for row in samples),
            "rps_min": min(row["rps"] for row in samples),
            "rps_max": max(row["rps"] for row in samples),
            "p50": statistics.median(row["p50_us"] for row in samples),
            "p99": statistics.median(row["p99_us"] for row in samples),
            "p999": statistics.median(row["p999_us"] for row in samples),
            "non2xx": sum(row["non2xx"] for row in samples),
            "errors": sum(row["errors"] for row in samples),
            # Connections opened per request, over every sample (counted host-wide).
            "opens": sum(row["opens"] for row in samples) / max(1, sum(row["requests"] for row in samples)),
            "round_ratios": [
                pair[target]["rps"] / pair[REFERENCE]["rps"]
                for pair in by_round.values()
                if target in pair and REFERENCE in pair
            ],
        }
    reference = summary.get(REFERENCE)
    for row in summary.values():
        row["vs_nginx"] = row["rps"] / reference["rps"] if reference else None
        row["p99_vs_nginx"] = row["p99"] / reference["p99"] if reference and reference["p99"] else None
    return summary


def write_section(work_dir: str, out_file: str) -> None:
    facts = read_facts(os.path.join(work_dir, "facts.env"))
    samples = read_samples(os.path.join(work_dir, "samples.csv"))
    settings = dict(re.findall(r"(BENCH_\w+)=('[^']*'|\S+)", facts.get("command", "")))
    quick = settings.get("BENCH_QUICK") == "1"
    reps, duration = settings.get("BENCH_REPS"), settings.get("BENCH_DURATION")
    connections = settings.get("BENCH_CONNECTIONS")
    clients, streams = settings.get("BENCH_H2_CLIENTS"), settings.get("BENCH_H2_STREAMS")
    by_scenario = defaultdict(list)
    for row in samples:
        by_scenario[row["scenario"]].append(row)

    lines = [
        BEGIN,
        "## TLS termination against nginx (`bench/tls`)" + (" (QUICK smoke run: not for comparison)" if quick else ""),
        "",
        "Written by `bench/tls` (do not edit by hand; run it again); `bench/run` keeps it when it rewrites this"
        " file. Method: as above, and PERFORMANCE.md's.",
        "",
        f"- **Date:** {facts.get('date')}",
        f"- **Command:** `{facts.get('command')}`",
        f"- **Machine:** {facts.get('nproc')} cores, {facts.get('cpu_model')} (AES-NI: {facts.get('cpu_aes')}),"
        f" {facts.get('os')}, {facts.get('kernel')}",
        f"- **Load average** (1, 5, 15 min) at start: {facts.get('loadavg_start')}; at end: {facts.get('loadavg_end')}",
        f"- **Other processes on the machine** at start: {facts.get('others_start') or 'none seen'};"
        f" at end: {facts.get('others_end') or 'none seen'}",
        f"- **Gatehouse:** commit {facts.get('gatehouse_commit')} on branch `{facts.get('gatehouse_branch')}`,"
        f" release profile, {facts.get('rustc_version')}; rustls on ring",
        f"- **Versions:** nginx {facts.get('nginx_version')} (built with {facts.get('nginx_openssl')});"
        f" {facts.get('openssl_version')} for the load generators; {facts.get('wrk_version')};"
        f" {facts.get('h2load_version')}",
        "",
        "One ECDSA P-256 certificate (made by openssl for the run) serves both targets. The load generators"
        " offer one protocol version, one cipher suite and one group (an `OPENSSL_CONF` with `MinProtocol` ="
        " `MaxProtocol`, `Ciphersuites` or `CipherString`, and `Groups = X25519`); nginx is pinned to the same"
        " suites (`ssl_ciphers`, `ssl_conf_command Ciphersuites`, `ssl_ecdh_curve X25519`). Before measuring,"
        " the run checks what each side agrees to:",
        "",
        "| offer | wrk, as nginx saw it | nginx | Gatehouse |",
        "| --- | --- | --- | --- |",
    ]
    for version in ("tls13", "tls12"):
        lines.append(
            f"| {version.replace('tls1', 'TLS 1.')} | {facts.get('wrk_' + version, '—')}"
            f" | {facts.get('negotiated_n_' + version, '—')} | {facts.get('negotiated_g_' + version, '—')} |"
        )
    lines += [
        "",
        f"{reps} rounds; in each round every scenario gets one {duration} s sample of each target, nginx then"
        " Gatehouse, scenario after scenario; the load generator on core 0, the server under test and the"
        " origin (nginx `return 200`, plain HTTP/1.1, keep-alive) on core 1. Medians over the samples; \"vs"
        " nginx\" is the ratio of medians and the range after it the lowest and highest ratio of a Gatehouse"
        " sample to nginx's in the same round. Latencies in ms.",
        "",
        "| scenario | target | req/s (median) | req/s min–max | vs nginx | per-round ratio range | p50 | p99 | p99.9 | p99 vs nginx | connections per request | non-2xx / errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scenario, label in SCENARIOS.items():
        summary = summarise(by_scenario.get(scenario, []))
        for target, name in TARGETS.items():
            row = summary.get(target)
            if not row:
                continue
            ratios = row["round_ratios"]
            ratio_range = f"{min(ratios):.2f}–{max(ratios):.2f}" if ratios else "—"
            p99_ratio = f"{row['p99_vs_nginx']:.2f}" if row["p99_vs_nginx"] is not None else "—"
            lines.append(
                f"| {label} | {name} | {row['rps']:,.0f} | {row['rps_min']:,.0f}–{row['rps_max']:,.0f}"
                f" | **{row['vs_nginx']:.2f}** | {ratio_range} | {ms(row['p50'])} | {ms(row['p99'])} | {ms(row['p999'])}"
                f" | {p99_ratio} | {row['opens']:.2f} | {row['non2xx']} / {row['errors']} |"
            )
    lines += [
        "",
        "The commands (`PORT` is the target's; `OPENSSL_CONF` the offer's; each runs as"
        " `nice -n -20 taskset -c 0 …`):",
        "",
        "```",
        f"wrk -t1 -c{connections} -d{duration}s --latency -s bench/latency.lua -H 'x-api-key: KEY' https://127.0.0.1:PORT/bench/items",
        f"h2load -c{clients} -m{streams} -D{duration} --log-file=FILE -H 'x-api-key: KEY' https://127.0.0.1:PORT/bench/items",
        f"wrk -t1 -c{connections} -d{duration}s --latency -s bench/latency.lua -H 'x-api-key: KEY' -H 'Connection: close' https://127.0.0.1:PORT/bench/items",
        "```",
        "",
        "- **Reading it.** The keep-alive rows are the cost of encrypting and decrypting the requests on"
        " established connections; the `Connection: close` rows are dominated by full handshakes (ECDHE"
        " X25519 and an ECDSA P-256 signature per request; neither load generator resumes sessions), where TLS"
        " costs most. \"Connections per request\" is the host's count of TCP connections opened during the"
        " samples (`/proc/net/snmp` ActiveOpens, including the origin connections of the proxies and anything"
        " else running) per request: about 1 in the close rows, about 0 in the keep-alive ones.",
        "- **Latency.** wrk starts a request's clock when it writes the request, after connecting, so the close"
        " rows' percentiles leave the handshake out (it shows in their req/s). h2load's percentiles come from"
        " its per-request log (stream opened to stream closed).",
        "- **Shared machine.** Other engineers' builds and tests ran on the same two cores (see above), which"
        " moves absolute numbers between samples; interleaving nginx and Gatehouse in every round keeps the"
        " ratios meaningful, and the per-round range says how far to trust each one.",
        f"- Every sample is in `bench/results/{'quick/' if quick else ''}tls/samples.csv`.",
        END,
        "",
    ]
    with open(out_file, "w") as file:
        file.write("\n".join(lines))


def ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.2f}"


# === the section in RESULTS.md ===


def splice(section_file: str, results_file: str) -> None:
    with open(section_file) as file:
        section = file.read().strip("\n") + "\n"
    text = ""
    if os.path.exists(results_file):
        with open(results_file) as file:
            text = file.read()
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        _, after = rest.split(END, 1)
        text = before + section.rstrip("\n") + after
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + section
    with open(results_file, "w") as file:
        file.write(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
