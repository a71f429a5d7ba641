# The two set-up commands of the README. Both are idempotent.
.PHONY: run test unit stop lint bench container-test

run:  ## start the service on http://127.0.0.1:8000 with a local PostGIS and demo data
	bash scripts/dev.sh run

test:  ## run the whole test suite against a fresh local test database
	bash scripts/dev.sh test

unit:  ## the tests that need no database (tests/unit), in seconds
	bash scripts/dev.sh unit

bench:  ## county-scale benchmarks (bench/README.md); `make bench ARGS=--quick` for fewer runs
	bash scripts/dev.sh bench $(ARGS)

container-test:  ## build the Docker image with podman and test it against the local PostGIS (root)
	bash scripts/container-test.sh

stop:  ## stop the project-local PostgreSQL cluster
	bash scripts/dev.sh stop

lint:
	.venv/bin/ruff check app db spatial layers migrations tests bench
