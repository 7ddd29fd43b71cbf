#!/usr/bin/env bash
# Builds the release artefacts for one version into dist/:
#   terraform-provider-amlauth_VERSION_OS_ARCH.zip   (one per platform; holds only the binary)
#   terraform-provider-amlauth_VERSION_SHA256SUMS     (+ .sig, a detached GnuPG signature)
#   terraform-provider-amlauth_VERSION_manifest.json (protocol_versions 6.0, 5.0)
#
#   scripts/release.sh 0.1.0
#
# VERSION must equal the version in Cargo.toml (the one place it is set; the binary prints it with
# --version). Cross builds use cargo-zigbuild with Zig from PyPI, installed into a virtualenv under
# .tools/; Rust standard libraries for the targets come from `rustup target add`.
#
# Environment:
#   RELEASE_PROFILE=release      cargo profile (CI uses ci-release: same code, unoptimised, fast)
#   RELEASE_TARGETS="linux_amd64 …"  platforms to build (default: all five)
#   RELEASE_GPG_KEY=<key id>     sign with this key from the caller's GnuPG keyring (GNUPGHOME);
#                                without it a throwaway test key under target/release-gnupg is used
#   RELEASE_TOOLS=<dir>          where the cargo-zigbuild/Zig virtualenv goes (default .tools)
#
# Idempotent: a rerun rebuilds only what changed and rewrites dist/ for VERSION; zips are
# byte-for-byte reproducible for the same binary. A platform that cannot be built is reported
# (with cargo's error in dist/build-OS_ARCH.log) and the others are still produced; the exit code
# is then 3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

version=${1:?usage: scripts/release.sh VERSION}
crate_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
if [ "$version" != "$crate_version" ]; then
  echo "release.sh: VERSION $version differs from Cargo.toml's $crate_version; bump Cargo.toml first" >&2
  exit 2
fi
profile=${RELEASE_PROFILE:-release}
platforms=${RELEASE_TARGETS:-linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64}
tools=${RELEASE_TOOLS:-$root/.tools}
target_dir=${CARGO_TARGET_DIR:-$root/target}
name=terraform-provider-amlauth
dist=$root/dist
tool=$root/scripts/release_tool.py
say() { printf '==> %s\n' "$*"; }

triple_of() {
  case $1 in
    # Linux: static musl executables (no dynamic loader, no shared library to load at start-up,
    # any distribution; mimalloc as the allocator, src/main.rs). See docs/performance.md.
    linux_amd64) echo x86_64-unknown-linux-musl ;;
    linux_arm64) echo aarch64-unknown-linux-musl ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
    windows_amd64) echo x86_64-pc-windows-gnu ;;
    *) echo "release.sh: unknown platform $1" >&2; return 1 ;;
  esac
}

# --- tools -----------------------------------------------------------------------------------
venv=$tools/venv-release
if ! "$venv/bin/cargo-zigbuild" --version >/dev/null 2>&1 || ! "$venv/bin/python-zig" version >/dev/null 2>&1; then
  say "installing cargo-zigbuild and Zig (PyPI) into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'cargo-zigbuild==0.24.*' 'ziglang==0.17.*'
fi
export PATH=$venv/bin:$PATH
say "$(cargo-zigbuild --version), zig $(python-zig version)"

# macOS: link against generated stubs of the two Apple frameworks the TLS stack uses (no macOS
# SDK is reachable from here; see release_tool.py macos-stubs).
stubs=$target_dir/macos-framework-stubs
crate_src() {
  cargo metadata --format-version 1 --locked 2>/dev/null | python3 -c '
import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] in sys.argv[1:]:
        print(os.path.dirname(p["manifest_path"]))' "$@"
}

# --- build -----------------------------------------------------------------------------------
mkdir -p "$dist"
rm -f "$dist/${name}_${version}"_* "$dist"/build-*.log
built=()
failed=()
for platform in $platforms; do
  triple=$(triple_of "$platform")
  log=$dist/build-$platform.log
  if ! rustup target list --installed 2>/dev/null | grep -qx "$triple"; then
    say "rustup target add $triple"
    if ! rustup target add "$triple" >"$log" 2>&1; then
      say "cannot build $platform: rustup could not install the $triple standard library (see $log)"
      failed+=("$platform")
      continue
    fi
  fi
  extra=()
  case $platform in
    windows_*)
      # aws-lc-sys assembles its x86-64 code for Windows with NASM: Debian's nasm if installed,
      # otherwise the objects the crate ships pre-assembled.
      command -v nasm >/dev/null 2>&1 || extra=(env AWS_LC_SYS_PREBUILT_NASM=1)
      ;;
    darwin_*)
      # shellcheck disable=SC2046
      if ! python3 "$tool" macos-stubs "$stubs" $(crate_src security-framework-sys core-foundation-sys) >"$log" 2>&1; then
        say "cannot build $platform: no framework stubs ($(tail -n 1 "$log"))"
        failed+=("$platform")
        continue
      fi
      # macOS 11 (the first with arm64) as the oldest supported, for both CPUs; Zig's own default
      # would be the newest macOS.
      extra=(env MACOSX_DEPLOYMENT_TARGET=11.0
        "CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_RUSTFLAGS=-Clink-arg=-F$stubs")
      ;;
  esac
  say "building $platform ($triple, profile $profile)"
  start=$(date +%s)
  if ! "${extra[@]}" nice -n 10 cargo zigbuild --locked --quiet --profile "$profile" \
      --bin "$name" --target "$triple" >"$log" 2>&1; then
    say "cannot build $platform: cargo zigbuild failed (last lines of $log):"
    tail -n 15 "$log" | sed 's/^/    /'
    failed+=("$platform")
    continue
  fi
  say "built $platform in $(( $(date +%s) - start )) s"
  rm -f "$log"
  ext=
  [ "${platform%%_*}" = windows ] && ext=.exe
  bin=$target_dir/$triple/$profile/$name$ext
  python3 "$tool" check-binary "$bin" "${platform%%_*}" "${platform##*_}"
  python3 "$tool" zip "$bin" "${name}_v${version}${ext}" "$dist/${name}_${version}_${platform}.zip"
  built+=("$platform")
done

if [ ${#built[@]} -eq 0 ]; then
  echo "release.sh: no platform could be built" >&2
  exit 1
fi

# --- manifest, checksums, signature ----------------------------------------------------------
cat >"$dist/${name}_${version}_manifest.json" <<JSON
{
  "version": 1,
  "metadata": {
    "protocol_versions": ["6.0", "5.0"]
  }
}
JSON
(
  cd "$dist"
  sha256sum "${name}_${version}"_*.zip "${name}_${version}_manifest.json" >"${name}_${version}_SHA256SUMS"
)

if [ -n "${RELEASE_GPG_KEY:-}" ]; then
  key=$RELEASE_GPG_KEY
  gpg_home=${GNUPGHOME:-$HOME/.gnupg}
else
  # Throwaway key for tests: never published, regenerated only when missing or expired. RSA, as
  # the Terraform Registry requires and as Terraform 1.0.3's OpenPGP code can verify.
  gpg_home=$target_dir/release-gnupg-rsa
  validity=
  if [ -s "$gpg_home/key-id" ]; then
    validity=$(GNUPGHOME=$gpg_home gpg --batch --with-colons --list-keys "$(cat "$gpg_home/key-id")" 2>/dev/null |
      awk -F: '/^pub/{print $2; exit}')
  fi
  if [ -z "$validity" ] || [ "$validity" = e ] || [ "$validity" = r ]; then # missing, expired, revoked
    rm -rf "$gpg_home"
    mkdir -p -m 700 "$gpg_home"
    GNUPGHOME=$gpg_home gpg --batch --quiet --passphrase '' --quick-gen-key \
      "amlauth release test key (throwaway) <release-test@amlauth.invalid>" rsa3072 sign 1d
    GNUPGHOME=$gpg_home gpg --batch --list-keys --with-colons | awk -F: '/^fpr/{print $10; exit}' >"$gpg_home/key-id"
  fi
  key=$(cat "$gpg_home/key-id")
fi
GNUPGHOME=$gpg_home gpg --batch --yes --quiet --local-user "$key" \
  --output "$dist/${name}_${version}_SHA256SUMS.sig" --detach-sign "$dist/${name}_${version}_SHA256SUMS"
# The public half, for whoever verifies the signature (a registry, a mirror's publishing job).
GNUPGHOME=$gpg_home gpg --batch --yes --armor --output "$dist/${name}_${version}_signing-key.asc" --export "$key"
# The throwaway keyring's agent is ours to stop; a caller's own agent is left alone.
[ -n "${RELEASE_GPG_KEY:-}" ] || gpgconf --homedir "$gpg_home" --kill gpg-agent 2>/dev/null || true

say "dist/ for $version:"
(cd "$dist" && ls -l "${name}_${version}"_*)
for platform in "${built[@]}"; do
  ext=
  [ "${platform%%_*}" = windows ] && ext=.exe
  printf '    %-14s %s bytes\n' "$platform" "$(stat -c %s "$target_dir/$(triple_of "$platform")/$profile/$name$ext")"
done
if [ ${#failed[@]} -gt 0 ]; then
  say "NOT built: ${failed[*]} (reasons above and in dist/build-*.log)"
  exit 3
fi
