#!/usr/bin/env bash
# Source this after defining the script's variables and $help_message.
# "--name value" sets the variable "name" (dashes in names read as underscores); only variables that
# already exist are options, so a typo fails at once. "--help" prints $help_message and exits.
# Variables whose default is true/false only accept true/false.
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) printf '%s\n' "${help_message:-no help}"; exit 0 ;;
    --*=*) _opt=${1%%=*}; _val=${1#*=}; shift; set -- "$_opt" "$_val" "$@" ;;
    --*)
      _name=${1#--}; _name=${_name//-/_}
      if ! declare -p "$_name" >/dev/null 2>&1 || [[ ! "$_name" =~ ^[a-z_][a-z0-9_]*$ ]]; then
        echo "$0: unknown option $1 (see --help)" >&2; exit 2
      fi
      if [ $# -lt 2 ]; then echo "$0: option $1 needs a value" >&2; exit 2; fi
      _old=${!_name}
      if [[ "$_old" == true || "$_old" == false ]] && [[ "$2" != true && "$2" != false ]]; then
        echo "$0: option $1 takes true or false, got '$2'" >&2; exit 2
      fi
      printf -v "$_name" '%s' "$2"
      shift 2 ;;
    *) break ;;
  esac
done
unset _name _old _opt _val
