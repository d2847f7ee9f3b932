# bash completion for fortisim. Subcommands, options and their choices are read from the
# binary's own --help (the subcommand's and its parents') when asked for, so they are never out
# of date; an option that takes text completes file names (the scenario, certificates, folders).
# What --help prints is offered as plain words, never expanded (compgen -W would run a $(…) in
# it), and a binary that does not answer within 2 s offers nothing.
# Installed as share/bash-completion/completions/fortisim; or: source packaging/fortisim.bash
_fortisim() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} bin=${COMP_WORDS[0]}
  local path=() word help i
  # The subcommand path typed so far: each word that the help of the path before it lists.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    [[ $word == -* ]] && continue
    if _fortisim_help "$bin" "${path[@]}" | _fortisim_subcommands | grep -qxF -- "$word"; then
      path+=("$word")
    fi
  done
  # A subcommand takes its parents' options too (`client import --json`), but not the top level's
  # (--version): the help of every level from the first subcommand on.
  for ((i = ${#path[@]} > 0 ? 1 : 0; i <= ${#path[@]}; i++)); do
    help+=$(_fortisim_help "$bin" "${path[@]:0:i}")$'\n' || return 0
  done
  if [[ $prev == -* ]]; then
    # The option's line: "  --key-type TEXT:{ecdsa,rsa}=ecdsa" offers its choices, TEXT a file;
    # a flag's line has its description there ("  --json   Print …"): nothing to complete for it.
    local line
    line=$(awk -v o="$prev" '/^  -/ { n = split($1, a, ","); for (i = 1; i <= n; i++)
      if (a[i] == o && $2 ~ /^[A-Z]+([:=]|$)/) print $2 }' <<<"$help")
    if [[ $line == *'{'*'}'* ]]; then
      line=${line#*\{} line=${line%%\}*}
      mapfile -t COMPREPLY < <(tr ',' '\n' <<<"$line" | _fortisim_offer "$cur")
      return 0
    elif [[ $line == TEXT* ]]; then
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return 0
    elif [[ -n $line ]]; then
      return 0  # a number: nothing to offer
    fi
  fi
  if [[ $cur == -* ]]; then
    # Each option once (every level has its own --help).
    mapfile -t COMPREPLY < <(awk '/^  -/ { n = split($1, a, ",")
      for (i = 1; i <= n; i++) if (a[i] ~ /^-/ && !seen[a[i]]++) print a[i] }' <<<"$help" | _fortisim_offer "$cur")
  else
    mapfile -t COMPREPLY < <(_fortisim_help "$bin" "${path[@]}" | _fortisim_subcommands | _fortisim_offer "$cur")
    [[ ${#COMPREPLY[@]} -eq 0 ]] && mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
  return 0
}
# The binary's --help for a subcommand path, bounded in time.
_fortisim_help() {
  local bin=$1
  shift
  timeout 2 "$bin" "$@" --help 2>/dev/null
}
# The words read (one a line) that start with $1, as they are: nothing in them is expanded.
_fortisim_offer() {
  local word
  while IFS= read -r word; do
    [[ -n $word && $word == "$1"* ]] && printf '%s\n' "$word"
  done
}
# The subcommands a help text lists under "Subcommands:", one a line.
_fortisim_subcommands() {
  awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }'
}
complete -F _fortisim fortisim
