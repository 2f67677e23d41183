#!/usr/bin/env bash
# Installs every Debian package Postern needs to build and test. The only
# place dependencies come from; CI and the README call it.
set -euo pipefail

build_pkgs=(
    build-essential cmake pkg-config
    libuv1-dev libssl-dev libc-ares-dev liblmdb-dev libcurl4-openssl-dev
    catch2 libtomlplusplus-dev libcli11-dev libcrypt-dev libargon2-dev zlib1g-dev
    openssl
)
# Real clients and peers the protocol tests talk to.
test_pkgs=(
    python3 swaks libnet-ssleay-perl curl fetchmail strace isync
    python3-aiosmtpd python3-dkim postfix nodejs
    clang-16 libclang-rt-16-dev clang-format-16 clang-tidy-16
)

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

missing=()
for p in "${build_pkgs[@]}" ${POSTERN_SKIP_TEST_DEPS:+} "${test_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The npm clients the IMAP tests drive (imapflow, nodemailer), pinned by
# tests/clients/package-lock.json, into tests/clients/node_modules.
if [ -z "${POSTERN_SKIP_TEST_DEPS:-}" ]; then
    command -v npm >/dev/null || $SUDO apt-get install -y -qq --no-install-recommends npm
    (cd "$(dirname "$0")/../tests/clients" && npm ci --no-audit --no-fund --loglevel=error)
fi
