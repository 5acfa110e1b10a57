#!/usr/bin/env bash
# Prepares what the image tests need on a Debian 12 machine, as root: podman (with the configuration that works
# here) and its Docker-compatible socket, a registry on 127.0.0.1:5000 holding the local base image, and the four
# service images (and the dashboard's, and the pipeline command's that the reconciliation task runs) published into
# podman. Idempotent: what is there already is kept, and a run's images replace the previous run's on disk.
#   .ci/containers.sh [install|start|base|publish|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

# The SDK talks plain HTTP to a registry named localhost (it listens on 127.0.0.1 only).
registry=localhost:5000
base_image=pipeline-base/debian-deps:12
# The image tests run the images by this tag (tests/Deploy.Tests/ContainerEngine.cs). It lives in podman's storage
# only: what goes to AWS is the deploy command's image archive, tagged <version>-<commit> (docs/deploy.md).
local_tag=local
socket=/run/podman/podman.sock
state=/var/lib/pipeline-ci
step="${1:-all}"

timed() { local name="$1"; shift; local t0=$SECONDS; "$@"; echo "   ($name: $((SECONDS - t0)) s)"; }

install_packages() {
  local missing=()
  for p in podman runc skopeo docker-registry mmdebstrap curl; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # crun and the default ulimits fail on these machines; runc with cgroupfs works (platform notes).
  mkdir -p /etc/containers
  cp .ci/containers.conf /etc/containers/containers.conf
  # The package's registry service listens on every interface; ours binds loopback only.
  if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
}

# The registry keeps the base image only; the SDK fetches bases from a registry, but the service images go straight
# into podman. Earlier versions of this script pushed them here as well, and a registry never frees a replaced image:
# drop those repositories and collect their blobs, or each run leaves about a gigabyte behind.
prune_registry() {
  local repositories="$state/registry/docker/registry/v2/repositories" stale=()
  for dir in "$repositories"/pipeline-*; do
    [ -d "$dir" ] && [ "$(basename "$dir")" != pipeline-base ] && stale+=("$dir")
  done
  [ ${#stale[@]} -eq 0 ] && return 0
  pkill -f "docker-registry serve" && sleep 1 || true
  rm -rf "${stale[@]}"
  REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$state/registry" docker-registry garbage-collect "$PWD/.ci/registry.yml" >/dev/null
  echo "   removed ${#stale[@]} service images from the registry (they live in podman now)"
}

start_services() {
  mkdir -p "$state"
  prune_registry
  # Both outlive this run, so they start in / rather than in the clone: a podman service whose working directory was
  # deleted (a clone removed and made again) fails every container start with "write child: broken pipe".
  local config="$PWD/.ci/registry.yml"
  if ! curl -sf "http://$registry/v2/" >/dev/null; then
    (cd / && REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$state/registry" \
      nohup docker-registry serve "$config" >"$state/registry.log" 2>&1 &)
  fi
  if ! curl -sf --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; then
    mkdir -p "$(dirname "$socket")"
    (cd / && nohup podman system service --time=0 "unix://$socket" >"$state/podman-service.log" 2>&1 &)
  fi
  for _ in $(seq 1 50); do
    curl -sf "http://$registry/v2/" >/dev/null && curl -sf --unix-socket "$socket" http://d/_ping >/dev/null && return 0
    sleep 0.2
  done
  echo "registry or podman socket did not answer; see $state/*.log" >&2
  return 1
}

# A Debian base with what a self-contained .NET app needs, since no public registry is reachable here.
base() {
  if skopeo inspect --tls-verify=false "docker://$registry/$base_image" >/dev/null 2>&1; then
    echo "   base image $registry/$base_image is there"
    return 0
  fi
  local tar="$state/debian-deps.tar"
  if [ ! -s "$tar" ]; then
    mmdebstrap --quiet --format=tar --variant=minbase --include=libicu72,libssl3,ca-certificates,tzdata bookworm "$tar.part"
    mv "$tar.part" "$tar"
  fi
  podman import --quiet "$tar" "localhost/$base_image" >/dev/null
  skopeo copy --quiet --dest-tls-verify=false "containers-storage:localhost/$base_image" "docker://$registry/$base_image"
}

publish() {
  # The previous run's images go first, and the copies earlier versions of this script pulled from the registry, so
  # that the disk holds one set: kept, each run would add about a gigabyte.
  { podman images --format '{{.Repository}}:{{.Tag}}' | grep -E "^(localhost|$registry)/pipeline-[a-z]+:$local_tag\$" || true; } |
    xargs -r podman rmi --force >/dev/null
  podman image prune --force >/dev/null
  local image=(-c Release --nologo -v:q /t:PublishContainer
    -p:ContainerBaseImage="$registry/$base_image" -p:LocalRegistry=Podman -p:ContainerImageTags="$local_tag")
  for service in Validate Transform Compute Notifier Dashboard; do
    dotnet publish "Services.$service" "${image[@]}" >/dev/null
  done
  # The pipeline command is an image only when asked (Pipeline.Cli.csproj; Deploy/Cli/ImageBuilder.cs does the same).
  dotnet publish Pipeline.Cli "${image[@]}" -p:PipelineContainer=true >/dev/null
  echo "   disk: $(df -h --output=avail . | tail -1 | tr -d ' ') free"
}

case "$step" in
  install) timed "podman, skopeo, registry, mmdebstrap" install_packages ;;
  start) timed "registry and podman socket" start_services ;;
  base) timed "base image" base ;;
  publish) timed "service and command images" publish ;;
  all)
    timed "podman, skopeo, registry, mmdebstrap" install_packages
    timed "registry and podman socket" start_services
    timed "base image" base
    timed "service and command images" publish
    ;;
  *) echo "usage: $0 [install|start|base|publish|all]" >&2; exit 64 ;;
esac
