# crmsync — see README.md. Every target works on a fresh machine with Go,
# Java 17, Node/npm and make; test servers install into .testservers/.
GO        ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w'

.PHONY: all test unit bench chaos fuzz build lint run clean servers-start servers-stop

all: lint test

## test: vet and race-test every package against real DynamoDB Local and fauxqs
test:
	@bash .ci/test

## unit: the fast tier only (suites needing a server skip, loudly)
unit:
	$(GO) test ./...

## bench: benchmarks of every package (real servers started as for test),
## then issue #15's table on the strict local stack — latency, calls per
## record, first-sync rate, receivers, cold starts, memory — printed and
## written to bench.json (cmd/bench; BENCH_* scale it). Minutes.
bench:
	@bash .ci/test bench

## chaos: 10 000 changes on both sides with vendor and AWS faults and the
## worker killed mid-batch, on bbolt + local queue and DynamoDB Local +
## fauxqs, then sweeps and the convergence checker; prints the table and
## writes chaos.json (cmd/chaos; CHAOS_CHANGES=500 for a short run).
chaos:
	@bash .ci/test chaos

## fuzz: every Fuzz target in the repository (webhook JSON and signatures,
## outbound SOAP, settings YAML, trigger decoding, …) for FUZZTIME each.
## Not part of test: there the seed corpora run as ordinary tests.
## Minimising an interesting input may take up to a minute by default,
## and fuzzing stalls meanwhile: FUZZMINIMIZETIME bounds it.
FUZZTIME ?= 20s
FUZZMINIMIZETIME ?= 1s
fuzz:
	@set -e; for f in $$(git grep -l '^func Fuzz' -- '*_test.go'); do \
		for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "fuzz ./$$(dirname $$f) $$fn for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) ./$$(dirname $$f); \
		done; \
	done

## build: every function as bootstrap for linux/arm64, in bin/<function>/
build:
	@for f in $(FUNCTIONS); do \
		echo "build functions/$$f -> bin/$$f/bootstrap"; \
		$(LAMBDA_BUILD) -o bin/$$f/bootstrap ./functions/$$f || exit 1; \
	done

## lint: gofmt, go vet, and staticcheck when it installs from the module proxy
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -version >/dev/null 2>&1; then \
		$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...; \
	else echo "staticcheck not available from the module proxy; skipped"; fi

## run: the local stack (embedded store, local queue)
run:
	$(GO) run ./cmd/crmsync local --sandbox

servers-start:
	@.ci/testservers start
servers-stop:
	@.ci/testservers stop

clean:
	rm -rf bin .aws-sam

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set.
build-HubSpotWebhookFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/hubspot-webhook
build-SalesforceOutboundFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/salesforce-outbound
build-SyncWorkerFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sync-worker
build-SweepFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sweep
build-SyncHealthFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sync-health
