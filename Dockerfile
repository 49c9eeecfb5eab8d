# The agent worker image (docker-compose.yml runs N of these on one task queue).
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so a code change reuses this layer. No build step: tsx is a runtime
# dependency and bin/agent.js runs the TypeScript sources through it.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY bin/ bin/
COPY domain/ domain/
COPY workflows/ workflows/
COPY activities/ activities/
COPY services/ services/
COPY workers/ workers/
COPY client/ client/
COPY servers/ servers/
COPY cli/ cli/

# The base image's unprivileged user (uid 1000, often the host user owning the mounted workspaces).
# The code stays root-owned, so neither the worker nor a command it runs can rewrite it.
USER node
# Default for `docker run`; the compose file sets it too. /app is read-only for this user.
ENV AGENT_HOME=/home/node/.agent
RUN mkdir -p "$AGENT_HOME"

CMD ["node", "bin/agent.js", "worker"]
