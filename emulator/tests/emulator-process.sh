# Shared by the client test runners (sdk/run.sh, clients/run.sh): their Python virtualenvs, a
# scratch directory cleaned up on exit, and the emulator binary: build or find it, start it in
# the background, wait for it, stop it. Source this file.

# ensure_venv <dir> <requirements> <import check>: creates the virtualenv, or reuses it when its
# requirements are unchanged (a stamp file) and the check imports.
ensure_venv() {
    local dir="$1" req="$2" check="$3"
    if [[ -x "$dir/bin/python" ]] && cmp -s "$req" "$dir/.amlauth-requirements" \
        && "$dir/bin/python" -c "$check" >/dev/null 2>&1; then
        return 0
    fi
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    "$dir/bin/python" -c "$check"
    cp "$req" "$dir/.amlauth-requirements"
}

# make_work_dir: sets work to a new temporary directory and, on exit, stops the emulator (if
# start_emulator ran) and removes the directory.
make_work_dir() {
    work="$(mktemp -d)"
    emu_pid=""
    trap 'stop_emulator; rm -rf "$work"' EXIT
}

# ensure_emulator_bin <repo>: sets EMULATOR_BIN (built with cargo unless already set).
ensure_emulator_bin() {
    if [[ -z "${EMULATOR_BIN:-}" ]]; then
        (cd "$1" && cargo build --quiet -p amlauth-emulator --bin amlauth-emulator)
        EMULATOR_BIN="${CARGO_TARGET_DIR:-$1/target}/debug/amlauth-emulator"
    fi
    [[ -x "$EMULATOR_BIN" ]] || { echo "emulator binary not found: $EMULATOR_BIN" >&2; exit 1; }
}

# start_emulator <work dir> <stdout line prefix meaning ready> <emulator args...>: starts it with
# stdout/stderr in <work dir>, sets emu_pid, and waits up to 10 s for the line.
start_emulator() {
    local work="$1" ready="$2"
    shift 2
    "$EMULATOR_BIN" "$@" > "$work/stdout" 2> "$work/stderr" &
    emu_pid=$!
    for _ in $(seq 1 100); do
        if grep -q "^$ready" "$work/stdout" 2>/dev/null; then return 0; fi
        if ! kill -0 "$emu_pid" 2>/dev/null; then
            cat "$work/stderr" >&2
            echo "emulator exited early" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "emulator did not become ready" >&2
    exit 1
}

# stop_emulator: stops the emulator started by start_emulator, if it still runs.
stop_emulator() {
    if [[ -n "${emu_pid:-}" ]] && kill -0 "$emu_pid" 2>/dev/null; then
        kill "$emu_pid" 2>/dev/null || true
        wait "$emu_pid" 2>/dev/null || true
    fi
}
