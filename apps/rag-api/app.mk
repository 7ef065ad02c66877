# rag-api make targets (included by the root Makefile).
RAG_API_DIR := apps/rag-api
SCIFACT_DIR ?= $(abspath $(CURDIR)/../shared/testdata/public-retrieval/scifact)

.PHONY: build-rag-api bench-rag-api eval-rag-api demo-rag-api

build-rag-api:
	go build -o $(BIN)/rag-api ./$(RAG_API_DIR)

# Retrieval quality on the shipped Korean+English set, every analyzer.
eval-rag-api: build-rag-api
	$(BIN)/rag-api eval --analyzer all \
		--corpus $(RAG_API_DIR)/testdata/eval/corpus.jsonl \
		--queries $(RAG_API_DIR)/testdata/eval/queries.jsonl \
		--qrels $(RAG_API_DIR)/testdata/eval/qrels.tsv

# BEIR SciFact (read in place, never copied into the repo) + search latency over 100k chunks.
bench-rag-api: eval-rag-api
	@test -f $(SCIFACT_DIR)/corpus.jsonl || { echo "SciFact not found at $(SCIFACT_DIR) (set SCIFACT_DIR)"; exit 1; }
	$(BIN)/rag-api eval --analyzer all --corpus $(SCIFACT_DIR)/corpus.jsonl \
		--queries $(SCIFACT_DIR)/queries.jsonl --qrels $(SCIFACT_DIR)/qrels/test.tsv
	go test ./$(RAG_API_DIR)/search/ -run '^$$' -bench 'Search100k' -benchtime 2000x
	go test ./$(RAG_API_DIR)/ingest/ -run '^$$' -bench 'Ingest' -benchtime 3x

# Ingest the repo's docs plus the sample corpus, serve the UI until Ctrl-C.
demo-rag-api: build-rag-api
	@mkdir -p $(UNSILO_CACHE)/rag-api-demo
	@echo "rag-api demo: open http://127.0.0.1:8088/ (Ctrl-C to stop)"
	$(BIN)/rag-api ingest --index $(UNSILO_CACHE)/rag-api-demo/index.db --ext .md --skip-dir testdata,bin $(CURDIR)
	$(BIN)/rag-api serve --addr 127.0.0.1:8088 --index $(UNSILO_CACHE)/rag-api-demo/index.db \
		--ingest $(RAG_API_DIR)/testdata/corpus

DEMO_TARGETS += demo-rag-api

# The web UI in a real headless Chromium (Debian package) with screenshots
# checked by the test. Its own Go module (apps/rag-api/e2e) keeps chromedp's
# dependencies out of the shared go.mod.
.PHONY: test-rag-api-e2e rag-api-e2e-deps
rag-api-e2e-deps:
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi 'noto.*cjk' || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; }

test-rag-api-e2e: rag-api-e2e-deps tool-gotestsum
	@mkdir -p $(UNSILO_CACHE)/rag-api-e2e-shots
	cd $(RAG_API_DIR)/e2e && SCREENSHOT_DIR=$(UNSILO_CACHE)/rag-api-e2e-shots CHROMIUM=$$(command -v chromium) \
		$(call gotestsum,rag-api-e2e) -tags e2e -count=1 .
	@echo "screenshots: $(UNSILO_CACHE)/rag-api-e2e-shots"

TEST_TARGETS += test-rag-api-e2e
