#!/usr/bin/env bash
# Builds Postern and runs a demo instance in ./var/demo (ports 10000 + standard port, on
# 127.0.0.1 only), with the domain example.test and the user demo@example.test.
# Safe to run again: it reuses the instance, the user and the password.
#   POSTERN_BUILD_DIR  build directory (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${POSTERN_BUILD_DIR:-build}
inst=var/demo
base=10000

bash scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"

ctl() { "$build/bin/mailctl" -c "$inst/postern.toml" "$@"; }

if [ ! -f "$inst/postern.toml" ]; then
    "$build/bin/mailctl" init "$inst" --port-base "$base" --hostname localhost --listen 127.0.0.1
fi
ctl check >/dev/null
ctl domain list | grep -qx example.test || ctl domain add example.test
if [ ! -s "$inst/demo-password" ]; then
    (umask 077; openssl rand -hex 8 >"$inst/demo-password")
fi
password=$(cat "$inst/demo-password")
if ! ctl user list example.test | grep -qx demo@example.test; then
    printf '%s\n' "$password" | ctl user add demo@example.test --password-stdin
else
    printf '%s\n' "$password" | ctl user passwd demo@example.test --password-stdin >/dev/null
fi
ctl start
ctl status || true

cert="$inst/tls/cert.pem"
cat <<INFO

Postern is running (instance $inst, logs in $inst/log/).
  user      demo@example.test
  password  $password

  SMTP (MX)          localhost:$((base + 25))
  submission         localhost:$((base + 587))   (STARTTLS, then AUTH)
  SMTPS              localhost:$((base + 465))
  POP3 / POP3S       localhost:$((base + 110)) / $((base + 995))
  IMAP / IMAPS       localhost:$((base + 143)) / $((base + 993))
  TLS certificate    $cert (self-signed for "localhost")

Send a message to the demo user, as another server would:
  swaks --server localhost:$((base + 25)) --from someone@elsewhere.test --to demo@example.test

Send one as the demo user (submission: STARTTLS, then AUTH):
  printf 'Subject: hello\\r\\n\\r\\nhi\\r\\n' >/tmp/msg.eml
  curl --cacert $cert --ssl-reqd --url smtp://localhost:$((base + 587)) \\
       --user 'demo@example.test:$password' --mail-from demo@example.test \\
       --mail-rcpt demo@example.test --upload-file /tmp/msg.eml

Read mail over POP3S (list, then message 1):
  curl --cacert $cert --user 'demo@example.test:$password' pop3s://localhost:$((base + 995))/
  curl --cacert $cert --user 'demo@example.test:$password' pop3s://localhost:$((base + 995))/1

Read it over IMAPS (the folders, then message UID 1 of INBOX):
  curl --cacert $cert --user 'demo@example.test:$password' imaps://localhost:$((base + 993))/
  curl --cacert $cert --user 'demo@example.test:$password' 'imaps://localhost:$((base + 993))/INBOX;UID=1'
Or point any mail client (Thunderbird, mbsync, ...) at localhost:$((base + 993)) with TLS.

Manage it:
  $build/bin/mailctl -c $inst/postern.toml status | stop | user add ... | queue list
INFO
