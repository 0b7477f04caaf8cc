#!/usr/bin/env bash
# Set up (or reuse) the Python environment of espnet-ser and link it as ./.venv.
#
# The environment lives outside the checkout ($ESPNET_SER_VENV, default ~/.cache/espnet-ser/venv-py3X)
# so that fresh clones on a warm machine reuse it. A stamp file holds the hash of requirements/*.txt:
# when the pins are unchanged nothing is installed; when they changed, pip updates the env in place.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python3}

usage() { echo "Usage: $0 [--force]   (env: PYTHON=python3.11, ESPNET_SER_VENV=dir)"; }
force=false
for a in "$@"; do
  case $a in
    --force) force=true ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

pyver=$("$python" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
cache=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}
venv=${ESPNET_SER_VENV:-$cache/espnet-ser/venv-py$pyver}
want=$(cat "$root"/requirements/*.txt | sha256sum | cut -c1-16)
have=$(cat "$venv/.espnet_ser_stamp" 2>/dev/null || true)

if $force || [ "$want" != "$have" ]; then
  echo "[setup] installing requirements into $venv (a first install takes a few minutes)"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  # Keep the venv's own pip (23.x): pip >= 24 refuses espnet's dependency ci_sdr (direct-URL metadata).
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$root/requirements/requirements.txt"
  echo "$want" > "$venv/.espnet_ser_stamp"
else
  echo "[setup] reusing $venv (pins unchanged)"
fi
ln -sfn "$venv" "$root/.venv"
echo "[setup] done: source path.sh to activate"
