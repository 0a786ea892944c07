#!/usr/bin/env python3
"""Runs the test suite of a build under qemu user-mode emulation, once per
emulated CPU, so that every target is tested on a CPU that has it and on
none that lacks it.

  x86:     qemu-x86_64-static as older CPUs: Haswell (AVX2, no AVX-512),
           Westmere (SSE4), Nehalem (SSSE3), on a native release build.
  aarch64: qemu-aarch64-static on the cross build (scripts/arm.sh) as
           -cpu max with 256-bit SVE (SVE_256 best; SVE2, SVE, NEON and
           SCALAR also run there), max with 128-bit SVE (SVE2_128), and
           max,sve=off (NEON the best target, chosen by dispatch).

Each CPU first checks that dispatch picks its best target and nothing above
it (env_target_test best=T), then runs every GoogleTest program on the
targets that CPU's row names (all it supports, or only its best where an
earlier CPU ran the others): an instruction it lacks would stop the program
with SIGILL. Left out, and why:
  - most of corpus_test: 10k shapes, 4 min natively and about 20x that
    emulated; here every 16th shape (633) runs on the CPU's best target,
    and the release run covers them all natively.
  - NotebookTimingShape: one 9.4-GFLOP layer, there to time, not to cover.
  - (x86) the AVX2 and AVX3 instances of the PROT_NONE guard-page tests:
    QEMU 7.2's TCG reads the whole memory operand of VPMASKMOVD/VMASKMOVPS,
    so a masked load whose masked-out lanes cross into a PROT_NONE page
    faults under qemu, where the CPU (Intel SDM: "faults will not occur due
    to referencing any memory location if the corresponding mask bit ... is
    0") does not. They run natively in the release and sanitizer stages.
    SVE's predicated loads and stores are emulated faithfully, so on Arm
    the guard-page tests run on every target.
  - ThreadCreation: it caps the address space with setrlimit, which under
    qemu-user limits the emulator's own mappings rather than the guest's
    thread stacks; it runs natively in the release stage.

Writes <out>/<cpu>/meson-logs/testlog.json and <out>/<cpu>/tests/<name>.xml
in the layout scripts/test-summary.py reads, so the cases count in CI's
closing line.

Usage: python3 scripts/qemu-suite.py x86|aarch64 [build] [out]
  (defaults: build and build-qemu for x86, build-arm and build-qemu-arm
  for aarch64)
"""
import json
import os
import subprocess
import sys
import time

PROGRAMS = ["spec_test", "dispatch_test", "gemm_tile_test", "pack_test", "errors_test",
            "conv_test", "backward_test", "threads_test", "memory_test", "nonfinite_test"]
EXCLUDE = ["*NotebookTimingShape*", "ThreadCreation.*"]

# arch: (qemu command, [(directory name, -cpu value, best target,
#                        run only the best target?)], extra exclusions)
ARCHES = {
    "x86": (["qemu-x86_64-static"],
            [("Haswell", "Haswell", "AVX2", False),
             ("Westmere", "Westmere", "SSE4", False),
             ("Nehalem", "Nehalem", "SSSE3", False)],
            ["*GuardPages*/AVX2", "*GuardPages*/AVX3"]),
    # -L/-E as in scripts/cross/aarch64-linux-gnu.ini: the cross toolchain's
    # loader and libc, before the arm64 multiarch copies.
    "aarch64": (["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu",
                 "-E", "LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib"],
                [("SVE_256", "max,sve-default-vector-length=32", "SVE_256", False),
                 ("SVE2_128", "max,sve-default-vector-length=16", "SVE2_128", True),
                 ("NEON", "max,sve=off", "NEON", True)],
                []),
}


def main():
    arch = sys.argv[1] if len(sys.argv) > 1 else "x86"
    if arch not in ARCHES:
        print(f"usage: {sys.argv[0]} x86|aarch64 [build] [out]", file=sys.stderr)
        return 2
    default_build, default_out = (("build", "build-qemu") if arch == "x86"
                                  else ("build-arm", "build-qemu-arm"))
    build = sys.argv[2] if len(sys.argv) > 2 else default_build
    out = sys.argv[3] if len(sys.argv) > 3 else default_out
    qemu, cpus, arch_exclude = ARCHES[arch]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, CONVKIT_TEST_DATA_DIR=os.path.join(root, "tests", "data"))
    env.pop("CONVKIT_TARGET", None)
    env.pop("QEMU_CPU", None)
    status = 0
    for name, cpu, best, best_only in cpus:
        cpu_dir = os.path.join(out, name)
        os.makedirs(os.path.join(cpu_dir, "tests"), exist_ok=True)
        os.makedirs(os.path.join(cpu_dir, "meson-logs"), exist_ok=True)
        results = []
        start = time.monotonic()
        command = qemu + ["-cpu", cpu]
        # Dispatch: the best target this CPU supports, and nothing above.
        r = subprocess.run(command + [os.path.join(build, "tests", "env_target_test"),
                                      "best=" + best], env=env, capture_output=True, text=True)
        print(f"{name}: {r.stdout.strip()} {r.stderr.strip()[-400:]}", flush=True)
        results.append({"name": "dispatch_best_" + best.lower(),
                        "result": "OK" if r.returncode == 0 else "FAIL"})
        positive = "*/" + best if best_only else "*"
        gtest_filter = positive + ":-" + ":".join(EXCLUDE + arch_exclude)
        for program in PROGRAMS + ["corpus_test"]:
            xml = os.path.join(cpu_dir, "tests", program + ".xml")
            if os.path.exists(xml):
                os.remove(xml)
            t0 = time.monotonic()
            run_env = dict(env, GTEST_FILTER=gtest_filter)
            if program == "corpus_test":  # a sample, on the best target only
                run_env = dict(env, CONVKIT_CORPUS_EVERY="16", GTEST_FILTER="*/" + best)
            r = subprocess.run(command + [os.path.join(build, "tests", program),
                                          "--gtest_output=xml:" + xml],
                               env=run_env, capture_output=True, text=True)
            ok = r.returncode == 0
            results.append({"name": program, "result": "OK" if ok else "FAIL"})
            print(f"{name}: {program:16s} {'OK' if ok else 'FAIL (exit %d)' % r.returncode}"
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
        print(f"{name}: {len(results) - len(failed)} of {len(results)} programs passed "
              f"in {time.monotonic() - start:.0f} s", flush=True)
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
