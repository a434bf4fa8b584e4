# Parley gateway image: the HTTP API, WebSocket server and the built web client in one Node process.
# It is built by `pulumi up` (awsx.ecr.Image) or by hand with `docker build -t parley-gateway .`;
# no Docker engine exists where this repo is developed, so the build is proven by the tests that run the
# same esbuild command (tests/infra/gateway-task.test.ts), not by a `docker build` here.
#
# Base images are pinned to exact version tags. A tag can still be re-pushed upstream, so a build that must be
# reproducible passes digests, e.g.
#   docker build --build-arg RUNTIME_IMAGE=node:22.14.0-alpine3.21@sha256:<digest> \
#                --build-arg BUILD_IMAGE=node:22.14.0-bookworm-slim@sha256:<digest> .
# (`docker buildx imagetools inspect node:22.14.0-alpine3.21` prints the digest). No digest is written here:
# none could be looked up where this file was written, and an invented one would fail every build.
ARG BUILD_IMAGE=node:22.14.0-bookworm-slim
ARG RUNTIME_IMAGE=node:22.14.0-alpine3.21

# ---- build: install everything, build the web client, bundle the gateway into one file
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:web
RUN npx esbuild runtime/gateway/main.ts --bundle --platform=node --target=node22 --legal-comments=none --outfile=bin/gateway.js

# ---- runtime: Node, the bundle and static files; no npm, no node_modules, no shell work at start
FROM ${RUNTIME_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Files stay owned by root: the process (user node, uid 1000) can read but never modify them. The task runs
# with a read-only root filesystem; its one writable place is /tmp, a Fargate bind mount (task volume "tmp").
# Fargate creates a bind mount owned by root, mode 0755 (not writable for uid 1000); when the image declares
# the same path as a VOLUME, the image's directory seeds the mount (AWS: "Use bind mounts with Amazon ECS"),
# which is how its permissions are set: so /tmp is made uid 1000's here, then declared.
COPY --from=build /src/bin/gateway.js ./gateway.js
COPY --from=build /src/web/dist ./web
RUN chown 1000:1000 /tmp && chmod 0700 /tmp
VOLUME ["/tmp"]
USER 1000:1000
EXPOSE 8080 8081
CMD ["node", "gateway.js"]
