# Recipe path.sh: the project's environment (root path.sh), found from this recipe dir (egs2/<x>/ser1).
# shellcheck disable=SC1091
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/path.sh"
