# Foyer's two commands: `make run` and `make test`. Both install the servers
# they need (redis-server, postgresql; chromium for the browser tests) from
# Debian's packages when missing, and start throwaway ones on loopback.
# `make shop`, beside a `make run`, starts the example shop of its shop demo.

GO ?= go
# Where `foyer dev` keeps its throwaway servers and writes shop.env, the
# example shop's settings (its key and secrets: mode 0600, git ignores it).
FOYER_DATA_DIR ?= .data

.PHONY: run shop test bench fuzz vet provision provision-browser build clean promtool helm js bundle

run: provision
	$(GO) run ./cmd/foyer dev

# The example shop (examples/shop) wired to the Foyer of a running
# `make run`: its key, secrets and sale come from shop.env, remade at every
# start of `make run` (so restart the shop after it).
shop:
	@test -f "$(FOYER_DATA_DIR)/shop.env" || { echo "no $(FOYER_DATA_DIR)/shop.env: start Foyer with make run first (FOYER_DEMO_SHOP_URL not off)"; exit 1; }
	set -a; . "$(FOYER_DATA_DIR)/shop.env"; set +a; $(GO) run ./examples/shop/cmd/shop

# The browser tests drive Debian's chromium: test installs it too.
# Every package with the race detector; internal/app's whole-system tests,
# which mostly wait on their servers, as several processes side by side
# (scripts/test.sh).
test: provision-browser vet promtool helm js
	GO=$(GO) scripts/test.sh

# The JavaScript client, @foyer/client (clients/js): its pinned dev tools
# installed by npm ci on first use (or when package-lock.json changes), then
# the ESM and CommonJS builds, its unit tests and its npm pack test, in
# seconds. Its walk of a real sale runs with the Go tests
# (internal/app/jsclient_test.go).
# Then the React Native example (examples/react-native) is type-checked
# against the declarations just built, with react-native's own types: tsc's
# exit fails make js when the screen no longer compiles with the library.
# Its npm ci (react-native, react, their types: about 200 MB) runs on first
# use or when its lockfile changes, about a minute; the check itself 3 s of CPU.
JS_DIR := clients/js
RN_DIR := examples/react-native
js: $(JS_DIR)/node_modules/.package-lock.json $(RN_DIR)/node_modules/.package-lock.json
	@echo "js: build (tsc: ESM, CommonJS, .d.ts)"
	@cd $(JS_DIR) && npm run --silent build
	@echo "js: unit and package tests (node --test)"
	@cd $(JS_DIR) && npm test --silent
	@echo "js: the React Native example type-checks against the built client (tsc --noEmit)"
	@cd $(RN_DIR) && npm run --silent typecheck

# The shopper page's copy of @foyer/client (web/static/client/), bundled by
# esbuild's Go API. The bundles are committed, so building and serving the
# page needs Go alone; after changing clients/js/src, run this and commit
# what it writes (clients/js/pagebundle's test fails until then).
bundle:
	$(GO) run ./clients/js/pagebundle

$(JS_DIR)/node_modules/.package-lock.json: $(JS_DIR)/package-lock.json | provision-browser
	@echo "js: npm ci (installs the pinned dev tools; the first run takes a few seconds)"
	cd $(JS_DIR) && npm ci --no-audit --no-fund

# --ignore-scripts: only the types are wanted, none of react-native's install steps.
$(RN_DIR)/node_modules/.package-lock.json: $(RN_DIR)/package-lock.json | provision-browser
	@echo "js: npm ci in $(RN_DIR) (react-native's types; the first run takes under a minute)"
	cd $(RN_DIR) && npm ci --no-audit --no-fund --ignore-scripts

# Prometheus's own promtool checks and runs the alert rules of
# deploy/monitoring (cmd/foyer's monitoring tests), pinned by the module in
# deploy/monitoring/promtool. Built once into bin/; the first build fetches
# Prometheus's modules, which takes minutes.
promtool: bin/promtool
bin/promtool: deploy/monitoring/promtool/go.mod deploy/monitoring/promtool/go.sum
	@echo "building promtool (Prometheus's rule checker; the first time fetches its modules, a few minutes)..."
	cd deploy/monitoring/promtool && $(GO) build -o ../../../bin/promtool github.com/prometheus/prometheus/cmd/promtool

# Helm renders and lints the chart in deploy/helm/foyer (cmd/foyer's helm
# tests), pinned by the module in deploy/helm/tool. Built once into bin/;
# the first build fetches Helm's and Kubernetes's modules, which takes minutes.
helm: bin/helm
bin/helm: deploy/helm/tool/go.mod deploy/helm/tool/go.sum
	@echo "building helm (the Kubernetes chart tool; the first time fetches its modules, a few minutes)..."
	cd deploy/helm/tool && $(GO) build -o ../../../bin/helm helm.sh/helm/v4/cmd/helm

# A short run of every benchmark: the Go benchmarks of the
# hot paths, each next to its ceiling, then `foyer-bench bench`, which runs
# the system (gateway and worker processes of bin/foyer, the load generator)
# next to a bare coder/websocket server. Results go to bench/results/ (git ignores it):
# components.txt (go test output), bench.json and bench.md, the table of
# docs/performance.md. The long run: see docs/performance.md.
# BENCH_FLAGS go to foyer-bench bench: by default it also finds the
# sustained sale rate (15,000 waiting, the outflow stepped up), the longest
# part; `make bench BENCH_FLAGS=` leaves it out.
BENCH_FLAGS ?= -sustained
bench: provision build
	@mkdir -p bench/results
	$(GO) test -run '^$$' -bench 'Join|Admission' -benchtime 3x ./waitingroom | tee bench/results/components.txt
	$(GO) test -run '^$$' -bench 'UpdateTick' -benchtime 20x ./waitingroom | tee -a bench/results/components.txt
	$(GO) test -run '^$$' -bench 'ConfirmBurst' -benchtime 20000x ./waitingroom | tee -a bench/results/components.txt
	$(GO) test -run '^$$' -bench . -benchtime 1x ./internal/app ./worker | tee -a bench/results/components.txt
	$(GO) test -run '^$$' -bench 'OrderWritesWithWebhookEvents|DispatchRate' -benchtime 2x ./internal/webhooks | tee -a bench/results/components.txt
	bin/foyer-bench bench $(BENCH_FLAGS) -components bench/results/components.txt -out bench/results

# One minute of fuzzing the shopper protocol's message decoder.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeClientMessage -fuzztime 60s ./server

# go vet, and staticcheck at the version go.mod pins (a tool directive, so
# `go tool` builds it from the module proxy like any dependency).
vet:
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

provision:
	@bash scripts/provision.sh

provision-browser:
	@bash scripts/provision.sh --browser

# Two binaries side by side: foyer, the product, and foyer-bench, the load
# and bench tooling, which runs bin/foyer as the system it measures.
build:
	$(GO) build -trimpath -o bin/foyer ./cmd/foyer
	$(GO) build -trimpath -o bin/foyer-bench ./cmd/foyer-bench

clean:
	rm -rf bin .data
