# Foyer's two commands: `make run` and `make test`. Both install the servers
# they need (redis-server, postgresql; chromium for the browser tests) from
# Debian's packages when missing, and start throwaway ones on loopback.

GO ?= go
# Packages whose state is shared between goroutines all run under -race;
# the race detector is on for the whole suite.
TEST_FLAGS ?= -race -count=1 -timeout 14m

.PHONY: run test vet provision provision-browser build clean

run: provision
	$(GO) run ./cmd/foyer dev

# The browser tests drive Debian's chromium: test installs it too.
test: provision-browser vet
	$(GO) test $(TEST_FLAGS) ./...

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
