# Source this file: activates the project's environment (ESPnet recipe convention).
_ser_root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -f "$_ser_root/.venv/bin/activate" ]; then
  echo "path.sh: no environment at $_ser_root/.venv; run $_ser_root/setup.sh first" >&2
  return 1 2>/dev/null || exit 1
fi
# shellcheck disable=SC1091
. "$_ser_root/.venv/bin/activate"
export PYTHONPATH="$_ser_root${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$_ser_root/egs2/TEMPLATE/ser1/utils:$PATH"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export PYTHONIOENCODING=UTF-8
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-0}
unset _ser_root
