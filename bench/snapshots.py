#!/usr/bin/env python3
"""Writes the benchmark's gateway snapshots (d, e, f) and the API key the load generator sends.

The snapshot format is the gateway's (`gateway/src/snapshot/mod.rs` is the authority). Every
snapshot routes `/bench` to the origin; the request path is `/bench/items` for every target, so
nginx, HAProxy and the gateway see the same request.

- d.json, "routing + key lookup + proxy": one API, one key, a plan with no rate limit, an access
  rule with no method list. Run with `--no-consumer-labels`. There is no anonymous access yet, so
  this is the lightest path the gateway has.
- e.json, "policy": one API, one key, an access rule that lists methods, a plan with a rate limit
  far above what the benchmark sends (nothing is refused, every request is counted), metrics with
  consumer labels.
- f.json, "policy at scale": e with 10,000 APIs (distinct prefixes) and 100,000 API keys loaded;
  traffic goes to `/bench`, one API among them, with one key among them.

Usage: snapshots.py OUT_DIR ORIGIN_URL [--revision N] [--only d|e|f]
Prints the API key the load generator must send in `x-api-key`.
"""

import hashlib
import json
import os
import sys

BENCH_KEY = "gh_bench_0123456789abcdef0123456789abcdef"
N_APIS_AT_SCALE = 10_000
N_KEYS_AT_SCALE = 100_000
N_GROUPS_AT_SCALE = 100
# A limit the benchmark never reaches: 1e9 requests per day, the longest window a plan may have.
# The rate-limit step still runs and counts every request.
HUGE_RATE_LIMIT = {"requests": 1_000_000_000, "window_seconds": 86_400}


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def bench_api(origin: str) -> dict:
    return {"name": "bench", "path_prefix": "/bench", "upstream": {"targets": [{"url": origin}]}}


def bench_consumer() -> dict:
    return {
        "key_hash": key_hash(BENCH_KEY),
        "key_id": "bench-key",
        "user": "bench-user",
        "application": "bench-app",
        "groups": ["bench"],
    }


def plain(origin: str, revision: int) -> dict:
    return {
        "format": 1,
        "revision": revision,
        "apis": [bench_api(origin)],
        "plans": [{"name": "unlimited"}],
        "consumers": [bench_consumer()],
        "access_rules": [{"policy": "bench", "groups": ["bench"], "api": "bench", "plan": "unlimited"}],
    }


def policy(origin: str, revision: int) -> dict:
    return {
        "format": 1,
        "revision": revision,
        "apis": [bench_api(origin)],
        "plans": [{"name": "huge", "rate_limit": HUGE_RATE_LIMIT}],
        "consumers": [bench_consumer()],
        "access_rules": [
            {
                "policy": "bench",
                "groups": ["bench"],
                "api": "bench",
                "methods": ["GET", "HEAD", "POST"],
                "plan": "huge",
            }
        ],
    }


def at_scale(origin: str, revision: int) -> dict:
    snapshot = policy(origin, revision)
    apis = snapshot["apis"]
    rules = snapshot["access_rules"]
    plans = snapshot["plans"]
    plans += [{"name": f"plan-{index}", "rate_limit": HUGE_RATE_LIMIT} for index in range(4)]
    # 9,999 more APIs, each granted to one of 100 groups, under one of 4 plans.
    for index in range(1, N_APIS_AT_SCALE):
        name = f"api-{index:05d}"
        apis.append(
            {
                "name": name,
                "path_prefix": f"/svc/{index:05d}",
                "upstream": {"targets": [{"url": origin}]},
            }
        )
        rules.append(
            {
                "policy": f"policy-{index % N_GROUPS_AT_SCALE}",
                "groups": [f"group-{index % N_GROUPS_AT_SCALE}"],
                "api": name,
                "methods": ["GET", "POST"],
                "plan": f"plan-{index % 4}",
            }
        )
    # 99,999 more keys: 4 keys per user, 2 per application, each user in 2 of the 100 groups.
    consumers = snapshot["consumers"]
    for index in range(1, N_KEYS_AT_SCALE):
        user = index // 4
        consumers.append(
            {
                "key_hash": key_hash(f"gh_scale_{index:06d}"),
                "key_id": f"key-{index:06d}",
                "user": f"user-{user:05d}",
                "application": f"app-{index // 2:05d}",
                "groups": [f"group-{user % N_GROUPS_AT_SCALE}", f"group-{(user + 1) % N_GROUPS_AT_SCALE}"],
            }
        )
    return snapshot


def write(path: str, snapshot: dict) -> None:
    """Writes atomically (temporary file, then rename), so a watching gateway never reads a torn file."""
    temporary = path + ".tmp"
    with open(temporary, "w") as file:
        json.dump(snapshot, file, separators=(",", ":"))
    os.replace(temporary, path)


def main() -> None:
    args = sys.argv[1:]
    options = {"--revision": "1", "--only": "def"}
    for name in options:
        if name in args:
            at = args.index(name)
            options[name] = args[at + 1]
            del args[at : at + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    out_dir, origin = args
    revision = int(options["--revision"])
    os.makedirs(out_dir, exist_ok=True)
    for name, build in (("d", plain), ("e", policy), ("f", at_scale)):
        if name in options["--only"]:
            write(os.path.join(out_dir, f"{name}.json"), build(origin, revision))
    print(BENCH_KEY)


if __name__ == "__main__":
    main()
