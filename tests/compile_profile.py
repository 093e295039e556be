"""Sums a suite run's compile profile (``KEISEI_COMPILE_PROFILE=DIR pytest ...``, see
conftest.py): seconds of tracing, lowering and XLA compiling per test module, per test, per
function and per call site, most expensive first. The call sites find eager code: a line that
compiles dozens of one-operation programs runs un-jitted.

    KEISEI_COMPILE_PROFILE=/tmp/prof pytest -n 2 && python -m tests.compile_profile /tmp/prof
"""

import argparse
import collections
import json
import pathlib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=pathlib.Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    by_module, by_test, by_fun, by_site = (collections.Counter() for _ in range(4))
    compiles = collections.Counter()
    for path in sorted(args.dir.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            e = json.loads(line)
            test, s = e["test"], e["s"]
            by_module[test.split("::")[0]] += s
            by_test[test] += s
            by_fun[(e["event"], e["fun"])] += s
            by_site[e.get("site") or "(none of ours)"] += s
            if e["event"] == "backend_compile_duration":
                compiles[e["fun"]] += 1
                compiles[("site", e.get("site") or "(none of ours)")] += 1
    total = sum(by_module.values())
    print(f"{total:.0f} s of tracing, lowering and compiling in all")
    for title, counter in (("module", by_module), ("test", by_test), ("function", by_fun),
                           ("call site", by_site)):
        print(f"\n| {title} | seconds |\n|---|---:|")
        for name, s in counter.most_common(args.top):
            if title == "function":
                label = f"{name[1]} ({name[0]}, {compiles[name[1]]} compiles)"
            elif title == "call site":
                label = f"{name} ({compiles[('site', name)]} compiles)"
            else:
                label = name
            print(f"| {label} | {s:.1f} |")


if __name__ == "__main__":
    main()
