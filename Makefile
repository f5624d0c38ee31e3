# Foyer's two commands: `make run` and `make test`. Both install the servers
# they need (redis-server, postgresql; chromium for the browser tests) from
# Debian's packages when missing, and start throwaway ones on loopback.

GO ?= go
# Packages whose state is shared between goroutines all run under -race;
# the race detector is on for the whole suite.
TEST_FLAGS ?= -race -count=1 -timeout 14m

.PHONY: run test bench fuzz vet provision provision-browser build clean

run: provision
	$(GO) run ./cmd/foyer dev

# The browser tests drive Debian's chromium: test installs it too.
test: provision-browser vet
	$(GO) test $(TEST_FLAGS) ./...

# A short run of every benchmark (a few minutes): the figures of
# docs/performance.md, each next to its baseline from the same run. The raw
# output goes to bench/results/ (git ignores it) as text and go test -json.
bench: provision
	@mkdir -p bench/results
	$(GO) test -run '^$$' -bench . -benchtime 1x ./internal/app ./worker | tee bench/results/latest.txt
	$(GO) test -run '^$$' -bench 'UpdateTick|Draw' -benchtime 20x ./waitingroom | tee -a bench/results/latest.txt
	$(GO) tool test2json < bench/results/latest.txt > bench/results/latest.json

# One minute of fuzzing the shopper protocol's message decoder.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeClientMessage -fuzztime 60s ./server

vet:
	$(GO) vet ./...

provision:
	@bash scripts/provision.sh

provision-browser:
	@bash scripts/provision.sh --browser

build:
	$(GO) build -trimpath -o bin/foyer ./cmd/foyer

clean:
	rm -rf bin .data
