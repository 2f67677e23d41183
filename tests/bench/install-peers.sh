#!/bin/bash
# Installs the peers the benchmarks compare Postern with (Postfix with smtp-source, Dovecot
# imapd/pop3d; Debian packages) through the shared script, ../shared/bench/install-peers.sh
# relative to the repository root. Run it (as root) before smtp_compare.sh / pop3_compare.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
exec "${SHARED:-$ROOT/../shared/bench}/install-peers.sh" "$@"
