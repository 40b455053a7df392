#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, one after the
# other, starting from the committed seeds in fuzz/corpus/TARGET. New inputs
# go to fuzz/corpus-run/TARGET (not committed). Exits non-zero when any
# target finds a crash, a panic, a timeout or an out-of-memory; the input is
# left in fuzz/artifacts/TARGET/.
#
#   bash fuzz/run.sh 20                  # every target, 20 s each (CI)
#   bash fuzz/run.sh 600 dn_parse        # one target, 10 minutes
#
# Needs cargo-fuzz (installed from crates.io when missing) and a nightly
# toolchain; without nightly it uses stable with RUSTC_BOOTSTRAP=1.
set -uo pipefail

secs="${1:-20}"
shift || true
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked || exit 2
fi

if cargo +nightly --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
else
    echo "fuzz: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1"
    fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
fi
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <("${fuzz[@]}" list)
fi
if [ "${#targets[@]}" -eq 0 ]; then
    echo "fuzz: no targets found" >&2
    exit 2
fi

echo "fuzz: building ${#targets[@]} targets (address sanitizer, debug assertions)"
if ! "${fuzz[@]}" build >build.log 2>&1; then
    tail -n 60 build.log >&2
    echo "fuzz: build failed" >&2
    exit 2
fi

mkdir -p logs
passed=0
failed=0
failures=()
for t in "${targets[@]}"; do
    mkdir -p "corpus-run/$t" "corpus/$t"
    log="logs/$t.log"
    "${fuzz[@]}" run "$t" "corpus-run/$t" "corpus/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1
    rc=$?
    # The last status line: "#N DONE cov: C ft: F corp: K/..." (or the last pulse).
    status="$(grep -E '^#[0-9]+' "$log" | tail -n 1 | tr -s ' \t' ' ')"
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "fuzz: ok     $t ${secs}s: $status"
    else
        failed=$((failed + 1))
        failures+=("$t")
        echo "fuzz: FAILED $t (exit $rc): $status"
        grep -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY|Test unit written|Base64' "$log" | head -n 20
        tail -n 40 "$log"
    fi
done

echo "fuzz: ${passed} passed, ${failed} failed"
if [ "$failed" -gt 0 ]; then
    echo "fuzz: failing targets: ${failures[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
