#!/usr/bin/env bash
# Every Go test, with the race detector: what `make test` runs after its
# checks. internal/app's tests walk whole systems (real Redis, Postgres,
# nginx, chromium, Node) and spend much of their time waiting on them, so
# its tests run as several processes side by side (shards,
# FOYER_TEST_SHARDS, 3 by default), beside the other packages, and then the
# crowds alone. Each shard is the same test binary, built once, given a
# share of the test names.
set -euo pipefail

GO=${GO:-go}
SHARDS=${FOYER_TEST_SHARDS:-3}
TIMEOUT=${FOYER_TEST_TIMEOUT:-20m}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
app=github.com/foyerhq/foyer/internal/app

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The other packages start at once, while internal/app's test binary
# builds: they take less time than its shards, so starting them first
# moves some of their work out of the shards' way.
(
	set +e
	# shellcheck disable=SC2046 # one argument per package
	$GO test -race -count=1 -timeout "$TIMEOUT" $($GO list ./... | grep -vx "$app")
	echo $? >"$work/others.rc"
) &

echo "building internal/app's tests (race detector on)..."
$GO test -race -c -o "$work/app.test" ./internal/app

# The crowds: tests that hold thousands of shoppers or a load generator's
# processes. Beside the shards and the other packages, on a slow host, they
# waited ten times as long as alone and failed on it; they run after the
# rest, alone, as one more shard.
crowds='^(TestLoadgen[A-Za-z0-9_]*|TestFiveThousand[A-Za-z0-9_]*|TestTheNodeLoadScript[A-Za-z0-9_]*|TestAListOfAHundredThousand[A-Za-z0-9_]*)$'

# The other test names, dealt out in turn: neighbours in a file tend to
# cost alike, so dealing spreads the heavy ones.
mapfile -t names < <(grep -ho '^func Test[A-Za-z0-9_]*' internal/app/*_test.go | sed 's/^func //' | grep -vx TestMain | grep -vE "$crowds" | sort -u)
declare -a pattern
for i in "${!names[@]}"; do
	s=$((i % SHARDS))
	pattern[s]+="${pattern[s]:+|}${names[i]}"
done
echo "internal/app: ${#names[@]} tests in $SHARDS shards, beside the other packages, then the crowds alone"

# runShard s pattern: one shard of the test binary, its log and exit code
# kept by its number.
runShard() {
	(
		cd internal/app
		set +e
		"$work/app.test" -test.run "$2" -test.count=1 -test.v -test.timeout="$TIMEOUT" >"$work/shard$1.log" 2>&1
		echo $? >"$work/shard$1.rc"
		echo "internal/app shard $(($1 + 1))/$((SHARDS + 1)) done after $(($(date +%s) - start)) s"
	)
}

start=$(date +%s)
for s in $(seq 0 $((SHARDS - 1))); do
	runShard "$s" "^(${pattern[s]})\$" &
done

wait
status=0
[ "$(cat "$work/others.rc")" = 0 ] || status=1
echo "internal/app: the crowds, alone"
runShard "$SHARDS" "$crowds"

# A shard runs verbose, so that each test's time is known: the slowest are
# listed, to see a shard nearing its timeout before it does. A failed shard
# prints what its failed tests said (and all after a panic or a timeout),
# not every passing test's log, and prints it last: a CI that keeps the
# head and tail of a long output cut a failure's own lines when they came
# before the lists. A run of lines alike but for their digits (a client's
# retries while a Redis node is down, hundreds a second) is one line and a
# count.
# awk, not head, takes the first lines: head leaves before sort has
# written everything, and under pipefail sort's SIGPIPE ended the script
# (exit 141) after every test had passed.
slowest() {
	sed -nE 's/^--- (PASS|FAIL): ([^ ]+) \(([0-9.]+)s\)$/\3 \2/p' "$1" | sort -rn |
		awk -v n="$2" 'NR <= n { printf "    %6.1f s  %s\n", $1, $2 }'
}
failed_only() {
	awk '
		function flush(   note) {
			if (same == 0) return
			note = sprintf("    (and %d more lines like the one above)\n", same); same = 0
			if (after) printf "%s", note; else out = out note
		}
		function keep(line,   shape) {
			shape = line; gsub(/[0-9]+/, "#", shape)
			if (shape == last) { same++; return }
			flush(); last = shape
			if (after) printf "%s\n", line; else out = out line "\n"
		}
		function show() { flush(); printf "%s", out; out = ""; last = "" }
		/^=== RUN   [^\/]+$/ { out = ""; same = 0; last = "" }
		{ keep($0) }
		/^--- FAIL: / { show() }
		/^--- PASS: / { out = ""; same = 0; last = "" }
		/^panic: / && !after { show(); after = 1 }
		END { show() }
	' "$1"
}
for s in $(seq 0 "$SHARDS"); do
	if [ "$(cat "$work/shard$s.rc")" = 0 ]; then
		echo "ok  	$app (shard $((s + 1))/$((SHARDS + 1))), its slowest tests:"
	else
		status=1
		echo "FAIL	$app (shard $((s + 1))/$((SHARDS + 1))), its slowest tests (what its failed tests said is at the end):"
	fi
	slowest "$work/shard$s.log" 8
	if [ -n "${FOYER_TEST_LOGS:-}" ]; then
		mkdir -p "$FOYER_TEST_LOGS"
		cp "$work/shard$s.log" "$FOYER_TEST_LOGS/app-shard$((s + 1)).log"
	fi
done
if [ -n "${FOYER_TEST_LOGS:-}" ]; then
	echo "internal/app's shard logs, every test's time in them: $FOYER_TEST_LOGS"
fi
echo "internal/app took $(($(date +%s) - start)) s in all"
for s in $(seq 0 "$SHARDS"); do
	if [ "$(cat "$work/shard$s.rc")" != 0 ]; then
		echo "--- what the failed tests of internal/app shard $((s + 1))/$((SHARDS + 1)) said:"
		failed_only "$work/shard$s.log"
	fi
done
exit $status
