#!/bin/sh
# Writes fortisim(1) from the binary's own --help, so the man page cannot drift from the command
# line: one section per subcommand (and per nested one, such as `client import`), each with its
# help text as the binary prints it, then the page's fixed parts (files, environment, exit status).
#   sh packaging/manpage.sh BINARY OUT      writes OUT (roff) and OUT.gz (what is installed)
# The defaults that depend on the user who runs it are printed for a user whose home is "~".
set -eu
bin=$1 out=$2
help() { env -u XDG_DATA_HOME HOME='~' "$bin" "$@" --help | sed "s|^Usage: [^ ]*|Usage: fortisim|"; }
# The subcommands a help text lists under "Subcommands:", one a line.
subcommands() { awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }'; }
# roff-safe text: backslashes doubled, and a line that starts with . or ' kept from being a request.
escape() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }
version=$("$bin" --version | awk '{ print $2 }')
# Every subcommand path, depth first: "serve", "client", "client import", ...
paths() {  # prefix words...
  for sub in $(help "$@" | subcommands); do
    echo "$* $sub" | sed 's/^ //'
    paths "$@" "$sub"
  done
}
{
  printf '%s\n' ".TH FORTISIM 1 \"\" \"fortisim $version\" \"User Commands\"" ".SH NAME" \
    "fortisim \\- $(help | head -n 1 | sed 's/^fortisim: //' | escape)"
  cat <<'ROFF'
.SH SYNOPSIS
.B fortisim
.I subcommand
[\fIoptions\fR]
.br
.B fortisim
\-\-help | \-\-version
.SH DESCRIPTION
fortisim answers FortiGates and the FortiToken Mobile app as Fortinet's activation service does,
over HTTPS, from a scenario file that describes the world and the failures to inject. It makes its
own lab CA, serves a control API, a web console and a DNS responder, and speaks the protocol as a
client too. Each subcommand's options follow, as its \fB\-\-help\fR prints them.
ROFF
  echo ".SH SUBCOMMANDS"
  paths | while read -r path; do
    # shellcheck disable=SC2086
    echo ".SS \"fortisim $path\""
    echo ".nf"
    # shellcheck disable=SC2086
    help $path | escape
    echo ".fi"
  done
  cat <<'ROFF'
.SH FILES
.TP
.I /usr/share/fortisim/scenarios/
The shipped scenarios (default.json is served when no \fB\-\-scenario\fR is given) and their
JSON Schema, schema.json.
.TP
.I ~/.local/share/fortisim/
The lab CA and server certificates (\fB\-\-data\fR; \fI$XDG_DATA_HOME/fortisim\fR when that is set).
.TP
.I /usr/share/doc/fortisim/
The README, the scenario reference (scenarios.md), the lab guide and the control API
(docs/), and examples/: a C++ fixture and a pytest suite.
.SH ENVIRONMENT
.TP
.B XDG_DATA_HOME
Where the default \fB\-\-data\fR folder is (\fIfortisim\fR under it).
.TP
.B FORTISIM_BIN
The binary the pytest plugin starts (\fBpip install /usr/share/fortisim/python\fR).
.SH EXIT STATUS
0 on success. \fBvalidate\fR and \fBstate check\fR exit 1 when a file has a problem;
\fBclient\fR exits 1 on a FortiCare error and 2 when no protocol reply came. A usage error exits
with a code of 100 or more and says what is wrong. \fBserve\fR exits 0 when SIGTERM or SIGINT
stops it.
.SH SEE ALSO
.BR dig (1),
.BR curl (1),
.BR openssl (1)
ROFF
} >"$out"
gzip -9nc "$out" >"$out.gz"
