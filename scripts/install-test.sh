#!/usr/bin/env bash
# Installs the provider from the release artefacts in dist/ the way users do, with real
# Terraform 1.15 and 1.0.3; nothing built by cargo is used directly.
#
#   scripts/release.sh 0.1.0 && scripts/install-test.sh 0.1.0
#
# 1. verifies SHA256SUMS.sig with the published key, each zip against SHA256SUMS, each zip's
#    content (one binary with the right name) and each binary's format and CPU (ELF / Mach-O / PE,
#    x86-64 / aarch64); the linux_amd64 binary prints the version;
# 2. publishes dist/ into a provider network mirror (index.json, VERSION.json with zh: hashes,
#    the zips), served over HTTPS on 127.0.0.1 with a test CA, and runs `terraform init` +
#    `terraform validate` on examples/quickstart through a network_mirror block;
# 3. runs `terraform providers lock -net-mirror … -platform=…` for every platform in the release
#    (linux_amd64, linux_arm64, darwin_amd64, darwin_arm64; windows_amd64 when it can be built,
#    see docs/mirror.md): Terraform verifies each zip against the mirror's zh: hash (the
#    SHA256SUMS line) and the lock file must hold exactly the h1: hashes of those three zips
#    (Terraform records only h1: for packages from a mirror: zh: is copied only from signed
#    registry responses);
# 4. installs from a filesystem mirror holding the unpacked zip, init + validate;
# 4b. installs through the provider registry protocol (static answers on 127.0.0.1 standing in
#    for registry.terraform.io): Terraform checks SHA256SUMS.sig itself, and the lock file holds
#    every zh: hash of SHA256SUMS;
# 5. tampers with one byte of a zip, of SHA256SUMS and of the signature: each must be rejected
#    (a tampered zip by Terraform itself through the mirror's zh: hash, a tampered signature by
#    Terraform itself through the registry).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

version=${1:-$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)}
name=terraform-provider-amlauth
dist=$root/dist
tool=$root/scripts/release_tool.py
work=${INSTALL_TEST_WORK:-$root/.tools/install-test}
say() { printf '\n==> %s\n' "$*"; }
fail() { echo "install-test: FAIL: $*" >&2; exit 1; }
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }

sums=$dist/${name}_${version}_SHA256SUMS
[ -f "$sums" ] || fail "$sums missing: run scripts/release.sh $version first"

./scripts/install-terraform.sh >/dev/null
rm -rf "$work"
mkdir -p "$work"
server_pid=
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  # gpg starts an agent for the test keyring; it must not outlive the test.
  gpgconf --homedir "$work/gnupg" --kill gpg-agent 2>/dev/null || true
}
trap cleanup EXIT

# --- 1. signature, checksums, contents -------------------------------------------------------
say "verifying the signature and the checksums"
export GNUPGHOME=$work/gnupg
mkdir -p -m 700 "$GNUPGHOME"
gpg --batch --quiet --import "$dist/${name}_${version}_signing-key.asc"
verify_release() { # DIR: what a user or a mirror's publishing job runs before trusting DIR
  gpg --batch --quiet --verify "$1/${name}_${version}_SHA256SUMS.sig" "$1/${name}_${version}_SHA256SUMS" 2>/dev/null &&
    (cd "$1" && sha256sum --quiet --strict -c "${name}_${version}_SHA256SUMS")
}
verify_release "$dist" || fail "the release in dist/ does not verify"
ok "SHA256SUMS.sig and SHA256SUMS verify"
grep -q '"protocol_versions": \["6.0", "5.0"\]' "$dist/${name}_${version}_manifest.json" || fail "manifest protocol_versions"
grep -q "  ${name}_${version}_manifest.json\$" "$sums" || fail "manifest not in SHA256SUMS"

platforms=$(sed -n "s/^.*  ${name}_${version}_\([a-z0-9]*_[a-z0-9]*\)\.zip\$/\1/p" "$sums")
echo "platforms in this release: $(echo $platforms)"
echo "$platforms" | grep -qx linux_amd64 || fail "linux_amd64 is needed by these tests but is not in the release"
[ "$(echo "$platforms" | wc -l)" -ge 3 ] || fail "fewer than three platforms in the release"
for p in $platforms; do
  ext=
  [ "${p%%_*}" = windows ] && ext=.exe
  listing=$(unzip -Z1 "$dist/${name}_${version}_$p.zip")
  [ "$listing" = "${name}_v${version}$ext" ] || fail "$p.zip holds '$listing'"
  mkdir -p "$work/unpacked/$p"
  unzip -q -o "$dist/${name}_${version}_$p.zip" -d "$work/unpacked/$p"
  python3 "$tool" check-binary "$work/unpacked/$p/$listing" "${p%%_*}" "${p##*_}"
done
for p in $platforms; do
  case $p in
    linux_*)
      # Static executables: no program interpreter (dynamic loader) and no shared library, so
      # they run on any Linux distribution whatever its libc.
      bin=$work/unpacked/$p/${name}_v$version
      ! readelf -l --wide "$bin" | grep -q 'INTERP' || fail "$p asks for a dynamic loader; releases are static"
      ! readelf -d --wide "$bin" | grep -q '(NEEDED)' || fail "$p needs shared libraries; releases are static"
      ;;
  esac
done
ok "each zip holds exactly one binary, of the right format and CPU; Linux ones are static"
got=$("$work/unpacked/linux_amd64/${name}_v$version" --version)
[ "$got" = "$name $version" ] || fail "--version printed '$got'"
ok "--version prints '$got'"

# --- 2. network mirror over HTTPS ------------------------------------------------------------
say "publishing dist/ into a network mirror and serving it over HTTPS"
www=$work/www
python3 "$tool" publish-mirror "$dist" "$version" "$www/mirror"
# The zh: hashes the mirror announces are SHA256SUMS, line for line.
announced=$(python3 -c 'import json, sys
for a in json.load(open(sys.argv[1]))["archives"].values():
    print(a["hashes"][0][3:] + "  " + a["url"])' "$www/mirror/registry.terraform.io/amlauth/amlauth/$version.json" | sort)
[ "$announced" = "$(grep '\.zip$' "$sums" | sort)" ] || fail "the mirror's zh: hashes differ from SHA256SUMS"
ok "the mirror's $version.json announces exactly the SHA256SUMS hashes as zh:"
(
  cd "$work"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=install-test CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
    -keyout ca.key -out ca.pem 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
    -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem 2>/dev/null
)
python3 "$tool" serve "$www" "$work/server.pem" "$work/server.key" \
  >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q '^READY ' "$work/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "mirror server died"; }
  sleep 0.1
done
base=$(awk '/^READY /{print $2; exit}' "$work/server.out")
[ -n "$base" ] || fail "mirror server did not start"
url=${base}mirror/
echo "network mirror at $url"
key_id=$(gpg --batch --with-colons --list-keys | awk -F: '/^pub/{print $5; exit}')
python3 "$tool" publish-registry "$dist" "$version" "$www" "${base%/}" "$key_id"
# Go (Terraform) on Linux trusts the CA bundle named here.
export SSL_CERT_FILE=$work/ca.pem TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
unset TF_PLUGIN_CACHE_DIR

tf_dir() { # NAME CLI-CONFIG-BODY: a fresh working directory with the quickstart config
  local d=$work/$1
  mkdir -p "$d"
  cp examples/quickstart/*.tf "$d/"
  printf '%s\n' "$2" >"$d/cli.tfrc"
  echo "$d"
}
tf_in() { # DIR TF-VERSION ARGS...: run Terraform in DIR with that directory's CLI config
  local d=$1 v=$2
  shift 2
  (cd "$d" && TF_CLI_CONFIG_FILE=$d/cli.tfrc TF_DATA_DIR=$d/.terraform \
    "$root/.tools/bin/terraform-$v" "$@" -no-color)
}
lock_hashes() { # LOCKFILE: the hashes it records, one a line
  grep -o '"\(h1\|zh\):[^"]*"' "$1" | tr -d '"' | sort
}
net_mirror_cfg="provider_installation {
  network_mirror {
    url = \"${url}\"
  }
}"
h1_of() { python3 "$tool" h1 "$dist/${name}_${version}_$1.zip"; }

# The public registry's address, answered by the static registry on 127.0.0.1 (a CLI `host` block
# overrides service discovery): the same code path as `terraform init` against a real registry.
registry_cfg="host \"registry.terraform.io\" {
  services = {
    \"providers.v1\" = \"${base}v1/providers/\"
  }
}"
all_zh() { sed -n "s/^\([0-9a-f]*\)  .*\$/zh:\1/p" "$sums"; } # every line, manifest included

for v in 1.15 1.0.3; do
  say "Terraform $v: init through the registry protocol (Terraform checks the signature)"
  d=$(tf_dir "registry-$v" "$registry_cfg")
  tf_in "$d" "$v" init -input=false >"$d/init.log" 2>&1 || { cat "$d/init.log"; fail "init ($v) from the registry"; }
  grep -q "v$version (self-signed, key ID ${key_id})" "$d/init.log" ||
    { cat "$d/init.log"; fail "init ($v): no signature verified with key $key_id"; }
  tf_in "$d" "$v" validate >"$d/validate.log" 2>&1 || { cat "$d/validate.log"; fail "validate ($v), registry"; }
  # From a signed SHA256SUMS Terraform records every zh: in it, plus the h1: of what it unpacked.
  expected=$( (all_zh; h1_of linux_amd64) | sort)
  got=$(lock_hashes "$d/.terraform.lock.hcl")
  [ "$got" = "$expected" ] || { printf 'expected:\n%s\ngot:\n%s\n' "$expected" "$got"; fail "registry lock file hashes ($v)"; }
  ok "Terraform $v: registry install, signature checked, lock = every zh: of SHA256SUMS + h1:"

  say "Terraform $v: init from the network mirror, validate the quickstart"
  d=$(tf_dir "net-$v" "$net_mirror_cfg")
  tf_in "$d" "$v" init -input=false >"$d/init.log" 2>&1 || { cat "$d/init.log"; fail "init ($v) from the network mirror"; }
  grep -q "Installed amlauth/amlauth v$version" "$d/init.log" || { cat "$d/init.log"; fail "init ($v) did not install v$version"; }
  tf_in "$d" "$v" validate >"$d/validate.log" 2>&1 || { cat "$d/validate.log"; fail "validate ($v)"; }
  grep -q "Success! The configuration is valid" "$d/validate.log" || { cat "$d/validate.log"; fail "validate ($v)"; }
  # Terraform checked the zip against the mirror's zh: hash (= SHA256SUMS), then recorded the h1:
  # hash of what it unpacked; hashes from an unsigned source (a mirror) are not copied into the
  # lock file.
  grep -q "v$version (verified checksum)" "$d/init.log" || { cat "$d/init.log"; fail "init ($v) did not verify the checksum"; }
  [ "$(lock_hashes "$d/.terraform.lock.hcl")" = "$(h1_of linux_amd64)" ] ||
    { cat "$d/.terraform.lock.hcl"; fail "lock ($v) hashes differ from the h1: of the released linux_amd64 zip"; }
  ok "Terraform $v: init from the network mirror (checksum verified) and validate"

  say "Terraform $v: providers lock for every platform of the release against the network mirror"
  d=$(tf_dir "lock-$v" "$net_mirror_cfg")
  # shellcheck disable=SC2046
  tf_in "$d" "$v" providers lock -net-mirror="$url" $(printf -- '-platform=%s ' $platforms) >"$d/lock.log" 2>&1 ||
    { cat "$d/lock.log"; fail "providers lock ($v)"; }
  n=$(echo "$platforms" | wc -l)
  [ "$(grep -c "(verified checksum)" "$d/lock.log")" = "$n" ] || { cat "$d/lock.log"; fail "providers lock ($v): not $n verified checksums"; }
  expected=$(for p in $platforms; do h1_of "$p"; done | sort)
  got=$(lock_hashes "$d/.terraform.lock.hcl")
  [ "$got" = "$expected" ] || { printf 'expected:\n%s\ngot:\n%s\n' "$expected" "$got"; fail "lock file hashes ($v)"; }
  ok "Terraform $v: providers lock for $(echo $platforms): each zip verified against its zh: (SHA256SUMS), lock = their h1:"

  say "Terraform $v: install from a filesystem mirror holding the unpacked zip"
  fs=$work/fs-mirror/registry.terraform.io/amlauth/amlauth/$version/linux_amd64
  mkdir -p "$fs"
  cp "$work/unpacked/linux_amd64/${name}_v$version" "$fs/"
  d=$(tf_dir "fs-$v" "provider_installation {
  filesystem_mirror {
    path = \"$work/fs-mirror\"
  }
}")
  tf_in "$d" "$v" init -input=false >"$d/init.log" 2>&1 || { cat "$d/init.log"; fail "init ($v) from the filesystem mirror"; }
  tf_in "$d" "$v" validate >"$d/validate.log" 2>&1 || { cat "$d/validate.log"; fail "validate ($v), filesystem mirror"; }
  [ "$(lock_hashes "$d/.terraform.lock.hcl")" = "$(h1_of linux_amd64)" ] ||
    fail "filesystem-mirror lock ($v) h1: differs from the zip's"
  ok "Terraform $v: filesystem mirror install and validate"
done

# --- 5. tampering ---------------------------------------------------------------------------
flip_byte() { # FILE [OFFSET]: change one byte of FILE (default: the middle one)
  python3 - "$@" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
i = int(sys.argv[2]) if len(sys.argv) > 2 else len(data) // 2
data[i] ^= 0x01
open(path, "wb").write(bytes(data))
PY
}
say "tampering: one byte of a zip, of SHA256SUMS, of the signature"
t=$work/tampered
cp -r "$dist" "$t-zip"
flip_byte "$t-zip/${name}_${version}_linux_amd64.zip"
! verify_release "$t-zip" >/dev/null 2>&1 || fail "a tampered zip passed sha256sum -c"
! python3 "$tool" publish-mirror "$t-zip" "$version" "$t-mirror" 2>/dev/null || fail "publish-mirror took a tampered zip"
ok "a zip with one byte changed fails the checksum check and is not published"

cp -r "$dist" "$t-sums"
flip_byte "$t-sums/${name}_${version}_SHA256SUMS" 0 # first hex digit of the first checksum
cmp -s "$sums" "$t-sums/${name}_${version}_SHA256SUMS" && fail "SHA256SUMS not changed"
! verify_release "$t-sums" >/dev/null 2>&1 || fail "a tampered SHA256SUMS passed the signature check"
cp -r "$dist" "$t-sig"
flip_byte "$t-sig/${name}_${version}_SHA256SUMS.sig"
! verify_release "$t-sig" >/dev/null 2>&1 || fail "a tampered signature verified"
ok "a changed SHA256SUMS or signature fails gpg --verify"

init_must_fail() { # NAME CLI-CONFIG WORD WHAT: init fails with WORD in its error, in both CLIs
  local v d
  for v in 1.15 1.0.3; do
    d=$(tf_dir "$1-$v" "$2")
    if tf_in "$d" "$v" init -input=false >"$d/init.log" 2>&1; then
      cat "$d/init.log"
      fail "Terraform $v installed $4"
    fi
    grep -qi "$3" "$d/init.log" || { cat "$d/init.log"; fail "Terraform $v refused $4, but not on the $3"; }
    ok "Terraform $v refuses $4 ($(grep -m1 -i -o "$3.*" "$d/init.log"))"
  done
}
# Terraform itself: the mirror announces the genuine zh: hash but serves a zip with one byte
# changed (a compromised or corrupted mirror) ...
cp "$t-zip/${name}_${version}_linux_amd64.zip" "$www/mirror/registry.terraform.io/amlauth/amlauth/"
init_must_fail tampered-zip "$net_mirror_cfg" checksum "a zip with one byte changed from a network mirror"
# ... and a registry serves a signature with one byte changed.
flip_byte "$www/files/$version/${name}_${version}_SHA256SUMS.sig"
init_must_fail tampered-sig "$registry_cfg" signature "a registry release whose SHA256SUMS signature does not match"

say "install tests: $passed passed, 0 failed"
echo "$passed passed, 0 failed"
