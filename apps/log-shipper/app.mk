# log-shipper make targets (included by the root Makefile).
LOG_SHIPPER_DIR := apps/log-shipper
LOG_SHIPPER_DEMO := $(UNSILO_CACHE)/log-shipper-demo

.PHONY: build-log-shipper demo-log-shipper bench-log-shipper

build-log-shipper:
	go build -o $(BIN)/log-shipper ./$(LOG_SHIPPER_DIR)

# Generate sample logs of every source (1 line in 500 malformed), ingest
# them with the real AWS doc samples into a local Parquet lake, run every
# named query, print one Athena DDL. Terminates.
demo-log-shipper: build-log-shipper
	@rm -rf $(LOG_SHIPPER_DEMO) && mkdir -p $(LOG_SHIPPER_DEMO)/in
	@echo "== log-shipper: generate sample logs =="
	@for t in alb vpcflow waf cloudtrail cloudfront container; do \
		$(BIN)/log-shipper gen --type $$t --lines 20000 --bad-every 500 --out $(LOG_SHIPPER_DEMO)/in/$$t.log.gz || exit 1; done
	@echo "== log-shipper ingest (generated + AWS doc samples) =="
	$(BIN)/log-shipper ingest --quiet --out $(LOG_SHIPPER_DEMO)/lake $(LOG_SHIPPER_DEMO)/in \
		$(LOG_SHIPPER_DIR)/testdata/alb $(LOG_SHIPPER_DIR)/testdata/cloudfront $(LOG_SHIPPER_DIR)/testdata/cloudtrail $(LOG_SHIPPER_DIR)/testdata/waf
	@echo "== Delta logs, Parquet objects (first 8) and quarantine =="
	@cd $(LOG_SHIPPER_DEMO)/lake && find . -path '*_delta_log*' -name '*.json' | sort && find . -name '*.parquet' | sort | head -8 && find quarantine -type f | sort
	@echo "== log-shipper compact (small files merged, one commit per merge) =="
	$(BIN)/log-shipper compact --out $(LOG_SHIPPER_DEMO)/lake
	@echo "== log-shipper query --all (DuckDB over the lake) =="
	$(BIN)/log-shipper query --lake $(LOG_SHIPPER_DEMO)/lake --all
	@echo "== Athena DDL for the alb table (log-shipper ddl prints all six) =="
	@$(BIN)/log-shipper ddl --source alb --location s3://my-log-lake/lake

# Go benchmarks (GroupBy10M first ingests 10M lines: minutes), then the
# one-core, one-run comparison with zcat and DuckDB (bench.sh).
bench-log-shipper: build-log-shipper
	go test ./$(LOG_SHIPPER_DIR)/parse/ ./$(LOG_SHIPPER_DIR)/lake/ -run '^$$' -bench . -benchmem -benchtime 3x
	go test ./$(LOG_SHIPPER_DIR)/watch/ -run '^$$' -bench Watch -benchtime 1x
	go test ./$(LOG_SHIPPER_DIR)/query/ -run '^$$' -bench GroupBy10M -benchtime 5x -timeout 30m
	LOG_SHIPPER=$(BIN)/log-shipper BENCH_DIR=$(UNSILO_CACHE)/log-shipper-bench $(LOG_SHIPPER_DIR)/bench.sh

# First: demo-rag-api serves until Ctrl-C, so it must come last.
DEMO_TARGETS := demo-log-shipper $(DEMO_TARGETS)
