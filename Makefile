# Comptoir: the two commands a newcomer needs are `make run` and `make test`.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.Version=$(VERSION)
BIN     := bin
RUN_DIR ?= .run

.PHONY: build run cloud-stop cloud-start test fuzz lint bench bench-ab bench-insight bench-scan cross cross-check package clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./edge/cmd/comptoir-edge ./cloud/cmd/comptoir-cloud

# Starts a cloud (--demo) and one enrolled terminal (--demo) on loopback.
# From another shell, cloud-stop and cloud-start stop and start the cloud
# alone (the offline step of the README's tour).
run: build
	RUN_DIR=$(RUN_DIR) BIN=$(BIN) ./build/run.sh
cloud-stop:
	@RUN_DIR=$(RUN_DIR) BIN=$(BIN) ./build/run.sh cloud-stop
cloud-start:
	@RUN_DIR=$(RUN_DIR) BIN=$(BIN) ./build/run.sh cloud-start

# Tests that need Mosquitto, PostgreSQL, Chromium, zbar, Node, qemu or the
# Go module proxy skip with a message when those are absent (and fail when
# COMPTOIR_REQUIRE_INTEGRATION=1, as in CI). build/testreport prints what
# go test does, then every skipped test and why. CI adds TESTFLAGS=-race
# (see .ci/run); PKGS narrows the packages.
TESTFLAGS ?=
PKGS      ?= ./...
test:
	$(GO) run ./build/testreport -- $(GO) test -json -count=1 -timeout 12m $(TESTFLAGS) $(PKGS)

# Every fuzz target for FUZZTIME; crashers stay in testdata/fuzz.
FUZZTIME ?= 10s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./build/fuzz.sh

# go vet, gofmt, staticcheck and govulncheck, the last two pinned and run
# through the Go module proxy (like nfpm below). govulncheck also needs
# vuln.go.dev: build/vulncheck.sh skips it with a message when that is
# unreachable (and fails instead under COMPTOIR_REQUIRE_INTEGRATION=1).
STATICCHECK         ?= GO=$(GO) ./build/gotool.sh honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK_VERSION ?= v1.10.0
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(STATICCHECK) ./...
	GO=$(GO) GOVULNCHECK_VERSION=$(GOVULNCHECK_VERSION) ./build/vulncheck.sh

# Benchmarks of DESIGN.md's targets; medians over several runs.
bench:
	./build/bench.sh

# One benchmark of two commits in one command, alternated, with medians and
# the change: make bench-ab BEFORE=56226df AFTER=HEAD PKG=./edge/cmd/comptoir-edge BENCH='BenchmarkKioskScan$$' BENCHTIME=100x
bench-ab:
	./build/benchab.sh "$(BEFORE)" "$(AFTER)" "$(PKG)" "$(BENCH)" "$(or $(BENCHTIME),1s)" "$(or $(COUNT),3)"

# What the returns insight costs at ingest, on against off in ABBA order:
# make bench-insight STORE=postgres ROUNDS=2
bench-insight:
	./build/insightab.sh "$(or $(STORE),postgres)" "$(or $(ROUNDS),2)"

# The scanner against stock gozxing, zbarimg and ZXingReader on ../shared/corpus.
bench-scan:
	$(GO) run ./build/benchscan

# Static linux/arm64 terminal agent (and the cloud for amd64 and arm64).
# Reproducible: no cgo, -trimpath, no build id, the version from git; two
# builds of one commit are byte-identical (`make cross-check`).
DIST  ?= dist
ARCHES ?= arm64 amd64
XBUILD = CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags '$(LDFLAGS) -buildid='
cross:
	@for a in $(ARCHES); do \
	  echo "linux/$$a"; \
	  GOARCH=$$a $(XBUILD) -o $(DIST)/linux-$$a/ ./edge/cmd/comptoir-edge ./cloud/cmd/comptoir-cloud || exit 1; \
	done
	@ls -l $(DIST)/linux-*/

# Builds everything twice in fresh directories and compares the bytes.
cross-check:
	rm -rf $(DIST)/check1 $(DIST)/check2
	$(MAKE) --no-print-directory cross DIST=$(DIST)/check1 VERSION=$(VERSION) >/dev/null
	$(MAKE) --no-print-directory cross DIST=$(DIST)/check2 VERSION=$(VERSION) >/dev/null
	cd $(DIST)/check1 && sha256sum linux-*/* | tee ../check.sha256 && cd ../check2 && sha256sum -c --quiet ../check.sha256 && echo "reproducible: identical bytes"

# Debian packages (comptoir-edge, comptoir-cloud) for each of $(ARCHES),
# made by nfpm fetched through the Go module proxy (pinned; nothing else is
# downloaded). Versions that do not start with a digit become 0.0.0+VERSION.
NFPM        ?= GO=$(GO) ./build/gotool.sh github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.44.0
PKG_VERSION ?= $(shell echo '$(VERSION)' | sed -E 's/^v//; /^[0-9]+\./!s/^/0.0.0+/; s/-/./g')
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
# nfpm-version fetches nfpm (or finds it in the module cache): the
# packaging test runs it first, to skip when offline.
.PHONY: nfpm-version
nfpm-version:
	@$(NFPM) --version >/dev/null

package: cross
	@for a in $(ARCHES); do for p in comptoir-edge comptoir-cloud; do \
	  ARCH=$$a VERSION='$(PKG_VERSION)' DIST='$(abspath $(DIST))' SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
	    $(NFPM) package --config build/package/$$p.yaml --packager deb --target $(DIST)/ || exit 1; \
	done; done

clean:
	rm -rf $(BIN) dist $(RUN_DIR)

# PNG renders of a label, a receipt and a handover manifest for the README:
# our previews (printer.Renderer.Preview) and the label's ZPL as drawn by
# zpl-renderer-js (npm ci --prefix build/zpl), a renderer we did not write.
.PHONY: docs-print
docs-print:
	mkdir -p docs/print
	$(GO) test -count=1 -run 'TestPreviewReadBack' ./printer -args -docs=$(CURDIR)/docs/print
	@if [ -d build/zpl/node_modules/zpl-renderer-js ]; then \
	  node build/zpl/render.js 101.6 152.4 8 docs/print/label_203-zpl-renderer-js.zpl && \
	  node build/zpl/render.js 100 150 12 docs/print/label_300_100x150mm-zpl-renderer-js.zpl; \
	else echo "zpl-renderer-js not installed (npm ci --prefix build/zpl): label not drawn by it"; fi

# Screenshots of the kiosk's screens at 800x480 for the README, taken by the
# Chromium tests (docs/kiosk/*.png).
.PHONY: docs-kiosk
docs-kiosk:
	mkdir -p docs/kiosk
	$(GO) test -count=1 -run 'TestKioskScreens|TestKioskOffline|TestKioskScale|TestKioskMonthStatement|TestKioskPrinterStates' ./edge/cmd/comptoir-edge -args -kiosk-docs=$(CURDIR)/docs/kiosk

# The report page's screenshot for the README (docs/reports/report.png).
.PHONY: docs-reports
docs-reports:
	mkdir -p docs/reports
	$(GO) test -count=1 -run 'TestReportPage' ./cloud/httpapi -args -report-docs=$(CURDIR)/docs/reports
