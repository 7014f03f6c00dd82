# callrecords_fdw: PostgreSQL foreign data wrapper for Microsoft Graph call records
MODULE_big = callrecords_fdw
OBJS = \
	callrecords_fdw.o \
	src/arena.o \
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
	src/import.o \
	src/jitcost.o \
	src/listing.o \
	src/option.o \
	src/pacing.o \
	src/plan.o \
	src/prune.o \
	src/pushdown.o \
	src/ratelimit.o \
	src/rows.o \
	src/scan.o \
	src/shared.o \
	src/token.o \
	src/transfer.o

EXTENSION = callrecords_fdw
DATA = callrecords_fdw--1.0.sql
PGFILEDESC = "callrecords_fdw - foreign data wrapper for Microsoft Graph call records"

PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
SHLIB_LINK = -lcurl -ljansson

# The regression suite needs the bundled Graph emulator running and
# CR_EMULATOR_URL pointing at it; scripts/test.sh does both.
REGRESS = setup options catalog streams sessions tables conversion pushdown batchjoin shapes retries faults quality archive security fidelity hardening sharing errors throughput messages

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track header dependencies; every file includes these, and
# the scan files (SCAN_OBJS) scan_int.h too.
SCAN_OBJS = src/arena.o src/chains.o src/explain.o src/fetch.o src/listing.o src/pacing.o src/rows.o src/scan.o
$(OBJS): src/callrecords_fdw.h src/cr_json.h
$(SCAN_OBJS): src/scan_int.h
src/http.o src/token.o src/cache.o src/failure.o src/transfer.o: src/http_int.h
src/plan.o src/pushdown.o src/estimate.o: src/plan_int.h
src/batchjoin.o src/batchexec.o: src/batchjoin_int.h
