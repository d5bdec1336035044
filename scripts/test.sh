#!/usr/bin/env bash
# test.sh - the one command that sets up and runs every test of tthc-pulse.
#
#   scripts/test.sh [--quick] [--no-install]
#
# Steps: install the Debian packages (scripts/install-deps.sh), build `build`
# (RelWithDebInfo), build `build-asan` (Debug, -DTTHC_SANITIZE=ON), run ctest
# in build-asan (unit tests and the integration tests, which start their own
# PostgreSQL on loopback and broker through tests/integration/lib.sh), run
# the soak once more on the release build (its memory check is meaningful
# only there), then check the formatting of the git-tracked *.c/*.h with
# clang-format.
#
#   --quick       skip the release build and its soak
#   --no-install  skip installing packages
#
# Exits non-zero if any step fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=0
INSTALL=1
JOBS=2
for arg in "$@"; do
	case $arg in
	--quick) QUICK=1 ;;
	--no-install) INSTALL=0 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "test.sh: unknown option: $arg (try --help)" >&2
		exit 2
		;;
	esac
done

STEP=0
step() {
	STEP=$((STEP + 1))
	printf '\n==> [%d] %s\n' "$STEP" "$*"
}
fail() {
	printf '\n==> FAILED: %s\n' "$*" >&2
	exit 1
}

START=$SECONDS

if [[ $INSTALL == 1 ]]; then
	step "install packages (scripts/install-deps.sh)"
	bash scripts/install-deps.sh || fail "installing packages"
fi

build() { # build DIR cmake-args...
	local dir=$1
	shift
	cmake -S . -B "$dir" "$@" || fail "configuring $dir"
	cmake --build "$dir" -j "$JOBS" || fail "building $dir"
}

if [[ $QUICK == 0 ]]; then
	step "release build: build/ (RelWithDebInfo)"
	build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTTHC_SANITIZE=OFF
fi

step "sanitizer build: build-asan/ (Debug, ASan + UBSan)"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DTTHC_SANITIZE=ON

step "sanitizer settings"
# LeakSanitizer stops the process's threads with ptrace to scan memory; where
# ptrace is forbidden (seccomp in some containers, yama ptrace_scope=3, or
# running under a debugger/strace) it aborts with "LeakSanitizer has
# encountered a fatal error" and every test fails. So probe it once with a
# program that leaks on purpose, and turn leak detection off (saying so) only
# when it cannot work here.
detect_leaks=0
probe=$(mktemp -d)
printf '#include <stdlib.h>\nvoid *volatile p;\nint main(void) { p = malloc(64); p = 0; return 0; }\n' \
	>"$probe/leak.c"
if ${CC:-cc} -fsanitize=address -g -o "$probe/leak" "$probe/leak.c" 2>/dev/null; then
	out=$(ASAN_OPTIONS=detect_leaks=1 "$probe/leak" 2>&1 || true)
	if [[ "$out" == *"ERROR: LeakSanitizer: detected memory leaks"* ]]; then
		detect_leaks=1
	else
		echo "LeakSanitizer does not work here (ptrace restricted?): detect_leaks=0"
	fi
else
	echo "could not build the LeakSanitizer probe: detect_leaks=0"
fi
rm -rf "$probe"
export ASAN_OPTIONS="detect_leaks=$detect_leaks:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Integration tests find the binaries of the build under test through these.
export BUILD_DIR=$ROOT/build-asan
export TTHC_BIN=$BUILD_DIR/bin
echo "ASAN_OPTIONS=$ASAN_OPTIONS"
echo "UBSAN_OPTIONS=$UBSAN_OPTIONS"
echo "LSAN_OPTIONS=${LSAN_OPTIONS:-}"
echo "BUILD_DIR=$BUILD_DIR"

failed=()

step "tests: ctest in build-asan/"
if ! (cd build-asan && ctest --output-on-failure -j "$JOBS"); then
	failed+=("tests")
fi

if [[ $QUICK == 0 ]]; then
	# The sanitizers' shadow memory and quarantine hide the program's own
	# memory, so the soak's flat-RSS check holds only for a release build.
	step "memory: torture_soak on the release build/ (RSS and fds stay flat)"
	if ! BUILD_DIR=$ROOT/build TTHC_BIN=$ROOT/build/bin \
		bash tests/torture/torture_soak.sh --small; then
		failed+=("release soak")
	fi
fi

step "format: clang-format check of git-tracked *.c and *.h"
command -v clang-format >/dev/null || fail "clang-format not installed"
bad=()
while IFS= read -r -d '' f; do
	if ! clang-format --style=file "$f" | cmp -s "$f" -; then
		bad+=("$f")
	fi
done < <(if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z -- '*.c' '*.h'
else # not a git checkout: every source outside the build trees
	find . -path './build*' -prune -o -type f -name '*.[ch]' -print0
fi)
if [[ ${#bad[@]} -gt 0 ]]; then
	echo "these files are not clang-format clean (fix: clang-format -i FILE):"
	printf '  %s\n' "${bad[@]}"
	failed+=("format")
else
	echo "all formatted"
fi

elapsed=$((SECONDS - START))
if [[ ${#failed[@]} -gt 0 ]]; then
	fail "${failed[*]} (after ${elapsed}s)"
fi
printf '\n==> ALL PASSED (%ds)\n' "$elapsed"
