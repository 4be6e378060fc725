# h2x: one entry point.  See README.md.
#
#   make            engine, nginx module, Apache module into build/
#   make test       install what is missing (root, Debian 12), build, run
#                   every test: unit (cmocka), fuzz (short), integration,
#                   soak (short), then the nginx tests on Debian 13's nginx
#                   1.26 built with h2x (test-nginx-debian)
#   make run        nginx and Apache with h2x on loopback, in the foreground
#   make bench      engine benchmarks against nghttp2
#   make ab         h2x against the builtin HTTP/2 of nginx and Apache
#                   (h2load, report in build/ab/; see docs/ab.md)
#   make fuzz       longer fuzzing runs (FUZZ_TIME s each), corpus minimised
#   make test-asan  unit + integration suites on an ASan/UBSan build
#   make soak       h2load and resets against both h2x servers (SOAK_TIME s)
#   make check-cc   the engine with gcc and clang, -Wall -Wextra -Werror
#   make host-tests httpd's and nginx-tests' HTTP/2 suites, h2x against the
#                   builtin (NGINX_TESTS=<nginx-tests checkout>)
#   make nginx NGINX_SRC=<nginx source tree> [DYNAMIC=1]
#                   an nginx with h2x built in (or as a module) from that
#                   tree, into build/nginx-<version>-<static|dynamic>/
#   make test-nginx NGINX_SRC=... [DYNAMIC=1]
#                   that build, then the integration suite's nginx tests
#                   against it (docs/nginx.md, "Supported versions")

SHELL        := /bin/bash
BUILD        := build
CC           ?= cc
CLANG        ?= clang
OPT          ?= -O2 -g
WARN         := -Wall -Wextra -Werror
ENGINE_FLAGS := -std=gnu99 -fPIC $(WARN) -Icommon

ENGINE_SRCS  := $(sort $(wildcard common/*.c))
ENGINE_HDRS  := $(sort $(wildcard common/*.h))
ENGINE_OBJS  := $(ENGINE_SRCS:common/%.c=$(BUILD)/obj/%.o)
NGX_SRCS     := $(sort $(wildcard ngx_module/*.c ngx_module/*.h))
APACHE_SRCS  := $(sort $(wildcard mod_apache/*.c mod_apache/*.h))

UNIT_SRCS    := $(sort $(wildcard t/unit/test_*.c))
UNIT_BINS    := $(UNIT_SRCS:t/unit/%.c=$(BUILD)/t/unit/%)
UNIT_LIBS    := -lcmocka -lnghttp2 -lm
FUZZ_SRCS    := $(sort $(wildcard t/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_SRCS:t/fuzz/%.c=$(BUILD)/t/fuzz/%)
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -Icommon
FUZZ_TIME    ?= 60
SOAK_TIME    ?= 600
BENCH_SRCS   := $(sort $(wildcard t/bench/bench_*.c))
BENCH_BINS   := $(BENCH_SRCS:t/bench/%.c=$(BUILD)/t/bench/%)

# Built the way Debian builds third-party modules (dh nginx_mod): a copy
# of nginx-dev's tree, its conf_flags, dpkg-buildflags, make modules.
NGX_DEV_SRC  := /usr/share/nginx/src
NGX_TREE     := $(BUILD)/nginx-dev
NGX_OBJS     := $(BUILD)/nginx-objs

# make nginx / test-nginx: an nginx source tree (release tarball or git).
NGINX_SRC    ?=
DYNAMIC      ?=
NGINX_LINK   := $(if $(DYNAMIC),dynamic,static)
# the integration suite's nginx part (the 1.22 static build has its own)
NGINX_TESTS_K ?= nginx and not apache and not static_build

APXS         ?= apxs
# Extra flags for the module builds (make test-asan sets them).
NGX_CC_OPT   ?=
NGX_LD_OPT   ?=
APXS_FLAGS   ?=

# make test-asan: everything built again with ASan and UBSan (gcc, like the
# modules' hosts) into build/asan/, then the unit and integration suites.
ASAN_BUILD   := $(BUILD)/asan
ASAN_FLAGS   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined

.PHONY: all engine modules nginx-module apache-module unit fuzz-short fuzz \
        bench ab test test-run deps integration run check-cc clean gen \
        gen-check asan-build test-asan soak host-tests nginx test-nginx \
        test-nginx-debian

all: engine modules unit-bins

engine: $(BUILD)/libh2x.a

modules: nginx-module apache-module

nginx-module: $(BUILD)/ngx_http_h2x_module.so

apache-module: $(BUILD)/mod_h2x.so

unit-bins: $(UNIT_BINS)


# --- engine ---------------------------------------------------------------

$(BUILD)/obj/%.o: common/%.c $(ENGINE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(OPT) $(ENGINE_FLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libh2x.a: $(ENGINE_OBJS)
	@rm -f $@
	ar rcs $@ $^

# The engine must be clean with both compilers and with nginx's flags.
check-cc:
	@set -e; for cc in gcc $(CLANG); do \
	    for f in $(ENGINE_SRCS); do \
	        $$cc $(OPT) $(ENGINE_FLAGS) -c $$f -o /dev/null; \
	    done; echo "engine: clean with $$cc"; \
	done
	@for f in $(ENGINE_SRCS); do \
	    gcc -O2 -W -Wall -Wpointer-arith -Wno-unused-parameter -Werror \
	        -fPIC -D_FORTIFY_SOURCE=2 -Werror=format-security -Icommon \
	        -c $$f -o /dev/null || exit 1; \
	done; echo "engine: clean with nginx's flags"


# --- nginx module ---------------------------------------------------------

# configure runs again only when the set of source files or config change.
$(BUILD)/ngx-files.list: FORCE
	@mkdir -p $(@D)
	@echo config $(ENGINE_SRCS) $(ENGINE_HDRS) $(NGX_SRCS) > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

$(NGX_OBJS)/Makefile: config $(BUILD)/ngx-files.list
	rm -rf $(NGX_TREE) $(NGX_OBJS)
	mkdir -p $(BUILD)
	cp -a $(NGX_DEV_SRC) $(NGX_TREE)
	cd $(NGX_TREE) && . ./conf_flags && ./configure \
	    --with-cc-opt="$$(dpkg-buildflags --get CFLAGS) -fPIC $$(dpkg-buildflags --get CPPFLAGS) $(NGX_CC_OPT)" \
	    --with-ld-opt="$$(dpkg-buildflags --get LDFLAGS) -fPIC $(NGX_LD_OPT)" \
	    "$${NGX_CONF_FLAGS[@]}" \
	    --add-dynamic-module=$(CURDIR) \
	    --builddir=$(CURDIR)/$(NGX_OBJS) > $(CURDIR)/$(BUILD)/nginx-configure.log \
	    || { tail -30 $(CURDIR)/$(BUILD)/nginx-configure.log; exit 1; }

$(BUILD)/ngx_http_h2x_module.so: $(NGX_OBJS)/Makefile $(ENGINE_SRCS) \
                                 $(ENGINE_HDRS) $(NGX_SRCS)
	$(MAKE) -s -C $(NGX_TREE) -f $(CURDIR)/$(NGX_OBJS)/Makefile modules
	cp $(NGX_OBJS)/ngx_http_h2x_module.so $@.tmp && mv -f $@.tmp $@


# --- Apache module --------------------------------------------------------

$(BUILD)/mod_h2x.so: $(APACHE_SRCS) $(ENGINE_SRCS) $(ENGINE_HDRS)
	@rm -rf $(BUILD)/apxs && mkdir -p $(BUILD)/apxs
	cp mod_apache/*.c common/*.c common/*.h $(BUILD)/apxs/
	-cp mod_apache/*.h $(BUILD)/apxs/ 2>/dev/null
	cd $(BUILD)/apxs && $(APXS) -c -o mod_h2x.la \
	    -Wc,-Wall -Wc,-Wextra -Wc,-Werror -Wc,-std=gnu99 $(APXS_FLAGS) \
	    $(notdir $(filter %.c,$(APACHE_SRCS)) $(ENGINE_SRCS)) \
	    > build.log 2>&1 || { cat build.log; exit 1; }
	cp $(BUILD)/apxs/.libs/mod_h2x.so $@.tmp && mv -f $@.tmp $@


# --- tests ----------------------------------------------------------------

$(BUILD)/t/unit/%: t/unit/%.c $(BUILD)/libh2x.a $(wildcard t/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(OPT) -std=gnu99 $(WARN) -Icommon -It/unit $< \
	    $(BUILD)/libh2x.a $(UNIT_LIBS) -o $@

$(BUILD)/t/fuzz/%: t/fuzz/%.c $(ENGINE_SRCS) $(ENGINE_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) $< $(ENGINE_SRCS) -o $@

$(BUILD)/t/bench/%: t/bench/%.c $(BUILD)/libh2x.a
	@mkdir -p $(@D)
	$(CC) -O2 -g -std=gnu99 $(WARN) -Icommon $< $(BUILD)/libh2x.a \
	    -lnghttp2 -lm -o $@

deps:
	@t/tools/install-deps.sh

# make test = install what is missing, then build and run everything.
test: deps
	@$(MAKE) --no-print-directory test-run

# ... and then nginx 1.26 (Debian 13's source) with h2x built in, beside
# the suite's run on Debian 12's nginx 1.22 with the dynamic module.
test-run: all $(FUZZ_BINS)
	@$(MAKE) --no-print-directory check-cc gen-check
	@rc=0; t/tools/run-tests.sh || rc=1; \
	    t/tools/test-nginx-debian.sh || rc=1; exit $$rc

unit: $(UNIT_BINS)
	@t/tools/run-tests.sh unit

integration: all
	@t/tools/run-tests.sh integration

fuzz-short: $(FUZZ_BINS)
	@t/tools/run-tests.sh fuzz

fuzz: $(FUZZ_BINS)
	@FUZZ_TIME=$(FUZZ_TIME) t/tools/fuzz.sh

# The sanitized build; the recursive make sees BUILD=build/asan.
asan-build:
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CC=gcc \
	    OPT="$(ASAN_FLAGS)" NGX_CC_OPT="$(ASAN_FLAGS)" \
	    NGX_LD_OPT="-fsanitize=address,undefined" \
	    APXS_FLAGS="$(foreach f,$(ASAN_FLAGS),-Wc,$(f))" all

test-asan: asan-build
	@BUILD=$(BUILD) t/tools/test-asan.sh

# An nginx from any source tree, with h2x (t/tools/build-nginx.sh).
nginx:
	@test -n "$(NGINX_SRC)" || { echo "usage: make nginx" \
	    "NGINX_SRC=<nginx source tree> [DYNAMIC=1]" >&2; exit 2; }
	@t/tools/build-nginx.sh "$(NGINX_SRC)" $(NGINX_LINK)

test-nginx: all
	@test -n "$(NGINX_SRC)" || { echo "usage: make test-nginx" \
	    "NGINX_SRC=<nginx source tree> [DYNAMIC=1]" >&2; exit 2; }
	@env=$$(t/tools/build-nginx.sh "$(NGINX_SRC)" $(NGINX_LINK)) \
	    && set -a && . "$$env" && set +a \
	    && echo "test-nginx: $$($$H2X_NGINX -v 2>&1), $(NGINX_LINK)" \
	    && BUILD=$$(dirname "$$env") \
	       t/tools/run-tests.sh integration -k "$(NGINX_TESTS_K)"

# CI: Debian 13's nginx source (trixie, apt-get source), built statically.
test-nginx-debian: all
	@t/tools/test-nginx-debian.sh

host-tests: all
	@t/host/host-tests.sh

soak: all
	@SOAK_TIME=$(SOAK_TIME) /usr/bin/python3 t/soak/soak.py

bench: $(BENCH_BINS)
	@set -e; for b in $(BENCH_BINS); do $$b; done

ab: all
	@/usr/bin/python3 t/bench/ab/ab.py

# make run = install what is missing, build, then serve in the foreground.
run: deps
	@$(MAKE) --no-print-directory all
	@/usr/bin/python3 t/tools/run_servers.py

# Generated tables (HPACK Huffman code and static table, RFC 7541 A and B).
# gen rewrites the checked-in file; gen-check fails when it is stale.
$(BUILD)/h2x_huff_gen: common/tools/h2x_huff_gen.c
	@mkdir -p $(@D)
	$(CC) -O2 -std=gnu99 $(WARN) -o $@ $<

gen: $(BUILD)/h2x_huff_gen
	$(BUILD)/h2x_huff_gen > $(BUILD)/h2x_huff_table.h
	cp $(BUILD)/h2x_huff_table.h common/h2x_huff_table.h

gen-check: $(BUILD)/h2x_huff_gen
	@$(BUILD)/h2x_huff_gen > $(BUILD)/h2x_huff_table.h
	@diff -u common/h2x_huff_table.h $(BUILD)/h2x_huff_table.h \
	    || { echo "gen-check: common/h2x_huff_table.h is stale:" \
	              "run make gen" >&2; exit 1; }
	@echo "gen-check: common/h2x_huff_table.h is up to date"

clean:
	rm -rf $(BUILD)

FORCE:
