# mining-ledger: one image for every process (serve, project, sweeper, relay, and the one-off
# commands); compose.yaml picks the command. Build stage compiles the TypeScript and the native
# SQLite binding; the runtime stage carries only production dependencies and dist/.
FROM node:20-slim AS build
WORKDIR /app
# better-sqlite3 falls back to compiling from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json tsconfig.client.json ./
COPY bin ./bin
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# Named volumes mounted below /data start with these owners, so the unprivileged user can write them.
RUN mkdir -p /data/api /data/read-model /data/relay && chown -R node:node /data
USER node
EXPOSE 3000
ENTRYPOINT ["node", "bin/mining-ledger.js"]
CMD ["serve"]
