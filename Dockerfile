# Multi-stage: dependencies installed once with the lockfile, production image without dev deps.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY workers ./workers
COPY alerting ./alerting
COPY sql ./sql
USER node
EXPOSE 8080
# node directly (not npm) so SIGTERM reaches the engine and it drains before exiting.
CMD ["node", "--import", "tsx", "src/main.ts"]
