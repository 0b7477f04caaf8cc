#!/usr/bin/env bash
# check_db.sh VAR...: each corpus variable of db.sh must name an existing directory.
# Fails at once, naming the variable and db.sh, before any work is done.
. "$(dirname "${BASH_SOURCE[0]}")/../db.sh"
status=0
for var in "$@"; do
  val=${!var:-}
  if [ -z "$val" ]; then
    echo "ERROR: $var is not set: edit db.sh (or export $var) to point at your copy of the corpus" >&2; status=1
  elif [ ! -e "$val" ]; then
    echo "ERROR: $var=$val in db.sh does not exist" >&2; status=1
  fi
done
exit $status
