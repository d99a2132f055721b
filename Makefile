# Comptoir: the two commands a newcomer needs are `make run` and `make test`.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.Version=$(VERSION)
BIN     := bin
RUN_DIR ?= .run

.PHONY: build run test lint bench cross clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./edge/cmd/comptoir-edge ./cloud/cmd/comptoir-cloud

# Starts a cloud (--demo) and one enrolled terminal (--demo) on loopback.
run: build
	RUN_DIR=$(RUN_DIR) BIN=$(BIN) ./build/run.sh

# Tests that need Mosquitto, PostgreSQL, Chromium, zbar, Node or qemu skip
# with a message when those are absent (and fail when
# COMPTOIR_REQUIRE_INTEGRATION=1, as in CI).
test:
	$(GO) test -count=1 -timeout 12m ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Benchmarks of DESIGN.md's targets; medians over several runs.
bench:
	./build/bench.sh

# Static linux/arm64 terminal agent (and the cloud for amd64 and arm64).
cross:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/linux-arm64/ ./edge/cmd/comptoir-edge ./cloud/cmd/comptoir-cloud
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/linux-amd64/ ./edge/cmd/comptoir-edge ./cloud/cmd/comptoir-cloud
	@ls -l dist/*/

clean:
	rm -rf $(BIN) dist $(RUN_DIR)
