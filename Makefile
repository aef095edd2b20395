# lua-stytch: build, demo, test.  `make test` and `make demo` install what a
# fresh Debian 12 machine lacks (apt-get, as root) before anything else.

RUNTIMES   ?= lua5.1 lua5.2 lua5.3 lua5.4 luajit
CC         ?= cc
CFLAGS     ?= -O2 -g
WARN       := -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow \
              -Wstrict-prototypes -Wmissing-prototypes -Werror
SOURCES    := $(wildcard csrc/*.c)
HEADERS    := $(wildcard csrc/*.h)
CURL_FLAGS  = $(shell pkg-config --cflags libcurl)
CURL_LIBS   = $(shell pkg-config --libs libcurl) -lm

# pkg-config names of each runtime's headers.
PC_lua5.1  := lua5.1
PC_lua5.2  := lua5.2
PC_lua5.3  := lua5.3
PC_lua5.4  := lua5.4
PC_luajit  := luajit

.PHONY: all build deps demo test check-memory fuzz bench clean

FUZZ_TARGETS := request response url
FUZZ_SECONDS ?= 60

all: build

deps:
	@sh tools/deps.sh

build: $(foreach rt,$(RUNTIMES),build/$(rt)/stytch/core.so)

build/%/stytch/core.so: $(SOURCES) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared \
	    $(shell pkg-config --cflags $(PC_$*)) $(CURL_FLAGS) \
	    -o $@ $(SOURCES) $(CURL_LIBS)

# The core again, with AddressSanitizer and UBSan, for check-memory.
build/sanitize/%/stytch/core.so: $(SOURCES) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	    -fno-sanitize-recover=all $(WARN) -fPIC -shared \
	    $(shell pkg-config --cflags $(PC_$*)) $(CURL_FLAGS) \
	    -o $@ $(SOURCES) $(CURL_LIBS)

demo: deps build/lua5.4/stytch/core.so
	@LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;" \
	 LUA_CPATH="$(CURDIR)/build/lua5.4/?.so;;" \
	 sh emulator/with-servers lua5.4 demo/demo.lua

test: deps build
	@sh spec/run $(RUNTIMES)

check-memory: deps build/lua5.4/stytch/core.so \
	      build/sanitize/lua5.4/stytch/core.so
	@sh tools/check-memory

# libFuzzer targets, against Lua 5.4, with ASan and UBSan.
build/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(SOURCES) $(HEADERS)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Icsrc \
	    $(shell pkg-config --cflags lua5.4) $(CURL_FLAGS) \
	    -o $@ $< $(SOURCES) $(shell pkg-config --libs lua5.4) $(CURL_LIBS)

# Each target for FUZZ_SECONDS from its seed corpus in fuzz/corpus/.
fuzz:
	@sh tools/deps.sh fuzz
	@$(MAKE) --no-print-directory \
	    $(foreach t,$(FUZZ_TARGETS),build/fuzz/fuzz_$(t))
	@sh tools/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# bench/run: our module against plain libcurl, the Node SDK and luasocket.
BENCH_CALLS  ?= 2000
BENCH_ROUNDS ?= 5
BENCH_BULK   ?= 1000
bench: deps build
	@sh tools/deps.sh bench
	@BENCH_ROUNDS=$(BENCH_ROUNDS) BENCH_BULK=$(BENCH_BULK) \
	 sh bench/run $(BENCH_CALLS)

# build/, and what `luarocks make` leaves in the tree.
clean:
	rm -rf build stytch csrc/*.o
