#!/usr/bin/env bash
# Installs a released showcase-deploy binary, refusing any whose sha256 is not
# the one the release's checksum file gives.
#
#   scripts/install-release.sh --from <base URL or directory> --dest <dir> [--target <triple>]
#
# --from   where the release's files are: a base URL such as
#          https://github.com/OWNER/REPO/releases/download/v0.2.0, or a local
#          directory holding the same files (how the tests run it, offline).
# --dest   the directory to install `showcase-deploy` into (made if missing).
# --target the Rust target triple; by default the one of this machine.
#
# A release has one asset per target, `showcase-deploy-<target>` (the binary
# itself), and `SHA256SUMS` (`sha256sum` format: "<hex>  <file name>").
#
# Exit codes: 0 installed; 3 no released binary fits (this OS or CPU has none,
# or the release does not have it, or there is no such release): the caller may
# build from source instead; 1 anything else, a checksum mismatch among them
# (never a reason to fall back: a tampered download is refused outright).
set -euo pipefail

NO_ASSET=3
log() { echo "install-release: $*" >&2; }
die() { log "error: $*"; exit 1; }
no_asset() { log "$*"; exit "$NO_ASSET"; }

from="" dest="" target=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from=${2:?--from needs a value}; shift 2 ;;
    --dest) dest=${2:?--dest needs a value}; shift 2 ;;
    --target) target=${2:?--target needs a value}; shift 2 ;;
    *) die "unknown argument: $1 (usage: --from <base URL or directory> --dest <dir> [--target <triple>])" ;;
  esac
done
[ -n "$from" ] || die "--from is required"
[ -n "$dest" ] || die "--dest is required"

if [ -z "$target" ]; then
  os=$(uname -s) arch=$(uname -m)
  case "$os/$arch" in
    Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-gnu ;;
    Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-gnu ;;
    Darwin/arm64 | Darwin/aarch64) target=aarch64-apple-darwin ;;
    *) no_asset "no released binary for $os $arch (releases have Linux x86_64 and arm64, macOS arm64)" ;;
  esac
fi
asset="showcase-deploy-$target"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch NAME: copies one release file into $work. Returns 3 when the release
# has no such file (a missing file, HTTP 404), fails on any other error.
fetch() {
  local name=$1
  case "$from" in
    http://* | https://*)
      local status
      status=$(curl --proto '=https,http' --silent --show-error --location --retry 3 \
        --output "$work/$name" --write-out '%{http_code}' "${from%/}/$name") ||
        die "downloading ${from%/}/$name failed"
      case "$status" in
        200) ;;
        404) return "$NO_ASSET" ;;
        *) die "downloading ${from%/}/$name: HTTP $status" ;;
      esac
      ;;
    *)
      [ -d "$from" ] || die "--from $from is neither an http(s) URL nor a directory"
      [ -f "$from/$name" ] || return "$NO_ASSET"
      cp "$from/$name" "$work/$name" || die "copying $from/$name failed"
      ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "neither sha256sum nor shasum is installed: cannot verify the download"
  fi
}

fetch SHA256SUMS || no_asset "the release at $from has no SHA256SUMS: no released binary to install"
# The line for exactly this asset ("<hex>  <name>" or "<hex> *<name>").
expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1; exit }' "$work/SHA256SUMS")
[ -n "$expected" ] || no_asset "the release at $from has no $asset (SHA256SUMS does not list it)"
printf '%s' "$expected" | grep -Eq '^[0-9a-fA-F]{64}$' || die "SHA256SUMS has a malformed checksum for $asset: $expected"
fetch "$asset" || die "SHA256SUMS lists $asset but the release at $from does not have it"

actual=$(sha256_of "$work/$asset")
expected=$(printf '%s' "$expected" | tr 'A-F' 'a-f')
if [ "$actual" != "$expected" ]; then
  die "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual; refusing to install it"
fi

# Verified: only now is it made executable and moved into place (atomically).
mkdir -p "$dest"
chmod 0755 "$work/$asset"
mv "$work/$asset" "$dest/.showcase-deploy.partial"
mv -f "$dest/.showcase-deploy.partial" "$dest/showcase-deploy"
log "installed $asset (sha256 $actual) as $dest/showcase-deploy"
