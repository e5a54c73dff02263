#!/bin/sh
# The runtime stage's setup, run by the Dockerfiles (and by
# test/deploy/build-steps.test.ts):
#   sh runtime-setup.sh [PROVIDER]     PROVIDER: cpu (default), webgpu, cuda
# - a system user with a fixed numeric id, so that Kubernetes' runAsNonRoot
#   can check it, owning only the models folder (the application files stay
#   root-owned and read-only to it);
# - for webgpu, the Vulkan loader and the GL dispatch libraries that NVIDIA's
#   Vulkan driver loads through. The driver itself, and its ICD file, come
#   from the host through the NVIDIA container toolkit (graphics capability).
# Settings: PARLEY_UID (10001), PARLEY_MODELS_DIR (/models).
set -eu
provider=${1:-cpu}
uid=${PARLEY_UID:-10001}
models=${PARLEY_MODELS_DIR:-/models}

case "$provider" in
cpu | cuda) ;;
webgpu)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2
  rm -rf /var/lib/apt/lists/*
  ;;
*)
  echo "runtime-setup.sh: unknown provider '$provider' (cpu | webgpu | cuda)" >&2
  exit 2
  ;;
esac

getent group "$uid" >/dev/null || groupadd --system --gid "$uid" parley
getent passwd "$uid" >/dev/null || useradd --system --uid "$uid" --gid "$uid" \
  --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin parley
mkdir -p "$models"
chown "$uid:$uid" "$models"
