# syntax=docker/dockerfile:1
#
# Foyer: one static binary, `foyer`, built from ./cmd/foyer. The load and
# bench tooling (cmd/foyer-bench) is not part of the image.
#   docker build -t foyer:local .
#   docker run --rm foyer:local serve     (default; also: worker, migrate)
# docker-compose.yml runs the whole system; cmd/foyer/compose_test.go keeps
# this file and that one honest, since CI has no Docker engine.

# ---- build ------------------------------------------------------------------
# go.mod asks for go 1.26.8; the official image sets GOTOOLCHAIN=local, so the
# 1.26 tag must float to a patch release at least that new (it does).
FROM golang:1.26-bookworm AS build
WORKDIR /src

# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

# The SQL migrations, Lua scripts and web assets are //go:embed-ded, so the
# binary is all the final image needs.
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/foyer ./cmd/foyer

# ---- run --------------------------------------------------------------------
# Static, distroless, no shell: CA certificates and tzdata only. No HEALTHCHECK
# here, since there is nothing to run it with; probe GET /healthz and GET /readyz
# on :8080 from the orchestrator instead.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/foyer /foyer
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/foyer"]
CMD ["serve"]
