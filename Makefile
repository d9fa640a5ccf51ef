# pgparity — the PostgreSQL logical replication environment (14 -> 16 by
# default) and the C++ tool that verifies it. `make help` lists the targets.
#
# SOURCE_VERSION=14 TARGET_VERSION=16 (defaults): the pair of PostgreSQL
#   majors, a source of 12 to 18 and a target of 15 to 18, the target the same or newer (env/versions.sh
#   refuses anything else before starting anything), e.g.
#   make up SOURCE_VERSION=13 TARGET_VERSION=17. A local RUN_DIR keeps the
#   majors it was started with: make down before switching.
# MODE=local (default): real PostgreSQL servers started from the official
#   binaries (npm's @embedded-postgres, env/pgenv.sh) as unprivileged
#   processes under $(RUN_DIR), and PgBouncer in front of the source
#   (database appdb); no Docker.
# MODE=docker: the same from docker-compose.yml (images postgres:SOURCE_VERSION
#   and postgres:TARGET_VERSION, containers postgres_source / postgres_target).
# The replication steps run the same scripts in both modes (env/jobs/*.sh,
# which are also the Kubernetes Jobs' scripts).

MODE        ?= local
SOURCE_VERSION ?= 14
TARGET_VERSION ?= 16
SOURCE_PORT ?= 5432
TARGET_PORT ?= 5433
PGBOUNCER_PORT ?= 6432
RUN_DIR     ?= $(CURDIR)/.run
BUILD_DIR   ?= $(CURDIR)/build
BUILD_TYPE  ?= RelWithDebInfo
# CMake's unity build: one compiler run per batch of up to 8 sources of a
# target, so the headers (Boost, gtest, spdlog, fmt) are parsed once per
# batch. A clean build on 2 cores: 6 min 16 s instead of 9 min 20 s
# (compiler CPU 662 s instead of 1,038 s). UNITY=OFF rebuilds a single
# edited file faster.
UNITY       ?= ON
JOBS        ?= $(shell nproc)
# Tests at once: half as many again as cores. The integration tests wait on
# their servers: on 2 cores ctest -j2 left the CPUs 45 % idle, -j3 10 %
# (a quarter of them: 174 s at -j2, 112 s at -j3, 103 s at -j4; all of
# them on 2026-12-04, one build, one after the other: 530 s at -j4, 526 s
# at -j3).
TEST_JOBS   ?= $(shell echo $$(( $(JOBS) + $(JOBS) / 2 )))
COMPOSE     ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
K8S_NS      ?= pgparity
PGPARITY    ?= $(BUILD_DIR)/cli/pgparity
# pgparity connects as its least-privileged roles, which setup-replication
# creates (sql/pgparity-role-{source,target}.sql, docs/privileges.md).
SOURCE_DSN  ?= host=127.0.0.1 port=$(SOURCE_PORT) dbname=sourcedb user=pgparity password=pgparity
TARGET_DSN  ?= host=127.0.0.1 port=$(TARGET_PORT) dbname=targetdb user=pgparity password=pgparity
# ctest -R/-E filters, e.g. make test CTEST_ARGS='-R Environment'
CTEST_ARGS  ?=

export SOURCE_PORT TARGET_PORT PGBOUNCER_PORT RUN_DIR SOURCE_VERSION TARGET_VERSION

LOCAL := env/local.sh

ifeq ($(MODE),local)
  UP       = $(LOCAL) up
  DOWN     = $(LOCAL) down
  LOGS     = $(LOCAL) logs
  STATUS   = $(LOCAL) status
else ifeq ($(MODE),docker)
  UP       = $(COMPOSE) up -d && env/docker-wait.sh
  DOWN     = $(COMPOSE) down -v --remove-orphans
  LOGS     = $(COMPOSE) logs --tail=100
  STATUS   = docker exec -i postgres_source psql -X -U postgres -d sourcedb < sql/status-source.sql && \
             docker exec -i postgres_target psql -X -U postgres -d targetdb < sql/status-target.sql && \
             docker exec -e PGPASSWORD=postgres pgbouncer psql -X -h 127.0.0.1 -p 6432 -U postgres -d pgbouncer \
               -c "SHOW DATABASES" -c "SHOW POOLS"
else
  $(error MODE must be local or docker, not '$(MODE)')
endif

.PHONY: help deps check-versions test-matrix up down logs status setup-replication test-replication verify pgparity-verify demo \
        configure build build-cli test test-only soak validate-deploy k8s-apply k8s-delete k8s-logs format clean \
        cutover cutover-load k8s-cutover

help:
	@echo "make demo               everything end to end (up, replicate, test DML, verify) -> PASS/FAIL"
	@echo "make test               install what is needed, build, run every test (ctest) on 14 -> 16, then the matrix-quick ones on 16 -> 18"
	@echo "make test-matrix        the version matrix: the 'matrix' tests per pair (MATRIX_PAIRS=\"12-16 17-18\"; default all 7 pairs, tests/matrix.sh)"
	@echo "make soak               the differential corpus on random seeds for SOAK_MINUTES (default 10)"
	@echo "make up | down          start / stop the two servers and PgBouncer (down also removes their data)"
	@echo "                        SOURCE_VERSION=$(SOURCE_VERSION) TARGET_VERSION=$(TARGET_VERSION): the majors: source 12 to 18, target 15 to 18, target >= source (make down before changing them)"
	@echo "make setup-replication  pgparity's roles, publication on the source, subscription on the target, initial copy"
	@echo "make test-replication   INSERT/UPDATE/DELETE on the source (local mode: through PgBouncer's appdb)"
	@echo "make verify             assert the target equals the source, table by table"
	@echo "make pgparity-verify    pgparity verify: digests of every table vs pgparity's own slot -> exit 0/1"
	@echo "make cutover            pgparity cutover: PgBouncer's appdb -> the target, canary through PgBouncer ($(RUN_DIR)/cutover-report.json)"
	@echo "make cutover-load       the same while pgbench writes through PgBouncer (LOAD_SECONDS, LOAD_CLIENTS)"
	@echo "make status | logs      monitoring queries and PgBouncer's SHOW POOLS / server and PgBouncer logs"
	@echo "make build              build pgparity, its tests and benchmarks (C++)"
	@echo "make build-cli          build only the pgparity binary"
	@echo "make bench | bench-scale   the benchmarks (bench/README.md) | verify, scan and rolling check at 1 M / 10 M / 30 M rows (long: 55 min here, on a loaded 2-core machine)"
	@echo "make k8s-apply | k8s-delete | k8s-logs   the same environment on Kubernetes (with SOURCE_VERSION/TARGET_VERSION, k8s/README.md)"
	@echo "make k8s-cutover        the cutover on Kubernetes (k8s/cutover-job.yaml; needs the pgparity image, issue 14)"
	@echo "MODE=local|docker (default local); SOURCE_PORT=$(SOURCE_PORT) TARGET_PORT=$(TARGET_PORT) PGBOUNCER_PORT=$(PGBOUNCER_PORT)"
	@echo "the application connects through PgBouncer: psql \"host=127.0.0.1 port=$(PGBOUNCER_PORT) dbname=appdb user=postgres\""

deps:
	@env/install-deps.sh runtime

# Bad majors are refused before anything is installed or started.
check-versions:
	@env/versions.sh

up: check-versions $(if $(filter local,$(MODE)),deps)
	@$(UP)

down:
	@$(DOWN)

logs:
	@$(LOGS)

status:
	@$(STATUS)

setup-replication:
	@$(call run_job,setup-replication)

test-replication:
	@$(call run_job,test-replication)

verify:
	@$(call run_job,verify-replication)

ifeq ($(MODE),local)
run_job = EXPECT_TEST_DML=$(EXPECT_TEST_DML) $(LOCAL) job $(1)
else
# Jobs run inside the target container: it has psql and reaches both servers.
run_job = docker exec -e SOURCE_HOST=db_source -e TARGET_HOST=127.0.0.1 -e SQL_DIR=/sql \
          -e EXPECT_TEST_DML=$(EXPECT_TEST_DML) -e LOG_HINT="make MODE=docker logs" \
          postgres_target sh /jobs/$(1).sh
endif

# The quick start end to end, from clean servers, ending with PASS or FAIL.
demo: check-versions
	@start=$$(date +%s); \
	if $(MAKE) --no-print-directory down >/dev/null && \
	   $(MAKE) --no-print-directory up && \
	   $(MAKE) --no-print-directory setup-replication && \
	   $(MAKE) --no-print-directory test-replication && \
	   $(MAKE) --no-print-directory verify EXPECT_TEST_DML=1 && \
	   $(MAKE) --no-print-directory pgparity-verify; then \
	  echo "demo: PASS — PostgreSQL $(TARGET_VERSION) target equals the PostgreSQL $(SOURCE_VERSION) source ($$(( $$(date +%s) - start )) s; servers left running: make status, make down)"; \
	else \
	  echo "demo: FAIL — see the error above; make logs shows the server logs"; exit 1; \
	fi

# pgparity's own verdict on the environment's two servers (docs/cli.md);
# the JSON report is left in $(RUN_DIR)/verify-report.json.
pgparity-verify: build-cli
	@mkdir -p $(RUN_DIR)
	@$(PGPARITY) verify --source "$(SOURCE_DSN)" --target "$(TARGET_DSN)" \
	  --report $(RUN_DIR)/verify-report.json

# The cutover (docs/cli.md, env/cutover.sh): as postgres, because the fence
# (the source database read-only, its sessions terminated) needs the
# database's owner or a superuser; pgparity's least-privileged roles of
# SOURCE_DSN/TARGET_DSN cannot. Afterwards the environment is switched
# (PgBouncer -> target, source read-only): make down up setup-replication
# starts again. Local mode only: the entry PgBouncer's RELOAD reads
# ($(RUN_DIR)/pgbouncer/databases.ini) must be a file pgparity can rewrite.
CUTOVER_SOURCE_DSN  ?= host=127.0.0.1 port=$(SOURCE_PORT) dbname=sourcedb user=postgres password=postgres
CUTOVER_TARGET_DSN  ?= host=127.0.0.1 port=$(TARGET_PORT) dbname=targetdb user=postgres password=postgres
PGBOUNCER_ADMIN_DSN ?= host=127.0.0.1 port=$(PGBOUNCER_PORT) dbname=pgbouncer user=postgres password=postgres
PGBOUNCER_CONFIG    ?= $(RUN_DIR)/pgbouncer/databases.ini
CANARY_DSN          ?= host=127.0.0.1 port=$(PGBOUNCER_PORT) dbname=appdb user=postgres password=postgres
CUTOVER_REPORT      ?= $(RUN_DIR)/cutover-report.json
# More options for pgparity cutover, e.g. CUTOVER_ARGS='--dry-run' or '--reverse'.
CUTOVER_ARGS        ?=
cutover_env = PGPARITY="$(PGPARITY)" CUTOVER_SOURCE_DSN="$(CUTOVER_SOURCE_DSN)" \
  CUTOVER_TARGET_DSN="$(CUTOVER_TARGET_DSN)" PGBOUNCER_ADMIN_DSN="$(PGBOUNCER_ADMIN_DSN)" \
  PGBOUNCER_CONFIG="$(PGBOUNCER_CONFIG)" CANARY_DSN="$(CANARY_DSN)" \
  CUTOVER_REPORT="$(CUTOVER_REPORT)" CUTOVER_ARGS="$(CUTOVER_ARGS)"

cutover: $(if $(filter local,$(MODE)),build-cli)
ifneq ($(MODE),local)
	$(error make cutover runs in MODE=local only: in docker mode PgBouncer's databases.ini is inside its container (/var/lib/pgbouncer); run pgparity cutover yourself with --pgbouncer-config on a file PgBouncer reads, e.g. a bind mount of that directory)
endif
	@$(cutover_env) env/cutover.sh

# The same under pgbench load through PgBouncer (env/cutover-load.sql,
# LOAD_CLIENTS=4 for LOAD_SECONDS=15, the cutover after LOAD_WARMUP=2 s):
# prints pgbench's own failed transactions and aborted clients too.
cutover-load: $(if $(filter local,$(MODE)),build-cli)
ifneq ($(MODE),local)
	$(error make cutover-load runs in MODE=local only (see make cutover))
endif
	@$(cutover_env) env/cutover.sh --load

configure:
	@env/install-deps.sh build
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_UNITY_BUILD=$(UNITY) >/dev/null

# Everything: the binary, tests, benchmarks (make test, make bench).
build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

# Only the pgparity binary: what make demo and make pgparity-verify run.
build-cli: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS) --target pgparity

# Everything CI runs. Installs what it needs first (apt packages; the
# PostgreSQL binaries are fetched by the first test that needs them).
test:
	@env/install-deps.sh all
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory test-only

# Every test on the default pair 14 -> 16, then the `matrix-quick` tests on
# a second pair, TEST_SECOND_PAIR (16 -> 18: a 15+ source, so row filters
# and column lists are exercised, and the newest target; TEST_SECOND_PAIR=
# skips it; so does CTEST_ARGS). Both must pass. Servers of a test process that crashed are
# removed afterwards, pass or fail.
TEST_SECOND_PAIR ?= 16-18
test-only:
	@cd $(BUILD_DIR) && ctest --output-on-failure -j$(TEST_JOBS) $(CTEST_ARGS); rc=$$?; \
	  if [ -n "$(CTEST_ARGS)" ]; then \
	    echo "test: the second pair ($(TEST_SECOND_PAIR)) is not run when CTEST_ARGS selects tests"; \
	  elif [ -n "$(TEST_SECOND_PAIR)" ]; then \
	    BUILD_DIR=$(abspath $(BUILD_DIR)) MATRIX_PAIRS="$(TEST_SECOND_PAIR)" MATRIX_LABEL=matrix-quick MATRIX_JOBS=$(TEST_JOBS) \
	      MATRIX_RESULTS=$(abspath $(BUILD_DIR))/matrix-quick-results.md $(CURDIR)/tests/matrix.sh || rc=1; \
	  fi; \
	  $(CURDIR)/env/cleanup-test-servers.sh; exit $$rc

# The version matrix (issue 16, tests/matrix.sh): the tests labelled
# `matrix` once per pair of MATRIX_PAIRS (default 12-16 13-16 14-16 15-17
# 16-18 17-18 16-16); a table of passed/failed/skipped/seconds per pair in
# $(BUILD_DIR)/matrix-results.md. About 5 minutes per pair on 2 cores.
MATRIX_PAIRS ?=
test-matrix: build
	@BUILD_DIR=$(abspath $(BUILD_DIR)) MATRIX_PAIRS="$(MATRIX_PAIRS)" MATRIX_JOBS=$(TEST_JOBS) CTEST_ARGS="$(CTEST_ARGS)" \
	  $(CURDIR)/tests/matrix.sh; rc=$$?; $(CURDIR)/env/cleanup-test-servers.sh; exit $$rc

# The differential correctness corpus (tests/corpus/README.md) for longer:
# consecutive seeds from a random start until SOAK_MINUTES passed, on one
# server pair. Prints each seed and the count; failing seeds are appended to
# $(BUILD_DIR)/corpus-failing-seeds.txt with the command that replays them.
SOAK_MINUTES ?= 10
soak: build
	@PGPARITY_CORPUS_MINUTES=$(SOAK_MINUTES) $(BUILD_DIR)/tests/corpus_test; rc=$$?; \
	  $(CURDIR)/env/cleanup-test-servers.sh; exit $$rc

validate-deploy:
	@env/validate-deploy.sh

# k8s/ with the majors SOURCE_VERSION -> TARGET_VERSION, through the overlay
# env/k8s-overlay.sh writes (k8s/README.md, "Versions").
k8s-apply: check-versions
	@overlay=$$(mktemp -d) && env/k8s-overlay.sh $$overlay && kubectl apply -k $$overlay; \
	  rc=$$?; rm -rf $$overlay; [ $$rc = 0 ] || exit $$rc
	kubectl -n $(K8S_NS) wait --for=condition=complete --timeout=900s job/setup-replication job/test-replication job/verify-replication

# The cutover Job (k8s/cutover-job.yaml, not in the kustomization: applying
# k8s/ must not switch the application). Needs the pgparity image (issue 14).
k8s-cutover:
	kubectl -n $(K8S_NS) delete job cutover --ignore-not-found
	kubectl apply -f k8s/cutover-job.yaml
	kubectl -n $(K8S_NS) wait --for=condition=complete --timeout=1800s job/cutover || \
	  { kubectl -n $(K8S_NS) logs job/cutover; exit 1; }
	kubectl -n $(K8S_NS) logs job/cutover

k8s-delete:
	kubectl delete -k k8s/ --ignore-not-found

k8s-logs:
	-kubectl -n $(K8S_NS) logs statefulset/postgres-source --tail=100
	-kubectl -n $(K8S_NS) logs statefulset/postgres-target --tail=100
	-kubectl -n $(K8S_NS) logs deployment/pgbouncer --tail=100
	-kubectl -n $(K8S_NS) logs job/setup-replication
	-kubectl -n $(K8S_NS) logs job/test-replication
	-kubectl -n $(K8S_NS) logs job/verify-replication

# Benchmarks (bench/README.md): decode_bench and shadow_map_bench briefly, then pgparity record vs
# pg_recvlogical on a real PostgreSQL 14, pgparity verify's scan vs COPY on a
# real 14 -> 16 pair, then the migration benchmark (native apply catch-up,
# lag, decoders; table, CSV and plots in bench/results/), then the cutover
# under pgbench load through PgBouncer at scales 1 and 20 (bench/cutover.sh,
# about 4 minutes). Under 15 minutes at the default sizes on 2 cores; sizes:
# BENCH_* in each script.
.PHONY: bench
bench: build
	@env/install-deps.sh bench
	@$(BUILD_DIR)/bench/decode_bench --benchmark_min_time=0.2
	@$(BUILD_DIR)/bench/shadow_map_bench --benchmark_min_time=0.2
	@BUILD_DIR=$(BUILD_DIR) BENCH_SECONDS=$${BENCH_SECONDS:-15} BENCH_BULK_ROWS=$${BENCH_BULK_ROWS:-500000} bench/e2e_decoder.sh
	@BUILD_DIR=$(BUILD_DIR) bench/e2e_verify.sh
	@BUILD_DIR=$(BUILD_DIR) bench/wide_rows.sh
	@BUILD_DIR=$(BUILD_DIR) bench/migration_bench.sh
	@BUILD_DIR=$(BUILD_DIR) bench/cutover.sh

# Cost growth with the database (issue 15, bench/README.md "Scale"): verify
# (unlimited and --memory-limit), the scan vs COPY and the rolling check's
# cap at pgbench scales 10, 100 and 300 (1 M, 10 M, 30 M rows); needs ~11 GB
# of disk. Table, fitted lines and plot in bench/results/scale-*.
.PHONY: bench-scale
bench-scale: build-cli
	@env/install-deps.sh bench
	@BUILD_DIR=$(BUILD_DIR) bench/scale.sh

format:
	@find decoder applier tests bench -name '*.cc' -o -name '*.h' | xargs -r clang-format -i

clean:
	rm -rf $(BUILD_DIR)
