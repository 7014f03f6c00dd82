# callrecords_fdw: PostgreSQL foreign data wrapper for Microsoft Graph call records
MODULE_big = callrecords_fdw
OBJS = \
	callrecords_fdw.o \
	src/arena.o \
	src/assertion.o \
	src/batchexec.o \
	src/batchjoin.o \
	src/cache.o \
	src/catalog.o \
	src/chains.o \
	src/convert.o \
	src/deparse.o \
	src/estimate.o \
	src/explain.o \
	src/failure.o \
	src/fetch.o \
	src/http.o \
	src/identity.o \
	src/import.o \
	src/jitcost.o \
	src/joinpath.o \
	src/keep.o \
	src/keystats.o \
	src/listing.o \
	src/option.o \
	src/pacing.o \
	src/plan.o \
	src/prune.o \
	src/pushdown.o \
	src/ratelimit.o \
	src/rows.o \
	src/scan.o \
	src/scanplan.o \
	src/shape.o \
	src/shared.o \
	src/statement.o \
	src/token.o \
	src/transfer.o

EXTENSION = callrecords_fdw
DATA = callrecords_fdw--1.0.sql
PGFILEDESC = "callrecords_fdw - foreign data wrapper for Microsoft Graph call records"

PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
SHLIB_LINK = -lcurl -ljansson -lcrypto

# The regression suite needs the bundled Graph emulator running and
# CR_EMULATOR_URL pointing at it; scripts/test.sh does both.
REGRESS = setup options catalog streams sessions tables conversion pushdown batchjoin joins shapes retries faults quality archive security fidelity hardening sharing errors throughput ahead rescans estimates messages archive_batches log_limits shape certificates identities allowlist tokencommit budgetknown reconnect memory

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track header dependencies: every object depends on every
# header of src/ (rebuilding all of them is cheap).
$(OBJS): $(wildcard $(srcdir)/src/*.h)
