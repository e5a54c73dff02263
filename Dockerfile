# syntax=docker/dockerfile:1
# Parley, CPU image. GPU variants: docker/Dockerfile.gpu. Operator guide: docs/deployment.md.
#   docker build -t parley .
#   docker run --rm -p 8998:8998 -v parley-models:/models parley
# Every build and setup step lives in docker/build.sh and docker/runtime-setup.sh;
# test/deploy/build-steps.test.ts runs these RUN lines on a clean checkout.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first, so that a source change reuses this layer.
COPY package.json package-lock.json .npmrc ./
COPY docker/build.sh docker/build.sh
RUN sh docker/build.sh deps
COPY . .
RUN sh docker/build.sh app /out

FROM ${NODE_IMAGE} AS runtime
COPY docker/runtime-setup.sh /usr/local/bin/parley-runtime-setup
RUN sh /usr/local/bin/parley-runtime-setup
WORKDIR /app
COPY --from=build /out/ /app/
# Every setting is an environment variable (src/config/load.ts); models live on
# the /models volume, never in the image. PARLEY_MODEL=demo builds the built-in
# random-weight model there on first start; point it at a converted model
# (parley convert) for real use, e.g. PARLEY_MODEL=/models/moshi.
# GLIBC_TUNABLES asks for transparent huge pages for large allocations
# (src/model/runtime/huge-pages.ts says why; measured 4-5x fewer slow ticks)
# and at most two malloc arenas (src/model/runtime/glibc-tunables.ts: native
# memory stays flat as sessions come and go).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8998 \
    PARLEY_MODEL=demo \
    PARLEY_MODEL_CACHE_DIR=/models \
    PARLEY_PROVIDER=cpu \
    PARLEY_LOG_LEVEL=info \
    PARLEY_DRAIN_TIMEOUT_MS=30000 \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.arena_max=2
VOLUME ["/models"]
EXPOSE 8998
USER 10001:10001
# SIGTERM drains: /readyz turns 503, running sessions get PARLEY_DRAIN_TIMEOUT_MS
# to finish. Give `docker stop` a longer grace (-t / stop_grace_period).
STOPSIGNAL SIGTERM
# /healthz answers once the model is loaded; the start period covers loading.
HEALTHCHECK --interval=15s --timeout=5s --start-period=300s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8998) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/parley.js"]
CMD ["serve"]
