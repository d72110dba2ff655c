#!/usr/bin/env bash
# Coverage-guided fuzz of the emulator's store loader (libFuzzer with
# AddressSanitizer + UndefinedBehaviorSanitizer), bounded in time.
#
#   tests/fuzz/run_store_fuzz.sh [SECONDS]     (default: $SECITEM_STORE_FUZZ_SECONDS or 60)
#
# Builds tests/fuzz/store_loader_fuzz.c with every emulator source, starts
# from the committed seed corpus (tests/fuzz/store_corpus, made by
# make_store_corpus.py) in a scratch corpus folder, and prints libFuzzer's
# final statistics.  A finding (abort, sanitizer report, leak, wrong answer)
# exits 1 with the log's tail; the input is saved as store-crash-* (or
# store-leak-*, store-timeout-*) in $SECITEM_FUZZ_ARTIFACTS (default: the
# current folder).  Needs clang with libFuzzer (Debian: clang-14,
# libclang-rt-14-dev).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUDGET=${1:-${SECITEM_STORE_FUZZ_SECONDS:-60}}
CLANG=${CLANG:-$(command -v clang || command -v clang-14 || true)}
if [ -z "$CLANG" ]; then
  echo "store-loader fuzz: clang not found (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi
PY=${PYTHON:-python}
SRC=$("$PY" -c 'from secitem.testing.emulator import sources; print(sources())')
ARTIFACTS=${SECITEM_FUZZ_ARTIFACTS:-$PWD}

WORK=$(mktemp -d)
# The store file lives on tmpfs when there is one (each loaded input is
# written back; fsync on a disk would only slow the fuzz down).
if [ -w /dev/shm ]; then STORE_DIR=$(mktemp -d -p /dev/shm); else STORE_DIR=$WORK; fi
trap 'rm -rf "$WORK" "$STORE_DIR"' EXIT

"$CLANG" -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -pthread \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -Wall -Wextra -Wno-unused-command-line-argument \
  -I "$SRC" -o "$WORK/store_loader_fuzz" "$ROOT/tests/fuzz/store_loader_fuzz.c" "$SRC"/*.c -lm

mkdir "$WORK/corpus"
status=0
STORE_FUZZ_DIR="$STORE_DIR" \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
ASAN_OPTIONS=abort_on_error=1 \
  "$WORK/store_loader_fuzz" -max_total_time="$BUDGET" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$ARTIFACTS/store-" \
    "$WORK/corpus" "$ROOT/tests/fuzz/store_corpus" >"$WORK/log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  tail -n 60 "$WORK/log"
  echo "store-loader fuzz: a finding (exit $status; input saved as $ARTIFACTS/store-*)"
  exit 1
fi
grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb)' "$WORK/log"
echo "store-loader fuzz: no finding; corpus grew to $(ls "$WORK/corpus" | wc -l) inputs (+ $(ls "$ROOT/tests/fuzz/store_corpus" | wc -l) seeds)"
