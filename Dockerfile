# syntax=docker/dockerfile:1
# The evnet executable as a container image: built from this checkout, run as a non-root user
# on a distroless base (glibc, libstdc++, CA certificates and nothing else: no shell, no package
# manager). Every role is the same image with a different command:
#   docker build -t evnet .
#   docker run --rm evnet --help
#   docker run --rm -p 8000:8000 evnet up --host 0.0.0.0
# compose.yaml's `network` profile runs a whole network from it.

FROM node:22-bookworm-slim AS build
WORKDIR /src
# Dependencies first, so that a change of source alone reuses this layer. npm ci also installs
# the pinned Bun that compiles the executable.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# One self-contained file (code, migrations, embedded database engine, dashboard); the build
# runs it once (`evnet --version`) to prove it starts. The empty folder becomes the user's home.
RUN npx bun scripts/build.ts && mkdir -p /out/home && cp dist/evnet /out/evnet

FROM gcr.io/distroless/cc-debian12:nonroot
# uid 1000, the same as the apache/kafka image's user, so that both read the owner-only keys
# and passwords compose's setup writes into the shared volume.
COPY --from=build --chown=1000:1000 /out/home /var/lib/evnet
COPY --from=build /out/evnet /usr/local/bin/evnet
USER 1000:1000
ENV HOME=/var/lib/evnet EVNET_DATA_DIR=/var/lib/evnet/data
WORKDIR /var/lib/evnet
# Registry (HTTPS), API and dashboard.
EXPOSE 7002 8000
ENTRYPOINT ["/usr/local/bin/evnet"]
CMD ["--help"]
