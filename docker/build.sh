#!/bin/sh
# The image's build steps, in order. The Dockerfiles run this script, and
# test/deploy/build-steps.test.ts runs the same RUN lines on a clean copy of
# the repository, so the steps that are tested are the steps that are built.
#
#   sh docker/build.sh deps [PROVIDER]
#                                 install every dependency exactly as locked;
#                                 PROVIDER cuda adds onnxruntime's CUDA 12
#                                 execution provider binaries
#   sh docker/build.sh app OUT    build (npm run build: server and web client),
#                                 drop dev dependencies, stage the runtime tree
#                                 (dist, config, package.json, node_modules) in OUT
#
# Run from the repository root (the build context). The CUDA binaries are too
# large for npm: onnxruntime-node's install script downloads them from NuGet,
# so a cuda build needs that network access. ONNXRUNTIME_NODE_INSTALL, when
# set, overrides what PROVIDER chooses (onnxruntime-node's own variable).
set -eu
phase=${1:?usage: docker/build.sh deps [PROVIDER] | app OUT}

case "$phase" in
deps)
  case "${2:-cpu}" in
    cuda) ort=${ONNXRUNTIME_NODE_INSTALL:-cuda12} ;;
    cpu | webgpu) ort=${ONNXRUNTIME_NODE_INSTALL:-skip} ;;
    *) echo "docker/build.sh: unknown provider '$2' (cpu | webgpu | cuda)" >&2; exit 2 ;;
  esac
  # The project .npmrc skips onnxruntime-node's download step; run it
  # ourselves when asked, because newer npm versions may not run install
  # scripts at all, and the flag alone would then silently do nothing.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
  if [ "$ort" != skip ]; then
    ONNXRUNTIME_NODE_INSTALL=$ort node node_modules/onnxruntime-node/script/install
  fi
  ;;
app)
  out=${2:?usage: docker/build.sh app OUT}
  npm run build
  npm prune --omit=dev --no-audit --no-fund
  # onnxruntime-node ships native binaries for every platform (about 300 MB);
  # keep only this one's.
  plat=$(node -p 'process.platform + "/" + process.arch')
  for d in node_modules/onnxruntime-node/bin/napi-v*/*/*; do
    case "$d" in */"$plat") ;; *) rm -rf "$d" ;; esac
  done
  mkdir -p "$out"
  cp -R package.json config dist "$out/"
  mv node_modules "$out/node_modules"
  ;;
*)
  echo "docker/build.sh: unknown phase '$phase' (deps [PROVIDER] | app OUT)" >&2
  exit 2
  ;;
esac
