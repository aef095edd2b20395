# lua-stytch: build, demo, test.  `make test` and `make demo` install what a
# fresh Debian 12 machine lacks (apt-get, as root) before anything else.

RUNTIMES   ?= lua5.4 luajit
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

.PHONY: all build deps demo test clean

all: build

deps:
	@sh tools/deps.sh

build: $(foreach rt,$(RUNTIMES),build/$(rt)/stytch/core.so)

build/%/stytch/core.so: $(SOURCES) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared \
	    $(shell pkg-config --cflags $(PC_$*)) $(CURL_FLAGS) \
	    -o $@ $(SOURCES) $(CURL_LIBS)

demo: deps build/lua5.4/stytch/core.so
	@LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;" \
	 LUA_CPATH="$(CURDIR)/build/lua5.4/?.so;;" \
	 sh emulator/with-servers lua5.4 demo/demo.lua

test: deps build
	@sh spec/run $(RUNTIMES)

# build/, and what `luarocks make` leaves in the tree.
clean:
	rm -rf build stytch csrc/*.o
