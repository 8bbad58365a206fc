# syntax=docker/dockerfile:1
# The appliance as a container (operations.md §7): the same single binary that
# `npm run build` produces, in a minimal non-root runtime image.
# CI has no Docker engine, so `bun scripts/smoke.ts` exercises these steps on the bare binary.

# ---- build: compile dist/sigilum with the official Bun image ----
FROM oven/bun:1.4 AS build
WORKDIR /app

# Dependencies first, so source edits reuse this layer. Bun reads package-lock.json
# (the committed lockfile) and --frozen-lockfile fails instead of drifting from it.
# It installs the libSQL native package of the platform being built (linux-x64-gnu or
# linux-arm64-gnu: the Bun image is Debian/glibc), which the build embeds.
COPY package.json package-lock.json ./
RUN bun install --frozen-lockfile --production

COPY . .
RUN bun scripts/build.ts --outfile dist/sigilum

# The runtime image has no shell or mkdir: create the data dir here, owned by
# nonroot (uid/gid 65532), so a fresh volume mounted on /data is writable.
RUN mkdir -p /data && chown 65532:65532 /data

# ---- runtime ----
# distroless/cc rather than distroless/base: the libSQL addon embedded in the binary
# links libgcc_s.so.1 (Rust's unwinder), which only the cc variant ships; Bun itself
# needs just glibc. The addon is extracted to $TMPDIR (/tmp, mode 1777 here) at start,
# so with a read-only root filesystem mount a tmpfs on /tmp.
FROM gcr.io/distroless/cc-debian12:nonroot

COPY --from=build /app/dist/sigilum /usr/local/bin/sigilum
COPY --from=build --chown=65532:65532 /data /data

ENV SIGILUM_DATA_DIR=/data \
    SIGILUM_HOST=0.0.0.0 \
    SIGILUM_PORT=8080
VOLUME /data
EXPOSE 8080

# "nonroot", by number so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532

# No curl in distroless: the binary checks itself (GET /healthz on $SIGILUM_PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/sigilum", "healthcheck"]

ENTRYPOINT ["/usr/local/bin/sigilum"]
CMD ["serve"]
