#!/usr/bin/env python3
"""Counts the test cases a `meson test` run executed, across all targets.

Reads meson's testlog.json of each build directory given (default: build)
for the test programs and each GoogleTest program's XML report (<name>.xml
beside it) for its cases, and sums them. A gtest program
that failed without reporting a failing case (a crash, a timeout) counts as
one more failure. Prints the skipped cases (targets this CPU lacks), then, as
its last line, "N passed, N failed". Exit status 1 if anything failed.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET


def gtest_counts(path):
    passed = failed = skipped = 0
    failures = []
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("classname", "") + "." + case.get("name", "")
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(name)
        elif case.get("result") == "skipped" or case.get("status") == "notrun" \
                or case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped, failures


def main():
    builds = sys.argv[1:] or ["build"]
    passed = failed = skipped = 0
    failures = []
    runs = []
    for build in builds:
        log = os.path.join(build, "meson-logs", "testlog.json")
        if not os.path.exists(log):  # that stage did not get as far as its tests
            failed += 1
            failures.append(f"{build}: no test log")
            continue
        with open(log) as f:
            runs += [(build, json.loads(line)) for line in f if line.strip()]
    for build, run in runs:
        # "project / test" when the project has several suites.
        name, result = run["name"].split(" / ")[-1], run["result"]
        xml = None
        for sub in ("tests", "perf"):
            candidate = os.path.join(build, sub, name + ".xml")
            if os.path.exists(candidate):
                xml = candidate
        if xml:
            p, fl, s, names = gtest_counts(xml)
            if result != "OK" and fl == 0:
                fl += 1
                names.append(f"{name} (exited with {result})")
            passed, failed, skipped = passed + p, failed + fl, skipped + s
            failures += names
        elif result == "SKIP":
            skipped += 1
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
            failures.append(f"{name} ({result})")
    for name in failures:
        print(f"FAILED: {name}")
    print(f"{skipped} skipped (targets this CPU cannot run; PyTorch cases without torch)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
