#!/usr/bin/env bash
# A stand-in for `causeloop serve` used by the harness's own tests: it honours --data-dir and
# --port-file like the real binary, and misbehaves on request.
#   --fake-fail         exit 3 before writing the port file
#   --fake-ignore-term  ignore SIGTERM
data_dir='' port_file='' fail=0 ignore_term=0
while (( $# )); do
  case $1 in
    --data-dir) data_dir=$2; shift ;;
    --port-file) port_file=$2; shift ;;
    --fake-fail) fail=1 ;;
    --fake-ignore-term) ignore_term=1 ;;
  esac
  shift
done
if (( fail )); then echo "fake: cannot open store in $data_dir" >&2; exit 3; fi
echo "start" >> "$data_dir/starts"
if (( ignore_term )); then trap '' TERM; else trap 'exit 0' TERM; fi
echo 4242 > "$port_file.tmp" && mv "$port_file.tmp" "$port_file"
while :; do sleep 1 & wait $!; done
