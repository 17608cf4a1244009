# syntax=docker/dockerfile:1
# The Lifeline engine. Multi-stage: the first stage compiles the TypeScript with the full lockfile
# (dev dependencies included), the second installs production dependencies only, and the runtime
# stage gets those dependencies and the compiled JavaScript, nothing else: no compiler, no sources.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
COPY alerting ./alerting
# npm ci runs the prepare script, which compiles src/, workers/ and alerting/ into dist/.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts skips our prepare script (compiling needs the dev dependencies; the build stage
# did it); npm rebuild then runs the dependencies' own install scripts, which it skipped too.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the engine: the process cannot rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json for the version; sql/ for the migrations the engine applies at start.
COPY package.json ./
COPY sql ./sql
# The CLI (`npx lifeline …` inside the container: migrate, keys, nodes, incidents, uptime, agent).
COPY bin ./bin
# Without DATABASE_URL the engine runs its own Postgres and keeps it, and the first admin key's
# secret, in LIFELINE_DATA_DIR: /app is root's, so the data lives in a volume the engine's user owns.
# @embedded-postgres stays in the image for that (the compose stack, with DATABASE_URL, never starts it).
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
ENV LIFELINE_DATA_DIR=/data
VOLUME /data
USER node
EXPOSE 8080
# node directly (not npm) so SIGTERM reaches the engine and it drains before exiting.
CMD ["node", "dist/workers/main.js"]
