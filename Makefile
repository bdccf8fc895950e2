# Portside: developer commands. `make run` starts Portside with its embedded defaults (SQLite, demo
# catalog); `make test` runs every test, including the PostgreSQL half.

GO          ?= go
PG_DSN      ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
TEST_FLAGS  ?= -p 2 -timeout 20m
BIN         ?= bin/portside

.PHONY: run build test test-short vet fmt-check tidy-check repo-check generate generate-check postgres bench bench-quick e2e-argocd clean

## run: start Portside on http://127.0.0.1:7007 with SQLite (portside.db) and the demo catalog
run:
	$(GO) run ./cmd/portside serve --demo

## build: build portside and its Argo CD companion, portside-argocd, into bin/ (side by side,
## where portside serve looks for the companion)
build:
	$(GO) build -o $(BIN) ./cmd/portside
	$(GO) build -o $(dir $(BIN))portside-argocd ./cmd/portside-argocd

## test: vet, format check, and every test (unit, PostgreSQL, GraphQL, CLI, end to end, fuzz seeds)
test: postgres vet fmt-check
	PORTSIDE_TEST_POSTGRES_DSN='$(PG_DSN)' $(GO) test $(TEST_FLAGS) ./...

## test-short: the tests without PostgreSQL (its half skips) for a quick local loop
test-short:
	$(GO) test -p 2 ./...

## e2e-argocd: the Argo CD tier. Installs ../shared/argocd-rig when missing (about 15 s, from
## prebuilt binaries), starts it (a real Argo CD v2.14.21, kube-apiserver,
## kwok and Argo Rollouts on loopback), runs e2e/argocd_rig_test.go against it, and stops it.
RIG ?= ../shared/argocd-rig
e2e-argocd:
	RIG_WIPE=1 bash $(RIG)/down.sh  # every run starts from a fresh cluster and git repository
	bash $(RIG)/install.sh
	bash $(RIG)/up.sh
	$(GO) test -tags argocdrig -run TestPortsideFollowsAndDrivesARealArgoCD -count=1 -v -timeout 20m ./e2e/; \
		rc=$$?; bash $(RIG)/down.sh; exit $$rc

## postgres: make sure the local PostgreSQL answers (starts the Debian cluster if it is down)
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -n 1) main start
	@pg_isready -h 127.0.0.1 -p 5432

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## tidy-check: fail when go.mod is not tidy or go.sum holds stale checksums. Lines that tidy
## would only add to go.sum are tolerated: for test imports of our dependencies that no module in
## our build provides (gomega's golang.org/x/exp/slices, a few modules the proxy does not serve),
## tidy -e looks up whatever version is latest today, so those lines change with the calendar.
## Checksums the build needs are enforced by every build (-mod=readonly).
tidy-check:
	@d=$$($(GO) mod tidy -e -diff 2>/dev/null); \
	if printf '%s\n' "$$d" | grep -q '^+++ tidy/go.mod' || printf '%s\n' "$$d" | grep -q '^-[^-]'; then \
		echo "go.mod/go.sum need go mod tidy -e"; printf '%s\n' "$$d"; exit 1; fi

## repo-check: fail when a tracked file is over 1 MB and not a documented fixture (.ci/large-files.allow)
repo-check:
	@bash .ci/large-files

## generate: regenerate the GraphQL executor and models from graph/schema
generate:
	$(GO) generate ./graph

## generate-check: fail when the generated GraphQL code does not match the schema
generate-check: generate
	@git diff --exit-code -- graph || (echo "graph/: generated code is stale; run make generate and commit"; exit 1)

## bench: Go benchmarks, then the load driver on a generated catalog (SQLite and PostgreSQL)
bench: postgres
	$(GO) test -run '^$$' -bench . -benchmem ./catalog/ ./graph/ ./server/
	$(GO) test -run '^$$' -bench Following -benchtime 6000x -count 3 ./rollouts/
	$(GO) test -run '^$$' -bench . -count 5 -timeout 30m ./pipelines/...
	$(GO) run ./bench/load $(BENCH_FLAGS)

## bench-quick: a smoke run of the load driver (small catalog, short runs)
bench-quick: postgres
	$(GO) run ./bench/load -quick

clean:
	rm -rf bin bench/out
