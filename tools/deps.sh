#!/bin/sh
# Install the Debian 12 packages that building, testing, the demo and the
# memory checks need, when any is missing.  Needs root (or sudo) only when something is missing.
set -eu
packages="gcc make pkg-config libcurl4-openssl-dev openssl curl
  lua5.1 lua5.2 lua5.3 lua5.4 liblua5.1-0-dev liblua5.2-dev liblua5.3-dev
  liblua5.4-dev luajit2 libluajit2-5.1-dev
  lua-cjson lua-dkjson lua-busted lua-http lua-argparse luarocks valgrind
  nginx libnginx-mod-http-lua"

# `deps.sh fuzz` adds what `make fuzz` needs: clang and libFuzzer.
[ "${1:-}" = fuzz ] && packages="$packages clang libclang-rt-14-dev"
# `deps.sh bench` adds the hand-rolled comparison's luasocket and luasec.
# (Node.js and npm are the machine's own: bench/run skips the SDK's rows
# without them, rather than let apt replace a Node.js it did not install.)
[ "${1:-}" = bench ] && packages="$packages lua-socket lua-sec"

missing=""
for package in $packages; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null \
      | grep -q "ok installed"; then
    missing="$missing $package"
  fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "deps: run as root: apt-get install$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Packages with a service (nginx) must not start it: the specs start their
# own nginx on loopback and stop it.  policy-rc.d is Debian's way to say so.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $as_root tee "$policy" >/dev/null
  $as_root chmod +x "$policy"
  trap '$as_root rm -f "$policy"' EXIT
fi
$as_root apt-get update -qq
# shellcheck disable=SC2086
$as_root apt-get install -y -qq --no-install-recommends $missing
