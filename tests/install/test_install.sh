#!/usr/bin/env bash
# tests/install/test_install.sh — installs the built Attend into a temporary prefix, checks that
# the shared libattend exports only Attend's API, builds examples/cpp (find_package(attend)) and
# examples/c (pkg-config attend, through CMake and by hand) against that prefix only, and runs
# them on the bundled model, comparing with transformers' translation.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR MODEL [EXTRA_COMPILE_AND_LINK_FLAGS]
set -euo pipefail
BUILD=$1
SRC=$2
MODEL=$3
EXTRA=${4:-}
SENTENCE="People are fixing the roof of a house."
EXPECTED="Leute reparieren das Dach eines Hauses."   # transformers, beam 4 (test2016 line 5)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/attend-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
fail() { echo "install test: $*" >&2; echo "install: 0 passed, 1 failed"; exit 1; }

cmake --install "$BUILD" --prefix "$prefix" > "$tmp/install.log" || fail "cmake --install failed: $(cat "$tmp/install.log")"
lib=$(find "$prefix" -name 'libattend.so' | head -n1)
static=$(find "$prefix" -name 'libattend.a' | head -n1)
pc=$(find "$prefix" -name 'attend.pc' | head -n1)
config=$(find "$prefix" -name 'attendConfig.cmake' | head -n1)
for f in "$lib" "$static" "$pc" "$config" "$prefix/include/attend/attend.h" "$prefix/include/attend/attend.hpp" \
         "$prefix/include/attend/translator.hpp" "$prefix/include/attend/error.hpp" "$prefix/include/attend/export.h"; do
  [ -n "$f" ] && [ -f "$f" ] || fail "missing from the install: ${f:-a library, attend.pc or attendConfig.cmake}"
done
# Public headers: no oneDNN, SentencePiece or JSON.
if grep -lE 'dnnl|sentencepiece|nlohmann' "$prefix"/include/attend/*; then fail "a public header mentions a dependency"; fi

# Exported symbols: only the C API (attend_*) and the C++ API (attend::, its exception types'
# typeinfo and vtables; the version node ATTEND_* of the version script is not a symbol's name).
nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | c++filt > "$tmp/symbols.txt"
grep -Ev '^(attend_|attend::|typeinfo (name )?for attend::|vtable for attend::)' "$tmp/symbols.txt" > "$tmp/foreign.txt" || true
if grep -Eiq 'dnnl|sentencepiece|nlohmann|absl|protobuf' "$tmp/symbols.txt"; then
  grep -Ei 'dnnl|sentencepiece|nlohmann|absl|protobuf' "$tmp/symbols.txt" | head -5 >&2
  fail "libattend.so exports dependency symbols"
fi
if [ -s "$tmp/foreign.txt" ]; then head -10 "$tmp/foreign.txt" >&2; fail "libattend.so exports symbols outside Attend's API"; fi
grep -q '^attend_translate$' "$tmp/symbols.txt" || fail "attend_translate not exported"
grep -q '^attend::Model::load' "$tmp/symbols.txt" || fail "attend::Model::load not exported"

export CMAKE_PREFIX_PATH="$prefix"
export PKG_CONFIG_PATH="$(dirname "$pc")"
unset PKG_CONFIG_LIBDIR || true

# C++ example: find_package(attend).
cmake -S "$SRC/examples/cpp" -B "$tmp/cpp" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="$EXTRA" \
  -DCMAKE_EXE_LINKER_FLAGS="$EXTRA" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF > "$tmp/cpp.log" 2>&1 || { cat "$tmp/cpp.log" >&2; fail "examples/cpp: configure failed"; }
grep -q "$prefix" "$tmp/cpp/CMakeCache.txt" || fail "examples/cpp did not find attend in the install prefix"
cmake --build "$tmp/cpp" > "$tmp/cpp-build.log" 2>&1 || { cat "$tmp/cpp-build.log" >&2; fail "examples/cpp: build failed"; }
out=$("$tmp/cpp/minimal" "$MODEL" "$SENTENCE") || fail "examples/cpp: run failed"
echo "$out"
[ "$(echo "$out" | sed -n 1p | cut -f2)" = "$EXPECTED" ] || fail "examples/cpp: best translation differs from '$EXPECTED'"
[ "$(echo "$out" | sed -n 3p)" = "$EXPECTED" ] || fail "examples/cpp: Translator result differs from '$EXPECTED'"
ldd "$tmp/cpp/minimal" | grep "$prefix" > /dev/null || fail "examples/cpp is not linked to the installed libattend"

# C example: pkg-config through CMake.
cmake -S "$SRC/examples/c" -B "$tmp/c" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$EXTRA" \
  -DCMAKE_EXE_LINKER_FLAGS="$EXTRA" > "$tmp/c.log" 2>&1 || { cat "$tmp/c.log" >&2; fail "examples/c: configure failed"; }
cmake --build "$tmp/c" > "$tmp/c-build.log" 2>&1 || { cat "$tmp/c-build.log" >&2; fail "examples/c: build failed"; }
out=$("$tmp/c/minimal" "$MODEL" "$SENTENCE" 2> "$tmp/c-stream.txt") || { cat "$tmp/c-stream.txt" >&2; fail "examples/c: run failed"; }
echo "$out"
[ "$(echo "$out" | cut -f2)" = "$EXPECTED" ] || fail "examples/c: translation differs from '$EXPECTED'"
grep -q '(done)' "$tmp/c-stream.txt" || fail "examples/c: no streamed output"
ldd "$tmp/c/minimal" | grep "$prefix" > /dev/null || fail "examples/c is not linked to the installed libattend"

# C example by hand: the pkg-config flags alone.
libdir=$(pkg-config --variable=libdir attend)
# shellcheck disable=SC2046
cc $EXTRA "$SRC/examples/c/minimal.c" -o "$tmp/minimal-pc" $(pkg-config --cflags --libs attend) -Wl,-rpath,"$libdir" \
  || fail "cc with pkg-config --cflags --libs attend failed"
out=$("$tmp/minimal-pc" "$MODEL" "$SENTENCE" 2>/dev/null) || fail "hand-built C example: run failed"
[ "$(echo "$out" | cut -f2)" = "$EXPECTED" ] || fail "hand-built C example: translation differs"

echo "install: 1 passed, 0 failed"
