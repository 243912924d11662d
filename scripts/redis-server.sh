#!/usr/bin/env bash
# A throwaway Redis server for the tests and benchmarks: loopback only, no persistence, in the foreground.
#   scripts/redis-server.sh install            install Debian's redis-server when it is missing
#   scripts/redis-server.sh PORT DIR [ARGS...] run it on 127.0.0.1:PORT with DIR as its working folder
#                                              (extra ARGS go to redis-server, e.g. --requirepass SECRET)
set -euo pipefail
if [[ "${1:-}" == "install" ]]; then
    command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server)
    exit 0
fi
if [[ $# -lt 2 ]]; then
    echo "usage: $0 install | PORT DIR [redis-server arguments...]" >&2
    exit 2
fi
port=$1 dir=$2
shift 2
mkdir -p "$dir"
exec redis-server --port "$port" --bind 127.0.0.1 --protected-mode yes --save '' --appendonly no \
    --dir "$dir" --daemonize no --logfile "$dir/redis.log" "$@"
