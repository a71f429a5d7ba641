# The two set-up commands of the README. Both are idempotent.
.PHONY: run test stop lint bench

run:  ## start the service on http://127.0.0.1:8000 with a local PostGIS and demo data
	bash scripts/dev.sh run

test:  ## run the whole test suite against a fresh local test database
	bash scripts/dev.sh test

bench:  ## county-scale benchmarks (bench/README.md); `make bench ARGS=--quick` for fewer runs
	bash scripts/dev.sh bench $(ARGS)

stop:  ## stop the project-local PostgreSQL cluster
	bash scripts/dev.sh stop

lint:
	.venv/bin/ruff check app db spatial layers migrations tests bench
