# syntax=docker/dockerfile:1
# The Lifeline engine. Multi-stage: production dependencies are installed from the lockfile in the
# first stage; the runtime stage gets them and the sources, nothing else. tsx is a production
# dependency because the engine runs its TypeScript sources directly (there is no build step).

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the engine: the process cannot rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY alerting ./alerting
COPY sql ./sql
# The CLI (`npx lifeline …` inside the container: migrate, keys, nodes, incidents, uptime, agent).
COPY bin ./bin
USER node
EXPOSE 8080
# node directly (not npm) so SIGTERM reaches the engine and it drains before exiting.
CMD ["node", "--import", "tsx", "src/main.ts"]
