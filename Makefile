# falcocw: a Fluent Bit output plugin for Falco alerts to CloudWatch Logs,
# Firehose, Kinesis Data Streams, SNS, EventBridge and Security Hub.
# `make help` lists the targets.

SO        := build/falcocw.so
MOTO_URL  ?= http://127.0.0.1:5055
IMAGE     ?= falcocw/aws-for-fluent-bit:latest
GO        ?= go

FUZZTIME  ?= 5m
# Each fuzz target as NAME:PACKAGE:EXECUTIONS. make test runs each for its
# count of executions, about 30 s each on a 2-core machine: a count, not a
# duration, because Go 1.26's fuzzer can fail a duration run at its
# deadline when the CPU is busy (go.dev/issue/75804, fixed in Go 1.27).
FUZZ      := FuzzDecode:./falcocw/chunk:400000 FuzzRecognise:./falcocw/falco:1500000 \
             FuzzFastPath:./falcocw/falco:1500000 FuzzParseRule:./falcocw/route:1200000 \
             FuzzParse:./falcocw/config:1500000 FuzzAppend:./falcocw/jsonstr:600000 FuzzScan:./falcocw/jsonstr:1000000 \
             FuzzSum2:./falcocw/sha256x2:2000000
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help build test demo bench bench-fleet lint fuzz docker clean moto arm64 cpus

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

build: $(SO) ## build the plugin, build/falcocw.so

$(SO): $(shell find plugin falcocw -name '*.go' -not -name '*_test.go') go.mod go.sum
	CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -o $@ ./plugin
	@rm -f build/falcocw.h

demo: build ## run the bundled Falco samples through the .so to a local AWS endpoint
	$(GO) run ./cmd/falcocw-demo -plugin $(SO)

test: ## gofmt, vet, staticcheck, every test (moto's when it answers at MOTO_URL; real Fluent Bit's from FLUENT_BIT or ../shared/fluent-bit), the core's tests again with every fast path off (-tags purego), the race detector, about 30s of each fuzzer, the arm64 build and the core's tests under qemu-aarch64, and under qemu-x86_64 as older CPUs
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if curl -fs -o /dev/null $(MOTO_URL)/moto-api/; then \
	  echo "moto answers at $(MOTO_URL): the moto integration tests will run"; \
	else \
	  echo "NOTE: moto does not answer at $(MOTO_URL): the moto integration tests are SKIPPED (run scripts/moto.sh start, or make moto)"; \
	fi
	@if [ -n "$$FLUENT_BIT" ]; then echo "real Fluent Bit from FLUENT_BIT: $$FLUENT_BIT"; \
	elif ls ../shared/fluent-bit/v*/fluent-bit >/dev/null 2>&1; then echo "real Fluent Bit:" ../shared/fluent-bit/v*/fluent-bit; \
	else echo "NOTE: no real Fluent Bit (set FLUENT_BIT, or put releases in ../shared/fluent-bit/vX.Y.Z/): the real-host tests (internal/realhost) are SKIPPED"; fi
	$(STATICCHECK) ./...
	$(GO) run ./cmd/falcocw check conf/* examples/*.conf examples/*.json examples/eks/*
	FALCOCW_MOTO_URL=$(MOTO_URL) $(GO) test -count=1 -timeout 40m ./...
	$(GO) test -count=1 -tags purego ./falcocw/...
	$(GO) test -count=1 -race ./falcocw/...
	@$(MAKE) --no-print-directory fuzz FUZZ_BY_COUNT=1
	@$(MAKE) --no-print-directory arm64
	@$(MAKE) --no-print-directory cpus

cpus: ## the core's tests on older x86-64 CPUs under qemu-x86_64: a Nehalem (no AVX2, no SHA extensions) and a Haswell (AVX2, no SHA extensions)
	GO=$(GO) bash scripts/cpus.sh

arm64: ## cross-build build/falcocw-arm64.so and run the core's tests for arm64 under qemu-aarch64 (installs qemu-user and the cross gcc when missing)
	GO=$(GO) bash scripts/arm64.sh

fuzz: ## run each fuzz target for FUZZTIME (default 5m; make test runs a count of executions, about 30s each)
	@for t in $(FUZZ); do \
	  name=$${t%%:*}; rest=$${t#*:}; pkg=$${rest%%:*}; budget=$(FUZZTIME); \
	  if [ -n "$(FUZZ_BY_COUNT)" ]; then budget=$${rest#*:}x; fi; \
	  echo "fuzzing $$name in $$pkg for $$budget"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget $$pkg || exit 1; \
	done

moto: ## install and start moto on 127.0.0.1:5055 for the integration tests
	bash scripts/moto.sh start 5055

bench: build ## in-process benchmarks of the hot path, then falcocw inside real Fluent Bit beside the outputs it replaces (BENCH_N 200000, BENCH_LARGE 600000, BENCH_RUNS 3, BENCH_WORKERS 4 as documented; BENCH_LATENCY=40ms: the endpoint answers every call that late)
	$(GO) test -run '^$$' -bench . -benchmem ./falcocw/...
	$(GO) run ./cmd/falcocw-bench -plugin $(SO) -n $(or $(BENCH_N),200000) -large $(or $(BENCH_LARGE),600000) -runs $(or $(BENCH_RUNS),3) -latency $(or $(BENCH_LATENCY),0) -workers $(or $(BENCH_WORKERS),4)
	$(MAKE) bench-fleet

bench-fleet: ## the fleet simulation's table: 4, 40 and 400 instances sharing each service's quota (about 15 minutes)
	$(GO) run ./cmd/falcocw-fleet

lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(STATICCHECK) ./...

docker: ## build the custom aws-for-fluent-bit image (needs a Docker engine)
	docker build -t $(IMAGE) .

clean: ## remove build output
	rm -rf build
