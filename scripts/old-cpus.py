#!/usr/bin/env python3
"""Runs the test suite of a release build under qemu-x86_64-static as older
CPUs: Haswell (AVX2, no AVX-512), Westmere (SSE4) and Nehalem (SSSE3).

Each CPU first checks that dispatch picks its best target and nothing above
it (env_target_test best=T), then runs every GoogleTest program on every
target that CPU supports: an instruction it lacks would stop the program
with SIGILL. Left out, and why:
  - most of corpus_test: 10k shapes, 4 min natively and about 20x that
    emulated; here every 16th shape (633) runs on the CPU's best target,
    and the release run covers them all natively.
  - NotebookTimingShape: one 9.4-GFLOP layer, there to time, not to cover.
  - the AVX2 and AVX3 instances of the PROT_NONE guard-page tests: QEMU 7.2's
    TCG reads the whole memory operand of VPMASKMOVD/VMASKMOVPS, so a masked
    load whose masked-out lanes cross into a PROT_NONE page faults under
    qemu, where the CPU (Intel SDM: "faults will not occur due to
    referencing any memory location if the corresponding mask bit ... is
    0") does not. They run natively in the release and sanitizer stages.
  - ThreadCreation: it caps the address space with setrlimit, which under
    qemu-user limits the emulator's own mappings rather than the guest's
    thread stacks; it runs natively in the release stage.

Writes <out>/<cpu>/meson-logs/testlog.json and <out>/<cpu>/tests/<name>.xml
in the layout scripts/test-summary.py reads, so the cases count in CI's
closing line.

Usage: python3 scripts/old-cpus.py [build] [out]   (defaults: build, build-qemu)
"""
import json
import os
import subprocess
import sys
import time

CPUS = [("Haswell", "AVX2"), ("Westmere", "SSE4"), ("Nehalem", "SSSE3")]
PROGRAMS = ["spec_test", "dispatch_test", "gemm_tile_test", "pack_test", "errors_test",
            "conv_test", "backward_test", "threads_test", "memory_test", "nonfinite_test"]
FILTER = "-*NotebookTimingShape*:*GuardPages*/AVX2:*GuardPages*/AVX3:ThreadCreation.*"


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    out = sys.argv[2] if len(sys.argv) > 2 else "build-qemu"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    qemu = "qemu-x86_64-static"
    env = dict(os.environ, CONVKIT_TEST_DATA_DIR=os.path.join(root, "tests", "data"),
               GTEST_FILTER=FILTER)
    env.pop("CONVKIT_TARGET", None)
    status = 0
    for cpu, best in CPUS:
        cpu_dir = os.path.join(out, cpu)
        os.makedirs(os.path.join(cpu_dir, "tests"), exist_ok=True)
        os.makedirs(os.path.join(cpu_dir, "meson-logs"), exist_ok=True)
        results = []
        start = time.monotonic()
        # Dispatch: the best target this CPU supports, and nothing above.
        r = subprocess.run([qemu, "-cpu", cpu, os.path.join(build, "tests", "env_target_test"),
                            "best=" + best], env=env, capture_output=True, text=True)
        print(f"{cpu}: {r.stdout.strip()}", flush=True)
        results.append({"name": "dispatch_best_" + best.lower(),
                        "result": "OK" if r.returncode == 0 else "FAIL"})
        for name in PROGRAMS + ["corpus_test"]:
            xml = os.path.join(cpu_dir, "tests", name + ".xml")
            if os.path.exists(xml):
                os.remove(xml)
            t0 = time.monotonic()
            run_env = env
            if name == "corpus_test":  # a sample, on the best target only
                run_env = dict(env, CONVKIT_CORPUS_EVERY="16", GTEST_FILTER="*/" + best)
            r = subprocess.run([qemu, "-cpu", cpu, os.path.join(build, "tests", name),
                                "--gtest_output=xml:" + xml],
                               env=run_env, capture_output=True, text=True)
            ok = r.returncode == 0
            results.append({"name": name, "result": "OK" if ok else "FAIL"})
            print(f"{cpu}: {name:16s} {'OK' if ok else 'FAIL (exit %d)' % r.returncode}"
                  f" {time.monotonic() - t0:6.1f} s", flush=True)
            if not ok:
                # The failing cases and their messages (qemu's CPUID warnings
                # dropped).
                lines = [l for l in (r.stdout + r.stderr).splitlines()
                         if "TCG doesn't support" not in l]
                print("\n".join(lines[-40:]), flush=True)
        with open(os.path.join(cpu_dir, "meson-logs", "testlog.json"), "w") as f:
            for res in results:
                f.write(json.dumps(res) + "\n")
        failed = [r["name"] for r in results if r["result"] != "OK"]
        status |= bool(failed)
        print(f"{cpu}: {len(results) - len(failed)} of {len(results)} programs passed "
              f"in {time.monotonic() - start:.0f} s", flush=True)
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
