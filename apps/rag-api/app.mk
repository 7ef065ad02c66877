# rag-api make targets (included by the root Makefile).
RAG_API_DIR := apps/rag-api
# BEIR SciFact is public data that is not in the repo (CC BY-NC): point
# SCIFACT_DIR at a folder with corpus.jsonl, queries.jsonl and qrels/test.tsv.
SCIFACT_DIR ?=

.PHONY: build-rag-api bench-rag-api eval-rag-api demo-rag-api

build-rag-api:
	go build -o $(BIN)/rag-api ./$(RAG_API_DIR)

# Retrieval quality on the shipped Korean+English set, every analyzer, with and without feedback.
eval-rag-api: build-rag-api
	$(BIN)/rag-api eval --analyzer all \
		--corpus $(RAG_API_DIR)/testdata/eval/corpus.jsonl \
		--queries $(RAG_API_DIR)/testdata/eval/queries.jsonl \
		--qrels $(RAG_API_DIR)/testdata/eval/qrels.tsv
	$(BIN)/rag-api eval --prf \
		--corpus $(RAG_API_DIR)/testdata/eval/corpus.jsonl \
		--queries $(RAG_API_DIR)/testdata/eval/queries.jsonl \
		--qrels $(RAG_API_DIR)/testdata/eval/qrels.tsv

# SciFact in memory and through the serving path, then the Go benchmarks:
# search latency, ingest, start-up at 100k chunks, /v1/ask under 16 clients.
bench-rag-api: eval-rag-api
	@test -n "$(SCIFACT_DIR)" && test -f "$(SCIFACT_DIR)/corpus.jsonl" || { \
		echo "bench-rag-api: set SCIFACT_DIR to a BEIR SciFact folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)"; exit 1; }
	$(BIN)/rag-api eval --corpus $(SCIFACT_DIR)/corpus.jsonl --queries $(SCIFACT_DIR)/queries.jsonl --qrels $(SCIFACT_DIR)/qrels/test.tsv
	$(BIN)/rag-api eval --prf --corpus $(SCIFACT_DIR)/corpus.jsonl --queries $(SCIFACT_DIR)/queries.jsonl --qrels $(SCIFACT_DIR)/qrels/test.tsv
	$(BIN)/rag-api eval --via-ingest --corpus $(SCIFACT_DIR)/corpus.jsonl --queries $(SCIFACT_DIR)/queries.jsonl --qrels $(SCIFACT_DIR)/qrels/test.tsv
	go test ./$(RAG_API_DIR)/search/ -run '^$$' -bench 'Search100k' -benchtime 2000x
	go test ./$(RAG_API_DIR)/ingest/ -run '^$$' -bench 'Ingest' -benchtime 3x
	go test ./$(RAG_API_DIR)/index/ -run '^$$' -bench 'Open100k' -benchtime 3x
	go test ./$(RAG_API_DIR)/ -run '^$$' -bench 'Ask16' -benchtime 2000x

# Ingest the repo's docs plus the sample corpus, serve the UI until Ctrl-C.
demo-rag-api: build-rag-api
	@mkdir -p $(UNSILO_CACHE)/rag-api-demo
	@echo "rag-api demo: open http://127.0.0.1:8088/ (Ctrl-C to stop)"
	$(BIN)/rag-api ingest --index $(UNSILO_CACHE)/rag-api-demo/index.db --ext .md --skip-dir testdata,bin $(CURDIR)
	$(BIN)/rag-api serve --addr 127.0.0.1:8088 --index $(UNSILO_CACHE)/rag-api-demo/index.db \
		--ingest $(RAG_API_DIR)/testdata/corpus

DEMO_TARGETS += demo-rag-api

# The web UI in a real headless Chromium (Debian package, see
# apt-packages.txt) with screenshots checked by the test, and an OIDC login
# against mockoidc. Its own Go module (apps/rag-api/e2e) keeps chromedp's
# and mockoidc's dependencies out of the shared go.mod.
.PHONY: test-rag-api-e2e rag-api-e2e-deps
rag-api-e2e-deps:
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi 'noto.*cjk' || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; }

test-rag-api-e2e: rag-api-e2e-deps tool-gotestsum
	@mkdir -p $(UNSILO_CACHE)/rag-api-e2e-shots
	cd $(RAG_API_DIR)/e2e && SCREENSHOT_DIR=$(UNSILO_CACHE)/rag-api-e2e-shots CHROMIUM=$$(command -v chromium) \
		$(call gotestsum,rag-api-e2e) -tags e2e -count=1 .
	@echo "screenshots: $(UNSILO_CACHE)/rag-api-e2e-shots"

# The Lambda mode under the AWS Lambda Runtime Interface Emulator, built
# from its Go module (tools/aws-lambda-rie) and cached like the other tools.
.PHONY: test-rag-api-lambda
test-rag-api-lambda: tool-gotestsum
	@tools/build.sh aws-lambda-rie
	RIE_BIN=$(BIN)/aws-lambda-rie $(call gotestsum,rag-api-lambda) -tags rie -count=1 -run UnderRIE ./$(RAG_API_DIR)/

TEST_TARGETS += test-rag-api-e2e test-rag-api-lambda
