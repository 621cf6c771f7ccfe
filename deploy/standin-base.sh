#!/usr/bin/env bash
# Builds a local stand-in for python:3.11-slim-bookworm where no base image can be pulled (the project's CI
# machines reach package registries only): Debian bookworm's own python3 in a minimal root filesystem made
# by mmdebstrap, imported into podman's image store.
#
#   deploy/standin-base.sh [IMAGE]        # default localhost/salescast-standin-base:bookworm
#   podman build --isolation chroot --network host --format docker \
#       --build-arg BASE_IMAGE=localhost/salescast-standin-base:bookworm -t salescast .
#
# Two differences from the official image are removed here, never in the Dockerfile:
#   - the machine's own extra CA certificates (/usr/local/share/ca-certificates: e.g. a TLS proxy in front of
#     the registries) are trusted, and SSL_CERT_FILE names the bundle, which uv and pip read;
#   - Debian marks its python3 "externally managed" (PEP 668); the official image's Python is not.
# Needs root (or fakeroot), mmdebstrap and podman: apt-get install mmdebstrap podman buildah.
set -euo pipefail

image="${1:-localhost/salescast-standin-base:bookworm}"
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

hooks=()
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    hooks+=(--customize-hook='sync-in /usr/local/share/ca-certificates /usr/local/share/ca-certificates'
            --customize-hook='chroot "$1" update-ca-certificates --fresh >/dev/null')
fi
hooks+=(--customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED'
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*')

mmdebstrap --variant=minbase --include=python3,python3-venv,ca-certificates,passwd \
    "${hooks[@]}" bookworm "$workdir/rootfs.tar"

podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' \
    "$workdir/rootfs.tar" "$image" >/dev/null
echo "built $image"
