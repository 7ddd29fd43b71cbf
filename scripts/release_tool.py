#!/usr/bin/env python3
"""Helpers for scripts/release.sh and scripts/install-test.sh (standard library only).

  zip BINARY NAME_IN_ZIP OUT.zip       deterministic zip holding one executable
  macos-stubs OUT_DIR CRATE_SRC...     .tbd stubs for the Apple frameworks the -sys crates link
  h1 ZIP                               Terraform's "h1:" hash of the package inside ZIP
  check-binary FILE OS ARCH            the file is an executable of that format and CPU
  publish-mirror DIST VERSION MIRROR   verify SHA256SUMS, lay out a provider network mirror
  publish-registry DIST VERSION ROOT BASE_URL KEY_ID
                                       static answers of the provider registry protocol
  serve ROOT CERT KEY                  static HTTPS server on 127.0.0.1; prints "READY <url>"
"""

import base64
import hashlib
import http.server
import json
import os
import re
import ssl
import struct
import sys
import zipfile

PROVIDER = "terraform-provider-amlauth"
# A fixed timestamp so that building the same binary twice gives byte-identical zips (and so the
# same SHA256SUMS): release.sh is idempotent.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def cmd_zip(binary, name, out):
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.external_attr = (0o100755 & 0xFFFF) << 16  # regular file, rwxr-xr-x
    info.create_system = 3  # Unix, so the mode bits above are honoured by unzip and Terraform
    info.compress_type = zipfile.ZIP_DEFLATED
    tmp = out + ".tmp"
    with open(binary, "rb") as f, zipfile.ZipFile(tmp, "w") as z:
        z.writestr(info, f.read(), compresslevel=9)
    os.replace(tmp, out)


# Apple's frameworks cannot be downloaded here (no macOS SDK in any reachable registry). The
# linker only needs to know which dylib exports which symbol, so a text-based stub (.tbd) listing
# the symbols that the Rust -sys crates declare, with the framework's real install name, is enough:
# the binary then loads the real framework at run time on macOS, exactly as with Apple's SDK.
FRAMEWORKS = {
    "security-framework-sys": "Security",
    "core-foundation-sys": "CoreFoundation",
}
EXTERN_ITEM = re.compile(r"^\s*pub\s+(?:fn|static(?:\s+mut)?)\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)


def cmd_macos_stubs(out_dir, *crate_dirs):
    found = {}
    for crate_dir in crate_dirs:
        base = os.path.basename(os.path.normpath(crate_dir))
        crate = re.sub(r"-\d+\.\d+\.\d+.*$", "", base)
        framework = FRAMEWORKS.get(crate)
        if framework is None:
            continue
        symbols = found.setdefault(framework, set())
        for dirpath, _, files in os.walk(os.path.join(crate_dir, "src")):
            for fname in files:
                if fname.endswith(".rs"):
                    with open(os.path.join(dirpath, fname), encoding="utf-8") as f:
                        symbols.update(EXTERN_ITEM.findall(f.read()))
    missing = set(FRAMEWORKS.values()) - set(found)
    if missing:
        sys.exit(f"macos-stubs: no source given for {sorted(missing)}")
    targets = "[ x86_64-macos, arm64-macos ]"
    for framework, symbols in found.items():
        fdir = os.path.join(out_dir, f"{framework}.framework")
        os.makedirs(fdir, exist_ok=True)
        names = ", ".join("_" + s for s in sorted(symbols))
        with open(os.path.join(fdir, f"{framework}.tbd"), "w", encoding="utf-8") as f:
            f.write(
                "--- !tapi-tbd\n"
                "tbd-version:     4\n"
                f"targets:         {targets}\n"
                f"install-name:    '/System/Library/Frameworks/{framework}.framework/Versions/A/{framework}'\n"
                "exports:\n"
                f"  - targets:         {targets}\n"
                f"    symbols:         [ {names} ]\n"
                "...\n"
            )


def h1_of_zip(path):
    """golang.org/x/mod/sumdb/dirhash Hash1 over the unpacked files, as Terraform computes it."""
    lines = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            lines.append((info.filename, hashlib.sha256(z.read(info)).hexdigest()))
    summary = "".join(f"{digest}  {name}\n" for name, digest in sorted(lines))
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


def cmd_h1(path):
    print(h1_of_zip(path))


# (magic check, CPU field) per object format; enough of each header to tell format and CPU.
ELF_MACHINE = {"amd64": 0x3E, "arm64": 0xB7}
MACHO_CPU = {"amd64": 0x01000007, "arm64": 0x0100000C}
PE_MACHINE = {"amd64": 0x8664, "arm64": 0xAA64}


def binary_kind(path):
    """Returns (os, arch, kind) read from the file's header, or raises ValueError."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:4] == b"\x7fELF":
        if head[4] != 2 or head[5] != 1:
            raise ValueError("ELF but not 64-bit little-endian")
        e_type, e_machine = struct.unpack_from("<HH", head, 16)
        arch = {v: k for k, v in ELF_MACHINE.items()}.get(e_machine)
        # ET_EXEC or ET_DYN (a position-independent executable)
        kind = "executable" if e_type in (2, 3) else f"type {e_type}"
        return "linux", arch, kind
    if head[:4] == b"\xcf\xfa\xed\xfe":  # MH_MAGIC_64, little-endian
        cputype, _, filetype = struct.unpack_from("<iii", head, 4)
        arch = {v: k for k, v in MACHO_CPU.items()}.get(cputype)
        return "darwin", arch, "executable" if filetype == 2 else f"filetype {filetype}"
    if head[:2] == b"MZ":
        pe = struct.unpack_from("<I", head, 0x3C)[0]
        if head[pe : pe + 4] != b"PE\0\0":
            raise ValueError("MZ header without a PE signature")
        machine = struct.unpack_from("<H", head, pe + 4)[0]
        characteristics = struct.unpack_from("<H", head, pe + 22)[0]
        arch = {v: k for k, v in PE_MACHINE.items()}.get(machine)
        # IMAGE_FILE_EXECUTABLE_IMAGE set, IMAGE_FILE_DLL clear
        exe = characteristics & 0x0002 and not characteristics & 0x2000
        return "windows", arch, "executable" if exe else "dll or object"
    raise ValueError(f"unknown format (first bytes {head[:4].hex()})")


LC_CODE_SIGNATURE = 0x1D


def macho_has_signature(path):
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    ncmds = struct.unpack_from("<I", data, 16)[0]
    off = 32  # mach_header_64
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, off)
        if cmd == LC_CODE_SIGNATURE:
            return True
        off += size
    return False


def cmd_check_binary(path, want_os, want_arch):
    got = binary_kind(path)
    if got != (want_os, want_arch, "executable"):
        sys.exit(f"{path}: expected a {want_os}_{want_arch} executable, found {got}")
    # macOS on Apple silicon kills any arm64 binary without at least an ad-hoc code signature.
    if want_os == "darwin" and want_arch == "arm64" and not macho_has_signature(path):
        sys.exit(f"{path}: arm64 Mach-O without a code signature; macOS would refuse to run it")
    print(f"{os.path.basename(path)}: {want_os}_{want_arch} executable")


def read_sums(path):
    sums = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            digest, name = line.rstrip("\n").split("  ", 1)
            sums[name] = digest
    return sums


def cmd_publish_mirror(dist, version, mirror):
    """What a platform team's mirror job does after verifying the signature: check each zip
    against SHA256SUMS, then write index.json and VERSION.json (with zh: hashes) beside the zips
    under HOSTNAME/NAMESPACE/TYPE/. Any mismatch aborts before anything is published."""
    sums = read_sums(os.path.join(dist, f"{PROVIDER}_{version}_SHA256SUMS"))
    pattern = re.compile(rf"^{re.escape(PROVIDER)}_{re.escape(version)}_([a-z0-9]+_[a-z0-9]+)\.zip$")
    target = os.path.join(mirror, "registry.terraform.io", "amlauth", "amlauth")
    os.makedirs(target, exist_ok=True)
    archives = {}
    for name, digest in sorted(sums.items()):
        m = pattern.match(name)
        if not m:
            continue
        with open(os.path.join(dist, name), "rb") as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest() != digest:
            sys.exit(f"publish-mirror: {name} does not match its SHA256SUMS entry; not publishing")
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)
        archives[m.group(1)] = {"url": name, "hashes": [f"zh:{digest}"]}
    if not archives:
        sys.exit("publish-mirror: SHA256SUMS lists no provider zips")
    index_path = os.path.join(target, "index.json")
    versions = {}
    if os.path.exists(index_path):
        with open(index_path, encoding="utf-8") as f:
            versions = json.load(f).get("versions", {})
    versions[version] = {}
    with open(os.path.join(target, f"{version}.json"), "w", encoding="utf-8") as f:
        json.dump({"archives": archives}, f, indent=2)
    with open(index_path, "w", encoding="utf-8") as f:
        json.dump({"versions": versions}, f, indent=2)
    print(f"published {version} for {', '.join(sorted(archives))}")


def cmd_publish_registry(dist, version, root, base_url, key_id):
    """A static copy of what a Terraform registry answers for this provider (the provider registry
    protocol, under BASE_URL/v1/providers/): Terraform itself then checks SHA256SUMS.sig against
    the key the registry names, and each zip against SHA256SUMS."""
    sums_name = f"{PROVIDER}_{version}_SHA256SUMS"
    sums = read_sums(os.path.join(dist, sums_name))
    with open(os.path.join(dist, f"{PROVIDER}_{version}_signing-key.asc"), encoding="utf-8") as f:
        armor = f.read()
    files = os.path.join(root, "files", version)
    os.makedirs(files, exist_ok=True)
    for name in list(sums) + [sums_name, sums_name + ".sig"]:
        with open(os.path.join(dist, name), "rb") as src, open(os.path.join(files, name), "wb") as dst:
            dst.write(src.read())
    base = base_url.rstrip("/")
    api = os.path.join(root, "v1", "providers", "amlauth", "amlauth")
    platforms = []
    pattern = re.compile(rf"^{re.escape(PROVIDER)}_{re.escape(version)}_([a-z0-9]+)_([a-z0-9]+)\.zip$")
    for name, digest in sorted(sums.items()):
        m = pattern.match(name)
        if not m:
            continue
        os_, arch = m.groups()
        platforms.append({"os": os_, "arch": arch})
        out = os.path.join(api, version, "download", os_)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, arch), "w", encoding="utf-8") as f:
            json.dump({
                "protocols": ["6.0", "5.0"], "os": os_, "arch": arch, "filename": name,
                "download_url": f"{base}/files/{version}/{name}",
                "shasums_url": f"{base}/files/{version}/{sums_name}",
                "shasums_signature_url": f"{base}/files/{version}/{sums_name}.sig",
                "shasum": digest,
                "signing_keys": {"gpg_public_keys": [{"key_id": key_id, "ascii_armor": armor}]},
            }, f, indent=2)
    with open(os.path.join(api, "versions"), "w", encoding="utf-8") as f:
        json.dump({"versions": [{"version": version, "protocols": ["6.0", "5.0"],
                                 "platforms": platforms}]}, f, indent=2)
    print(f"registry answers for {version} under {base}/v1/providers/amlauth/amlauth/")


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".json": "application/json", ".zip": "application/zip"}

    def guess_type(self, path):
        # The registry protocol's documents have no extension (…/versions, …/download/linux/amd64).
        if "/v1/" in path and not os.path.splitext(path)[1]:
            return "application/json"
        return super().guess_type(path)

    def log_message(self, fmt, *args):
        sys.stderr.write("mirror: " + (fmt % args) + "\n")


def cmd_serve(root, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    handler = lambda *a, **kw: _Handler(*a, directory=root, **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"READY https://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()


COMMANDS = {
    "zip": cmd_zip,
    "macos-stubs": cmd_macos_stubs,
    "h1": cmd_h1,
    "check-binary": cmd_check_binary,
    "publish-mirror": cmd_publish_mirror,
    "publish-registry": cmd_publish_registry,
    "serve": cmd_serve,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
