# pgparity — the PostgreSQL 14 -> 16 logical replication environment and the
# C++ tool that verifies it. `make help` lists the targets.
#
# MODE=local (default): real PostgreSQL 14 and 16 servers started from the
#   official binaries as unprivileged processes under $(RUN_DIR), and
#   PgBouncer in front of the source (database appdb); no Docker.
# MODE=docker: the same from docker-compose.yml.
# The replication steps run the same scripts in both modes (env/jobs/*.sh,
# which are also the Kubernetes Jobs' scripts).

MODE        ?= local
SOURCE_PORT ?= 5432
TARGET_PORT ?= 5433
PGBOUNCER_PORT ?= 6432
RUN_DIR     ?= $(CURDIR)/.run
BUILD_DIR   ?= $(CURDIR)/build
BUILD_TYPE  ?= RelWithDebInfo
JOBS        ?= $(shell nproc)
COMPOSE     ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
K8S_NS      ?= pgparity
PGPARITY    ?= $(BUILD_DIR)/cli/pgparity
# pgparity connects as its least-privileged roles, which setup-replication
# creates (sql/pgparity-role-{source,target}.sql, docs/privileges.md).
SOURCE_DSN  ?= host=127.0.0.1 port=$(SOURCE_PORT) dbname=sourcedb user=pgparity password=pgparity
TARGET_DSN  ?= host=127.0.0.1 port=$(TARGET_PORT) dbname=targetdb user=pgparity password=pgparity
# ctest -R/-E filters, e.g. make test CTEST_ARGS='-R Environment'
CTEST_ARGS  ?=

export SOURCE_PORT TARGET_PORT PGBOUNCER_PORT RUN_DIR

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
  STATUS   = docker exec -i postgres14_source psql -X -U postgres -d sourcedb < sql/status-source.sql && \
             docker exec -i postgres16_target psql -X -U postgres -d targetdb < sql/status-target.sql && \
             docker exec -e PGPASSWORD=postgres pgbouncer psql -X -h 127.0.0.1 -p 6432 -U postgres -d pgbouncer \
               -c "SHOW DATABASES" -c "SHOW POOLS"
else
  $(error MODE must be local or docker, not '$(MODE)')
endif

.PHONY: help deps up down logs status setup-replication test-replication verify pgparity-verify demo \
        configure build build-cli test test-only soak validate-deploy k8s-apply k8s-delete k8s-logs format clean \
        cutover cutover-load k8s-cutover

help:
	@echo "make demo               everything end to end (up, replicate, test DML, verify) -> PASS/FAIL"
	@echo "make test               install what is needed, build, run every test (ctest)"
	@echo "make soak               the differential corpus on random seeds for SOAK_MINUTES (default 10)"
	@echo "make up | down          start / stop the two servers and PgBouncer (down also removes their data)"
	@echo "make setup-replication  pgparity's roles, publication on the source, subscription on the target, initial copy"
	@echo "make test-replication   INSERT/UPDATE/DELETE on the source (local mode: through PgBouncer's appdb)"
	@echo "make verify             assert the target equals the source, table by table"
	@echo "make pgparity-verify    pgparity verify: digests of every table vs pgparity's own slot -> exit 0/1"
	@echo "make cutover            pgparity cutover: PgBouncer's appdb -> the target, canary through PgBouncer ($(RUN_DIR)/cutover-report.json)"
	@echo "make cutover-load       the same while pgbench writes through PgBouncer (LOAD_SECONDS, LOAD_CLIENTS)"
	@echo "make status | logs      monitoring queries and PgBouncer's SHOW POOLS / server and PgBouncer logs"
	@echo "make build              build pgparity, its tests and benchmarks (C++)"
	@echo "make build-cli          build only the pgparity binary"
	@echo "make k8s-apply | k8s-delete | k8s-logs   the same environment on Kubernetes"
	@echo "make k8s-cutover        the cutover on Kubernetes (k8s/cutover-job.yaml; needs the pgparity image, issue 14)"
	@echo "MODE=local|docker (default local); SOURCE_PORT=$(SOURCE_PORT) TARGET_PORT=$(TARGET_PORT) PGBOUNCER_PORT=$(PGBOUNCER_PORT)"
	@echo "the application connects through PgBouncer: psql \"host=127.0.0.1 port=$(PGBOUNCER_PORT) dbname=appdb user=postgres\""

deps:
	@env/install-deps.sh runtime

up: $(if $(filter local,$(MODE)),deps)
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
          postgres16_target sh /jobs/$(1).sh
endif

# The quick start end to end, from clean servers, ending with PASS or FAIL.
demo:
	@start=$$(date +%s); \
	if $(MAKE) --no-print-directory down >/dev/null && \
	   $(MAKE) --no-print-directory up && \
	   $(MAKE) --no-print-directory setup-replication && \
	   $(MAKE) --no-print-directory test-replication && \
	   $(MAKE) --no-print-directory verify EXPECT_TEST_DML=1 && \
	   $(MAKE) --no-print-directory pgparity-verify; then \
	  echo "demo: PASS — PostgreSQL 16 target equals the PostgreSQL 14 source ($$(( $$(date +%s) - start )) s; servers left running: make status, make down)"; \
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
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

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

# Servers of a test process that crashed are removed afterwards, pass or fail.
test-only:
	@cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS); rc=$$?; \
	  $(CURDIR)/env/cleanup-test-servers.sh; exit $$rc

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

k8s-apply:
	kubectl apply -k k8s/
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

# Benchmarks (bench/README.md): decode_bench briefly, then pgparity record vs
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
	@BUILD_DIR=$(BUILD_DIR) BENCH_SECONDS=$${BENCH_SECONDS:-15} BENCH_BULK_ROWS=$${BENCH_BULK_ROWS:-500000} bench/e2e_decoder.sh
	@BUILD_DIR=$(BUILD_DIR) bench/e2e_verify.sh
	@BUILD_DIR=$(BUILD_DIR) bench/wide_rows.sh
	@BUILD_DIR=$(BUILD_DIR) bench/migration_bench.sh
	@BUILD_DIR=$(BUILD_DIR) bench/cutover.sh

format:
	@find decoder applier tests bench -name '*.cc' -o -name '*.h' | xargs -r clang-format -i

clean:
	rm -rf $(BUILD_DIR)
