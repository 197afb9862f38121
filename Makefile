# idm — make targets. `make run` and `make test` are all a new machine needs.

CARGO ?= cargo
# A development-only HS256 key so `idm token` works out of the box with `make run`.
# Production deployments configure auth.public_key_files (RS256/ES256) instead.
DEV_HS256_SECRET ?= dev-only-hs256-secret-change-me

.PHONY: run test fmt lint bench bench-service fuzz openapi clean

run:
	$(CARGO) build --release -p idm-server
	IDM__AUTH__HS256_SECRET="$${IDM__AUTH__HS256_SECRET:-$(DEV_HS256_SECRET)}" ./target/release/idm serve

test:
	$(CARGO) test --workspace --all-targets

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench:
	./bench/run.sh

# In-process criterion micro-benchmarks of the service layer on SQLite (~1-2 min).
bench-service:
	$(CARGO) bench -p idm-server --bench service

fuzz:
	./fuzz/run.sh

clean:
	$(CARGO) clean
	rm -rf data
