#!/usr/bin/env bash
# Quickstart: build the provider and the emulator, install the provider into a local mirror,
# start the emulator seeded with examples/quickstart/seed.json, then run terraform
# init / apply / plan (expecting no changes) / destroy on examples/quickstart.
#   TF_VERSION=1.0.3 ./scripts/quickstart.sh   uses Terraform 1.0.3 instead of 1.15.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
announce() { printf '\n==> %s\n' "$*"; }

tf_version=${TF_VERSION:-1.15}
work=$root/.tools/quickstart
rm -rf "$work"
mkdir -p "$work"

announce "installing Terraform CLIs (PyPI) if missing"
./scripts/install-terraform.sh >/dev/null
tf=$root/.tools/bin/terraform-$tf_version

announce "building terraform-provider-amlauth and amlauth-emulator"
cargo build --quiet --workspace --bins

announce "installing the provider into a local filesystem mirror"
pkg=$work/mirror/registry.terraform.io/amlauth/amlauth/0.1.0/linux_amd64
mkdir -p "$pkg"
cp target/debug/terraform-provider-amlauth "$pkg/terraform-provider-amlauth_v0.1.0"
cat > "$work/cli.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/amlauth/amlauth"]
  }
}
TFRC

announce "starting the ARM emulator"
target/debug/amlauth-emulator --seed examples/quickstart/seed.json --ca-out "$work/ca.pem" \
  > "$work/emulator.out" 2> "$work/emulator.err" &
emulator_pid=$!
trap 'kill $emulator_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q '^READY ' "$work/emulator.out" 2>/dev/null && break
  kill -0 $emulator_pid 2>/dev/null || { cat "$work/emulator.err" >&2; exit 1; }
  sleep 0.1
done
url=$(awk '/^READY /{print $2; exit}' "$work/emulator.out")
[ -n "$url" ] || { echo "the emulator did not start" >&2; cat "$work/emulator.err" >&2; exit 1; }
echo "emulator at $url"

cp examples/quickstart/*.tf "$work/"
export TF_CLI_CONFIG_FILE=$work/cli.tfrc TF_DATA_DIR=$work/.terraform TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export ARM_RESOURCE_MANAGER_ENDPOINT=$url ARM_AUTHORITY_HOST=$url ARM_CA_BUNDLE=$work/ca.pem
export ARM_TENANT_ID=72f988bf-0000-4000-8000-00000000e001
export ARM_CLIENT_ID=11111111-0000-4000-8000-00000000c11e ARM_CLIENT_SECRET=quickstart-client-secret
cd "$work"

announce "terraform init ($("$tf" version | head -n 1))"
"$tf" init -input=false -no-color
announce "terraform apply"
"$tf" apply -auto-approve -input=false -no-color
announce "terraform plan (expecting no changes)"
set +e
"$tf" plan -detailed-exitcode -input=false -no-color
code=$?
set -e
if [ "$code" -ne 0 ]; then
  echo "expected an empty plan, got exit code $code" >&2
  exit 1
fi
announce "terraform destroy"
"$tf" destroy -auto-approve -input=false -no-color
announce "quickstart finished: apply, a no-change plan and destroy all succeeded"
