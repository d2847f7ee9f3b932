#!/bin/sh
# Writes fortisim(1) from the binary's own --help, so the man page cannot drift from the command
# line: one section per subcommand (and per nested one, such as `client import`), each with its
# help text as the binary prints it, then the page's fixed parts (files, environment, exit status).
#   sh packaging/manpage.sh BINARY OUT      writes OUT (roff) and OUT.gz (what is installed)
# The defaults that depend on the user who runs it are printed for a user whose home is "~".
set -eu
bin=$1 out=$2
help() { env -u FORTISIM_DATA -u XDG_DATA_HOME HOME='~' "$bin" "$@" --help | sed "s|^Usage: [^ ]*|Usage: fortisim|"; }
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
client too. Each subcommand's options follow, as its \fB\-\-help\fR prints them; a default
that depends on the machine (\fB\-\-threads\fR: its cores) is the one this page was written on.
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
.B FORTISIM_DATA
The default \fB\-\-data\fR folder.
.TP
.B XDG_DATA_HOME
Without FORTISIM_DATA, the default \fB\-\-data\fR folder is \fIfortisim\fR under it (else
under \fI~/.local/share\fR).
.TP
.B FORTISIM_BIN
The binary the pytest plugin starts: copy \fI/usr/share/fortisim/python\fR to a folder of your
own and \fBpip install\fR that (the README's "Installing" says how).
.SH EXIT STATUS
0 on success. \fBvalidate\fR and \fBstate check\fR exit 1 when a file has a problem;
\fBclient\fR exits 1 on a FortiCare error and 2 when no protocol reply came. A usage error exits
with a code of 100 or more and says what is wrong. \fBserve\fR exits 2 when it cannot start (one
line names the cause and the fix) and 0 when SIGTERM or SIGINT stops it.
.SH EXAMPLES
Serve the default scenario on a free loopback port, its ready line in a file:
.PP
.nf
    fortisim serve \-\-listen 127.0.0.1:0 \-\-ready\-file /tmp/ready.json
.fi
.PP
Import a licence as a FortiGate does, against fortisim on 127.0.0.1:443:
.PP
.nf
    fortisim client \-\-server 127.0.0.1:443 import DA8C\-0508\-1F31\-4CF7\-C990
.fi
.PP
Rehearse an expired licence (error 14):
.PP
.nf
    fortisim serve \-\-scenario /usr/share/fortisim/scenarios/expired\-license.json
.fi
.PP
What to paste into a lab FortiGate that reaches fortisim at 192.0.2.10:
.PP
.nf
    fortisim lab\-config \-\-address 192.0.2.10 \-\-dns\-upstream 192.0.2.53
.fi
.SH SEE ALSO
.BR dig (1),
.BR curl (1),
.BR openssl (1)
ROFF
} >"$out"
gzip -9nc "$out" >"$out.gz"
