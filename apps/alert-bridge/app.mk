# alert-bridge make targets (included by the root Makefile).
ALERT_BRIDGE_DIR := apps/alert-bridge

.PHONY: build-alert-bridge build-alert-bridge-load test-alert-bridge bench-alert-bridge fuzz-alert-bridge

build-alert-bridge:
	go build -o $(BIN)/alert-bridge ./$(ALERT_BRIDGE_DIR)

# The load harness is its own command, not part of the production binary.
build-alert-bridge-load:
	go build -o $(BIN)/alert-bridge-load ./$(ALERT_BRIDGE_DIR)/cmd/alert-bridge-load

# Unit, HTTP, delivery, ordering, durability, disk-full, kill -9, SQS (a
# FIFO fake on the SDK's wire protocol) and two-replica tests, under the
# race detector (plain `go test ./...` in test-go runs them without it).
# platformcheck (Alertmanager config vs the chart, no concurrency) runs in
# test-go only: its race build of Helm and every Alertmanager notifier
# costs minutes.
test-alert-bridge: tool-gotestsum
	$(call gotestsum,alert-bridge) -count=1 -race $$(go list ./$(ALERT_BRIDGE_DIR)/... | grep -v /platformcheck)

# The store's group commit and header codec, the decoder beside
# encoding/json, then the real binary under the harness:
# sustained webhooks/s and ack latency (fsync on, delivery running),
# backlog drain after the receiver recovers, RSS under 64 concurrent 1 MiB bodies.
bench-alert-bridge: build-alert-bridge build-alert-bridge-load
	go test ./$(ALERT_BRIDGE_DIR)/store/ -run '^$$' -bench . -benchtime 3s
	go test ./$(ALERT_BRIDGE_DIR)/payload/ -run '^$$' -bench Decode
	$(BIN)/alert-bridge-load --bin $(BIN)/alert-bridge --mode throughput --concurrency 16 --duration 6s
	$(BIN)/alert-bridge-load --bin $(BIN)/alert-bridge --mode throughput --concurrency 64 --duration 10s
	$(BIN)/alert-bridge-load --bin $(BIN)/alert-bridge --mode drain --backlog 2000
	$(BIN)/alert-bridge-load --bin $(BIN)/alert-bridge --mode memory --concurrency 64 --alerts 1180 --duration 10s \
		--bridge-args "--memory-limit 201326592"

FUZZTIME ?= 30s
fuzz-alert-bridge:
	go test ./$(ALERT_BRIDGE_DIR)/payload/ -run '^$$' -fuzz FuzzDecodeAlertmanager -fuzztime $(FUZZTIME)
	go test ./$(ALERT_BRIDGE_DIR)/payload/ -run '^$$' -fuzz FuzzDecodeGrafana -fuzztime $(FUZZTIME)
	go test ./$(ALERT_BRIDGE_DIR)/payload/ -run '^$$' -fuzz FuzzDecodeMatchesEncodingJSON -fuzztime $(FUZZTIME)
	go test ./$(ALERT_BRIDGE_DIR)/store/ -run '^$$' -fuzz FuzzDecodeHeader -fuzztime $(FUZZTIME)
	go test ./$(ALERT_BRIDGE_DIR)/deliver/ -run '^$$' -fuzz FuzzBodyErrorMatchesReference -fuzztime $(FUZZTIME)

TEST_TARGETS += test-alert-bridge

# End to end: a real n8n 1.x on loopback with SQLite, cached under
# $(UNSILO_CACHE)/n8n-<version>; the workflow from platform/n8n/workflows
# imported and activated, alert-bridge in front (enriching from a real
# rag-api serving testdata/runbooks), real payloads in, a local Slack
# receiver checked for exactly the expected messages; then the workflow's
# Idempotency-Key dedupe (same key twice, a workflow slower than the
# bridge's attempt timeout, a failing Slack, a full dedupe history).
# Version: the newest 1.x, 1.123.81, allows node 20 in its engines field but
# its isolated-vm dependency does not compile against node 20.20 here;
# 1.82.3 installs (with the xlsx override) and runs, see toolchain.md.
N8N_VERSION ?= 1.82.3
N8N_DIR := $(UNSILO_CACHE)/n8n-$(N8N_VERSION)
.PHONY: test-alert-bridge-e2e n8n-install
n8n-install:
	$(ALERT_BRIDGE_DIR)/e2e/install-n8n.sh $(N8N_VERSION) $(N8N_DIR)

test-alert-bridge-e2e: n8n-install build-alert-bridge build-rag-api tool-gotestsum
	N8N_BIN=$(N8N_DIR)/node_modules/.bin/n8n ALERT_BRIDGE_BIN=$(BIN)/alert-bridge RAG_API_BIN=$(BIN)/rag-api \
		$(call gotestsum,alert-bridge-e2e) -tags e2e -count=1 -timeout 10m ./$(ALERT_BRIDGE_DIR)/e2e/

# Passed 4 of 4 runs here (77-183 s with n8n cached; the first install
# takes several minutes and 1.3 GB).
TEST_TARGETS += test-alert-bridge-e2e
